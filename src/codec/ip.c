// SPDX-License-Identifier: GPL-2.0-only
/*
 * IP layer of the stack: validate what the TUN hands us, build headers for
 * what we send back. No fragment reassembly (policy: our peers are local
 * kernels that honour the TUN MTU and PMTU), so fragments are dropped.
 */
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "ip.h"

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		/* Sum 32-bit halves in 64 bits: carries are folded at the end. */
		s += (w & 0xffffffffu) + (w >> 32);
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t w;

		memcpy(&w, p, 2);
		s += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint16_t w = 0;

		memcpy(&w, p, 1); /* pad the odd byte with zero, in memory order */
		s += w;
	}
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * The sum is kept in memory (network) byte order throughout, as RFC 1071
 * allows, so values we add must be laid out in network order too.
 */
uint32_t csum_pseudo(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		     uint32_t l4_len)
{
	uint8_t tail[8];
	size_t alen = family == AF_INET6 ? 16 : 4;
	uint32_t s = 0;

	s = csum_add(s, src, alen);
	s = csum_add(s, dst, alen);
	if (family == AF_INET6) {
		store_be32(tail, l4_len);
		tail[4] = tail[5] = tail[6] = 0;
		tail[7] = proto;
		return csum_add(s, tail, 8);
	}
	tail[0] = 0;
	tail[1] = proto;
	store_be16(tail + 2, (uint16_t)l4_len);
	return csum_add(s, tail, 4);
}

static int parse4(const uint8_t *buf, size_t len, struct ip_view *v)
{
	size_t hl, tot;
	uint16_t frag;

	if (len < IP4_HDR_LEN)
		return -EINVAL;
	hl = (size_t)(buf[0] & 0x0f) * 4;
	tot = load_be16(buf + 2);
	if (hl < IP4_HDR_LEN || hl > len)
		return -EINVAL; /* header longer than the packet */
	if (tot < hl || tot > len)
		return -EINVAL; /* total length lies */
	if (csum_fold(csum_add(0, buf, hl)) != 0)
		return -EPROTO;
	frag = load_be16(buf + 6);
	if (frag & 0x3fff)
		return -EOPNOTSUPP; /* MF set or offset != 0: a fragment */
	v->family = AF_INET;
	memcpy(v->src, buf + 12, 4);
	memcpy(v->dst, buf + 16, 4);
	v->ttl = buf[8];
	v->proto = buf[9];
	v->l4 = buf + hl;
	v->l4_len = tot - hl;
	return 0;
}

static int parse6(const uint8_t *buf, size_t len, struct ip_view *v)
{
	size_t plen, off;
	uint8_t nh;
	int i;

	if (len < IP6_HDR_LEN)
		return -EINVAL;
	plen = load_be16(buf + 4);
	if (plen > len - IP6_HDR_LEN)
		return -EINVAL; /* payload length lies (jumbograms unsupported) */
	nh = buf[6];
	off = IP6_HDR_LEN;
	len = IP6_HDR_LEN + plen;
	for (i = 0;; i++) {
		size_t elen;

		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS)
			break;
		if (i == IP6_MAX_EXT)
			return -EOPNOTSUPP;
		if (len - off < 8)
			return -EINVAL;
		elen = ((size_t)buf[off + 1] + 1) * 8;
		if (elen > len - off)
			return -EINVAL;
		/* A routing header with segments left would send it elsewhere. */
		if (nh == IPPROTO_ROUTING && buf[off + 3] != 0)
			return -EOPNOTSUPP;
		nh = buf[off];
		off += elen;
	}
	if (nh == IPPROTO_FRAGMENT)
		return -EOPNOTSUPP;
	v->family = AF_INET6;
	memcpy(v->src, buf + 8, 16);
	memcpy(v->dst, buf + 24, 16);
	v->ttl = buf[7];
	v->proto = nh;
	v->l4 = buf + off;
	v->l4_len = len - off;
	return 0;
}

int ip_parse(const uint8_t *buf, size_t len, struct ip_view *v)
{
	v->csum_ok = false;
	if (len < 1)
		return -EINVAL;
	switch (buf[0] >> 4) {
	case 4:
		return parse4(buf, len, v);
	case 6:
		return parse6(buf, len, v);
	default:
		return -EINVAL;
	}
}

size_t ip_build_hdr(uint8_t *buf, int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		    size_t l4_len)
{
	if (family == AF_INET6) {
		store_be32(buf, 6u << 28);
		store_be16(buf + 4, (uint16_t)l4_len);
		buf[6] = proto;
		buf[7] = 64;
		memcpy(buf + 8, src, 16);
		memcpy(buf + 24, dst, 16);
		return IP6_HDR_LEN;
	}
	buf[0] = 0x45;
	buf[1] = 0;
	store_be16(buf + 2, (uint16_t)(IP4_HDR_LEN + l4_len));
	store_be16(buf + 4, 0); /* ID: DF is set, so no fragment ever needs one */
	store_be16(buf + 6, 0x4000);
	buf[8] = 64;
	buf[9] = proto;
	store_be16(buf + 10, 0);
	memcpy(buf + 12, src, 4);
	memcpy(buf + 16, dst, 4);
	{
		uint16_t c = csum_fold(csum_add(0, buf, IP4_HDR_LEN));

		memcpy(buf + 10, &c, 2); /* already in memory order */
	}
	return IP4_HDR_LEN;
}

int udp_parse(const struct ip_view *v, struct udp_view *u)
{
	size_t ulen;

	if (v->l4_len < UDP_HDR_LEN)
		return -EINVAL;
	ulen = load_be16(v->l4 + 4);
	if (ulen < UDP_HDR_LEN || ulen > v->l4_len)
		return -EINVAL; /* the length field lies */
#ifndef FUZZING
	if (load_be16(v->l4 + 6) == 0) {
		if (v->family == AF_INET6)
			return -EPROTO; /* mandatory in IPv6 */
	} else if (csum_fold(csum_add(
			   csum_pseudo(v->family, v->src, v->dst, IPPROTO_UDP, (uint32_t)ulen),
			   v->l4, ulen)) != 0) {
		return -EPROTO;
	}
#endif
	u->sport = load_be16(v->l4);
	u->dport = load_be16(v->l4 + 2);
	u->data = v->l4 + UDP_HDR_LEN;
	u->len = ulen - UDP_HDR_LEN;
	return 0;
}

size_t udp_build_hdr(uint8_t *hdr, int family, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, uint16_t dport, const void *data, size_t len)
{
	size_t hl, ulen = UDP_HDR_LEN + len;
	uint8_t *u;
	uint16_t c;

	if (ulen > 65535 - (family == AF_INET6 ? 0 : IP4_HDR_LEN))
		return 0;
	hl = ip_build_hdr(hdr, family, src, dst, IPPROTO_UDP, ulen);
	u = hdr + hl;
	store_be16(u, sport);
	store_be16(u + 2, dport);
	store_be16(u + 4, (uint16_t)ulen);
	store_be16(u + 6, 0);
	c = csum_fold(csum_add(csum_add(csum_pseudo(family, src, dst, IPPROTO_UDP, (uint32_t)ulen),
					u, UDP_HDR_LEN),
			       data, len));
	if (c == 0)
		c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
	memcpy(u + 6, &c, 2);
	return hl + UDP_HDR_LEN;
}

/* Addresses no ICMP error may answer (RFC 1122 3.2.2, RFC 4443 2.4(e)). */
static bool no_error_addr(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	if (family == AF_INET6)
		return a[0] == 0xff || !memcmp(a, zero, 16);
	return a[0] >= 224 || a[0] == 0 ||
	       (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
}

/* The offending packet was an ICMP error (or one we cannot tell is not). */
static bool is_icmp_error(const struct ip_view *v)
{
	if (v->proto == IPPROTO_ICMP)
		return v->l4_len < 1 ||
		       !(v->l4[0] == 0 || v->l4[0] == 8 || (v->l4[0] >= 13 && v->l4[0] <= 18));
	if (v->proto == IPPROTO_ICMPV6)
		return v->l4_len < 1 || v->l4[0] < 128;
	return false;
}

size_t icmp_build_unreach(uint8_t *out, const uint8_t *pkt, size_t len, const struct ip_view *v,
			  enum icmp_unreach why)
{
	/* Each reason's code, v4 and v6 (RFC 792, RFC 4443 3.1), in enum order. */
	static const uint8_t code4[] = { 0, 1, 3 }, code6[] = { 0, 3, 4 };
	size_t hl = v->family == AF_INET6 ? IP6_HDR_LEN : IP4_HDR_LEN;
	size_t max = v->family == AF_INET6 ? ICMP6_ERR_MAX : ICMP4_ERR_MAX;
	size_t qlen, tot;
	uint8_t *ic;
	uint32_t sum;
	uint16_t c;

	_Static_assert(sizeof(code4) == ICMP_UNREACH_MAX && sizeof(code6) == ICMP_UNREACH_MAX,
		       "a code per reason");
	if ((unsigned)why >= ICMP_UNREACH_MAX || is_icmp_error(v) ||
	    no_error_addr(v->family, v->dst) || no_error_addr(v->family, v->src))
		return 0;
	/* Quote the packet up to its IP length, not the link padding. */
	qlen = (size_t)(v->l4 + v->l4_len - pkt);
	if (qlen > len)
		qlen = len;
	if (qlen > max - hl - ICMP_HDR_LEN)
		qlen = max - hl - ICMP_HDR_LEN;
	tot = ICMP_HDR_LEN + qlen;
	ip_build_hdr(out, v->family, v->dst, v->src,
		     v->family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, tot);
	ic = out + hl;
	ic[0] = v->family == AF_INET6 ? 1 : 3; /* destination unreachable */
	ic[1] = v->family == AF_INET6 ? code6[why] : code4[why];
	store_be16(ic + 2, 0);
	store_be32(ic + 4, 0);
	memcpy(ic + ICMP_HDR_LEN, pkt, qlen);
	sum = v->family == AF_INET6
		      ? csum_pseudo(AF_INET6, v->dst, v->src, IPPROTO_ICMPV6, (uint32_t)tot)
		      : 0; /* ICMPv4 has no pseudo-header */
	c = csum_fold(csum_add(sum, ic, tot));
	memcpy(ic + 2, &c, 2);
	return hl + tot;
}

size_t icmp_build_port_unreach(uint8_t *out, const uint8_t *pkt, size_t len,
			       const struct ip_view *v)
{
	return icmp_build_unreach(out, pkt, len, v, ICMP_UNREACH_PORT);
}
