/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One session per TCP flow: the proxy socket, its handshake, and the relay
 * between the flow's rings and the socket. Backpressure both ways: the
 * proxy socket is not read while tx (toward the app) is full, and the app's
 * window shrinks while rx (toward the proxy) is not drained.
 */
#ifndef PROXYVPN_SESSION_H
#define PROXYVPN_SESSION_H

#include "engine.h"
#include "tcp.h"

/* The TCP stack's callbacks (ctx = struct engine). */
extern const struct tcp_ops session_tcp_ops;

/* Writes out to the proxy what the app sent during this batch. */
void session_flush_pending(struct engine *e);
/* Frees sessions killed during this batch. */
void session_reap(struct engine *e);
/* Sessions whose app side still has data or a FIN not yet given to the proxy. */
size_t session_undelivered(const struct engine *e);
/* Closes every session now (engine shutdown); delivered ones with a FIN. */
void session_close_all(struct engine *e);

/* One flow as `proxyvpn status` shows it (cheap: no syscalls, no allocation). */
struct session_info {
	uint32_t id;
	int family;		  /* 0 if the flow is already detached */
	uint8_t src[16], dst[16]; /* the app's address, the destination it dialled */
	uint16_t sport, dport;
	const char *phase;	       /* connecting, handshake, relay (static) */
	const char *tcp_state;	       /* tcp_state_name() */
	uint64_t bytes_up, bytes_down; /* relayed app -> proxy, proxy -> app */
	uint64_t age_ms;
};

/* Walks the live sessions: prev NULL gives the first; NULL after the last. */
const struct session *session_next(const struct engine *e, const struct session *prev);
void session_info(const struct session *s, uint64_t now, struct session_info *out);

#endif
