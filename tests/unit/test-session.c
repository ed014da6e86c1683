// SPDX-License-Identifier: GPL-2.0-only
/*
 * The session layer (session.c) between the real TCP stack and a proxy the
 * test plays on loopback (helpers/fake-proxy.h): segments from the app are
 * crafted (helpers/segment.h), what goes back to the app is parsed. SOCKS5
 * and HTTP: the SYN-ACK waits for the tunnel; bytes both ways; half-close
 * both ways; a proxy answering ahead (its CONNECT reply and tunnel bytes
 * before our CONNECT left) still gets the CONNECT first and the app the
 * bytes in order; refusal, the handshake timeout and a proxy closing
 * mid-handshake reset the app; the status phases; past the handshake
 * window a flow waits, its SYNs unanswered, and starts once a place frees.
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
#include <sys/socket.h>
#include <unistd.h>

#include "ctl-proto.h"
#include "fake-proxy.h"
#include "loop.h"
#include "segment.h"
#include "session.h"
#include "tcp.h"

#define LIT(s) (s), sizeof(s) - 1

enum { MAX_OUT = 64, APP_PORT = 40000 };

struct fix {
	struct loop loop;
	struct fake_proxy fp;
	struct session_table *t;
	struct tcp_stack *st;
	struct seg_out out[MAX_OUT];
	int nout;
	uint8_t app[4], dst[4];
	uint32_t seq;	/* the app's next */
	uint32_t iss;	/* ours, from the SYN-ACK */
	int peer;	/* the proxy's end */
	uint16_t sport; /* the app's port: APP_PORT if 0 */
	uint32_t max_pending;
};

static struct fix *F;

/* What engine_idle does after each batch. */
static void idle(struct loop *l, void *arg)
{
	struct fix *f = arg;

	(void)l;
	session_flush_pending(f->t);
	tcp_flush(f->st);
	session_reap(f->t);
	tcp_flush(f->st);
}

static void output(void *ctx, const struct iovec *iov, int iovcnt, const struct tcp_out *o)
{
	struct fix *f = ctx;

	assert_true(f->nout < MAX_OUT);
	assert_int_equal(seg_capture(&f->out[f->nout++], iov, iovcnt, o), 0);
}

static int setup_type_pending(void **state, enum proxy_type type, uint32_t max_pending)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct tcp_cfg tc = { .mtu = 1500, .buf_size = 65536 };
	struct session_cfg sc = { 0 };

	assert_non_null(f);
	f->max_pending = max_pending;
	assert_int_equal(loop_init(&f->loop), 0);
	assert_int_equal(fake_proxy_start(&f->fp, type), 0);
	sc.upstream = &f->fp.up;
	sc.max_pending = f->max_pending;
	f->t = session_table_new(&f->loop, &sc, output, f);
	assert_non_null(f->t);
	f->st = tcp_stack_new(&f->loop, &tc, &session_tcp_ops, f->t);
	assert_non_null(f->st);
	f->loop.idle = idle;
	f->loop.idle_arg = f;
	inet_pton(AF_INET, "198.18.0.1", f->app);
	inet_pton(AF_INET, "192.0.2.7", f->dst);
	f->seq = 1000;
	f->peer = -1;
	F = f;
	*state = f;
	return 0;
}

static int setup_type(void **state, enum proxy_type type)
{
	return setup_type_pending(state, type, 0);
}

static int setup_socks5(void **state)
{
	return setup_type(state, PROXY_SOCKS5);
}

/* A handshake window of one: a second flow must wait for the first's tunnel. */
static int setup_socks5_one(void **state)
{
	return setup_type_pending(state, PROXY_SOCKS5, 1);
}

static int setup_http(void **state)
{
	return setup_type(state, PROXY_HTTP);
}

static int teardown(void **state)
{
	struct fix *f = *state;

	session_table_free(f->t);
	tcp_stack_free(f->st);
	if (f->peer >= 0)
		close(f->peer);
	fake_proxy_stop(&f->fp);
	loop_fini(&f->loop);
	free(f);
	return 0;
}

/* One segment from the app to 192.0.2.7:443, then the batch's flush. */
static void app_seg(struct fix *f, uint8_t flags, const void *data, size_t len)
{
	static const uint8_t syn_opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 }; /* MSS 1460, WS 7 */
	struct seg_spec s = {
		.family = AF_INET,
		.src = f->app,
		.dst = f->dst,
		.sport = f->sport ? f->sport : APP_PORT,
		.dport = 443,
		.seq = f->seq,
		.ack = (flags & TCP_SYN) ? 0 : f->iss + 1,
		.flags = flags,
		.wnd = 65535,
		.opt = (flags & TCP_SYN) ? syn_opts : NULL,
		.optlen = (flags & TCP_SYN) ? sizeof(syn_opts) : 0,
		.data = data,
		.len = len,
	};
	uint8_t pkt[2048];
	struct ip_view v;
	size_t n = seg_build(pkt, sizeof(pkt), &s);

	assert_true(n > 0);
	assert_int_equal(ip_parse(pkt, n, &v), 0);
	tcp_input(f->st, &v);
	f->seq += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1 : 0);
	idle(&f->loop, f);
}

/* Flags of everything sent to the app since the last call, ORed; payload into buf. */
static uint8_t to_app(struct fix *f, uint8_t *buf, size_t *len)
{
	uint8_t fl = 0;
	int i;

	if (len)
		*len = 0;
	for (i = 0; i < f->nout; i++) {
		const struct tcp_seg *s = &f->out[i].seg;

		fl |= s->flags;
		if ((s->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
			f->iss = s->seq;
		if (len && s->len) {
			memcpy(buf + *len, s->data, s->len);
			*len += s->len;
		}
	}
	f->nout = 0;
	return fl;
}

/* Pumps until pred(f) or about 2 s. */
static void wait_for(struct fix *f, bool (*pred)(struct fix *))
{
	int i;

	for (i = 0; i < 400 && !pred(f); i++)
		loop_pump(&f->loop, 5);
}

static bool sent_something(struct fix *f)
{
	return f->nout > 0;
}

/* Collects payload sent to the app until want bytes came (or about 2 s): their count. */
static size_t app_receive(struct fix *f, uint8_t *buf, size_t want)
{
	size_t len = 0, n;
	int i;

	for (i = 0; i < 400 && len < want; i++) {
		loop_pump(&f->loop, 5);
		to_app(f, buf + len, &n);
		len += n;
	}
	return len;
}

static const char *phase(struct fix *f)
{
	const struct session *s = session_next(f->t, NULL);
	struct ctl_conn c;

	if (!s)
		return "none";
	session_info(s, f->loop.now, &c);
	return c.phase;
}

/* Some live session is in this phase. */
static bool has_phase(struct fix *f, const char *want)
{
	const struct session *s = NULL;
	struct ctl_conn c;

	while ((s = session_next(f->t, s))) {
		session_info(s, f->loop.now, &c);
		if (!strcmp(c.phase, want))
			return true;
	}
	return false;
}

/* The app's SYN: a session, the proxy's connection accepted; no SYN-ACK yet. */
static void syn(struct fix *f)
{
	app_seg(f, TCP_SYN, NULL, 0);
	assert_int_equal(to_app(f, NULL, NULL), 0); /* held back until the tunnel is up */
	assert_int_equal(session_count(f->t), 1);
	assert_string_equal(phase(f), "connecting");
	f->peer = fake_proxy_accept(&f->fp, &f->loop, 2000);
	assert_true(f->peer >= 0);
}

#define GREET  "\x05\x01\x00"
#define CONN4  "\x05\x01\x00\x01\xc0\x00\x02\x07\x01\xbb"
#define M_NONE "\x05\x00"
#define REP4   "\x05\x00\x00\x01\x0a\x00\x00\x01\x30\x39"
#define HTTP_REQ                             \
	"CONNECT 192.0.2.7:443 HTTP/1.1\r\n" \
	"Host: 192.0.2.7:443\r\n\r\n"

/* SYN-ACK once the tunnel is up; the app's ACK makes it ESTABLISHED. */
static void established(struct fix *f, const char *first, size_t first_len)
{
	uint8_t buf[256];
	size_t len;

	wait_for(f, sent_something);
	assert_int_equal(to_app(f, buf, &len) & (TCP_SYN | TCP_ACK | TCP_RST), TCP_SYN | TCP_ACK);
	app_seg(f, TCP_ACK, NULL, 0);
	assert_string_equal(phase(f), "relay");
	if (first_len) { /* the far end's first bytes, right after the SYN-ACK */
		if (len < first_len)
			len += app_receive(f, buf + len, first_len - len);
		assert_int_equal(len, first_len);
		assert_memory_equal(buf, first, first_len);
	}
}

/* Bytes both ways and half-close both ways, once the tunnel is up. */
static void relay(struct fix *f)
{
	uint8_t buf[256];
	size_t len = 0;
	uint8_t fl;

	app_seg(f, TCP_ACK | TCP_PSH, LIT("hello"));
	assert_true(fake_expect(&f->loop, f->peer, LIT("hello"), 2000));
	assert_true(fake_send(f->peer, LIT("world")));
	len = app_receive(f, buf, 5);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "world", 5);
	/* The app's FIN: the proxy side gets EOF; the proxy's: our FIN. */
	app_seg(f, TCP_ACK | TCP_FIN, NULL, 0);
	assert_int_equal(fake_read(&f->loop, f->peer, buf, sizeof(buf), 2000), 0);
	shutdown(f->peer, SHUT_WR);
	for (fl = 0, len = 0; len < 400 && !(fl & (TCP_FIN | TCP_RST)); len++) {
		loop_pump(&f->loop, 5);
		fl |= to_app(f, NULL, NULL);
	}
	assert_true(fl & TCP_FIN);
	assert_false(fl & TCP_RST);
	assert_int_equal(session_table_stats(f->t)->total, 1);
	assert_int_equal(session_table_stats(f->t)->failed, 0);
}

static void test_socks5(void **state)
{
	struct fix *f = *state;

	syn(f);
	assert_true(fake_expect(&f->loop, f->peer, LIT(GREET), 2000));
	assert_string_equal(phase(f), "handshake");
	assert_true(fake_send(f->peer, LIT(M_NONE)));
	assert_true(fake_expect(&f->loop, f->peer, LIT(CONN4), 2000));
	loop_pump(&f->loop, 10);
	assert_int_equal(to_app(f, NULL, NULL), 0); /* no reply yet: no SYN-ACK */
	assert_true(fake_send(f->peer, LIT(REP4)));
	established(f, NULL, 0);
	relay(f);
}

/* The proxy answers ahead: method, reply and the far end's first bytes in one write. */
static void test_socks5_early(void **state)
{
	struct fix *f = *state;

	syn(f);
	assert_true(fake_expect(&f->loop, f->peer, LIT(GREET), 2000));
	assert_true(fake_send(f->peer, LIT(M_NONE REP4 "SSH-2.0")));
	established(f, LIT("SSH-2.0"));
	/* our CONNECT went out all the same, before anything of the app's */
	app_seg(f, TCP_ACK | TCP_PSH, LIT("app"));
	assert_true(fake_expect(&f->loop, f->peer, LIT(CONN4 "app"), 2000));
}

static void test_http(void **state)
{
	struct fix *f = *state;

	syn(f);
	assert_true(fake_expect(&f->loop, f->peer, LIT(HTTP_REQ), 2000));
	assert_true(fake_send(f->peer, LIT("HTTP/1.1 200 Connection established\r\n\r\n")));
	established(f, NULL, 0);
	relay(f);
}

/* The 200 and the far end's first bytes in one segment. */
static void test_http_early(void **state)
{
	struct fix *f = *state;

	syn(f);
	assert_true(fake_expect(&f->loop, f->peer, LIT(HTTP_REQ), 2000));
	assert_true(fake_send(f->peer, LIT("HTTP/1.0 200 OK\r\nVia: x\r\n\r\n220 smtp")));
	established(f, LIT("220 smtp"));
}

/* A refused tunnel resets the app's connection attempt. */
static void refused(struct fix *f)
{
	wait_for(f, sent_something);
	assert_true(to_app(f, NULL, NULL) & TCP_RST);
	assert_int_equal(session_count(f->t), 0);
	assert_int_equal(session_table_stats(f->t)->failed, 1);
}

static void test_socks5_refused(void **state)
{
	struct fix *f = *state;

	syn(f);
	assert_true(fake_send(f->peer, LIT(M_NONE "\x05\x05\x00\x01\0\0\0\0\0\0")));
	refused(f);
}

static void test_http_refused(void **state)
{
	struct fix *f = *state;

	syn(f);
	assert_true(fake_send(f->peer, LIT("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")));
	refused(f);
}

/* The proxy says nothing: the handshake timeout (10 s, on the loop's clock) resets. */
static void test_timeout(void **state)
{
	struct fix *f = *state;

	syn(f);
	assert_true(fake_expect(&f->loop, f->peer, LIT(GREET), 2000));
	f->loop.now += UPSTREAM_HS_TIMEOUT_MS - 1;
	loop_pump(&f->loop, 0);
	assert_int_equal(f->nout, 0);
	f->loop.now += 1;
	loop_pump(&f->loop, 0);
	refused(f);
}

/* The proxy goes away mid-handshake (SOCKS5 after the method, HTTP before any reply). */
static void test_socks5_closed(void **state)
{
	struct fix *f = *state;

	syn(f);
	assert_true(fake_send(f->peer, LIT(M_NONE)));
	assert_true(fake_expect(&f->loop, f->peer, LIT(GREET CONN4), 2000));
	close(f->peer);
	f->peer = -1;
	refused(f);
}

static void test_http_closed(void **state)
{
	struct fix *f = *state;

	syn(f);
	assert_true(fake_send(f->peer, LIT("HTTP/1.1 200 OK\r\n"))); /* cut short */
	fake_reset(f->peer);
	f->peer = -1;
	refused(f);
}

/* The app resets an open tunnel: the proxy's side is reset too, the session goes. */
static void test_app_reset(void **state)
{
	struct fix *f = *state;
	uint8_t buf[16];

	syn(f);
	assert_true(fake_send(f->peer, LIT(M_NONE REP4)));
	established(f, NULL, 0);
	assert_true(fake_expect(&f->loop, f->peer, LIT(GREET CONN4), 2000));
	app_seg(f, TCP_RST, NULL, 0);
	assert_int_equal(session_count(f->t), 0);
	errno = 0;
	assert_int_equal(fake_read(&f->loop, f->peer, buf, sizeof(buf), 2000), -1);
	assert_int_equal(errno, ECONNRESET);
}

/*
 * Past the handshake window a flow waits in SYN-PENDING: no proxy
 * connect, no answer to its SYN or to its resent SYN (no RST either), its
 * status phase "waiting"; once the first flow's handshake is answered it
 * starts, and gets its SYN-ACK when its own tunnel is up.
 */
static void test_waits_for_window(void **state)
{
	struct fix *f = *state;
	struct ctl_window w;
	uint32_t seq2 = 5000;
	int peer2, i;
	bool synack2 = false;

	syn(f); /* flow 1, APP_PORT: in the window */
	f->sport = APP_PORT + 1;
	f->seq = seq2;
	app_seg(f, TCP_SYN, NULL, 0);
	assert_int_equal(to_app(f, NULL, NULL), 0);
	assert_int_equal(session_count(f->t), 2);
	session_window_get(f->t, &w);
	assert_int_equal(w.size, 1);
	assert_int_equal(w.in_flight, 1);
	assert_int_equal(w.waiting, 1);
	assert_int_equal(session_table_stats(f->t)->held, 1);
	assert_true(has_phase(f, "waiting"));
	/* its app resends the SYN: absorbed, still unanswered, no new flow */
	f->seq = seq2;
	app_seg(f, TCP_SYN, NULL, 0);
	assert_int_equal(to_app(f, NULL, NULL), 0);
	assert_int_equal(session_count(f->t), 2);
	/* no connect for it yet */
	assert_true(fake_proxy_accept(&f->fp, &f->loop, 100) < 0);
	/* flow 1's tunnel is up: its place goes to flow 2 */
	f->sport = APP_PORT;
	f->seq = 1001;
	assert_true(fake_send(f->peer, LIT(M_NONE REP4)));
	wait_for(f, sent_something);
	assert_int_equal(to_app(f, NULL, NULL) & (TCP_SYN | TCP_ACK | TCP_RST), TCP_SYN | TCP_ACK);
	app_seg(f, TCP_ACK, NULL, 0);
	assert_true(has_phase(f, "relay"));
	assert_true(fake_expect(&f->loop, f->peer, LIT(GREET CONN4), 2000));
	peer2 = fake_proxy_accept(&f->fp, &f->loop, 2000);
	assert_true(peer2 >= 0);
	session_window_get(f->t, &w);
	assert_int_equal(w.waiting, 0);
	assert_int_equal(w.in_flight, 1);
	assert_true(fake_send(peer2, LIT(M_NONE REP4)));
	for (i = 0; i < 400 && !synack2; i++) {
		int k;

		loop_pump(&f->loop, 5);
		for (k = 0; k < f->nout; k++) {
			const struct tcp_seg *sg = &f->out[k].seg;

			assert_false(sg->flags & TCP_RST);
			if (sg->dport == APP_PORT + 1 &&
			    (sg->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
				synack2 = true;
		}
		f->nout = 0;
	}
	assert_true(synack2);
	session_window_get(f->t, &w);
	assert_int_equal(w.in_flight, 0);
	assert_int_equal(w.losses, 0);
	assert_int_equal(session_table_stats(f->t)->total, 2);
	close(peer2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socks5, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_socks5_early, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_http, setup_http, teardown),
		cmocka_unit_test_setup_teardown(test_http_early, setup_http, teardown),
		cmocka_unit_test_setup_teardown(test_socks5_refused, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_http_refused, setup_http, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_socks5_closed, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_http_closed, setup_http, teardown),
		cmocka_unit_test_setup_teardown(test_app_reset, setup_socks5, teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_window, setup_socks5_one, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
