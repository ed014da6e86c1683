/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtio-net header a TUN opened with IFF_VNET_HDR puts in front of
 * every packet (struct virtio_net_hdr, 10 bytes, host byte order). From the
 * TUN it says whether the TCP checksum is filled in and whether the packet
 * is one large TCP segment (TSO); toward the TUN it asks the kernel to fill
 * in the checksum and to cut a large segment into MSS-sized ones (GSO).
 * Pure: no I/O, no allocation. The header is untrusted input and is checked
 * against the packet it describes.
 */
#ifndef PROXYVPN_VNET_H
#define PROXYVPN_VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip.h"

enum {
	VNET_HDR_LEN = 10,     /* sizeof(struct virtio_net_hdr), TUNSETVNETHDRSZ */
	VNET_F_NEEDS_CSUM = 1, /* checksum holds only the pseudo-header sum */
	VNET_F_DATA_VALID = 2, /* checksum verified by the kernel */
	VNET_F_RSC_INFO = 4,
	VNET_GSO_NONE = 0,
	VNET_GSO_TCPV4 = 1,
	VNET_GSO_UDP = 3,
	VNET_GSO_TCPV6 = 4,
	VNET_GSO_UDP_L4 = 5,
	VNET_GSO_ECN = 0x80,
	VNET_TCP_CSUM_OFF = 16, /* offset of the checksum in the TCP header */
};

struct vnet_hdr {
	uint8_t flags;	  /* VNET_F_* */
	uint8_t gso_type; /* VNET_GSO_*, ECN bit included */
	uint16_t hdr_len, gso_size, csum_start, csum_offset;
};

/* Reads the header at the front of a TUN frame: 0, or -EINVAL (too short, unknown bits). */
int vnet_parse(const uint8_t *buf, size_t len, struct vnet_hdr *h);
/* Writes h as VNET_HDR_LEN bytes. */
void vnet_build(uint8_t *buf, const struct vnet_hdr *h);

/*
 * The header for a TCP packet we send with offload: the kernel completes
 * the checksum at l3_len + 16 and, if gso_size, cuts the payload into
 * gso_size-byte segments (hdr_len: IP + TCP header bytes).
 */
void vnet_tcp_hdr(struct vnet_hdr *h, bool v6, uint16_t l3_len, uint16_t hdr_len,
		  uint16_t gso_size);

/*
 * Completes a partial checksum (NEEDS_CSUM) in pkt, the IP packet of a
 * frame vnet_frame_parse() accepted with h and v: for the protocols that
 * verify checksums themselves (not TCP, which uses v->csum_ok).
 */
void vnet_csum_fill(uint8_t *pkt, const struct vnet_hdr *h, const struct ip_view *v);

/*
 * Parses a whole frame (header + IP packet) into h and v, and checks that
 * the header describes the packet: a GSO type matches the family and a TCP
 * packet, a partial checksum starts at the L4 header and sits where the
 * protocol keeps it. v->csum_ok is set when the kernel vouches for the L4
 * checksum (NEEDS_CSUM or DATA_VALID). 0, -EINVAL (header lies), or
 * ip_parse()'s error.
 */
int vnet_frame_parse(const uint8_t *buf, size_t len, struct vnet_hdr *h, struct ip_view *v);

#endif
