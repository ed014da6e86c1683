// SPDX-License-Identifier: GPL-2.0-only
/*
 * Handshake driver: every server byte stream is fed whole, split at every
 * byte position, and in small fixed chunks; the verdict, the bytes sent and
 * the payload left over must not depend on how the reads fell.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

struct run {
	int ret;
	struct proxy_hs_fail fail; /* when ret < 0 */
	size_t consumed;	   /* bytes of the stream proxy_hs_input claimed */
	uint8_t tx[4096];	   /* everything proxy_hs_pending handed out */
	size_t tx_len;
};

static void drain(struct proxy_hs *hs, struct run *rr)
{
	const uint8_t *p;
	size_t n = proxy_hs_pending(hs, &p);

	assert_true(rr->tx_len + n <= sizeof(rr->tx));
	memcpy(rr->tx + rr->tx_len, p, n);
	rr->tx_len += n;
	proxy_hs_sent(hs, n);
	assert_int_equal(proxy_hs_pending(hs, &p), 0);
}

/*
 * Feeds data[0..len) cut at cuts[0..ncuts) (increasing) and checks the
 * per-call invariants. On success the bytes after *used, plus any later
 * chunks, must be exactly data[consumed..len).
 */
static void feed(const struct proxy_url *u, const struct proxy_dest *d, const uint8_t *data,
		 size_t len, const size_t *cuts, size_t ncuts, struct run *rr)
{
	struct proxy_hs hs;
	size_t a = 0, i, used;
	const uint8_t *p;
	int r;

	memset(rr, 0, sizeof(*rr));
	assert_int_equal(proxy_hs_init(&hs, u, d), 0);
	for (i = 0; i <= ncuts; i++) {
		size_t b = i < ncuts ? cuts[i] : len;

		drain(&hs, rr);
		used = (size_t)-1;
		r = proxy_hs_input(&hs, data + a, b - a, &used);
		assert_true(used <= b - a);
		if (r == 0) {
			assert_int_equal(used, b - a);
			rr->consumed += used;
			a = b;
			continue;
		}
		rr->ret = r;
		rr->consumed += used;
		if (r == 1) {
			assert_int_equal(hs.state, HS_DONE);
			drain(&hs, rr);
			assert_int_equal(proxy_hs_input(&hs, data, len, &used), 1);
			assert_int_equal(used, 0);
		} else {
			assert_true(r < 0);
			assert_int_equal(hs.state, HS_FAILED);
			rr->fail = hs.fail;
			assert_int_equal(hs.fail.err, r);
			assert_true(hs.fail.step >= HS_SOCKS5_METHOD &&
				    hs.fail.step <= HS_HTTP_REPLY);
			assert_true(!hs.fail.refused || hs.fail.code >= 0);
			assert_int_equal(proxy_hs_pending(&hs, &p), 0);
			assert_int_equal(proxy_hs_input(&hs, data, len, &used), r);
			assert_int_equal(used, 0);
		}
		proxy_hs_free(&hs);
		return;
	}
	drain(&hs, rr);
	rr->ret = 0;
	proxy_hs_free(&hs);
	proxy_hs_free(&hs); /* idempotent */
}

static void check_same(const struct run *want, const struct run *got)
{
	assert_int_equal(got->ret, want->ret);
	if (want->ret < 0) { /* why, too, is a function of the bytes alone */
		assert_int_equal(got->fail.step, want->fail.step);
		assert_int_equal(got->fail.refused, want->fail.refused);
		assert_int_equal(got->fail.code, want->fail.code);
	}
	if (want->ret >= 0)
		assert_int_equal(got->consumed, want->consumed);
	if (want->ret != 0)
		return;
	/* Need-more: what went out so far can only be a prefix of the whole run's. */
	assert_true(got->tx_len <= want->tx_len);
}

/*
 * Runs the stream whole, then at every split (every step-th for long ones),
 * then in chunks of 1..7 bytes (larger ones for long streams); each run must end as ret with
 * consumed bytes (when ret >= 0) and, if tx is given, have sent exactly tx.
 */
static void expect(const struct proxy_url *u, const struct proxy_dest *d, const uint8_t *data,
		   size_t len, int ret, size_t consumed, const uint8_t *tx, size_t tx_len)
{
	static size_t cuts[HTTP_MAX_HDR * 2];
	struct run *whole = malloc(sizeof(*whole)), *rr = malloc(sizeof(*rr));
	static const size_t sizes_long[7] = { 2, 3, 61, 100, 257, 1000, 4096 };
	size_t s, c, n, i, step = len > 600 ? 97 : 1;

	assert_non_null(whole);
	assert_non_null(rr);
	assert_true(len < sizeof(cuts) / sizeof(cuts[0]));
	feed(u, d, data, len, NULL, 0, whole);
	assert_int_equal(whole->ret, ret);
	if (ret >= 0)
		assert_int_equal(whole->consumed, consumed);
	if (tx) {
		assert_int_equal(whole->tx_len, tx_len);
		assert_memory_equal(whole->tx, tx, tx_len);
	}

	for (s = 0; s <= len; s = s + step > len && s < len ? len : s + step) {
		cuts[0] = s;
		feed(u, d, data, len, cuts, 1, rr);
		check_same(whole, rr);
		if (ret == 1 && tx)
			assert_memory_equal(rr->tx, tx, tx_len);
	}
	for (i = 0; i < 7; i++) {
		/* Byte at a time rescans a long header 16k times: keep it to short ones. */
		c = len > 600 ? sizes_long[i] : i + 1;
		for (n = 0; (n + 1) * c < len; n++)
			cuts[n] = (n + 1) * c;
		feed(u, d, data, len, cuts, n, rr);
		check_same(whole, rr);
		if (tx && ret != 0) {
			assert_int_equal(rr->tx_len, tx_len);
			assert_memory_equal(rr->tx, tx, tx_len);
		}
	}
	free(whole);
	free(rr);
}

/* Success: the stream is handshake bytes then payload; the payload must be left. */
static void expect_ok(const struct proxy_url *u, const struct proxy_dest *d, const uint8_t *hs,
		      size_t hs_len, const uint8_t *tx, size_t tx_len)
{
	static const uint8_t payload[] = "\x05\x00\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\0\xff";
	uint8_t *data = malloc(hs_len + sizeof(payload));
	size_t i;

	assert_non_null(data);
	memcpy(data, hs, hs_len);
	memcpy(data + hs_len, payload, sizeof(payload));
	/* Alone, with one payload byte, with all of it. */
	expect(u, d, data, hs_len, 1, hs_len, tx, tx_len);
	expect(u, d, data, hs_len + 1, 1, hs_len, tx, tx_len);
	expect(u, d, data, hs_len + sizeof(payload), 1, hs_len, tx, tx_len);
	/* Every proper prefix just needs more, having consumed all of it. */
	for (i = 0; i < hs_len; i++) {
		struct run *rr = malloc(sizeof(*rr));

		assert_non_null(rr);
		feed(u, d, data, i, NULL, 0, rr);
		assert_int_equal(rr->ret, 0);
		assert_int_equal(rr->consumed, i);
		free(rr);
		if (hs_len > 600)
			i += 96;
	}
	free(data);
}

static void expect_err(const struct proxy_url *u, const struct proxy_dest *d, const uint8_t *data,
		       size_t len, int err)
{
	expect(u, d, data, len, err, 0, NULL, 0);
}

/* ---- fixtures ---- */

static struct proxy_url socks, socks_auth, http, http_auth;
static struct proxy_dest dst4, dst6, dstn;

static void url_set(struct proxy_url *u, enum proxy_type t, const char *user, const char *pass)
{
	memset(u, 0, sizeof(*u));
	u->type = t;
	strcpy(u->host, "127.0.0.1");
	u->port = 1080;
	if (user) {
		u->has_auth = true;
		strcpy(u->user, user);
		strcpy(u->pass, pass);
	}
}

static int setup(void **state)
{
	(void)state;
	url_set(&socks, PROXY_SOCKS5, NULL, NULL);
	url_set(&socks_auth, PROXY_SOCKS5, "bob", "s3cret");
	url_set(&http, PROXY_HTTP, NULL, NULL);
	url_set(&http_auth, PROXY_HTTP, "Aladdin", "open sesame");
	memset(&dst4, 0, sizeof(dst4));
	dst4.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", dst4.addr);
	dst4.port = 443;
	memset(&dst6, 0, sizeof(dst6));
	dst6.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", dst6.addr);
	dst6.port = 80;
	memset(&dstn, 0, sizeof(dstn));
	strcpy(dstn.name, "example.com");
	dstn.port = 8080;
	return 0;
}

#define GREET	"\x05\x01\x00"
#define GREET_A "\x05\x01\x02"
#define AUTH_REQ   \
	"\x01\x03" \
	"bob"      \
	"\x06"     \
	"s3cret"
#define CONN4 "\x05\x01\x00\x01\xc0\x00\x02\x07\x01\xbb"
#define CONN6 "\x05\x01\x00\x04\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x50"
#define CONNN                  \
	"\x05\x01\x00\x03\x0b" \
	"example.com"          \
	"\x1f\x90"
#define M_NONE	"\x05\x00"
#define M_USER	"\x05\x02"
#define AUTH_OK "\x01\x00"
#define REP4	"\x05\x00\x00\x01\x0a\x00\x00\x01\x30\x39"
#define REP6               \
	"\x05\x00\x00\x04" \
	"0123456789abcdef" \
	"\x30\x39"
#define REPN                   \
	"\x05\x00\x00\x03\x09" \
	"proxy.lan"            \
	"\x30\x39"

/* ---- SOCKS5 ---- */

static void test_socks5_ok(void **state)
{
	uint8_t big[2 + 262];

	(void)state;
	expect_ok(&socks, &dst4, LIT(M_NONE REP4), LIT(GREET CONN4));
	expect_ok(&socks, &dst4, LIT(M_NONE REP6), LIT(GREET CONN4));
	expect_ok(&socks, &dst4, LIT(M_NONE REPN), LIT(GREET CONN4));
	expect_ok(&socks, &dst6, LIT(M_NONE REP4), LIT(GREET CONN6));
	expect_ok(&socks, &dstn, LIT(M_NONE REP6), LIT(GREET CONNN));
	expect_ok(&socks_auth, &dstn, LIT(M_USER AUTH_OK REPN), LIT(GREET_A AUTH_REQ CONNN));
	expect_ok(&socks_auth, &dst4, LIT(M_USER AUTH_OK REP4), LIT(GREET_A AUTH_REQ CONN4));

	/* Longest bound name. */
	memcpy(big, M_NONE "\x05\x00\x00\x03\xff", 7);
	memset(big + 7, 'n', 255);
	big[262] = 0x30;
	big[263] = 0x39;
	expect_ok(&socks, &dst4, big, sizeof(big), LIT(GREET CONN4));
}

static void test_socks5_rep(void **state)
{
	static const int want[9] = { 0,		  ECONNREFUSED, EACCES,
				     ENETUNREACH, EHOSTUNREACH, ECONNREFUSED,
				     ETIMEDOUT,	  EOPNOTSUPP,	EAFNOSUPPORT };
	uint8_t b[12] = M_NONE REP4;
	unsigned int rep;

	(void)state;
	for (rep = 1; rep < 256; rep++) {
		int err = rep < 9 ? want[rep] : ECONNREFUSED;

		b[3] = (uint8_t)rep;
		expect_err(&socks, &dst4, b, 12, -err);
		/* Decided on REP alone: the server may close right after it. */
		expect_err(&socks, &dst4, b, 4, -err);
		/* Even if what follows is garbage. */
		b[4] = 0x33;
		b[5] = 0x77;
		expect_err(&socks, &dst4, b, 12, -err);
		b[4] = 0;
		b[5] = 1;
	}
	expect_err(&socks_auth, &dst4, LIT(M_USER AUTH_OK "\x05\x04"), -EHOSTUNREACH);
}

static void test_socks5_bad(void **state)
{
	uint8_t b[12] = M_NONE REP4;
	unsigned int atyp;

	(void)state;
	/* Method selection. */
	expect_err(&socks, &dst4, LIT("\x05\xff"), -EACCES);
	expect_err(&socks_auth, &dst4, LIT("\x05\xff"), -EACCES);
	expect_err(&socks, &dst4, LIT("\x05\x02\x01\x00"), -EPROTO);   /* not offered */
	expect_err(&socks_auth, &dst4, LIT("\x05\x00" REP4), -EPROTO); /* not offered */
	expect_err(&socks, &dst4, LIT("\x04\x00"), -EPROTO);
	expect_err(&socks, &dst4, LIT("\x04"), -EPROTO);
	expect_err(&socks, &dst4, LIT("HTTP/1.1 400 Bad Request\r\n\r\n"), -EPROTO);

	/* RFC 1929 reply. */
	expect_err(&socks_auth, &dst4, LIT(M_USER "\x01\x01" REP4), -EACCES);
	expect_err(&socks_auth, &dst4, LIT(M_USER "\x01\xff"), -EACCES);
	expect_err(&socks_auth, &dst4, LIT(M_USER "\x05\x00" REP4), -EPROTO);

	/* CONNECT reply. */
	b[2] = 4;
	expect_err(&socks, &dst4, b, 12, -EPROTO); /* VER */
	b[2] = 5;
	b[4] = 1;
	expect_err(&socks, &dst4, b, 12, -EPROTO); /* RSV */
	b[4] = 0;
	for (atyp = 0; atyp < 256; atyp++) {
		if (atyp == 1 || atyp == 3 || atyp == 4)
			continue;
		b[5] = (uint8_t)atyp;
		expect_err(&socks, &dst4, b, 12, -EPROTO);
	}
	expect_err(&socks, &dst4, LIT(M_NONE "\x05\x00\x00\x03\x00\x00\x50"), -EPROTO);
	expect_err(&socks, &dst4, LIT(M_NONE "\x05\x00\x00\x03\x00"), -EPROTO);
}

static void test_socks5_truncated(void **state)
{
	(void)state;
	/* Need-more at every cut, with the next request queued on time. */
	expect(&socks, &dst4, LIT(M_NONE "\x05\x00\x00\x01\x0a\x00"), 0, 8, NULL, 0);
	expect(&socks_auth, &dst4, LIT(M_USER "\x01"), 0, 3, NULL, 0);
	expect(&socks_auth, &dst4, LIT(M_USER AUTH_OK), 0, 4, LIT(GREET_A AUTH_REQ CONN4));
	expect(&socks_auth, &dst4, LIT(M_USER), 0, 2, LIT(GREET_A AUTH_REQ));
	expect(&socks, &dst4, LIT(""), 0, 0, LIT(GREET));
}

/* A server that answers before the whole greeting went out. */
static void test_socks5_early_reply(void **state)
{
	struct proxy_hs hs;
	const uint8_t *p;
	size_t used;

	(void)state;
	assert_int_equal(proxy_hs_init(&hs, &socks_auth, &dst4), 0);
	assert_int_equal(proxy_hs_pending(&hs, &p), 3);
	proxy_hs_sent(&hs, 1);
	assert_int_equal(proxy_hs_input(&hs, LIT(M_USER AUTH_OK), &used), 0);
	assert_int_equal(used, 4);
	assert_int_equal(proxy_hs_pending(&hs, &p), 2 + 12 + 10);
	assert_memory_equal(p, "\x01\x02" AUTH_REQ CONN4, 24);
	proxy_hs_sent(&hs, 5);
	assert_int_equal(proxy_hs_pending(&hs, &p), 19);
	proxy_hs_sent(&hs, 100);
	assert_int_equal(proxy_hs_pending(&hs, &p), 0);
	assert_int_equal(proxy_hs_input(&hs, LIT(REP4 "xyz"), &used), 1);
	assert_int_equal(used, 10);
	proxy_hs_free(&hs);
}

/*
 * A server that answers ahead: every reply in one read, before the requests
 * they answer went out. The tunnel opens with those requests still queued,
 * and the caller must send them before any payload (session.c once freed
 * them unsent: the proxy never saw the CONNECT and took the app's first
 * bytes for it; e2e hostile-socks5 m-allinone / a-allinone).
 */
static void test_socks5_ahead(void **state)
{
	struct proxy_hs hs;
	const uint8_t *p;
	size_t used;

	(void)state;
	assert_int_equal(proxy_hs_init(&hs, &socks_auth, &dst4), 0);
	assert_int_equal(proxy_hs_pending(&hs, &p), 3);
	proxy_hs_sent(&hs, 3);
	assert_int_equal(proxy_hs_input(&hs, LIT(M_USER AUTH_OK REP4 "data"), &used), 1);
	assert_int_equal(used, 14);
	assert_int_equal(proxy_hs_pending(&hs, &p), 12 + 10);
	assert_memory_equal(p, AUTH_REQ CONN4, 22);
	proxy_hs_sent(&hs, 22);
	assert_int_equal(proxy_hs_pending(&hs, &p), 0);
	proxy_hs_free(&hs);

	assert_int_equal(proxy_hs_init(&hs, &socks, &dst4), 0);
	proxy_hs_sent(&hs, 3);
	assert_int_equal(proxy_hs_input(&hs, LIT(M_NONE REP4), &used), 1);
	assert_int_equal(used, 12);
	assert_int_equal(proxy_hs_pending(&hs, &p), 10);
	assert_memory_equal(p, CONN4, 10);
	proxy_hs_free(&hs);
}

static void test_init(void **state)
{
	struct proxy_hs hs;
	struct proxy_url u;
	struct proxy_dest d;

	(void)state;
	memset(&hs, 0, sizeof(hs));
	proxy_hs_free(&hs); /* zeroed is fine */

	d = dstn;
	d.name[0] = '\0';
	assert_int_equal(proxy_hs_init(&hs, &socks, &d), -EINVAL);
	proxy_hs_free(&hs);
	assert_int_equal(proxy_hs_init(&hs, &http, &d), -EINVAL);
	proxy_hs_free(&hs);
	d.family = AF_UNIX;
	assert_int_equal(proxy_hs_init(&hs, &socks, &d), -EINVAL);
	proxy_hs_free(&hs);

	u = socks_auth;
	u.user[0] = '\0';
	assert_int_equal(proxy_hs_init(&hs, &u, &dst4), -EINVAL);
	proxy_hs_free(&hs);
	u = http_auth;
	strcpy(u.user, "a:b");
	assert_int_equal(proxy_hs_init(&hs, &u, &dst4), -EINVAL);
	proxy_hs_free(&hs);
	u = http;
	u.type = (enum proxy_type)7;
	assert_int_equal(proxy_hs_init(&hs, &u, &dst4), -EINVAL);
	proxy_hs_free(&hs);

	/* Empty password is sent as PLEN 0. */
	u = socks_auth;
	u.pass[0] = '\0';
	expect(&u, &dst4, LIT(M_USER), 0, 2,
	       LIT(GREET_A "\x01\x03"
			   "bob"
			   "\x00"));
}

/* ---- HTTP CONNECT ---- */

#define REQ4 "CONNECT 192.0.2.7:443 HTTP/1.1\r\nHost: 192.0.2.7:443\r\n\r\n"
#define REQN_A                                                            \
	"CONNECT example.com:8080 HTTP/1.1\r\nHost: example.com:8080\r\n" \
	"Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"

static void test_http_ok(void **state)
{
	(void)state;
	expect_ok(&http, &dst4, LIT("HTTP/1.1 200 Connection established\r\n\r\n"), LIT(REQ4));
	expect_ok(&http, &dst4, LIT("HTTP/1.1 200\r\n\r\n"), LIT(REQ4));
	expect_ok(&http, &dst4, LIT("HTTP/1.0 200 OK\r\nVia: 1.0 p\r\n\r\n"), LIT(REQ4));
	expect_ok(&http, &dst4, LIT("HTTP/1.1 200 OK\nX: y\n\n"), LIT(REQ4));
	expect_ok(&http, &dst4, LIT("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"),
		  LIT(REQ4));
	expect_ok(&http_auth, &dstn, LIT("HTTP/1.1 200 OK\r\n\r\n"), LIT(REQN_A));
	/* Content-Length on a 2xx is ignored: those bytes are tunnel payload. */
	expect(&http, &dst4, LIT("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), 1, 38,
	       LIT(REQ4));
	expect(&http, &dst4, LIT("HTTP/1.1 200 OK\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"), 1, 19,
	       LIT(REQ4));
	expect(&http, &dst4, LIT("HTTP/1.1 200 OK\r\n\r\n\0\0\0"), 1, 19, LIT(REQ4));
}

static void test_http_fail(void **state)
{
	(void)state;
	expect_err(&http_auth, &dst4,
		   LIT("HTTP/1.1 407 Proxy Authentication Required\r\n"
		       "Proxy-Authenticate: Basic realm=\"proxy\"\r\n\r\n"),
		   -EACCES);
	expect_err(&http, &dst4, LIT("HTTP/1.1 403 Forbidden\r\n\r\n"), -ECONNREFUSED);
	expect_err(&http, &dst4, LIT("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad"),
		   -ECONNREFUSED);
	expect_err(&http, &dst4, LIT("HTTP/1.1 504 Gateway Timeout\r\n\r\n"), -ETIMEDOUT);
	expect_err(&http, &dst4, LIT("HTTP/1.1 2000\r\n\r\n"), -EPROTO);
	expect_err(&http, &dst4, LIT("HTTP/1.1 200 OK\r\nX: \0\r\n\r\n"), -EPROTO);
	expect_err(&http, &dst4, LIT("\x05\x00"), -EPROTO);
	expect_err(&http, &dst4, LIT("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2000 x\r\n\r\n"),
		   -EPROTO);
}

/* How a failure is described: the step, refused or malformed, the proxy's code. */
static void expect_why(const struct proxy_url *u, const uint8_t *data, size_t len, int err,
		       enum proxy_hs_state step, bool refused, int code)
{
	struct run *rr = malloc(sizeof(*rr));

	assert_non_null(rr);
	expect_err(u, &dst4, data, len, err); /* the same however the reads fall */
	feed(u, &dst4, data, len, NULL, 0, rr);
	assert_int_equal(rr->ret, err);
	assert_int_equal(rr->fail.err, err);
	assert_int_equal(rr->fail.step, step);
	assert_int_equal(rr->fail.refused, refused);
	assert_int_equal(rr->fail.code, code);
	free(rr);
}

static void test_fail_why(void **state)
{
	(void)state;
	/* SOCKS5 method selection: none acceptable is a refusal, one not offered is not. */
	expect_why(&socks, LIT("\x05\xff"), -EACCES, HS_SOCKS5_METHOD, true, 0xff);
	expect_why(&socks, LIT("\x05\x02"), -EPROTO, HS_SOCKS5_METHOD, false, 0x02);
	expect_why(&socks, LIT("\x04\x00"), -EPROTO, HS_SOCKS5_METHOD, false, -1);
	/* RFC 1929: the status byte. */
	expect_why(&socks_auth, LIT(M_USER "\x01\x01"), -EACCES, HS_SOCKS5_AUTH, true, 1);
	expect_why(&socks_auth, LIT(M_USER "\x02\x00"), -EPROTO, HS_SOCKS5_AUTH, false, -1);
	/* CONNECT reply: REP (4, host unreachable: a name the proxy could not resolve). */
	expect_why(&socks, LIT(M_NONE "\x05\x04"), -EHOSTUNREACH, HS_SOCKS5_REPLY, true, 4);
	expect_why(&socks_auth, LIT(M_USER AUTH_OK "\x05\x05"), -ECONNREFUSED, HS_SOCKS5_REPLY,
		   true, 5);
	expect_why(&socks, LIT(M_NONE "\x05\x00\x01"), -EPROTO, HS_SOCKS5_REPLY, false, -1);
	expect_why(&socks, LIT(M_NONE "\x05\x00\x00\x09"), -EPROTO, HS_SOCKS5_REPLY, false, -1);
	/* HTTP: the final status, or malformed (no status), or too long. */
	expect_why(&http_auth,
		   LIT("HTTP/1.1 407 Proxy Authentication Required\r\n"
		       "Proxy-Authenticate: Basic realm=\"proxy\"\r\n\r\n"),
		   -EACCES, HS_HTTP_REPLY, true, 407);
	expect_why(&http, LIT("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 502 Bad Gateway\r\n\r\n"),
		   -ECONNREFUSED, HS_HTTP_REPLY, true, 502);
	expect_why(&http, LIT("HTTP/1.1 2000\r\n\r\n"), -EPROTO, HS_HTTP_REPLY, false, -1);
	expect_why(&http, LIT("\x05\x00"), -EPROTO, HS_HTTP_REPLY, false, -1);
}

static void test_http_truncated(void **state)
{
	(void)state;
	expect(&http, &dst4, LIT("HTTP/1.1 200 OK\r\n\r"), 0, 18, LIT(REQ4));
	expect(&http, &dst4, LIT("HTTP/1.1 100 Continue\r\n\r\n"), 0, 25, LIT(REQ4));
	expect_err(&http, &dst4, LIT("HTTP/1.1 200 OK\r\nX: \0"), -EPROTO);
}

/* "HTTP/1.1 200 OK\r\nX: aaa...\r\n\r\n", total len bytes, then payload. */
static uint8_t *big_reply(size_t len, size_t extra)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nX: ";
	uint8_t *s = malloc(len + extra);

	assert_non_null(s);
	memcpy(s, head, sizeof(head) - 1);
	memset(s + sizeof(head) - 1, 'a', len - (sizeof(head) - 1) - 4);
	memcpy(s + len - 4, "\r\n\r\n", 4);
	memset(s + len, 'P', extra);
	return s;
}

static void test_http_cap(void **state)
{
	static size_t cuts1[HTTP_MAX_HDR + 10];
	static struct run rr;
	uint8_t *s;
	size_t i;

	(void)state;
	for (i = 0; i < HTTP_MAX_HDR + 10; i++)
		cuts1[i] = i + 1;
	s = big_reply(HTTP_MAX_HDR - 1, 10);
	expect(&http, &dst4, s, HTTP_MAX_HDR - 1 + 10, 1, HTTP_MAX_HDR - 1, LIT(REQ4));
	/* Byte at a time once: every read rescans the whole block. */
	feed(&http, &dst4, s, HTTP_MAX_HDR - 1 + 10, cuts1, HTTP_MAX_HDR - 1 + 9, &rr);
	assert_int_equal(rr.ret, 1);
	assert_int_equal(rr.consumed, HTTP_MAX_HDR - 1);
	free(s);
	s = big_reply(HTTP_MAX_HDR, 10);
	expect(&http, &dst4, s, HTTP_MAX_HDR + 10, 1, HTTP_MAX_HDR, LIT(REQ4));
	free(s);
	s = big_reply(HTTP_MAX_HDR + 1, 10);
	expect_err(&http, &dst4, s, HTTP_MAX_HDR + 1 + 10, -EMSGSIZE);
	expect_err(&http, &dst4, s, HTTP_MAX_HDR, -EMSGSIZE);
	expect(&http, &dst4, s, HTTP_MAX_HDR - 1, 0, HTTP_MAX_HDR - 1, LIT(REQ4));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socks5_ok),
		cmocka_unit_test(test_socks5_rep),
		cmocka_unit_test(test_socks5_bad),
		cmocka_unit_test(test_socks5_truncated),
		cmocka_unit_test(test_socks5_early_reply),
		cmocka_unit_test(test_socks5_ahead),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_http_ok),
		cmocka_unit_test(test_http_fail),
		cmocka_unit_test(test_http_truncated),
		cmocka_unit_test(test_http_cap),
		cmocka_unit_test(test_fail_why),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
