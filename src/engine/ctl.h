/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket's server, in the engine's loop: `proxyvpn status`
 * asks it for the live counters and connections of a running `up`
 * (protocol: ctl-proto.h). It serves connections the privileged parent
 * accepted and whose peer it checked (only uid 0 and the uid that ran `up`
 * get through: ctl_accept in ctl-sock.h) and handed over the IPC; it never
 * listens, and never touches the state dir.
 */
#ifndef PROXYVPN_CTL_H
#define PROXYVPN_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctl-proto.h"
#include "engine.h"
#include "loop.h"

enum {
	CTL_TIMEOUT_MS = 5000, /* a client gets this long, request to last byte */
	CTL_ACCEPT_BATCH = 16, /* the parent's accept()s per wakeup */
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
	struct ctl_window win;
};

struct ctl_server {
	struct loop *loop; /* NULL until ctl_server_init */
	const struct engine *eng;
	pid_t up_pid;	  /* `up' (the engine's parent) for replies; 0 = this process */
	uint64_t started; /* loop ms at ctl_server_init */
	uint64_t refused; /* connections closed for want of a slot */
	/* NULL: eng alone. Else added to eng's counters in every reply; the
	 * connections listed stay eng's own. */
	void (*more)(void *arg, struct ctl_more *m);
	void *more_arg;
	struct ctl_client client[CTL_MAX_CLIENTS];
};

/* Ready to serve connections in loop, answering from e. */
void ctl_server_init(struct ctl_server *cs, struct loop *loop, const struct engine *e);
/*
 * Serves fd, a connection whose peer the parent checked (taken over:
 * closed when done, or at once when all CTL_MAX_CLIENTS slots are taken).
 */
void ctl_server_take(struct ctl_server *cs, int fd);
/* Closes every client; safe on a zeroed server. */
void ctl_server_fini(struct ctl_server *cs);

/* The status of e (plus more, if given) as ctl_reply_status wants it. */
void ctl_live_fill(struct ctl_live *l, const struct engine *e, const struct ctl_more *more);

#endif
