/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One connection to the upstream proxy, whoever needs it: a TCP session
 * (CONNECT, then the relay), the DNS-over-TCP forwarder (CONNECT to
 * --dns-server) or the UDP relay (the UDP ASSOCIATE control connection).
 * It owns the non-blocking socket, the connect and its SO_ERROR check, the
 * handshake (struct proxy_hs, sans I/O, in proxy.h), the handshake timeout,
 * the socket's options and its loop registration. TLS to the proxy and new
 * proxy kinds plug in here, once.
 *
 * Life: upstream_new() starts the connect. Later, from the loop (never from
 * inside upstream_new), exactly one of on_open and on_fail is called. After
 * on_open the socket is the tunnel: the owner says which events it wants
 * (upstream_events; EPOLLIN until it does) and gets them in on_io, reading
 * and writing with upstream_readv() and upstream_writev(). upstream_close()
 * ends it at any time, inside a callback too: no callback comes after it.
 * upstream_free() releases the memory: only outside the loop's callbacks
 * (the owner's reap after the batch), since the loop may still hold an
 * event for it.
 *
 * The early-data rule: a proxy may answer ahead of our requests (all its
 * SOCKS5 replies in one read). Whatever request is still queued then (the
 * CONNECT) goes out before on_open, so no tunnel byte can overtake it; if
 * the socket does not take it at once (under 2 KiB into an empty socket
 * buffer), the tunnel fails (UPSTREAM_LOCAL, ENOBUFS).
 */
#ifndef PROXYVPN_UPSTREAM_H
#define PROXYVPN_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "loop.h"
#include "proxy.h"
#include "url.h"

enum {
	UPSTREAM_HS_TIMEOUT_MS = 10000, /* connect + handshake, by default */
};

struct upstream_fail;

/* Where and how to reach the proxy: one per engine, borrowed by every upstream. */
struct upstream_cfg {
	const struct proxy_url *proxy; /* borrowed: kind and credentials */
	struct sockaddr_storage addr;  /* the proxy's address, resolved once */
	socklen_t addrlen;
	uint32_t hs_timeout_ms; /* connect + handshake; 0 = UPSTREAM_HS_TIMEOUT_MS */
	/*
	 * TCP keepalive on the proxy socket, the app side's settings (tcp_cfg),
	 * so a dead path is noticed on both sides. 0 = tcp.h's TCP_KA_*
	 * default; ka_idle_ms UINT32_MAX = off.
	 */
	uint32_t ka_idle_ms, ka_intvl_ms, ka_cnt;
	/*
	 * Every failure, before the owner hears of it (on_fail, or
	 * upstream_new's NULL): the engine's default-level log line
	 * (upfail.h). NULL: none.
	 */
	void (*report)(void *arg, const struct upstream_fail *why);
	void *report_arg;
};

/* What went wrong, and the step under way when it did (the field `during`). */
enum upstream_stage {
	UPSTREAM_CONNECT,	/* TCP connect to the proxy: err (ECONNREFUSED: nothing listens) */
	UPSTREAM_SOCKS5_METHOD, /* the proxy takes none of our methods (code 0xff) */
	UPSTREAM_SOCKS5_AUTH,	/* RFC 1929: our credentials refused (code: the status) */
	UPSTREAM_SOCKS5_REPLY,	/* CONNECT / UDP ASSOCIATE refused (code: REP) */
	UPSTREAM_HTTP_REPLY,	/* CONNECT answered with a status other than 2xx (code) */
	UPSTREAM_TIMEOUT,	/* no tunnel within hs_timeout_ms */
	UPSTREAM_CLOSED,	/* the proxy closed or reset the connection mid-handshake */
	UPSTREAM_MALFORMED,	/* a reply we cannot parse, too long, or a method not offered */
	UPSTREAM_LOCAL,		/* our side: no socket (EMFILE), memory, epoll, a request unsent */
	UPSTREAM_STAGE_MAX,
};

/* Why a tunnel failed: everything a log line or the app's error needs. */
struct upstream_fail {
	enum upstream_stage stage;  /* what went wrong */
	enum upstream_stage during; /* the step under way: UPSTREAM_CONNECT .. _HTTP_REPLY */
	int err;		    /* positive errno: the socket's, or the closest to the answer */
	int code; /* the proxy's answer (SOCKS5 method, RFC 1929 status, REP; HTTP status): -1
		   * when it sent none we could read. Set for a refusal (stages
		   * SOCKS5_METHOD .. HTTP_REPLY) and for a method we did not offer. */
	enum proxy_type type;	      /* SOCKS5 or HTTP */
	const struct sockaddr *proxy; /* the proxy's address (the cfg's: lives as long) */
	socklen_t proxy_len;
	struct proxy_dest dest; /* where the tunnel was to go (a name for a fake address) */
	bool udp;		/* a UDP ASSOCIATE, not a CONNECT (dest: where from) */
	bool auth;		/* we sent credentials (the URL has user:pass) */
	int first;		/* the reply's first byte (a hint at its protocol); -1: none */
	uint32_t timeout_ms;	/* the handshake timeout in force */
};

/* "connect", "socks5-method", ...: a short name per stage. */
const char *upstream_stage_name(enum upstream_stage s);

struct upstream_ops {
	/* The tunnel is open: data[0..len) came right after the proxy's reply,
	 * the far end's first bytes, byte-exact. */
	void (*on_open)(void *ctx, const uint8_t *data, size_t len);
	/* It did not open; the upstream is closed already. why: during the call only. */
	void (*on_fail)(void *ctx, const struct upstream_fail *why);
	/* After on_open: the events asked for with upstream_events (EPOLLERR/HUP too). */
	void (*on_io)(void *ctx, uint32_t events);
};

struct upstream;

/*
 * Starts a CONNECT to d through the proxy (SOCKS5 or HTTP, as cfg says).
 * NULL with errno set if it cannot even start; then *why (if not NULL) says
 * so: UPSTREAM_LOCAL (socket, memory, epoll, a destination the proxy kind
 * cannot carry: EINVAL) or UPSTREAM_CONNECT (connect() failed at once). No
 * callback is ever called for an upstream that was not returned.
 */
struct upstream *upstream_new(struct loop *loop, const struct upstream_cfg *cfg,
			      const struct proxy_dest *d, const struct upstream_ops *ops, void *ctx,
			      struct upstream_fail *why);
/* The same for a SOCKS5 UDP ASSOCIATE (from: where our datagrams come from). */
struct upstream *upstream_new_udp(struct loop *loop, const struct upstream_cfg *cfg,
				  const struct proxy_dest *from, const struct upstream_ops *ops,
				  void *ctx, struct upstream_fail *why);

/*
 * During on_open of a UDP ASSOCIATE: the relay address the proxy named
 * (BND.ADDR, BND.PORT; family 0 with a name for ATYP 3). 0, or -EPROTO.
 */
int upstream_udp_relay(const struct upstream *u, struct proxy_dest *bnd);

/* The TCP connect to the proxy is through (the handshake runs, or the tunnel is open). */
bool upstream_connected(const struct upstream *u);

/* After on_open: the events on_io gets (EPOLLIN, EPOLLOUT). 0 or -errno. */
int upstream_events(struct upstream *u, uint32_t events);
/* After on_open, non-blocking: readv() and sendmsg() results (errno set; no SIGPIPE). */
ssize_t upstream_readv(struct upstream *u, const struct iovec *iov, int iovcnt);
ssize_t upstream_writev(struct upstream *u, const struct iovec *iov, int iovcnt);
/* Our FIN to the far end: nothing more will be written. */
void upstream_shutdown(struct upstream *u);
/*
 * Closes the socket (reset: with an RST, SO_LINGER 0, for a flow the app
 * reset; else a FIN, unless unread input makes the kernel reset it) and
 * stops every timer and callback. Idempotent; safe inside callbacks.
 */
void upstream_close(struct upstream *u, bool reset);
/* Closes it if it is not, and frees it. Outside loop callbacks only; NULL is fine. */
void upstream_free(struct upstream *u);

#endif
