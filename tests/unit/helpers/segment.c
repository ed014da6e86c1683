// SPDX-License-Identifier: GPL-2.0-only
/* TCP segments for tests (see segment.h). */
#include <netinet/in.h>
#include <string.h>

#include "buf.h"
#include "segment.h"

size_t seg_build(uint8_t *pkt, size_t cap, const struct seg_spec *s)
{
	size_t tl = TCP_HDR_LEN + s->optlen, hl;
	uint8_t *t;
	uint16_t c;

	if (s->optlen > TCP_MAX_OPT || s->optlen % 4 || cap < IP_MAX_HDR + tl + s->len)
		return 0;
	hl = ip_build_hdr(pkt, s->family, s->src, s->dst, IPPROTO_TCP, tl + s->len);
	t = pkt + hl;
	memset(t, 0, TCP_HDR_LEN);
	store_be16(t, s->sport);
	store_be16(t + 2, s->dport);
	store_be32(t + 4, s->seq);
	store_be32(t + 8, s->ack);
	t[12] = (uint8_t)((tl / 4) << 4);
	t[13] = s->flags;
	store_be16(t + 14, s->wnd);
	if (s->optlen)
		memcpy(t + TCP_HDR_LEN, s->opt, s->optlen);
	if (s->len)
		memcpy(t + tl, s->data, s->len);
	c = csum_fold(csum_add(
		csum_pseudo(s->family, s->src, s->dst, IPPROTO_TCP, (uint32_t)(tl + s->len)), t,
		tl + s->len));
	if (s->bad_csum)
		c ^= 0x1234;
	memcpy(t + 16, &c, 2);
	return hl + tl + s->len;
}

int seg_capture(struct seg_out *out, const struct iovec *iov, int iovcnt, const struct tcp_out *o)
{
	int i;

	out->len = 0;
	for (i = 0; i < iovcnt; i++) {
		if (out->len + iov[i].iov_len > sizeof(out->pkt))
			return -1;
		memcpy(out->pkt + out->len, iov[i].iov_base, iov[i].iov_len);
		out->len += iov[i].iov_len;
	}
	out->has_o = o != NULL;
	if (o) {
		/* What the kernel does with NEEDS_CSUM: sum from csum_start over the field. */
		uint8_t *t = out->pkt + o->l3_len;
		uint16_t sum;

		out->o = *o;
		if (o->hdr_len <= o->l3_len || o->hdr_len > out->len)
			return -1;
		sum = csum_fold(csum_add(0, t, out->len - o->l3_len));
		memcpy(t + 16, &sum, 2);
	}
	if (ip_parse(out->pkt, out->len, &out->ip) < 0 || out->ip.proto != IPPROTO_TCP)
		return -1;
	return tcp_parse(&out->ip, &out->seg) < 0 ? -1 : 0;
}
