// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for a TUN frame with a virtio-net header (vnet.c): the
 * input is one frame as read from an offloading TUN. vnet_frame_parse must
 * fail cleanly or return a view inside the input whose header agrees with
 * it: a GSO type only on TCP of the same family (with a partial checksum),
 * a partial checksum only at the L4 checksum field, inside the packet;
 * csum_ok exactly when the header vouches. A header rebuilt from the parsed
 * one reads back the same, and completing a partial checksum must then
 * verify against a byte-at-a-time RFC 1071 sum.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/ip.c"
#include "../../src/codec/vnet.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

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

static uint16_t pseudo_sum(const struct ip_view *v)
{
	uint8_t ph[40];
	size_t pl;

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
	return ref_sum(ph, pl, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static uint8_t copy[70000];
	struct vnet_hdr h, g;
	struct ip_view v;
	uint8_t b[VNET_HDR_LEN], t;
	size_t l4off;
	int r;

	r = vnet_parse(data, len, &h);
	assert(r == 0 || r == -EINVAL);
	if (r == 0) {
		vnet_build(b, &h);
		assert(!memcmp(b, data, VNET_HDR_LEN));
		assert(vnet_parse(b, sizeof(b), &g) == 0 && !memcmp(&g, &h, sizeof(h)));
	}
	memset(&v, 0, sizeof(v));
	r = vnet_frame_parse(data, len, &h, &v);
	assert(r == 0 || r == -EINVAL || r == -EOPNOTSUPP || r == -EPROTO);
	if (r)
		return 0;
	assert(len > VNET_HDR_LEN);
	assert(v.l4 >= data + VNET_HDR_LEN && v.l4 + v.l4_len <= data + len);
	l4off = (size_t)(v.l4 - (data + VNET_HDR_LEN));
	t = h.gso_type & (uint8_t)~VNET_GSO_ECN;
	if (t == VNET_GSO_TCPV4 || t == VNET_GSO_TCPV6) {
		assert(v.proto == IPPROTO_TCP && (h.flags & VNET_F_NEEDS_CSUM));
		assert((t == VNET_GSO_TCPV4) == (v.family == AF_INET));
		assert(h.gso_size > 0);
	} else if (t != VNET_GSO_NONE) {
		assert(v.proto == IPPROTO_UDP);
	}
	assert(v.csum_ok == !!(h.flags & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)));
	if (!(h.flags & VNET_F_NEEDS_CSUM))
		return 0;
	assert(h.csum_start == l4off);
	assert((size_t)h.csum_offset + 2 <= v.l4_len);
	assert(h.csum_offset == (v.proto == IPPROTO_TCP ? 16 : 6));
	if (v.proto == IPPROTO_TCP || len > sizeof(copy))
		return 0;
	/* Completing a partial UDP checksum in a copy: it then verifies. */
	memcpy(copy, data, len);
	assert(vnet_frame_parse(copy, len, &g, &v) == 0);
	/* What the kernel leaves there: the pseudo-header sum. */
	store_be16(copy + VNET_HDR_LEN + g.csum_start + g.csum_offset, pseudo_sum(&v));
	vnet_csum_fill(copy + VNET_HDR_LEN, &g, &v);
	assert(ref_sum(v.l4, v.l4_len, pseudo_sum(&v)) == 0xffff);
	return 0;
}
