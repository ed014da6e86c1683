// SPDX-License-Identifier: GPL-2.0-only
/*
 * The proxy connection (upstream.c) against a proxy the test plays on
 * loopback (helpers/fake-proxy.h): SOCKS5 and HTTP tunnels opened with the
 * bytes that came after the reply handed over byte-exact; the early-data
 * rule (a proxy answering ahead still gets our CONNECT before the tunnel
 * opens); every way to fail described (stage, step, errno, the proxy's
 * code, its address, the destination): refused connect, method, auth, REP,
 * HTTP status, garbage, a proxy closing mid-handshake, the timeout on a
 * hand-moved clock; a UDP ASSOCIATE's relay address; closing from inside
 * a callback.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake-proxy.h"
#include "loop.h"
#include "upstream.h"

#define LIT(s) (s), sizeof(s) - 1

struct fix {
	struct loop loop;
	struct fake_proxy fp;
	struct upstream *u;
	struct proxy_dest dst;
	int opens, fails, ios;
	uint8_t data[256]; /* on_open's bytes */
	size_t len;
	struct upstream_fail why;
	struct proxy_dest bnd; /* UDP ASSOCIATE, read in on_open */
	int bnd_ret;
	bool close_in_cb;
	int peer;	     /* the proxy's end, or -1 */
	ssize_t peer_queued; /* at on_open: bytes waiting at the proxy's end */
};

static void on_open(void *ctx, const uint8_t *data, size_t len)
{
	struct fix *f = ctx;

	f->opens++;
	if (f->peer >= 0) {
		uint8_t peek[64];

		f->peer_queued = recv(f->peer, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
	}
	assert_true(len <= sizeof(f->data));
	memcpy(f->data, data, len);
	f->len = len;
	f->bnd_ret = upstream_udp_relay(f->u, &f->bnd);
	if (f->close_in_cb)
		upstream_close(f->u, true);
}

static void on_fail(void *ctx, const struct upstream_fail *why)
{
	struct fix *f = ctx;

	f->fails++;
	f->why = *why;
	if (f->close_in_cb)
		upstream_close(f->u, false); /* closed already: must be harmless */
}

static void on_io(void *ctx, uint32_t events)
{
	struct fix *f = ctx;

	(void)events;
	f->ios++;
}

static const struct upstream_ops ops = { .on_open = on_open, .on_fail = on_fail, .on_io = on_io };

static int setup_type(void **state, enum proxy_type t)
{
	static struct fix f;

	memset(&f, 0, sizeof(f));
	assert_int_equal(loop_init(&f.loop), 0);
	assert_int_equal(fake_proxy_start(&f.fp, t), 0);
	f.dst.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", f.dst.addr);
	f.dst.port = 443;
	f.peer = -1;
	*state = &f;
	return 0;
}

static int setup_socks5(void **state)
{
	return setup_type(state, PROXY_SOCKS5);
}

static int setup_http(void **state)
{
	return setup_type(state, PROXY_HTTP);
}

static int teardown(void **state)
{
	struct fix *f = *state;

	upstream_free(f->u);
	fake_proxy_stop(&f->fp);
	loop_fini(&f->loop);
	return 0;
}

static int start(struct fix *f)
{
	f->u = upstream_new(&f->loop, &f->fp.up, &f->dst, &ops, f, NULL);
	assert_non_null(f->u);
	return fake_proxy_accept(&f->fp, &f->loop, 2000);
}

/* Pumps until a callback came (or ~1 s). */
static void settle(struct fix *f)
{
	int i;

	for (i = 0; i < 200 && !f->opens && !f->fails; i++)
		loop_pump(&f->loop, 5);
}

#define GREET  "\x05\x01\x00"
#define CONN4  "\x05\x01\x00\x01\xc0\x00\x02\x07\x01\xbb"
#define M_NONE "\x05\x00"
#define REP4   "\x05\x00\x00\x01\x0a\x00\x00\x01\x30\x39"

static void check_fail(const struct fix *f, enum upstream_stage stage, enum upstream_stage during,
		       int err, int code)
{
	const struct sockaddr_in *pa = (const struct sockaddr_in *)f->why.proxy;

	assert_int_equal(f->opens, 0);
	assert_int_equal(f->fails, 1);
	assert_int_equal(f->why.stage, stage);
	assert_int_equal(f->why.during, during);
	assert_int_equal(f->why.err, err);
	assert_int_equal(f->why.code, code);
	assert_int_equal(f->why.type, f->fp.url.type);
	/* "proxy 127.0.0.1:PORT": the address it failed at */
	assert_int_equal(f->why.proxy_len, sizeof(*pa));
	assert_int_equal(ntohs(pa->sin_port), f->fp.port);
	assert_int_equal(ntohl(pa->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(f->why.dest.port, f->dst.port);
}

/* SOCKS5 answering ahead: method, reply and tunnel bytes in one write. */
static void test_socks5_early(void **state)
{
	struct fix *f = *state;
	char buf[16];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	int fd = start(f);

	assert_true(fd >= 0);
	assert_true(fake_expect(&f->loop, fd, LIT(GREET), 2000));
	f->peer = fd;
	assert_true(fake_send(fd, LIT(M_NONE REP4 "early")));
	settle(f);
	assert_int_equal(f->opens, 1);
	/* The CONNECT still went out, and before the tunnel counted as open. */
	assert_int_equal(f->peer_queued, sizeof(CONN4) - 1);
	assert_true(fake_expect(&f->loop, fd, LIT(CONN4), 2000));
	assert_int_equal(f->len, 5);
	assert_memory_equal(f->data, "early", 5);
	assert_int_equal(f->bnd_ret, -EPROTO); /* a CONNECT has no relay */
	/* The tunnel: our bytes out, theirs in, through the owner's events. */
	iov.iov_base = (void *)"up";
	iov.iov_len = 2;
	assert_int_equal(upstream_writev(f->u, &iov, 1), 2);
	assert_true(fake_expect(&f->loop, fd, LIT("up"), 2000));
	assert_int_equal(upstream_events(f->u, EPOLLIN), 0);
	assert_true(fake_send(fd, LIT("down")));
	while (f->ios == 0)
		loop_pump(&f->loop, 100);
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	assert_int_equal(upstream_readv(f->u, &iov, 1), 4);
	assert_memory_equal(buf, "down", 4);
	upstream_shutdown(f->u);
	assert_int_equal(fake_read(&f->loop, fd, buf, sizeof(buf), 2000), 0); /* our FIN */
	close(fd);
}

/* Step by step, with credentials: greeting, auth, CONNECT. */
static void test_socks5_auth(void **state)
{
	struct fix *f = *state;
	int fd;

	fake_proxy_auth(&f->fp, "bob", "s3cret");
	fd = start(f);
	assert_true(fake_expect(&f->loop, fd, LIT("\x05\x01\x02"), 2000));
	assert_true(upstream_connected(f->u));
	assert_true(fake_send(fd, LIT("\x05\x02")));
	assert_true(fake_expect(&f->loop, fd,
				LIT("\x01\x03"
				    "bob\x06"
				    "s3cret"),
				2000));
	assert_true(fake_send(fd, LIT("\x01\x00")));
	assert_true(fake_expect(&f->loop, fd, LIT(CONN4), 2000));
	assert_int_equal(f->opens, 0);
	assert_true(fake_send(fd, LIT(REP4)));
	settle(f);
	assert_int_equal(f->opens, 1);
	assert_int_equal(f->len, 0);
	close(fd);
}

static void test_socks5_refused(void **state)
{
	struct fix *f = *state;
	int fd;

	/* A name the proxy could not resolve: REP 4, host unreachable. */
	f->dst.family = 0;
	strcpy(f->dst.name, "nowhere.example");
	fd = start(f);
	assert_true(fake_expect(&f->loop, fd, LIT(GREET), 2000));
	assert_true(fake_send(fd, LIT(M_NONE "\x05\x04\x00\x01\0\0\0\0\0\0")));
	settle(f);
	check_fail(f, UPSTREAM_SOCKS5_REPLY, UPSTREAM_SOCKS5_REPLY, EHOSTUNREACH, 4);
	assert_int_equal(f->why.dest.family, 0);
	assert_string_equal(f->why.dest.name, "nowhere.example");
	close(fd);
}

static void test_socks5_auth_refused(void **state)
{
	struct fix *f = *state;
	int fd;

	fake_proxy_auth(&f->fp, "bob", "wrong");
	fd = start(f);
	assert_true(fake_send(fd, LIT("\x05\x02\x01\x01")));
	settle(f);
	check_fail(f, UPSTREAM_SOCKS5_AUTH, UPSTREAM_SOCKS5_AUTH, EACCES, 1);
	close(fd);
}

static void test_socks5_no_method(void **state)
{
	struct fix *f = *state;
	int fd = start(f);

	assert_true(fake_send(fd, LIT("\x05\xff")));
	settle(f);
	check_fail(f, UPSTREAM_SOCKS5_METHOD, UPSTREAM_SOCKS5_METHOD, EACCES, 0xff);
	close(fd);
}

/* The proxy goes away after the method: closed, during the CONNECT's reply. */
static void test_socks5_closed(void **state)
{
	struct fix *f = *state;
	int fd = start(f);

	assert_true(fake_send(fd, LIT(M_NONE)));
	assert_true(fake_expect(&f->loop, fd, LIT(GREET CONN4), 2000));
	close(fd);
	settle(f);
	check_fail(f, UPSTREAM_CLOSED, UPSTREAM_SOCKS5_REPLY, ECONNRESET, -1);
}

/* Nothing answers: the timeout, on the loop's clock, names the step waited on. */
static void test_timeout(void **state)
{
	struct fix *f = *state;
	int fd = start(f);

	assert_true(fake_expect(&f->loop, fd, LIT(GREET), 2000));
	f->loop.now += UPSTREAM_HS_TIMEOUT_MS - 1;
	loop_pump(&f->loop, 0);
	assert_int_equal(f->fails, 0);
	f->loop.now += 1;
	loop_pump(&f->loop, 0);
	check_fail(f, UPSTREAM_TIMEOUT, UPSTREAM_SOCKS5_METHOD, ETIMEDOUT, -1);
	close(fd);
}

/* Nothing listens at the proxy's port. */
static void test_connect_refused(void **state)
{
	struct fix *f = *state;

	fake_proxy_stop(&f->fp); /* the port is free now: connect() is refused */
	f->u = upstream_new(&f->loop, &f->fp.up, &f->dst, &ops, f, &f->why);
	if (!f->u) { /* refused at once is allowed too */
		assert_int_equal(f->why.stage, UPSTREAM_CONNECT);
		assert_int_equal(f->why.err, ECONNREFUSED);
		return;
	}
	settle(f);
	check_fail(f, UPSTREAM_CONNECT, UPSTREAM_CONNECT, ECONNREFUSED, -1);
	assert_false(upstream_connected(f->u));
}

/* A destination the proxy kind cannot carry: no upstream, and why. */
static void test_bad_dest(void **state)
{
	struct fix *f = *state;
	struct upstream_fail why;

	f->dst.family = 0;
	f->dst.name[0] = '\0';
	errno = 0;
	assert_null(upstream_new(&f->loop, &f->fp.up, &f->dst, &ops, f, &why));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(why.stage, UPSTREAM_LOCAL);
	assert_int_equal(why.err, EINVAL);
	assert_null(upstream_new(&f->loop, &f->fp.up, &f->dst, &ops, f, NULL)); /* why optional */
	assert_int_equal(f->fails, 0);
}

/* HTTP: the 200's tunnel bytes in the same segment, then close from on_open. */
static void test_http_ok(void **state)
{
	struct fix *f = *state;
	static const char req[] = "CONNECT 192.0.2.7:443 HTTP/1.1\r\nHost: 192.0.2.7:443\r\n\r\n";
	char buf[8];
	int fd = start(f);

	assert_true(fake_expect(&f->loop, fd, LIT(req), 2000));
	assert_true(fake_send(fd, LIT("HTTP/1.1 200 Connection established\r\n\r\nSSH-2.0")));
	f->close_in_cb = true;
	settle(f);
	assert_int_equal(f->opens, 1);
	assert_int_equal(f->len, 7);
	assert_memory_equal(f->data, "SSH-2.0", 7);
	/* closed with an RST inside on_open: nothing more comes */
	assert_true(fake_read(&f->loop, fd, buf, sizeof(buf), 2000) <= 0);
	loop_pump(&f->loop, 10);
	assert_int_equal(f->ios, 0);
	close(fd);
}

static void test_http_refused(void **state)
{
	struct fix *f = *state;
	int fd = start(f);

	assert_true(fake_send(fd, LIT("HTTP/1.1 407 Proxy Authentication Required\r\n"
				      "Proxy-Authenticate: Basic realm=\"x\"\r\n\r\n")));
	f->close_in_cb = true;
	settle(f);
	check_fail(f, UPSTREAM_HTTP_REPLY, UPSTREAM_HTTP_REPLY, EACCES, 407);
	close(fd);
}

static void test_http_malformed(void **state)
{
	struct fix *f = *state;
	int fd = start(f);

	assert_true(fake_send(fd, LIT("SSH-2.0-OpenSSH\r\n")));
	settle(f);
	check_fail(f, UPSTREAM_MALFORMED, UPSTREAM_HTTP_REPLY, EPROTO, -1);
	close(fd);
}

/* UDP ASSOCIATE: during on_open, the relay address from the reply. */
static void test_udp_relay(void **state)
{
	struct fix *f = *state;
	struct proxy_dest any = { .family = AF_INET };
	int fd;

	f->u = upstream_new_udp(&f->loop, &f->fp.up, &any, &ops, f, NULL);
	assert_non_null(f->u);
	fd = fake_proxy_accept(&f->fp, &f->loop, 2000);
	assert_true(fake_expect(&f->loop, fd, LIT(GREET), 2000));
	assert_true(fake_send(fd, LIT(M_NONE)));
	assert_true(fake_expect(&f->loop, fd, LIT("\x05\x03\x00\x01\0\0\0\0\0\0"), 2000));
	assert_true(fake_send(fd, LIT("\x05\x00\x00\x01\x7f\x00\x00\x02\x12\x34")));
	settle(f);
	assert_int_equal(f->opens, 1);
	assert_int_equal(f->bnd_ret, 0);
	assert_int_equal(f->bnd.family, AF_INET);
	assert_memory_equal(f->bnd.addr, "\x7f\x00\x00\x02", 4);
	assert_int_equal(f->bnd.port, 0x1234);
	/* only during on_open: the reply is gone afterwards */
	assert_int_equal(upstream_udp_relay(f->u, &f->bnd), -EPROTO);
	close(fd);
}

/* A UDP ASSOCIATE needs SOCKS5. */
static void test_udp_needs_socks5(void **state)
{
	struct fix *f = *state;
	struct proxy_dest any = { .family = AF_INET };
	struct upstream_fail why;

	assert_null(upstream_new_udp(&f->loop, &f->fp.up, &any, &ops, f, &why));
	assert_int_equal(why.stage, UPSTREAM_LOCAL);
	assert_int_equal(why.err, EPROTONOSUPPORT);
}

static void test_stage_names(void **state)
{
	int s;

	(void)state;
	for (s = 0; s < UPSTREAM_STAGE_MAX; s++)
		assert_string_not_equal(upstream_stage_name((enum upstream_stage)s), "?");
	assert_string_equal(upstream_stage_name(UPSTREAM_SOCKS5_AUTH), "socks5-auth");
	assert_string_equal(upstream_stage_name(UPSTREAM_STAGE_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socks5_early, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_socks5_auth, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_socks5_refused, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_socks5_auth_refused, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_socks5_no_method, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_socks5_closed, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_connect_refused, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_bad_dest, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_http_ok, setup_http, teardown),
		cmocka_unit_test_setup_teardown(test_http_refused, setup_http, teardown),
		cmocka_unit_test_setup_teardown(test_http_malformed, setup_http, teardown),
		cmocka_unit_test_setup_teardown(test_udp_relay, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_udp_needs_socks5, setup_http, teardown),
		cmocka_unit_test(test_stage_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
