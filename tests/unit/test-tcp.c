// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TCP state machine driven with crafted segments: every packet the stack
 * writes is captured, parsed back with our own parsers, and checked field by
 * field. The clock is ours: timers fire only when a test moves l.now.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "buf.h"
#include "ip.h"
#include "loop.h"
#include "mock-tcp.h"
#include "segment.h"
#include "tcp.h"

enum { MAX_OUT = 512, MTU = 1500 };

struct fixture {
	struct loop loop;
	struct tcp_stack *st;
	struct mock_tcp m; /* the session side: counts callbacks, holds conns */
	struct seg_out out[MAX_OUT];
	int nout;
	bool csum_ok; /* feed as the kernel's offload does: checksum vouched for */
	int family;
	uint8_t app[16], dst[16];
	uint32_t app_seq; /* next sequence number the app sends */
};

/* Every packet we emit must parse and carry a valid checksum (seg_capture checks). */
static void cb_output(void *ctx, const struct iovec *iov, int iovcnt, const struct tcp_out *o)
{
	struct fixture *f = ctx;

	assert_true(f->nout < MAX_OUT);
	assert_int_equal(seg_capture(&f->out[f->nout++], iov, iovcnt, o), 0);
}

/* The session holding c lets go of it (through the mock, which forgets it). */
static struct mock_sess *sess(struct fixture *f, struct tcp_conn *c)
{
	struct mock_sess *s = mock_find(&f->m, c);

	assert_non_null(s);
	return s;
}

static struct tcp_cfg cfg_extra; /* limits and timers for the next setup */

static int setup_family(void **state, int family, size_t buf)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct tcp_cfg cfg = cfg_extra;

	cfg.mtu = MTU;
	cfg.buf_size = buf;
	memset(&cfg_extra, 0, sizeof(cfg_extra));

	assert_non_null(f);
	assert_int_equal(loop_init(&f->loop), 0);
	f->loop.now = 1000;
	f->m.output = cb_output;
	f->m.ctx = f;
	f->st = tcp_stack_new(&f->loop, &cfg, &mock_tcp_ops, &f->m);
	assert_non_null(f->st);
	f->family = family;
	if (family == AF_INET) {
		inet_pton(AF_INET, "198.18.0.1", f->app);
		inet_pton(AF_INET, "203.0.113.7", f->dst);
	} else {
		inet_pton(AF_INET6, "fd70:7678::1", f->app);
		inet_pton(AF_INET6, "2001:db8::7", f->dst);
	}
	f->app_seq = 1000;
	*state = f;
	return 0;
}

static int setup4(void **state)
{
	return setup_family(state, AF_INET, 65536);
}

static int setup6(void **state)
{
	return setup_family(state, AF_INET6, 65536);
}

static int setup4_limits(void **state)
{
	cfg_extra.max_conns = 3;
	return setup_family(state, AF_INET, 65536);
}

static int setup4_ka(void **state)
{
	cfg_extra.ka_idle_ms = 10000;
	cfg_extra.ka_intvl_ms = 1000;
	cfg_extra.ka_cnt = 3;
	return setup_family(state, AF_INET, 65536);
}

static int setup4_idle(void **state)
{
	cfg_extra.ka_idle_ms = UINT32_MAX; /* off */
	cfg_extra.idle_ms = 30000;
	return setup_family(state, AF_INET, 65536);
}

static int setup4_offload(void **state)
{
	cfg_extra.offload = true;
	return setup_family(state, AF_INET, 65536);
}

static int setup6_offload(void **state)
{
	cfg_extra.offload = true;
	return setup_family(state, AF_INET6, 65536);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mock_detach_all(&f->m);
	tcp_flush(f->st);
	tcp_stack_free(f->st);
	loop_fini(&f->loop);
	free(f);
	return 0;
}

/* Builds a segment from the app to dst:80 and feeds it in. */
static void feed_full(struct fixture *f, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		      const uint8_t *opt, size_t optlen, const void *data, size_t len,
		      bool bad_csum)
{
	static uint8_t pkt[70000]; /* a TSO segment from the app included */
	struct seg_spec sp = { .family = f->family,
			       .src = f->app,
			       .dst = f->dst,
			       .sport = 40000,
			       .dport = 80,
			       .seq = seq,
			       .ack = ack,
			       .flags = flags,
			       .wnd = wnd,
			       .opt = opt,
			       .optlen = optlen,
			       .data = data,
			       .len = len,
			       .bad_csum = bad_csum };
	size_t n = seg_build(pkt, sizeof(pkt), &sp);
	struct ip_view v;

	assert_true(n > 0);
	assert_int_equal(ip_parse(pkt, n, &v), 0);
	v.csum_ok = f->csum_ok;
	tcp_input(f->st, &v);
}

static void feed(struct fixture *f, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		 const void *data, size_t len)
{
	feed_full(f, seq, ack, flags, wnd, NULL, 0, data, len, false);
}

/* A segment carrying a timestamp option (TSecr 0: we do not check echoes here). */
static void feed_ts(struct fixture *f, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		    const void *data, size_t len, uint32_t tsval)
{
	uint8_t o[12] = { 1, 1, 8, 10 };

	store_be32(o + 4, tsval);
	store_be32(o + 8, 0);
	feed_full(f, seq, ack, flags, wnd, o, sizeof(o), data, len, false);
}

static const uint8_t syn_opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 }; /* MSS 1460, WS 7 */

static void flush(struct fixture *f)
{
	tcp_flush(f->st);
}

static struct seg_out *last(struct fixture *f)
{
	assert_true(f->nout > 0);
	return &f->out[f->nout - 1];
}

/* SYN in, tunnel up, SYN-ACK out, ACK in: ESTABLISHED. Returns our ISS. */
static uint32_t establish(struct fixture *f, uint16_t wnd)
{
	struct seg_out *sa;
	uint32_t iss;

	feed_full(f, f->app_seq, 0, TCP_SYN, 64240, syn_opts, sizeof(syn_opts), NULL, 0, false);
	f->app_seq++;
	tcp_accept(f->m.last);
	flush(f);
	sa = last(f);
	iss = sa->seg.seq;
	feed(f, f->app_seq, iss + 1, TCP_ACK, wnd, NULL, 0);
	flush(f);
	assert_int_equal(f->m.last->state, TCPS_ESTABLISHED);
	f->nout = 0;
	return iss;
}

static void test_synack_waits_for_tunnel(void **state)
{
	struct fixture *f = *state;
	struct seg_out *sa;

	feed_full(f, 1000, 0, TCP_SYN, 64240, syn_opts, sizeof(syn_opts), NULL, 0, false);
	flush(f);
	assert_int_equal(f->m.syns, 1);
	assert_int_equal(f->nout, 0); /* nothing until the tunnel is up */
	/* A retransmitted SYN is the same flow, not a new one. */
	feed_full(f, 1000, 0, TCP_SYN, 64240, syn_opts, sizeof(syn_opts), NULL, 0, false);
	flush(f);
	assert_int_equal(f->m.syns, 1);
	assert_int_equal(f->nout, 0);
	tcp_accept(f->m.last);
	flush(f);
	assert_int_equal(f->nout, 1);
	sa = last(f);
	assert_int_equal(sa->seg.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(sa->seg.ack, 1001);
	assert_int_equal(sa->seg.mss, MTU - (f->family == AF_INET ? 40 : 60));
	assert_true(sa->seg.wscale >= 0);
	assert_int_equal(sa->seg.sport, 80);
	assert_int_equal(sa->seg.dport, 40000);
	assert_memory_equal(sa->ip.src, f->dst, ip_addr_len(f->family));
	assert_memory_equal(sa->ip.dst, f->app, ip_addr_len(f->family));
}

static void test_reject_is_rst(void **state)
{
	struct fixture *f = *state;
	struct seg_out *r;

	feed(f, 5000, 0, TCP_SYN, 64240, NULL, 0);
	mock_reject(sess(f, f->m.last));
	flush(f);
	assert_int_equal(f->nout, 1);
	r = last(f);
	assert_int_equal(r->seg.flags, TCP_RST | TCP_ACK);
	assert_int_equal(r->seg.ack, 5001);
	/* The flow is gone: a new SYN is a new flow. */
	feed(f, 6000, 0, TCP_SYN, 64240, NULL, 0);
	assert_int_equal(f->m.syns, 2);
}

/* Raw packets toward the app (ICMP errors are no TCP: seg_capture would refuse them). */
static uint8_t raw_pkt[4][ICMP6_ERR_MAX];
static size_t raw_len[4];
static int raw_n;

static void cb_raw(void *ctx, const struct iovec *iov, int iovcnt, const struct tcp_out *o)
{
	size_t off = 0;
	int i;

	(void)ctx;
	assert_null(o);
	assert_true(raw_n < 4);
	for (i = 0; i < iovcnt; i++) {
		assert_true(off + iov[i].iov_len <= sizeof(raw_pkt[0]));
		memcpy(raw_pkt[raw_n] + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	raw_len[raw_n++] = off;
}

/*
 * An unreachable destination: an ICMP error from where the app dialled,
 * quoting its SYN (addresses, ports, its ISN: what the app's kernel
 * matches), so its connect() fails with EHOSTUNREACH / ENETUNREACH.
 */
static void test_unreach_is_icmp(void **state)
{
	struct fixture *f = *state;
	bool v6 = f->family == AF_INET6;
	size_t alen = ip_addr_len(f->family), hl = v6 ? IP6_HDR_LEN : IP4_HDR_LEN;
	enum icmp_unreach why[2] = { ICMP_UNREACH_HOST, ICMP_UNREACH_NET };
	uint8_t code[2] = { v6 ? 3 : 1, 0 };
	int i;

	for (i = 0; i < 2; i++) {
		struct ip_view v, q;
		const uint8_t *t;

		raw_n = 0;
		f->m.output = cb_raw;
		feed(f, 5000 + (uint32_t)i, 0, TCP_SYN, 64240, NULL, 0);
		mock_unreach(sess(f, f->m.last), why[i]);
		flush(f);
		assert_int_equal(raw_n, 1);
		assert_int_equal(ip_parse(raw_pkt[0], raw_len[0], &v), 0);
		assert_int_equal(v.proto, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
		assert_memory_equal(v.src, f->dst, alen);
		assert_memory_equal(v.dst, f->app, alen);
		assert_int_equal(v.l4[0], v6 ? 1 : 3); /* destination unreachable */
		assert_int_equal(v.l4[1], code[i]);
		if (v6)
			assert_int_equal(
				csum_fold(csum_add(csum_pseudo(AF_INET6, v.src, v.dst,
							       IPPROTO_ICMPV6, (uint32_t)v.l4_len),
						   v.l4, v.l4_len)),
				0);
		else
			assert_int_equal(csum_fold(csum_add(0, v.l4, v.l4_len)), 0);
		/* The quote: the app's SYN as its kernel matches it. */
		assert_int_equal(ip_parse(v.l4 + ICMP_HDR_LEN, v.l4_len - ICMP_HDR_LEN, &q), 0);
		assert_int_equal(q.proto, IPPROTO_TCP);
		assert_memory_equal(q.src, f->app, alen);
		assert_memory_equal(q.dst, f->dst, alen);
		assert_int_equal(v.l4_len, ICMP_HDR_LEN + hl + TCP_HDR_LEN);
		t = q.l4;
		assert_int_equal(load_be16(t), 40000);
		assert_int_equal(load_be16(t + 2), 80);
		assert_int_equal(load_be32(t + 4), 5000 + (uint32_t)i);
		assert_int_equal(t[13], TCP_SYN);
		assert_int_equal(tcp_stack_stats(f->st)->unreach_out, (uint64_t)i + 1);
	}
	/* The flow is gone: a new SYN is a new flow. */
	f->m.output = cb_output;
	feed(f, 6000, 0, TCP_SYN, 64240, NULL, 0);
	assert_int_equal(f->m.syns, 3);
	/* Past the handshake an ICMP error would not end it: a reset. */
	mock_accept(sess(f, f->m.last));
	flush(f);
	feed(f, 6001, last(f)->seg.seq + 1, TCP_ACK, 64240, NULL, 0);
	flush(f);
	f->nout = 0;
	mock_unreach(sess(f, f->m.last), ICMP_UNREACH_HOST);
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_true(last(f)->seg.flags & TCP_RST);
	assert_int_equal(tcp_stack_stats(f->st)->unreach_out, 2);
}

static void test_refused_by_session(void **state)
{
	struct fixture *f = *state;

	f->m.flags |= MOCK_REFUSE;
	feed(f, 5000, 0, TCP_SYN, 64240, NULL, 0);
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.flags, TCP_RST | TCP_ACK);
}

static void test_data_in_order_acked(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	uint8_t buf[3000];
	struct iovec iov[2];

	memset(buf, 'a', sizeof(buf));
	feed(f, f->app_seq, iss + 1, TCP_ACK, 1000, buf, 1000);
	f->app_seq += 1000;
	feed(f, f->app_seq, iss + 1, TCP_ACK | TCP_PSH, 1000, buf, 500);
	f->app_seq += 500;
	assert_int_equal(f->m.datas, 2);
	assert_int_equal(f->m.last->rx.len, 1500);
	flush(f);
	/* Coalesced: one ACK for both segments. */
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.ack, f->app_seq);
	assert_int_equal(last(f)->seg.flags, TCP_ACK);
	/* A duplicate of old data changes nothing but draws an ACK. */
	feed(f, f->app_seq - 500, iss + 1, TCP_ACK, 1000, buf, 500);
	assert_int_equal(f->m.last->rx.len, 1500);
	flush(f);
	assert_int_equal(last(f)->seg.ack, f->app_seq);
	/* Overlap: the new part only. */
	memset(buf, 'b', sizeof(buf));
	feed(f, f->app_seq - 100, iss + 1, TCP_ACK, 1000, buf, 300);
	f->app_seq += 200;
	assert_int_equal(f->m.last->rx.len, 1700);
	assert_int_equal(ring_peek(&f->m.last->rx, 1499, 2, iov), 1);
	assert_memory_equal(iov[0].iov_base, "ab", 2);
	/* Out of order: not taken, dup ACK. */
	f->nout = 0;
	feed(f, f->app_seq + 10, iss + 1, TCP_ACK, 1000, buf, 10);
	assert_int_equal(f->m.last->rx.len, 1700);
	flush(f);
	assert_int_equal(last(f)->seg.ack, f->app_seq);
}

static void test_window_shrinks_and_reopens(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	static uint8_t buf[70000];
	uint32_t win;

	/* Fill the whole 64 KiB rx buffer: the advertised window drops to zero. */
	feed(f, f->app_seq, iss + 1, TCP_ACK, 1000, buf, 1400);
	f->app_seq += 1400;
	flush(f);
	while (ring_space(&f->m.last->rx)) {
		size_t n = ring_space(&f->m.last->rx) < 1400 ? ring_space(&f->m.last->rx) : 1400;

		feed(f, f->app_seq, iss + 1, TCP_ACK, 1000, buf, n);
		f->app_seq += (uint32_t)n;
	}
	flush(f);
	assert_int_equal(last(f)->seg.wnd, 0);
	/* Beyond the window: dropped. */
	feed(f, f->app_seq, iss + 1, TCP_ACK, 1000, buf, 100);
	assert_int_equal(f->m.last->rx.len, 65536);
	/* The session drains to the proxy: a window update goes out. */
	f->nout = 0;
	tcp_rx_consume(f->m.last, 32768);
	flush(f);
	assert_int_equal(f->nout, 1);
	win = (uint32_t)last(f)->seg.wnd << f->m.last->rcv_ws;
	assert_true(win >= 32768 - (1u << f->m.last->rcv_ws));
}

static void test_send_respects_mss_and_window(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 3000); /* app window 3000 << 7 */
	static uint8_t buf[20000];
	int i;

	assert_int_equal(f->m.last->snd_wnd, 3000u << 7);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(ring_write(&f->m.last->tx, buf, sizeof(buf)), (long)sizeof(buf));
	tcp_kick(f->m.last);
	flush(f);
	/* Initial cwnd is 10 segments: 10 full segments, in order. */
	assert_int_equal(f->nout, 10);
	for (i = 0; i < f->nout; i++) {
		assert_int_equal(f->out[i].seg.seq, iss + 1 + (uint32_t)i * 1460);
		assert_int_equal(f->out[i].seg.len, 1460);
		assert_memory_equal(f->out[i].seg.data, buf + i * 1460, 1460);
	}
	/* ACK half: tx consumed, on_sent, more goes out. */
	f->nout = 0;
	feed(f, f->app_seq, iss + 1 + 5 * 1460, TCP_ACK, 3000, NULL, 0);
	assert_int_equal(f->m.sents, 1);
	assert_int_equal(f->m.last->tx.len, sizeof(buf) - 5 * 1460);
	flush(f);
	assert_true(f->nout > 0);
	assert_int_equal(f->out[0].seg.seq, iss + 1 + 10 * 1460);
}

/* Offload: what fits goes out as one large segment for the kernel to cut. */
static void test_offload_gso_send(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 39); /* app window 39 << 7 = 4992 */
	size_t smss = f->family == AF_INET ? 1460 : 1440, hl = f->family == AF_INET ? 20 : 40;
	static uint8_t buf[6000];
	struct seg_out *c;
	int i;

	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	f->m.last->cwnd = 16 * (uint32_t)smss; /* a packet may carry cwnd / 4: 4 segments */
	assert_int_equal(ring_write(&f->m.last->tx, buf, sizeof(buf)), (long)sizeof(buf));
	tcp_kick(f->m.last);
	flush(f);
	/* The window takes 4992: whole segments only (3), the rest waits (sender SWS). */
	assert_int_equal(f->nout, 1);
	c = last(f);
	assert_true(c->has_o);
	assert_int_equal(c->o.gso_size, smss);
	assert_int_equal(c->o.l3_len, hl);
	assert_int_equal(c->o.hdr_len, hl + TCP_HDR_LEN);
	assert_int_equal(c->seg.seq, iss + 1);
	assert_int_equal(c->seg.len, 3 * smss);
	assert_memory_equal(c->seg.data, buf, 3 * smss);
	assert_int_equal(tcp_stack_stats(f->st)->gso_out, 1);
	/* The window opens: the rest in one packet, ending on a short segment. */
	f->nout = 0;
	feed(f, f->app_seq, iss + 1 + 3 * (uint32_t)smss, TCP_ACK, 200, NULL, 0);
	flush(f);
	assert_int_equal(f->nout, 1);
	c = last(f);
	assert_int_equal(c->seg.len, sizeof(buf) - 3 * smss);
	assert_int_equal(c->o.gso_size, smss);
	assert_memory_equal(c->seg.data, buf + 3 * smss, sizeof(buf) - 3 * smss);
	/* A bare ACK: partial checksum, not GSO. */
	f->nout = 0;
	feed(f, f->app_seq, iss + 1, TCP_ACK, 200, "x", 1);
	flush(f);
	assert_int_equal(f->nout, 1);
	c = last(f);
	assert_true(c->has_o);
	assert_int_equal(c->o.gso_size, 0);
	assert_int_equal(c->seg.len, 0);
}

/* A packet carries at most a quarter of cwnd: a lost one leaves three to draw SACKs. */
static void test_offload_gso_quarter_cwnd(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 3000);
	static uint8_t buf[6000];
	int i;

	f->m.last->cwnd = 8 * 1460; /* 2 segments per packet */
	assert_int_equal(ring_write(&f->m.last->tx, buf, sizeof(buf)), (long)sizeof(buf));
	tcp_kick(f->m.last);
	flush(f);
	assert_int_equal(f->nout, 3);
	for (i = 0; i < 2; i++) {
		assert_int_equal(f->out[i].seg.seq, iss + 1 + (uint32_t)i * 2920);
		assert_int_equal(f->out[i].seg.len, 2920);
		assert_int_equal(f->out[i].o.gso_size, 1460);
	}
	assert_int_equal(f->out[2].seg.len, sizeof(buf) - 2 * 2920);
	assert_int_equal(f->out[2].o.gso_size, 0); /* one segment: not GSO */
	/* At the initial window (4 segments and less), one segment per packet. */
	f->m.last->cwnd = 4 * 1460;
	f->nout = 0;
	feed(f, f->app_seq, iss + 1 + sizeof(buf), TCP_ACK, 3000, NULL, 0);
	assert_int_equal(ring_write(&f->m.last->tx, buf, 3000), 3000);
	f->m.last->cwnd = 4 * 1460;
	tcp_kick(f->m.last);
	flush(f);
	assert_int_equal(f->nout, 3);
	for (i = 0; i < f->nout; i++)
		assert_int_equal(f->out[i].o.gso_size, 0);
}

/* Offload off: every packet is complete and at most one MSS. */
static void test_no_offload_no_gso(void **state)
{
	struct fixture *f = *state;
	static uint8_t buf[6000];
	int i;

	establish(f, 3000);
	assert_int_equal(ring_write(&f->m.last->tx, buf, sizeof(buf)), (long)sizeof(buf));
	tcp_kick(f->m.last);
	flush(f);
	assert_int_equal(f->nout, 5);
	for (i = 0; i < f->nout; i++) {
		assert_false(f->out[i].has_o);
		assert_true(f->out[i].seg.len <= 1460);
	}
	assert_int_equal(tcp_stack_stats(f->st)->gso_out, 0);
}

/*
 * From a TUN with offloads: a segment far larger than the MSS (TSO), its
 * checksum not filled in but vouched for, is taken whole; without the
 * kernel's word the same bad checksum drops it.
 */
static void test_offload_large_segment_in(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[60000];
	size_t i;

	establish(f, 3000);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13);
	feed_full(f, f->app_seq, f->m.last->snd_nxt, TCP_ACK | TCP_PSH, 3000, NULL, 0, big,
		  sizeof(big), true);
	assert_int_equal(tcp_stack_stats(f->st)->bad_csum, 1);
	assert_int_equal(f->m.last->rx.len, 0);
	f->csum_ok = true;
	feed_full(f, f->app_seq, f->m.last->snd_nxt, TCP_ACK | TCP_PSH, 3000, NULL, 0, big,
		  sizeof(big), true);
	assert_int_equal(tcp_stack_stats(f->st)->bad_csum, 1);
	assert_int_equal(f->m.last->rx.len, sizeof(big));
	assert_int_equal(f->m.datas, 1);
	flush(f);
	assert_int_equal(last(f)->seg.ack, f->app_seq + sizeof(big));
}

static void test_zero_window_persist(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 0);
	uint8_t buf[100] = { 0 };

	ring_write(&f->m.last->tx, buf, sizeof(buf));
	tcp_kick(f->m.last);
	flush(f);
	assert_int_equal(f->nout, 0); /* window closed: nothing sent */
	assert_true(timer_armed(&f->m.last->timer));
	f->loop.now += 1100;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 1); /* the probe */
	assert_int_equal(last(f)->seg.len, 0);
	assert_int_equal(last(f)->seg.seq, iss);
	/* Window opens: data flows. */
	f->nout = 0;
	feed(f, f->app_seq, iss + 1, TCP_ACK, 100, NULL, 0);
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.len, 100);
}

static void test_rto_retransmits_and_backs_off(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	uint8_t buf[1000];
	uint32_t rto;

	memset(buf, 7, sizeof(buf));
	ring_write(&f->m.last->tx, buf, sizeof(buf));
	tcp_kick(f->m.last);
	flush(f);
	assert_int_equal(f->nout, 1);
	rto = f->m.last->rto;
	f->loop.now += rto - 1;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 1); /* not yet */
	f->loop.now += 1;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 2);
	assert_int_equal(last(f)->seg.seq, iss + 1);
	assert_int_equal(last(f)->seg.len, 1000);
	assert_int_equal(f->m.last->rto, 2 * rto);
	/* ACK stops the timer. */
	feed(f, f->app_seq, iss + 1001, TCP_ACK, 1000, NULL, 0);
	assert_false(timer_armed(&f->m.last->timer));
	assert_int_equal(f->m.last->tx.len, 0);
}

static void test_rto_gives_up_with_rst(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[10] = { 0 };
	int i;

	establish(f, 1000);
	ring_write(&f->m.last->tx, buf, sizeof(buf));
	tcp_kick(f->m.last);
	flush(f);
	for (i = 0; i < 40 && !f->m.closes; i++) {
		f->loop.now += TCP_RTO_MAX_MS;
		loop_run_timers(&f->loop);
	}
	assert_int_equal(f->m.closes, 1);
	assert_int_equal(f->m.close_err, -ETIMEDOUT);
	assert_true(last(f)->seg.flags & TCP_RST);
}

static void test_fast_retransmit(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	static uint8_t buf[14600];
	int i;

	ring_write(&f->m.last->tx, buf, sizeof(buf));
	tcp_kick(f->m.last);
	flush(f);
	assert_int_equal(f->nout, 10);
	f->nout = 0;
	for (i = 0; i < 3; i++)
		feed(f, f->app_seq, iss + 1 + 1460, TCP_ACK, 1000, NULL, 0);
	assert_int_equal(f->nout, 0); /* first ACK advanced; two dups so far */
	feed(f, f->app_seq, iss + 1 + 1460, TCP_ACK, 1000, NULL, 0);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.seq, iss + 1 + 1460);
}

static void test_app_closes_first(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	struct seg_out *fin;

	feed(f, f->app_seq, iss + 1, TCP_ACK | TCP_FIN, 1000, "bye", 3);
	f->app_seq += 4;
	assert_int_equal(f->m.fins, 1);
	assert_int_equal(f->m.last->state, TCPS_CLOSE_WAIT);
	assert_true(tcp_fin_received(f->m.last));
	flush(f);
	assert_int_equal(last(f)->seg.ack, f->app_seq);
	/* Half-close: we may still send. */
	ring_write(&f->m.last->tx, "reply", 5);
	tcp_kick(f->m.last);
	flush(f);
	assert_int_equal(last(f)->seg.len, 5);
	tcp_shutdown(f->m.last);
	flush(f);
	fin = last(f);
	assert_true(fin->seg.flags & TCP_FIN);
	assert_int_equal(fin->seg.seq, iss + 6);
	assert_int_equal(f->m.last->state, TCPS_LAST_ACK);
	feed(f, f->app_seq, iss + 7, TCP_ACK, 1000, NULL, 0);
	assert_int_equal(f->m.closes, 1);
	assert_int_equal(f->m.close_err, 0);
	assert_int_equal(f->m.last->state, TCPS_CLOSED);
}

static void test_proxy_closes_first_time_wait(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);

	tcp_shutdown(f->m.last);
	flush(f);
	assert_int_equal(last(f)->seg.flags, TCP_ACK | TCP_FIN);
	assert_int_equal(f->m.last->state, TCPS_FIN_WAIT_1);
	feed(f, f->app_seq, iss + 2, TCP_ACK, 1000, NULL, 0);
	assert_int_equal(f->m.last->state, TCPS_FIN_WAIT_2);
	/* Half-close the other way: the app keeps sending after our FIN. */
	feed(f, f->app_seq, iss + 2, TCP_ACK, 1000, "more", 4);
	f->app_seq += 4;
	assert_int_equal(f->m.last->rx.len, 4);
	feed(f, f->app_seq, iss + 2, TCP_ACK | TCP_FIN, 1000, NULL, 0);
	f->app_seq++;
	assert_int_equal(f->m.last->state, TCPS_TIME_WAIT);
	assert_int_equal(f->m.closes, 1);
	flush(f);
	assert_int_equal(last(f)->seg.ack, f->app_seq);
	/* TIME-WAIT is bounded. */
	f->loop.now += TCP_TIME_WAIT_MS;
	loop_run_timers(&f->loop);
	assert_int_equal(f->m.last->state, TCPS_CLOSED);
}

static void test_rst_exact_and_challenge(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);

	/* In window but not exact: challenge ACK, connection survives (RFC 5961). */
	feed(f, f->app_seq + 100, 0, TCP_RST, 0, NULL, 0);
	flush(f);
	assert_int_equal(f->m.closes, 0);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.flags, TCP_ACK);
	/* Out of window: ignored silently. */
	f->nout = 0;
	feed(f, f->app_seq + 10000000, 0, TCP_RST, 0, NULL, 0);
	flush(f);
	assert_int_equal(f->nout, 0);
	assert_int_equal(f->m.closes, 0);
	/* SYN on an established flow: challenge ACK. */
	feed(f, f->app_seq + 5, 0, TCP_SYN, 1000, NULL, 0);
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_int_equal(f->m.closes, 0);
	/* Exact: reset. */
	feed(f, f->app_seq, iss + 1, TCP_RST, 0, NULL, 0);
	assert_int_equal(f->m.closes, 1);
	assert_int_equal(f->m.close_err, -ECONNRESET);
}

static void test_abort_sends_rst(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);

	mock_abort(sess(f, f->m.last));
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_true(last(f)->seg.flags & TCP_RST);
	assert_int_equal(last(f)->seg.seq, iss + 1);
}

static void test_unknown_flow_gets_rst(void **state)
{
	struct fixture *f = *state;

	feed(f, 777, 4242, TCP_ACK, 1000, "x", 1);
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.flags, TCP_RST);
	assert_int_equal(last(f)->seg.seq, 4242);
	/* An RST for an unknown flow draws nothing. */
	f->nout = 0;
	feed(f, 777, 0, TCP_RST, 0, NULL, 0);
	flush(f);
	assert_int_equal(f->nout, 0);
	assert_int_equal(f->m.syns, 0);
}

static void test_bad_checksum_and_header(void **state)
{
	struct fixture *f = *state;
	static const uint8_t bad_opt[] = { 2, 0, 0, 0 }; /* option length 0 */
	static const uint8_t overrun[] = { 1, 1, 3, 9 }; /* length past the header */

	feed_full(f, 1, 0, TCP_SYN, 1000, NULL, 0, NULL, 0, true);
	assert_int_equal(tcp_stack_stats(f->st)->bad_csum, 1);
	feed_full(f, 1, 0, TCP_SYN, 1000, bad_opt, sizeof(bad_opt), NULL, 0, false);
	feed_full(f, 1, 0, TCP_SYN, 1000, overrun, sizeof(overrun), NULL, 0, false);
	assert_int_equal(tcp_stack_stats(f->st)->bad_hdr, 2);
	assert_int_equal(f->m.syns, 0);
	flush(f);
	assert_int_equal(f->nout, 0);
}

static void test_synack_retransmitted(void **state)
{
	struct fixture *f = *state;

	feed(f, 1000, 0, TCP_SYN, 64240, NULL, 0);
	tcp_accept(f->m.last);
	flush(f);
	assert_int_equal(f->nout, 1);
	f->loop.now += TCP_RTO_INIT_MS;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 2);
	assert_int_equal(last(f)->seg.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(last(f)->seg.wscale, -1); /* the app offered none */
}

/* A resent SYN rewinds to the SYN-ACK; the app's ACK in the same batch must not stall us. */
static void test_dup_syn_then_ack_same_batch(void **state)
{
	struct fixture *f = *state;
	uint32_t iss;

	feed(f, 1000, 0, TCP_SYN, 64240, NULL, 0);
	tcp_accept(f->m.last);
	flush(f);
	iss = last(f)->seg.seq;
	feed(f, 1000, 0, TCP_SYN, 64240, NULL, 0);	 /* app resends its SYN */
	feed(f, 1001, iss + 1, TCP_ACK, 64240, NULL, 0); /* ...and acks, before we flush */
	assert_int_equal(f->m.last->state, TCPS_ESTABLISHED);
	assert_int_equal(f->m.last->snd_nxt, iss + 1);
	f->nout = 0;
	assert_int_equal(ring_write(&f->m.last->tx, "hello", 5), 5);
	tcp_kick(f->m.last);
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.seq, iss + 1);
	assert_int_equal(last(f)->seg.len, 5);
}

/* The handshake ACK must carry an acceptable sequence number. */
static void test_handshake_ack_bad_seq(void **state)
{
	struct fixture *f = *state;
	uint32_t iss;

	feed(f, 1000, 0, TCP_SYN, 64240, NULL, 0);
	tcp_accept(f->m.last);
	flush(f);
	iss = last(f)->seg.seq;
	f->nout = 0;
	feed(f, 1001 - 5000, iss + 1, TCP_ACK, 64240, NULL, 0);
	assert_int_equal(f->m.last->state, TCPS_SYN_RCVD);
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(last(f)->seg.ack, 1001);
	feed(f, 1001, iss + 1, TCP_ACK, 64240, NULL, 0);
	assert_int_equal(f->m.last->state, TCPS_ESTABLISHED);
}

/* The session hears about the close once: at TIME_WAIT, not again when it ends. */
static void test_time_wait_close_reported_once(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);

	tcp_shutdown(f->m.last);
	flush(f);
	feed(f, f->app_seq, iss + 2, TCP_ACK | TCP_FIN, 1000, NULL, 0);
	f->app_seq++;
	assert_int_equal(f->m.last->state, TCPS_TIME_WAIT);
	assert_int_equal(f->m.closes, 1);
	f->loop.now += TCP_TIME_WAIT_MS;
	loop_run_timers(&f->loop);
	assert_int_equal(f->m.last->state, TCPS_CLOSED);
	assert_int_equal(f->m.closes, 1);
}

static void test_time_wait_reused_by_new_syn(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	struct tcp_conn *old;

	tcp_shutdown(f->m.last);
	flush(f);
	feed(f, f->app_seq, iss + 2, TCP_ACK | TCP_FIN, 1000, NULL, 0);
	f->app_seq++;
	assert_int_equal(f->m.closes, 1);
	old = f->m.last;
	feed(f, f->app_seq + 100000, 0, TCP_SYN, 64240, NULL, 0);
	assert_int_equal(f->m.syns, 2);
	assert_int_equal(f->m.closes, 1); /* the old incarnation is not reported twice */
	assert_true(f->m.last != old);
	mock_detach(sess(f, old));
}

/* With our window at zero the data is dropped but its ACK still counts. */
static void test_zero_rcv_window_still_processes_ack(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	uint8_t buf[1000];
	size_t cap = f->m.last->rx.cap, n = 0;

	memset(buf, 'z', sizeof(buf));
	while (n < cap) {
		size_t k = cap - n < sizeof(buf) ? cap - n : sizeof(buf);

		feed(f, f->app_seq, iss + 1, TCP_ACK, 1000, buf, k);
		f->app_seq += (uint32_t)k;
		n += k;
	}
	assert_int_equal(f->m.last->rx.len, cap);
	assert_int_equal(ring_write(&f->m.last->tx, "abc", 3), 3);
	tcp_kick(f->m.last);
	flush(f);
	assert_int_equal(f->m.last->snd_una, iss + 1);
	/* More data (not taken) carrying the ACK of our 3 bytes. */
	feed(f, f->app_seq, iss + 4, TCP_ACK, 1000, buf, 100);
	assert_int_equal(f->m.last->rx.len, cap);
	assert_int_equal(f->m.last->snd_una, iss + 4);
}

/* Karn: a resent SYN-ACK yields no RTT sample. */
static void test_no_rtt_sample_after_synack_resent(void **state)
{
	struct fixture *f = *state;
	uint32_t iss;

	feed(f, 1000, 0, TCP_SYN, 64240, NULL, 0);
	tcp_accept(f->m.last);
	flush(f);
	iss = last(f)->seg.seq;
	f->loop.now += TCP_RTO_INIT_MS;
	loop_run_timers(&f->loop);
	f->loop.now += 5;
	feed(f, 1001, iss + 1, TCP_ACK, 64240, NULL, 0);
	assert_int_equal(f->m.last->state, TCPS_ESTABLISHED);
	assert_int_equal(f->m.last->srtt, 0);
}

/* ---- SACK, timestamps, out-of-order queue, keepalive, limits ---- */

static uint32_t app_ts = 5000;

/* MSS 1460, SACK-permitted, timestamps, window scale 7. */
static uint32_t establish_full(struct fixture *f, uint16_t wnd)
{
	uint8_t o[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10 };
	struct seg_out *sa;
	uint32_t iss;

	store_be32(o + 8, app_ts);
	store_be32(o + 12, 0);
	o[16] = 1;
	o[17] = 3;
	o[18] = 3;
	o[19] = 7;
	feed_full(f, f->app_seq, 0, TCP_SYN, 64240, o, sizeof(o), NULL, 0, false);
	f->app_seq++;
	tcp_accept(f->m.last);
	flush(f);
	sa = last(f);
	assert_true(sa->seg.sack_perm);
	assert_true(sa->seg.ts);
	assert_int_equal(sa->seg.tsecr, app_ts);
	assert_int_equal(sa->seg.wscale, f->m.last->rcv_ws);
	iss = sa->seg.seq;
	feed_ts(f, f->app_seq, iss + 1, TCP_ACK, wnd, NULL, 0, ++app_ts);
	flush(f);
	assert_int_equal(f->m.last->state, TCPS_ESTABLISHED);
	f->nout = 0;
	return iss;
}

static void test_ooo_parked_and_sacked(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish_full(f, 1000);
	uint32_t base = f->app_seq;
	static uint8_t buf[4000];
	uint8_t out[4000];
	struct iovec iov[2];
	size_t i;
	int cnt;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	/* Segment 3, then 2: nothing in order yet, both SACKed, newest first. */
	feed_ts(f, base + 3000, iss + 1, TCP_ACK, 1000, buf + 3000, 1000, ++app_ts);
	feed_ts(f, base + 1000, iss + 1, TCP_ACK, 1000, buf + 1000, 1000, ++app_ts);
	assert_int_equal(f->m.last->rx.len, 0);
	assert_int_equal(f->m.datas, 0);
	flush(f);
	assert_int_equal(last(f)->seg.ack, base);
	assert_int_equal(last(f)->seg.nsack, 2);
	assert_int_equal(last(f)->seg.sack[0][0], base + 1000);
	assert_int_equal(last(f)->seg.sack[0][1], base + 2000);
	assert_int_equal(last(f)->seg.sack[1][0], base + 3000);
	assert_int_equal(last(f)->seg.sack[1][1], base + 4000);
	assert_int_equal(last(f)->seg.tsecr, app_ts - 2); /* RFC 7323 4.3: the in-order edge */
	assert_int_equal(tcp_stack_stats(f->st)->ooo_queued, 2);
	/* Segment 1 fills the first hole: 2000 bytes in order, one range left. */
	feed_ts(f, base, iss + 1, TCP_ACK, 1000, buf, 1000, ++app_ts);
	assert_int_equal(f->m.last->rx.len, 2000);
	flush(f);
	assert_int_equal(last(f)->seg.ack, base + 2000);
	assert_int_equal(last(f)->seg.nsack, 1);
	/* Overlapping retransmission of 2..3 joins everything. */
	feed_ts(f, base + 1500, iss + 1, TCP_ACK, 1000, buf + 1500, 1600, ++app_ts);
	assert_int_equal(f->m.last->rx.len, 4000);
	assert_int_equal(f->m.last->nooo, 0);
	flush(f);
	assert_int_equal(last(f)->seg.ack, base + 4000);
	assert_int_equal(last(f)->seg.nsack, 0);
	cnt = ring_peek(&f->m.last->rx, 0, 4000, iov);
	memcpy(out, iov[0].iov_base, iov[0].iov_len);
	if (cnt == 2)
		memcpy(out + iov[0].iov_len, iov[1].iov_base, iov[1].iov_len);
	assert_memory_equal(out, buf, 4000);
}

/* Parked data keeps its place while the session drains rx in between. */
static void test_ooo_survives_consume(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish_full(f, 1000);
	uint32_t base = f->app_seq;
	uint8_t a[1000], b[1000];
	struct iovec iov[2];

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	feed_ts(f, base, iss + 1, TCP_ACK, 1000, a, 1000, ++app_ts);
	feed_ts(f, base + 2000, iss + 1, TCP_ACK, 1000, b, 1000, ++app_ts);
	tcp_rx_consume(f->m.last, 1000); /* rx now empty, one range parked */
	assert_int_equal(f->m.last->rx.len, 0);
	feed_ts(f, base + 1000, iss + 1, TCP_ACK, 1000, a, 1000, ++app_ts);
	assert_int_equal(f->m.last->rx.len, 2000);
	assert_int_equal(ring_peek(&f->m.last->rx, 1000, 1000, iov), 1);
	assert_memory_equal(iov[0].iov_base, b, 1000);
}

/* More disjoint ranges than we keep: the extra one is dropped, not misplaced. */
static void test_ooo_range_limit(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish_full(f, 1000);
	uint32_t base = f->app_seq;
	uint8_t d[100] = { 0 };
	int i;

	for (i = 1; i <= TCP_OOO_MAX + 1; i++)
		feed_ts(f, base + (uint32_t)i * 200, iss + 1, TCP_ACK, 1000, d, 100, ++app_ts);
	assert_int_equal(f->m.last->nooo, TCP_OOO_MAX);
	assert_int_equal(tcp_stack_stats(f->st)->ooo_dropped, 1);
	flush(f);
	assert_int_equal(last(f)->seg.nsack, 3); /* 3 blocks fit next to timestamps */
	assert_int_equal(last(f)->seg.sack[0][0], base + TCP_OOO_MAX * 200);
}

/* A FIN that arrives before the data in front of it is taken once the gap fills. */
static void test_ooo_fin(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish_full(f, 1000);
	uint32_t base = f->app_seq;
	uint8_t d[500] = { 1 };

	feed_ts(f, base + 500, iss + 1, TCP_ACK | TCP_FIN, 1000, d, 500, ++app_ts);
	assert_int_equal(f->m.fins, 0);
	assert_int_equal(f->m.last->state, TCPS_ESTABLISHED);
	feed_ts(f, base, iss + 1, TCP_ACK, 1000, d, 500, ++app_ts);
	assert_int_equal(f->m.last->rx.len, 1000);
	assert_int_equal(f->m.fins, 1);
	assert_int_equal(f->m.last->state, TCPS_CLOSE_WAIT);
	flush(f);
	assert_int_equal(last(f)->seg.ack, base + 1001);
}

/* RFC 6675: with SACK, only the holes are resent, and the pipe paces it. */
static void test_sack_recovery_resends_holes_only(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish_full(f, 1000);
	static uint8_t buf[20 * 1448];
	uint32_t una = iss + 1, smss;
	uint8_t o[12 + 4 + 16];
	int i, n;

	ring_write(&f->m.last->tx, buf, sizeof(buf));
	tcp_kick(f->m.last);
	flush(f);
	smss = f->out[0].seg.len;
	assert_int_equal(smss, 1460 - 12); /* the timestamp option takes its room */
	n = f->nout;
	assert_int_equal(n, 10);
	/* Segments 1 and 3 lost; the app SACKs 2 and 4..10 (two blocks). */
	f->nout = 0;
	for (i = 0; i < 3; i++) {
		size_t ol = 0;

		o[ol++] = 1;
		o[ol++] = 1;
		o[ol++] = 8;
		o[ol++] = 10;
		store_be32(o + ol, ++app_ts);
		store_be32(o + ol + 4, 0);
		ol += 8;
		o[ol++] = 1;
		o[ol++] = 1;
		o[ol++] = 5;
		o[ol++] = 18;
		store_be32(o + ol, una + smss);
		store_be32(o + ol + 4, una + 2 * smss);
		store_be32(o + ol + 8, una + 3 * smss);
		store_be32(o + ol + 12, una + (uint32_t)(4 + 2 * i) * smss);
		ol += 16;
		feed_full(f, f->app_seq, una, TCP_ACK, 1000, o, ol, NULL, 0, false);
	}
	assert_true(f->m.last->flags & (1 << 5)); /* TF_RECOVERY */
	flush(f);
	/* Both holes resent, nothing SACKed resent. */
	assert_true(f->nout >= 2);
	assert_int_equal(f->out[0].seg.seq, una);
	assert_int_equal(f->out[0].seg.len, smss);
	assert_int_equal(f->out[1].seg.seq, una + 2 * smss);
	for (i = 2; i < f->nout; i++)
		assert_true(f->out[i].seg.seq >= una + 10 * smss); /* only new data */
	assert_int_equal(tcp_stack_stats(f->st)->sack_rexmit, 2);
	/* The cumulative ACK past recover ends recovery. */
	feed_ts(f, f->app_seq, f->m.last->snd_max, TCP_ACK, 1000, NULL, 0, ++app_ts);
	assert_false(f->m.last->flags & (1 << 5));
	assert_int_equal(f->m.last->nsb, 0);
}

static void test_paws_drops_old_timestamp(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish_full(f, 1000);
	uint8_t d[10] = { 0 };

	feed_ts(f, f->app_seq, iss + 1, TCP_ACK, 1000, d, 10, app_ts + 100);
	f->app_seq += 10;
	assert_int_equal(f->m.last->rx.len, 10);
	assert_int_equal(f->m.last->ts_recent, app_ts + 100);
	/* An older TSval: an old duplicate, dropped with an ACK. */
	f->nout = 0;
	feed_ts(f, f->app_seq, iss + 1, TCP_ACK, 1000, d, 10, app_ts + 50);
	assert_int_equal(f->m.last->rx.len, 10);
	assert_int_equal(tcp_stack_stats(f->st)->paws_dropped, 1);
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.tsecr, app_ts + 100);
	/* An RST is not subject to PAWS. */
	feed_ts(f, f->app_seq, 0, TCP_RST, 0, NULL, 0, app_ts + 1);
	assert_int_equal(f->m.closes, 1);
}

/* With timestamps on, RTT still comes from one timed segment per RTT (Karn). */
static void test_rtt_sample_with_timestamps(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish_full(f, 1000);
	uint8_t d[100] = { 0 };
	uint32_t tsval;

	f->m.last->srtt = 0;
	ring_write(&f->m.last->tx, d, sizeof(d));
	tcp_kick(f->m.last);
	flush(f);
	tsval = last(f)->seg.tsval;
	f->loop.now += 40;
	{
		uint8_t o[12] = { 1, 1, 8, 10 };

		store_be32(o + 4, ++app_ts);
		store_be32(o + 8, tsval);
		feed_full(f, f->app_seq, iss + 101, TCP_ACK, 1000, o, sizeof(o), NULL, 0, false);
	}
	assert_int_equal(f->m.last->srtt, 40);
}

static void test_keepalive_probes_then_reset(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	int i;

	flush(f);
	assert_true(timer_armed(&f->m.last->timer));
	f->loop.now += 9999;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 0);
	f->loop.now += 1;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.seq, iss); /* snd_una - 1 */
	assert_int_equal(last(f)->seg.len, 0);
	/* The app answers: probing stops and the idle clock restarts. */
	feed(f, f->app_seq, iss + 1, TCP_ACK, 1000, NULL, 0);
	flush(f);
	f->nout = 0;
	f->loop.now += 5000;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 0);
	/* Silence: 3 probes one second apart, then RST and -ETIMEDOUT. */
	for (i = 0; i < 20 && !f->m.closes; i++) {
		f->loop.now += 1000;
		loop_run_timers(&f->loop);
	}
	assert_int_equal(f->m.closes, 1);
	assert_int_equal(f->m.close_err, -ETIMEDOUT);
	assert_int_equal(f->nout, 4);
	assert_true(last(f)->seg.flags & TCP_RST);
	assert_int_equal(tcp_stack_stats(f->st)->ka_timeouts, 1);
}

/* The keepalive timer must not keep a retransmission from being armed. */
static void test_keepalive_then_data_arms_rto(void **state)
{
	struct fixture *f = *state;
	uint8_t d[10] = { 0 };
	int before;

	establish(f, 1000);
	flush(f);
	ring_write(&f->m.last->tx, d, sizeof(d));
	tcp_kick(f->m.last);
	flush(f);
	before = f->nout;
	f->loop.now += f->m.last->rto;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, before + 1); /* retransmitted at the RTO */
	assert_int_equal(last(f)->seg.len, 10);
}

static void test_idle_timeout(void **state)
{
	struct fixture *f = *state;
	uint8_t d[10] = { 0 };

	establish(f, 1000);
	feed(f, f->app_seq, f->m.last->snd_una, TCP_ACK, 1000, d, 10);
	flush(f);
	f->loop.now += 29999;
	loop_run_timers(&f->loop);
	assert_int_equal(f->m.closes, 0);
	f->loop.now += 1;
	loop_run_timers(&f->loop);
	assert_int_equal(f->m.closes, 1);
	assert_int_equal(f->m.close_err, -ETIMEDOUT);
	assert_true(last(f)->seg.flags & TCP_RST);
	assert_int_equal(tcp_stack_stats(f->st)->idle_timeouts, 1);
}

/* A bare segment from app port `port` (feed() always uses 40000). */
static void feed_port(struct fixture *f, uint16_t port, uint32_t seq, uint32_t ack, uint8_t flags)
{
	uint8_t pkt[128];
	struct seg_spec sp = { .family = f->family,
			       .src = f->app,
			       .dst = f->dst,
			       .sport = port,
			       .dport = 80,
			       .seq = seq,
			       .ack = ack,
			       .flags = flags,
			       .wnd = 64240 };
	size_t n = seg_build(pkt, sizeof(pkt), &sp);
	struct ip_view v;

	assert_true(n > 0);
	assert_int_equal(ip_parse(pkt, n, &v), 0);
	tcp_input(f->st, &v);
}

static void feed_syn_port(struct fixture *f, uint16_t port)
{
	feed_port(f, port, 777, 0, TCP_SYN);
}

/*
 * Past max_conns a new SYN is dropped, unanswered (the app's kernel sends
 * it again): counted as deferred. Only a table full for TCP_FULL_RESET_MS
 * with no flow leaving answers with a reset; a flow leaving makes room and
 * starts that clock again.
 */
static void test_limits_defer_new_flows(void **state)
{
	struct fixture *f = *state;
	struct tcp_conn *c1, *c2, *c3;

	feed_syn_port(f, 1001);
	c1 = f->m.last;
	feed_syn_port(f, 1002);
	c2 = f->m.last;
	feed_syn_port(f, 1003);
	c3 = f->m.last;
	assert_int_equal(f->m.syns, 3);
	assert_int_equal(tcp_stack_pending(f->st), 3);
	f->nout = 0;
	feed_syn_port(f, 1004); /* over max_conns: dropped, no reset */
	flush(f);
	assert_int_equal(f->m.syns, 3);
	assert_int_equal(f->nout, 0);
	assert_int_equal(tcp_stack_stats(f->st)->syn_deferred, 1);
	assert_int_equal(tcp_stack_stats(f->st)->limit_refused, 0);
	/* Resent while still full, short of the reset time: dropped again. */
	f->loop.now += TCP_FULL_RESET_MS - 1;
	feed_syn_port(f, 1004);
	flush(f);
	assert_int_equal(f->nout, 0);
	assert_int_equal(tcp_stack_stats(f->st)->syn_deferred, 2);
	/* A flow leaves: the clock starts again, and the resent SYN fits. */
	mock_abort(sess(f, c2));
	tcp_flush(f->st);
	f->loop.now += 1;
	feed_syn_port(f, 1004);
	assert_int_equal(f->m.syns, 4);
	/* Full again, and nothing leaves for TCP_FULL_RESET_MS: now a reset. */
	feed_syn_port(f, 1005);
	assert_int_equal(tcp_stack_stats(f->st)->syn_deferred, 3);
	f->loop.now += TCP_FULL_RESET_MS;
	f->nout = 0;
	feed_syn_port(f, 1005);
	flush(f);
	assert_int_equal(f->m.syns, 4);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.flags, TCP_RST | TCP_ACK);
	assert_int_equal(tcp_stack_stats(f->st)->limit_refused, 1);
	mock_abort(sess(f, f->m.last));
	mock_abort(sess(f, c3));
	mock_abort(sess(f, c1));
}

/*
 * Two stacks (engine workers) sharing limits: max_conns 3 counts the flows
 * of both, the full table's clock is one for both; a stack that goes away
 * gives its places back.
 */
static void test_shared_limits(void **state)
{
	struct fixture *f = *state;
	static struct tcp_shared sh;
	struct tcp_cfg cfg = {
		.mtu = MTU, .buf_size = 65536, .max_conns = 3, .shared = &sh, .shared_idx = 1
	};
	struct tcp_stack *a = f->st, *b;
	struct tcp_conn *a1, *b1, *a2;

	memset(&sh, 0, sizeof(sh));
	sh.nstacks = 2;
	cfg.shared_idx = 2; /* past nstacks: refused */
	assert_null(tcp_stack_new(&f->loop, &cfg, &mock_tcp_ops, &f->m));
	cfg.shared_idx = 1;
	b = tcp_stack_new(&f->loop, &cfg, &mock_tcp_ops, &f->m);
	assert_non_null(b);
	/* Stack a (the fixture's) joins as stack 0 with the same limits. */
	tcp_stack_free(a);
	cfg.shared_idx = 0;
	a = f->st = tcp_stack_new(&f->loop, &cfg, &mock_tcp_ops, &f->m);
	assert_non_null(a);

	feed_syn_port(f, 2001); /* a: 1 flow */
	a1 = f->m.last;
	f->st = b;
	feed_syn_port(f, 2002); /* b: 1 flow */
	b1 = f->m.last;
	f->st = a;
	feed_syn_port(f, 2003); /* a: 2 flows, 3 together */
	a2 = f->m.last;
	assert_int_equal(f->m.syns, 3);
	f->st = b;
	feed_syn_port(f, 2004); /* a fourth flow, on b: over max_conns (3 together), deferred */
	assert_int_equal(f->m.syns, 3);
	assert_int_equal(tcp_stack_stats(b)->syn_deferred, 1);
	assert_int_equal(tcp_stack_stats(b)->limit_refused, 0);
	/* Full since b's SYN: a's SYN after TCP_FULL_RESET_MS is reset (one clock). */
	f->loop.now += TCP_FULL_RESET_MS;
	f->st = a;
	feed_syn_port(f, 2005);
	assert_int_equal(tcp_stack_stats(a)->limit_refused, 1);
	/* b goes away with its flow: a gets the place, and the clock stops. */
	mock_abort(sess(f, b1));
	tcp_stack_free(b);
	assert_int_equal(atomic_load(&sh.full_since), 0);
	feed_syn_port(f, 2006);
	assert_int_equal(f->m.syns, 4);
	assert_int_equal(atomic_load(&sh.conns), 3);
	mock_abort(sess(f, f->m.last));
	mock_abort(sess(f, a2));
	mock_abort(sess(f, a1));
}

/* A flow in TIME-WAIT holds no buffers; the global count returns to zero. */
static void test_time_wait_frees_buffers(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	uint8_t d[100] = { 0 };

	feed(f, f->app_seq, iss + 1, TCP_ACK, 1000, d, 100);
	f->app_seq += 100;
	ring_write(&f->m.last->tx, d, 10);
	tcp_kick(f->m.last);
	flush(f);
	/* Little data: each ring holds its smallest storage, not its capacity. */
	assert_int_equal(tcp_stack_mem(f->st), 2 * RING_MIN_ALLOC);
	tcp_rx_consume(f->m.last, 100);
	tcp_shutdown(f->m.last);
	flush(f);
	feed(f, f->app_seq, iss + 12, TCP_ACK | TCP_FIN, 1000, NULL, 0);
	assert_int_equal(f->m.last->state, TCPS_TIME_WAIT);
	assert_int_equal(tcp_stack_mem(f->st), RING_MIN_ALLOC); /* rx until the session lets go */
	mock_detach(sess(f, f->m.last));
	assert_int_equal(tcp_stack_mem(f->st), 0);
	f->loop.now += TCP_TIME_WAIT_MS;
	loop_run_timers(&f->loop);
	tcp_flush(f->st);
	assert_int_equal(tcp_stack_conns(f->st), 0);
}

/* An ACK with SACK and timestamps for the flow (TSecr as given). */
static void feed_sack(struct fixture *f, uint32_t ack, uint32_t l, uint32_t r, uint32_t tsecr)
{
	uint8_t o[24] = { 1, 1, 8, 10 };
	size_t ol = 12;

	store_be32(o + 4, ++app_ts);
	store_be32(o + 8, tsecr);
	if (l != r) {
		o[ol++] = 1;
		o[ol++] = 1;
		o[ol++] = 5;
		o[ol++] = 10;
		store_be32(o + ol, l);
		store_be32(o + ol + 4, r);
		ol += 8;
	}
	feed_full(f, f->app_seq, ack, TCP_ACK, 1000, o, ol, NULL, 0, false);
}

/* RFC 8985 7: a silent tail draws a probe after 2 RTTs, long before the RTO. */
static void test_tail_loss_probe(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish_full(f, 1000);
	static uint8_t buf[4 * 1448];

	f->m.last->srtt = 5;
	f->m.last->rto = 1000;
	ring_write(&f->m.last->tx, buf, 3 * 1448);
	tcp_kick(f->m.last);
	flush(f);
	assert_int_equal(f->nout, 3);
	f->nout = 0;
	f->loop.now += 9;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 0);
	f->loop.now += 1; /* PTO = max(2 * srtt, 10 ms) */
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 1); /* nothing new to send: the last segment again */
	assert_int_equal(last(f)->seg.seq, iss + 1 + 2 * 1448);
	assert_int_equal(last(f)->seg.len, 1448);
	assert_int_equal(tcp_stack_stats(f->st)->tlp, 1);
	/* One probe per flight: next comes the RTO. */
	f->loop.now += 999;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 1);
	f->loop.now += 1;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 2);
	assert_int_equal(last(f)->seg.seq, iss + 1);
	assert_int_equal(tcp_stack_stats(f->st)->rto_fired, 1);
}

/* RFC 5827: two segments out, the second SACKed: resend the first at once. */
static void test_early_retransmit(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish_full(f, 1000);
	static uint8_t buf[2 * 1448];

	ring_write(&f->m.last->tx, buf, sizeof(buf));
	tcp_kick(f->m.last);
	flush(f);
	assert_int_equal(f->nout, 2);
	f->nout = 0;
	feed_sack(f, iss + 1, iss + 1 + 1448, iss + 1 + 2 * 1448, 0);
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.seq, iss + 1);
	assert_int_equal(last(f)->seg.len, 1448);
}

/* RFC 3522: the ACK past the hole echoes the original's timestamp: undo. */
static void test_spurious_recovery_undone(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish_full(f, 1000);
	static uint8_t buf[10 * 1448];
	uint32_t cwnd, orig_ts;
	int i;

	ring_write(&f->m.last->tx, buf, sizeof(buf));
	tcp_kick(f->m.last);
	flush(f);
	orig_ts = f->out[0].seg.tsval;
	cwnd = f->m.last->cwnd;
	f->loop.now += 5; /* the retransmission will carry a later TSval */
	for (i = 2; i <= 4; i++)
		feed_sack(f, iss + 1, iss + 1 + 1448, iss + 1 + (uint32_t)i * 1448, orig_ts);
	assert_true(f->m.last->flags & (1 << 5)); /* TF_RECOVERY */
	assert_true(f->m.last->cwnd < cwnd);
	flush(f);
	/* The original first segment was only late: its ACK echoes its own TSval. */
	feed_sack(f, iss + 1 + 4 * 1448, 0, 0, orig_ts);
	assert_false(f->m.last->flags & (1 << 5));
	assert_true(f->m.last->cwnd >= cwnd);
	assert_int_equal(tcp_stack_stats(f->st)->undo, 1);
	assert_true(f->m.last->reordering > 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_synack_waits_for_tunnel, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_synack_waits_for_tunnel, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_reject_is_rst, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_refused_by_session, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_unreach_is_icmp, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_unreach_is_icmp, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_data_in_order_acked, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_data_in_order_acked, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_window_shrinks_and_reopens, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_send_respects_mss_and_window, setup4,
						teardown),
		cmocka_unit_test_setup_teardown(test_offload_gso_send, setup4_offload, teardown),
		cmocka_unit_test_setup_teardown(test_offload_gso_send, setup6_offload, teardown),
		cmocka_unit_test_setup_teardown(test_offload_gso_quarter_cwnd, setup4_offload,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_offload_no_gso, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_offload_large_segment_in, setup4_offload,
						teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_persist, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_rto_retransmits_and_backs_off, setup6,
						teardown),
		cmocka_unit_test_setup_teardown(test_rto_gives_up_with_rst, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_fast_retransmit, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_app_closes_first, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_app_closes_first, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_proxy_closes_first_time_wait, setup4,
						teardown),
		cmocka_unit_test_setup_teardown(test_rst_exact_and_challenge, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_abort_sends_rst, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_flow_gets_rst, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_bad_checksum_and_header, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_synack_retransmitted, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_dup_syn_then_ack_same_batch, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_ack_bad_seq, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_time_wait_close_reported_once, setup4,
						teardown),
		cmocka_unit_test_setup_teardown(test_time_wait_reused_by_new_syn, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_zero_rcv_window_still_processes_ack, setup4,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_rtt_sample_after_synack_resent, setup4,
						teardown),
		cmocka_unit_test_setup_teardown(test_ooo_parked_and_sacked, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_parked_and_sacked, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_survives_consume, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_range_limit, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_fin, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_sack_recovery_resends_holes_only, setup4,
						teardown),
		cmocka_unit_test_setup_teardown(test_paws_drops_old_timestamp, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_rtt_sample_with_timestamps, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_probes_then_reset, setup4_ka,
						teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_then_data_arms_rto, setup4_ka,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup4_idle, teardown),
		cmocka_unit_test_setup_teardown(test_limits_defer_new_flows, setup4_limits,
						teardown),
		cmocka_unit_test_setup_teardown(test_shared_limits, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_time_wait_frees_buffers, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_tail_loss_probe, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_early_retransmit, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_spurious_recovery_undone, setup4, teardown),
	};

	return cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
}
