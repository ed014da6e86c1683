/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DNS message codec for the virtual resolver (RFC 1035, RFC 6891). Pure: no
 * I/O, no allocation. A query is parsed strictly: one question whose name
 * is uncompressed labels, no answer or authority records, at most one
 * additional record and only an EDNS OPT. Replies echo the question bytes
 * as received, so the client's letter case (0x20 randomisation) comes back.
 */
#ifndef PROXYVPN_DNS_H
#define PROXYVPN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	DNS_HDR_LEN = 12,
	DNS_NAME_MAX = 255, /* wire length of a name, root label included */
	DNS_LABEL_MAX = 63,
	DNS_TEXT_MAX = 253, /* a name in dotted form, no trailing dot */
	DNS_UDP_MIN = 512,  /* a reply to a query without EDNS fits in this */
	DNS_UDP_MAX = 1232, /* the largest UDP reply we build (DNS flag day 2020) */
	DNS_ANSWER_MAX = 8, /* address records in one reply */

	DNS_T_A = 1,
	DNS_T_PTR = 12,
	DNS_T_AAAA = 28,
	DNS_T_OPT = 41,
	DNS_T_ANY = 255,
	DNS_C_IN = 1,

	DNS_R_NOERROR = 0,
	DNS_R_FORMERR = 1,
	DNS_R_SERVFAIL = 2,
	DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4,
	DNS_R_REFUSED = 5,
	DNS_R_BADVERS = 16, /* extended: needs the OPT record (RFC 6891 6.1.3) */
};

struct dns_query {
	uint16_t id;
	uint8_t opcode;
	bool rd, cd;
	bool has_q; /* the question parsed: echo it */
	uint16_t qtype, qclass;
	uint8_t qwire[DNS_NAME_MAX]; /* the name exactly as sent */
	size_t qwire_len;
	char name[DNS_TEXT_MAX + 1]; /* dotted, lower case, "" for the root */
	bool name_ldh;		     /* every label is [A-Za-z0-9_-]: a hostname */
	bool edns;
	uint8_t edns_version;
	bool edns_do;
	uint16_t edns_size; /* the client's UDP size, at least 512 */
};

/*
 * Parses a query message msg[0..len). Returns 0 when q is a well-formed
 * standard query. Otherwise:
 *   -EBADMSG  no reply at all: shorter than a header, or a response (QR set)
 *   -EINVAL   reply with *rcode (FORMERR, NOTIMP or BADVERS); q->id,
 *             opcode, rd, has_q and the question (if has_q) are filled.
 */
int dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q, uint16_t *rcode);

/* One address answer: family AF_INET (4 bytes) or AF_INET6 (16). */
struct dns_addr {
	int family;
	uint8_t addr[16];
};

/*
 * Builds the reply to q in buf[0..cap): QR, RA, RD copied, the question as
 * received (if q->has_q), n address records of q's name (type from each
 * family, TTL ttl, the name compressed to the question), an OPT record if
 * the query had one (our size DNS_UDP_MAX). rcode may be extended (BADVERS):
 * its upper bits go into the OPT record. The reply is kept within limit
 * bytes (the transport's: dns_udp_limit() for UDP, 65535 for TCP): answers
 * that do not fit are dropped and TC is set. Returns the length, or
 * -ENOSPC if not even the header and question fit.
 */
int dns_build_reply(uint8_t *buf, size_t cap, size_t limit, const struct dns_query *q,
		    uint16_t rcode, const struct dns_addr *an, size_t n, uint32_t ttl);

/*
 * A reply to q with one record of q's type whose data is the name target
 * (dotted, e.g. a PTR), compressed to nothing: target in full. Kept within
 * limit like dns_build_reply (TC and no answer if it does not fit).
 * Returns the length, -EINVAL (target not a name: empty label, a label
 * over 63 or the whole over 255 bytes), -ENOSPC.
 */
int dns_build_name_reply(uint8_t *buf, size_t cap, size_t limit, const struct dns_query *q,
			 const char *target, uint32_t ttl);

/*
 * The address a reverse name stands for: "d.c.b.a.in-addr.arpa" (decimal
 * 0-255, no leading zeros) or 32 hex nibbles + ".ip6.arpa", as
 * dns_parse_query gives names (lower case, no trailing dot). 0 with
 * *family and addr set, or -EINVAL.
 */
int dns_ptr_addr(const char *name, int *family, uint8_t addr[16]);

/* The largest UDP reply q's client accepts, capped at DNS_UDP_MAX. */
size_t dns_udp_limit(const struct dns_query *q);

/*
 * Checks a reply that came back from an upstream resolver for the query q
 * (sent with id q->id): the header is a response to it with the same
 * question (compared without regard to case). Returns 0 or -EBADMSG.
 */
int dns_check_reply(const uint8_t *msg, size_t len, const struct dns_query *q);

#endif
