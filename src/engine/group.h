/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Engines on every queue of one TUN, run as one group: queue 0's engine on
 * the caller's loop and thread, each other queue's in a thread of its own
 * (workers.h). The user's limits hold for all of them together (struct
 * tcp_shared), they share queue 0's fake-address pool, and their counters
 * are summed. The order is the privilege model's: every resource is
 * acquired (TUN queues, sockets, the control socket), then the sandbox is
 * entered, then threads start.
 *
 * Two callers: `exec` runs a group in its own loop (next to the signals of
 * the command it reaps), and `up`'s engine child is engine_main(), a whole
 * process on top of a group, which the privileged parent calls after the
 * fork the way OpenBSD's ntpd.c calls ntp_main().
 */
#ifndef PROXYVPN_GROUP_H
#define PROXYVPN_GROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "sandbox.h"

struct engine_group_cfg {
	const struct engine_cfg *ecfg; /* copied */
	const int *tun_fds;	       /* the TUN queues, taken over: closed even on failure */
	int nq;			       /* 1..64 */
	struct sandbox_cfg sandbox;    /* entered once every engine is built */
	bool ctl;		       /* up: serve control connections (engine_group_ctl) */
	pid_t up_pid;		       /* `up`'s pid, for the replies (0: this process) */
};

struct engine_group;

/*
 * Builds queue 0's engine on loop (and the control socket's server), enters
 * the sandbox, starts the other queues' threads. 0 with *out set, or -errno
 * after logging, with nothing left running and every fd closed.
 */
int engine_group_start(struct engine_group **out, struct loop *loop,
		       const struct engine_group_cfg *c);
/*
 * Serves fd, a connection to the control socket whose peer `up`'s parent
 * checked (taken over: closed if the group serves none).
 */
void engine_group_ctl(struct engine_group *g, int fd);
/* Every engine drains (engine_drain): queue 0's stops the caller's loop when it is done. */
void engine_group_drain(struct engine_group *g, uint32_t ms);
/*
 * Ends the other queues' threads (after their drain if one was asked),
 * logs every engine's counters summed if log_stats, and frees everything.
 * NULL is fine.
 */
void engine_group_stop(struct engine_group *g, bool log_stats);

struct engine_main_cfg {
	const struct engine_cfg *ecfg;
	struct sandbox_cfg sandbox; /* the engine's ids */
	pid_t parent;		    /* `up`: named in replies, watched by the sandbox */
};

/*
 * The engine process of `up`, from its socket to the parent on (every other
 * fd already closed): takes the hello (the TUN queues, ipc.h), runs a group
 * until SIGTERM (blocked by the caller, read here from a signalfd), after
 * saying IPC_READY once it is sandboxed; then answers the parent's pings
 * (IPC_PING: the heartbeat the parent kills a stuck engine by) and serves
 * the control connections it hands over (IPC_CTL). Anything else from the
 * parent, or its end of the socket closing, ends the process. Returns the
 * process's exit status.
 */
int engine_main(int sock, const struct engine_main_cfg *c);

#endif
