/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A proxy on this host (`ssh -D`, Tor, a local SOCKS server): `up` finds the
 * socket that listens at the proxy's address (sock_diag), who owns it, and
 * what the kernel can match to keep that program's own upstream traffic out
 * of the tunnel, which would otherwise carry it back into itself. The
 * policy (docs/security.md, "A proxy on this host"):
 *
 *   - a system user (uid 1-LP_SYS_UID_MAX: debian-tor, a dedicated user)
 *     is excluded by uid: only services run as it;
 *   - else a system service's cgroup (/system.slice/NAME.service, where
 *     only root can put a process) is excluded by cgroup;
 *   - else (root, a login user, nobody: excluding the uid would send all
 *     their other traffic around the proxy) its current connections out,
 *     by address and port, which covers a tunnel client (ssh -D) whose
 *     upstream is one long-lived connection;
 *   - else `up` refuses and names --exclude-uid / --exclude-cgroup.
 */
#ifndef PROXYVPN_LOCALPROXY_H
#define PROXYVPN_LOCALPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "fw.h"

#define LP_SYS_UID_MAX 999 /* Debian's SYS_UID_MAX (login.defs) */

enum {
	LP_MAX_PEERS = 16,  /* upstream connections kept out */
	LP_MAX_PIDS = 8,    /* processes holding the listener looked at */
	LP_MAX_SOCKS = 4096 /* socket fds per such process looked at */
};

enum lp_how {
	LP_REMOTE,	  /* not an address of this host: nothing to do */
	LP_NOT_LISTENING, /* on this host, but nothing listens there yet */
	LP_UID,		  /* exclude the listener's uid (a system user) */
	LP_CGROUP,	  /* exclude its process's cgroup (a system service) */
	LP_PEERS,	  /* exclude its process's current connections out */
	LP_UNSAFE,	  /* none of those: refuse unless the user named exclusions */
};

struct localproxy {
	enum lp_how how;
	uint32_t uid;		    /* the listener's owner */
	pid_t pid;		    /* a process holding it; 0 if none could be read */
	char comm[16];		    /* its name ("" if unknown) */
	char cgroup[FW_CGROUP_MAX]; /* its cgroup v2 path ("/system.slice/..."), "" if unknown */
	struct fw_cgroup fw_cgroup; /* LP_CGROUP: cgroup, resolved for fw.c */
	struct fw_peer peer[LP_MAX_PEERS]; /* LP_PEERS */
	size_t npeer;
};

/*
 * Looks at the proxy's address (AF_INET or AF_INET6 sockaddr): on this host
 * (loopback or an interface's address)? who listens there? Fills *lp (how
 * and what to exclude). Reads /proc to find the listener's process; what it
 * cannot read (another user's process without privilege) it goes without.
 * 0, or -errno when sock_diag itself fails (lp->how is then LP_REMOTE).
 */
int localproxy_detect(const struct sockaddr *proxy, struct localproxy *lp);

/* The policy above, pure. cgroup: the process's v2 path, NULL or "" if unknown. */
enum lp_how localproxy_decide(uint32_t uid, const char *cgroup, size_t npeer);
bool localproxy_system_uid(uint32_t uid);
bool localproxy_service_cgroup(const char *cgroup);

/*
 * A cgroup v2 path (from the hierarchy's root, with or without a leading
 * '/') resolved for fw.c: checked against fw_cgroup_depth(), found as a
 * directory under the cgroup2 mount, which must be at or below
 * /sys/fs/cgroup (where nft looks). The root cgroup is refused: it holds
 * every process. 0 or -errno with *why a static phrase.
 */
int localproxy_cgroup(const char *path, struct fw_cgroup *out, const char **why);

/* One line for the log: what was found and what is kept out of the tunnel. */
void localproxy_describe(const struct localproxy *lp, const char *proxy, char *buf, size_t len);

#endif
