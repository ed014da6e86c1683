/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket of host mode: a unix stream socket `ctl` in the state
 * directory (mode 0600) that `proxyvpn status` asks for the live counters
 * and connections of a running `up`.
 *
 * Protocol: the client sends one line, "status\n" (JSON reply) or
 * "status text\n" (human-readable reply); the server answers with at most
 * CTL_REPLY_MAX bytes and closes. Peers are checked with SO_PEERCRED: only
 * uid 0 and the uid that ran `up` are answered; others are closed at once.
 *
 * Split for privilege separation: ctl_listen() (the privileged side, it
 * needs the state dir) makes the listening fd; the server half runs in the
 * engine's loop from just that fd and the engine, and never touches the
 * state dir.
 */
#ifndef PROXYVPN_CTL_H
#define PROXYVPN_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "json.h"
#include "loop.h"
#include "session.h"

#define CTL_SOCK "ctl"

enum {
	CTL_MAX_CLIENTS = 4,	    /* more at once are closed unanswered */
	CTL_REQ_MAX = 64,	    /* request line, newline included */
	CTL_CONNS_MAX = 1000,	    /* connections listed in a reply */
	CTL_REPLY_MAX = 384 * 1024, /* 1000 IPv6 flows fit */
	CTL_TIMEOUT_MS = 5000,	    /* a client gets this long, request to last byte */
	CTL_ACCEPT_BATCH = 16,	    /* accept()s per wakeup */
};

enum ctl_req {
	CTL_REQ_STATUS = 1, /* JSON */
	CTL_REQ_STATUS_TEXT,
};

struct ctl_client {
	struct loop_io io; /* fd -1: slot free */
	struct timer timer;
	struct ctl_server *srv;
	char req[CTL_REQ_MAX];
	size_t reqlen;
	char *reply; /* malloc'd when the request is complete */
	size_t replylen, sent;
};

/* The counters of the other engines in this process (`up --workers`). */
struct ctl_more {
	struct engine_stats eng;
	struct tcp_stats tcp;
	size_t conns, pending, mem;
};

struct ctl_server {
	struct loop_io io; /* the listening socket */
	struct loop *loop;
	const struct engine *eng;
	uid_t owner;	  /* besides uid 0, the only peer answered */
	pid_t up_pid;	  /* `up' (the engine's parent) for replies; 0 = this process */
	uint64_t started; /* loop ms at ctl_server_init */
	uint64_t refused; /* peers closed for their uid or for want of a slot */
	/* NULL: eng alone. Else added to eng's counters in every reply; the
	 * connections listed stay eng's own. */
	void (*more)(void *arg, struct ctl_more *m);
	void *more_arg;
	struct ctl_client client[CTL_MAX_CLIENTS];
};

/* What a status reply carries besides the connections. */
struct ctl_live {
	const char *version;
	pid_t pid;	    /* `up' */
	pid_t engine_pid;   /* the engine answering (restarts change it) */
	uint64_t uptime_ms; /* of this engine */
	const struct engine_stats *eng;
	const struct tcp_stats *tcp;
	size_t conns, pending, mem; /* tcp_stack_conns/pending/mem */
	size_t sessions;	    /* live sessions (all of them, listed or not) */
};

/*
 * Privileged side: creates dir/ctl (a stale one is removed first) with mode
 * 0600, bound through the dirfd (no path outside it is followed), and
 * listens. Returns the O_CLOEXEC|O_NONBLOCK fd or -errno (err says which step).
 */
int ctl_listen(int dirfd, char *err, size_t errlen);
/* Removes dir/ctl if it is a socket. */
void ctl_unlink(int dirfd);

/*
 * Engine side: serves listen_fd (taken over: closed by ctl_server_fini, or
 * here on failure) in loop, answering from e. 0 or -errno.
 */
int ctl_server_init(struct ctl_server *cs, struct loop *loop, const struct engine *e, int listen_fd,
		    uid_t owner);
/* Closes every client and the listening fd; safe on a zeroed server. */
void ctl_server_fini(struct ctl_server *cs);

/*
 * Pure. One request line in buf[0..len): returns the ctl_req (> 0) once a
 * whole line is there, -EAGAIN while the line is incomplete and shorter than
 * CTL_REQ_MAX, -EINVAL for anything else (unknown word, NUL, too long).
 */
int ctl_parse_request(const char *buf, size_t len);

/*
 * Pure. The reply to a status request into b: the JSON object (one line) or
 * the text form. conns[0..n) are listed; total is how many there are in
 * all (the reply says when it lists fewer, also when b runs short).
 * 0, or -ENOSPC if even the counters did not fit.
 */
int ctl_reply_status(struct jbuf *b, enum ctl_req req, const struct ctl_live *l,
		     const struct session_info *conns, size_t n, size_t total);

/*
 * Client: sends req ("status\n" ...) to dir/ctl and reads the reply into
 * out (NUL-terminated, at most cap - 1 bytes), waiting at most timeout_ms
 * in all. Returns the length, or -errno: -ENOENT / -ECONNREFUSED when no
 * server is there, -EACCES, -ETIMEDOUT, -EMSGSIZE (reply too long),
 * -ECONNRESET (closed without a reply: refused).
 */
ssize_t ctl_query(int dirfd, const char *req, char *out, size_t cap, int timeout_ms);

#endif
