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
	IP_MAX_HDR = 60, /* the most ip_build_hdr() writes */
	IP6_MAX_EXT = 8, /* extension headers walked before giving up */
	UDP_HDR_LEN = 8,
	ICMP_HDR_LEN = 8,     /* type, code, checksum, unused/MTU */
	ICMP4_ERR_MAX = 576,  /* RFC 1812 4.3.2.3: an ICMPv4 error fits in 576 bytes */
	ICMP6_ERR_MAX = 1280, /* RFC 4443 2.4(c): the IPv6 minimum MTU */
};

struct ip_view {
	int family;	 /* AF_INET or AF_INET6 */
	uint8_t src[16]; /* 4 or 16 bytes used */
	uint8_t dst[16];
	uint8_t proto; /* upper-layer protocol after IPv6 extensions */
	uint8_t ttl;
	const uint8_t *l4; /* points into the packet */
	size_t l4_len;
	bool csum_ok; /* L4 checksum vouched for by the kernel (vnet.c); ip_parse clears it */
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
size_t ip_build_hdr(uint8_t *buf, int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
		    size_t l4_len);

/* A parsed UDP datagram; data points into the packet. */
struct udp_view {
	uint16_t sport, dport;
	const uint8_t *data;
	size_t len; /* from the UDP length field; link padding ignored */
};

/*
 * Validates the UDP header of v->l4 (v->proto must be UDP): length field at
 * least 8 and within l4_len (bytes past it are ignored) and, unless FUZZING,
 * the checksum over the pseudo-header. IPv4's zero checksum means "none";
 * an IPv6 zero checksum is invalid (RFC 8200 8.1). 0, -EINVAL, -EPROTO.
 */
int udp_parse(const struct ip_view *v, struct udp_view *u);

/*
 * Writes the IP and UDP headers (at most IP_MAX_HDR + UDP_HDR_LEN bytes) of a
 * datagram carrying data[0..len) from src:sport to dst:dport, checksum
 * included (computed over data). Returns the header length, or 0 if len is
 * too long for one IP packet. The payload is sent after it (e.g. writev).
 */
size_t udp_build_hdr(uint8_t *hdr, int family, const uint8_t *src, uint16_t sport,
		     const uint8_t *dst, uint16_t dport, const void *data, size_t len);

/* Why a destination is unreachable, as an ICMP error says it (icmp_build_unreach). */
enum icmp_unreach {
	ICMP_UNREACH_NET,  /* v4 code 0, v6 code 0 (no route): the app's errno ENETUNREACH */
	ICMP_UNREACH_HOST, /* v4 code 1, v6 code 3 (address unreachable): EHOSTUNREACH */
	ICMP_UNREACH_PORT, /* v4 code 3, v6 code 4: ECONNREFUSED */
	ICMP_UNREACH_MAX,
};

/*
 * ICMP destination unreachable (v4 type 3, v6 type 1) with code why,
 * answering the packet pkt[0..len) parsed into v: from its destination to
 * its source, quoting as much of it (IP header on) as fits in ICMP4_ERR_MAX
 * / ICMP6_ERR_MAX bytes. out must hold ICMP6_ERR_MAX bytes. Returns the
 * length written, or 0 where RFC 1122 3.2.2 / RFC 4443 2.4(e) forbid an
 * error: the offending packet was itself an ICMP error, or went to (or
 * came from) a multicast, broadcast or unspecified address; 0 too for a
 * why out of range.
 */
size_t icmp_build_unreach(uint8_t *out, const uint8_t *pkt, size_t len, const struct ip_view *v,
			  enum icmp_unreach why);
/* The same with ICMP_UNREACH_PORT: UDP nobody takes. */
size_t icmp_build_port_unreach(uint8_t *out, const uint8_t *pkt, size_t len,
			       const struct ip_view *v);

#endif
