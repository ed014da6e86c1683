/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine's sandbox (style.md 3.12): acquire everything first, then
 * sandbox_enter() drops, in this order and for good:
 *   1. the bounding and ambient capability sets (CAP_SETPCAP if we have it;
 *      else from inside a fresh user namespace, where we have it);
 *   2. supplementary groups, gid, uid (only when asked: `up` as root);
 *   3. the effective, permitted and inheritable sets;
 *   4. PR_SET_NO_NEW_PRIVS;
 *   5. a seccomp allowlist (libseccomp) whose default is to kill the
 *      process. PROXYVPN_SECCOMP=log makes the default "log and allow"
 *      (audit log), for finding a missing syscall, and =off loads none
 *      (valgrind, which cannot run seccomp()); both are ignored when the
 *      binary runs with file capabilities (secure_getenv).
 * The list of syscalls and why each is there: docs/security.md.
 */
#ifndef PROXYVPN_SANDBOX_H
#define PROXYVPN_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

struct sandbox_cfg {
	bool set_ids; /* switch to uid/gid below (needs CAP_SETUID/SETGID) */
	uid_t uid;
	gid_t gid;
	pid_t kill_pid; /* > 0: the one pid kill() and wait4() may name (exec mode) */
	pid_t parent;	/* > 0: re-arm PR_SET_PDEATHSIG (SIGKILL), which an id change
			 * clears; -ESRCH if the parent is already gone */
};

/*
 * Drops as above. 0, or -errno after logging one line naming the step; on
 * failure the process may be half-dropped and must exit. Call it while the
 * process has one thread: capability sets are per thread, and unshare()
 * refuses a threaded caller. Threads created afterwards inherit it all.
 */
int sandbox_enter(const struct sandbox_cfg *c);

/*
 * The uid and gid of the engine for `up` started as root: the user NAME if
 * given, else the system user "proxyvpn" (`make install` creates it). Never
 * root, never nobody: other processes running as nobody could stop the
 * engine (SIGSTOP) and with it all TCP of the host. 0, or -ENOENT (no such
 * user: logged, saying how to make one) / -EINVAL (root or nobody:
 * refused, logged).
 */
int sandbox_user(const char *name, uid_t *uid, gid_t *gid);

/* uid is nobody's: 65534 (the kernel's overflow uid) or the user "nobody". */
bool sandbox_uid_is_nobody(uid_t uid);

#define SANDBOX_USER_DEFAULT "proxyvpn"
#define SANDBOX_NOBODY_UID   65534

#ifdef PROXYVPN_FAULT
/*
 * Test builds only: with PROXYVPN_FAULT_SYSCALL=N (read by sandbox_enter),
 * the Nth call (one per packet read from the TUN) makes a syscall the filter
 * forbids, so the kernel kills the engine.
 */
void sandbox_fault_tick(void);
#else
static inline void sandbox_fault_tick(void)
{
}
#endif

#endif
