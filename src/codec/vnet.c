// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-net header of a TUN opened with IFF_VNET_HDR (see vnet.h). The
 * kernel writes it in host byte order (legacy virtio, no TUNSETVNETLE/BE).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "vnet.h"

static uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static void st16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

int vnet_parse(const uint8_t *buf, size_t len, struct vnet_hdr *h)
{
	uint8_t t;

	if (len < VNET_HDR_LEN)
		return -EINVAL;
	h->flags = buf[0];
	h->gso_type = buf[1];
	h->hdr_len = ld16(buf + 2);
	h->gso_size = ld16(buf + 4);
	h->csum_start = ld16(buf + 6);
	h->csum_offset = ld16(buf + 8);
	if (h->flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID | VNET_F_RSC_INFO))
		return -EINVAL;
	t = h->gso_type & (uint8_t)~VNET_GSO_ECN;
	if (t != VNET_GSO_NONE && t != VNET_GSO_TCPV4 && t != VNET_GSO_TCPV6 && t != VNET_GSO_UDP &&
	    t != VNET_GSO_UDP_L4)
		return -EINVAL;
	if (t != VNET_GSO_NONE && h->gso_size == 0)
		return -EINVAL;
	return 0;
}

void vnet_build(uint8_t *buf, const struct vnet_hdr *h)
{
	buf[0] = h->flags;
	buf[1] = h->gso_type;
	st16(buf + 2, h->hdr_len);
	st16(buf + 4, h->gso_size);
	st16(buf + 6, h->csum_start);
	st16(buf + 8, h->csum_offset);
}

int vnet_frame_parse(const uint8_t *buf, size_t len, struct vnet_hdr *h, struct ip_view *v)
{
	const uint8_t *pkt = buf + VNET_HDR_LEN;
	size_t l4off;
	uint8_t t;
	int ret;

	ret = vnet_parse(buf, len, h);
	if (ret < 0)
		return ret;
	ret = ip_parse(pkt, len - VNET_HDR_LEN, v);
	if (ret < 0)
		return ret;
	l4off = (size_t)(v->l4 - pkt);
	t = h->gso_type & (uint8_t)~VNET_GSO_ECN;
	if (t == VNET_GSO_TCPV4 || t == VNET_GSO_TCPV6) {
		if (v->proto != IPPROTO_TCP || (t == VNET_GSO_TCPV4) != (v->family == AF_INET) ||
		    !(h->flags & VNET_F_NEEDS_CSUM))
			return -EINVAL;
	} else if (t != VNET_GSO_NONE) {
		if (v->proto != IPPROTO_UDP)
			return -EINVAL;
	}
	if (h->flags & VNET_F_NEEDS_CSUM) {
		size_t off = v->proto == IPPROTO_TCP   ? VNET_TCP_CSUM_OFF
			     : v->proto == IPPROTO_UDP ? 6
						       : SIZE_MAX;

		/* The kernel's own packets put it at the L4 header's checksum field. */
		if (h->csum_start != l4off || h->csum_offset != off || v->l4_len < off + 2)
			return -EINVAL;
	}
	v->csum_ok = (h->flags & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) != 0;
	return 0;
}

void vnet_tcp_hdr(struct vnet_hdr *h, bool v6, uint16_t l3_len, uint16_t hdr_len, uint16_t gso_size)
{
	h->flags = VNET_F_NEEDS_CSUM;
	h->gso_type = gso_size ? (v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4) : VNET_GSO_NONE;
	h->hdr_len = hdr_len;
	h->gso_size = gso_size;
	h->csum_start = l3_len;
	h->csum_offset = VNET_TCP_CSUM_OFF;
}

void vnet_csum_fill(uint8_t *pkt, const struct vnet_hdr *h, const struct ip_view *v)
{
	uint8_t *l4 = pkt + h->csum_start;
	uint16_t c;

	if (!(h->flags & VNET_F_NEEDS_CSUM))
		return;
	/* The field holds the pseudo-header sum: summing over it completes the sum. */
	c = csum_fold(csum_add(0, l4, v->l4_len));
	if (c == 0 && v->proto == IPPROTO_UDP)
		c = 0xffff; /* RFC 768: 0 means "no checksum" */
	memcpy(l4 + h->csum_offset, &c, 2);
}
