// SPDX-License-Identifier: GPL-2.0-only
/*
 * IP parsing, header building and Internet checksums, plus the byte ring.
 * Packets are crafted by hand so each rejection is caught by exactly the
 * check that names it; checksums are compared with a byte-at-a-time
 * reference sum written from RFC 1071, not with the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "ip.h"
#include "ring.h"
#include "tcp.h"

static const uint8_t src4[4] = { 198, 18, 0, 1 };
static const uint8_t dst4[4] = { 203, 0, 113, 7 };
static uint8_t src6[16], dst6[16];

static int setup_addrs(void **state)
{
	(void)state;
	inet_pton(AF_INET6, "fd70:7678::1", src6);
	inet_pton(AF_INET6, "2001:db8::7", dst6);
	return 0;
}

/* RFC 1071 one's-complement sum, one big-endian 16-bit word at a time. */
static uint16_t ref_sum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The folded checksum as it would sit on the wire, read as a number. */
static uint16_t wire_csum(const void *data, size_t len)
{
	uint16_t c = csum_fold(csum_add(0, data, len));
	uint8_t b[2];

	memcpy(b, &c, 2);
	return load_be16(b);
}

/* ---- IPv4 ---- */

/*
 * A 20-byte IPv4 header (plus ihl_extra option words) carrying l4_len bytes
 * of TCP-ish payload, checksummed. Returns the bytes written.
 */
static size_t mk4(uint8_t *p, size_t ihl_words, size_t l4_len)
{
	size_t hl = ihl_words * 4, i;
	uint16_t c;

	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | ihl_words);
	store_be16(p + 2, (uint16_t)(hl + l4_len));
	store_be16(p + 4, 0x1234);
	store_be16(p + 6, 0x4000); /* DF */
	p[8] = 33;
	p[9] = IPPROTO_TCP;
	memcpy(p + 12, src4, 4);
	memcpy(p + 16, dst4, 4);
	for (i = IP4_HDR_LEN; i < hl; i++)
		p[i] = 1; /* NOP options */
	c = csum_fold(csum_add(0, p, hl));
	memcpy(p + 10, &c, 2);
	for (i = 0; i < l4_len; i++)
		p[hl + i] = (uint8_t)(0xa0 + i);
	return hl + l4_len;
}

/* Re-checksums a header whose fields a test changed. */
static void fix4(uint8_t *p)
{
	size_t hl = (size_t)(p[0] & 0x0f) * 4;
	uint16_t c;

	store_be16(p + 10, 0);
	c = csum_fold(csum_add(0, p, hl));
	memcpy(p + 10, &c, 2);
}

static void test_ip4_valid(void **state)
{
	uint8_t p[128] = { 0 };
	size_t n = mk4(p, 5, 24);
	struct ip_view v;

	(void)state;
	memset(&v, 0xee, sizeof(v));
	assert_int_equal(ip_parse(p, n, &v), 0);
	assert_int_equal(v.family, AF_INET);
	assert_memory_equal(v.src, src4, 4);
	assert_memory_equal(v.dst, dst4, 4);
	assert_int_equal(v.proto, IPPROTO_TCP);
	assert_int_equal(v.ttl, 33);
	assert_ptr_equal(v.l4, p + 20);
	assert_int_equal(v.l4_len, 24);
	assert_int_equal(ip_addr_len(v.family), 4);
}

static void test_ip4_options_and_padding(void **state)
{
	uint8_t p[128] = { 0 };
	size_t n = mk4(p, 8, 10); /* 12 bytes of options */
	struct ip_view v;

	(void)state;
	assert_int_equal(ip_parse(p, n, &v), 0);
	assert_ptr_equal(v.l4, p + 32);
	assert_int_equal(v.l4_len, 10);
	/* Link padding past the total length is not payload. */
	memset(p + n, 0x55, 30);
	assert_int_equal(ip_parse(p, n + 30, &v), 0);
	assert_ptr_equal(v.l4, p + 32);
	assert_int_equal(v.l4_len, 10);
	/* Header only, nothing after it. */
	n = mk4(p, 5, 0);
	assert_int_equal(ip_parse(p, n, &v), 0);
	assert_int_equal(v.l4_len, 0);
	/* The largest header the IHL can name. */
	n = mk4(p, 15, 4);
	assert_int_equal(ip_parse(p, n, &v), 0);
	assert_ptr_equal(v.l4, p + 60);
	assert_int_equal(v.l4_len, 4);
}

static void test_ip4_short(void **state)
{
	uint8_t p[64] = { 0 };
	struct ip_view v;
	size_t n;

	(void)state;
	n = mk4(p, 5, 0);
	for (; n > 0; n--)
		assert_int_equal(ip_parse(p, n - 1, &v), -EINVAL);
	assert_int_equal(ip_parse(p, 0, &v), -EINVAL);
}

static void test_ip4_bad_ihl(void **state)
{
	uint8_t p[128] = { 0 };
	struct ip_view v;
	size_t n;
	unsigned ihl;

	(void)state;
	for (ihl = 0; ihl < 5; ihl++) {
		n = mk4(p, 5, 20);
		p[0] = (uint8_t)(0x40 | ihl);
		fix4(p);
		assert_int_equal(ip_parse(p, n, &v), -EINVAL);
	}
	/* IHL says 24 bytes, we hold 22 (and the total length agrees with us). */
	n = mk4(p, 5, 2);
	p[0] = 0x46;
	assert_int_equal(ip_parse(p, n, &v), -EINVAL);
	/* IHL 15 = 60 bytes, we hold 40. */
	n = mk4(p, 5, 20);
	p[0] = 0x4f;
	assert_int_equal(ip_parse(p, n, &v), -EINVAL);
}

static void test_ip4_bad_total_length(void **state)
{
	uint8_t p[128] = { 0 };
	struct ip_view v;
	size_t n;

	(void)state;
	/* Shorter than the header it heads. */
	n = mk4(p, 6, 8);
	store_be16(p + 2, 23);
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), -EINVAL);
	store_be16(p + 2, 0);
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), -EINVAL);
	/* Exactly the header is fine. */
	store_be16(p + 2, 24);
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), 0);
	assert_int_equal(v.l4_len, 0);
	/* Longer than what we read. */
	store_be16(p + 2, (uint16_t)(n + 1));
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), -EINVAL);
	store_be16(p + 2, 0xffff);
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), -EINVAL);
	/* A truncated read of a good packet. */
	n = mk4(p, 5, 40);
	assert_int_equal(ip_parse(p, n - 1, &v), -EINVAL);
}

static void test_ip4_bad_checksum(void **state)
{
	uint8_t p[128] = { 0 };
	struct ip_view v;
	size_t n, i;

	(void)state;
	n = mk4(p, 6, 4);
	/* Every single-bit flip in the header is caught (payload is not covered). */
	for (i = 0; i < 24 * 8; i++) {
		uint8_t save = p[i / 8];
		int r;

		p[i / 8] ^= (uint8_t)(1u << (i % 8));
		r = ip_parse(p, n, &v);
		/* Flips in version/IHL/total length may be caught by earlier checks. */
		if (i / 8 == 0 || i / 8 == 2 || i / 8 == 3)
			assert_true(r == -EPROTO || r == -EINVAL);
		else
			assert_int_equal(r, -EPROTO);
		p[i / 8] = save;
	}
	assert_int_equal(ip_parse(p, n, &v), 0);
	p[23] ^= 1; /* an option byte */
	assert_int_equal(ip_parse(p, n, &v), -EPROTO);
	p[23] ^= 1;
	p[24] ^= 1; /* payload: not the IP layer's business */
	assert_int_equal(ip_parse(p, n, &v), 0);
}

static void test_ip4_fragments(void **state)
{
	uint8_t p[128] = { 0 };
	struct ip_view v;
	size_t n;

	(void)state;
	n = mk4(p, 5, 16);
	store_be16(p + 6, 0x2000); /* MF, offset 0: first fragment */
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), -EOPNOTSUPP);
	store_be16(p + 6, 0x0001); /* offset 8 bytes: a later fragment */
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), -EOPNOTSUPP);
	store_be16(p + 6, 0x1fff);
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), -EOPNOTSUPP);
	store_be16(p + 6, 0x6000); /* DF + MF (nonsense, still a fragment) */
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), -EOPNOTSUPP);
	/* DF alone and no flags at all are whole datagrams. */
	store_be16(p + 6, 0x4000);
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), 0);
	store_be16(p + 6, 0);
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), 0);
	/* The reserved bit is not a fragment marker. */
	store_be16(p + 6, 0x8000);
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), 0);
}

static void test_bad_version(void **state)
{
	uint8_t p[128] = { 0 };
	struct ip_view v;
	size_t n;
	unsigned ver;

	(void)state;
	for (ver = 0; ver < 16; ver++) {
		if (ver == 4 || ver == 6)
			continue;
		n = mk4(p, 5, 40);
		p[0] = (uint8_t)(ver << 4 | 5);
		fix4(p);
		assert_int_equal(ip_parse(p, n, &v), -EINVAL);
	}
	/* Version 5 with otherwise perfect IPv4 and IPv6-sized contents. */
	n = mk4(p, 5, 40);
	p[0] = 0x55;
	fix4(p);
	assert_int_equal(ip_parse(p, n, &v), -EINVAL);
}

/* ---- IPv6 ---- */

/* A 40-byte IPv6 header; the caller appends plen bytes starting at p + 40. */
static void mk6(uint8_t *p, uint8_t nh, size_t plen)
{
	memset(p, 0, IP6_HDR_LEN);
	store_be32(p, 6u << 28 | 0xa5u << 20 | 0x12345); /* traffic class, flow label */
	store_be16(p + 4, (uint16_t)plen);
	p[6] = nh;
	p[7] = 17;
	memcpy(p + 8, src6, 16);
	memcpy(p + 24, dst6, 16);
}

/* An extension header of 8 * (hlen + 1) bytes; returns its length. */
static size_t ext(uint8_t *p, uint8_t nh, uint8_t hlen)
{
	size_t n = ((size_t)hlen + 1) * 8;

	memset(p, 0, n);
	p[0] = nh;
	p[1] = hlen;
	p[2] = 1; /* PadN, so the options are well formed */
	p[3] = (uint8_t)(n - 4);
	return n;
}

static void test_ip6_valid(void **state)
{
	uint8_t p[256] = { 0 };
	struct ip_view v;

	(void)state;
	mk6(p, IPPROTO_TCP, 32);
	memset(p + 40, 0x77, 32);
	assert_int_equal(ip_parse(p, 72, &v), 0);
	assert_int_equal(v.family, AF_INET6);
	assert_memory_equal(v.src, src6, 16);
	assert_memory_equal(v.dst, dst6, 16);
	assert_int_equal(v.proto, IPPROTO_TCP);
	assert_int_equal(v.ttl, 17);
	assert_ptr_equal(v.l4, p + 40);
	assert_int_equal(v.l4_len, 32);
	assert_int_equal(ip_addr_len(v.family), 16);
	/* Padding past the payload length is ignored. */
	assert_int_equal(ip_parse(p, 100, &v), 0);
	assert_int_equal(v.l4_len, 32);
	/* Empty payload. */
	mk6(p, IPPROTO_TCP, 0);
	assert_int_equal(ip_parse(p, 40, &v), 0);
	assert_int_equal(v.l4_len, 0);
	assert_ptr_equal(v.l4, p + 40);
}

static void test_ip6_short_and_lying(void **state)
{
	uint8_t p[256] = { 0 };
	struct ip_view v;
	size_t n;

	(void)state;
	memset(p, 0, sizeof(p));
	mk6(p, IPPROTO_TCP, 20);
	for (n = 0; n < IP6_HDR_LEN; n++)
		assert_int_equal(ip_parse(p, n, &v), -EINVAL);
	/* Payload length one more than we hold. */
	assert_int_equal(ip_parse(p, 59, &v), -EINVAL);
	assert_int_equal(ip_parse(p, 60, &v), 0);
	store_be16(p + 4, 0xffff);
	assert_int_equal(ip_parse(p, 60, &v), -EINVAL);
	/* Payload length 0 (a jumbogram's) is taken literally: nothing after the header. */
	store_be16(p + 4, 0);
	assert_int_equal(ip_parse(p, 60, &v), 0);
	assert_int_equal(v.l4_len, 0);
}

static void test_ip6_ext_chain(void **state)
{
	uint8_t p[512] = { 0 };
	struct ip_view v;
	size_t off = IP6_HDR_LEN;

	(void)state;
	/* ext()'s first argument is the header that follows the one it writes. */
	off += ext(p + off, IPPROTO_DSTOPTS, 0); /* hop-by-hop, 8 bytes */
	off += ext(p + off, IPPROTO_ROUTING, 2); /* destination options, 24 bytes */
	off += ext(p + off, IPPROTO_DSTOPTS, 1); /* routing, 16 bytes */
	p[off - 16 + 2] = 0;			 /* routing type 0 */
	p[off - 16 + 3] = 0;			 /* segments left 0: ours */
	off += ext(p + off, IPPROTO_TCP, 0);	 /* destination options again */
	memset(p + off, 0x42, 20);
	mk6(p, IPPROTO_HOPOPTS, off + 20 - IP6_HDR_LEN);
	assert_int_equal(ip_parse(p, off + 20, &v), 0);
	assert_int_equal(v.proto, IPPROTO_TCP);
	assert_ptr_equal(v.l4, p + off);
	assert_int_equal(v.l4_len, 20);
	/* Trailing link padding does not change where the payload ends. */
	assert_int_equal(ip_parse(p, off + 20 + 7, &v), 0);
	assert_int_equal(v.l4_len, 20);
}

static void test_ip6_ext_to_other_protocols(void **state)
{
	uint8_t p[256] = { 0 };
	struct ip_view v;
	size_t off = IP6_HDR_LEN;

	(void)state;
	off += ext(p + off, IPPROTO_UDP, 0);
	memset(p + off, 0, 8);
	mk6(p, IPPROTO_HOPOPTS, off + 8 - IP6_HDR_LEN);
	assert_int_equal(ip_parse(p, off + 8, &v), 0);
	assert_int_equal(v.proto, IPPROTO_UDP);
	assert_int_equal(v.l4_len, 8);
	/* No next header after the options: an empty upper layer. */
	off = IP6_HDR_LEN;
	off += ext(p + off, IPPROTO_NONE, 0);
	mk6(p, IPPROTO_DSTOPTS, off - IP6_HDR_LEN);
	assert_int_equal(ip_parse(p, off, &v), 0);
	assert_int_equal(v.proto, IPPROTO_NONE);
	assert_int_equal(v.l4_len, 0);
	assert_ptr_equal(v.l4, p + off);
}

static void test_ip6_routing_segments_left(void **state)
{
	uint8_t p[256] = { 0 };
	struct ip_view v;
	size_t off = IP6_HDR_LEN, rh;

	(void)state;
	off += ext(p + off, IPPROTO_ROUTING, 0);
	rh = off;
	off += ext(p + off, IPPROTO_TCP, 2);
	p[rh + 2] = 0; /* routing type 0 */
	p[rh + 3] = 1; /* one segment left: this packet is not for us */
	memset(p + off, 0, 20);
	mk6(p, IPPROTO_HOPOPTS, off + 20 - IP6_HDR_LEN);
	assert_int_equal(ip_parse(p, off + 20, &v), -EOPNOTSUPP);
	p[rh + 3] = 0;
	assert_int_equal(ip_parse(p, off + 20, &v), 0);
	assert_ptr_equal(v.l4, p + off);
	/* Directly after the fixed header too. */
	p[rh + 3] = 255;
	memmove(p + IP6_HDR_LEN, p + rh, off + 20 - rh);
	mk6(p, IPPROTO_ROUTING, off + 20 - rh);
	assert_int_equal(ip_parse(p, IP6_HDR_LEN + off + 20 - rh, &v), -EOPNOTSUPP);
}

static void test_ip6_fragment_header(void **state)
{
	uint8_t p[256] = { 0 };
	struct ip_view v;
	size_t off = IP6_HDR_LEN;

	(void)state;
	/* Atomic fragment (offset 0, M 0) is still a fragment header we do not walk. */
	memset(p + off, 0, 8);
	p[off] = IPPROTO_TCP;
	memset(p + off + 8, 0, 20);
	mk6(p, IPPROTO_FRAGMENT, 28);
	assert_int_equal(ip_parse(p, off + 28, &v), -EOPNOTSUPP);
	/* After a hop-by-hop header. */
	off += ext(p + off, IPPROTO_FRAGMENT, 0);
	memset(p + off, 0, 8);
	p[off] = IPPROTO_TCP;
	memset(p + off + 8, 0, 20);
	mk6(p, IPPROTO_HOPOPTS, off + 28 - IP6_HDR_LEN);
	assert_int_equal(ip_parse(p, off + 28, &v), -EOPNOTSUPP);
}

static void test_ip6_truncated_ext(void **state)
{
	uint8_t p[256] = { 0 };
	struct ip_view v;
	size_t off = IP6_HDR_LEN;

	(void)state;
	/* Fewer than 8 bytes left for the extension header. */
	mk6(p, IPPROTO_HOPOPTS, 7);
	memset(p + off, 0, 7);
	p[off] = IPPROTO_TCP;
	assert_int_equal(ip_parse(p, off + 7, &v), -EINVAL);
	/* No bytes at all after the fixed header. */
	mk6(p, IPPROTO_DSTOPTS, 0);
	assert_int_equal(ip_parse(p, off, &v), -EINVAL);
	/* Header length says 16 bytes, the payload length gives it 8. */
	ext(p + off, IPPROTO_TCP, 1);
	mk6(p, IPPROTO_HOPOPTS, 8);
	assert_int_equal(ip_parse(p, off + 16, &v), -EINVAL); /* bytes held past plen */
	/* Second header of a chain runs off the end. */
	off += ext(p + off, IPPROTO_DSTOPTS, 0);
	ext(p + off, IPPROTO_TCP, 3);
	mk6(p, IPPROTO_HOPOPTS, 8 + 24);
	assert_int_equal(ip_parse(p, off + 24, &v), -EINVAL);
	/* Exactly fits: fine, with an empty upper layer. */
	mk6(p, IPPROTO_HOPOPTS, 8 + 32);
	assert_int_equal(ip_parse(p, off + 32, &v), 0);
	assert_int_equal(v.l4_len, 0);
	assert_int_equal(v.proto, IPPROTO_TCP);
}

static size_t chain(uint8_t *p, int n)
{
	size_t off = IP6_HDR_LEN;
	int i;

	for (i = 0; i < n; i++)
		off += ext(p + off, i == n - 1 ? IPPROTO_TCP : IPPROTO_DSTOPTS, 0);
	memset(p + off, 0, 20);
	mk6(p, n ? IPPROTO_HOPOPTS : IPPROTO_TCP, off + 20 - IP6_HDR_LEN);
	return off;
}

static void test_ip6_too_many_ext(void **state)
{
	uint8_t p[512] = { 0 };
	struct ip_view v;
	size_t off;

	(void)state;
	off = chain(p, IP6_MAX_EXT);
	assert_int_equal(ip_parse(p, off + 20, &v), 0);
	assert_int_equal(v.proto, IPPROTO_TCP);
	assert_ptr_equal(v.l4, p + off);
	off = chain(p, IP6_MAX_EXT + 1);
	assert_int_equal(ip_parse(p, off + 20, &v), -EOPNOTSUPP);
	off = chain(p, 2 * IP6_MAX_EXT);
	assert_int_equal(ip_parse(p, off + 20, &v), -EOPNOTSUPP);
}

/* ---- checksums ---- */

static void test_csum_rfc1071(void **state)
{
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t c;
	uint8_t w[2];

	(void)state;
	assert_int_equal(ref_sum(b, sizeof(b)), 0xddf2);
	c = csum_fold(csum_add(0, b, sizeof(b)));
	memcpy(w, &c, 2);
	assert_int_equal(w[0], 0x22);
	assert_int_equal(w[1], 0x0d);
	/* The sum is byte-order independent: the folded value, read in memory order. */
	c = (uint16_t)~c;
	memcpy(w, &c, 2);
	assert_int_equal(load_be16(w), 0xddf2);
	/* The same bytes through the 2-byte path (unaligned, short). */
	assert_int_equal(wire_csum(b, 6), (uint16_t)~ref_sum(b, 6));
	assert_int_equal(wire_csum(b + 1, 7), (uint16_t)~ref_sum(b + 1, 7));
}

static void test_csum_odd_and_edge(void **state)
{
	static const uint8_t one[] = { 0x01 };
	static const uint8_t three[] = { 0x12, 0x34, 0x56 };
	static uint8_t ff[65536 + 8];

	(void)state;
	/* An odd trailing byte is the high byte of a zero-padded word. */
	assert_int_equal(wire_csum(one, 1), 0xfeff);
	assert_int_equal(wire_csum(three, 3), (uint16_t) ~(0x1234 + 0x5600));
	/* Empty: sum 0, checksum 0xffff. */
	assert_int_equal(wire_csum(one, 0), 0xffff);
	assert_int_equal(csum_add(0, NULL, 0), 0);
	/* Lots of carries: 64 KiB of 0xff sums to 0xffff (negative zero). */
	memset(ff, 0xff, sizeof(ff));
	assert_int_equal(wire_csum(ff, 65536), 0);
	assert_int_equal(wire_csum(ff, 65535), (uint16_t)~ref_sum(ff, 65535));
	assert_int_equal(wire_csum(ff + 1, 65536 + 7), (uint16_t)~ref_sum(ff, 65536 + 7));
	/* Folding an already-folded value and a carry-heavy one. */
	assert_int_equal(csum_fold(0), 0xffff);
	assert_int_equal(csum_fold(0xffff), 0);
	assert_int_equal(csum_fold(0xffffffff), 0);
	assert_int_equal(csum_fold(0x0001fffe), 0);
	assert_int_equal(csum_fold(0x00010000), 0xfffe);
}

static void test_csum_vs_reference(void **state)
{
	uint8_t buf[300];
	size_t len, off, cut;
	uint32_t x = 0x12345678;

	(void)state;
	for (len = 0; len < sizeof(buf); len++) {
		x = x * 1103515245 + 12345;
		buf[len] = (uint8_t)(x >> 16);
	}
	buf[17] = buf[18] = buf[19] = 0xff;
	for (off = 0; off < 8; off++) {
		for (len = 0; len + off <= 150; len++) {
			const uint8_t *p = buf + off;

			assert_int_equal(wire_csum(p, len), (uint16_t)~ref_sum(p, len));
			/* Chaining at any even cut gives the same sum. */
			for (cut = 0; cut <= len; cut += 2) {
				uint32_t s = csum_add(csum_add(0, p, cut), p + cut, len - cut);

				assert_int_equal(csum_fold(s), csum_fold(csum_add(0, p, len)));
			}
		}
	}
	/* A non-zero starting sum is added in, not replaced. */
	assert_int_equal(csum_fold(csum_add(csum_add(0, buf, 64), buf + 64, 100)),
			 csum_fold(csum_add(0, buf, 164)));
}

/* Builds pseudo-header bytes by hand (RFC 793 / RFC 8200 8.1) for comparison. */
static size_t pseudo_bytes(uint8_t *p, int family, const uint8_t *s, const uint8_t *d,
			   uint8_t proto, uint32_t len)
{
	if (family == AF_INET) {
		memcpy(p, s, 4);
		memcpy(p + 4, d, 4);
		p[8] = 0;
		p[9] = proto;
		store_be16(p + 10, (uint16_t)len);
		return 12;
	}
	memcpy(p, s, 16);
	memcpy(p + 16, d, 16);
	store_be32(p + 32, len);
	p[36] = p[37] = p[38] = 0;
	p[39] = proto;
	return 40;
}

static void test_csum_pseudo_bytes(void **state)
{
	uint8_t p[40];
	size_t n;

	(void)state;
	n = pseudo_bytes(p, AF_INET, src4, dst4, IPPROTO_TCP, 1234);
	assert_int_equal(csum_fold(csum_pseudo(AF_INET, src4, dst4, IPPROTO_TCP, 1234)),
			 csum_fold(csum_add(0, p, n)));
	n = pseudo_bytes(p, AF_INET6, src6, dst6, IPPROTO_TCP, 70000);
	assert_int_equal(csum_fold(csum_pseudo(AF_INET6, src6, dst6, IPPROTO_TCP, 70000)),
			 csum_fold(csum_add(0, p, n)));
	assert_int_equal(wire_csum(p, n), (uint16_t)~ref_sum(p, n));
}

/*
 * A TCP segment behind a header from ip_build_hdr, checksummed with
 * csum_pseudo + csum_add. Returns the packet length.
 */
static size_t mk_tcp(uint8_t *pkt, int family, size_t datalen)
{
	const uint8_t *s = family == AF_INET ? src4 : src6;
	const uint8_t *d = family == AF_INET ? dst4 : dst6;
	static const uint8_t opt[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };
	size_t tl = TCP_HDR_LEN + sizeof(opt), hl, i;
	uint8_t *t;
	uint16_t c;

	hl = ip_build_hdr(pkt, family, s, d, IPPROTO_TCP, tl + datalen);
	t = pkt + hl;
	memset(t, 0, TCP_HDR_LEN);
	store_be16(t, 40000);
	store_be16(t + 2, 443);
	store_be32(t + 4, 0xfffffff0);
	store_be32(t + 8, 77);
	t[12] = (uint8_t)((tl / 4) << 4);
	t[13] = TCP_ACK | TCP_PSH;
	store_be16(t + 14, 5000);
	memcpy(t + TCP_HDR_LEN, opt, sizeof(opt));
	for (i = 0; i < datalen; i++)
		t[tl + i] = (uint8_t)(i * 7 + 3);
	c = csum_fold(csum_add(csum_pseudo(family, s, d, IPPROTO_TCP, (uint32_t)(tl + datalen)), t,
			       tl + datalen));
	memcpy(t + 16, &c, 2);
	return hl + tl + datalen;
}

static void check_tcp_csum(int family)
{
	uint8_t pkt[2048];
	struct ip_view v;
	struct tcp_seg s;
	size_t lens[] = { 0, 1, 2, 3, 100, 101, 1400, 1401 };
	size_t i, n, at;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		n = mk_tcp(pkt, family, lens[i]);
		assert_int_equal(ip_parse(pkt, n, &v), 0);
		assert_int_equal(v.family, family);
		assert_int_equal(v.proto, IPPROTO_TCP);
		assert_int_equal(tcp_parse(&v, &s), 0);
		assert_int_equal(s.sport, 40000);
		assert_int_equal(s.dport, 443);
		assert_int_equal(s.seq, 0xfffffff0);
		assert_int_equal(s.ack, 77);
		assert_int_equal(s.flags, TCP_ACK | TCP_PSH);
		assert_int_equal(s.wnd, 5000);
		assert_int_equal(s.mss, 1460);
		assert_int_equal(s.wscale, 7);
		assert_int_equal(s.len, lens[i]);
		assert_ptr_equal(s.data, v.l4 + 28);
		/* The whole segment sums to negative zero against the reference too. */
		{
			uint8_t ph[40];
			size_t pl = pseudo_bytes(ph, family, v.src, v.dst, IPPROTO_TCP,
						 (uint32_t)v.l4_len);
			uint32_t sum = (uint32_t)ref_sum(ph, pl) + ref_sum(v.l4, v.l4_len);

			sum = (sum & 0xffff) + (sum >> 16);
			assert_int_equal(sum, 0xffff);
		}
		/* One flipped byte anywhere in the segment: -EPROTO. */
		at = lens[i] ? n - 1 - lens[i] / 2 : n - 5;
		pkt[at] ^= 0x10;
		assert_int_equal(ip_parse(pkt, n, &v), 0);
		assert_int_equal(tcp_parse(&v, &s), -EPROTO);
		pkt[at] ^= 0x10;
		/* The pseudo-header binds the addresses: another source fails too. */
		v.src[ip_addr_len(family) - 1] ^= 1;
		assert_int_equal(tcp_parse(&v, &s), -EPROTO);
	}
}

static void test_csum_tcp_v4(void **state)
{
	(void)state;
	check_tcp_csum(AF_INET);
}

static void test_csum_tcp_v6(void **state)
{
	(void)state;
	check_tcp_csum(AF_INET6);
}

/* ---- ip_build_hdr ---- */

static void test_build_v4(void **state)
{
	uint8_t p[IP_MAX_HDR + 100];
	struct ip_view v;
	size_t hl;

	(void)state;
	memset(p, 0xcc, sizeof(p));
	hl = ip_build_hdr(p, AF_INET, src4, dst4, IPPROTO_TCP, 100);
	assert_int_equal(hl, IP4_HDR_LEN);
	assert_true(hl <= IP_MAX_HDR);
	assert_int_equal(p[0], 0x45);
	assert_int_equal(load_be16(p + 2), 120);
	assert_int_equal(load_be16(p + 6), 0x4000); /* DF, offset 0 */
	assert_int_equal(p[8], 64);
	assert_int_equal(ref_sum(p, hl), 0xffff); /* header checksum valid */
	assert_int_equal(ip_parse(p, hl + 100, &v), 0);
	assert_int_equal(v.family, AF_INET);
	assert_memory_equal(v.src, src4, 4);
	assert_memory_equal(v.dst, dst4, 4);
	assert_int_equal(v.proto, IPPROTO_TCP);
	assert_int_equal(v.ttl, 64);
	assert_ptr_equal(v.l4, p + 20);
	assert_int_equal(v.l4_len, 100);
	/* Stale bytes in the checksum field do not leak into the new checksum. */
	hl = ip_build_hdr(p, AF_INET, dst4, src4, IPPROTO_UDP, 0);
	assert_int_equal(ip_parse(p, hl, &v), 0);
	assert_int_equal(v.proto, IPPROTO_UDP);
	assert_memory_equal(v.src, dst4, 4);
	assert_int_equal(v.l4_len, 0);
}

static void test_build_v6(void **state)
{
	uint8_t p[IP_MAX_HDR + 100];
	struct ip_view v;
	size_t hl;

	(void)state;
	memset(p, 0xcc, sizeof(p));
	hl = ip_build_hdr(p, AF_INET6, src6, dst6, IPPROTO_TCP, 60);
	assert_int_equal(hl, IP6_HDR_LEN);
	assert_int_equal(load_be32(p), 6u << 28); /* class and flow label 0 */
	assert_int_equal(load_be16(p + 4), 60);
	assert_int_equal(p[6], IPPROTO_TCP);
	assert_int_equal(p[7], 64);
	assert_int_equal(ip_parse(p, hl + 60, &v), 0);
	assert_int_equal(v.family, AF_INET6);
	assert_memory_equal(v.src, src6, 16);
	assert_memory_equal(v.dst, dst6, 16);
	assert_int_equal(v.proto, IPPROTO_TCP);
	assert_int_equal(v.ttl, 64);
	assert_ptr_equal(v.l4, p + 40);
	assert_int_equal(v.l4_len, 60);
}

/* ---- UDP and ICMP errors ---- */

/* A UDP datagram built by udp_build_hdr, payload after the header. */
static size_t mk_udp(uint8_t *p, int family, size_t plen)
{
	const uint8_t *s = family == AF_INET6 ? src6 : src4;
	const uint8_t *d = family == AF_INET6 ? dst6 : dst4;
	uint8_t pay[1500] = { 0 };
	size_t i, hl;

	for (i = 0; i < plen; i++)
		pay[i] = (uint8_t)(0x30 + i);
	hl = udp_build_hdr(p, family, s, 5353, d, 53, pay, plen);
	assert_int_equal(hl, (family == AF_INET6 ? IP6_HDR_LEN : IP4_HDR_LEN) + UDP_HDR_LEN);
	memcpy(p + hl, pay, plen);
	return hl + plen;
}

/* The pseudo-header + UDP sum, byte by byte from RFC 768. */
static uint16_t ref_udp_sum(const struct ip_view *v, size_t ulen)
{
	uint8_t ph[40 + 1600];
	size_t al = ip_addr_len(v->family), n;

	memcpy(ph, v->src, al);
	memcpy(ph + al, v->dst, al);
	if (v->family == AF_INET6) {
		store_be32(ph + 32, (uint32_t)ulen);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = IPPROTO_UDP;
		n = 40;
	} else {
		ph[8] = 0;
		ph[9] = IPPROTO_UDP;
		store_be16(ph + 10, (uint16_t)ulen);
		n = 12;
	}
	memcpy(ph + n, v->l4, ulen);
	return ref_sum(ph, n + ulen);
}

static void test_udp_roundtrip(void **state)
{
	int fams[2] = { AF_INET, AF_INET6 }, i;

	(void)state;
	for (i = 0; i < 2; i++) {
		uint8_t p[1600];
		size_t n = mk_udp(p, fams[i], 33);
		struct ip_view v;
		struct udp_view u;

		assert_int_equal(ip_parse(p, n, &v), 0);
		assert_int_equal(v.proto, IPPROTO_UDP);
		assert_int_equal(ref_udp_sum(&v, v.l4_len), 0xffff);
		memset(&u, 0xee, sizeof(u));
		assert_int_equal(udp_parse(&v, &u), 0);
		assert_int_equal(u.sport, 5353);
		assert_int_equal(u.dport, 53);
		assert_int_equal(u.len, 33);
		assert_ptr_equal(u.data, v.l4 + UDP_HDR_LEN);
		assert_int_equal(u.data[0], 0x30);
		/* Empty payload. */
		n = mk_udp(p, fams[i], 0);
		assert_int_equal(ip_parse(p, n, &v), 0);
		assert_int_equal(udp_parse(&v, &u), 0);
		assert_int_equal(u.len, 0);
	}
}

static void test_udp_checksum(void **state)
{
	uint8_t p[256];
	size_t n;
	struct ip_view v;
	struct udp_view u;

	(void)state;
	/* One flipped payload bit: -EPROTO. */
	n = mk_udp(p, AF_INET, 20);
	p[n - 1] ^= 1;
	assert_int_equal(ip_parse(p, n, &v), 0);
	assert_int_equal(udp_parse(&v, &u), -EPROTO);
	/* IPv4 zero checksum: "none", accepted even with the payload changed. */
	store_be16(p + IP4_HDR_LEN + 6, 0);
	assert_int_equal(udp_parse(&v, &u), 0);
	/* IPv6 zero checksum: invalid (RFC 8200 8.1). */
	n = mk_udp(p, AF_INET6, 20);
	store_be16(p + IP6_HDR_LEN + 6, 0);
	assert_int_equal(ip_parse(p, n, &v), 0);
	assert_int_equal(udp_parse(&v, &u), -EPROTO);
	n = mk_udp(p, AF_INET6, 20);
	p[IP6_HDR_LEN + 9] ^= 0x80;
	assert_int_equal(ip_parse(p, n, &v), 0);
	assert_int_equal(udp_parse(&v, &u), -EPROTO);
}

static void test_udp_lengths(void **state)
{
	uint8_t p[256];
	size_t n = mk_udp(p, AF_INET, 20);
	uint8_t *uh = p + IP4_HDR_LEN;
	struct ip_view v;
	struct udp_view u;

	(void)state;
	assert_int_equal(ip_parse(p, n, &v), 0);
	/* The length field past the IP payload, or below the header. */
	store_be16(uh + 4, 29);
	assert_int_equal(udp_parse(&v, &u), -EINVAL);
	store_be16(uh + 4, 7);
	assert_int_equal(udp_parse(&v, &u), -EINVAL);
	store_be16(uh + 4, 0);
	assert_int_equal(udp_parse(&v, &u), -EINVAL);
	/* Shorter than the IP payload: the rest is ignored (checksum off). */
	store_be16(uh + 4, 12);
	store_be16(uh + 6, 0);
	assert_int_equal(udp_parse(&v, &u), 0);
	assert_int_equal(u.len, 4);
	/* An IP payload too short for a UDP header. */
	v.l4_len = 7;
	assert_int_equal(udp_parse(&v, &u), -EINVAL);
	v.l4_len = 0;
	assert_int_equal(udp_parse(&v, &u), -EINVAL);
}

/* Checks an ICMP error: addresses swapped, type/code, checksum, quote. */
static void check_unreach_code(const uint8_t *out, size_t n, const uint8_t *orig, size_t qlen,
			       int family, uint8_t code4, uint8_t code6)
{
	struct ip_view w;
	size_t hl = family == AF_INET6 ? IP6_HDR_LEN : IP4_HDR_LEN;

	assert_int_equal(ip_parse(out, n, &w), 0);
	assert_int_equal(n, hl + ICMP_HDR_LEN + qlen);
	assert_memory_equal(w.src, family == AF_INET6 ? dst6 : dst4, ip_addr_len(family));
	assert_memory_equal(w.dst, family == AF_INET6 ? src6 : src4, ip_addr_len(family));
	if (family == AF_INET6) {
		uint8_t ph[40 + ICMP6_ERR_MAX];

		assert_int_equal(w.proto, IPPROTO_ICMPV6);
		assert_int_equal(w.l4[0], 1);
		assert_int_equal(w.l4[1], code6);
		memcpy(ph, w.src, 16);
		memcpy(ph + 16, w.dst, 16);
		store_be32(ph + 32, (uint32_t)w.l4_len);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = IPPROTO_ICMPV6;
		memcpy(ph + 40, w.l4, w.l4_len);
		assert_int_equal(ref_sum(ph, 40 + w.l4_len), 0xffff);
		assert_true(n <= ICMP6_ERR_MAX);
	} else {
		assert_int_equal(w.proto, IPPROTO_ICMP);
		assert_int_equal(w.l4[0], 3);
		assert_int_equal(w.l4[1], code4);
		assert_int_equal(ref_sum(w.l4, w.l4_len), 0xffff);
		assert_true(n <= ICMP4_ERR_MAX);
	}
	assert_int_equal(load_be32(w.l4 + 4), 0);
	assert_memory_equal(w.l4 + ICMP_HDR_LEN, orig, qlen);
}

static void check_unreach(const uint8_t *out, size_t n, const uint8_t *orig, size_t qlen,
			  int family)
{
	check_unreach_code(out, n, orig, qlen, family, 3, 4); /* port unreachable */
}

static void test_icmp_unreach(void **state)
{
	int fams[2] = { AF_INET, AF_INET6 }, i;

	(void)state;
	for (i = 0; i < 2; i++) {
		int f = fams[i];
		size_t max = f == AF_INET6 ? ICMP6_ERR_MAX : ICMP4_ERR_MAX;
		size_t hl = f == AF_INET6 ? IP6_HDR_LEN : IP4_HDR_LEN;
		uint8_t p[1600], out[ICMP6_ERR_MAX];
		struct ip_view v;
		size_t n, m;

		/* Small: quoted whole, link padding left out. */
		n = mk_udp(p, f, 10);
		memset(p + n, 0x77, 16);
		assert_int_equal(ip_parse(p, n + 16, &v), 0);
		m = icmp_build_port_unreach(out, p, n + 16, &v);
		check_unreach(out, m, p, n, f);
		/* Large: cut at 576 / 1280 bytes in all. */
		n = mk_udp(p, f, 1400);
		assert_int_equal(ip_parse(p, n, &v), 0);
		m = icmp_build_port_unreach(out, p, n, &v);
		assert_int_equal(m, max);
		check_unreach(out, m, p, max - hl - ICMP_HDR_LEN, f);
	}
}

/* Each reason's code: v4 (RFC 792) and v6 (RFC 4443), the kernel's errno for each. */
static void test_icmp_unreach_codes(void **state)
{
	static const struct {
		enum icmp_unreach why;
		uint8_t code4, code6;
	} t[] = {
		{ ICMP_UNREACH_NET, 0, 0 },  /* ENETUNREACH */
		{ ICMP_UNREACH_HOST, 1, 3 }, /* EHOSTUNREACH */
		{ ICMP_UNREACH_PORT, 3, 4 }, /* ECONNREFUSED */
	};
	int fams[2] = { AF_INET, AF_INET6 }, i;
	size_t k;

	(void)state;
	for (i = 0; i < 2; i++) {
		uint8_t p[256], out[ICMP6_ERR_MAX];
		struct ip_view v;
		size_t n = mk_udp(p, fams[i], 10);

		assert_int_equal(ip_parse(p, n, &v), 0);
		for (k = 0; k < sizeof(t) / sizeof(t[0]); k++)
			check_unreach_code(out, icmp_build_unreach(out, p, n, &v, t[k].why), p, n,
					   fams[i], t[k].code4, t[k].code6);
		assert_int_equal(icmp_build_unreach(out, p, n, &v, ICMP_UNREACH_MAX), 0);
	}
}

static void test_icmp_unreach_forbidden(void **state)
{
	uint8_t p[256], out[ICMP6_ERR_MAX];
	struct ip_view v;
	size_t n;

	(void)state;
	n = mk_udp(p, AF_INET, 4);
	assert_int_equal(ip_parse(p, n, &v), 0);
	v.dst[0] = 224; /* multicast */
	assert_int_equal(icmp_build_port_unreach(out, p, n, &v), 0);
	memset(v.dst, 255, 4); /* limited broadcast */
	assert_int_equal(icmp_build_port_unreach(out, p, n, &v), 0);
	memcpy(v.dst, dst4, 4);
	memset(v.src, 0, 4); /* unspecified source */
	assert_int_equal(icmp_build_port_unreach(out, p, n, &v), 0);
	memcpy(v.src, src4, 4);
	/* An ICMP error is never answered with one; an echo request may be. */
	v.proto = IPPROTO_ICMP;
	p[IP4_HDR_LEN] = 3;
	assert_int_equal(icmp_build_port_unreach(out, p, n, &v), 0);
	p[IP4_HDR_LEN] = 8;
	assert_int_not_equal(icmp_build_port_unreach(out, p, n, &v), 0);
	n = mk_udp(p, AF_INET6, 4);
	assert_int_equal(ip_parse(p, n, &v), 0);
	v.dst[0] = 0xff;
	assert_int_equal(icmp_build_port_unreach(out, p, n, &v), 0);
	memcpy(v.dst, dst6, 16);
	v.proto = IPPROTO_ICMPV6;
	p[IP6_HDR_LEN] = 1;
	assert_int_equal(icmp_build_port_unreach(out, p, n, &v), 0);
	p[IP6_HDR_LEN] = 128;
	assert_int_not_equal(icmp_build_port_unreach(out, p, n, &v), 0);
}

/* ---- ring ---- */

static void fill_pattern(uint8_t *p, size_t n, uint8_t start)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

/* Gathers n bytes at off through ring_peek. Returns the iovec count. */
static int gather(const struct ring *r, size_t off, size_t n, uint8_t *out, size_t *got)
{
	struct iovec iov[2];
	int cnt = ring_peek(r, off, n, iov), i;

	*got = 0;
	for (i = 0; i < cnt; i++) {
		memcpy(out + *got, iov[i].iov_base, iov[i].iov_len);
		*got += iov[i].iov_len;
	}
	return cnt;
}

static void test_ring_lazy(void **state)
{
	struct ring r;
	struct iovec iov[2];
	uint8_t b[8];

	(void)state;
	ring_init(&r, 16);
	assert_null(r.buf);
	assert_int_equal(r.cap, 16);
	assert_int_equal(ring_space(&r), 16);
	assert_int_equal(ring_peek(&r, 0, 16, iov), 0);
	ring_consume(&r, 0);
	assert_null(r.buf);
	ring_fini(&r); /* nothing to free */
	assert_null(r.buf);
	assert_int_equal(ring_reserve(&r, iov), 1);
	assert_non_null(r.buf);
	assert_ptr_equal(iov[0].iov_base, r.buf);
	assert_int_equal(iov[0].iov_len, 16);
	assert_int_equal(r.len, 0); /* reserving holds nothing */
	ring_fini(&r);
	assert_null(r.buf);
	assert_int_equal(ring_space(&r), 16);
	/* ring_write allocates too, and fini after use resets everything. */
	fill_pattern(b, sizeof(b), 1);
	assert_int_equal(ring_write(&r, b, sizeof(b)), 8);
	assert_non_null(r.buf);
	ring_fini(&r);
	assert_null(r.buf);
	assert_int_equal(r.len, 0);
	assert_int_equal(r.head, 0);
	/* A zero-capacity ring never allocates. */
	ring_init(&r, 0);
	assert_int_equal(ring_reserve(&r, iov), 0);
	assert_int_equal(ring_write(&r, b, 1), 0);
	assert_null(r.buf);
}

static void test_ring_wrap(void **state)
{
	struct ring r;
	struct iovec iov[2];
	uint8_t in[16], out[16];
	size_t got;

	(void)state;
	ring_init(&r, 8);
	fill_pattern(in, sizeof(in), 0x10);
	assert_int_equal(ring_write(&r, in, 6), 6);
	ring_consume(&r, 4);
	assert_int_equal(r.head, 4);
	assert_int_equal(r.len, 2);
	/* Free space wraps: [6, 8) then [0, 4). */
	assert_int_equal(ring_reserve(&r, iov), 2);
	assert_ptr_equal(iov[0].iov_base, r.buf + 6);
	assert_int_equal(iov[0].iov_len, 2);
	assert_ptr_equal(iov[1].iov_base, r.buf);
	assert_int_equal(iov[1].iov_len, 4);
	memcpy(iov[0].iov_base, in + 6, 2);
	memcpy(iov[1].iov_base, in + 8, 3);
	ring_commit(&r, 5);
	assert_int_equal(r.len, 7);
	assert_int_equal(ring_space(&r), 1);
	/* Held bytes wrap: peek gives two pieces in order. */
	assert_int_equal(gather(&r, 0, 7, out, &got), 2);
	assert_int_equal(got, 7);
	assert_memory_equal(out, in + 4, 7);
	/* Offsets: one piece entirely past the wrap, one straddling, one before it. */
	assert_int_equal(gather(&r, 4, 3, out, &got), 1);
	assert_int_equal(got, 3);
	assert_memory_equal(out, in + 8, 3);
	assert_int_equal(ring_peek(&r, 4, 3, iov), 1);
	assert_ptr_equal(iov[0].iov_base, r.buf);
	assert_int_equal(gather(&r, 2, 3, out, &got), 2);
	assert_memory_equal(out, in + 6, 3);
	assert_int_equal(gather(&r, 0, 2, out, &got), 1);
	assert_memory_equal(out, in + 4, 2);
	/* n past what is held is clipped; off at or past the end is nothing. */
	assert_int_equal(gather(&r, 5, 100, out, &got), 1);
	assert_int_equal(got, 2);
	assert_memory_equal(out, in + 9, 2);
	assert_int_equal(ring_peek(&r, 7, 1, iov), 0);
	assert_int_equal(ring_peek(&r, 100, 1, iov), 0);
	assert_int_equal(ring_peek(&r, 0, 0, iov), 0);
	/* Free space is now one contiguous byte in the middle. */
	assert_int_equal(ring_reserve(&r, iov), 1);
	assert_ptr_equal(iov[0].iov_base, r.buf + 3);
	assert_int_equal(iov[0].iov_len, 1);
	/* Consuming across the wrap. */
	ring_consume(&r, 5);
	assert_int_equal(r.head, 1);
	assert_int_equal(r.len, 2);
	assert_int_equal(gather(&r, 0, 2, out, &got), 1);
	assert_memory_equal(out, in + 9, 2);
	/* Draining resets head so the next write is contiguous. */
	ring_consume(&r, 2);
	assert_int_equal(r.len, 0);
	assert_int_equal(r.head, 0);
	assert_int_equal(ring_reserve(&r, iov), 1);
	assert_int_equal(iov[0].iov_len, 8);
	ring_fini(&r);
}

static void test_ring_write_partial(void **state)
{
	struct ring r;
	struct iovec iov[2];
	uint8_t in[32], out[32];
	size_t got;

	(void)state;
	ring_init(&r, 8);
	fill_pattern(in, sizeof(in), 0x40);
	assert_int_equal(ring_write(&r, in, 10), 8); /* only what fits */
	assert_int_equal(ring_space(&r), 0);
	assert_int_equal(ring_write(&r, in, 1), 0); /* full */
	assert_int_equal(ring_reserve(&r, iov), 0);
	assert_int_equal(gather(&r, 0, 8, out, &got), 1);
	assert_int_equal(got, 8);
	assert_memory_equal(out, in, 8);
	/* Make room at the front: the next write wraps around. */
	ring_consume(&r, 3);
	assert_int_equal(ring_write(&r, in + 8, 5), 3);
	assert_int_equal(r.len, 8);
	assert_int_equal(gather(&r, 0, 8, out, &got), 2);
	assert_int_equal(got, 8);
	assert_memory_equal(out, in + 3, 8);
	/* Wrapped free space split over both pieces, partial write into both. */
	ring_consume(&r, 6); /* head 1, len 2: held [1, 3) */
	assert_int_equal(r.head, 1);
	ring_consume(&r, 1);				 /* head 2, len 1 */
	assert_int_equal(ring_write(&r, in + 20, 6), 6); /* [3, 8) and [0, 1) */
	assert_int_equal(r.len, 7);
	assert_int_equal(gather(&r, 1, 6, out, &got), 2);
	assert_memory_equal(out, in + 20, 6);
	assert_int_equal(ring_write(&r, in, 0), 0);
	assert_int_equal(r.len, 7);
	ring_fini(&r);
}

/* Storage grows by doubling as the ring fills, keeping held and parked bytes. */
static void test_ring_grows(void **state)
{
	static uint8_t in[4 * RING_MIN_ALLOC], out[4 * RING_MIN_ALLOC];
	struct ring r;
	struct iovec iov[2];
	size_t mem = 0, got, i;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 13 + 7);
	ring_init(&r, sizeof(in));
	r.mem = &mem;
	assert_int_equal(ring_write(&r, in, 100), 100);
	assert_int_equal(r.size, RING_MIN_ALLOC);
	assert_int_equal(mem, RING_MIN_ALLOC);
	/* Wrap the small storage, then park bytes past what is held. */
	ring_consume(&r, 50);
	assert_int_equal(ring_write(&r, in + 100, RING_MIN_ALLOC - 60), RING_MIN_ALLOC - 60);
	assert_int_equal(ring_write_at(&r, r.len + 1000, in + 5000, 3000), 0);
	assert_true(r.size >= r.len + 4000);
	assert_int_equal(mem, r.size);
	assert_int_equal(gather(&r, 0, r.len, out, &got), 1); /* linear after growing */
	assert_int_equal(got, RING_MIN_ALLOC - 10);
	assert_memory_equal(out, in + 50, got);
	ring_commit(&r, 4000); /* the gap and the parked bytes become held */
	assert_int_equal(ring_peek(&r, RING_MIN_ALLOC - 10 + 1000, 3000, iov), 1);
	assert_memory_equal(iov[0].iov_base, in + 5000, 3000);
	/* Reserve grows toward cap once less than half the storage is free. */
	while (ring_space(&r)) {
		int cnt = ring_reserve(&r, iov);

		assert_true(cnt > 0);
		ring_commit(&r, iov[0].iov_len);
	}
	assert_int_equal(r.size, sizeof(in));
	assert_int_equal(mem, sizeof(in));
	ring_fini(&r);
	assert_int_equal(mem, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip4_valid),
		cmocka_unit_test(test_ip4_options_and_padding),
		cmocka_unit_test(test_ip4_short),
		cmocka_unit_test(test_ip4_bad_ihl),
		cmocka_unit_test(test_ip4_bad_total_length),
		cmocka_unit_test(test_ip4_bad_checksum),
		cmocka_unit_test(test_ip4_fragments),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_ip6_valid),
		cmocka_unit_test(test_ip6_short_and_lying),
		cmocka_unit_test(test_ip6_ext_chain),
		cmocka_unit_test(test_ip6_ext_to_other_protocols),
		cmocka_unit_test(test_ip6_routing_segments_left),
		cmocka_unit_test(test_ip6_fragment_header),
		cmocka_unit_test(test_ip6_truncated_ext),
		cmocka_unit_test(test_ip6_too_many_ext),
		cmocka_unit_test(test_csum_rfc1071),
		cmocka_unit_test(test_csum_odd_and_edge),
		cmocka_unit_test(test_csum_vs_reference),
		cmocka_unit_test(test_csum_pseudo_bytes),
		cmocka_unit_test(test_csum_tcp_v4),
		cmocka_unit_test(test_csum_tcp_v6),
		cmocka_unit_test(test_build_v4),
		cmocka_unit_test(test_build_v6),
		cmocka_unit_test(test_udp_roundtrip),
		cmocka_unit_test(test_udp_checksum),
		cmocka_unit_test(test_udp_lengths),
		cmocka_unit_test(test_icmp_unreach),
		cmocka_unit_test(test_icmp_unreach_codes),
		cmocka_unit_test(test_icmp_unreach_forbidden),
		cmocka_unit_test(test_ring_lazy),
		cmocka_unit_test(test_ring_wrap),
		cmocka_unit_test(test_ring_grows),
		cmocka_unit_test(test_ring_write_partial),
	};

	return cmocka_run_group_tests_name("ip", tests, setup_addrs, NULL);
}
