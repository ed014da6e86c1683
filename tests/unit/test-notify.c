// SPDX-License-Identifier: GPL-2.0-only
/*
 * notify.c: $NOTIFY_SOCKET forms (path, abstract, refused ones), the
 * datagram a real socket receives, and --ready-fd's line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

static void test_addr(void **state)
{
	char longp[sizeof(((struct sockaddr_un *)0)->sun_path) + 2];
	struct sockaddr_un sa;
	socklen_t len;

	(void)state;
	assert_int_equal(notify_addr(NULL, &sa, &len), -ENOENT);
	assert_int_equal(notify_addr("", &sa, &len), -ENOENT);
	assert_int_equal(notify_addr("/run/systemd/notify", &sa, &len), 0);
	assert_string_equal(sa.sun_path, "/run/systemd/notify");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 20);
	assert_int_equal(notify_addr("@sd-notify", &sa, &len), 0);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "sd-notify", 9);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 10);
	assert_int_equal(notify_addr("@", &sa, &len), -EINVAL);
	assert_int_equal(notify_addr("relative/notify", &sa, &len), -EINVAL);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(notify_addr(longp, &sa, &len), -EINVAL);
	longp[0] = '@';
	assert_int_equal(notify_addr(longp, &sa, &len), -EINVAL);
}

static void recv_one(int fd, const char *want)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
}

static void test_send(void **state)
{
	char dir[] = "/tmp/pvnotify.XXXXXX", path[64], abs[40];
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_send("READY=1"), 0); /* unset: nothing to do */

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(notify_addr(path, &sa, &len), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify_send("READY=1"), 0);
	recv_one(fd, "READY=1");
	close(fd);
	unlink(path);
	/* nobody listens any more */
	assert_int_equal(notify_send("STOPPING=1"), -ENOENT);
	rmdir(dir);

	snprintf(abs, sizeof(abs), "@pvnotify-test-%d", (int)getpid());
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(notify_addr(abs, &sa, &len), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	setenv("NOTIFY_SOCKET", abs, 1);
	assert_int_equal(notify_send("STOPPING=1"), 0);
	recv_one(fd, "STOPPING=1");
	close(fd);

	setenv("NOTIFY_SOCKET", "not/absolute", 1);
	assert_int_equal(notify_send("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

static void test_ready_fd(void **state)
{
	char buf[16];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(notify_fd_check(p[1]), 0);
	assert_true(fcntl(p[1], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(notify_fd_ready(p[1]), 0);
	assert_int_equal(fcntl(p[1], F_GETFD), -1); /* closed */
	assert_int_equal(read(p[0], buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "ready\n", 6);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 0); /* EOF: the writer is closed */
	close(p[0]);
	assert_int_equal(notify_fd_check(p[0]), -EBADF);
	assert_int_equal(notify_fd_check(-1), -EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_ready_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
