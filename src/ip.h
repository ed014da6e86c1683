/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IPv4/IPv6 parse and build, Internet checksums. Pure: no I/O, no
 * allocation. Every length a header claims is checked against the bytes
 * we hold before it is used.
 */
#ifndef PROXYVPN_IP_H
#define PROXYVPN_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

enum {
	IP4_HDR_LEN = 20,
	IP6_HDR_LEN = 40,
	IP_MAX_HDR = 60,	/* the most ip_build_hdr() writes */
	IP6_MAX_EXT = 8,	/* extension headers walked before giving up */
};

struct ip_view {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t src[16];	/* 4 or 16 bytes used */
	uint8_t dst[16];
	uint8_t proto;		/* upper-layer protocol after IPv6 extensions */
	uint8_t ttl;
	const uint8_t *l4;	/* points into the packet */
	size_t l4_len;
	bool csum_ok;		/* L4 checksum vouched for by the kernel (vnet.c); ip_parse clears it */
};

/*
 * Parses one packet as read from a TUN (IFF_NO_PI). Returns 0, or:
 * -EINVAL malformed (lengths lie, bad version), -EOPNOTSUPP fragments and
 * headers we do not walk (ESP, unknown), -EPROTO IPv4 header checksum bad.
 * Link padding past the total length is ignored.
 */
int ip_parse(const uint8_t *buf, size_t len, struct ip_view *v);

static inline size_t ip_addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* One's-complement sum helpers (RFC 1071). */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);
uint16_t csum_fold(uint32_t sum);
/* Pseudo-header sum for an upper-layer checksum. */
uint32_t csum_pseudo(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		     uint32_t l4_len);

/*
 * Writes an IPv4 (DF, TTL 64) or IPv6 header for an l4_len-byte payload.
 * Returns the header length (20 or 40).
 */
size_t ip_build_hdr(uint8_t *buf, int family, const uint8_t *src, const uint8_t *dst,
		    uint8_t proto, size_t l4_len);

#endif
