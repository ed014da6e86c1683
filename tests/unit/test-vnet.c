// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-net header of an offloading TUN (vnet.c): parse and build, and
 * the checks of a frame's header against its packet. Frames are crafted by
 * hand; the header is untrusted input, so every lie it can tell is tried.
 * Checksums are compared with a byte-at-a-time RFC 1071 reference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "ip.h"
#include "vnet.h"

static const uint8_t src4[4] = { 198, 18, 0, 1 }, dst4[4] = { 203, 0, 113, 7 };
static const uint8_t src6[16] = { 0xfd, 0x70, 0x76, 0x78, [15] = 1 };
static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };

static uint16_t ref_sum(const uint8_t *p, size_t len, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/*
 * A frame: header h, then an IP packet (family) carrying proto with an
 * l4len-byte L4 part (a 20-byte TCP or 8-byte UDP header, then payload).
 * Returns the frame length.
 */
static size_t frame(uint8_t *buf, const struct vnet_hdr *h, int family, uint8_t proto, size_t l4len)
{
	uint8_t *p = buf + VNET_HDR_LEN;
	size_t hl, i;

	vnet_build(buf, h);
	hl = ip_build_hdr(p, family, family == AF_INET ? src4 : src6,
			  family == AF_INET ? dst4 : dst6, proto, l4len);
	for (i = 0; i < l4len; i++)
		p[hl + i] = (uint8_t)(i * 31 + 5);
	if (proto == IPPROTO_TCP)
		p[hl + 12] = 5 << 4; /* data offset: 20 bytes */
	else if (proto == IPPROTO_UDP)
		store_be16(p + hl + 4, (uint16_t)l4len);
	return VNET_HDR_LEN + hl + l4len;
}

static void test_parse_build_roundtrip(void **state)
{
	struct vnet_hdr h = { VNET_F_NEEDS_CSUM, VNET_GSO_TCPV6 | VNET_GSO_ECN, 74, 1428, 40, 16 };
	struct vnet_hdr g;
	uint8_t b[VNET_HDR_LEN];

	(void)state;
	vnet_build(b, &h);
	assert_int_equal(vnet_parse(b, sizeof(b), &g), 0);
	assert_memory_equal(&g, &h, sizeof(h));
	/* Host byte order, as the kernel writes it without TUNSETVNETLE/BE. */
	assert_memory_equal(b + 4, &h.gso_size, 2);
}

static void test_parse_rejects(void **state)
{
	struct vnet_hdr h = { 0 }, g;
	uint8_t b[VNET_HDR_LEN];

	(void)state;
	vnet_build(b, &h);
	assert_int_equal(vnet_parse(b, VNET_HDR_LEN - 1, &g), -EINVAL); /* short */
	assert_int_equal(vnet_parse(b, 0, &g), -EINVAL);
	h.flags = 8; /* unknown flag */
	vnet_build(b, &h);
	assert_int_equal(vnet_parse(b, sizeof(b), &g), -EINVAL);
	h.flags = 0;
	h.gso_type = 2; /* not a GSO type (VIRTIO_NET_HDR_GSO_UDP is 3) */
	h.gso_size = 1000;
	vnet_build(b, &h);
	assert_int_equal(vnet_parse(b, sizeof(b), &g), -EINVAL);
	h.gso_type = VNET_GSO_TCPV4;
	h.gso_size = 0; /* GSO without a segment size */
	vnet_build(b, &h);
	assert_int_equal(vnet_parse(b, sizeof(b), &g), -EINVAL);
}

static void test_frame_plain(void **state)
{
	static uint8_t buf[2048];
	struct vnet_hdr h = { 0 }, g;
	struct ip_view v;
	size_t n = frame(buf, &h, AF_INET, IPPROTO_TCP, 100);

	(void)state;
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), 0);
	assert_false(v.csum_ok); /* nobody vouched: the stack checks */
	assert_int_equal(v.proto, IPPROTO_TCP);
	assert_int_equal(v.l4_len, 100);
	h.flags = VNET_F_DATA_VALID;
	n = frame(buf, &h, AF_INET6, IPPROTO_TCP, 100);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), 0);
	assert_true(v.csum_ok);
	/* Header only, or a broken packet behind a good header: ip_parse's verdict. */
	assert_int_equal(vnet_frame_parse(buf, VNET_HDR_LEN, &g, &v), -EINVAL);
	assert_int_equal(vnet_frame_parse(buf, 5, &g, &v), -EINVAL);
}

static void test_frame_tso_in(void **state)
{
	static uint8_t buf[70000];
	struct vnet_hdr h = { VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, 40, 1448, 20, 16 }, g;
	struct ip_view v;
	size_t n = frame(buf, &h, AF_INET, IPPROTO_TCP, 65000);

	(void)state;
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), 0);
	assert_true(v.csum_ok);
	assert_int_equal(v.l4_len, 65000);
	assert_int_equal(g.gso_size, 1448);
	h.gso_type = VNET_GSO_TCPV6; /* family mismatch */
	n = frame(buf, &h, AF_INET, IPPROTO_TCP, 65000);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), -EINVAL);
	h.gso_type = VNET_GSO_TCPV6;
	h.csum_start = 40;
	n = frame(buf, &h, AF_INET6, IPPROTO_TCP, 3000);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), 0);
	h.flags = 0; /* TSO without a partial checksum: not what the kernel sends */
	n = frame(buf, &h, AF_INET6, IPPROTO_TCP, 3000);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), -EINVAL);
	h.flags = VNET_F_NEEDS_CSUM; /* TCP GSO on UDP */
	n = frame(buf, &h, AF_INET6, IPPROTO_UDP, 3000);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), -EINVAL);
	h.gso_type = VNET_GSO_UDP_L4; /* UDP GSO on TCP */
	n = frame(buf, &h, AF_INET6, IPPROTO_TCP, 3000);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), -EINVAL);
}

static void test_frame_csum_position(void **state)
{
	static uint8_t buf[2048];
	struct vnet_hdr h = { VNET_F_NEEDS_CSUM, 0, 0, 0, 20, 16 }, g;
	struct ip_view v;
	size_t n;

	(void)state;
	n = frame(buf, &h, AF_INET, IPPROTO_TCP, 100);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), 0);
	assert_true(v.csum_ok);
	h.csum_start = 19; /* not at the TCP header */
	n = frame(buf, &h, AF_INET, IPPROTO_TCP, 100);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), -EINVAL);
	h.csum_start = 20;
	h.csum_offset = 6; /* UDP's place on a TCP packet */
	n = frame(buf, &h, AF_INET, IPPROTO_TCP, 100);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), -EINVAL);
	h.csum_offset = 0xffff; /* far past the packet */
	n = frame(buf, &h, AF_INET, IPPROTO_TCP, 100);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), -EINVAL);
	h.csum_start = 0xffff;
	h.csum_offset = 16;
	n = frame(buf, &h, AF_INET, IPPROTO_TCP, 100);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), -EINVAL);
	h.csum_start = 20;
	h.csum_offset = 6; /* UDP: 6 is right, but the L4 part is too short to hold it */
	n = frame(buf, &h, AF_INET, IPPROTO_UDP, 7);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), -EINVAL);
	h.csum_offset = 0; /* a partial checksum on ICMP: never from the kernel */
	n = frame(buf, &h, AF_INET, IPPROTO_ICMP, 20);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), -EINVAL);
}

/* A partial UDP checksum is completed in place: the UDP parser then checks it as usual. */
static void test_csum_fill_udp(void **state)
{
	static uint8_t buf[2048];
	struct vnet_hdr h = { VNET_F_NEEDS_CSUM, 0, 0, 0, 40, 6 }, g;
	struct ip_view v;
	uint8_t ph[40], *l4;
	uint16_t part;
	size_t n = frame(buf, &h, AF_INET6, IPPROTO_UDP, 301);

	(void)state;
	l4 = buf + VNET_HDR_LEN + 40;
	memcpy(ph, src6, 16);
	memcpy(ph + 16, dst6, 16);
	store_be32(ph + 32, 301);
	memset(ph + 36, 0, 3);
	ph[39] = IPPROTO_UDP;
	part = ref_sum(ph, sizeof(ph), 0); /* what the kernel leaves: the pseudo-header sum */
	store_be16(l4 + 6, part);
	assert_int_equal(vnet_frame_parse(buf, n, &g, &v), 0);
	vnet_csum_fill(buf + VNET_HDR_LEN, &g, &v);
	assert_int_equal(ref_sum(l4, 301, ref_sum(ph, sizeof(ph), 0)), 0xffff);
}

static void test_tcp_hdr(void **state)
{
	struct vnet_hdr h;

	(void)state;
	vnet_tcp_hdr(&h, false, 20, 52, 0);
	assert_int_equal(h.flags, VNET_F_NEEDS_CSUM);
	assert_int_equal(h.gso_type, VNET_GSO_NONE);
	assert_int_equal(h.csum_start, 20);
	assert_int_equal(h.csum_offset, 16);
	assert_int_equal(h.hdr_len, 52);
	vnet_tcp_hdr(&h, false, 20, 52, 1448);
	assert_int_equal(h.gso_type, VNET_GSO_TCPV4);
	assert_int_equal(h.gso_size, 1448);
	vnet_tcp_hdr(&h, true, 40, 72, 1428);
	assert_int_equal(h.gso_type, VNET_GSO_TCPV6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_build_roundtrip),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_frame_plain),
		cmocka_unit_test(test_frame_tso_in),
		cmocka_unit_test(test_frame_csum_position),
		cmocka_unit_test(test_csum_fill_udp),
		cmocka_unit_test(test_tcp_hdr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
