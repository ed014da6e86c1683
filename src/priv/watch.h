/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The watcher: while `up` runs, its privileged parent follows nf_tables
 * events (NFNLGRP_NFTABLES) and rtnetlink events (rules, routes, links,
 * addresses) and, when something of ours goes away or changes, checks the
 * objects themselves and puts them back at once: the killswitch first
 * (fw_apply, or fw_ipt_apply for the iptables fallback), then the TUN's
 * state and addresses, then the routes and rules (route_repair). Each
 * repair is logged naming what was removed, counted by kind, and written
 * to the record `watch` in the state dir (watchrec.h) for `status`.
 *
 * Event-driven only: nothing is polled. A lost event (the socket's buffer
 * overflowed) makes the next pass check everything. At most
 * WATCH_REPAIRS_PER_SEC repairs run per second: past that, the watcher
 * says so, counts it, and waits for the next second (never tearing
 * anything down: what is still in place stays).
 *
 * Readiness: once the engine is ready and a full check found everything
 * in place, the record says "ready" and the watcher tells systemd
 * (READY=1 on $NOTIFY_SOCKET) and the --ready-fd.
 */
#ifndef PROXYVPN_WATCH_H
#define PROXYVPN_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "fw.h"
#include "route.h"
#include "watchrec.h"

struct loop;

enum {
	WATCH_REPAIRS_PER_SEC = 10, /* the bound; past it, repairs wait for the next second */
	WATCH_RETRY_MS = 1000,	    /* after a failed repair, and at the bound */
	WATCH_RCVBUF = 1 << 20,	    /* per socket: a flush of a big ruleset is many messages */
	WATCH_FD_HEADROOM = 3, /* fds free at attach: the engine's socket, a repair's peak of 2 */
};

struct watch_cfg {
	int dirfd;		 /* the state dir (the record); kept open by the caller */
	const struct fw_cfg *fw; /* what up applied; re-applied as is (kept by the caller) */
	bool ipt;		 /* the iptables fallback is in use, not nftables */
	struct route_cfg rc;	 /* the routes and rules, with the TUN's ifindex */
	const char *tun;	 /* the TUN's name */
	uint8_t addr4[4];	 /* its addresses: addr4/32, and addr6/128 if rc.ipv6 */
	uint8_t addr6[16];
	int ready_fd; /* --ready-fd, or -1 */
};

struct watch;

/*
 * Subscribes to the events (before anything else, so none is missed between
 * here and watch_attach()). NULL with a logged reason on failure.
 */
struct watch *watch_new(const struct watch_cfg *c);

/*
 * Joins the parent's loop and checks everything once (repairing what is
 * already missing). 0 or -errno (-EMFILE, logged: fewer than
 * WATCH_FD_HEADROOM fds free for the repairs).
 */
int watch_attach(struct watch *w, struct loop *l);

/* The first engine is ready: check everything; once all is in place, say ready. */
void watch_engine_ready(struct watch *w);

/* Leaves the loop, closes the sockets, removes the record, tells systemd STOPPING=1. NULL-safe. */
void watch_free(struct watch *w);

/*
 * status's reader: dir/watch, only a regular file owned by us, mode 0600,
 * at most WATCHREC_MAX bytes, parsed strictly. 0, -ENOENT, or -errno with
 * *why set.
 */
int watch_record_read(int dirfd, struct watchrec *r, const char **why);

/* Removes dir/watch (and a stale watch.tmp): a dead up's. */
void watch_record_remove(int dirfd);

#endif
