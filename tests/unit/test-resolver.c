// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine's UDP side, end to end inside one process: packets written
 * with engine_input() as the TUN would deliver them, and what the engine
 * writes back read from the other end of a datagram socketpair standing in
 * for the TUN. Virtual DNS answers (fake A/AAAA, NODATA, localhost,
 * FORMERR, silence for garbage, PTR of fake addresses), ICMP port unreachable for other UDP,
 * nothing for multicast, an RST for TCP to a fake address with no name,
 * DNS over TCP to the resolver answered by the engine (split and pipelined
 * queries, our FIN after the app's) and listed by `status` with its own
 * phase (once NULL, which crashed the engine), the oldest forwarded query giving
 * its slot up when all are taken (--dns tcp), and bypass mode leaving DNS
 * to the UDP policy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "ctl-proto.h"
#include "resolver.h"
#include "segment.h"
#include "session.h"
#include "dns.h"
#include "engine.h"
#include "fake-proxy.h"
#include "ip.h"
#include "loop.h"
#include "tcp.h"
#include "url.h"

struct fix {
	struct loop loop;
	struct engine eng;
	struct proxy_url url;
	int peer; /* our end of the "TUN" */
	uint8_t app4[4], app6[16], res4[4], res6[16];
};

/* Set before a setup: the forwarding resolver and the proxy it goes through (--dns tcp). */
static struct sockaddr_in next_server, next_proxy;

static int setup_mode(void **state, enum engine_dns dns)
{
	static struct fix f;
	struct engine_cfg c = { .mtu = 1500, .dns = dns, .udp = ENGINE_UDP_BLOCK };
	const char *why;
	int sv[2];

	memset(&f, 0, sizeof(f));
	assert_int_equal(url_parse("socks5://127.0.0.1:9", &f.url, &why), 0);
	assert_int_equal(url_resolve(&f.url, &c.proxy_addr, &c.proxy_addrlen), 0);
	if (next_proxy.sin_family) {
		memcpy(&c.proxy_addr, &next_proxy, sizeof(next_proxy));
		c.proxy_addrlen = sizeof(next_proxy);
	}
	if (next_server.sin_family) {
		memcpy(&c.dns_server, &next_server, sizeof(next_server));
		c.dns_server_len = sizeof(next_server);
	}
	memset(&next_proxy, 0, sizeof(next_proxy));
	memset(&next_server, 0, sizeof(next_server));
	c.proxy = &f.url;
	dnspool_cfg_default(&c.pool);
	inet_pton(AF_INET, "198.18.0.1", c.pool.excl4[c.pool.nexcl4++]);
	inet_pton(AF_INET6, "fd70:7678::1", c.pool.excl6[c.pool.nexcl6++]);
	inet_pton(AF_INET, ENGINE_RESOLVER4, c.resolver4);
	inet_pton(AF_INET6, ENGINE_RESOLVER6, c.resolver6);
	inet_pton(AF_INET, "198.18.0.1", f.app4);
	inet_pton(AF_INET6, "fd70:7678::1", f.app6);
	memcpy(f.res4, c.resolver4, 4);
	memcpy(f.res6, c.resolver6, 16);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	f.peer = sv[0];
	assert_int_equal(loop_init(&f.loop), 0);
	assert_int_equal(engine_init(&f.eng, &f.loop, sv[1], &c), 0);
	*state = &f;
	return 0;
}

static int setup_virtual(void **state)
{
	return setup_mode(state, ENGINE_DNS_VIRTUAL);
}

static int setup_bypass(void **state)
{
	return setup_mode(state, ENGINE_DNS_BYPASS);
}

static int teardown(void **state)
{
	struct fix *f = *state;

	engine_fini(&f->eng);
	loop_fini(&f->loop);
	close(f->peer);
	url_clear(&f->url);
	return 0;
}

/* A UDP datagram from the app into the engine. */
static void send_udp(struct fix *f, int family, const uint8_t *dst, uint16_t dport,
		     const void *data, size_t len)
{
	uint8_t pkt[2048];
	size_t hl = udp_build_hdr(pkt, family, family == AF_INET6 ? f->app6 : f->app4, 40000, dst,
				  dport, data, len);

	assert_true(hl > 0);
	memcpy(pkt + hl, data, len);
	engine_input(&f->eng, pkt, hl + len);
}

/* What the engine wrote to the TUN, or -1 if nothing. */
static ssize_t recv_pkt(struct fix *f, uint8_t *buf, size_t cap)
{
	return recv(f->peer, buf, cap, MSG_DONTWAIT);
}

static size_t mkq(uint8_t *p, const char *name, uint16_t type)
{
	size_t n = DNS_HDR_LEN;
	const char *s = name;

	memset(p, 0, DNS_HDR_LEN);
	store_be16(p, 0x4242);
	store_be16(p + 2, 0x0100);
	store_be16(p + 4, 1);
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
	return n + 4;
}

/* Reads the reply to a query of qlen bytes: checks addressing, returns the DNS message. */
static const uint8_t *dns_reply(struct fix *f, uint8_t *buf, size_t cap, int family, size_t *len)
{
	ssize_t n = recv_pkt(f, buf, cap);
	struct ip_view v;
	struct udp_view u;

	assert_true(n > 0);
	assert_int_equal(ip_parse(buf, (size_t)n, &v), 0);
	assert_int_equal(v.family, family);
	assert_int_equal(v.proto, IPPROTO_UDP);
	assert_int_equal(udp_parse(&v, &u), 0); /* checksum verified */
	assert_int_equal(u.sport, 53);
	assert_int_equal(u.dport, 40000);
	assert_memory_equal(v.src, family == AF_INET6 ? f->res6 : f->res4, ip_addr_len(family));
	assert_memory_equal(v.dst, family == AF_INET6 ? f->app6 : f->app4, ip_addr_len(family));
	assert_int_equal(load_be16(u.data), 0x4242);
	*len = u.len;
	return u.data;
}

static void test_fake_answers(void **state)
{
	struct fix *f = *state;
	uint8_t q[300], buf[2048], a4[4], a6[16];
	const uint8_t *m;
	size_t n = mkq(q, "Www.Example.ORG", DNS_T_A), len;

	send_udp(f, AF_INET, f->res4, 53, q, n);
	m = dns_reply(f, buf, sizeof(buf), AF_INET, &len);
	assert_int_equal(load_be16(m + 2) & 0x800f, 0x8000); /* QR, NOERROR */
	assert_int_equal(load_be16(m + 6), 1);
	assert_int_equal(len, n + 16);
	assert_memory_equal(m + DNS_HDR_LEN, q + DNS_HDR_LEN, n - DNS_HDR_LEN); /* case kept */
	assert_int_equal(load_be32(m + n + 6), DNSPOOL_TTL_DEFAULT);
	inet_pton(AF_INET, "198.18.0.3", a4); /* .1 TUN, .2 resolver */
	assert_memory_equal(m + n + 12, a4, 4);
	/* AAAA over IPv6 to the v6 resolver: the same name's v6 address. */
	n = mkq(q, "www.example.org", DNS_T_AAAA);
	send_udp(f, AF_INET6, f->res6, 53, q, n);
	m = dns_reply(f, buf, sizeof(buf), AF_INET6, &len);
	assert_int_equal(load_be16(m + 6), 1);
	inet_pton(AF_INET6, "fd70:7678::3", a6);
	assert_memory_equal(m + n + 12, a6, 16);
	/* Another name, sent to some other resolver address: answered from there. */
	n = mkq(q, "b.example", DNS_T_A);
	inet_pton(AF_INET, "9.9.9.9", a4);
	send_udp(f, AF_INET, a4, 53, q, n);
	{
		ssize_t r = recv_pkt(f, buf, sizeof(buf));
		struct ip_view v;

		assert_true(r > 0);
		assert_int_equal(ip_parse(buf, (size_t)r, &v), 0);
		assert_memory_equal(v.src, a4, 4);
		inet_pton(AF_INET, "198.18.0.4", a4);
		assert_memory_equal(v.l4 + UDP_HDR_LEN + n + 12, a4, 4);
	}
	assert_int_equal(resolver_stats(f->eng.resolver)->fake, 3);
}

static void test_other_answers(void **state)
{
	struct fix *f = *state;
	uint8_t q[300], buf[2048], lo[4] = { 127, 0, 0, 1 };
	const uint8_t *m;
	size_t n, len;

	n = mkq(q, "example.org", 15); /* MX: no data */
	send_udp(f, AF_INET, f->res4, 53, q, n);
	m = dns_reply(f, buf, sizeof(buf), AF_INET, &len);
	assert_int_equal(load_be16(m + 2) & 0xf, DNS_R_NOERROR);
	assert_int_equal(load_be16(m + 6), 0);
	n = mkq(q, "localhost", DNS_T_A);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	m = dns_reply(f, buf, sizeof(buf), AF_INET, &len);
	assert_int_equal(load_be16(m + 6), 1);
	assert_memory_equal(m + n + 12, lo, 4);
	n = mkq(q, "x.invalid", DNS_T_A);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	m = dns_reply(f, buf, sizeof(buf), AF_INET, &len);
	assert_int_equal(load_be16(m + 2) & 0xf, DNS_R_NXDOMAIN);
	n = mkq(q, "a b.example", DNS_T_A); /* not a host name */
	send_udp(f, AF_INET, f->res4, 53, q, n);
	m = dns_reply(f, buf, sizeof(buf), AF_INET, &len);
	assert_int_equal(load_be16(m + 2) & 0xf, DNS_R_NXDOMAIN);
	/* Two questions: FORMERR; a response or a runt: silence. */
	n = mkq(q, "a.example", DNS_T_A);
	store_be16(q + 4, 2);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	m = dns_reply(f, buf, sizeof(buf), AF_INET, &len);
	assert_int_equal(load_be16(m + 2) & 0xf, DNS_R_FORMERR);
	store_be16(q + 4, 1);
	q[2] |= 0x80;
	send_udp(f, AF_INET, f->res4, 53, q, n);
	send_udp(f, AF_INET, f->res4, 53, q, 5);
	assert_true(recv_pkt(f, buf, sizeof(buf)) < 0);
	assert_int_equal(resolver_stats(f->eng.resolver)->fake, 0);
}

static void test_ptr(void **state)
{
	struct fix *f = *state;
	uint8_t q[300], buf[2048];
	const uint8_t *m;
	size_t n, len;

	/* Map a name, then ask for the reverse of its address (198.18.0.3). */
	n = mkq(q, "host.test", DNS_T_A);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	dns_reply(f, buf, sizeof(buf), AF_INET, &len);
	n = mkq(q, "3.0.18.198.in-addr.arpa", DNS_T_PTR);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	m = dns_reply(f, buf, sizeof(buf), AF_INET, &len);
	assert_int_equal(load_be16(m + 6), 1);
	assert_int_equal(load_be16(m + n + 2), DNS_T_PTR);
	assert_int_equal(load_be16(m + n + 10), 11);
	assert_memory_equal(m + n + 12, "\4host\4test", 11);
	/* A fake address nobody has: NXDOMAIN; a real one: no data. */
	n = mkq(q, "9.9.18.198.in-addr.arpa", DNS_T_PTR);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	m = dns_reply(f, buf, sizeof(buf), AF_INET, &len);
	assert_int_equal(load_be16(m + 2) & 0xf, DNS_R_NXDOMAIN);
	n = mkq(q, "1.100.51.198.in-addr.arpa", DNS_T_PTR);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	m = dns_reply(f, buf, sizeof(buf), AF_INET, &len);
	assert_int_equal(load_be16(m + 2) & 0xf, DNS_R_NOERROR);
	assert_int_equal(load_be16(m + 6), 0);
}

static void test_udp_block(void **state)
{
	struct fix *f = *state;
	uint8_t buf[2048], dst[16], pkt[256];
	struct ip_view v;
	ssize_t n;
	size_t hl;

	inet_pton(AF_INET, "198.51.100.1", dst);
	send_udp(f, AF_INET, dst, 9999, "hello", 5);
	n = recv_pkt(f, buf, sizeof(buf));
	assert_int_equal(n, IP4_HDR_LEN + ICMP_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN + 5);
	assert_int_equal(ip_parse(buf, (size_t)n, &v), 0);
	assert_int_equal(v.proto, IPPROTO_ICMP);
	assert_int_equal(v.l4[0], 3);
	assert_int_equal(v.l4[1], 3);
	assert_memory_equal(v.src, dst, 4);
	assert_memory_equal(v.dst, f->app4, 4);
	hl = udp_build_hdr(pkt, AF_INET, f->app4, 40000, dst, 9999, "hello", 5);
	assert_memory_equal(v.l4 + ICMP_HDR_LEN + IP4_HDR_LEN, pkt + IP4_HDR_LEN, hl - IP4_HDR_LEN);
	/* IPv6: ICMPv6 type 1 code 4. */
	inet_pton(AF_INET6, "2001:db8::1", dst);
	send_udp(f, AF_INET6, dst, 443, "quic", 4);
	n = recv_pkt(f, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ip_parse(buf, (size_t)n, &v), 0);
	assert_int_equal(v.proto, IPPROTO_ICMPV6);
	assert_int_equal(v.l4[0], 1);
	assert_int_equal(v.l4[1], 4);
	/* Multicast: nothing (mDNS, SSDP). */
	inet_pton(AF_INET, "224.0.0.251", dst);
	send_udp(f, AF_INET, dst, 5353, "m", 1);
	assert_true(recv_pkt(f, buf, sizeof(buf)) < 0);
	/* A bad checksum: counted, no answer. */
	hl = udp_build_hdr(pkt, AF_INET, f->app4, 40000, f->res4, 9999, "abc", 3);
	memcpy(pkt + hl, "abd", 3);
	engine_input(&f->eng, pkt, hl + 3);
	assert_true(recv_pkt(f, buf, sizeof(buf)) < 0);
	assert_int_equal(f->eng.stats.udp_bad, 1);
	assert_int_equal(f->eng.stats.udp_unreach, 2);
}

/* One segment from the app (port sport) to dst:dport, then the batch's flush. */
static void seg_to_port(struct fix *f, uint16_t sport, const uint8_t *dst, uint16_t dport,
			uint32_t seq, uint32_t ack, uint8_t flags, const void *data, size_t len)
{
	uint8_t pkt[IP4_HDR_LEN + TCP_HDR_LEN + 512];
	struct seg_spec sp = { .family = AF_INET,
			       .src = f->app4,
			       .dst = dst,
			       .sport = sport,
			       .dport = dport,
			       .seq = seq,
			       .ack = ack,
			       .flags = flags,
			       .wnd = 65535,
			       .data = data,
			       .len = len };
	size_t n = seg_build(pkt, sizeof(pkt), &sp);

	assert_true(n > 0);
	engine_input(&f->eng, pkt, n);
	f->loop.idle(&f->loop, f->loop.idle_arg); /* the batch's flush */
}

/* A SYN from the app to dst:80; returns the flags of the engine's answer. */
static uint8_t syn_to(struct fix *f, const uint8_t *dst)
{
	uint8_t buf[256];
	struct ip_view v;
	ssize_t n;

	seg_to_port(f, 40001, dst, 80, 1000, 0, TCP_SYN, NULL, 0);
	n = recv_pkt(f, buf, sizeof(buf));
	if (n <= 0)
		return 0;
	assert_int_equal(ip_parse(buf, (size_t)n, &v), 0);
	assert_int_equal(v.proto, IPPROTO_TCP);
	return v.l4[13];
}

/* One segment from the app (port 40002) to dst:dport. */
static void seg_to(struct fix *f, const uint8_t *dst, uint16_t dport, uint32_t seq, uint32_t ack,
		   uint8_t flags, const void *data, size_t len)
{
	seg_to_port(f, 40002, dst, dport, seq, ack, flags, data, len);
}

/*
 * Everything the engine sent back: payload bytes appended to out (*olen),
 * the flags of all segments ORed, the last sequence number seen (*seq).
 */
static uint8_t drain_segs(struct fix *f, uint8_t *out, size_t *olen, uint32_t *seq)
{
	uint8_t buf[2048], fl = 0;
	ssize_t n;

	while ((n = recv_pkt(f, buf, sizeof(buf))) > 0) {
		struct ip_view v;
		size_t doff;

		assert_int_equal(ip_parse(buf, (size_t)n, &v), 0);
		assert_int_equal(v.proto, IPPROTO_TCP);
		doff = (size_t)(v.l4[12] >> 4) * 4;
		fl |= v.l4[13];
		*seq = load_be32(v.l4 + 4);
		memcpy(out + *olen, v.l4 + doff, v.l4_len - doff);
		*olen += v.l4_len - doff;
	}
	return fl;
}

static void test_tcp_dns_local(void **state)
{
	struct fix *f = *state;
	uint8_t q[300], two[600], out[4096];
	size_t n = mkq(q, "tcp.example", DNS_T_A), olen = 0, off;
	uint32_t iss = 0, me = 1001, k;
	uint8_t fl;
	int i;

	seg_to(f, f->res4, 53, 1000, 0, TCP_SYN, NULL, 0);
	fl = drain_segs(f, out, &olen, &iss);
	assert_int_equal(fl & (TCP_SYN | TCP_ACK | TCP_RST), TCP_SYN | TCP_ACK);
	iss++;
	seg_to(f, f->res4, 53, me, iss, TCP_ACK, NULL, 0);
	/* Two framed queries, the first cut inside its length prefix. */
	store_be16(two, (uint16_t)n);
	memcpy(two + 2, q, n);
	store_be16(two + 2 + n, (uint16_t)n);
	memcpy(two + 4 + n, q, n);
	seg_to(f, f->res4, 53, me, iss, TCP_ACK | TCP_PSH, two, 1);
	me += 1;
	olen = 0;
	drain_segs(f, out, &olen, &k);
	assert_int_equal(olen, 0); /* nothing to answer yet */
	seg_to(f, f->res4, 53, me, iss, TCP_ACK | TCP_PSH, two + 1, 2 * (n + 2) - 1);
	me += (uint32_t)(2 * (n + 2) - 1);
	olen = 0;
	drain_segs(f, out, &olen, &k);
	for (i = 0, off = 0; i < 2; i++) {
		size_t rl;

		assert_true(olen >= off + 2);
		rl = load_be16(out + off);
		assert_true(olen >= off + 2 + rl);
		assert_int_equal(load_be16(out + off + 2), 0x4242);
		assert_int_equal(load_be16(out + off + 2 + 6), 1); /* one answer */
		assert_int_equal(out[off + 2 + n + 12], 198);
		off += 2 + rl;
	}
	assert_int_equal(off, olen);
	/* The app's FIN: ours follows. */
	seg_to(f, f->res4, 53, me, iss + (uint32_t)olen, TCP_ACK | TCP_FIN, NULL, 0);
	olen = 0;
	fl = drain_segs(f, out, &olen, &k);
	assert_true(fl & TCP_FIN);
	assert_false(fl & TCP_RST);
	assert_int_equal(resolver_stats(f->eng.resolver)->fake, 2);
}

/*
 * A DNS-over-TCP flow served here (S_LOCAL) as `status --json` lists it:
 * every session has a phase, and the reply is built without a NULL string
 * (a missing phase once made json.c's strlen kill the engine).
 */
static void test_tcp_dns_local_status(void **state)
{
	struct fix *f = *state;
	const struct session *s;
	struct ctl_conn si;
	static char mem[4096];
	struct ctl_live l = { .version = "t" };
	struct jbuf b;
	uint8_t out[512];
	size_t olen = 0;
	uint32_t iss = 0;

	seg_to(f, f->res4, 53, 1000, 0, TCP_SYN, NULL, 0);
	assert_int_equal(drain_segs(f, out, &olen, &iss) & (TCP_SYN | TCP_ACK), TCP_SYN | TCP_ACK);
	s = session_next(f->eng.sessions, NULL);
	assert_non_null(s);
	session_info(s, f->loop.now, &si);
	assert_non_null(si.phase);
	assert_string_equal(si.phase, "local");
	jb_init(&b, mem, sizeof(mem));
	assert_int_equal(ctl_reply_status(&b, CTL_REQ_STATUS, &l, &si, 1, 1), 0);
	assert_non_null(strstr(mem, "\"phase\":\"local\""));
}

static void test_tcp_unmapped_fake(void **state)
{
	struct fix *f = *state;
	uint8_t dst[4];

	inet_pton(AF_INET, "198.18.9.9", dst);
	assert_true(syn_to(f, dst) & TCP_RST);
	assert_int_equal(resolver_stats(f->eng.resolver)->fake_unmapped, 1);
	/* TCP to the resolver's address: reset too. */
	assert_true(syn_to(f, f->res4) & TCP_RST);
}

/*
 * --dns tcp with every forwarding slot taken (the proxy accepts but never
 * answers): a new query is forwarded, and the oldest one in flight gets
 * its SERVFAIL to make room, not the new one.
 */
static void test_fwd_full(void **state)
{
	struct fix *f = *state;
	uint8_t q[512], buf[2048];
	size_t qlen;
	ssize_t n;
	uint16_t id;
	struct ip_view v;
	struct udp_view u;

	qlen = mkq(q, "slow.example", DNS_T_A);
	for (id = 1; id <= 128; id++) {
		store_be16(q, id);
		send_udp(f, AF_INET, f->res4, 53, q, qlen);
		assert_true(recv_pkt(f, buf, sizeof(buf)) < 0); /* in flight, no answer yet */
	}
	assert_int_equal(resolver_stats(f->eng.resolver)->forwarded, 128);
	store_be16(q, 129);
	send_udp(f, AF_INET, f->res4, 53, q, qlen);
	n = recv_pkt(f, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ip_parse(buf, (size_t)n, &v), 0);
	assert_int_equal(udp_parse(&v, &u), 0);
	assert_int_equal(load_be16(u.data), 1); /* the oldest, not 129 */
	assert_int_equal(load_be16(u.data + 2) & 0xf, DNS_R_SERVFAIL);
	assert_true(recv_pkt(f, buf, sizeof(buf)) < 0);
	assert_int_equal(resolver_stats(f->eng.resolver)->forwarded, 129);
}

static int setup_tcp(void **state)
{
	static int lfd = -1;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);

	/* the "proxy": accepts connections into its backlog, never answers */
	if (lfd < 0) {
		lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(listen(lfd, 512), 0);
	}
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	next_proxy = a;
	next_server.sin_family = AF_INET;
	next_server.sin_port = htons(53);
	inet_pton(AF_INET, "192.0.2.53", &next_server.sin_addr);
	return setup_mode(state, ENGINE_DNS_TCP);
}

#define LIT(s) (s), sizeof(s) - 1

static struct fake_proxy check_fp;

/* virtual with --dns-server, through a SOCKS5 proxy the test plays. */
static int setup_check(void **state)
{
	assert_int_equal(fake_proxy_start(&check_fp, PROXY_SOCKS5), 0);
	next_proxy.sin_family = AF_INET;
	next_proxy.sin_port = htons(check_fp.port);
	next_proxy.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	next_server.sin_family = AF_INET;
	next_server.sin_port = htons(53);
	inet_pton(AF_INET, "192.0.2.53", &next_server.sin_addr);
	return setup_mode(state, ENGINE_DNS_VIRTUAL);
}

static int teardown_check(void **state)
{
	fake_proxy_stop(&check_fp);
	return teardown(state);
}

/*
 * The query for name reaches the server through the proxy; it answers with
 * rcode (no records), or the proxy closes the tunnel if rcode < 0.
 */
static void serve_check(struct fix *f, const char *name, int rcode)
{
	uint8_t q[300], msg[2 + 300];
	size_t n = mkq(q, name, DNS_T_A);
	int fd = fake_proxy_accept(&check_fp, &f->loop, 2000);

	assert_true(fd >= 0);
	assert_true(fake_expect(&f->loop, fd, LIT("\x05\x01\x00"), 2000));
	assert_true(fake_send(fd, LIT("\x05\x00")));
	assert_true(
		fake_expect(&f->loop, fd, LIT("\x05\x01\x00\x01\xc0\x00\x02\x35\x00\x35"), 2000));
	if (rcode < 0) {
		close(fd);
		return;
	}
	assert_true(fake_send(fd, LIT("\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")));
	store_be16(msg, (uint16_t)n);
	memcpy(msg + 2, q, n);
	assert_true(fake_expect(&f->loop, fd, msg, 2 + n, 2000)); /* the app's query, framed */
	store_be16(msg + 4, (uint16_t)(0x8180 | rcode));	  /* QR RD RA, rcode */
	assert_true(fake_send(fd, msg, 2 + n));
	close(fd);
}

/* The reply to the app's query, pumping the loop until it comes: its rcode and answer count. */
static void check_reply(struct fix *f, int *rcode, int *ancount, uint8_t a4[4])
{
	uint8_t buf[2048];
	const uint8_t *m;
	size_t len;
	int i;

	for (i = 0; i < 100; i++) {
		uint8_t peek[1];

		if (recv(f->peer, peek, sizeof(peek), MSG_DONTWAIT | MSG_PEEK) > 0)
			break;
		loop_pump(&f->loop, 20);
	}
	m = dns_reply(f, buf, sizeof(buf), AF_INET, &len);
	*rcode = load_be16(m + 2) & 0xf;
	*ancount = load_be16(m + 6);
	if (*ancount && a4)
		memcpy(a4, m + len - 4, 4); /* our one A record ends the reply */
}

/* virtual + --dns-server: NXDOMAIN passed on, anything else gets the fake answer. */
static void test_check_nxdomain(void **state)
{
	struct fix *f = *state;
	uint8_t q[300], buf[64], a4[4];
	size_t n;
	int rcode, an;

	n = mkq(q, "typo.example", DNS_T_A);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	assert_true(recv_pkt(f, buf, sizeof(buf)) < 0); /* no answer before the server's */
	serve_check(f, "typo.example", DNS_R_NXDOMAIN);
	check_reply(f, &rcode, &an, NULL);
	assert_int_equal(rcode, DNS_R_NXDOMAIN);
	assert_int_equal(an, 0);
	assert_false(dnspool_known(engine_pool(&f->eng), "typo.example", f->loop.now));

	/* It exists (NOERROR, even without records): the fake address. */
	n = mkq(q, "www.example", DNS_T_A);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	serve_check(f, "www.example", DNS_R_NOERROR);
	check_reply(f, &rcode, &an, a4);
	assert_int_equal(rcode, DNS_R_NOERROR);
	assert_int_equal(an, 1);
	assert_int_equal(a4[0], 198);
	/* Known now: answered at once, the same address, no tunnel. */
	send_udp(f, AF_INET, f->res4, 53, q, n);
	check_reply(f, &rcode, &an, buf);
	assert_int_equal(an, 1);
	assert_memory_equal(buf, a4, 4);

	/* The server fails (SERVFAIL) or the tunnel does: the fake address all the same. */
	n = mkq(q, "a.example", DNS_T_A);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	serve_check(f, "a.example", DNS_R_SERVFAIL);
	check_reply(f, &rcode, &an, NULL);
	assert_int_equal(rcode, DNS_R_NOERROR);
	assert_int_equal(an, 1);
	n = mkq(q, "b.example", DNS_T_A);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	serve_check(f, "b.example", -1);
	check_reply(f, &rcode, &an, NULL);
	assert_int_equal(rcode, DNS_R_NOERROR);
	assert_int_equal(an, 1);

	/* Special-use names never go to the server. */
	n = mkq(q, "localhost", DNS_T_A);
	send_udp(f, AF_INET, f->res4, 53, q, n);
	check_reply(f, &rcode, &an, a4);
	assert_int_equal(an, 1);
	assert_int_equal(a4[0], 127);
}

static void test_bypass(void **state)
{
	struct fix *f = *state;
	uint8_t q[300], buf[2048];
	size_t n = mkq(q, "a.example", DNS_T_A);
	struct ip_view v;
	ssize_t r;

	/* DNS is UDP like any other: port unreachable; fake addresses are plain ones. */
	send_udp(f, AF_INET, f->res4, 53, q, n);
	r = recv_pkt(f, buf, sizeof(buf));
	assert_true(r > 0);
	assert_int_equal(ip_parse(buf, (size_t)r, &v), 0);
	assert_int_equal(v.proto, IPPROTO_ICMP);
	assert_null(f->eng.resolver);
	assert_null(engine_pool(&f->eng));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fake_answers, setup_virtual, teardown),
		cmocka_unit_test_setup_teardown(test_other_answers, setup_virtual, teardown),
		cmocka_unit_test_setup_teardown(test_ptr, setup_virtual, teardown),
		cmocka_unit_test_setup_teardown(test_udp_block, setup_virtual, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_unmapped_fake, setup_virtual, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_dns_local, setup_virtual, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_dns_local_status, setup_virtual, teardown),
		cmocka_unit_test_setup_teardown(test_fwd_full, setup_tcp, teardown),
		cmocka_unit_test_setup_teardown(test_check_nxdomain, setup_check, teardown_check),
		cmocka_unit_test_setup_teardown(test_bypass, setup_bypass, teardown),
	};

	return cmocka_run_group_tests_name("resolver", tests, NULL, NULL);
}
