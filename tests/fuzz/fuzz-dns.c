// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the DNS codec: any bytes as a query. A parsed query
 * has a name within the RFC limits whose dotted form matches its wire form;
 * every reply built for it (answers, errors, at 512, the client's limit and
 * TCP size) stays within its limit, echoes the question byte for byte and
 * passes dns_check_reply; the bytes as a reply never crash dns_check_reply.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "../../src/codec/dns.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

/* The dotted name from the wire name, lower-cased. */
static void check_name(const struct dns_query *q)
{
	char t[DNS_TEXT_MAX + 1];
	size_t w = 0, n = 0;

	assert(q->qwire_len >= 1 && q->qwire_len <= DNS_NAME_MAX);
	while (q->qwire[w]) {
		size_t l = q->qwire[w++], i;

		assert(l <= DNS_LABEL_MAX && w + l < q->qwire_len);
		if (n)
			t[n++] = '.';
		for (i = 0; i < l; i++)
			t[n++] = lower(q->qwire[w + i]);
		w += l;
	}
	assert(w + 1 == q->qwire_len);
	t[n] = 0;
	assert(n <= DNS_TEXT_MAX && !strcmp(t, q->name));
}

static void check_build(const struct dns_query *q, uint16_t rcode, size_t limit)
{
	static const struct dns_addr an[3] = {
		{ .family = AF_INET, .addr = { 198, 18, 0, 3 } },
		{ .family = AF_INET6, .addr = { 0xfd, 0x70, [15] = 3 } },
		{ .family = AF_INET, .addr = { 198, 18, 0, 4 } },
	};
	uint8_t r[65536];
	int len = dns_build_reply(r, sizeof(r), limit, q, rcode, an, 3, 10);

	if (rcode > 0xf && !q->edns) {
		assert(len == -EINVAL);
		return;
	}
	if (len == -ENOSPC) {
		assert(DNS_HDR_LEN + (q->has_q ? q->qwire_len + 4 : 0) + (q->edns ? 11 : 0) >
		       limit);
		return;
	}
	assert(len >= DNS_HDR_LEN && (size_t)len <= limit);
	assert(load_be16(r) == q->id && (r[2] & 0x80));
	assert((load_be16(r + 2) & 0xf) == (rcode & 0xf));
	if (q->has_q) {
		assert(load_be16(r + 4) == 1);
		assert(!memcmp(r + DNS_HDR_LEN, q->qwire, q->qwire_len));
		assert(dns_check_reply(r, (size_t)len, q) == 0);
	}
}

/* A reverse name parses only if it is exactly the canonical form of its address. */
static void check_ptr(const struct dns_query *q)
{
	char t[DNS_TEXT_MAX + 1];
	uint8_t a[16], r[2048];
	int fam, i, n;

	if (dns_ptr_addr(q->name, &fam, a) == 0) {
		if (fam == AF_INET) {
			snprintf(t, sizeof(t), "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
		} else {
			assert(fam == AF_INET6);
			for (i = 0; i < 32; i++) {
				unsigned v = i % 2 ? a[15 - i / 2] >> 4 : a[15 - i / 2] & 15;

				t[2 * i] = "0123456789abcdef"[v];
				t[2 * i + 1] = '.';
			}
			strcpy(t + 64, "ip6.arpa");
		}
		assert(!strcmp(t, q->name));
	}
	n = dns_build_name_reply(r, sizeof(r), 512, q, q->name, 10);
	assert(n == -EINVAL || n == -ENOSPC || (n >= DNS_HDR_LEN && n <= 512));
	if (n > 0)
		assert(dns_check_reply(r, (size_t)n, q) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct dns_query q;
	uint16_t rc = 0;
	int r = dns_parse_query(data, len, &q, &rc);

	assert(r == 0 || r == -EBADMSG || r == -EINVAL);
	if (r == -EBADMSG) {
		assert(len < DNS_HDR_LEN || (data[2] & 0x80));
		return 0;
	}
	assert(q.id == load_be16(data));
	if (r == 0) {
		assert(rc == DNS_R_NOERROR && q.has_q && q.opcode == 0);
		assert(dns_udp_limit(&q) >= DNS_UDP_MIN && dns_udp_limit(&q) <= DNS_UDP_MAX);
	} else {
		assert(rc == DNS_R_FORMERR || rc == DNS_R_NOTIMP || rc == DNS_R_BADVERS);
	}
	if (q.has_q) {
		check_name(&q);
		check_ptr(&q);
	}
	check_build(&q, rc, DNS_UDP_MIN);
	check_build(&q, r == 0 ? DNS_R_NXDOMAIN : rc, dns_udp_limit(&q));
	check_build(&q, DNS_R_NOERROR, 65535);
	check_build(&q, DNS_R_NOERROR, 300);
	dns_check_reply(data, len, &q);
	return 0;
}
