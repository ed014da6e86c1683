/* SPDX-License-Identifier: GPL-2.0-only */
/* Process-wide fd housekeeping: the open-file limit, and closing what a child must not inherit. */
#ifndef PROXYVPN_FD_H
#define PROXYVPN_FD_H

/*
 * Raises the soft RLIMIT_NOFILE to the hard limit (an engine needs one proxy
 * socket per connection). A failure is logged at debug level only: the run
 * goes on with the limit it has.
 */
void fd_raise_limit(void);

/*
 * Closes every fd but 0-2 and keep, which is first moved above 2 (as
 * O_CLOEXEC) if the caller started with a standard fd closed: 0-2 are left
 * as they are, open or not. close_range(2) where the kernel has it (5.9),
 * else close(2) on each fd below the soft limit. Returns keep's fd or -errno.
 */
int fd_close_others(int keep);

#endif
