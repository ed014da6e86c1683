// SPDX-License-Identifier: GPL-2.0-only
/*
 * SOCKS5 codec: exact request bytes, reply parsing on whole and truncated
 * input, REP to errno.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "proxy.h"

static void test_greeting(void **state)
{
	uint8_t b[8];

	(void)state;
	assert_int_equal(socks5_build_greeting(b, sizeof(b), false), 3);
	assert_memory_equal(b, "\x05\x01\x00", 3);
	assert_int_equal(socks5_build_greeting(b, sizeof(b), true), 3);
	assert_memory_equal(b, "\x05\x01\x02", 3);
	assert_int_equal(socks5_build_greeting(b, 2, true), -ENOSPC);
}

static void test_method(void **state)
{
	uint8_t m = 0x55;

	(void)state;
	assert_int_equal(socks5_parse_method((const uint8_t *)"", 0, &m), -EAGAIN);
	assert_int_equal(socks5_parse_method((const uint8_t *)"\x05", 1, &m), -EAGAIN);
	assert_int_equal(socks5_parse_method((const uint8_t *)"\x04", 1, &m), -EPROTO);
	assert_int_equal(socks5_parse_method((const uint8_t *)"\x05\x02"
							      "xx",
					     4, &m),
			 2);
	assert_int_equal(m, 2);
	assert_int_equal(socks5_parse_method((const uint8_t *)"\x05\xff", 2, &m), 2);
	assert_int_equal(m, 0xff);
}

static void test_auth_build(void **state)
{
	uint8_t b[600];
	char user[300], pass[300];

	(void)state;
	assert_int_equal(socks5_build_auth(b, sizeof(b), "bob", "s3cret"), 3 + 3 + 6);
	assert_memory_equal(b,
			    "\x01\x03"
			    "bob"
			    "\x06"
			    "s3cret",
			    12);
	assert_int_equal(socks5_build_auth(b, sizeof(b), "bob", ""), 6);
	assert_memory_equal(b,
			    "\x01\x03"
			    "bob"
			    "\x00",
			    6);
	assert_int_equal(socks5_build_auth(b, sizeof(b), "", "x"), -EINVAL);
	assert_int_equal(socks5_build_auth(b, 11, "bob", "s3cret"), -ENOSPC);

	memset(user, 'u', 255);
	user[255] = '\0';
	memset(pass, 'p', 255);
	pass[255] = '\0';
	assert_int_equal(socks5_build_auth(b, sizeof(b), user, pass), 513);
	assert_int_equal(b[1], 255);
	assert_int_equal(b[257], 255);
	assert_int_equal(b[512], 'p');
	user[255] = 'u';
	user[256] = '\0';
	assert_int_equal(socks5_build_auth(b, sizeof(b), user, "x"), -EINVAL);
	assert_int_equal(socks5_build_auth(b, sizeof(b), "u", user), -EINVAL);
}

static void test_auth_parse(void **state)
{
	uint8_t st = 0x55;

	(void)state;
	assert_int_equal(socks5_parse_auth((const uint8_t *)"", 0, &st), -EAGAIN);
	assert_int_equal(socks5_parse_auth((const uint8_t *)"\x01", 1, &st), -EAGAIN);
	assert_int_equal(socks5_parse_auth((const uint8_t *)"\x05\x00", 2, &st), -EPROTO);
	assert_int_equal(socks5_parse_auth((const uint8_t *)"\x01\x00", 2, &st), 2);
	assert_int_equal(st, 0);
	assert_int_equal(socks5_parse_auth((const uint8_t *)"\x01\x01", 2, &st), 2);
	assert_int_equal(st, 1);
}

static void test_connect_build(void **state)
{
	struct proxy_dest d;
	uint8_t b[300];

	(void)state;
	memset(&d, 0, sizeof(d));
	d.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", d.addr);
	d.port = 443;
	assert_int_equal(socks5_build_connect(b, sizeof(b), &d), 10);
	assert_memory_equal(b, "\x05\x01\x00\x01\xc0\x00\x02\x07\x01\xbb", 10);
	assert_int_equal(socks5_build_connect(b, 9, &d), -ENOSPC);

	d.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", d.addr);
	d.port = 80;
	assert_int_equal(socks5_build_connect(b, sizeof(b), &d), 22);
	assert_memory_equal(b, "\x05\x01\x00\x04\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01\x00\x50",
			    22);

	d.family = 0;
	strcpy(d.name, "example.com");
	d.port = 8080;
	assert_int_equal(socks5_build_connect(b, sizeof(b), &d), 4 + 1 + 11 + 2);
	assert_memory_equal(b,
			    "\x05\x01\x00\x03\x0b"
			    "example.com"
			    "\x1f\x90",
			    18);

	memset(d.name, 'a', 255);
	d.name[255] = '\0';
	assert_int_equal(socks5_build_connect(b, sizeof(b), &d), 262);
	assert_int_equal(b[4], 255);
	assert_int_equal(socks5_build_connect(b, 261, &d), -ENOSPC);

	d.name[0] = '\0';
	assert_int_equal(socks5_build_connect(b, sizeof(b), &d), -EINVAL);
	d.family = AF_UNIX;
	assert_int_equal(socks5_build_connect(b, sizeof(b), &d), -EINVAL);
}

/* Every proper prefix is -EAGAIN and the whole is len, extra bytes ignored. */
static void check_reply_ok(const uint8_t *r, size_t len, uint8_t want_rep)
{
	uint8_t buf[600], rep;
	size_t i;

	for (i = 0; i < len; i++) {
		rep = 0x55;
		assert_int_equal(socks5_parse_reply(r, i, &rep), -EAGAIN);
		assert_int_equal(rep, 0x55);
	}
	assert_int_equal(socks5_parse_reply(r, len, &rep), (int)len);
	assert_int_equal(rep, want_rep);
	memcpy(buf, r, len);
	memset(buf + len, 0xee, 100);
	assert_int_equal(socks5_parse_reply(buf, len + 100, &rep), (int)len);
}

static void test_reply_ok(void **state)
{
	uint8_t r[300];

	(void)state;
	check_reply_ok((const uint8_t *)"\x05\x00\x00\x01\x0a\x00\x00\x01\x30\x39", 10, 0);
	check_reply_ok((const uint8_t *)"\x05\x00\x00\x04"
					"0123456789abcdef"
					"\x00\x01",
		       22, 0);
	check_reply_ok((const uint8_t *)"\x05\x00\x00\x03\x01"
					"h"
					"\x00\x01",
		       8, 0);
	check_reply_ok((const uint8_t *)"\x05\x05\x00\x01\0\0\0\0\0\0", 10, 5);

	memcpy(r, "\x05\x00\x00\x03\xff", 5);
	memset(r + 5, 'n', 255);
	r[260] = 0;
	r[261] = 80;
	check_reply_ok(r, 262, 0);
	assert_int_equal(SOCKS5_REPLY_MAX, 262);
}

static void test_reply_bad(void **state)
{
	uint8_t rep = 0x55;
	unsigned int atyp;

	(void)state;
	/* VER is checked before anything is sized. */
	assert_int_equal(socks5_parse_reply((const uint8_t *)"\x04", 1, &rep), -EPROTO);
	assert_int_equal(socks5_parse_reply((const uint8_t *)"\x00\x00\x00\x01", 4, &rep), -EPROTO);
	assert_int_equal(socks5_parse_reply((const uint8_t *)"\x05\x00\x01", 3, &rep), -EPROTO);
	for (atyp = 0; atyp < 256; atyp++) {
		uint8_t b[4] = { 5, 0, 0, (uint8_t)atyp };

		if (atyp == 1 || atyp == 3 || atyp == 4)
			assert_int_equal(socks5_parse_reply(b, 4, &rep), -EAGAIN);
		else
			assert_int_equal(socks5_parse_reply(b, 4, &rep), -EPROTO);
	}
	assert_int_equal(
		socks5_parse_reply((const uint8_t *)"\x05\x00\x00\x03\x00\x00\x50", 7, &rep),
		-EPROTO);
	assert_int_equal(socks5_parse_reply((const uint8_t *)"\x05\x00\x00\x03\x00", 5, &rep),
			 -EPROTO);
	assert_int_equal(rep, 0x55);
}

static void test_rep_errno(void **state)
{
	static const int want[9] = { 0,		  ECONNREFUSED, EACCES,
				     ENETUNREACH, EHOSTUNREACH, ECONNREFUSED,
				     ETIMEDOUT,	  EOPNOTSUPP,	EAFNOSUPPORT };
	unsigned int i;

	(void)state;
	for (i = 0; i < 9; i++)
		assert_int_equal(socks5_rep_errno((uint8_t)i), want[i]);
	for (i = 9; i < 256; i++)
		assert_int_equal(socks5_rep_errno((uint8_t)i), ECONNREFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting),      cmocka_unit_test(test_method),
		cmocka_unit_test(test_auth_build),    cmocka_unit_test(test_auth_parse),
		cmocka_unit_test(test_connect_build), cmocka_unit_test(test_reply_ok),
		cmocka_unit_test(test_reply_bad),     cmocka_unit_test(test_rep_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
