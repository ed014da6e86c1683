// SPDX-License-Identifier: GPL-2.0-only
/*
 * DNS codec: queries in, replies out, every length checked against the
 * bytes held before it is used (struct rd). Compression pointers are refused
 * in a query's question: a one-question query has nothing earlier to point
 * at, and refusing them keeps the name walk linear and bounded.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns.h"

enum {
	F_QR = 0x8000,
	F_AA = 0x0400,
	F_TC = 0x0200,
	F_RD = 0x0100,
	F_RA = 0x0080,
	F_CD = 0x0010,
	EDNS_DO = 0x8000,
};

static bool ldh(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static char lower(uint8_t c)
{
	return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/*
 * Reads an uncompressed name into q (wire copy, dotted lower-case text).
 * -EINVAL: pointer, reserved label type, label or name too long, truncated.
 */
static int read_qname(struct rd *r, struct dns_query *q)
{
	size_t w = 0, t = 0;

	q->name_ldh = true;
	for (;;) {
		uint8_t l;
		size_t i;

		if (rd_u8(r, &l) < 0)
			return -EINVAL;
		if (w + 1 + l > DNS_NAME_MAX)
			return -EINVAL;
		q->qwire[w++] = l;
		if (l == 0)
			break;
		if (l > DNS_LABEL_MAX)
			return -EINVAL; /* 0xc0 pointer or a reserved type */
		if (r->left < l)
			return -EINVAL;
		if (t)
			q->name[t++] = '.';
		for (i = 0; i < l; i++) {
			uint8_t c = r->p[i];

			if (!ldh(c) || c == '.')
				q->name_ldh = false;
			q->qwire[w++] = c;
			q->name[t++] = lower(c);
		}
		rd_skip(r, l);
	}
	/* w <= 255 makes t <= 253: every label costs one byte more in wire form. */
	q->name[t] = '\0';
	q->qwire_len = w;
	if (t == 0)
		q->name_ldh = false; /* the root is no hostname */
	return 0;
}

/* The additional section: at most one record, an OPT with the root name. */
static int read_opt(struct rd *r, struct dns_query *q)
{
	uint8_t root;
	uint16_t type, size, rdlen;
	uint32_t ttl;

	if (rd_u8(r, &root) < 0 || root != 0)
		return -EINVAL;
	if (rd_be16(r, &type) < 0 || type != DNS_T_OPT)
		return -EINVAL;
	if (rd_be16(r, &size) < 0 || rd_be32(r, &ttl) < 0 || rd_be16(r, &rdlen) < 0)
		return -EINVAL;
	if (rd_skip(r, rdlen) < 0) /* options (cookies, padding): not used */
		return -EINVAL;
	q->edns = true;
	q->edns_size = size < DNS_UDP_MIN ? DNS_UDP_MIN : size;
	q->edns_version = (uint8_t)(ttl >> 16);
	q->edns_do = ttl & EDNS_DO;
	return 0;
}

int dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q, uint16_t *rcode)
{
	struct rd r = { .p = msg, .left = len };
	uint16_t flags, qd, an, ns, ar;

	memset(q, 0, sizeof(*q));
	*rcode = DNS_R_FORMERR;
	if (len < DNS_HDR_LEN)
		return -EBADMSG;
	q->id = load_be16(msg);
	flags = load_be16(msg + 2);
	qd = load_be16(msg + 4);
	an = load_be16(msg + 6);
	ns = load_be16(msg + 8);
	ar = load_be16(msg + 10);
	rd_skip(&r, DNS_HDR_LEN);
	if (flags & F_QR)
		return -EBADMSG; /* a response: never answer one (no loops) */
	q->opcode = (uint8_t)(flags >> 11 & 0xf);
	q->rd = flags & F_RD;
	q->cd = flags & F_CD;
	if (q->opcode != 0) {
		*rcode = DNS_R_NOTIMP;
		return -EINVAL;
	}
	if (qd != 1 || an || ns || ar > 1)
		return -EINVAL;
	if (read_qname(&r, q) < 0 || rd_be16(&r, &q->qtype) < 0 || rd_be16(&r, &q->qclass) < 0)
		return -EINVAL;
	q->has_q = true;
	if (ar && read_opt(&r, q) < 0)
		return -EINVAL;
	if (r.left)
		return -EINVAL; /* bytes past the last record */
	if (q->edns && q->edns_version != 0) {
		*rcode = DNS_R_BADVERS;
		return -EINVAL;
	}
	*rcode = DNS_R_NOERROR;
	return 0;
}

size_t dns_udp_limit(const struct dns_query *q)
{
	if (!q->edns)
		return DNS_UDP_MIN;
	return q->edns_size < DNS_UDP_MAX ? q->edns_size : DNS_UDP_MAX;
}

/* Bounded writer: the first write past cap marks it failed. */
struct wr {
	uint8_t *p;
	size_t len, cap;
	bool full;
};

static void wr_bytes(struct wr *w, const void *src, size_t n)
{
	if (w->full || w->cap - w->len < n) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void wr_be16(struct wr *w, uint16_t v)
{
	uint8_t b[2];

	store_be16(b, v);
	wr_bytes(w, b, 2);
}

static void wr_be32(struct wr *w, uint32_t v)
{
	uint8_t b[4];

	store_be32(b, v);
	wr_bytes(w, b, 4);
}

enum { OPT_RR_LEN = 11, ADDR_RR_FIXED = 12 }; /* OPT; pointer, type, class, ttl, rdlen */

static void put_opt(struct wr *w, uint16_t rcode)
{
	wr_bytes(w, "", 1); /* the root name */
	wr_be16(w, DNS_T_OPT);
	wr_be16(w, DNS_UDP_MAX);
	wr_be32(w, (uint32_t)(rcode >> 4) << 24); /* ext rcode, version 0, no DO */
	wr_be16(w, 0);
}

int dns_build_reply(uint8_t *buf, size_t cap, size_t limit, const struct dns_query *q,
		    uint16_t rcode, const struct dns_addr *an, size_t n, uint32_t ttl)
{
	struct wr w = { .p = buf, .cap = cap < limit ? cap : limit };
	size_t i, fit = 0, base, opt = q->edns ? OPT_RR_LEN : 0;
	uint16_t flags = F_QR | F_RA | (uint16_t)(q->opcode << 11) | (rcode & 0xf);

	if (q->rd)
		flags |= F_RD;
	if (q->cd)
		flags |= F_CD;
	if (rcode > 0xf && !q->edns)
		return -EINVAL; /* an extended rcode needs the OPT record */
	base = DNS_HDR_LEN + (q->has_q ? q->qwire_len + 4 : 0) + opt;
	if (base > w.cap)
		return -ENOSPC;
	if (n > DNS_ANSWER_MAX)
		n = DNS_ANSWER_MAX;
	for (i = 0; i < n; i++) {
		size_t rr = ADDR_RR_FIXED + (an[i].family == AF_INET6 ? 16 : 4);

		if (base + rr > w.cap)
			break;
		base += rr;
		fit++;
	}
	if (fit < n)
		flags |= F_TC;
	wr_be16(&w, q->id);
	wr_be16(&w, flags);
	wr_be16(&w, q->has_q ? 1 : 0);
	wr_be16(&w, (uint16_t)fit);
	wr_be16(&w, 0);
	wr_be16(&w, q->edns ? 1 : 0);
	if (q->has_q) {
		wr_bytes(&w, q->qwire, q->qwire_len);
		wr_be16(&w, q->qtype);
		wr_be16(&w, q->qclass);
	}
	for (i = 0; i < fit; i++) {
		bool v6 = an[i].family == AF_INET6;

		wr_be16(&w, 0xc000 | DNS_HDR_LEN); /* the question's name */
		wr_be16(&w, v6 ? DNS_T_AAAA : DNS_T_A);
		wr_be16(&w, DNS_C_IN);
		wr_be32(&w, ttl);
		wr_be16(&w, v6 ? 16 : 4);
		wr_bytes(&w, an[i].addr, v6 ? 16 : 4);
	}
	if (q->edns)
		put_opt(&w, rcode);
	if (w.full)
		return -ENOSPC; /* cannot happen: sized above */
	return (int)w.len;
}

int dns_build_name_reply(uint8_t *buf, size_t cap, size_t limit, const struct dns_query *q,
			 const char *target, uint32_t ttl)
{
	uint8_t wire[DNS_NAME_MAX];
	size_t w = 0, base, i;
	const char *p = target;
	int n;

	/* The target in wire form: labels of 1-63 bytes, 255 in all. */
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > DNS_LABEL_MAX || w + 1 + l + 1 > DNS_NAME_MAX)
			return -EINVAL;
		wire[w++] = (uint8_t)l;
		for (i = 0; i < l; i++)
			wire[w++] = (uint8_t)p[i];
		p += l + (dot ? 1 : 0);
		if (dot && !*p)
			return -EINVAL; /* a trailing dot: an empty last label */
	}
	wire[w++] = 0;
	if (!q->has_q)
		return -EINVAL;
	/* Header, question and OPT as for no answers; then the record if it fits. */
	n = dns_build_reply(buf, cap, limit, q, DNS_R_NOERROR, NULL, 0, 0);
	if (n < 0)
		return n;
	base = DNS_HDR_LEN + q->qwire_len + 4;
	if ((size_t)n + ADDR_RR_FIXED + w > (cap < limit ? cap : limit)) {
		buf[2] |= 0x02; /* TC */
		return n;
	}
	{
		size_t opt = (size_t)n - base; /* the OPT record's bytes, moved after ours */
		uint8_t o[OPT_RR_LEN];
		uint8_t *r = buf + base;

		memcpy(o, r, opt);
		store_be16(r, 0xc000 | DNS_HDR_LEN);
		store_be16(r + 2, q->qtype);
		store_be16(r + 4, q->qclass);
		store_be32(r + 6, ttl);
		store_be16(r + 10, (uint16_t)w);
		memcpy(r + ADDR_RR_FIXED, wire, w);
		memcpy(r + ADDR_RR_FIXED + w, o, opt);
		store_be16(buf + 6, 1);
		return n + (int)(ADDR_RR_FIXED + w);
	}
}

/* One decimal octet 0-255 without leading zeros, ending at a dot. */
static int octet(const char **p)
{
	int v = 0, k = 0;

	while (**p >= '0' && **p <= '9' && k < 3) {
		v = v * 10 + (**p - '0');
		(*p)++;
		k++;
	}
	if (k == 0 || v > 255 || (k > 1 && (*p)[-k] == '0') || **p != '.')
		return -1;
	(*p)++;
	return v;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool ends_with(const char *s, const char *suffix, const char **cut)
{
	size_t n = strlen(s), k = strlen(suffix);

	if (n < k || strcmp(s + n - k, suffix))
		return false;
	*cut = s + n - k;
	return true;
}

int dns_ptr_addr(const char *name, int *family, uint8_t addr[16])
{
	const char *p = name, *end;
	int i, v;

	if (ends_with(name, ".in-addr.arpa", &end)) {
		for (i = 3; i >= 0; i--) {
			v = octet(&p); /* consumes the dot after it */
			if (v < 0)
				return -EINVAL;
			addr[i] = (uint8_t)v;
		}
		if (p != end + 1)
			return -EINVAL; /* more or fewer than 4 labels */
		*family = AF_INET;
		return 0;
	}
	if (!ends_with(name, ".ip6.arpa", &end) || end - name != 32 * 2 - 1)
		return -EINVAL;
	memset(addr, 0, 16);
	for (i = 31; i >= 0; i--) {
		v = nibble(p[0]);
		if (v < 0 || p[1] != '.')
			return -EINVAL;
		addr[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
		p += 2;
	}
	*family = AF_INET6;
	return 0;
}

static bool name_eq_nocase(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

int dns_check_reply(const uint8_t *msg, size_t len, const struct dns_query *q)
{
	size_t ql = q->qwire_len;

	if (!q->has_q || len < DNS_HDR_LEN + ql + 4)
		return -EBADMSG;
	if (load_be16(msg) != q->id || !(load_be16(msg + 2) & F_QR) || load_be16(msg + 4) != 1)
		return -EBADMSG;
	/* Label lengths are bytes < 64, so a case-blind compare cannot mix them up. */
	if (!name_eq_nocase(msg + DNS_HDR_LEN, q->qwire, ql) ||
	    load_be16(msg + DNS_HDR_LEN + ql) != q->qtype ||
	    load_be16(msg + DNS_HDR_LEN + ql + 2) != q->qclass)
		return -EBADMSG;
	return 0;
}
