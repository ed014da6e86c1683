/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The session table: one session per TCP flow, the proxy side of it. A
 * session is born on the app's SYN, opens an upstream (upstream.h) while
 * the SYN-ACK is held back, then relays bytes between the flow's rings and
 * the tunnel. A flow past the handshake window (hswin.h), or past the
 * open-files limit, waits in SYN-PENDING, its resent SYNs absorbed, until
 * a place frees: a burst is carried at the pace the proxy answers, never
 * refused for it. Backpressure both ways: the tunnel is not read while tx
 * (toward the app) is full, and the app's window shrinks while rx (toward
 * the proxy) is not drained. A DNS-over-TCP flow to the TUN resolver under
 * --dns virtual has no upstream: the resolver answers it (resolver.h).
 *
 * The table is the TCP stack's session side: session_tcp_ops with the
 * table as ctx. Sessions are freed only in session_reap(), after the loop
 * batch, so no callback ever sees freed memory.
 */
#ifndef PROXYVPN_SESSION_H
#define PROXYVPN_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ctl-proto.h"
#include "loop.h"
#include "tcp.h"
#include "upstream.h"

enum {
	SESSION_QUIET_MS = 50, /* no segment this long: an app's flow is idle (drain) */
};

struct resolver;
struct session;
struct session_table;

struct session_cfg {
	const struct upstream_cfg *upstream; /* borrowed: the proxy */
	struct resolver *resolver; /* borrowed; NULL (--dns bypass): addresses go as they are */
	uint32_t max_pending;	   /* the handshake window's cap; 0 = SESSION_MAX_PENDING */
	uint32_t nofile;	   /* the open-files limit, for the line when it is reached */
};

enum {
	SESSION_MAX_PENDING = 1024, /* when no one set it (engine.c sets it from the host) */
	SESSION_TICK_MS = 250,	    /* while flows wait or handshakes run */
	/*
	 * A connect to the proxy not through after this long needed a second
	 * SYN (Linux's first retransmission is at 1 s): the proxy's accept
	 * queue is full. A loss for the window, at that moment.
	 */
	SESSION_SLOW_CONNECT_MS = 1000,
	/*
	 * A waiting flow whose app has not resent its SYN this long has given
	 * up (Linux resends at 1, 3, 7, 15, 31 and 63 s, then fails at 127 s):
	 * it is let go. Just over the longest gap between two resends.
	 */
	SESSION_GAVE_UP_MS = 70000,
	SESSION_WAIT_LOG_MS = 60000, /* at most one line a minute about waiting flows */
};

/* Writes one packet toward the app (the TCP stack's output, passed on). */
typedef void session_output_fn(void *ctx, const struct iovec *iov, int iovcnt,
			       const struct tcp_out *o);

struct session_stats {	       /* uint64_t counters only */
	uint64_t total;	       /* flows that went to the proxy */
	uint64_t failed;       /* of those, or refused before: no tunnel */
	uint64_t held;	       /* flows that waited before their proxy connect */
	uint64_t hold_expired; /* of those, reset while waiting (proxy silent, app gone) */
};

/* NULL with errno set. */
struct session_table *session_table_new(struct loop *loop, const struct session_cfg *cfg,
					session_output_fn *output, void *ctx);
/*
 * Closes every session now (engine shutdown): one whose app side is all
 * delivered with a FIN, the rest with an RST; then frees the table. The TCP
 * stack must be freed right after (its conns are detached). NULL is fine.
 */
void session_table_free(struct session_table *t);

/* The TCP stack's callbacks (ctx = the table). */
extern const struct tcp_ops session_tcp_ops;

/* Writes out to the proxy what the app sent during this batch. */
void session_flush_pending(struct session_table *t);
/*
 * Frees sessions killed during this batch, then starts waiting flows the
 * window (and the open files) now have room for.
 */
void session_reap(struct session_table *t);
/* From now on new flows are refused with an RST (the command has exited). */
void session_refuse_new(struct session_table *t);
/*
 * Sessions whose app side is still sending (data or a FIN not yet given to
 * the proxy, or a segment within SESSION_QUIET_MS); *idle (if not NULL):
 * open ones that are not, held by a process that has nothing to send.
 */
size_t session_undelivered(const struct session_table *t, size_t *idle);
const struct session_stats *session_table_stats(const struct session_table *t);
/* The handshake window and the flows waiting for it, now. */
void session_window_get(const struct session_table *t, struct ctl_window *w);
size_t session_count(const struct session_table *t);

/* Walks the live sessions: prev NULL gives the first; NULL after the last. */
const struct session *session_next(const struct session_table *t, const struct session *prev);
/* One flow as `proxyvpn status` lists it (cheap: no syscalls, no allocation). */
void session_info(const struct session *s, uint64_t now, struct ctl_conn *out);

#endif
