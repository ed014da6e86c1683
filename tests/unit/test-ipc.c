// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipc.c: the decoder takes only exactly-sized known messages (every prefix,
 * a wrong length field, a non-zero reserved field, unknown types, wrong
 * payload sizes all fail); over a SEQPACKET socketpair fds arrive
 * O_CLOEXEC, too many fds or a truncated record close every fd that came
 * (no leak), EOF is -EPIPE. And privsep's restart backoff.
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

#include "ipc.h"
#include "privsep.h"

static size_t enc(uint8_t *buf, uint16_t type, uint16_t len, uint32_t zero, const void *p,
		  size_t plen)
{
	struct ipc_hdr h = { .type = type, .len = len, .zero = zero };

	memcpy(buf, &h, sizeof(h));
	if (plen)
		memcpy(buf + sizeof(h), p, plen);
	return sizeof(h) + plen;
}

static void test_parse_valid(void **state)
{
	struct ipc_hello hello = { .fds = IPC_FD_TUN, .generation = 7, .queues = 1 };
	struct ipc_ready rd = { .generation = 7 }, out;
	uint8_t buf[128];
	struct ipc_msg m;
	size_t n;

	(void)state;
	n = enc(buf, IPC_HELLO, sizeof(hello), 0, &hello, sizeof(hello));
	assert_int_equal(ipc_parse(buf, n, &m), 0);
	assert_int_equal(m.type, IPC_HELLO);
	n = enc(buf, IPC_READY, sizeof(rd), 0, &rd, sizeof(rd));
	assert_int_equal(ipc_parse(buf, n, &m), 0);
	assert_int_equal(ipc_get_data(&m, &out, sizeof(out)), 0);
	assert_int_equal(out.generation, 7);
	assert_int_equal(ipc_get_data(&m, &out, sizeof(out) - 1), -EBADMSG);
}

static void test_parse_invalid(void **state)
{
	struct ipc_ready rd = { .generation = 1 };
	uint8_t buf[128], pad[IPC_MAX_PAYLOAD + 8] = { 0 };
	struct ipc_msg m;
	size_t n, i;

	(void)state;
	n = enc(buf, IPC_READY, sizeof(rd), 0, &rd, sizeof(rd));
	for (i = 0; i < n; i++)
		assert_int_equal(ipc_parse(buf, i, &m), -EBADMSG); /* every prefix */
	n = enc(buf, IPC_READY, sizeof(rd), 1, &rd, sizeof(rd));
	assert_int_equal(ipc_parse(buf, n, &m), -EBADMSG); /* reserved field */
	n = enc(buf, IPC_READY, sizeof(rd) + 1, 0, pad, sizeof(rd) + 1);
	assert_int_equal(ipc_parse(buf, n, &m), -EBADMSG); /* wrong size for the type */
	n = enc(buf, IPC_READY, sizeof(rd) - 1, 0, &rd, sizeof(rd));
	assert_int_equal(ipc_parse(buf, n, &m), -EBADMSG); /* len field != bytes */
	n = enc(buf, 0, 0, 0, NULL, 0);
	assert_int_equal(ipc_parse(buf, n, &m), -EBADMSG); /* unknown types */
	n = enc(buf, IPC_TYPE_MAX, sizeof(rd), 0, &rd, sizeof(rd));
	assert_int_equal(ipc_parse(buf, n, &m), -EBADMSG);
	n = enc(buf, 0xffff, IPC_MAX_PAYLOAD, 0, pad, IPC_MAX_PAYLOAD);
	assert_int_equal(ipc_parse(buf, n, &m), -EBADMSG);
}

static int lowest_free_fd(void)
{
	int fd = dup(0), ret = fd;

	if (fd >= 0)
		close(fd);
	return ret;
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

static void test_send_recv_fds(void **state)
{
	struct ipc_hello h = { .fds = IPC_FD_TUN, .generation = 3, .queues = 2 }, got;
	int sv[2], p[2], fds[2];
	struct ipc_msg m;
	char c = 0;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	fds[0] = p[0];
	fds[1] = p[1];
	assert_int_equal(ipc_send(sv[0], IPC_HELLO, &h, sizeof(h), fds, 2), 0);
	assert_int_equal(ipc_recv(sv[1], &m), 0);
	assert_int_equal(m.nfds, 2);
	assert_int_equal(ipc_get_data(&m, &got, sizeof(got)), 0);
	assert_int_equal(got.generation, 3);
	assert_true(fcntl(m.fds[0], F_GETFD) & FD_CLOEXEC);
	/* the fds work: write through the passed write end, read the pipe */
	assert_int_equal(write(m.fds[1], "x", 1), 1);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	ipc_msg_close(&m);
	close(p[0]);
	close(p[1]);
	/* EOF */
	close(sv[0]);
	assert_int_equal(ipc_recv(sv[1], &m), -EPIPE);
	close(sv[1]);
}

static void test_hostile_records(void **state)
{
	struct ipc_ready rd = { 0 };
	uint8_t big[sizeof(struct ipc_hdr) + IPC_MAX_PAYLOAD + 32] = { 0 };
	int sv[2], fds[IPC_MAX_FDS + 1], i, low;
	struct ipc_msg m;
	struct msghdr mh = { 0 };
	struct iovec iov;
	union {
		char buf[CMSG_SPACE((IPC_MAX_FDS + 1) * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct cmsghdr *cm;

	(void)state;
	pair(sv);
	low = lowest_free_fd();
	/* too many fds: -EBADMSG, and none of them stays open here */
	for (i = 0; i <= IPC_MAX_FDS; i++)
		fds[i] = dup(0);
	memset(&ctl, 0, sizeof(ctl));
	iov.iov_base = big;
	iov.iov_len = sizeof(struct ipc_hdr) + sizeof(rd);
	((struct ipc_hdr *)(void *)big)->type = IPC_READY;
	((struct ipc_hdr *)(void *)big)->len = sizeof(rd);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	assert_true(sendmsg(sv[0], &mh, 0) > 0);
	for (i = 0; i <= IPC_MAX_FDS; i++)
		close(fds[i]);
	assert_int_equal(ipc_recv(sv[1], &m), -EBADMSG);
	assert_int_equal(lowest_free_fd(), low);
	/* an oversized record (truncated on receive) */
	assert_true(send(sv[0], big, sizeof(big), 0) > 0);
	assert_int_equal(ipc_recv(sv[1], &m), -EBADMSG);
	/* a well-framed but unknown type, with an fd: the fd is closed */
	fds[0] = dup(0);
	assert_int_equal(ipc_send(sv[0], 99, &rd, sizeof(rd), fds, 1), 0);
	close(fds[0]);
	assert_int_equal(ipc_recv(sv[1], &m), -EBADMSG);
	assert_int_equal(lowest_free_fd(), low);
	close(sv[0]);
	close(sv[1]);
}

/* A hello with its fds as the engine must get it; m.nfds fds claimed. */
static int hello_ok(uint32_t fds, uint32_t queues, uint32_t zero, unsigned int nfds)
{
	struct ipc_hello h = { .fds = fds, .generation = 9, .queues = queues, .zero = zero }, got;
	struct ipc_msg m = { .type = IPC_HELLO, .len = sizeof(h), .nfds = nfds };

	memcpy(m.data, &h, sizeof(h));
	return ipc_hello_check(&m, &got);
}

static void test_hello_check(void **state)
{
	struct ipc_ready rd = { 0 };
	struct ipc_hello got;
	struct ipc_msg m = { .type = IPC_READY, .len = sizeof(rd), .nfds = 1 };

	(void)state;
	assert_int_equal(hello_ok(IPC_FD_TUN, 1, 0, 1), 0);
	assert_int_equal(hello_ok(IPC_FD_TUN, 4, 0, 4), 0);
	assert_int_equal(hello_ok(IPC_FD_TUN, IPC_MAX_QUEUES, 0, IPC_MAX_QUEUES), 0);
	/* fds other than announced, queue counts out of range, bad bits (the
	 * control socket's listening fd, IPC_FD_CTL (2), is no longer handed
	 * over: the parent keeps it and passes each checked connection) */
	assert_int_equal(hello_ok(IPC_FD_TUN, 2, 0, 1), -EBADMSG);
	assert_int_equal(hello_ok(IPC_FD_TUN, 2, 0, 3), -EBADMSG);
	assert_int_equal(hello_ok(IPC_FD_TUN | 2, 1, 0, 2), -EBADMSG);
	assert_int_equal(hello_ok(IPC_FD_TUN, 0, 0, 0), -EBADMSG);
	assert_int_equal(hello_ok(IPC_FD_TUN, IPC_MAX_QUEUES + 1, 0, IPC_MAX_QUEUES + 1), -EBADMSG);
	assert_int_equal(hello_ok(IPC_FD_TUN, 0xffffffffu, 0, 0), -EBADMSG);
	assert_int_equal(hello_ok(2, 1, 0, 1), -EBADMSG);
	assert_int_equal(hello_ok(IPC_FD_TUN | 4, 1, 0, 1), -EBADMSG);
	assert_int_equal(hello_ok(IPC_FD_TUN, 1, 1, 1), -EBADMSG);
	/* not a hello, or a hello of the old size */
	memcpy(m.data, &rd, sizeof(rd));
	assert_int_equal(ipc_hello_check(&m, &got), -EBADMSG);
	m.type = IPC_HELLO;
	assert_int_equal(ipc_hello_check(&m, &got), -EBADMSG);
}

/* Pings and pongs: of this generation, no fd; their seq comes out. */
static void test_ping_check(void **state)
{
	struct ipc_ping p = { .generation = 4, .seq = 77 };
	struct ipc_msg m = { .type = IPC_PONG, .len = sizeof(p) };
	uint32_t seq = 0;

	(void)state;
	memcpy(m.data, &p, sizeof(p));
	assert_int_equal(ipc_ping_check(&m, IPC_PONG, 4, &seq), 0);
	assert_int_equal(seq, 77);
	assert_int_equal(ipc_ping_check(&m, IPC_PONG, 5, &seq), -EBADMSG); /* older engine */
	assert_int_equal(ipc_ping_check(&m, IPC_PING, 4, &seq), -EBADMSG); /* not this type */
	assert_int_equal(ipc_ping_check(&m, IPC_READY, 4, &seq), -EBADMSG);
	m.nfds = 1;
	assert_int_equal(ipc_ping_check(&m, IPC_PONG, 4, &seq), -EBADMSG); /* an fd with it */
	m.nfds = 0;
	m.len = sizeof(p) - 1;
	assert_int_equal(ipc_ping_check(&m, IPC_PONG, 4, &seq), -EBADMSG);
	m.len = sizeof(p);
	m.type = IPC_PING;
	assert_int_equal(ipc_ping_check(&m, IPC_PING, 4, &seq), 0);
	/* the sizes the decoder knows */
	assert_int_equal(ipc_type_size(IPC_PING), sizeof(struct ipc_ping));
	assert_int_equal(ipc_type_size(IPC_PONG), sizeof(struct ipc_ping));
	assert_int_equal(ipc_type_size(IPC_CTL), sizeof(struct ipc_ctl));
	assert_int_equal(ipc_type_size(IPC_TYPE_MAX), -1);
}

/* A control connection: exactly one fd, a zero reserved field; it travels. */
static void test_ctl_check(void **state)
{
	struct ipc_ctl c = { .uid = 1000 }, got;
	struct ipc_msg m = { .type = IPC_CTL, .len = sizeof(c), .nfds = 1, .fds = { 5 } };
	int sv[2], p[2], low;
	char x = 0;

	(void)state;
	memcpy(m.data, &c, sizeof(c));
	assert_int_equal(ipc_ctl_check(&m, &got), 0);
	assert_int_equal(got.uid, 1000);
	m.nfds = 0;
	assert_int_equal(ipc_ctl_check(&m, &got), -EBADMSG);
	m.nfds = 2;
	assert_int_equal(ipc_ctl_check(&m, &got), -EBADMSG);
	m.nfds = 1;
	m.fds[0] = -1;
	assert_int_equal(ipc_ctl_check(&m, &got), -EBADMSG);
	m.fds[0] = 5;
	c.zero = 1;
	memcpy(m.data, &c, sizeof(c));
	assert_int_equal(ipc_ctl_check(&m, &got), -EBADMSG);
	m.type = IPC_PING;
	assert_int_equal(ipc_ctl_check(&m, &got), -EBADMSG);

	/* over a socketpair: the fd arrives and works, and nothing leaks */
	pair(sv);
	low = lowest_free_fd();
	assert_int_equal(pipe(p), 0);
	c.zero = 0;
	assert_int_equal(ipc_send(sv[0], IPC_CTL, &c, sizeof(c), &p[1], 1), 0);
	close(p[1]);
	assert_int_equal(ipc_recv(sv[1], &m), 0);
	assert_int_equal(ipc_ctl_check(&m, &got), 0);
	assert_int_equal(write(m.fds[0], "y", 1), 1);
	assert_int_equal(read(p[0], &x, 1), 1);
	assert_int_equal(x, 'y');
	ipc_msg_close(&m);
	close(p[0]);
	assert_int_equal(lowest_free_fd(), low);
	close(sv[0]);
	close(sv[1]);
}

/* Every queue of the largest hello arrives, in order. */
static void test_send_recv_max_fds(void **state)
{
	struct ipc_hello h = { .fds = IPC_FD_TUN, .generation = 1, .queues = IPC_MAX_QUEUES }, got;
	int sv[2], fds[IPC_MAX_QUEUES], i, low;
	struct ipc_msg m;

	(void)state;
	pair(sv);
	low = lowest_free_fd();
	for (i = 0; i < IPC_MAX_QUEUES; i++)
		fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(ipc_send(sv[0], IPC_HELLO, &h, sizeof(h), fds, IPC_MAX_QUEUES), 0);
	assert_int_equal(ipc_recv(sv[1], &m), 0);
	assert_int_equal(m.nfds, IPC_MAX_QUEUES);
	assert_int_equal(ipc_hello_check(&m, &got), 0);
	assert_int_equal(got.queues, IPC_MAX_QUEUES);
	for (i = 0; i < IPC_MAX_QUEUES; i++) {
		assert_true(fcntl(m.fds[i], F_GETFD) & FD_CLOEXEC);
		close(fds[i]);
	}
	ipc_msg_close(&m);
	assert_int_equal(lowest_free_fd(), low);
	close(sv[0]);
	close(sv[1]);
}

static void test_backoff(void **state)
{
	struct privsep_backoff b = { 0 };
	uint64_t t = 100000;
	int i;

	(void)state;
	/* deaths far apart: restart at once, forever */
	for (i = 0; i < 20; i++, t += PRIVSEP_LOOP_WINDOW_MS)
		assert_int_equal(privsep_backoff_next(&b, t), 0);
	/* a crash loop: the 5th death within the window starts backing off */
	memset(&b, 0, sizeof(b));
	for (i = 0; i < PRIVSEP_LOOP_CRASHES - 1; i++, t += 100)
		assert_int_equal(privsep_backoff_next(&b, t), 0);
	assert_int_equal(privsep_backoff_next(&b, t), PRIVSEP_BACKOFF_MIN_MS);
	t += PRIVSEP_BACKOFF_MIN_MS;
	assert_int_equal(privsep_backoff_next(&b, t), 2 * PRIVSEP_BACKOFF_MIN_MS);
	t += 2 * PRIVSEP_BACKOFF_MIN_MS;
	assert_int_equal(privsep_backoff_next(&b, t), 4 * PRIVSEP_BACKOFF_MIN_MS);
	for (i = 0; i < 10; i++)
		assert_true(privsep_backoff_next(&b, t += 10) <= PRIVSEP_BACKOFF_MAX_MS);
	assert_int_equal(privsep_backoff_next(&b, t += 10), PRIVSEP_BACKOFF_MAX_MS);
	/* calm again: a death after a quiet window restarts at once */
	assert_int_equal(privsep_backoff_next(&b, t + PRIVSEP_LOOP_WINDOW_MS * 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),   cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_send_recv_fds), cmocka_unit_test(test_hostile_records),
		cmocka_unit_test(test_hello_check),   cmocka_unit_test(test_ping_check),
		cmocka_unit_test(test_ctl_check),     cmocka_unit_test(test_send_recv_max_fds),
		cmocka_unit_test(test_backoff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
