// SPDX-License-Identifier: GPL-2.0-only
/*
 * fd.c, each case in a forked child (it closes the whole process's fds):
 * fd_close_others keeps 0-2 and the given fd and closes everything else,
 * moves a kept fd below 3 above 2 without touching the standard fds, and
 * does the same through its close() fallback when close_range is refused
 * (a seccomp filter answering ENOSYS, as an old kernel or container would);
 * fd_raise_limit lifts the soft open-file limit to the hard one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd.h"

enum { HIGH_FD = 300 }; /* above any fd the test process holds */

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Runs fn in a child; its exit status is the number of the first failed check (0: all held). */
static void in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* fds 3..9 and HIGH_FD open; keeps keep, checks the rest are gone and 0-2 untouched. */
static int close_others_case(int keep_slot)
{
	int fds[8], i, keep, ret;

	for (i = 0; i < 7; i++)
		fds[i] = open("/dev/null", O_RDONLY);
	fds[7] = dup2(fds[0], HIGH_FD);
	for (i = 0; i < 8; i++)
		if (fds[i] < 3)
			return 1;
	keep = fds[keep_slot];
	ret = fd_close_others(keep);
	if (ret != keep)
		return 2;
	for (i = 0; i < 8; i++)
		if (is_open(fds[i]) != (fds[i] == keep))
			return 3;
	for (i = 0; i < 3; i++)
		if (!is_open(i))
			return 4;
	return 0;
}

static int close_others_low(void)
{
	return close_others_case(3);
}

static int close_others_highest(void)
{
	return close_others_case(7);
}

/* A kept fd below 3 (stdin was closed) moves above 2; 1 and 2 stay, 0 stays closed. */
static int close_others_keep_below_3(void)
{
	int pipefd[2], keep, extra;

	close(0);
	if (pipe(pipefd) < 0 || pipefd[0] != 0)
		return 1;
	extra = open("/dev/null", O_RDONLY);
	keep = fd_close_others(pipefd[0]);
	if (keep < 3 || is_open(0) || !is_open(1) || !is_open(2))
		return 2;
	if (is_open(pipefd[1]) || is_open(extra) || !(fcntl(keep, F_GETFD) & FD_CLOEXEC))
		return 3;
	return 0;
}

/* close_range refused: the close() loop must still close everything below the limit. */
static int close_others_fallback(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(close_range), 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0 || seccomp_load(ctx) < 0)
		return 10;
	seccomp_release(ctx);
	if (close_range(3, ~0U, 0) == 0 || errno != ENOSYS)
		return 11; /* the filter did not take */
	return close_others_case(2);
}

static int raise_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max < 64)
		return 1;
	rl.rlim_cur = 32;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 2;
	fd_raise_limit();
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != rl.rlim_max)
		return 3;
	fd_raise_limit(); /* already at the hard limit: nothing to do */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != rl.rlim_max)
		return 4;
	return 0;
}

static void test_close_others(void **state)
{
	(void)state;
	in_child(close_others_low);
	in_child(close_others_highest);
	in_child(close_others_keep_below_3);
	in_child(close_others_fallback);
	assert_int_equal(fd_close_others(-1), -EBADF);
}

static void test_raise_limit(void **state)
{
	(void)state;
	in_child(raise_limit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_others),
		cmocka_unit_test(test_raise_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
