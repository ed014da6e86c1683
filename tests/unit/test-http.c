// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP CONNECT codec: exact request bytes, base64 (RFC 4648 vectors), reply
 * header parsing on whole and truncated input, status to errno.
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

static void test_base64(void **state)
{
	static const char *const vec[][2] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		size_t n = strlen(vec[i][0]);

		assert_int_equal(base64_encode(out, sizeof(out), (const uint8_t *)vec[i][0], n),
				 (int)strlen(vec[i][1]));
		assert_string_equal(out, vec[i][1]);
		/* Exactly enough room, then one byte short. */
		assert_int_equal(
			base64_encode(out, strlen(vec[i][1]) + 1, (const uint8_t *)vec[i][0], n),
			(int)strlen(vec[i][1]));
		assert_int_equal(
			base64_encode(out, strlen(vec[i][1]), (const uint8_t *)vec[i][0], n),
			-ENOSPC);
	}
	assert_int_equal(base64_encode(out, sizeof(out), (const uint8_t *)"\xff\xfe\x00", 3), 4);
	assert_string_equal(out, "//4A");
	assert_int_equal(base64_encode(out, sizeof(out), (const uint8_t *)"\xfb\xff", 2), 4);
	assert_string_equal(out, "+/8=");
}

static void test_build(void **state)
{
	struct proxy_dest d;
	char b[PROXY_REQ_MAX], user[300], pass[300];
	int n;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", d.addr);
	d.port = 443;
	n = http_build_connect(b, sizeof(b), &d, NULL, NULL);
	assert_string_equal(b, "CONNECT 192.0.2.7:443 HTTP/1.1\r\nHost: 192.0.2.7:443\r\n\r\n");
	assert_int_equal(n, (int)strlen(b));
	assert_int_equal(http_build_connect(b, (size_t)n, &d, NULL, NULL), -ENOSPC);
	assert_int_equal(http_build_connect(b, (size_t)n + 1, &d, NULL, NULL), n);

	d.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", d.addr);
	d.port = 80;
	n = http_build_connect(b, sizeof(b), &d, NULL, NULL);
	assert_string_equal(b,
			    "CONNECT [2001:db8::1]:80 HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n");

	d.family = 0;
	strcpy(d.name, "example.com");
	d.port = 8443;
	n = http_build_connect(b, sizeof(b), &d, "Aladdin", "open sesame");
	assert_string_equal(b, "CONNECT example.com:8443 HTTP/1.1\r\n"
			       "Host: example.com:8443\r\n"
			       "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"
			       "\r\n");
	assert_int_equal(n, (int)strlen(b));
	assert_int_equal(http_build_connect(b, (size_t)n, &d, "Aladdin", "open sesame"), -ENOSPC);

	/* ':' in the user-id cannot be sent in Basic; ':' in the password can. */
	assert_int_equal(http_build_connect(b, sizeof(b), &d, "a:b", "c"), -EINVAL);
	assert_true(http_build_connect(b, sizeof(b), &d, "a", "b:c") > 0);
	assert_non_null(strstr(b, "Basic YTpiOmM=\r\n"));

	/* Names that would break the request line or header are refused. */
	strcpy(d.name, "evil.com\r\nX-Injected: 1");
	assert_int_equal(http_build_connect(b, sizeof(b), &d, NULL, NULL), -EINVAL);
	strcpy(d.name, "a b");
	assert_int_equal(http_build_connect(b, sizeof(b), &d, NULL, NULL), -EINVAL);
	strcpy(d.name, "a:1");
	assert_int_equal(http_build_connect(b, sizeof(b), &d, NULL, NULL), -EINVAL);
	d.name[0] = '\0';
	assert_int_equal(http_build_connect(b, sizeof(b), &d, NULL, NULL), -EINVAL);
	d.family = AF_UNIX;
	assert_int_equal(http_build_connect(b, sizeof(b), &d, NULL, NULL), -EINVAL);

	/* Longest request: 255-byte name, 255-byte credentials. */
	d.family = 0;
	memset(d.name, 'a', 255);
	d.name[255] = '\0';
	d.port = 65535;
	memset(user, 'u', 255);
	user[255] = '\0';
	memset(pass, 'p', 255);
	pass[255] = '\0';
	n = http_build_connect(b, sizeof(b), &d, user, pass);
	assert_true(n > 0 && n < PROXY_REQ_MAX);
	user[255] = 'u';
	user[256] = '\0';
	assert_int_equal(http_build_connect(b, sizeof(b), &d, user, pass), -EINVAL);
}

/* Every proper prefix is -EAGAIN; the whole (plus trailing junk) gives len. */
static void check_ok(const char *s, size_t len, size_t hdr_len, int want_status)
{
	size_t i;
	int st;

	for (i = 0; i < hdr_len; i++) {
		st = -1;
		assert_int_equal(http_parse_reply((const uint8_t *)s, i, &st), -EAGAIN);
		assert_int_equal(st, -1);
	}
	for (i = hdr_len; i <= len; i++) {
		assert_int_equal(http_parse_reply((const uint8_t *)s, i, &st), (int)hdr_len);
		assert_int_equal(st, want_status);
	}
}

#define CHECK_OK(lit, hdr_len, status) check_ok(lit, sizeof(lit) - 1, hdr_len, status)

/* Every prefix is -EAGAIN or err, and the whole is err. */
static void check_err(const char *s, size_t len, int err)
{
	size_t i;
	int st, r;

	for (i = 0; i < len; i++) {
		r = http_parse_reply((const uint8_t *)s, i, &st);
		assert_true(r == -EAGAIN || r == err);
	}
	assert_int_equal(http_parse_reply((const uint8_t *)s, len, &st), err);
}

static void test_parse(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 2000\r\n\r\n",
		"HTTP/1.1 20\r\n\r\n",
		"HTTP/1.2 200 OK\r\n\r\n",
		"HTTP/2 200\r\n\r\n",
		"http/1.1 200 OK\r\n\r\n",
		"HTTP/1.1  200 OK\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"\r\nHTTP/1.1 200 OK\r\n\r\n",
		"SSH-2.0-OpenSSH\r\n",
		"HTTP/1.1 200\tOK\r\n\r\n",
		"HTTP/1.1 200\r\r\n\r\n",
		"HTTP/1.1\r\n\r\n",
		"HTTP/1.1 000 x\r\n\r\n",
		"HTTP/1.1 600 x\r\n\r\n",
		"HTTP/1.1 099\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
	};
	size_t i;
	int st;

	(void)state;
	CHECK_OK("HTTP/1.1 200 Connection established\r\n\r\n", 39, 200);
	CHECK_OK("HTTP/1.1 200\r\n\r\n", 16, 200);
	CHECK_OK("HTTP/1.1 200 \r\n\r\n", 17, 200);
	CHECK_OK("HTTP/1.0 200 OK\r\n\r\nPAYLOAD", 19, 200);
	CHECK_OK("HTTP/1.1 200 OK\nVia: x\n\nabc", 24, 200);
	CHECK_OK("HTTP/1.1 200 OK\r\nVia: x\n\r\n", 26, 200);
	CHECK_OK("HTTP/1.1 204 No Content\r\n\r\n", 27, 204);
	CHECK_OK("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 38, 200);
	CHECK_OK("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n\0x", 44, 200);
	CHECK_OK("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early\nLink: x\n\n"
		 "HTTP/1.0 407 Auth\r\nProxy-Authenticate: Basic realm=\"p\"\r\n\r\n",
		 111, 407);
	CHECK_OK("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
		 48, 101);
	CHECK_OK("HTTP/1.1 407 Proxy Authentication Required\r\n"
		 "Proxy-Authenticate: Basic realm=\"proxy\"\r\nContent-Length: 0\r\n\r\n",
		 106, 407);
	CHECK_OK("HTTP/1.1 502 Bad Gateway\r\n\r\n", 28, 502);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_err(bad[i], strlen(bad[i]), -EPROTO);
	check_err("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 2000\r\n", 40, -EPROTO);
	/* Non-HTTP peers fail on the first bad byte. */
	assert_int_equal(http_parse_reply((const uint8_t *)"S", 1, &st), -EPROTO);
	assert_int_equal(http_parse_reply((const uint8_t *)"HTTP/1.1 2000", 13, &st), -EPROTO);
	assert_int_equal(http_parse_reply((const uint8_t *)"HTTP/1.1 200\r", 13, &st), -EAGAIN);
	/* NUL inside the block, in the status line or a header. */
	check_err("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", 27, -EPROTO);
	check_err("HTTP/1.1 200 O\0K\r\n\r\n", 20, -EPROTO);
}

/* "HTTP/1.1 200 OK\r\n" + "X: aaa...\r\n" + "\r\n", total exactly len bytes. */
static char *big_reply(size_t len)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nX: ";
	char *s = malloc(len + 1);

	assert_non_null(s);
	assert_true(len >= sizeof(head) - 1 + 4);
	memcpy(s, head, sizeof(head) - 1);
	memset(s + sizeof(head) - 1, 'a', len - (sizeof(head) - 1) - 4);
	memcpy(s + len - 4, "\r\n\r\n", 4);
	s[len] = '\0';
	return s;
}

static void test_cap(void **state)
{
	char *s;
	int st;

	(void)state;
	s = big_reply(HTTP_MAX_HDR - 1);
	assert_int_equal(http_parse_reply((const uint8_t *)s, HTTP_MAX_HDR - 1, &st),
			 HTTP_MAX_HDR - 1);
	assert_int_equal(http_parse_reply((const uint8_t *)s, HTTP_MAX_HDR - 2, &st), -EAGAIN);
	free(s);

	s = big_reply(HTTP_MAX_HDR);
	assert_int_equal(http_parse_reply((const uint8_t *)s, HTTP_MAX_HDR, &st), HTTP_MAX_HDR);
	free(s);

	s = big_reply(HTTP_MAX_HDR + 1);
	assert_int_equal(http_parse_reply((const uint8_t *)s, HTTP_MAX_HDR - 1, &st), -EAGAIN);
	assert_int_equal(http_parse_reply((const uint8_t *)s, HTTP_MAX_HDR, &st), -EMSGSIZE);
	assert_int_equal(http_parse_reply((const uint8_t *)s, HTTP_MAX_HDR + 1, &st), -EMSGSIZE);
	free(s);
}

static void test_status_errno(void **state)
{
	int s;

	(void)state;
	for (s = 200; s < 300; s++)
		assert_int_equal(http_status_errno(s), 0);
	assert_int_equal(http_status_errno(407), EACCES);
	assert_int_equal(http_status_errno(401), EACCES);
	assert_int_equal(http_status_errno(403), ECONNREFUSED);
	assert_int_equal(http_status_errno(404), ECONNREFUSED);
	assert_int_equal(http_status_errno(502), ECONNREFUSED);
	assert_int_equal(http_status_errno(503), ECONNREFUSED);
	assert_int_equal(http_status_errno(504), ETIMEDOUT);
	assert_int_equal(http_status_errno(101), ECONNREFUSED);
	assert_int_equal(http_status_errno(999), ECONNREFUSED);
	assert_int_equal(http_status_errno(0), ECONNREFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),	     cmocka_unit_test(test_build),
		cmocka_unit_test(test_parse),	     cmocka_unit_test(test_cap),
		cmocka_unit_test(test_status_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
