// SPDX-License-Identifier: GPL-2.0-only
/*
 * UDP relay (udp.c) against a SOCKS5 proxy played by the test on loopback:
 * association limit, setup queue bound, handshake and idle timeouts (the
 * loop clock is moved by hand), the whole path app -> relay -> app with
 * checksums, fragments and foreign senders dropped, and the end of an
 * association when the proxy closes its control connection.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "dnspool.h"
#include "ip.h"
#include "loop.h"
#include "udp.h"

struct env {
	struct loop loop;
	struct proxy_url url;
	struct upstream_cfg up;
	int lfd;   /* the "proxy": TCP listener */
	int relay; /* its UDP relay socket */
	uint16_t relay_port;
	struct udp_cfg cfg;
	uint8_t out[2048]; /* last packet written toward the app */
	size_t out_len;
	int outs;
};

static void output(void *ctx, const struct iovec *iov, int iovcnt)
{
	struct env *e = ctx;
	int i;

	e->out_len = 0;
	for (i = 0; i < iovcnt; i++) {
		assert_true(e->out_len + iov[i].iov_len <= sizeof(e->out));
		memcpy(e->out + e->out_len, iov[i].iov_base, iov[i].iov_len);
		e->out_len += iov[i].iov_len;
	}
	e->outs++;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	return ntohs(sa.sin_port);
}

static int setup(void **state)
{
	static struct env e;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr_in *pa;

	memset(&e, 0, sizeof(e));
	assert_int_equal(loop_init(&e.loop), 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	e.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(e.lfd >= 0);
	assert_int_equal(bind(e.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(e.lfd, 16), 0);
	e.relay = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(e.relay, (struct sockaddr *)&sa, sizeof(sa)), 0);
	e.relay_port = bound_port(e.relay);
	e.url.type = PROXY_SOCKS5;
	strcpy(e.url.host, "127.0.0.1");
	e.url.port = bound_port(e.lfd);
	e.up.proxy = &e.url;
	pa = (struct sockaddr_in *)&e.up.addr;
	pa->sin_family = AF_INET;
	pa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	pa->sin_port = htons(e.url.port);
	e.up.addrlen = sizeof(*pa);
	e.cfg.upstream = &e.up;
	e.cfg.mtu = 1500;
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	close(e->lfd);
	close(e->relay);
	loop_fini(&e->loop);
	return 0;
}

/* One pass of loop_run's body: dispatch what is ready within ms. */
static void pump(struct env *e, int ms)
{
	struct epoll_event ev[16];
	int n, i;

	n = epoll_wait(e->loop.epfd, ev, 16, ms);
	for (i = 0; i < n; i++) {
		struct loop_io *io = ev[i].data.ptr;

		if (io->fd >= 0)
			io->cb(io, ev[i].events);
	}
}

/*
 * Feeds udp_relay_input one IPv4 UDP packet 10.0.0.2:sport -> dst:7, as the
 * engine does. Returns 1 taken, 0 refused (the engine answers ICMP).
 */
static int app_send_to(struct udp_relay *r, uint16_t sport, const uint8_t *dst, const char *payload)
{
	static const uint8_t src[4] = { 10, 0, 0, 2 };
	uint8_t pkt[1600], *u;
	size_t len = strlen(payload), hl;
	struct ip_view v;
	struct udp_view uv;
	uint16_t c;

	hl = ip_build_hdr(pkt, AF_INET, src, dst, IPPROTO_UDP, 8 + len);
	u = pkt + hl;
	store_be16(u, sport);
	store_be16(u + 2, 7);
	store_be16(u + 4, (uint16_t)(8 + len));
	store_be16(u + 6, 0);
	memcpy(u + 8, payload, len);
	c = csum_fold(csum_add(csum_pseudo(AF_INET, src, dst, IPPROTO_UDP, (uint32_t)(8 + len)), u,
			       8 + len));
	memcpy(u + 6, &c, 2);
	assert_int_equal(ip_parse(pkt, hl + 8 + len, &v), 0);
	assert_int_equal(udp_parse(&v, &uv), 0);
	return udp_relay_input(r, &v, &uv) ? 1 : 0;
}

static int app_send(struct udp_relay *r, uint16_t sport, const char *payload)
{
	static const uint8_t dst[4] = { 198, 51, 100, 20 };

	return app_send_to(r, sport, dst, payload);
}

static int accept_ctl(struct env *e)
{
	struct pollfd p = { .fd = e->lfd, .events = POLLIN };
	int fd;

	assert_int_equal(poll(&p, 1, 2000), 1);
	fd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Reads exactly n bytes from fd, pumping the loop so the relay can write. */
static void expect_bytes(struct env *e, int fd, const void *want, size_t n)
{
	uint8_t got[64];
	size_t have = 0;
	int tries;

	for (tries = 0; have < n && tries < 100; tries++) {
		ssize_t k;

		pump(e, 10);
		k = recv(fd, got + have, n - have, MSG_DONTWAIT);
		if (k > 0)
			have += (size_t)k;
	}
	assert_int_equal(have, n);
	assert_memory_equal(got, want, n);
}

/* Plays the proxy's side of greeting + UDP ASSOCIATE, naming BND bnd4:relay. */
static int handshake_bnd(struct env *e, const uint8_t bnd4[4])
{
	uint8_t reply[10] = { 5, 0, 0, 1, 0, 0, 0, 0 };
	int fd = accept_ctl(e);

	memcpy(reply + 4, bnd4, 4);
	expect_bytes(e, fd, "\x05\x01\x00", 3);
	assert_int_equal(send(fd, "\x05\x00", 2, 0), 2);
	/* UDP ASSOCIATE, DST 0.0.0.0:0 */
	expect_bytes(e, fd, "\x05\x03\x00\x01\0\0\0\0\0\0", 10);
	store_be16(reply + 8, e->relay_port);
	assert_int_equal(send(fd, reply, sizeof(reply), 0), (ssize_t)sizeof(reply));
	pump(e, 100);
	return fd;
}

/* The same naming BND 0.0.0.0: the proxy's own address. */
static int handshake(struct env *e)
{
	static const uint8_t any[4];

	return handshake_bnd(e, any);
}

/* The next datagram at the relay: SOCKS5 header hdr + payload; *from = its source. */
static void relay_expect_hdr(struct env *e, const void *hdr, size_t hl, const char *payload,
			     struct sockaddr_in *from)
{
	uint8_t buf[2048];
	socklen_t sl = sizeof(*from);
	struct pollfd p = { .fd = e->relay, .events = POLLIN };
	ssize_t n;

	assert_int_equal(poll(&p, 1, 2000), 1);
	n = recvfrom(e->relay, buf, sizeof(buf), 0, (struct sockaddr *)from, &sl);
	assert_int_equal(n, (ssize_t)(hl + strlen(payload)));
	assert_memory_equal(buf, hdr, hl);
	assert_memory_equal(buf + hl, payload, strlen(payload));
}

/* The same for 198.51.100.20:7. */
static void relay_expect(struct env *e, const char *payload, struct sockaddr_in *from)
{
	relay_expect_hdr(e, "\x00\x00\x00\x01\xc6\x33\x64\x14\x00\x07", 10, payload, from);
}

/* The relay sends hdr + payload; returns the packet written toward the app, parsed. */
static void relay_reply(struct env *e, const struct sockaddr_in *to, const void *hdr, size_t hl,
			const char *payload, struct ip_view *v)
{
	uint8_t dg[512];
	int outs = e->outs;

	memcpy(dg, hdr, hl);
	memcpy(dg + hl, payload, strlen(payload));
	assert_int_equal(sendto(e->relay, dg, hl + strlen(payload), 0, (const struct sockaddr *)to,
				sizeof(*to)),
			 (ssize_t)(hl + strlen(payload)));
	pump(e, 500);
	assert_int_equal(e->outs, outs + 1);
	assert_int_equal(ip_parse(e->out, e->out_len, v), 0);
	assert_int_equal(v->l4_len, 8 + strlen(payload));
	assert_memory_equal(v->l4 + 8, payload, strlen(payload));
}

static void test_limits_and_setup_timeout(void **state)
{
	struct env *e = *state;
	struct udp_relay *r;
	const struct udp_stats *s;
	int i, c1, c2;

	e->cfg.max_assoc = 2;
	e->up.hs_timeout_ms = 5000;
	r = udp_relay_new(&e->loop, &e->cfg, output, e);
	assert_non_null(r);
	s = udp_relay_stats(r);

	assert_int_equal(app_send(r, 1000, "a"), 1);
	assert_int_equal(app_send(r, 1001, "b"), 1);
	/* A third app socket: past the limit, refused (the engine answers ICMP). */
	assert_int_equal(app_send(r, 1002, "c"), 0);
	assert_int_equal(udp_relay_count(r), 2);
	assert_int_equal(s->assoc_total, 2);
	assert_int_equal(s->limit_dropped, 1);

	/* 1 held already; the queue takes UDP_QUEUE_MAX in all (UDP may drop: taken). */
	for (i = 0; i < UDP_QUEUE_MAX + 4; i++)
		assert_int_equal(app_send(r, 1000, "q"), 1);
	assert_int_equal(s->queue_dropped, 5);
	{
		static const uint8_t mcast[4] = { 239, 1, 2, 3 };

		assert_int_equal(app_send_to(r, 1000, mcast, "m"), 0);
		assert_int_equal(s->bad_in, 1);
	}

	/* The proxy accepts TCP but never answers: the setup times out. */
	c1 = accept_ctl(e);
	c2 = accept_ctl(e);
	pump(e, 50);
	e->loop.now += 4999;
	loop_run_timers(&e->loop);
	assert_int_equal(udp_relay_count(r), 2);
	e->loop.now += 1;
	loop_run_timers(&e->loop);
	assert_int_equal(s->assoc_failed, 2);
	assert_int_equal(s->queue_dropped, 5 + UDP_QUEUE_MAX + 1);
	/* Failed: held (no sockets) for UDP_RETRY_MS, dropping, no new handshake. */
	assert_int_equal(udp_relay_count(r), 2);
	assert_int_equal(app_send(r, 1000, "again"), 0);
	assert_int_equal(app_send(r, 1002, "c"), 0);
	assert_int_equal(s->failed_dropped, 1);
	assert_int_equal(s->limit_dropped, 2);
	assert_int_equal(s->assoc_total, 2);
	e->loop.now += UDP_RETRY_MS;
	loop_run_timers(&e->loop);
	assert_int_equal(udp_relay_count(r), 0);
	udp_reap(r);

	/* Room again. */
	assert_int_equal(app_send(r, 1002, "c"), 1);
	assert_int_equal(udp_relay_count(r), 1);
	assert_int_equal(e->outs, 0);
	udp_relay_free(r);
	close(c1);
	close(c2);
	close(accept_ctl(e));
}

static void test_relay_and_idle(void **state)
{
	struct env *e = *state;
	struct udp_relay *r;
	const struct udp_stats *s;
	struct sockaddr_in from;
	struct ip_view v;
	uint8_t dg[64];
	int ctl, other;

	e->cfg.max_assoc = 4;
	e->cfg.timeout_ms = 1000;
	r = udp_relay_new(&e->loop, &e->cfg, output, e);
	assert_non_null(r);
	s = udp_relay_stats(r);

	app_send(r, 2000, "ping"); /* queued during the handshake */
	ctl = handshake(e);
	relay_expect(e, "ping", &from);
	assert_int_equal(s->dgrams_out, 1);
	app_send(r, 2000, "again"); /* straight out now */
	relay_expect(e, "again", &from);

	/* Relay -> app: from 198.51.100.20:7 to 10.0.0.2:2000. */
	memcpy(dg, "\x00\x00\x00\x01\xc6\x33\x64\x14\x00\x07pong", 14);
	assert_int_equal(sendto(e->relay, dg, 14, 0, (struct sockaddr *)&from, sizeof(from)), 14);
	pump(e, 500);
	assert_int_equal(e->outs, 1);
	assert_int_equal(ip_parse(e->out, e->out_len, &v), 0);
	assert_int_equal(v.proto, IPPROTO_UDP);
	assert_memory_equal(v.src, "\xc6\x33\x64\x14", 4);
	assert_memory_equal(v.dst, "\x0a\x00\x00\x02", 4);
	assert_int_equal(v.l4_len, 12);
	assert_int_equal(load_be16(v.l4), 7);
	assert_int_equal(load_be16(v.l4 + 2), 2000);
	assert_memory_equal(v.l4 + 8, "pong", 4);
	assert_int_equal(
		csum_fold(csum_add(csum_pseudo(AF_INET, v.src, v.dst, IPPROTO_UDP, 12), v.l4, 12)),
		0);

	/* A fragment, a bad header and an IPv6 source are dropped and counted. */
	dg[2] = 1;
	sendto(e->relay, dg, 14, 0, (struct sockaddr *)&from, sizeof(from));
	dg[2] = 0;
	dg[3] = 9;
	sendto(e->relay, dg, 14, 0, (struct sockaddr *)&from, sizeof(from));
	memcpy(dg, "\x00\x00\x00\x04\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x07v6", 24);
	sendto(e->relay, dg, 24, 0, (struct sockaddr *)&from, sizeof(from));
	/* A datagram from anyone but the relay never reaches us (connected socket). */
	other = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memcpy(dg, "\x00\x00\x00\x01\xc6\x33\x64\x14\x00\x07evil", 14);
	sendto(other, dg, 14, 0, (struct sockaddr *)&from, sizeof(from));
	close(other);
	pump(e, 200);
	pump(e, 50);
	assert_int_equal(s->frag_dropped, 1);
	assert_int_equal(s->bad_relay, 1);
	assert_int_equal(s->foreign_dropped, 1);
	assert_int_equal(e->outs, 1);
	assert_int_equal(s->dgrams_in, 1);

	/* Idle: the timer re-arms while traffic moved, then closes. */
	e->loop.now += 600;
	app_send(r, 2000, "keep"); /* last = now */
	relay_expect(e, "keep", &from);
	e->loop.now += 400;
	loop_run_timers(&e->loop);
	assert_int_equal(udp_relay_count(r), 1);
	e->loop.now += 600;
	loop_run_timers(&e->loop);
	assert_int_equal(udp_relay_count(r), 0);
	assert_int_equal(s->assoc_idle, 1);
	udp_reap(r);
	close(ctl);

	/* The proxy closing the control connection ends the association. */
	app_send(r, 2001, "x");
	ctl = handshake(e);
	relay_expect(e, "x", &from);
	assert_int_equal(udp_relay_count(r), 1);
	close(ctl);
	pump(e, 500);
	assert_int_equal(udp_relay_count(r), 0);
	assert_int_equal(s->assoc_closed, 1);
	udp_relay_free(r);
}

/* relay_at_proxy (host mode): BND 127.0.0.2 named, datagrams still go to the proxy's 127.0.0.1. */
static void test_relay_at_proxy(void **state)
{
	static const uint8_t other[4] = { 127, 0, 0, 2 };
	struct env *e = *state;
	struct udp_relay *r;
	struct sockaddr_in from;
	int ctl;

	e->cfg.relay_at_proxy = true;
	r = udp_relay_new(&e->loop, &e->cfg, output, e);
	assert_non_null(r);
	app_send(r, 3000, "here");
	ctl = handshake_bnd(e, other);
	relay_expect(e, "here", &from);
	assert_int_equal(udp_relay_stats(r)->dgrams_out, 1);
	udp_relay_free(r);
	close(ctl);
}

/* Virtual DNS: a fake destination goes out by name; replies come from the fake address. */
static void test_fake_names(void **state)
{
	static const uint8_t real[4] = { 203, 0, 113, 9 };
	struct env *e = *state;
	struct dnspool_cfg pc;
	struct dnspool *pool;
	struct udp_relay *r;
	const struct udp_stats *s;
	struct sockaddr_in from;
	struct ip_view v;
	uint8_t fake[4], fake6[16], unmapped[4];
	int ctl;

	dnspool_cfg_default(&pc);
	pool = dnspool_new(&pc);
	assert_non_null(pool);
	assert_int_equal(dnspool_map(pool, "example.org", e->loop.now, fake, fake6, NULL), 0);
	e->cfg.pool = pool;
	r = udp_relay_new(&e->loop, &e->cfg, output, e);
	assert_non_null(r);
	s = udp_relay_stats(r);

	app_send_to(r, 3000, fake, "q1");
	ctl = handshake(e);
	relay_expect_hdr(e,
			 "\x00\x00\x00\x03\x0b"
			 "example.org"
			 "\x00\x07",
			 18, "q1", &from);
	/* The relay names the address the proxy resolved: the app sees the fake one. */
	relay_reply(e, &from, "\x00\x00\x00\x01\xcb\x00\x71\x09\x00\x07", 10, "a1", &v);
	assert_memory_equal(v.src, fake, 4);
	assert_int_equal(load_be16(v.l4), 7);
	/* Or the name itself. */
	relay_reply(e, &from,
		    "\x00\x00\x00\x03\x0b"
		    "EXAMPLE.org"
		    "\x00\x07",
		    18, "a2", &v);
	assert_memory_equal(v.src, fake, 4);
	/* A real destination of the same socket keeps its own address. */
	app_send_to(r, 3000, real, "q2");
	relay_expect_hdr(e, "\x00\x00\x00\x01\xcb\x00\x71\x09\x00\x07", 10, "q2", &from);
	relay_reply(e, &from, "\x00\x00\x00\x01\xcb\x00\x71\x09\x00\x07", 10, "a3", &v);
	assert_memory_equal(v.src, real, 4);
	/* A name the socket never sent to, on another port: dropped. */
	sendto(e->relay, "\x00\x00\x00\x03\x01x\x00\x09", 8, 0, (struct sockaddr *)&from,
	       sizeof(from));
	pump(e, 200);
	assert_int_equal(s->foreign_dropped, 1);

	/* An address of the pool that maps to nothing is never sent anywhere. */
	memcpy(unmapped, fake, 4);
	unmapped[3] ^= 0x40;
	assert_int_equal(app_send_to(r, 3000, unmapped, "q3"), 0);
	assert_int_equal(s->stale_fake, 1);
	assert_int_equal(s->dgrams_out, 2);

	udp_relay_free(r);
	close(ctl);
	dnspool_free(pool);
	e->cfg.pool = NULL;
}

static void test_not_socks5(void **state)
{
	struct env *e = *state;
	struct udp_cfg c = e->cfg;
	struct upstream_cfg up = e->up;
	struct proxy_url u = e->url;

	u.type = PROXY_HTTP;
	up.proxy = &u;
	c.upstream = &up;
	errno = 0;
	assert_null(udp_relay_new(&e->loop, &c, output, e));
	assert_int_equal(errno, EINVAL);
	udp_relay_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_limits_and_setup_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_and_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_at_proxy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_socks5, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
