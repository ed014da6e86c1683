// SPDX-License-Identifier: GPL-2.0-only
/*
 * sockdiag.c: the dump request's bytes; replies parsed field by field
 * (IPv4 and IPv6, the cgroup attribute after a pad attribute, no
 * attribute); every prefix of a dump (0 at a message boundary, else
 * -EBADMSG, never a socket past the cut); the kernel's error; each kind of
 * malformed reply; a callback that stops the parse. Then a real dump of
 * this process's own listening socket through NETLINK_SOCK_DIAG.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sockdiag.h"

#define SEQ 0x70767070u

struct msgbuf {
	uint8_t b[4096];
	size_t n;
};

static void put(struct msgbuf *m, const void *p, size_t n)
{
	assert_true(m->n + n <= sizeof(m->b));
	if (n)
		memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void pad4(struct msgbuf *m)
{
	static const uint8_t z[4];

	put(m, z, NLMSG_ALIGN(m->n) - m->n);
}

static size_t hdr(struct msgbuf *m, uint16_t type, uint32_t seq)
{
	struct nlmsghdr h = { .nlmsg_type = type, .nlmsg_flags = NLM_F_MULTI, .nlmsg_seq = seq };
	size_t at = m->n;

	put(m, &h, sizeof(h));
	return at;
}

static void end(struct msgbuf *m, size_t at)
{
	uint32_t len = (uint32_t)(m->n - at);

	memcpy(m->b + at, &len, 4);
	pad4(m);
}

static void attr(struct msgbuf *m, uint16_t type, const void *p, uint16_t n)
{
	uint16_t a[2] = { (uint16_t)(4 + n), type };

	put(m, a, 4);
	put(m, p, n);
	pad4(m);
}

/* One socket message; cgroup 0 = no attribute. */
static void sock(struct msgbuf *m, int family, uint8_t state, const char *src, uint16_t sport,
		 const char *dst, uint16_t dport, uint32_t uid, uint32_t inode, uint64_t cgroup)
{
	struct inet_diag_msg d = { .idiag_family = (uint8_t)family, .idiag_state = state };
	size_t at = hdr(m, SOCK_DIAG_BY_FAMILY, SEQ);

	assert_int_equal(inet_pton(family, src, d.id.idiag_src), 1);
	assert_int_equal(inet_pton(family, dst, d.id.idiag_dst), 1);
	d.id.idiag_sport = htons(sport);
	d.id.idiag_dport = htons(dport);
	d.idiag_uid = uid;
	d.idiag_inode = inode;
	put(m, &d, sizeof(d));
	if (cgroup) {
		attr(m, INET_DIAG_PAD, NULL, 0);
		attr(m, INET_DIAG_CGROUP_ID, &cgroup, sizeof(cgroup));
	}
	end(m, at);
}

static void done(struct msgbuf *m)
{
	int zero = 0;
	size_t at = hdr(m, NLMSG_DONE, SEQ);

	put(m, &zero, sizeof(zero));
	end(m, at);
}

struct got {
	struct sockdiag_sock s[8];
	unsigned int n, stop_at;
};

static int collect(const struct sockdiag_sock *s, void *arg)
{
	struct got *g = arg;

	if (g->stop_at && g->n + 1 == g->stop_at)
		return -ECANCELED;
	if (g->n < 8)
		g->s[g->n] = *s;
	g->n++;
	return 0;
}

static int parse(const struct msgbuf *m, size_t len, struct got *g)
{
	unsigned int stop = g->stop_at;

	memset(g, 0, sizeof(*g));
	g->stop_at = stop;
	return sockdiag_parse(m->b, len, SEQ, collect, g);
}

static void test_request(void **state)
{
	uint8_t buf[SOCKDIAG_REQ_LEN + 8];
	struct inet_diag_req_v2 r;
	struct nlmsghdr h;

	(void)state;
	assert_int_equal(sockdiag_request(buf, sizeof(buf), AF_INET6, 1u << TCP_LISTEN, 7),
			 SOCKDIAG_REQ_LEN);
	memcpy(&h, buf, sizeof(h));
	memcpy(&r, buf + NLMSG_HDRLEN, sizeof(r));
	assert_int_equal(h.nlmsg_len, SOCKDIAG_REQ_LEN);
	assert_int_equal(h.nlmsg_type, SOCK_DIAG_BY_FAMILY);
	assert_int_equal(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
	assert_int_equal(h.nlmsg_seq, 7);
	assert_int_equal(r.sdiag_family, AF_INET6);
	assert_int_equal(r.sdiag_protocol, IPPROTO_TCP);
	assert_int_equal(r.idiag_states, 1u << TCP_LISTEN);
	assert_int_equal(r.idiag_ext, 0);
	assert_int_equal(sockdiag_request(buf, SOCKDIAG_REQ_LEN - 1, AF_INET, 1, 1), -ENOSPC);
	assert_int_equal(sockdiag_request(NULL, 0, AF_INET, 1, 1), -ENOSPC);
	assert_int_equal(sockdiag_request(buf, sizeof(buf), AF_UNIX, 1, 1), -EINVAL);
	assert_int_equal(sockdiag_request(buf, sizeof(buf), AF_INET, 0, 1), -EINVAL);
}

static void test_parse(void **state)
{
	static const uint8_t zero12[12];
	struct msgbuf m = { .n = 0 };
	uint8_t a[16];
	struct got g = { .n = 0 };
	size_t b1, b2;

	(void)state;
	sock(&m, AF_INET, TCP_LISTEN, "127.0.0.1", 1080, "0.0.0.0", 0, 105, 31337, 4242);
	b1 = m.n;
	sock(&m, AF_INET6, TCP_ESTABLISHED, "2001:db8::2", 40000, "2001:db8::1", 22, 0, 7, 0);
	b2 = m.n;
	done(&m);
	assert_int_equal(parse(&m, m.n, &g), 1);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.s[0].family, AF_INET);
	assert_int_equal(g.s[0].state, TCP_LISTEN);
	inet_pton(AF_INET, "127.0.0.1", a);
	assert_memory_equal(g.s[0].src, a, 4);
	assert_memory_equal(g.s[0].src + 4, zero12, 12);
	assert_int_equal(g.s[0].sport, 1080);
	assert_int_equal(g.s[0].dport, 0);
	assert_int_equal(g.s[0].uid, 105);
	assert_int_equal(g.s[0].inode, 31337);
	assert_true(g.s[0].cgroup == 4242);
	assert_int_equal(g.s[1].family, AF_INET6);
	inet_pton(AF_INET6, "2001:db8::1", a);
	assert_memory_equal(g.s[1].dst, a, 16);
	assert_int_equal(g.s[1].sport, 40000);
	assert_int_equal(g.s[1].dport, 22);
	assert_true(g.s[1].cgroup == 0);

	/*
	 * Every prefix: at a message boundary the sockets so far and 0 (the
	 * dump goes on), elsewhere -EBADMSG; never a socket past the cut.
	 */
	for (size_t i = 0; i < m.n; i++) {
		int r = parse(&m, i, &g);

		if (i == 0 || i == b1 || i == b2) {
			assert_int_equal(r, 0);
			assert_int_equal(g.n, i == 0 ? 0 : i == b1 ? 1 : 2);
		} else {
			assert_int_equal(r, -EBADMSG);
			assert_true(i >= b2 ? g.n <= 2 : i >= b1 ? g.n <= 1 : g.n == 0);
		}
	}

	/* A callback's error stops the parse. */
	g.stop_at = 2;
	assert_int_equal(parse(&m, m.n, &g), -ECANCELED);
	assert_int_equal(g.n, 1);
}

/* Copies m, lets fix() break it, and expects -EBADMSG. */
static void bad(const struct msgbuf *m, void (*fix)(struct msgbuf *c))
{
	struct msgbuf c = *m;
	struct got g = { .n = 0 };

	fix(&c);
	assert_int_equal(parse(&c, c.n, &g), -EBADMSG);
}

static void bad_seq(struct msgbuf *c)
{
	uint32_t s = SEQ + 1;

	memcpy(c->b + 8, &s, 4);
}

static void bad_type(struct msgbuf *c)
{
	uint16_t t = 16; /* RTM_NEWLINK: not a sock_diag reply */

	memcpy(c->b + 4, &t, 2);
}

static void bad_family(struct msgbuf *c)
{
	c->b[NLMSG_HDRLEN] = AF_UNIX;
}

static void bad_len_short(struct msgbuf *c)
{
	uint32_t l = NLMSG_HDRLEN - 1;

	memcpy(c->b, &l, 4);
}

static void bad_len_long(struct msgbuf *c)
{
	uint32_t l = (uint32_t)c->n + 4;

	memcpy(c->b, &l, 4);
}

static void bad_msg_short(struct msgbuf *c)
{
	/* the message holds less than an inet_diag_msg */
	uint32_t l = NLMSG_HDRLEN + sizeof(struct inet_diag_msg) - 4;

	memcpy(c->b, &l, 4);
}

/* The cgroup attribute is the last 12 bytes of the first message. */
static size_t cgroup_attr(const struct msgbuf *c)
{
	uint32_t l;

	memcpy(&l, c->b, 4);
	return l - 12;
}

static void bad_attr_len(struct msgbuf *c)
{
	uint16_t l = 3;

	memcpy(c->b + cgroup_attr(c), &l, 2);
}

static void bad_attr_past(struct msgbuf *c)
{
	uint16_t l = 16;

	memcpy(c->b + cgroup_attr(c), &l, 2);
}

static void bad_cgroup_size(struct msgbuf *c)
{
	/* a 4-byte cgroup id, then 4 bytes that look like a zero-length attribute */
	uint16_t l = 8;

	memcpy(c->b + cgroup_attr(c), &l, 2);
}

static void test_malformed(void **state)
{
	struct msgbuf m = { .n = 0 }, e = { .n = 0 };
	struct got g = { .n = 0 };
	size_t at;
	int err;

	(void)state;
	sock(&m, AF_INET, TCP_LISTEN, "127.0.0.1", 1080, "0.0.0.0", 0, 105, 31337, 4242);
	done(&m);
	assert_int_equal(parse(&m, m.n, &g), 1);
	bad(&m, bad_seq);
	bad(&m, bad_type);
	bad(&m, bad_family);
	bad(&m, bad_len_short);
	bad(&m, bad_len_long);
	bad(&m, bad_msg_short);
	bad(&m, bad_attr_len);
	bad(&m, bad_attr_past);
	bad(&m, bad_cgroup_size);

	/* The kernel's error is returned as is; an ACK or nonsense code is malformed. */
	err = -EPERM;
	at = hdr(&e, NLMSG_ERROR, SEQ);
	put(&e, &err, sizeof(err));
	put(&e, &(struct nlmsghdr){ 0 }, sizeof(struct nlmsghdr));
	end(&e, at);
	assert_int_equal(parse(&e, e.n, &g), -EPERM);
	err = 0;
	memcpy(e.b + NLMSG_HDRLEN, &err, sizeof(err));
	assert_int_equal(parse(&e, e.n, &g), -EBADMSG);
	err = 5;
	memcpy(e.b + NLMSG_HDRLEN, &err, sizeof(err));
	assert_int_equal(parse(&e, e.n, &g), -EBADMSG);
	assert_int_equal(parse(&e, NLMSG_HDRLEN + 2, &g), -EBADMSG);
	assert_int_equal(sockdiag_parse(NULL, 1, SEQ, collect, &g), -EBADMSG);
}

/* A real dump finds this process's own listener, with its inode and uid. */
static int find_port(const struct sockdiag_sock *s, void *arg)
{
	struct sockdiag_sock *want = arg;

	if (s->family == AF_INET && s->state == TCP_LISTEN && s->sport == want->sport) {
		want->uid = s->uid;
		want->inode = s->inode;
		want->state = 1;
	}
	return 0;
}

static void test_live(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockdiag_sock want = { .state = 0 };
	socklen_t alen = sizeof(a);
	uint8_t req[SOCKDIAG_REQ_LEN], buf[32768];
	struct stat st;
	int l, nl, r = 0;
	ssize_t n;

	(void)state;
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(fstat(l, &st), 0);
	want.sport = ntohs(a.sin_port);
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0) {
		close(l);
		skip();
	}
	assert_int_equal(sockdiag_request(req, sizeof(req), AF_INET, 1u << TCP_LISTEN, SEQ),
			 SOCKDIAG_REQ_LEN);
	assert_int_equal(send(nl, req, sizeof(req), 0), (ssize_t)sizeof(req));
	for (int i = 0; i < 1000 && r == 0; i++) {
		n = recv(nl, buf, sizeof(buf), 0);
		assert_true(n > 0);
		r = sockdiag_parse(buf, (size_t)n, SEQ, find_port, &want);
	}
	assert_int_equal(r, 1);
	assert_int_equal(want.state, 1);
	assert_int_equal(want.inode, st.st_ino);
	assert_int_equal(want.uid, geteuid());
	close(nl);
	close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
