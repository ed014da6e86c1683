/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * exec mode's namespace side. exec_spawn() forks a child that enters new
 * user, network and mount namespaces (mapping only the caller's own uid and
 * gid), creates the TUN, brings it and lo up, gives it the addresses and
 * default routes in EXEC_TUN_* below over rtnetlink, and sends the TUN fd
 * back over a socketpair (SCM_RIGHTS). The child then waits until
 * exec_release() before it drops every capability and execvp()s the command,
 * so the engine is serving before the command's first SYN. Before that it
 * builds the command's file-system view (nsview.h): host services that
 * resolve or connect for their clients hidden, and with a nameserver an
 * /etc/resolv.conf naming only it (plus the host's search and options
 * lines), all in the child's own mount namespace.
 */
#ifndef PROXYVPN_EXEC_H
#define PROXYVPN_EXEC_H

#include <stdbool.h>
#include <sys/types.h>

#define EXEC_TUN_NAME  "tun0"
#define EXEC_TUN_ADDR4 "198.18.0.1"   /* /32; RFC 2544 benchmarking range */
#define EXEC_TUN_ADDR6 "fd70:7678::1" /* /128 ULA, "pvx" */

enum { EXEC_MAX_QUEUES = 64 }; /* TUN queues, one per engine worker */

struct exec_opts {
	char *const *argv; /* command and args, argv[0] looked up in PATH */
	int mtu;
	const char *nameserver; /* not NULL: /etc/resolv.conf names only it (bind mount) */
	bool no_offload;	/* plain TUN: no virtio-net header, TSO or checksum offload */
	int queues;		/* TUN queues (IFF_MULTI_QUEUE if > 1); 0 = 1 */
	bool isolate;		/* nsview: hide desktop sessions and container managers too */
	bool allow_system_bus;	/* nsview: leave the system D-Bus reachable */
	bool check_leaks;	/* run leakcheck_run() instead of argv (which may be NULL) */
};

struct exec_child {
	pid_t pid;
	int tun_fd;		      /* O_NONBLOCK|O_CLOEXEC, IFF_TUN|IFF_NO_PI; queue 0 */
	int tun_fds[EXEC_MAX_QUEUES]; /* [0] = tun_fd, then queues 1..nq-1 (-1 once taken) */
	int nq;
	int ctl_fd; /* parent's end of the control socketpair */
	bool vnet;  /* tun_fd carries virtio-net headers (tun_open) */
};

/*
 * Returns 0 with *c filled, or a negative errno after logging one line
 * that says which setup step failed (child reaped, nothing left behind).
 */
int exec_spawn(const struct exec_opts *o, struct exec_child *c);

/*
 * Lets the child exec the command. Returns 0, or -errno if the command could
 * not be started: -ENOENT (not found: exit 127), -EACCES/-ENOEXEC etc.
 * (exit 126); the child has then exited and is reaped by the caller's
 * normal wait.
 */
int exec_release(struct exec_child *c);

/* Closes what the parent holds (ctl_fd; tun_fd only if still >= 0). */
void exec_child_close(struct exec_child *c);

#endif
