// SPDX-License-Identifier: GPL-2.0-only
/*
 * SOCKS5 UDP ASSOCIATE codec: request bytes, the reply's BND address on
 * whole and truncated input, the datagram header both ways (FRAG, RSV and
 * length checks), and the handshake driver in UDP ASSOCIATE mode.
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

static void test_assoc_build(void **state)
{
	struct proxy_dest d = { .family = AF_INET, .port = 40000 };
	uint8_t b[64];

	(void)state;
	inet_pton(AF_INET, "192.0.2.2", d.addr);
	assert_int_equal(socks5_build_udp_associate(b, sizeof(b), &d), 10);
	assert_memory_equal(b, "\x05\x03\x00\x01\xc0\x00\x02\x02\x9c\x40", 10);
	memset(&d, 0, sizeof(d));
	d.family = AF_INET; /* 0.0.0.0:0: "not known yet" */
	assert_int_equal(socks5_build_udp_associate(b, sizeof(b), &d), 10);
	assert_memory_equal(b, "\x05\x03\x00\x01\0\0\0\0\0\0", 10);
	assert_int_equal(socks5_build_udp_associate(b, 9, &d), -ENOSPC);
	d.family = AF_UNIX;
	assert_int_equal(socks5_build_udp_associate(b, sizeof(b), &d), -EINVAL);
}

static void test_reply_bnd(void **state)
{
	static const uint8_t v4[] = "\x05\x00\x00\x01\xc0\x00\x02\x01\x04\x38";
	static const uint8_t v6[] = "\x05\x00\x00\x04\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
				    "\x00\x35";
	static const uint8_t nm[] = "\x05\x00\x00\x03\x04relay\x00\x07";
	struct proxy_dest b;
	uint8_t rep;
	size_t i;

	(void)state;
	for (i = 0; i < 10; i++)
		assert_int_equal(socks5_parse_reply_bnd(v4, i, &rep, &b), -EAGAIN);
	assert_int_equal(socks5_parse_reply_bnd(v4, 10, &rep, &b), 10);
	assert_int_equal(rep, 0);
	assert_int_equal(b.family, AF_INET);
	assert_memory_equal(b.addr, "\xc0\x00\x02\x01", 4);
	assert_int_equal(b.port, 1080);
	assert_int_equal(socks5_parse_reply_bnd(v4, 10 + 5, &rep, &b), 10); /* extra ignored */

	for (i = 0; i < 22; i++)
		assert_int_equal(socks5_parse_reply_bnd(v6, i, &rep, &b), -EAGAIN);
	assert_int_equal(socks5_parse_reply_bnd(v6, 22, &rep, &b), 22);
	assert_int_equal(b.family, AF_INET6);
	assert_int_equal(b.addr[15], 1);
	assert_int_equal(b.port, 53);

	/* "\x04relay": a 4-byte name "rela", port "y\0" */
	assert_int_equal(socks5_parse_reply_bnd(nm, 11, &rep, &b), 11);
	assert_int_equal(b.family, 0);
	assert_string_equal(b.name, "rela");
	assert_int_equal(b.port, ('y' << 8));

	assert_int_equal(socks5_parse_reply_bnd((const uint8_t *)"\x04", 1, &rep, &b), -EPROTO);
	assert_int_equal(socks5_parse_reply_bnd((const uint8_t *)"\x05\x00\x01", 3, &rep, &b),
			 -EPROTO);
	assert_int_equal(socks5_parse_reply_bnd((const uint8_t *)"\x05\x00\x00\x02", 4, &rep, &b),
			 -EPROTO);
	assert_int_equal(socks5_parse_reply_bnd((const uint8_t *)"\x05\x00\x00\x03\x00\x00\x00", 7,
						&rep, &b),
			 -EPROTO);
	assert_int_equal(socks5_parse_reply_bnd((const uint8_t *)"\x05\x07\x00\x01\0\0\0\0\0\0", 10,
						&rep, &b),
			 10);
	assert_int_equal(rep, 7);
}

static void test_hdr_build(void **state)
{
	struct proxy_dest d = { .family = AF_INET, .port = 7 };
	uint8_t b[300];

	(void)state;
	inet_pton(AF_INET, "198.51.100.20", d.addr);
	assert_int_equal(socks5_build_udp_hdr(b, sizeof(b), &d), 10);
	assert_memory_equal(b, "\x00\x00\x00\x01\xc6\x33\x64\x14\x00\x07", 10);
	assert_int_equal(socks5_build_udp_hdr(b, 9, &d), -ENOSPC);

	d.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:2::20", d.addr);
	assert_int_equal(socks5_build_udp_hdr(b, sizeof(b), &d), 22);
	assert_memory_equal(b, "\x00\x00\x00\x04\x20\x01\x0d\xb8\x00\x02", 10);
	assert_memory_equal(b + 20, "\x00\x07", 2);

	d.family = 0;
	strcpy(d.name, "example.org");
	assert_int_equal(socks5_build_udp_hdr(b, sizeof(b), &d), 4 + 1 + 11 + 2);
	assert_memory_equal(b,
			    "\x00\x00\x00\x03\x0b"
			    "example.org"
			    "\x00\x07",
			    18);
	memset(d.name, 'n', 255);
	d.name[255] = '\0';
	assert_int_equal(socks5_build_udp_hdr(b, sizeof(b), &d), SOCKS5_UDP_HDR_MAX);
	d.name[0] = '\0';
	assert_int_equal(socks5_build_udp_hdr(b, sizeof(b), &d), -EINVAL);
}

static void test_hdr_parse(void **state)
{
	static const uint8_t v4[] = "\x00\x00\x00\x01\xc6\x33\x64\x14\x00\x07payload";
	static const uint8_t v6[] = "\x00\x00\x00\x04\x20\x01\x0d\xb8\x00\x02\0\0\0\0\0\0\0\0\0\x20"
				    "\x1f\x40";
	struct proxy_dest f;
	uint8_t b[300];
	size_t i;

	(void)state;
	assert_int_equal(socks5_parse_udp_hdr(v4, sizeof(v4) - 1, &f), 10);
	assert_int_equal(f.family, AF_INET);
	assert_memory_equal(f.addr, "\xc6\x33\x64\x14", 4);
	assert_int_equal(f.port, 7);
	/* An empty payload is a datagram too. */
	assert_int_equal(socks5_parse_udp_hdr(v4, 10, &f), 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(socks5_parse_udp_hdr(v4, i, &f), -EBADMSG);

	assert_int_equal(socks5_parse_udp_hdr(v6, 22, &f), 22);
	assert_int_equal(f.family, AF_INET6);
	assert_int_equal(f.port, 8000);
	for (i = 0; i < 22; i++)
		assert_int_equal(socks5_parse_udp_hdr(v6, i, &f), -EBADMSG);

	memcpy(b, v4, 10);
	b[2] = 1; /* FRAG: dropped */
	assert_int_equal(socks5_parse_udp_hdr(b, 10, &f), -EOPNOTSUPP);
	b[2] = 0x81; /* last fragment of a series: dropped too */
	assert_int_equal(socks5_parse_udp_hdr(b, 10, &f), -EOPNOTSUPP);
	b[2] = 0;
	b[1] = 1; /* RSV */
	assert_int_equal(socks5_parse_udp_hdr(b, 10, &f), -EBADMSG);
	b[1] = 0;
	b[3] = 2; /* ATYP */
	assert_int_equal(socks5_parse_udp_hdr(b, 10, &f), -EBADMSG);
	memcpy(b, "\x00\x00\x00\x03\x00\x00\x07", 7); /* empty name */
	assert_int_equal(socks5_parse_udp_hdr(b, 7, &f), -EBADMSG);
	memcpy(b,
	       "\x00\x00\x00\x03\x03"
	       "abc"
	       "\x01\x00",
	       10);
	assert_int_equal(socks5_parse_udp_hdr(b, 10, &f), 10);
	assert_int_equal(f.family, 0);
	assert_string_equal(f.name, "abc");
	assert_int_equal(f.port, 256);
	assert_int_equal(socks5_parse_udp_hdr(b, 9, &f), -EBADMSG);
	b[6] = '\0'; /* a NUL inside the name */
	assert_int_equal(socks5_parse_udp_hdr(b, 10, &f), -EBADMSG);

	/* Round trip. */
	f.family = AF_INET6;
	memset(f.addr, 0xab, 16);
	f.port = 65535;
	assert_int_equal(socks5_build_udp_hdr(b, sizeof(b), &f), 22);
	{
		struct proxy_dest g;

		assert_int_equal(socks5_parse_udp_hdr(b, 22, &g), 22);
		assert_int_equal(g.family, AF_INET6);
		assert_memory_equal(g.addr, f.addr, 16);
		assert_int_equal(g.port, 65535);
	}
}

/* The handshake driver sends UDP ASSOCIATE (CMD 3) and keeps the reply. */
static void test_hs_udp(void **state)
{
	struct proxy_url u = { .type = PROXY_SOCKS5, .port = 1080 };
	struct proxy_dest d = { .family = AF_INET, .port = 5555 };
	struct proxy_dest bnd;
	struct proxy_hs hs;
	const uint8_t *p;
	size_t n, used;
	uint8_t rep;

	(void)state;
	inet_pton(AF_INET, "192.0.2.2", d.addr);
	assert_int_equal(proxy_hs_init_udp(&hs, &u, &d), 0);
	n = proxy_hs_pending(&hs, &p);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "\x05\x01\x00", 3);
	proxy_hs_sent(&hs, n);
	assert_int_equal(proxy_hs_input(&hs, (const uint8_t *)"\x05\x00", 2, &used), 0);
	n = proxy_hs_pending(&hs, &p);
	assert_int_equal(n, 10);
	assert_memory_equal(p, "\x05\x03\x00\x01\xc0\x00\x02\x02\x15\xb3", 10);
	proxy_hs_sent(&hs, n);
	assert_int_equal(proxy_hs_input(&hs, (const uint8_t *)"\x05\x00\x00\x01\0\0\0\0\x9c\x41xx",
					12, &used),
			 1);
	assert_int_equal(used, 10);
	assert_int_equal(socks5_parse_reply_bnd(hs.in, hs.in_len, &rep, &bnd), 10);
	assert_int_equal(bnd.family, AF_INET);
	assert_int_equal(bnd.port, 40001);
	proxy_hs_free(&hs);

	/* A refusal ("command not supported", as microsocks answers) fails the handshake. */
	assert_int_equal(proxy_hs_init_udp(&hs, &u, &d), 0);
	proxy_hs_sent(&hs, proxy_hs_pending(&hs, &p));
	assert_int_equal(proxy_hs_input(&hs, (const uint8_t *)"\x05\x00", 2, &used), 0);
	proxy_hs_sent(&hs, proxy_hs_pending(&hs, &p));
	assert_int_equal(
		proxy_hs_input(&hs, (const uint8_t *)"\x05\x07\x00\x01\0\0\0\0\0\0", 10, &used),
		-EOPNOTSUPP);
	proxy_hs_free(&hs);

	u.type = PROXY_HTTP;
	assert_int_equal(proxy_hs_init_udp(&hs, &u, &d), -EPROTONOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assoc_build), cmocka_unit_test(test_reply_bnd),
		cmocka_unit_test(test_hdr_build),   cmocka_unit_test(test_hdr_parse),
		cmocka_unit_test(test_hs_udp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
