/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Extra engine workers for a multi-queue TUN: each runs its own engine
 * (loop, TCP stack, sessions, proxy sockets) on one TUN queue in a thread
 * of its own. They share nothing on the data path; the kernel keeps each
 * flow on the queue it chose. The caller's thread runs queue 0 as before.
 */
#ifndef PROXYVPN_WORKERS_H
#define PROXYVPN_WORKERS_H

#include "engine.h"

struct worker;

struct workers {
	struct worker *w;
	int n;
	bool draining;
};

/*
 * Starts n engines, one per fd (taken over: closed even on failure), as
 * stacks 1..n of cfg->tcp.shared (the caller's engine is stack 0): the
 * limits hold for all engines together. 0, or -errno after logging with
 * nothing left running.
 */
int workers_start(struct workers *ws, const int *fds, int n, const struct engine_cfg *cfg);
/* Each engine drains (engine_drain) and its thread ends once it has. */
void workers_drain(struct workers *ws);
/*
 * Adds each running worker's counters as of its last snapshot (every
 * WK_SNAP_MS: the workers publish them under a lock) to the totals given.
 * For another thread, e.g. the control socket's.
 */
void workers_snapshot(struct workers *ws, struct engine_stats *es, struct tcp_stats *ts,
		      size_t *conns, size_t *pending, size_t *mem, struct ctl_window *win);
/*
 * Ends the threads (after their drain if workers_drain was called, else at
 * once), joins them, adds their counters to *es and *ts (NULL: dropped),
 * logs each one's sessions and frees everything. Safe on a zeroed struct.
 */
void workers_stop(struct workers *ws, struct engine_stats *es, struct tcp_stats *ts);

#endif
