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
#include <string.h>

#include "buf.h"
#include "ip.h"
#include "loop.h"
#include "tcp.h"

enum { MAX_OUT = 512, MTU = 1500 };

struct captured {
	uint8_t pkt[2048];
	size_t len;
	struct ip_view ip;
	struct tcp_seg seg;
};

struct fixture {
	struct loop loop;
	struct tcp_stack *st;
	struct captured out[MAX_OUT];
	int nout;
	int syns, datas, sents, fins, closes, close_err;
	bool refuse;
	struct tcp_conn *conn;
	int family;
	uint8_t app[16], dst[16];
	uint32_t app_seq;	/* next sequence number the app sends */
};

static struct fixture *F;
static int user_token;

static void *cb_syn(void *ctx, struct tcp_conn *c)
{
	struct fixture *f = ctx;

	f->syns++;
	f->conn = c;
	return f->refuse ? NULL : &user_token;
}

static void cb_data(void *user)
{
	(void)user;
	F->datas++;
}

static void cb_sent(void *user)
{
	(void)user;
	F->sents++;
}

static void cb_fin(void *user)
{
	(void)user;
	F->fins++;
}

static void cb_close(void *user, int err)
{
	(void)user;
	F->closes++;
	F->close_err = err;
}

static void cb_output(void *ctx, const struct iovec *iov, int iovcnt)
{
	struct fixture *f = ctx;
	struct captured *c;
	int i;

	assert_true(f->nout < MAX_OUT);
	c = &f->out[f->nout++];
	c->len = 0;
	for (i = 0; i < iovcnt; i++) {
		assert_true(c->len + iov[i].iov_len <= sizeof(c->pkt));
		memcpy(c->pkt + c->len, iov[i].iov_base, iov[i].iov_len);
		c->len += iov[i].iov_len;
	}
	/* Everything we emit must parse and carry a valid checksum. */
	assert_int_equal(ip_parse(c->pkt, c->len, &c->ip), 0);
	assert_int_equal(c->ip.proto, IPPROTO_TCP);
	assert_int_equal(tcp_parse(&c->ip, &c->seg), 0);
}

static const struct tcp_ops ops = {
	.on_syn = cb_syn,
	.on_data = cb_data,
	.on_sent = cb_sent,
	.on_fin = cb_fin,
	.on_close = cb_close,
	.output = cb_output,
};

static int setup_family(void **state, int family, size_t buf)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct tcp_cfg cfg = { .mtu = MTU, .buf_size = buf };

	assert_non_null(f);
	assert_int_equal(loop_init(&f->loop), 0);
	f->loop.now = 1000;
	f->st = tcp_stack_new(&f->loop, &cfg, &ops, f);
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
	F = f;
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

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->conn && f->closes == 0)
		tcp_detach(f->conn);
	else if (f->conn)
		tcp_detach(f->conn);
	tcp_flush(f->st);
	tcp_stack_free(f->st);
	loop_fini(&f->loop);
	free(f);
	return 0;
}

/* Builds a segment from the app to dst:80 and feeds it in. */
static void feed_full(struct fixture *f, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		      const uint8_t *opt, size_t optlen, const void *data, size_t len, bool bad_csum)
{
	uint8_t pkt[2048];
	size_t hl, tl = TCP_HDR_LEN + optlen;
	uint8_t *t;
	uint16_t c;
	struct ip_view v;

	hl = ip_build_hdr(pkt, f->family, f->app, f->dst, IPPROTO_TCP, tl + len);
	t = pkt + hl;
	memset(t, 0, TCP_HDR_LEN);
	store_be16(t, 40000);
	store_be16(t + 2, 80);
	store_be32(t + 4, seq);
	store_be32(t + 8, ack);
	t[12] = (uint8_t)((tl / 4) << 4);
	t[13] = flags;
	store_be16(t + 14, wnd);
	if (optlen)
		memcpy(t + TCP_HDR_LEN, opt, optlen);
	if (len)
		memcpy(t + tl, data, len);
	c = csum_fold(csum_add(csum_pseudo(f->family, f->app, f->dst, IPPROTO_TCP,
					   (uint32_t)(tl + len)),
			       t, tl + len));
	if (bad_csum)
		c ^= 0x1234;
	memcpy(t + 16, &c, 2);
	assert_int_equal(ip_parse(pkt, hl + tl + len, &v), 0);
	tcp_input(f->st, &v);
}

static void feed(struct fixture *f, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		 const void *data, size_t len)
{
	feed_full(f, seq, ack, flags, wnd, NULL, 0, data, len, false);
}

static const uint8_t syn_opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };	/* MSS 1460, WS 7 */

static void flush(struct fixture *f)
{
	tcp_flush(f->st);
}

static struct captured *last(struct fixture *f)
{
	assert_true(f->nout > 0);
	return &f->out[f->nout - 1];
}

/* SYN in, tunnel up, SYN-ACK out, ACK in: ESTABLISHED. Returns our ISS. */
static uint32_t establish(struct fixture *f, uint16_t wnd)
{
	struct captured *sa;
	uint32_t iss;

	feed_full(f, f->app_seq, 0, TCP_SYN, 64240, syn_opts, sizeof(syn_opts), NULL, 0, false);
	f->app_seq++;
	tcp_accept(f->conn);
	flush(f);
	sa = last(f);
	iss = sa->seg.seq;
	feed(f, f->app_seq, iss + 1, TCP_ACK, wnd, NULL, 0);
	flush(f);
	assert_int_equal(f->conn->state, TCPS_ESTABLISHED);
	f->nout = 0;
	return iss;
}

static void test_synack_waits_for_tunnel(void **state)
{
	struct fixture *f = *state;
	struct captured *sa;

	feed_full(f, 1000, 0, TCP_SYN, 64240, syn_opts, sizeof(syn_opts), NULL, 0, false);
	flush(f);
	assert_int_equal(f->syns, 1);
	assert_int_equal(f->nout, 0);		/* nothing until the tunnel is up */
	/* A retransmitted SYN is the same flow, not a new one. */
	feed_full(f, 1000, 0, TCP_SYN, 64240, syn_opts, sizeof(syn_opts), NULL, 0, false);
	flush(f);
	assert_int_equal(f->syns, 1);
	assert_int_equal(f->nout, 0);
	tcp_accept(f->conn);
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
	struct captured *r;

	feed(f, 5000, 0, TCP_SYN, 64240, NULL, 0);
	tcp_reject(f->conn);
	f->conn = NULL;
	flush(f);
	assert_int_equal(f->nout, 1);
	r = last(f);
	assert_int_equal(r->seg.flags, TCP_RST | TCP_ACK);
	assert_int_equal(r->seg.ack, 5001);
	/* The flow is gone: a new SYN is a new flow. */
	feed(f, 6000, 0, TCP_SYN, 64240, NULL, 0);
	assert_int_equal(f->syns, 2);
}

static void test_refused_by_session(void **state)
{
	struct fixture *f = *state;

	f->refuse = true;
	feed(f, 5000, 0, TCP_SYN, 64240, NULL, 0);
	f->conn = NULL;
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
	assert_int_equal(f->datas, 2);
	assert_int_equal(f->conn->rx.len, 1500);
	flush(f);
	/* Coalesced: one ACK for both segments. */
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.ack, f->app_seq);
	assert_int_equal(last(f)->seg.flags, TCP_ACK);
	/* A duplicate of old data changes nothing but draws an ACK. */
	feed(f, f->app_seq - 500, iss + 1, TCP_ACK, 1000, buf, 500);
	assert_int_equal(f->conn->rx.len, 1500);
	flush(f);
	assert_int_equal(last(f)->seg.ack, f->app_seq);
	/* Overlap: the new part only. */
	memset(buf, 'b', sizeof(buf));
	feed(f, f->app_seq - 100, iss + 1, TCP_ACK, 1000, buf, 300);
	f->app_seq += 200;
	assert_int_equal(f->conn->rx.len, 1700);
	assert_int_equal(ring_peek(&f->conn->rx, 1499, 2, iov), 1);
	assert_memory_equal(iov[0].iov_base, "ab", 2);
	/* Out of order: not taken, dup ACK. */
	f->nout = 0;
	feed(f, f->app_seq + 10, iss + 1, TCP_ACK, 1000, buf, 10);
	assert_int_equal(f->conn->rx.len, 1700);
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
	while (ring_space(&f->conn->rx)) {
		size_t n = ring_space(&f->conn->rx) < 1400 ? ring_space(&f->conn->rx) : 1400;

		feed(f, f->app_seq, iss + 1, TCP_ACK, 1000, buf, n);
		f->app_seq += (uint32_t)n;
	}
	flush(f);
	assert_int_equal(last(f)->seg.wnd, 0);
	/* Beyond the window: dropped. */
	feed(f, f->app_seq, iss + 1, TCP_ACK, 1000, buf, 100);
	assert_int_equal(f->conn->rx.len, 65536);
	/* The session drains to the proxy: a window update goes out. */
	f->nout = 0;
	tcp_rx_consume(f->conn, 32768);
	flush(f);
	assert_int_equal(f->nout, 1);
	win = (uint32_t)last(f)->seg.wnd << f->conn->rcv_ws;
	assert_true(win >= 32768 - (1u << f->conn->rcv_ws));
}

static void test_send_respects_mss_and_window(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 3000);	/* app window 3000 << 7 */
	static uint8_t buf[20000];
	int i;

	assert_int_equal(f->conn->snd_wnd, 3000u << 7);
	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(ring_write(&f->conn->tx, buf, sizeof(buf)), (long)sizeof(buf));
	tcp_kick(f->conn);
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
	assert_int_equal(f->sents, 1);
	assert_int_equal(f->conn->tx.len, sizeof(buf) - 5 * 1460);
	flush(f);
	assert_true(f->nout > 0);
	assert_int_equal(f->out[0].seg.seq, iss + 1 + 10 * 1460);
}

static void test_zero_window_persist(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 0);
	uint8_t buf[100] = { 0 };

	ring_write(&f->conn->tx, buf, sizeof(buf));
	tcp_kick(f->conn);
	flush(f);
	assert_int_equal(f->nout, 0);	/* window closed: nothing sent */
	assert_true(timer_armed(&f->conn->timer));
	f->loop.now += 1100;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 1);	/* the probe */
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
	ring_write(&f->conn->tx, buf, sizeof(buf));
	tcp_kick(f->conn);
	flush(f);
	assert_int_equal(f->nout, 1);
	rto = f->conn->rto;
	f->loop.now += rto - 1;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 1);	/* not yet */
	f->loop.now += 1;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 2);
	assert_int_equal(last(f)->seg.seq, iss + 1);
	assert_int_equal(last(f)->seg.len, 1000);
	assert_int_equal(f->conn->rto, 2 * rto);
	/* ACK stops the timer. */
	feed(f, f->app_seq, iss + 1001, TCP_ACK, 1000, NULL, 0);
	assert_false(timer_armed(&f->conn->timer));
	assert_int_equal(f->conn->tx.len, 0);
}

static void test_rto_gives_up_with_rst(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[10] = { 0 };
	int i;

	establish(f, 1000);
	ring_write(&f->conn->tx, buf, sizeof(buf));
	tcp_kick(f->conn);
	flush(f);
	for (i = 0; i < 40 && !f->closes; i++) {
		f->loop.now += TCP_RTO_MAX_MS;
		loop_run_timers(&f->loop);
	}
	assert_int_equal(f->closes, 1);
	assert_int_equal(f->close_err, -ETIMEDOUT);
	assert_true(last(f)->seg.flags & TCP_RST);
}

static void test_fast_retransmit(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	static uint8_t buf[14600];
	int i;

	ring_write(&f->conn->tx, buf, sizeof(buf));
	tcp_kick(f->conn);
	flush(f);
	assert_int_equal(f->nout, 10);
	f->nout = 0;
	for (i = 0; i < 3; i++)
		feed(f, f->app_seq, iss + 1 + 1460, TCP_ACK, 1000, NULL, 0);
	assert_int_equal(f->nout, 0);	/* first ACK advanced; two dups so far */
	feed(f, f->app_seq, iss + 1 + 1460, TCP_ACK, 1000, NULL, 0);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.seq, iss + 1 + 1460);
}

static void test_app_closes_first(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	struct captured *fin;

	feed(f, f->app_seq, iss + 1, TCP_ACK | TCP_FIN, 1000, "bye", 3);
	f->app_seq += 4;
	assert_int_equal(f->fins, 1);
	assert_int_equal(f->conn->state, TCPS_CLOSE_WAIT);
	assert_true(tcp_fin_received(f->conn));
	flush(f);
	assert_int_equal(last(f)->seg.ack, f->app_seq);
	/* Half-close: we may still send. */
	ring_write(&f->conn->tx, "reply", 5);
	tcp_kick(f->conn);
	flush(f);
	assert_int_equal(last(f)->seg.len, 5);
	tcp_shutdown(f->conn);
	flush(f);
	fin = last(f);
	assert_true(fin->seg.flags & TCP_FIN);
	assert_int_equal(fin->seg.seq, iss + 6);
	assert_int_equal(f->conn->state, TCPS_LAST_ACK);
	feed(f, f->app_seq, iss + 7, TCP_ACK, 1000, NULL, 0);
	assert_int_equal(f->closes, 1);
	assert_int_equal(f->close_err, 0);
	assert_int_equal(f->conn->state, TCPS_CLOSED);
}

static void test_proxy_closes_first_time_wait(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);

	tcp_shutdown(f->conn);
	flush(f);
	assert_int_equal(last(f)->seg.flags, TCP_ACK | TCP_FIN);
	assert_int_equal(f->conn->state, TCPS_FIN_WAIT_1);
	feed(f, f->app_seq, iss + 2, TCP_ACK, 1000, NULL, 0);
	assert_int_equal(f->conn->state, TCPS_FIN_WAIT_2);
	/* Half-close the other way: the app keeps sending after our FIN. */
	feed(f, f->app_seq, iss + 2, TCP_ACK, 1000, "more", 4);
	f->app_seq += 4;
	assert_int_equal(f->conn->rx.len, 4);
	feed(f, f->app_seq, iss + 2, TCP_ACK | TCP_FIN, 1000, NULL, 0);
	f->app_seq++;
	assert_int_equal(f->conn->state, TCPS_TIME_WAIT);
	assert_int_equal(f->closes, 1);
	flush(f);
	assert_int_equal(last(f)->seg.ack, f->app_seq);
	/* TIME-WAIT is bounded. */
	f->loop.now += TCP_TIME_WAIT_MS;
	loop_run_timers(&f->loop);
	assert_int_equal(f->conn->state, TCPS_CLOSED);
}

static void test_rst_exact_and_challenge(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);

	/* In window but not exact: challenge ACK, connection survives (RFC 5961). */
	feed(f, f->app_seq + 100, 0, TCP_RST, 0, NULL, 0);
	flush(f);
	assert_int_equal(f->closes, 0);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.flags, TCP_ACK);
	/* Out of window: ignored silently. */
	f->nout = 0;
	feed(f, f->app_seq + 10000000, 0, TCP_RST, 0, NULL, 0);
	flush(f);
	assert_int_equal(f->nout, 0);
	assert_int_equal(f->closes, 0);
	/* SYN on an established flow: challenge ACK. */
	feed(f, f->app_seq + 5, 0, TCP_SYN, 1000, NULL, 0);
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_int_equal(f->closes, 0);
	/* Exact: reset. */
	feed(f, f->app_seq, iss + 1, TCP_RST, 0, NULL, 0);
	assert_int_equal(f->closes, 1);
	assert_int_equal(f->close_err, -ECONNRESET);
}

static void test_abort_sends_rst(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);

	tcp_abort(f->conn);
	f->conn = NULL;
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
	assert_int_equal(f->syns, 0);
}

static void test_bad_checksum_and_header(void **state)
{
	struct fixture *f = *state;
	static const uint8_t bad_opt[] = { 2, 0, 0, 0 };	/* option length 0 */
	static const uint8_t overrun[] = { 1, 1, 3, 9 };	/* length past the header */

	feed_full(f, 1, 0, TCP_SYN, 1000, NULL, 0, NULL, 0, true);
	assert_int_equal(tcp_stack_stats(f->st)->bad_csum, 1);
	feed_full(f, 1, 0, TCP_SYN, 1000, bad_opt, sizeof(bad_opt), NULL, 0, false);
	feed_full(f, 1, 0, TCP_SYN, 1000, overrun, sizeof(overrun), NULL, 0, false);
	assert_int_equal(tcp_stack_stats(f->st)->bad_hdr, 2);
	assert_int_equal(f->syns, 0);
	flush(f);
	assert_int_equal(f->nout, 0);
}

static void test_synack_retransmitted(void **state)
{
	struct fixture *f = *state;

	feed(f, 1000, 0, TCP_SYN, 64240, NULL, 0);
	tcp_accept(f->conn);
	flush(f);
	assert_int_equal(f->nout, 1);
	f->loop.now += TCP_RTO_INIT_MS;
	loop_run_timers(&f->loop);
	assert_int_equal(f->nout, 2);
	assert_int_equal(last(f)->seg.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(last(f)->seg.wscale, -1);	/* the app offered none */
}

/* A resent SYN rewinds to the SYN-ACK; the app's ACK in the same batch must not stall us. */
static void test_dup_syn_then_ack_same_batch(void **state)
{
	struct fixture *f = *state;
	uint32_t iss;

	feed(f, 1000, 0, TCP_SYN, 64240, NULL, 0);
	tcp_accept(f->conn);
	flush(f);
	iss = last(f)->seg.seq;
	feed(f, 1000, 0, TCP_SYN, 64240, NULL, 0);	/* app resends its SYN */
	feed(f, 1001, iss + 1, TCP_ACK, 64240, NULL, 0);	/* ...and acks, before we flush */
	assert_int_equal(f->conn->state, TCPS_ESTABLISHED);
	assert_int_equal(f->conn->snd_nxt, iss + 1);
	f->nout = 0;
	assert_int_equal(ring_write(&f->conn->tx, "hello", 5), 5);
	tcp_kick(f->conn);
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
	tcp_accept(f->conn);
	flush(f);
	iss = last(f)->seg.seq;
	f->nout = 0;
	feed(f, 1001 - 5000, iss + 1, TCP_ACK, 64240, NULL, 0);
	assert_int_equal(f->conn->state, TCPS_SYN_RCVD);
	flush(f);
	assert_int_equal(f->nout, 1);
	assert_int_equal(last(f)->seg.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(last(f)->seg.ack, 1001);
	feed(f, 1001, iss + 1, TCP_ACK, 64240, NULL, 0);
	assert_int_equal(f->conn->state, TCPS_ESTABLISHED);
}

/* The session hears about the close once: at TIME_WAIT, not again when it ends. */
static void test_time_wait_close_reported_once(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);

	tcp_shutdown(f->conn);
	flush(f);
	feed(f, f->app_seq, iss + 2, TCP_ACK | TCP_FIN, 1000, NULL, 0);
	f->app_seq++;
	assert_int_equal(f->conn->state, TCPS_TIME_WAIT);
	assert_int_equal(f->closes, 1);
	f->loop.now += TCP_TIME_WAIT_MS;
	loop_run_timers(&f->loop);
	assert_int_equal(f->conn->state, TCPS_CLOSED);
	assert_int_equal(f->closes, 1);
}

static void test_time_wait_reused_by_new_syn(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	struct tcp_conn *old;

	tcp_shutdown(f->conn);
	flush(f);
	feed(f, f->app_seq, iss + 2, TCP_ACK | TCP_FIN, 1000, NULL, 0);
	f->app_seq++;
	assert_int_equal(f->closes, 1);
	old = f->conn;
	feed(f, f->app_seq + 100000, 0, TCP_SYN, 64240, NULL, 0);
	assert_int_equal(f->syns, 2);
	assert_int_equal(f->closes, 1);	/* the old incarnation is not reported twice */
	assert_true(f->conn != old);
	tcp_detach(old);
}

/* With our window at zero the data is dropped but its ACK still counts. */
static void test_zero_rcv_window_still_processes_ack(void **state)
{
	struct fixture *f = *state;
	uint32_t iss = establish(f, 1000);
	uint8_t buf[1000];
	size_t cap = f->conn->rx.cap, n = 0;

	memset(buf, 'z', sizeof(buf));
	while (n < cap) {
		size_t k = cap - n < sizeof(buf) ? cap - n : sizeof(buf);

		feed(f, f->app_seq, iss + 1, TCP_ACK, 1000, buf, k);
		f->app_seq += (uint32_t)k;
		n += k;
	}
	assert_int_equal(f->conn->rx.len, cap);
	assert_int_equal(ring_write(&f->conn->tx, "abc", 3), 3);
	tcp_kick(f->conn);
	flush(f);
	assert_int_equal(f->conn->snd_una, iss + 1);
	/* More data (not taken) carrying the ACK of our 3 bytes. */
	feed(f, f->app_seq, iss + 4, TCP_ACK, 1000, buf, 100);
	assert_int_equal(f->conn->rx.len, cap);
	assert_int_equal(f->conn->snd_una, iss + 4);
}

/* Karn: a resent SYN-ACK yields no RTT sample. */
static void test_no_rtt_sample_after_synack_resent(void **state)
{
	struct fixture *f = *state;
	uint32_t iss;

	feed(f, 1000, 0, TCP_SYN, 64240, NULL, 0);
	tcp_accept(f->conn);
	flush(f);
	iss = last(f)->seg.seq;
	f->loop.now += TCP_RTO_INIT_MS;
	loop_run_timers(&f->loop);
	f->loop.now += 5;
	feed(f, 1001, iss + 1, TCP_ACK, 64240, NULL, 0);
	assert_int_equal(f->conn->state, TCPS_ESTABLISHED);
	assert_int_equal(f->conn->srtt, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_synack_waits_for_tunnel, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_synack_waits_for_tunnel, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_reject_is_rst, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_refused_by_session, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_data_in_order_acked, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_data_in_order_acked, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_window_shrinks_and_reopens, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_send_respects_mss_and_window, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_zero_window_persist, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_rto_retransmits_and_backs_off, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_rto_gives_up_with_rst, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_fast_retransmit, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_app_closes_first, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_app_closes_first, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_proxy_closes_first_time_wait, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_rst_exact_and_challenge, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_abort_sends_rst, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_flow_gets_rst, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_bad_checksum_and_header, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_synack_retransmitted, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_dup_syn_then_ack_same_batch, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_ack_bad_seq, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_time_wait_close_reported_once, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_time_wait_reused_by_new_syn, setup4, teardown),
		cmocka_unit_test_setup_teardown(test_zero_rcv_window_still_processes_ack, setup4,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_rtt_sample_after_synack_resent, setup4,
						teardown),
	};

	return cmocka_run_group_tests_name("tcp", tests, NULL, NULL);
}
