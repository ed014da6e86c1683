/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The file-system view of exec's command, built by the namespace child in
 * its private mount namespace before the command runs. The host's services
 * that resolve names or open connections for their clients are reached
 * through Unix sockets in the file system, which a network namespace does
 * not cover: they are hidden under empty mounts here. Nothing is written to
 * the host's file systems: every file of ours lives on a tmpfs that has no
 * mount point outside this namespace.
 */
#ifndef PROXYVPN_NSVIEW_H
#define PROXYVPN_NSVIEW_H

#include <stdbool.h>
#include <sys/types.h>

struct nsview_cfg {
	const char *nameserver; /* /etc/resolv.conf names only it; NULL: --dns bypass */
	bool isolate;		/* also hide desktop sessions and container managers */
	bool allow_system_bus;	/* leave the system D-Bus reachable */
	uid_t uid;		/* the caller's, for /run/user/UID and /tmp/tmux-UID */
};

/*
 * Call in a new mount namespace whose root is already MS_PRIVATE, before
 * any capability is dropped. Returns 0, or -errno after logging one line
 * that names the path it could not cover.
 */
int nsview_setup(const struct nsview_cfg *c);

#endif
