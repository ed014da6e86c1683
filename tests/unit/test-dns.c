// SPDX-License-Identifier: GPL-2.0-only
/*
 * DNS codec: queries built by hand byte by byte, one rejection per check;
 * replies read back field by field at the offsets RFC 1035 4.1 gives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns.h"

/* Header + question for name (dotted, labels as given) + type IN; ar OPT if edns. */
static size_t mkq(uint8_t *p, const char *name, uint16_t type, int edns_size)
{
	size_t n = DNS_HDR_LEN;
	const char *s = name;

	memset(p, 0, DNS_HDR_LEN);
	store_be16(p, 0xbeef);
	store_be16(p + 2, 0x0100); /* RD */
	store_be16(p + 4, 1);
	store_be16(p + 10, edns_size >= 0 ? 1 : 0);
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);

		p[n++] = (uint8_t)l;
		memcpy(p + n, s, l);
		n += l;
		s += l + (dot ? 1 : 0);
	}
	p[n++] = 0;
	store_be16(p + n, type);
	store_be16(p + n + 2, DNS_C_IN);
	n += 4;
	if (edns_size >= 0) {
		p[n] = 0;
		store_be16(p + n + 1, DNS_T_OPT);
		store_be16(p + n + 3, (uint16_t)edns_size);
		store_be32(p + n + 5, 0x8000); /* DO */
		store_be16(p + n + 9, 4);
		memset(p + n + 11, 0, 4); /* one empty option */
		n += 15;
	}
	return n;
}

static void test_parse_basic(void **state)
{
	uint8_t p[512];
	size_t n = mkq(p, "WwW.Example.COM", DNS_T_A, -1);
	struct dns_query q;
	uint16_t rc = 99;

	(void)state;
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	assert_int_equal(rc, DNS_R_NOERROR);
	assert_int_equal(q.id, 0xbeef);
	assert_true(q.rd);
	assert_true(q.has_q);
	assert_int_equal(q.qtype, DNS_T_A);
	assert_int_equal(q.qclass, DNS_C_IN);
	assert_string_equal(q.name, "www.example.com");
	assert_true(q.name_ldh);
	assert_int_equal(q.qwire_len, 17);
	assert_memory_equal(q.qwire, "\3WwW\7Example\3COM", 17);
	assert_false(q.edns);
	assert_int_equal(dns_udp_limit(&q), 512);
}

static void test_parse_edns(void **state)
{
	uint8_t p[512];
	size_t n = mkq(p, "a.b", DNS_T_AAAA, 4096);
	struct dns_query q;
	uint16_t rc;

	(void)state;
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	assert_true(q.edns);
	assert_true(q.edns_do);
	assert_int_equal(q.edns_size, 4096);
	assert_int_equal(dns_udp_limit(&q), DNS_UDP_MAX);
	n = mkq(p, "a.b", DNS_T_AAAA, 100); /* below 512 counts as 512 */
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	assert_int_equal(dns_udp_limit(&q), 512);
	/* Version 1: BADVERS, the question still echoed. */
	p[n - 15 + 6] = 1;
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	assert_int_equal(rc, DNS_R_BADVERS);
	assert_true(q.has_q && q.edns);
	/* Option data shorter than RDLENGTH claims. */
	n = mkq(p, "a.b", DNS_T_A, 1232);
	assert_int_equal(dns_parse_query(p, n - 1, &q, &rc), -EINVAL);
	assert_int_equal(rc, DNS_R_FORMERR);
	/* A non-OPT additional record. */
	n = mkq(p, "a.b", DNS_T_A, 1232);
	store_be16(p + n - 14, DNS_T_A);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	assert_int_equal(rc, DNS_R_FORMERR);
}

static void test_parse_no_reply(void **state)
{
	uint8_t p[512];
	size_t n = mkq(p, "a.b", DNS_T_A, -1);
	struct dns_query q;
	uint16_t rc;

	(void)state;
	assert_int_equal(dns_parse_query(p, 11, &q, &rc), -EBADMSG);
	assert_int_equal(dns_parse_query(p, 0, &q, &rc), -EBADMSG);
	p[2] |= 0x80; /* QR: a response */
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EBADMSG);
}

static void test_parse_header_errors(void **state)
{
	uint8_t p[512];
	size_t n;
	struct dns_query q;
	uint16_t rc;

	(void)state;
	n = mkq(p, "a.b", DNS_T_A, -1);
	p[2] |= 2 << 3; /* opcode STATUS */
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	assert_int_equal(rc, DNS_R_NOTIMP);
	assert_int_equal(q.id, 0xbeef);
	assert_int_equal(q.opcode, 2);
	assert_false(q.has_q);
	n = mkq(p, "a.b", DNS_T_A, -1);
	store_be16(p + 4, 0);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	assert_int_equal(rc, DNS_R_FORMERR);
	store_be16(p + 4, 2);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	store_be16(p + 4, 1);
	store_be16(p + 6, 1); /* an answer in a query */
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	store_be16(p + 6, 0);
	store_be16(p + 8, 1);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	store_be16(p + 8, 0);
	store_be16(p + 10, 2);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	store_be16(p + 10, 0);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	/* One byte past the question. */
	p[n] = 0;
	assert_int_equal(dns_parse_query(p, n + 1, &q, &rc), -EINVAL);
	assert_int_equal(rc, DNS_R_FORMERR);
	assert_true(q.has_q);
}

static void test_parse_name_errors(void **state)
{
	uint8_t p[600];
	char name[400];
	size_t n, i;
	struct dns_query q;
	uint16_t rc;

	(void)state;
	/* A compression pointer in the question. */
	n = mkq(p, "a.b", DNS_T_A, -1);
	p[DNS_HDR_LEN + 2] = 0xc0;
	p[DNS_HDR_LEN + 3] = DNS_HDR_LEN;
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	assert_int_equal(rc, DNS_R_FORMERR);
	assert_false(q.has_q);
	/* Reserved label types 0x40, 0x80. */
	p[DNS_HDR_LEN + 2] = 0x41;
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	p[DNS_HDR_LEN + 2] = 0x81;
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	/* A label running past the end; the type cut short. */
	n = mkq(p, "a.bcd", DNS_T_A, -1);
	assert_int_equal(dns_parse_query(p, DNS_HDR_LEN + 4, &q, &rc), -EINVAL);
	assert_int_equal(dns_parse_query(p, n - 1, &q, &rc), -EINVAL);
	assert_int_equal(dns_parse_query(p, n - 3, &q, &rc), -EINVAL);
	/* 63 bytes in a label is fine, 64 is not. */
	memset(name, 'x', 64);
	name[63] = 0;
	n = mkq(p, name, DNS_T_A, -1);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	name[63] = 'x';
	name[64] = 0;
	n = mkq(p, name, DNS_T_A, -1);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
	/* 255 bytes in wire form (253 dotted) is fine, 256 is not. */
	for (i = 0; i < 4; i++) {
		memset(name + i * 64, 'y', 63);
		name[i * 64 + 63] = '.';
	}
	name[253] = 0; /* 63.63.63.61 */
	n = mkq(p, name, DNS_T_A, -1);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	assert_int_equal(q.qwire_len, 255);
	assert_int_equal(strlen(q.name), 253);
	name[253] = 'y';
	name[254] = 0;
	n = mkq(p, name, DNS_T_A, -1);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), -EINVAL);
}

static void test_parse_odd_names(void **state)
{
	uint8_t p[512];
	size_t n;
	struct dns_query q;
	uint16_t rc;

	(void)state;
	n = mkq(p, "", DNS_T_A, -1); /* the root */
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	assert_string_equal(q.name, "");
	assert_false(q.name_ldh);
	n = mkq(p, "a_b.c-d.9", DNS_T_A, -1);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	assert_true(q.name_ldh);
	/* A dot or a space inside a label, a NUL byte: not a hostname. */
	n = mkq(p, "ab.cd", DNS_T_A, -1);
	p[DNS_HDR_LEN + 2] = '.';
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	assert_false(q.name_ldh);
	p[DNS_HDR_LEN + 2] = ' ';
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	assert_false(q.name_ldh);
	p[DNS_HDR_LEN + 2] = 0;
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	assert_false(q.name_ldh);
}

static void test_build_answers(void **state)
{
	uint8_t p[512], r[2048];
	size_t n = mkq(p, "Host.Test", DNS_T_A, -1), off;
	struct dns_query q;
	struct dns_addr an[2] = {
		{ .family = AF_INET, .addr = { 198, 18, 0, 7 } },
		{ .family = AF_INET6, .addr = { 0xfd, 0x70, [15] = 9 } },
	};
	uint16_t rc;
	int len;

	(void)state;
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	len = dns_build_reply(r, sizeof(r), 512, &q, DNS_R_NOERROR, an, 2, 10);
	assert_int_equal(len, (int)(n + 16 + 28));
	assert_int_equal(load_be16(r), 0xbeef);
	assert_int_equal(load_be16(r + 2), 0x8180); /* QR RD RA, NOERROR */
	assert_int_equal(load_be16(r + 4), 1);
	assert_int_equal(load_be16(r + 6), 2);
	assert_int_equal(load_be16(r + 8), 0);
	assert_int_equal(load_be16(r + 10), 0);
	assert_memory_equal(r + DNS_HDR_LEN, p + DNS_HDR_LEN, n - DNS_HDR_LEN); /* case kept */
	off = n;
	assert_int_equal(load_be16(r + off), 0xc00c);
	assert_int_equal(load_be16(r + off + 2), DNS_T_A);
	assert_int_equal(load_be16(r + off + 4), DNS_C_IN);
	assert_int_equal(load_be32(r + off + 6), 10);
	assert_int_equal(load_be16(r + off + 10), 4);
	assert_memory_equal(r + off + 12, an[0].addr, 4);
	off += 16;
	assert_int_equal(load_be16(r + off + 2), DNS_T_AAAA);
	assert_int_equal(load_be16(r + off + 10), 16);
	assert_memory_equal(r + off + 12, an[1].addr, 16);
	/* NXDOMAIN, no RD asked: none echoed. */
	q.rd = false;
	len = dns_build_reply(r, sizeof(r), 512, &q, DNS_R_NXDOMAIN, NULL, 0, 10);
	assert_int_equal(len, (int)n);
	assert_int_equal(load_be16(r + 2), 0x8083);
	assert_int_equal(load_be16(r + 6), 0);
}

static void test_build_edns_and_errors(void **state)
{
	uint8_t p[512], r[2048];
	size_t n = mkq(p, "x.y", DNS_T_AAAA, 1232), qn = n - 15;
	struct dns_query q;
	uint16_t rc;
	int len;

	(void)state;
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	len = dns_build_reply(r, sizeof(r), dns_udp_limit(&q), &q, DNS_R_NOERROR, NULL, 0, 10);
	assert_int_equal(len, (int)(qn + 11));
	assert_int_equal(load_be16(r + 10), 1);
	assert_int_equal(r[qn], 0);
	assert_int_equal(load_be16(r + qn + 1), DNS_T_OPT);
	assert_int_equal(load_be16(r + qn + 3), DNS_UDP_MAX);
	assert_int_equal(load_be32(r + qn + 5), 0);
	assert_int_equal(load_be16(r + qn + 9), 0);
	/* BADVERS: 16 = upper bits 1 in the OPT TTL, 0 in the header. */
	len = dns_build_reply(r, sizeof(r), 512, &q, DNS_R_BADVERS, NULL, 0, 0);
	assert_int_equal(len, (int)(qn + 11));
	assert_int_equal(load_be16(r + 2) & 0xf, 0);
	assert_int_equal(r[qn + 5], 1);
	q.edns = false;
	assert_int_equal(dns_build_reply(r, sizeof(r), 512, &q, DNS_R_BADVERS, NULL, 0, 0),
			 -EINVAL);
	/* FORMERR with no question. */
	q.has_q = false;
	len = dns_build_reply(r, sizeof(r), 512, &q, DNS_R_FORMERR, NULL, 0, 0);
	assert_int_equal(len, DNS_HDR_LEN);
	assert_int_equal(load_be16(r + 2) & 0xf, DNS_R_FORMERR);
	assert_int_equal(load_be16(r + 4), 0);
}

static void test_build_truncation(void **state)
{
	uint8_t p[512], r[2048];
	char name[300];
	size_t n, i, base;
	struct dns_query q;
	struct dns_addr an[DNS_ANSWER_MAX + 2];
	uint16_t rc;
	int len;

	(void)state;
	for (i = 0; i < 4; i++) {
		memset(name + i * 64, 'z', 63);
		name[i * 64 + 63] = '.';
	}
	name[253] = 0;
	n = mkq(p, name, DNS_T_AAAA, -1);
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	for (i = 0; i < DNS_ANSWER_MAX + 2; i++) {
		an[i].family = AF_INET6;
		memset(an[i].addr, (int)i, 16);
	}
	base = n; /* 12 + 255 + 4 = 271; each AAAA is 28: 8 fit in 512 */
	len = dns_build_reply(r, sizeof(r), 512, &q, 0, an, DNS_ANSWER_MAX + 2, 10);
	assert_int_equal(len, (int)(base + 8 * 28));
	assert_int_equal(load_be16(r + 6), 8);
	assert_false(load_be16(r + 2) & 0x0200); /* past ANSWER_MAX: dropped, not TC */
	len = dns_build_reply(r, sizeof(r), 400, &q, 0, an, 3, 10);
	assert_int_equal(len, (int)(base + 4 * 28) - 28); /* 3 fit in 400 */
	assert_false(load_be16(r + 2) & 0x0200);
	len = dns_build_reply(r, sizeof(r), 350, &q, 0, an, 3, 10);
	assert_int_equal(load_be16(r + 6), 2);
	assert_true(load_be16(r + 2) & 0x0200);
	/* Not even the question fits. */
	assert_int_equal(dns_build_reply(r, sizeof(r), 200, &q, 0, an, 1, 10), -ENOSPC);
	assert_int_equal(dns_build_reply(r, 100, 512, &q, 0, an, 1, 10), -ENOSPC);
}

static void test_check_reply(void **state)
{
	uint8_t p[512], r[512];
	size_t n = mkq(p, "Mixed.Case", DNS_T_A, -1);
	struct dns_query q;
	struct dns_addr a = { .family = AF_INET, .addr = { 1, 2, 3, 4 } };
	uint16_t rc;
	int len;

	(void)state;
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	len = dns_build_reply(r, sizeof(r), 512, &q, 0, &a, 1, 60);
	assert_int_equal(dns_check_reply(r, (size_t)len, &q), 0);
	r[DNS_HDR_LEN + 1] = 'M' ^ 0x20; /* upstream changed the case */
	assert_int_equal(dns_check_reply(r, (size_t)len, &q), 0);
	r[DNS_HDR_LEN + 1] = 'N';
	assert_int_equal(dns_check_reply(r, (size_t)len, &q), -EBADMSG);
	r[DNS_HDR_LEN + 1] = 'M';
	assert_int_equal(dns_check_reply(r, n - 1, &q), -EBADMSG);
	r[1] ^= 1; /* another id */
	assert_int_equal(dns_check_reply(r, (size_t)len, &q), -EBADMSG);
	r[1] ^= 1;
	r[2] &= 0x7f; /* not a response */
	assert_int_equal(dns_check_reply(r, (size_t)len, &q), -EBADMSG);
	r[2] |= 0x80;
	store_be16(r + n - 4, DNS_T_AAAA);
	assert_int_equal(dns_check_reply(r, (size_t)len, &q), -EBADMSG);
}

static void test_ptr_addr(void **state)
{
	uint8_t a[16], want[16];
	int fam;

	(void)state;
	assert_int_equal(dns_ptr_addr("7.0.18.198.in-addr.arpa", &fam, a), 0);
	assert_int_equal(fam, AF_INET);
	assert_memory_equal(a, ((uint8_t[]){ 198, 18, 0, 7 }), 4);
	assert_int_equal(dns_ptr_addr("255.0.0.0.in-addr.arpa", &fam, a), 0);
	assert_int_equal(dns_ptr_addr("256.0.0.0.in-addr.arpa", &fam, a), -EINVAL);
	assert_int_equal(dns_ptr_addr("07.0.18.198.in-addr.arpa", &fam, a), -EINVAL);
	assert_int_equal(dns_ptr_addr("0.18.198.in-addr.arpa", &fam, a), -EINVAL);
	assert_int_equal(dns_ptr_addr("1.7.0.18.198.in-addr.arpa", &fam, a), -EINVAL);
	assert_int_equal(dns_ptr_addr("a.0.18.198.in-addr.arpa", &fam, a), -EINVAL);
	assert_int_equal(dns_ptr_addr("in-addr.arpa", &fam, a), -EINVAL);
	assert_int_equal(dns_ptr_addr("7.0.18.198.in-addr.arpa.x", &fam, a), -EINVAL);
	assert_int_equal(
		dns_ptr_addr("3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.7.6.7.0.7.d.f."
			     "ip6.arpa",
			     &fam, a),
		0);
	assert_int_equal(fam, AF_INET6);
	inet_pton(AF_INET6, "fd70:7678::3", want);
	assert_memory_equal(a, want, 16);
	assert_int_equal(
		dns_ptr_addr("3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.7.6.7.0.7.d."
			     "ip6.arpa",
			     &fam, a),
		-EINVAL); /* 31 nibbles */
	assert_int_equal(
		dns_ptr_addr("g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.7.6.7.0.7.d.f."
			     "ip6.arpa",
			     &fam, a),
		-EINVAL);
	assert_int_equal(dns_ptr_addr("example.com", &fam, a), -EINVAL);
}

static void test_build_name_reply(void **state)
{
	uint8_t p[512], r[2048];
	size_t n = mkq(p, "7.0.18.198.in-addr.arpa", DNS_T_PTR, 1232), qn = n - 15;
	struct dns_query q;
	uint16_t rc;
	int len;

	(void)state;
	assert_int_equal(dns_parse_query(p, n, &q, &rc), 0);
	len = dns_build_name_reply(r, sizeof(r), 512, &q, "www.example.org", 10);
	assert_int_equal(len, (int)(qn + 12 + 17 + 11));
	assert_int_equal(load_be16(r + 6), 1);
	assert_int_equal(load_be16(r + 10), 1);
	assert_int_equal(load_be16(r + qn), 0xc00c);
	assert_int_equal(load_be16(r + qn + 2), DNS_T_PTR);
	assert_int_equal(load_be32(r + qn + 6), 10);
	assert_int_equal(load_be16(r + qn + 10), 17);
	assert_memory_equal(r + qn + 12, "\3www\7example\3org", 17);
	assert_int_equal(load_be16(r + qn + 29 + 1), DNS_T_OPT); /* OPT after it */
	/* Too big for the limit: no answer, TC. */
	len = dns_build_name_reply(r, sizeof(r), qn + 11 + 20, &q, "www.example.org", 10);
	assert_int_equal(len, (int)(qn + 11));
	assert_true(load_be16(r + 2) & 0x0200);
	assert_int_equal(load_be16(r + 6), 0);
	/* Not names. */
	assert_int_equal(dns_build_name_reply(r, sizeof(r), 512, &q, "a..b", 10), -EINVAL);
	assert_int_equal(dns_build_name_reply(r, sizeof(r), 512, &q, "a.", 10), -EINVAL);
	assert_int_equal(dns_build_name_reply(r, sizeof(r), 512, &q, ".a", 10), -EINVAL);
	{
		char big[80];

		memset(big, 'x', 64);
		big[64] = 0;
		assert_int_equal(dns_build_name_reply(r, sizeof(r), 512, &q, big, 10), -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_edns),
		cmocka_unit_test(test_parse_no_reply),
		cmocka_unit_test(test_parse_header_errors),
		cmocka_unit_test(test_parse_name_errors),
		cmocka_unit_test(test_parse_odd_names),
		cmocka_unit_test(test_build_answers),
		cmocka_unit_test(test_build_edns_and_errors),
		cmocka_unit_test(test_build_truncation),
		cmocka_unit_test(test_check_reply),
		cmocka_unit_test(test_ptr_addr),
		cmocka_unit_test(test_build_name_reply),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
