// SPDX-License-Identifier: GPL-2.0-only
/*
 * The group check of a capability-carrying run (access.h). The group's
 * members are read from the process's own credentials (real gid and the
 * supplementary groups the kernel gave it at login), the same ones the
 * kernel used to let it execute a mode 0750 binary: a user added to the
 * group since logging in gets neither until the next login.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "access.h"
#include "log.h"

static bool in_group(gid_t gid)
{
	gid_t *v;
	int n, i;
	bool in = getgid() == gid;

	n = getgroups(0, NULL);
	if (in || n <= 0)
		return in;
	v = calloc((size_t)n, sizeof(*v));
	if (!v)
		return false;
	n = getgroups(n, v);
	for (i = 0; i < n && !in; i++)
		in = v[i] == gid;
	free(v);
	return in;
}

int access_check(const char *cmd)
{
	struct group *gr;

	if (getuid() == 0 || !getauxval(AT_SECURE))
		return 0;
	gr = getgrnam(ACCESS_GROUP);
	if (!gr) {
		log_error("%s: only root and the members of group %s may use this binary's "
			  "capabilities, and there is no such group (make install creates it)",
			  cmd, ACCESS_GROUP);
		return -EACCES;
	}
	if (in_group(gr->gr_gid))
		return 0;
	log_error("%s: only root and the members of group %s may use this binary's capabilities "
		  "(an administrator adds you with: usermod -aG %s USER; then log in again)",
		  cmd, ACCESS_GROUP, ACCESS_GROUP);
	return -EACCES;
}
