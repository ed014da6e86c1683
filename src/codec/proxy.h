/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Proxy handshakes, sans I/O. The codecs (socks5_*, http_*) build requests
 * into caller buffers and parse replies from (buf, len) with explicit length
 * checks. struct proxy_hs drives one handshake: the session writes
 * proxy_hs_pending() bytes to the socket and feeds whatever it reads to
 * proxy_hs_input(); bytes after the end of the reply are tunnel payload and
 * stay in the caller's buffer, byte-exact.
 */
#ifndef PROXYVPN_PROXY_H
#define PROXYVPN_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "url.h"

enum {
	SOCKS5_REPLY_MAX = 4 + 1 + 255 + 2, /* VER REP RSV ATYP + longest BND.ADDR + PORT */
	HTTP_MAX_HDR = 16384,		    /* whole reply header block, status line included */
	PROXY_REQ_MAX = 2048,		    /* longest request we ever build */
};

/* Where the tunnel goes: an address (family AF_INET/AF_INET6) or a name (family 0). */
struct proxy_dest {
	int family;
	uint8_t addr[16];
	char name[URL_HOST_MAX + 1];
	uint16_t port;
};

/* ---- SOCKS5 codec (RFC 1928, RFC 1929) ---- */

/* Greeting offering no-auth, or user/pass when auth. Returns length, -ENOSPC. */
int socks5_build_greeting(uint8_t *buf, size_t cap, bool auth);
/* Method selection: returns 2 (consumed) with *method, -EAGAIN, -EPROTO (VER != 5). */
int socks5_parse_method(const uint8_t *buf, size_t len, uint8_t *method);
/* RFC 1929 request. Returns length, -EINVAL (empty user, too long), -ENOSPC. Empty pass is sent. */
int socks5_build_auth(uint8_t *buf, size_t cap, const char *user, const char *pass);
/* RFC 1929 reply: returns 2 with *status (0 = success), -EAGAIN, -EPROTO. */
int socks5_parse_auth(const uint8_t *buf, size_t len, uint8_t *status);
/* CONNECT request for d. Returns length, -EINVAL, -ENOSPC. */
int socks5_build_connect(uint8_t *buf, size_t cap, const struct proxy_dest *d);
/*
 * CONNECT reply: returns the reply's length (> 0) once complete with *rep set
 * (0 = succeeded), -EAGAIN if more bytes are needed, -EPROTO if malformed
 * (VER != 5, RSV != 0, unknown ATYP, domain length 0). Never reads past len.
 */
int socks5_parse_reply(const uint8_t *buf, size_t len, uint8_t *rep);
/* REP code to the (positive) errno an app would see: ECONNREFUSED, ENETUNREACH, ...; 0 -> 0. */
int socks5_rep_errno(uint8_t rep);

/* ---- SOCKS5 UDP ASSOCIATE codec (RFC 1928 §4, §7), proxy-udp.c ---- */

enum {
	SOCKS5_CMD_UDP_ASSOCIATE = 3,
	SOCKS5_UDP_HDR_MAX = 4 + 1 + 255 + 2, /* RSV RSV FRAG ATYP + longest address + PORT */
};

/*
 * UDP ASSOCIATE request; d is where our datagrams will come from (0.0.0.0:0
 * if not known). Returns length, -EINVAL, -ENOSPC.
 */
int socks5_build_udp_associate(uint8_t *buf, size_t cap, const struct proxy_dest *d);
/*
 * A reply like socks5_parse_reply(), also giving its BND.ADDR/BND.PORT in
 * *bnd (family 0 with a name for ATYP 3). Returns the length, -EAGAIN, -EPROTO.
 */
int socks5_parse_reply_bnd(const uint8_t *buf, size_t len, uint8_t *rep, struct proxy_dest *bnd);
/* The header of a datagram to d (FRAG 0). Returns its length, -EINVAL, -ENOSPC. */
int socks5_build_udp_hdr(uint8_t *buf, size_t cap, const struct proxy_dest *d);
/*
 * The header of a datagram from the relay: *from gets its address. Returns
 * the header length (the payload follows it), -EBADMSG (truncated, RSV not
 * zero, bad ATYP, empty name or a NUL in it) or -EOPNOTSUPP (FRAG != 0: we
 * do not reassemble).
 */
int socks5_parse_udp_hdr(const uint8_t *buf, size_t len, struct proxy_dest *from);

/* ---- HTTP CONNECT codec (RFC 9110 §9.3.6, RFC 9112) ---- */

/*
 * "CONNECT host:port HTTP/1.1\r\nHost: host:port\r\n[Proxy-Authorization:
 * Basic b64]\r\n\r\n", IPv6 in brackets. user NULL = no auth.
 * Returns length, -EINVAL, -ENOSPC.
 */
int http_build_connect(char *buf, size_t cap, const struct proxy_dest *d, const char *user,
		       const char *pass);
/*
 * Reply header block in buf[0..len). Returns the block's length (> 0, through
 * the blank line) once complete with *status set; -EAGAIN when incomplete
 * (and len < HTTP_MAX_HDR); -EMSGSIZE when no end within HTTP_MAX_HDR;
 * -EPROTO for a malformed status line or a NUL byte. Accepts CRLF and bare LF
 * line ends. Interim 1xx blocks (not 101) are skipped: the length then runs
 * through the final block and *status is the final status.
 */
int http_parse_reply(const uint8_t *buf, size_t len, int *status);
/*
 * HTTP status to (positive) errno: 2xx -> 0, 401/407 -> EACCES, 504 -> ETIMEDOUT,
 * anything else (403, 502, 503, ...) -> ECONNREFUSED.
 */
int http_status_errno(int status);

/* base64 (RFC 4648) of n bytes into dst (NUL-terminated). Returns length, -ENOSPC. */
int base64_encode(char *dst, size_t cap, const uint8_t *src, size_t n);

/* ---- Handshake driver ---- */

enum proxy_hs_state {
	HS_SOCKS5_METHOD,
	HS_SOCKS5_AUTH,
	HS_SOCKS5_REPLY,
	HS_HTTP_REPLY,
	HS_DONE,
	HS_FAILED,
};

/*
 * How a handshake failed (HS_FAILED), for the caller to name it: which step,
 * and whether the proxy said no in a well-formed answer (refused: code holds
 * that answer) or said something we cannot take (malformed, too long).
 */
struct proxy_hs_fail {
	enum proxy_hs_state step; /* HS_SOCKS5_METHOD .. HS_HTTP_REPLY: the step under way */
	bool refused;		  /* a well-formed no: method 0xff, auth status, REP, non-2xx */
	int code; /* the proxy's answer at step: SOCKS5 method, RFC 1929 status, REP, HTTP
		   * status; -1 when none was read (malformed, too long). A method we did
		   * not offer is malformed, with that method as code. */
	int err;  /* the negative errno proxy_hs_input returned (and returns again) */
};

struct proxy_hs {
	enum proxy_hs_state state;
	const struct proxy_url *url; /* borrowed: credentials live in the config */
	struct proxy_dest dest;
	uint8_t out[PROXY_REQ_MAX]; /* bytes still to write to the proxy */
	size_t out_len, out_off;
	uint8_t *in; /* reply bytes so far: heap, HTTP_MAX_HDR or SOCKS5_REPLY_MAX */
	size_t in_len;
	struct proxy_hs_fail fail; /* HS_FAILED: why */
	bool udp_assoc;		   /* SOCKS5 UDP ASSOCIATE instead of CONNECT */
};

/*
 * Prepares the first request. Returns 0 or -ENOMEM / -EINVAL.
 * proxy_hs_free() releases what init allocated (safe on a zeroed hs).
 */
int proxy_hs_init(struct proxy_hs *hs, const struct proxy_url *url, const struct proxy_dest *d);
void proxy_hs_free(struct proxy_hs *hs);
/*
 * The same for a SOCKS5 UDP ASSOCIATE (d: where our datagrams come from).
 * -EPROTONOSUPPORT for a non-SOCKS5 url. Once proxy_hs_input() returns 1,
 * hs->in[0..hs->in_len) holds the reply (socks5_parse_reply_bnd) until
 * proxy_hs_free().
 */
int proxy_hs_init_udp(struct proxy_hs *hs, const struct proxy_url *url, const struct proxy_dest *d);

/* Bytes to send now (may be 0); call proxy_hs_sent() with what went out. */
size_t proxy_hs_pending(const struct proxy_hs *hs, const uint8_t **p);
void proxy_hs_sent(struct proxy_hs *hs, size_t n);

/*
 * Feeds n bytes read from the proxy. Returns 0 when more is needed (check
 * proxy_hs_pending: SOCKS5 may have queued the next request), 1 when the
 * tunnel is open, or a negative errno (ECONNREFUSED, EACCES for auth
 * failures, EPROTO, EMSGSIZE, ENETUNREACH, EHOSTUNREACH, ...). *used is the
 * number of bytes of p that belonged to the handshake; p[*used..n) is tunnel
 * payload once 1 is returned. A proxy that answered ahead of our requests
 * can leave some still pending at 1: they must go out before any payload.
 * On failure hs->fail says at which step and whether the proxy refused.
 */
int proxy_hs_input(struct proxy_hs *hs, const uint8_t *p, size_t n, size_t *used);

#endif
