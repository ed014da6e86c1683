/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `up`'s two processes. The privileged parent keeps the TUN queue fds (so
 * the link outlives any engine), the routes, the firewall and the state
 * file; it forks the engine, hands it the TUN queues over a socketpair
 * (ipc.h), and restarts it when it dies or stops answering its heartbeat.
 * It also keeps the control socket: it accepts each connection, checks the
 * peer (root or the uid that ran `up`) and hands it to the engine.
 * The engine child closes every other fd, enters the sandbox (sandbox.h),
 * starts one worker thread per extra queue (workers.h) and runs queue 0's
 * engine in its own event loop. The killswitch does not depend on the
 * engine: while none runs, nothing leaves, and connections the dead engine
 * carried get an RST from the next one.
 */
#ifndef PROXYVPN_PRIVSEP_H
#define PROXYVPN_PRIVSEP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "sandbox.h"

struct watch;

enum {
	PRIVSEP_LOOP_CRASHES = 5,	/* this many deaths within ... */
	PRIVSEP_LOOP_WINDOW_MS = 10000, /* ... this long is a crash loop: back off */
	PRIVSEP_BACKOFF_MIN_MS = 1000,
	PRIVSEP_BACKOFF_MAX_MS = 30000,
	PRIVSEP_TERM_MS = 3000,	  /* SIGTERM to SIGKILL at teardown */
	PRIVSEP_PING_MS = 1000,	  /* the heartbeat: a ping this often once ready */
	PRIVSEP_HANG_MS = 5000,	  /* a ping unanswered this long: the engine is killed */
	PRIVSEP_READY_MS = 15000, /* an engine not ready this long after its fork: killed */
	PRIVSEP_CTL_BATCH = 16,	  /* control connections accepted per wakeup */
};

struct privsep_cfg {
	const struct engine_cfg *ecfg; /* inherited by each engine (fork) */
	const int *tun_fds;	       /* the TUN queues, kept by the parent */
	int nqueues;		       /* 1..IPC_MAX_QUEUES: engines in each child */
	int ctl_fd;    /* listening control socket (accepted here, never handed over), or -1 */
	uid_t ctl_uid; /* besides root, the only peer let through to the engine */
	const char *tun_name;
	struct sandbox_cfg sandbox; /* the engine's ids */
	struct watch *watch;	    /* the watcher (watch.h) joins the loop; may be NULL */
};

/* Restart delays: one record of recent engine deaths. */
struct privsep_backoff {
	uint64_t death[PRIVSEP_LOOP_CRASHES]; /* ms, ring of the last deaths */
	unsigned int n;			      /* deaths recorded, saturating */
	uint32_t delay_ms;		      /* last delay given in a loop */
};

/*
 * Records a death at now (ms) and returns how long to wait before the next
 * engine: 0 unless PRIVSEP_LOOP_CRASHES deaths fell within the window, then
 * PRIVSEP_BACKOFF_MIN_MS doubling up to PRIVSEP_BACKOFF_MAX_MS while the
 * loop lasts.
 */
uint32_t privsep_backoff_next(struct privsep_backoff *b, uint64_t now);

/*
 * Runs engines on c->tun_fds until SIGINT, SIGTERM or SIGHUP (blocked by the
 * caller), then stops the engine and returns 0; -1 after logging if not even
 * the first engine could be started. Signals: the caller blocks SIGINT,
 * SIGTERM and SIGHUP; SIGCHLD is blocked here.
 */
int privsep_run(const struct privsep_cfg *c);

#endif
