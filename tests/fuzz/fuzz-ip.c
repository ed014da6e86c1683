// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the packet parsers (testplan B1): one packet through
 * ip_parse and, if it is TCP, tcp_parse. Every view they return must lie
 * inside the input; a parsed header rebuilt with ip_build_hdr must parse
 * back the same; csum_add and csum_pseudo must agree with a byte-at-a-time
 * RFC 1071 sum over the same bytes. A UDP datagram's view lies inside the
 * input and rebuilds to a packet that parses back (checksum verified); an
 * ICMP destination unreachable (network, host, port) for any parsed packet
 * parses, carries its reason's code, stays within the RFC sizes and quotes
 * the input's first bytes.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/ip.c"
#include "../../src/lib/log.c"
#include "../../src/engine/ring.c"
#include "../../src/lib/loop.c"
#include "../../src/engine/tcp.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

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

static void check_csum(const uint8_t *data, size_t len)
{
	uint16_t c = csum_fold(csum_add(0, data, len));
	uint8_t b[2];
	size_t cut = len / 2 & ~(size_t)1;

	memcpy(b, &c, 2);
	assert(load_be16(b) == (uint16_t)~ref_sum(data, len));
	/* Chained at an even cut: the same sum. */
	assert(csum_fold(csum_add(csum_add(0, data, cut), data + cut, len - cut)) == c);
}

/* csum_pseudo + csum_add against the pseudo-header laid out byte by byte. */
static void check_pseudo(const struct ip_view *v)
{
	uint8_t ph[40];
	size_t pl;
	uint32_t a, b;

	if (v->family == AF_INET) {
		memcpy(ph, v->src, 4);
		memcpy(ph + 4, v->dst, 4);
		ph[8] = 0;
		ph[9] = v->proto;
		store_be16(ph + 10, (uint16_t)v->l4_len);
		pl = 12;
	} else {
		memcpy(ph, v->src, 16);
		memcpy(ph + 16, v->dst, 16);
		store_be32(ph + 32, (uint32_t)v->l4_len);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = v->proto;
		pl = 40;
	}
	a = (uint32_t)ref_sum(ph, pl) + ref_sum(v->l4, v->l4_len);
	a = (a & 0xffff) + (a >> 16);
	b = csum_add(csum_pseudo(v->family, v->src, v->dst, v->proto, (uint32_t)v->l4_len), v->l4,
		     v->l4_len);
	{
		uint16_t c = csum_fold(b);
		uint8_t w[2];

		memcpy(w, &c, 2);
		assert(load_be16(w) == (uint16_t)~a);
	}
}

static void check_tcp(const uint8_t *data, size_t len, const struct ip_view *v)
{
	struct tcp_seg s;
	int r = tcp_parse(v, &s);
	size_t doff;

	assert(r == 0 || r == -EINVAL); /* no -EPROTO: FUZZING skips the checksum */
	if (r)
		return;
	doff = (size_t)(v->l4[12] >> 4) * 4;
	assert(v->l4_len >= TCP_HDR_LEN && doff >= TCP_HDR_LEN && doff <= v->l4_len);
	assert(s.data == v->l4 + doff);
	assert(s.data >= v->l4 && s.data + s.len <= v->l4 + v->l4_len);
	assert(s.data + s.len <= data + len);
	assert(s.len == v->l4_len - doff);
	assert(s.wscale >= -1 && s.wscale <= 14);
	assert(!(s.flags & 0xc0));
	assert(s.sport == load_be16(v->l4) && s.dport == load_be16(v->l4 + 2));
}

/* A header built from the view carries the same fields when parsed back. */
static void check_rebuild(const struct ip_view *v)
{
	uint8_t pkt[IP_MAX_HDR + 64];
	size_t l4 = v->l4_len < 64 ? v->l4_len : 64, hl;
	struct ip_view w;

	hl = ip_build_hdr(pkt, v->family, v->src, v->dst, v->proto, l4);
	assert(hl == (v->family == AF_INET6 ? IP6_HDR_LEN : IP4_HDR_LEN));
	memcpy(pkt + hl, v->l4, l4);
	assert(ip_parse(pkt, hl + l4, &w) == 0);
	assert(w.family == v->family);
	assert(!memcmp(w.src, v->src, ip_addr_len(v->family)));
	assert(!memcmp(w.dst, v->dst, ip_addr_len(v->family)));
	assert(w.ttl == 64);
	assert(w.l4 == pkt + hl && w.l4_len == l4);
	assert(w.proto == v->proto); /* never an extension: those were walked */
}

static void check_udp(const uint8_t *data, size_t len, const struct ip_view *v)
{
	uint8_t pkt[IP_MAX_HDR + UDP_HDR_LEN + 65536];
	struct udp_view u, u2;
	struct ip_view w;
	size_t hl;
	int r = udp_parse(v, &u);

	assert(r == 0 || r == -EINVAL); /* FUZZING skips the checksum */
	if (r)
		return;
	assert(u.data == v->l4 + UDP_HDR_LEN);
	assert(u.data + u.len <= v->l4 + v->l4_len && u.data + u.len <= data + len);
	assert(u.len + UDP_HDR_LEN == load_be16(v->l4 + 4));
	hl = udp_build_hdr(pkt, v->family, v->src, u.sport, v->dst, u.dport, u.data, u.len);
	assert(hl);
	memcpy(pkt + hl, u.data, u.len);
	assert(ip_parse(pkt, hl + u.len, &w) == 0);
	assert(w.proto == IPPROTO_UDP);
	assert(csum_fold(csum_add(
		       csum_pseudo(w.family, w.src, w.dst, IPPROTO_UDP, (uint32_t)w.l4_len), w.l4,
		       w.l4_len)) == 0);
	assert(udp_parse(&w, &u2) == 0);
	assert(u2.sport == u.sport && u2.dport == u.dport && u2.len == u.len);
	assert(!memcmp(u2.data, u.data, u.len));
}

static void check_unreach(const uint8_t *data, size_t len, const struct ip_view *v,
			  enum icmp_unreach why)
{
	/* Each reason's code, v4 and v6 (ip.h), in enum order. */
	static const uint8_t code4[] = { 0, 1, 3 }, code6[] = { 0, 3, 4 };
	uint8_t out[ICMP6_ERR_MAX];
	size_t n = icmp_build_unreach(out, data, len, v, why), hl;
	struct ip_view w;

	if (!n)
		return;
	assert(out[v->family == AF_INET6 ? IP6_HDR_LEN + 1 : IP4_HDR_LEN + 1] ==
	       (v->family == AF_INET6 ? code6 : code4)[why]);
	hl = v->family == AF_INET6 ? IP6_HDR_LEN : IP4_HDR_LEN;
	assert(n <= (v->family == AF_INET6 ? ICMP6_ERR_MAX : ICMP4_ERR_MAX));
	assert(ip_parse(out, n, &w) == 0);
	assert(w.l4_len == n - hl && w.l4_len >= ICMP_HDR_LEN);
	assert(!memcmp(w.l4 + ICMP_HDR_LEN, data, w.l4_len - ICMP_HDR_LEN));
	assert(ref_sum(w.l4, w.l4_len) == 0xffff || v->family == AF_INET6);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct ip_view v;
	int r;

	check_csum(data, len);
	memset(&v, 0, sizeof(v));
	r = ip_parse(data, len, &v);
	assert(r == 0 || r == -EINVAL || r == -EOPNOTSUPP || r == -EPROTO);
	if (r)
		return 0;
	assert(len >= 1);
	assert(v.family == AF_INET || v.family == AF_INET6);
	assert((v.family == AF_INET) == (data[0] >> 4 == 4));
	assert(v.l4 >= data + (v.family == AF_INET ? IP4_HDR_LEN : IP6_HDR_LEN));
	assert(v.l4 <= data + len);
	assert(v.l4_len <= len);
	assert(v.l4 + v.l4_len <= data + len);
	if (v.family == AF_INET) {
		size_t hl = (size_t)(data[0] & 0x0f) * 4;

		assert(v.l4 == data + hl);
		assert(v.l4_len == load_be16(data + 2) - hl);
		assert(ref_sum(data, hl) == 0xffff);
		assert(!(load_be16(data + 6) & 0x3fff));
	} else {
		assert(v.l4 + v.l4_len == data + IP6_HDR_LEN + load_be16(data + 4));
		assert((size_t)(v.l4 - data) <= IP6_HDR_LEN + 8 * 256 * IP6_MAX_EXT);
		assert(v.proto != IPPROTO_FRAGMENT && v.proto != IPPROTO_HOPOPTS &&
		       v.proto != IPPROTO_ROUTING && v.proto != IPPROTO_DSTOPTS);
	}
	check_rebuild(&v);
	check_pseudo(&v);
	if (v.proto == IPPROTO_TCP)
		check_tcp(data, len, &v);
	if (v.proto == IPPROTO_UDP)
		check_udp(data, len, &v);
	check_unreach(data, len, &v, ICMP_UNREACH_NET);
	check_unreach(data, len, &v, ICMP_UNREACH_HOST);
	check_unreach(data, len, &v, ICMP_UNREACH_PORT);
	return 0;
}
