// SPDX-License-Identifier: GPL-2.0-only
/*
 * The open-file limit and the fd hygiene of forked children (exec's
 * namespace child, up's engine child): one copy of each, for every side.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fd.h"
#include "log.h"

void fd_raise_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_debug("cannot raise the open-file limit: %s", strerror(errno));
	}
}

/*
 * Closes fds lo..hi (inclusive). close_range() is Linux 5.9, and an older
 * container seccomp profile may refuse it (EPERM, ENOSYS): then one close()
 * per fd below the soft limit (nothing here lowers the limit, so no fd of
 * ours is above it).
 */
static void close_fds(unsigned int lo, unsigned int hi)
{
	struct rlimit rl;
	unsigned int fd;

	if (lo > hi || close_range(lo, hi, 0) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		rl.rlim_cur = 65536;
	for (fd = lo; fd <= hi && fd < rl.rlim_cur; fd++)
		close((int)fd);
}

int fd_close_others(int keep)
{
	int fd;

	if (keep < 0)
		return -EBADF;
	if (keep < 3) {
		fd = fcntl(keep, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return -errno;
		close(keep);
		keep = fd;
	}
	close_fds(3, (unsigned int)keep - 1);
	close_fds((unsigned int)keep + 1, ~0U);
	return keep;
}
