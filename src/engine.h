/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine: one event loop that owns a TUN fd, the TCP stack, and one
 * session (proxy socket) per TCP flow. It runs from any TUN fd it is handed
 * (IFF_TUN | IFF_NO_PI, non-blocking), so exec mode, host mode and a
 * privilege-separated child all drive the same code.
 */
#ifndef PROXYVPN_ENGINE_H
#define PROXYVPN_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"
#include "tcp.h"
#include "url.h"

enum {
	ENGINE_HS_TIMEOUT_MS = 10000,	/* proxy connect + handshake */
	ENGINE_TUN_BATCH = 64,		/* packets read per wakeup before flushing ACKs */
	ENGINE_PKT_MAX = 65536,		/* a TSO segment from the TUN included */
	ENGINE_FRAME_MAX = ENGINE_PKT_MAX + 64,	/* read buffer: virtio-net header + packet */
	ENGINE_DRAIN_MS = 5000,
	ENGINE_OUT_IOV = 8,		/* iovecs per packet written, the virtio-net header included */		/* after the command exits, see engine_drain() */
};

struct engine_cfg {
	const struct proxy_url *proxy;	/* borrowed for the engine's lifetime */
	struct sockaddr_storage proxy_addr;
	socklen_t proxy_addrlen;
	uint32_t mtu;
	size_t buf_size;		/* per connection, each way; 0 = TCP_BUF_DEFAULT */
	uint32_t hs_timeout_ms;		/* 0 = ENGINE_HS_TIMEOUT_MS */
	struct tcp_cfg tcp;		/* limits and timers; mtu and buf_size come from above */
	bool vnet;			/* the TUN fd carries virtio-net headers: offloads (tun.h) */
};

struct engine_stats {	/* uint64_t counters only: summed as an array (engine_stats_add) */
	uint64_t pkts_in, pkts_out, pkts_bad, pkts_unsupported, tun_write_err, pkts_gso_in;
	uint64_t sessions_total, sessions_failed;
};

struct session;
struct fault;

struct engine {
	struct loop *loop;
	struct engine_cfg cfg;
	int tun_fd;
	struct loop_io tun_io;
	struct tcp_stack *tcp;
	struct session *sessions;	/* live, doubly linked */
	struct session *dead;		/* freed at the end of each loop batch */
	struct session *rx_pending;	/* got app data this batch (session.c) */
	uint8_t *pkt;			/* TUN read buffer */
	struct engine_stats stats;
	struct timer drain_timer;
	bool draining;
	struct fault *fault;		/* test builds only (fault.h); else always NULL */
};

/*
 * Takes over tun_fd (closed by engine_fini). 0 or -errno; -EINVAL means a bad
 * setting that has already been logged (PROXYVPN_FAULT in fault builds).
 */
int engine_init(struct engine *e, struct loop *loop, int tun_fd, const struct engine_cfg *cfg);
/* Closes every proxy socket and frees everything; safe on a zeroed engine. */
void engine_fini(struct engine *e);
void engine_log_stats(const struct engine *e);
/* Adds e's counters to *es and *ts (several engines: one set of stats lines). */
void engine_stats_add(const struct engine *e, struct engine_stats *es, struct tcp_stats *ts);
/* Logs e's counters plus more/tmore (NULL: none added); e's fault counters alone. */
void engine_log_stats_with(const struct engine *e, const struct engine_stats *more,
			   const struct tcp_stats *tmore);
/* One packet from the TUN into the IP and TCP layers. */
void engine_input(struct engine *e, const uint8_t *pkt, size_t len);
/*
 * One frame as read from the TUN: a virtio-net header first if cfg.vnet,
 * then engine_input()'s work (the fault layer calls it too). buf is
 * writable: a partial non-TCP checksum is completed in place.
 */
void engine_input_frame(struct engine *e, uint8_t *buf, size_t len);
/* Writes one packet (the header first if cfg.vnet) to the TUN, or to the fault layer. */
void engine_output(struct engine *e, const struct iovec *iov, int iovcnt,
		   const struct tcp_out *o);
/*
 * The apps are gone, but their kernels may still be sending what they wrote
 * before exiting (a closed socket keeps sending): refuse new flows and stop
 * the loop once every flow's data and FIN have been handed to the proxy,
 * or after ms at most.
 */
void engine_drain(struct engine *e, uint32_t ms);

#endif
