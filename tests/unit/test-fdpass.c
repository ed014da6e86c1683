// SPDX-License-Identifier: GPL-2.0-only
/*
 * fdpass.c over a SEQPACKET socketpair: a message with a working fd, a
 * message without one, EOF, short and oversized messages (no fd leaks on
 * any of them), surplus fds closed, a flood of fds refused (MSG_CTRUNC),
 * and O_CLOEXEC on what arrives; the general fd_sendmsg / fd_recvmsg with
 * several iovecs and fds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

struct msg {
	int32_t a;
	uint32_t b;
};

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void close_pair(int sv[2])
{
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
}

/* The lowest free fd number: unchanged across a call means nothing leaked. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	assert_true(fd >= 0);
	close(fd);
	return fd;
}

static void test_msg_and_fd(void **state)
{
	struct msg out = { .a = -7, .b = 0xdeadbeef }, in = { 0 };
	int sv[2], p[2], fd = -2;
	char buf[8] = { 0 };

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fd_send(sv[0], &out, sizeof(out), p[1]), 0);
	close(p[1]); /* the in-flight copy keeps the write end alive */

	assert_int_equal(fd_recv(sv[1], &in, sizeof(in), &fd), 0);
	assert_int_equal(in.a, -7);
	assert_int_equal(in.b, 0xdeadbeef);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);

	/* It is the pipe's write end: what goes in comes out of p[0]. */
	assert_int_equal(write(fd, "hello", 5), 5);
	close(fd);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 0); /* last writer gone */
	close(p[0]);
	close_pair(sv);
}

static void test_no_fd(void **state)
{
	struct msg out = { .a = 1, .b = 2 }, in = { 0 };
	int sv[2], fd = 42;

	(void)state;
	pair(sv);
	assert_int_equal(fd_send(sv[0], &out, sizeof(out), -1), 0);
	assert_int_equal(fd_recv(sv[1], &in, sizeof(in), &fd), 0);
	assert_int_equal(fd, -1);
	assert_memory_equal(&in, &out, sizeof(in));
	close_pair(sv);
}

static void test_eof(void **state)
{
	struct msg in;
	int sv[2], fd = 42;

	(void)state;
	pair(sv);
	close(sv[0]);
	sv[0] = -1;
	assert_int_equal(fd_recv(sv[1], &in, sizeof(in), &fd), -EPIPE);
	assert_int_equal(fd, -1);
	close_pair(sv);
}

static void test_short_message(void **state)
{
	struct msg in;
	int sv[2], p[2], fd = 42, before;
	uint16_t two = 2;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fd_send(sv[0], &two, sizeof(two), p[0]), 0);
	before = lowest_free_fd();
	assert_int_equal(fd_recv(sv[1], &in, sizeof(in), &fd), -EBADMSG);
	assert_int_equal(fd, -1);
	assert_int_equal(lowest_free_fd(), before); /* the passed fd was closed */
	/* The message is consumed: the next one is read on its own. */
	assert_int_equal(fd_send(sv[0], &(struct msg){ .a = 3 }, sizeof(in), -1), 0);
	assert_int_equal(fd_recv(sv[1], &in, sizeof(in), &fd), 0);
	assert_int_equal(in.a, 3);
	close(p[0]);
	close(p[1]);
	close_pair(sv);
}

static void test_oversized_message(void **state)
{
	char big[sizeof(struct msg) + 1] = { 0 };
	struct msg in;
	int sv[2], p[2], fd = 42, before;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fd_send(sv[0], big, sizeof(big), p[1]), 0);
	before = lowest_free_fd();
	assert_int_equal(fd_recv(sv[1], &in, sizeof(in), &fd), -EBADMSG);
	assert_int_equal(fd, -1);
	assert_int_equal(lowest_free_fd(), before);
	close(p[0]);
	close(p[1]);
	close_pair(sv);
}

/* A peer that sends several fds gets only the first one through. */
static void test_extra_fds_closed(void **state)
{
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msg out = { .a = 9 }, in;
	struct iovec iov = { .iov_base = &out, .iov_len = sizeof(out) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm;
	int sv[2], p[2], fds[3], fd = -2, before;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	fds[0] = p[1];
	fds[1] = p[0];
	fds[2] = p[0];
	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	assert_int_equal(sendmsg(sv[0], &mh, 0), (ssize_t)sizeof(out));

	before = lowest_free_fd();
	assert_int_equal(fd_recv(sv[1], &in, sizeof(in), &fd), 0);
	assert_int_equal(in.a, 9);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(lowest_free_fd(), before); /* the two extras were closed */
	close(p[0]);
	close(p[1]);
	close_pair(sv);
}

/* Sends n copies of fd with msg in one record, past fd_sendmsg's own limit. */
static void send_many(int sock, const struct msg *m, int fd, unsigned int n)
{
	union {
		char buf[CMSG_SPACE(200 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)m, .iov_len = sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cm;
	unsigned int i;

	assert_true(n <= 200);
	memset(&ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	for (i = 0; i < n; i++)
		memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd, sizeof(int));
	assert_int_equal(sendmsg(sock, &mh, 0), (ssize_t)sizeof(*m));
}

/* More fds than the control buffer holds: MSG_CTRUNC, the record refused, nothing leaked. */
static void test_fd_flood_refused(void **state)
{
	struct msg out = { .a = 5 }, in;
	int sv[2], p[2], fd = 42, before;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	send_many(sv[0], &out, p[0], 1 + FDPASS_SPARE + 1);
	before = lowest_free_fd();
	assert_int_equal(fd_recv(sv[1], &in, sizeof(in), &fd), -EBADMSG);
	assert_int_equal(fd, -1);
	assert_int_equal(lowest_free_fd(), before);
	/* exactly the spare room is still read, the extras closed */
	send_many(sv[0], &out, p[0], 1 + FDPASS_SPARE);
	assert_int_equal(fd_recv(sv[1], &in, sizeof(in), &fd), 0);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(lowest_free_fd(), before);
	close(p[0]);
	close(p[1]);
	close_pair(sv);
}

/* The general pair: two iovecs each way, several fds, a count past maxfds. */
static void test_sendmsg_recvmsg(void **state)
{
	uint32_t hdr = 0x01020304, hdr_in = 0;
	char body[5] = "abcd", body_in[8] = { 0 };
	struct iovec out[2] = { { &hdr, sizeof(hdr) }, { body, 4 } };
	struct iovec in[2] = { { &hdr_in, sizeof(hdr_in) }, { body_in, sizeof(body_in) } };
	int sv[2], p[2], fds[3], got[FDPASS_MAX_FDS], before;
	unsigned int nfds = 99;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	fds[0] = p[0];
	fds[1] = p[1];
	fds[2] = p[0];
	assert_int_equal(fd_sendmsg(sv[0], out, 2, fds, 3), 0);
	before = lowest_free_fd();
	assert_int_equal(fd_recvmsg(sv[1], in, 2, got, 2, &nfds), 8);
	assert_int_equal(nfds, 3); /* three came, two kept, the third closed */
	assert_int_equal(hdr_in, hdr);
	assert_memory_equal(body_in, "abcd", 4);
	assert_true(fcntl(got[0], F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(got[1], F_GETFD) & FD_CLOEXEC);
	/* got[1] is the pipe's write end: it feeds p[0] */
	assert_int_equal(write(got[1], "x", 1), 1);
	assert_int_equal(read(p[0], body_in, 1), 1);
	close(got[0]);
	close(got[1]);
	assert_int_equal(lowest_free_fd(), before);
	/* no fds, and limits */
	assert_int_equal(fd_sendmsg(sv[0], out, 1, NULL, 0), 0);
	assert_int_equal(fd_recvmsg(sv[1], in, 1, got, 0, &nfds), 4);
	assert_int_equal(nfds, 0);
	assert_int_equal(fd_sendmsg(sv[0], out, 1, got, FDPASS_MAX_FDS + 1), -EINVAL);
	assert_int_equal(fd_recvmsg(sv[1], in, 1, got, FDPASS_MAX_FDS + 1, &nfds), -EINVAL);
	/* a record larger than the buffers: MSG_TRUNC, its fd closed */
	assert_int_equal(fd_sendmsg(sv[0], out, 2, fds, 1), 0);
	before = lowest_free_fd();
	assert_int_equal(fd_recvmsg(sv[1], in, 1, got, 1, &nfds), -EBADMSG);
	assert_int_equal(nfds, 0);
	assert_int_equal(lowest_free_fd(), before);
	close(p[0]);
	close(p[1]);
	close_pair(sv);
}

static void test_bad_args(void **state)
{
	struct msg m = { 0 };
	int sv[2], fd = 42;

	(void)state;
	pair(sv);
	assert_int_equal(fd_send(sv[0], &m, 0, -1), -EINVAL);
	assert_int_equal(fd_recv(sv[1], &m, 0, &fd), -EINVAL);
	assert_int_equal(fd, -1);
	assert_int_equal(fd_send(-1, &m, sizeof(m), -1), -EBADF);
	/* The peer is gone: an error, never SIGPIPE. */
	close(sv[1]);
	sv[1] = -1;
	assert_int_equal(fd_send(sv[0], &m, sizeof(m), -1), -EPIPE);
	close_pair(sv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_and_fd),
		cmocka_unit_test(test_no_fd),
		cmocka_unit_test(test_eof),
		cmocka_unit_test(test_short_message),
		cmocka_unit_test(test_oversized_message),
		cmocka_unit_test(test_extra_fds_closed),
		cmocka_unit_test(test_fd_flood_refused),
		cmocka_unit_test(test_sendmsg_recvmsg),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
