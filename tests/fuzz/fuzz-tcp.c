// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer sequence target for the TCP stack (testplan B2): the input is a
 * list of records, each [op][len: 2 bytes, big-endian][len bytes of payload],
 * driving packets in, a virtual clock, a mock session (helpers/mock-tcp.h)
 * and flushes, segments built by helpers/segment.h. Whatever
 * the order, nothing may crash, every packet we emit must parse with our own
 * parsers and carry a correct checksum, the mock session must only ever be
 * called the way tcp.h promises (on_close once, no callback after it or
 * after detach), every conn a session holds must keep snd_una <= snd_nxt <=
 * snd_max within tx and must have a timer or a segment out whenever it has
 * something to send, and once everything is detached and the stack freed,
 * no timer may be left armed and LeakSanitizer must find nothing.
 *
 *   op 0  payload is one IP packet, fed through ip_parse to tcp_input as is
 *   op 1  advance loop.now: ms = be16(payload[0..1]) * (payload[2] % 16 + 1)
 *         (one byte: that many ms; empty: 1000), then loop_run_timers
 *   op 2  session action on an attached conn: payload[0] % 8 = accept,
 *         reject, abort, shutdown, write N into tx + tcp_kick, rx consume N,
 *         detach, abort from inside its next callback; payload[1] picks the
 *         conn (0 = most recent), be16(payload[2..3]) = N
 *   op 3  tcp_flush
 *   op 4  a well-formed segment on one of 8 flows, with sequence and ack
 *         numbers relative to the live conn (see segment() below)
 *   op 5  config: payload[0] bits 0-1 buffer size, 2-3 MTU (both only
 *         before the stack exists, i.e. before the first op 0-4), bit 4
 *         detach inside on_close, bit 5 refuse new flows, bit 6 tcp_shutdown
 *         inside on_fin, bit 7 consume all rx inside on_data (these are what
 *         session.c does); be32(payload[1..4]) = the next ISS; payload[5]
 *         bit 0 offload (partial checksums, GSO: only before the stack exists)
 *   other op values wrap around (op % 6).
 *
 * The ISS comes from getrandom(), which is replaced here so runs are
 * reproducible: the k-th flow of an input gets ISS base + k * 0x10000, base
 * 0xfffffc00 by default (sequence numbers wrap after 1 KiB). Set
 * FUZZ_TCP_VERBOSE=1 to print what each op does.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static ssize_t fuzz_getrandom(void *buf, size_t len, unsigned int flags);
#define getrandom fuzz_getrandom

#include "../../src/codec/ip.c"
#include "../../src/lib/log.c"
#include "../../src/engine/ring.c"
#include "../../src/lib/loop.c"
#include "../../src/engine/tcp.c"

#undef getrandom

/* The session side and the segments, as the unit tests have them. */
#include "../unit/helpers/mock-tcp.c"
#include "../unit/helpers/segment.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

enum {
	OP_PACKET,
	OP_CLOCK,
	OP_SESSION,
	OP_FLUSH,
	OP_SEGMENT,
	OP_CONFIG,
	OP_COUNT,
	NFLOWS = 8,
	MAX_DATA = 4096,
	ISS_STEP = 0x10000,
};

#define ISS_DEFAULT 0xfffffc00u

/* op 5 payload[0]'s bits 4-7: what the mock session does inside callbacks. */
enum {
	CFG_DETACH_ON_CLOSE = 1 << 4,
	CFG_REFUSE = 1 << 5,
	CFG_SHUT_ON_FIN = 1 << 6,
	CFG_CONSUME_ON_DATA = 1 << 7,
};

static struct {
	struct loop loop;
	struct tcp_stack *st;
	struct tcp_cfg cfg;
	struct mock_tcp m; /* the session side (helpers/mock-tcp.h checks tcp.h's promises) */
	uint32_t iss_next;
	bool verbose;
} F;

static const size_t buf_sizes[4] = { 4096, 1024, 65536, 256 * 1024 };
static const uint32_t mtus[4] = { 1500, 576, 1280, 9000 };

static ssize_t fuzz_getrandom(void *buf, size_t len, unsigned int flags)
{
	(void)flags;
	if (len == sizeof(uint32_t)) {
		memcpy(buf, &F.iss_next, sizeof(uint32_t));
		F.iss_next += ISS_STEP;
	} else {
		memset(buf, 0x5a, len);
	}
	return (ssize_t)len;
}

#define LOG(...)                                      \
	do {                                          \
		if (F.verbose)                        \
			fprintf(stderr, __VA_ARGS__); \
	} while (0)

/* ---- invariants ---- */

static uint16_t ref_sum(const uint8_t *p, size_t len, uint32_t s)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void bug(const char *what)
{
	fprintf(stderr, "fuzz-tcp: BUG: %s\n", what);
	abort();
}

/* Everything the stack writes to the TUN must be a packet a kernel accepts. */
static void cb_output(void *ctx, const struct iovec *iov, int iovcnt, const struct tcp_out *o)
{
	static uint8_t pkt[70000];
	uint8_t ph[40];
	struct ip_view v;
	struct tcp_seg s;
	size_t n = 0, pl;
	int i;

	(void)ctx;
	if (iovcnt < 1 || iovcnt > 3)
		bug("output: iovec count");
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > sizeof(pkt) - n)
			bug("output: packet too long");
		memcpy(pkt + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	if (ip_parse(pkt, n, &v) != 0)
		bug("output: our own packet fails ip_parse");
	if (v.proto != IPPROTO_TCP || v.l4 + v.l4_len != pkt + n)
		bug("output: not TCP, or length fields disagree with the packet");
	if (tcp_parse(&v, &s) != 0)
		bug("output: our own segment fails tcp_parse");
	/* FUZZING compiles the checksum check out of tcp_parse: do it here. */
	if (v.family == AF_INET) {
		memcpy(ph, v.src, 4);
		memcpy(ph + 4, v.dst, 4);
		ph[8] = 0;
		ph[9] = IPPROTO_TCP;
		store_be16(ph + 10, (uint16_t)v.l4_len);
		pl = 12;
		if (pkt[8] != 64 || !(pkt[6] & 0x40))
			bug("output: IPv4 TTL or DF");
	} else {
		memcpy(ph, v.src, 16);
		memcpy(ph + 16, v.dst, 16);
		store_be32(ph + 32, (uint32_t)v.l4_len);
		ph[36] = ph[37] = ph[38] = 0;
		ph[39] = IPPROTO_TCP;
		pl = 40;
	}
	if ((o != NULL) != F.cfg.offload)
		bug("output: offload description without offload, or none with it");
	if (o) {
		/* The kernel completes the checksum: the field holds the pseudo-header sum. */
		uint16_t c;

		if (o->l3_len != (size_t)(v.l4 - pkt) ||
		    o->hdr_len != o->l3_len + (pkt[o->l3_len + 12] >> 4) * 4)
			bug("output: offload header lengths disagree with the packet");
		if (ref_sum(ph, pl, 0) !=
		    (uint16_t)((pkt[o->l3_len + 16] << 8) | pkt[o->l3_len + 17]))
			bug("output: partial checksum is not the pseudo-header sum");
		pkt[o->l3_len + 16] = pkt[o->l3_len + 17] = 0;
		c = (uint16_t)~ref_sum(v.l4, v.l4_len, ref_sum(ph, pl, 0));
		store_be16(pkt + o->l3_len + 16, c);
		if (o->gso_size &&
		    (n - o->hdr_len <= o->gso_size || o->hdr_len + o->gso_size > F.cfg.mtu))
			bug("output: GSO packet not larger than one segment, or segments past the MTU");
		if (!o->gso_size && F.st && n > F.cfg.mtu)
			bug("output: packet larger than the MTU");
	} else if (F.st && n > F.cfg.mtu) {
		bug("output: packet larger than the MTU");
	}
	if (ref_sum(v.l4, v.l4_len, ref_sum(ph, pl, 0)) != 0xffff)
		bug("output: bad TCP checksum");
	if ((s.flags & TCP_RST) && (s.flags & (TCP_SYN | TCP_FIN)))
		bug("output: RST with SYN or FIN");
	if ((s.flags & TCP_SYN) && s.len)
		bug("output: data on a SYN");
	LOG("  out %s flags %02x seq %u ack %u wnd %u len %zu\n", v.family == AF_INET ? "v4" : "v6",
	    s.flags, s.seq, s.ack, s.wnd, s.len);
}

/* What must hold of every conn a session still holds, between ops. */
static void check_conns(void)
{
	int i;

	for (i = 0; i < MOCK_SESS_MAX; i++) {
		const struct mock_sess *m = &F.m.s[i];
		const struct tcp_conn *c = m->c;
		int32_t d;

		if (!m->used)
			continue;
		if (c->user != m)
			bug("attached conn lost its user");
		if (c->flags & TF_DEAD)
			bug("attached conn is on the dead list");
		if (c->rx.len > c->rx.cap || c->tx.len > c->tx.cap)
			bug("ring holds more than its capacity");
		if (c->mss < 64 || c->mss > F.cfg.mtu - TCP_HDR_LEN - IP4_HDR_LEN)
			bug("mss out of range");
		if (c->state == TCPS_SYN_PENDING)
			continue;
		if (SEQ_GT(c->snd_una, c->snd_nxt) || SEQ_GT(c->snd_nxt, c->snd_max))
			bug("snd_una <= snd_nxt <= snd_max violated");
		/* Nothing sent that is not (or no longer) in tx, FIN counting one. */
		d = (int32_t)(c->snd_max - c->tx_seq);
		if (d < -1 || d > (int64_t)c->tx.len + 1)
			bug("snd_max beyond the end of tx (+FIN)");
		d = (int32_t)(c->snd_una - c->tx_seq);
		if (d < -1 || d > 1)
			bug("snd_una and tx_seq disagree");
		/* Liveness: something must wake a conn that has work to do. */
		if (c->state == TCPS_CLOSED || c->state == TCPS_TIME_WAIT ||
		    c->state == TCPS_FIN_WAIT_2)
			continue;
		if (c->snd_max != c->snd_una && !timer_armed(&c->timer))
			bug("unacked data in flight and no retransmission timer");
		if ((c->flags & TF_PENDING) || c->state == TCPS_SYN_RCVD ||
		    c->tx.len <= c->snd_nxt - c->tx_seq)
			continue;
		if (!c->snd_wnd && !timer_armed(&c->timer))
			bug("zero window, data waiting, no persist timer");
		if (c->snd_wnd && c->snd_max == c->snd_una)
			bug("window open, data waiting, nothing in flight, nothing sent");
	}
}

/* ---- ops ---- */

static void session_op(const uint8_t *p, size_t len)
{
	struct mock_sess *m = mock_recent(&F.m, len > 1 ? p[1] : 0);
	size_t n = len > 3 ? load_be16(p + 2) : 1000;
	struct tcp_conn *c;

	if (!m || !len)
		return;
	c = m->c;
	LOG("session %d (conn %u, %s): action %u n %zu\n", (int)(m - F.m.s), c->id,
	    tcp_state_name(c->state), p[0] % 8, n);
	switch (p[0] % 8) {
	case 0:
		if (!m->accepted && !m->closes)
			mock_accept(m);
		break;
	case 1:
		/* The tunnel failed: only before it was up. */
		if (!m->accepted && !m->closes)
			mock_reject(m);
		break;
	case 2:
		mock_abort(m);
		break;
	case 3:
		if (m->accepted && !m->shut) {
			m->shut = true;
			tcp_shutdown(c);
		}
		break;
	case 4:
		/* Proxy bytes into tx the way session.c's fill_tx does it. */
		if (m->accepted && !m->shut) {
			struct iovec iov[2];
			int cnt = ring_reserve(&c->tx, iov), k;
			size_t done = 0;

			if (cnt < 0)
				bug("ring_reserve failed");
			for (k = 0; k < cnt && done < n; k++) {
				size_t take = iov[k].iov_len < n - done ? iov[k].iov_len : n - done;

				memset(iov[k].iov_base, 'A' + (int)(done % 26), take);
				done += take;
			}
			ring_commit(&c->tx, done);
			tcp_kick(c);
		}
		break;
	case 5:
		tcp_rx_consume(c, n < c->rx.len ? n : c->rx.len);
		break;
	case 6:
		mock_detach(m);
		break;
	case 7:
		m->abort_next = true;
		break;
	}
}

static const uint8_t app4[4] = { 198, 18, 0, 1 }, srv4[4] = { 203, 0, 113, 7 };
static const uint8_t app6[16] = { 0xfd, 0x70, 0x76, 0x78, [15] = 1 };
static const uint8_t srv6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };

/*
 * op 4 payload:
 *   [0] flow: bit 2 IPv6, bits 0-1 pick the app's port (40000 + n)
 *   [1] TCP flags (all 8 bits)
 *   [2] bits 0-1 seq: rcv_nxt (or the flow's fixed ISN if no conn), + d1, - d1, = d1
 *       bits 2-4 ack: snd_nxt, snd_una, snd_max, snd_una + d2, snd_nxt - d2,
 *                     iss + 1, 0, = d2 << 16 | d1
 *       bits 5-6 options: none; MSS + SACK-permitted + timestamps + WS;
 *                 timestamps (old TSval when d2 is odd) + two SACK blocks
 *                 relative to snd_una/snd_max; raw bytes from the payload
 *       bit 7 data from the payload instead of a pattern
 *   [3..4] d1, [5..6] d2, [7..8] window, [9..10] data length (pattern)
 *   [11..] raw options ([11] = their length) and/or data
 */
static uint32_t ts_clock; /* the app's timestamp clock, per input */

static void segment(const uint8_t *p, size_t len)
{
	static uint8_t pkt[IP_MAX_HDR + TCP_HDR_LEN + TCP_MAX_OPT + MAX_DATA], data[MAX_DATA];
	uint8_t in[11] = { 0 }, opt[TCP_MAX_OPT];
	const uint8_t *rest = len > 11 ? p + 11 : NULL;
	size_t restlen = len > 11 ? len - 11 : 0, optlen = 0, dlen, n, i;
	struct ip_view v;
	struct tcp_seg key;
	struct tcp_conn *c;
	uint32_t seq, ack, d1, d2;
	int fam;

	memcpy(in, p, len < sizeof(in) ? len : sizeof(in));
	fam = in[0] & 4 ? AF_INET6 : AF_INET;
	memset(&v, 0, sizeof(v));
	v.family = fam;
	memcpy(v.src, fam == AF_INET ? app4 : app6, ip_addr_len(fam));
	memcpy(v.dst, fam == AF_INET ? srv4 : srv6, ip_addr_len(fam));
	memset(&key, 0, sizeof(key));
	key.sport = (uint16_t)(40000 + (in[0] & 3));
	key.dport = 80;
	c = flow_find(F.st, &v, &key);
	d1 = load_be16(in + 3);
	d2 = load_be16(in + 5);

	seq = c ? c->rcv_nxt : 0xfffff000u + (uint32_t)(in[0] & 7) * 0x100;
	switch (in[2] & 3) {
	case 1:
		seq += d1;
		break;
	case 2:
		seq -= d1;
		break;
	case 3:
		seq = d1;
		break;
	}
	switch ((in[2] >> 2) & 7) {
	case 0:
		ack = c ? c->snd_nxt : 0;
		break;
	case 1:
		ack = c ? c->snd_una : 0;
		break;
	case 2:
		ack = c ? c->snd_max : 0;
		break;
	case 3:
		ack = (c ? c->snd_una : 0) + d2;
		break;
	case 4:
		ack = (c ? c->snd_nxt : 0) - d2;
		break;
	case 5:
		ack = c ? c->iss + 1 : 0;
		break;
	case 6:
		ack = 0;
		break;
	default:
		ack = d2 << 16 | d1;
		break;
	}
	ts_clock += 1 + (d1 & 3);
	switch ((in[2] >> 5) & 3) {
	case 1:
		/* A SYN's options: MSS, SACK-permitted, timestamps, window scale. */
		opt[0] = 2;
		opt[1] = 4;
		store_be16(opt + 2, (uint16_t)(d2 ? d2 : 1460));
		opt[4] = 4;
		opt[5] = 2;
		opt[6] = 8;
		opt[7] = 10;
		store_be32(opt + 8, ts_clock);
		store_be32(opt + 12, 0);
		opt[16] = 1;
		opt[17] = 3;
		opt[18] = 3;
		opt[19] = (uint8_t)(d1 & 0x0f);
		optlen = 20;
		break;
	case 2:
		/*
		 * Timestamps (an old TSval when d2 is odd: PAWS) and two SACK
		 * blocks relative to the live conn's send space.
		 */
		opt[0] = 1;
		opt[1] = 1;
		opt[2] = 8;
		opt[3] = 10;
		store_be32(opt + 4, (d2 & 1) ? ts_clock - 100000 : ts_clock);
		store_be32(opt + 8, c ? (uint32_t)F.loop.now + c->ts_off - (d1 & 0xff) : 0);
		opt[12] = 1;
		opt[13] = 1;
		opt[14] = 5;
		opt[15] = 18;
		{
			uint32_t una = c ? c->snd_una : 0, max = c ? c->snd_max : 0;

			store_be32(opt + 16, una + d1);
			store_be32(opt + 20, una + d1 + d2);
			store_be32(opt + 24, una + (d2 & 0xfff));
			store_be32(opt + 28, max);
		}
		optlen = 32;
		break;
	case 3:
		if (restlen) {
			optlen = rest[0] % (TCP_MAX_OPT + 1);
			rest++;
			restlen--;
			if (optlen > restlen)
				optlen = restlen;
			memcpy(opt, rest, optlen);
			rest += optlen;
			restlen -= optlen;
			while (optlen % 4)
				opt[optlen++] = 0;
		}
		break;
	}
	if (in[2] & 0x80) {
		dlen = restlen < MAX_DATA ? restlen : MAX_DATA;
	} else {
		dlen = load_be16(in + 9);
		if (dlen > MAX_DATA)
			dlen = MAX_DATA;
		rest = NULL;
	}

	if (!rest)
		for (i = 0; i < dlen; i++)
			data[i] = (uint8_t)('a' + i % 26);
	n = seg_build(pkt, sizeof(pkt),
		      &(struct seg_spec){ .family = fam,
					  .src = fam == AF_INET ? app4 : app6,
					  .dst = fam == AF_INET ? srv4 : srv6,
					  .sport = key.sport,
					  .dport = key.dport,
					  .seq = seq,
					  .ack = ack,
					  .flags = in[1],
					  .wnd = load_be16(in + 7),
					  .opt = opt,
					  .optlen = optlen,
					  .data = rest ? rest : data,
					  .len = dlen });
	LOG("segment flow %u flags %02x seq %u ack %u wnd %u opt %zu len %zu%s\n", in[0] & 7, in[1],
	    seq, ack, load_be16(in + 7), optlen, dlen, c ? "" : " (no conn)");
	if (!n || ip_parse(pkt, n, &v) != 0)
		bug("segment builder made a packet ip_parse rejects");
	tcp_input(F.st, &v);
}

static void start_stack(void)
{
	if (F.st)
		return;
	F.m.output = cb_output;
	F.m.verbose = F.verbose;
	F.st = tcp_stack_new(&F.loop, &F.cfg, &mock_tcp_ops, &F.m);
	if (!F.st)
		bug("tcp_stack_new failed");
}

static void config(const uint8_t *p, size_t len)
{
	if (!len)
		return;
	F.m.flags = (p[0] & CFG_DETACH_ON_CLOSE ? MOCK_DETACH_ON_CLOSE : 0) |
		    (p[0] & CFG_REFUSE ? MOCK_REFUSE : 0) |
		    (p[0] & CFG_SHUT_ON_FIN ? MOCK_SHUT_ON_FIN : 0) |
		    (p[0] & CFG_CONSUME_ON_DATA ? MOCK_CONSUME_ON_DATA : 0);
	if (!F.st) {
		F.cfg.buf_size = buf_sizes[p[0] & 3];
		F.cfg.mtu = mtus[(p[0] >> 2) & 3];
	}
	if (len >= 5)
		F.iss_next = load_be32(p + 1);
	if (len >= 6 && !F.st)
		F.cfg.offload = p[5] & 1;
	LOG("config %02x buf %zu mtu %u iss %08x\n", p[0], F.cfg.buf_size, F.cfg.mtu, F.iss_next);
}

static void clock_op(const uint8_t *p, size_t len)
{
	uint64_t ms = 1000;

	if (len == 1)
		ms = p[0];
	else if (len >= 2)
		ms = (uint64_t)load_be16(p) * (len >= 3 ? p[2] % 16 + 1 : 1);
	F.loop.now += ms;
	LOG("clock +%llu ms\n", (unsigned long long)ms);
	loop_run_timers(&F.loop);
}

static void packet_op(const uint8_t *p, size_t len)
{
	struct ip_view v;
	int r = ip_parse(p, len, &v);

	LOG("packet len %zu: ip_parse %d proto %u\n", len, r, r ? 0 : v.proto);
	if (r == 0 && v.proto == IPPROTO_TCP)
		tcp_input(F.st, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const uint8_t *end = data + len;

	memset(&F, 0, sizeof(F));
	ts_clock = 0;
	F.verbose = getenv("FUZZ_TCP_VERBOSE") != NULL;
	F.iss_next = ISS_DEFAULT;
	F.cfg.mtu = mtus[0];
	F.cfg.buf_size = buf_sizes[0];
	if (loop_init(&F.loop) < 0)
		bug("loop_init failed");
	F.loop.now = 1000;

	while (end - data >= 3) {
		unsigned op = data[0] % OP_COUNT;
		size_t n = load_be16(data + 1);
		const uint8_t *p = data + 3;

		if (n > (size_t)(end - p))
			n = (size_t)(end - p);
		data = p + n;
		if (op != OP_CONFIG)
			start_stack();
		switch (op) {
		case OP_PACKET:
			packet_op(p, n);
			break;
		case OP_CLOCK:
			clock_op(p, n);
			break;
		case OP_SESSION:
			session_op(p, n);
			break;
		case OP_FLUSH:
			LOG("flush\n");
			tcp_flush(F.st);
			break;
		case OP_SEGMENT:
			segment(p, n);
			break;
		case OP_CONFIG:
			config(p, n);
			break;
		}
		check_conns();
	}

	/* Teardown in the order the engine does it: sessions let go, then the stack. */
	LOG("teardown\n");
	mock_detach_all(&F.m);
	if (F.st) {
		tcp_flush(F.st);
		tcp_stack_free(F.st);
	}
	if (F.loop.nheap)
		bug("a timer is still armed after tcp_stack_free (dangling into a freed conn)");
	loop_fini(&F.loop);
	return 0;
}
