// SPDX-License-Identifier: GPL-2.0-only
/*
 * fault.c, the test-only fault injection layer: PROXYVPN_FAULT parsing (every
 * kind of bad input is one line naming the item), seeded determinism, rates
 * within statistical bounds, one flipped bit per corruption, reorder and
 * delay releasing everything in bounded time on a clock we drive by hand,
 * the bounds on held packets, and the layer made from the environment as
 * the engine makes it. The shipping objects
 * hold no fault code, so this test compiles fault.c itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROXYVPN_FAULT 1
#include "../../src/engine/fault.c"

enum { MAX_REC = 300000, PKT_LEN = 64 };

struct rec {
	enum fault_dir d;
	uint32_t id; /* first 4 bytes of the packet */
	uint64_t at; /* loop clock at delivery */
	size_t len;
};

struct fixture {
	struct loop loop;
	struct fault *f;
	struct rec *rec;
	size_t nrec;
	uint8_t last[FAULT_PKT_MAX]; /* the last packet delivered */
	size_t last_len;
};

static void on_deliver(void *ctx, enum fault_dir d, const uint8_t *pkt, size_t len)
{
	struct fixture *fx = ctx;
	uint32_t id = 0;

	if (len >= 4)
		memcpy(&id, pkt, 4);
	assert_true(fx->nrec < MAX_REC);
	fx->rec[fx->nrec++] = (struct rec){ .d = d, .id = id, .at = fx->loop.now, .len = len };
	memcpy(fx->last, pkt, len);
	fx->last_len = len;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->loop.epfd = -1; /* timers only: no epoll needed */
	fx->loop.now = 1000;
	fx->rec = calloc(MAX_REC, sizeof(*fx->rec));
	if (!fx->rec)
		return -1;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fault_free(fx->f);
	assert_int_equal(fx->loop.nheap, 0); /* every timer cancelled */
	loop_fini(&fx->loop);
	free(fx->rec);
	free(fx);
	return 0;
}

static void start(struct fixture *fx, const char *spec)
{
	struct fault_cfg cfg;
	char err[FAULT_ERR_LEN] = "";

	if (fault_parse(spec, &cfg, err, sizeof(err)) != 0)
		fail_msg("fault_parse(\"%s\"): %s", spec, err);
	fx->f = fault_new(&fx->loop, &cfg, on_deliver, fx);
	assert_non_null(fx->f);
}

static void send_pkt(struct fixture *fx, enum fault_dir d, uint32_t id, size_t len)
{
	uint8_t pkt[256];
	struct iovec iov[2];
	size_t i;

	assert_true(len >= 4 && len <= sizeof(pkt));
	memcpy(pkt, &id, 4);
	for (i = 4; i < len; i++)
		pkt[i] = (uint8_t)(id * 31 + i);
	/* Two iovecs, as the stack hands them: header, then payload. */
	iov[0] = (struct iovec){ .iov_base = pkt, .iov_len = len / 2 };
	iov[1] = (struct iovec){ .iov_base = pkt + len / 2, .iov_len = len - len / 2 };
	fault_packet(fx->f, d, iov, 2);
}

static void advance(struct fixture *fx, uint64_t ms)
{
	while (ms--) {
		fx->loop.now++;
		loop_run_timers(&fx->loop);
	}
}

/* ---- parsing ---- */

static struct fault_cfg parse_ok(const char *s)
{
	struct fault_cfg cfg;
	char err[FAULT_ERR_LEN] = "";

	if (fault_parse(s, &cfg, err, sizeof(err)) != 0)
		fail_msg("fault_parse(\"%s\") failed: %s", s, err);
	return cfg;
}

static void parse_bad(const char *s, const char *want)
{
	struct fault_cfg cfg;
	char err[FAULT_ERR_LEN] = "";
	int ret = fault_parse(s, &cfg, err, sizeof(err));

	if (ret != -EINVAL)
		fail_msg("fault_parse(\"%s\") = %d, want -EINVAL", s, ret);
	if (!err[0] || strchr(err, '\n'))
		fail_msg("fault_parse(\"%s\"): error \"%s\" is not one line", s, err);
	if (!strstr(err, want))
		fail_msg("fault_parse(\"%s\"): error \"%s\", want \"%s\"", s, err, want);
}

static void test_parse_good(void **state)
{
	struct fault_cfg c;
	int d;

	(void)state;
	c = parse_ok("");
	assert_int_equal(c.seed, 1);
	for (d = 0; d < FAULT_NDIR; d++) {
		assert_int_equal(c.dir[d].loss, 0);
		assert_int_equal(c.dir[d].corrupt, 0);
		assert_int_equal(c.dir[d].dup, 0);
		assert_int_equal(c.dir[d].reorder, 0);
		assert_int_equal(c.dir[d].delay_ms, 0);
	}

	c = parse_ok("seed=42,loss=1");
	assert_int_equal(c.seed, 42);
	assert_int_equal(c.dir[FAULT_IN].loss, 10000);
	assert_int_equal(c.dir[FAULT_OUT].loss, 10000);

	c = parse_ok("seed=7,in.loss=5,out.loss=2.5,reorder=25,dup=1,corrupt=0.1,delay=20");
	assert_int_equal(c.seed, 7);
	assert_int_equal(c.dir[FAULT_IN].loss, 50000);
	assert_int_equal(c.dir[FAULT_OUT].loss, 25000);
	for (d = 0; d < FAULT_NDIR; d++) {
		assert_int_equal(c.dir[d].reorder, 250000);
		assert_int_equal(c.dir[d].dup, 10000);
		assert_int_equal(c.dir[d].corrupt, 1000);
		assert_int_equal(c.dir[d].delay_ms, 20);
	}

	c = parse_ok("loss=0.0001,out.dup=100,in.delay=10000,out.delay=0,corrupt=100.0000");
	assert_int_equal(c.dir[FAULT_IN].loss, 1);
	assert_int_equal(c.dir[FAULT_IN].dup, 0);
	assert_int_equal(c.dir[FAULT_OUT].dup, FAULT_PPM);
	assert_int_equal(c.dir[FAULT_IN].delay_ms, 10000);
	assert_int_equal(c.dir[FAULT_OUT].delay_ms, 0);
	assert_int_equal(c.dir[FAULT_OUT].corrupt, FAULT_PPM);

	c = parse_ok("seed=18446744073709551615,reorder=0,loss=0.5,dup=12.34");
	assert_true(c.seed == UINT64_MAX);
	assert_int_equal(c.dir[FAULT_OUT].loss, 5000);
	assert_int_equal(c.dir[FAULT_IN].dup, 123400);

	c = parse_ok("seed=0,in.reorder=3,out.reorder=4");
	assert_int_equal(c.seed, 0);
	assert_int_equal(c.dir[FAULT_IN].reorder, 30000);
	assert_int_equal(c.dir[FAULT_OUT].reorder, 40000);
}

static void test_parse_bad(void **state)
{
	(void)state;
	/* shape */
	parse_bad("loss", "expected key=value");
	parse_bad("loss=1,dup", "`dup': expected key=value");
	parse_bad(",loss=1", "empty item");
	parse_bad("loss=1,", "empty item");
	parse_bad("loss=1,,dup=1", "empty item");
	parse_bad(",", "empty item");
	parse_bad("=1", "unknown key");
	parse_bad(" loss=1", "unknown key");
	/* keys */
	parse_bad("drop=1", "`drop=1': unknown key");
	parse_bad("LOSS=1", "unknown key");
	parse_bad("in.seed=1", "unknown key");
	parse_bad("in.=1", "unknown key");
	parse_bad("out.=1", "unknown key");
	parse_bad("in.", "expected key=value");
	parse_bad("up.loss=1", "unknown key");
	parse_bad("in.out.loss=1", "unknown key");
	parse_bad("inloss=1", "unknown key");
	/* percentages */
	parse_bad("loss=", "percentage 0-100");
	parse_bad("loss=abc", "`loss=abc': must be a percentage 0-100");
	parse_bad("loss=-1", "percentage");
	parse_bad("loss=+1", "percentage");
	parse_bad("loss=1e2", "percentage");
	parse_bad("loss=0x10", "percentage");
	parse_bad("loss=101", "percentage");
	parse_bad("loss=1000", "percentage");
	parse_bad("loss=100.0001", "percentage");
	parse_bad("loss=0.00001", "at most 4 decimals");
	parse_bad("loss=1.", "percentage");
	parse_bad("loss=.5", "percentage");
	parse_bad("loss=1.5.5", "percentage");
	parse_bad("loss=1 ", "percentage");
	parse_bad("loss=1%", "percentage");
	parse_bad("loss=1=2", "percentage");
	parse_bad("out.corrupt=nan", "percentage");
	parse_bad("in.reorder=inf", "percentage");
	parse_bad("dup=1,1", "expected key=value");
	/* delay */
	parse_bad("delay=10001", "delay must be 0-10000");
	parse_bad("delay=99999999999999999999999", "delay must be 0-10000");
	parse_bad("delay=1.5", "delay must be");
	parse_bad("delay=-1", "delay must be");
	parse_bad("delay=", "delay must be");
	parse_bad("in.delay=x", "delay must be");
	/* seed */
	parse_bad("seed=", "seed must be");
	parse_bad("seed=x", "seed must be");
	parse_bad("seed=-1", "seed must be");
	parse_bad("seed=0x1", "seed must be");
	parse_bad("seed=18446744073709551616", "seed must be");
	parse_bad("seed=99999999999999999999", "seed must be");
	/* twice */
	parse_bad("seed=1,seed=2", "seed given twice");
	parse_bad("loss=1,loss=2", "`loss=2': set twice");
	parse_bad("loss=1,in.loss=2", "set twice");
	parse_bad("out.delay=1,delay=2", "set twice");
	parse_bad("in.dup=1,in.dup=1", "set twice");
	/* a long item is cut short in the message, which stays one line */
	parse_bad("loss=111111111111111111111111111111111111111111111111111111111111111111111",
		  "...': must be a percentage");
}

static void test_parse_error_leaves_one_line_per_item(void **state)
{
	struct fault_cfg cfg;
	char err[16];

	(void)state;
	/* A short buffer truncates but never overflows. */
	assert_int_equal(fault_parse("loss=abcdef", &cfg, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) < sizeof(err));
}

/* ---- behaviour ---- */

static uint64_t run_digest(const char *spec, uint32_t n)
{
	struct fixture *fx;
	uint64_t h = 0xcbf29ce484222325ULL;
	uint32_t i;
	size_t k;

	assert_int_equal(setup((void **)&fx), 0);
	start(fx, spec);
	for (i = 0; i < n; i++) {
		send_pkt(fx, (enum fault_dir)(i % 3 == 0), i, 16 + i % 200);
		if (i % 7 == 0)
			advance(fx, 1);
	}
	advance(fx, 1000);
	assert_int_equal(fault_held(fx->f), 0);
	for (k = 0; k < fx->nrec; k++) {
		const struct rec *r = &fx->rec[k];

		h = (h ^ r->id ^ ((uint64_t)r->d << 32) ^ (r->at << 40) ^ r->len) *
		    0x100000001b3ULL;
	}
	h ^= fx->nrec;
	teardown((void **)&fx);
	return h;
}

static void test_deterministic(void **state)
{
	const char *a = "seed=7,loss=5,reorder=25,dup=1,corrupt=1,delay=3";
	const char *b = "seed=8,loss=5,reorder=25,dup=1,corrupt=1,delay=3";

	(void)state;
	assert_true(run_digest(a, 20000) == run_digest(a, 20000));
	assert_true(run_digest(a, 20000) != run_digest(b, 20000));
}

/* |got - n p| within 6 standard deviations of a binomial(n, p). */
static void assert_rate(uint64_t got, uint64_t n, double pct, const char *what)
{
	double p = pct / 100, mean = (double)n * p, sd = 0;
	double var = (double)n * p * (1 - p);
	int i;

	/* sqrt without libm: Newton's method converges long before 60 steps */
	if (var > 0) {
		sd = var;
		for (i = 0; i < 60; i++)
			sd = (sd + var / sd) / 2;
	}
	if ((double)got < mean - 6 * sd - 1 || (double)got > mean + 6 * sd + 1)
		fail_msg("%s: %llu of %llu, want %.1f +- %.1f", what, (unsigned long long)got,
			 (unsigned long long)n, mean, 6 * sd);
}

static void test_rates(void **state)
{
	struct fixture *fx = *state;
	const struct fault_counters *in, *out;
	const uint32_t n = 100000;
	uint32_t i;

	start(fx, "seed=3,in.loss=5,out.loss=1,dup=2,corrupt=0.5,in.reorder=10");
	for (i = 0; i < n; i++) {
		send_pkt(fx, FAULT_IN, i, 40);
		send_pkt(fx, FAULT_OUT, i, 40);
	}
	advance(fx, FAULT_REORDER_MS);
	assert_int_equal(fault_held(fx->f), 0);
	in = fault_counters(fx->f, FAULT_IN);
	out = fault_counters(fx->f, FAULT_OUT);
	assert_int_equal(in->pkts, n);
	assert_int_equal(out->pkts, n);
	assert_rate(in->lost, n, 5, "in lost");
	assert_rate(out->lost, n, 1, "out lost");
	assert_rate(in->duplicated, n - in->lost, 2, "in duplicated");
	assert_rate(out->duplicated, n - out->lost, 2, "out duplicated");
	assert_rate(in->corrupted, n - in->lost, 0.5, "in corrupted");
	assert_rate(out->corrupted, n - out->lost, 0.5, "out corrupted");
	assert_rate(in->reordered, n - in->lost + in->duplicated, 10, "in reordered");
	assert_int_equal(out->reordered, 0);
	assert_int_equal(in->delayed, 0);
	assert_int_equal(in->overflow, 0);
	/* every packet not lost arrives, duplicates twice */
	assert_int_equal(in->delivered, n - in->lost + in->duplicated);
	assert_int_equal(out->delivered, n - out->lost + out->duplicated);
	assert_int_equal(fx->nrec, in->delivered + out->delivered);
}

static void test_all_or_nothing(void **state)
{
	struct fixture *fx = *state;
	uint32_t i;

	start(fx, "in.loss=100,out.dup=100");
	for (i = 0; i < 1000; i++) {
		send_pkt(fx, FAULT_IN, i, 20);
		send_pkt(fx, FAULT_OUT, i, 20);
	}
	assert_int_equal(fault_counters(fx->f, FAULT_IN)->lost, 1000);
	assert_int_equal(fault_counters(fx->f, FAULT_IN)->delivered, 0);
	assert_int_equal(fx->nrec, 2000);
	for (i = 0; i < 2000; i++) {
		assert_int_equal(fx->rec[i].d, FAULT_OUT);
		assert_int_equal(fx->rec[i].id, i / 2);
	}
}

static void test_no_faults_passes_through(void **state)
{
	struct fixture *fx = *state;
	uint32_t i;

	start(fx, "seed=9");
	for (i = 0; i < 500; i++) {
		send_pkt(fx, (enum fault_dir)(i & 1), i, 4 + i % 200);
		assert_int_equal(fx->nrec, i + 1); /* synchronously */
		assert_int_equal(fx->rec[i].id, i);
		assert_int_equal(fx->rec[i].len, 4 + i % 200);
	}
	assert_int_equal(fx->loop.nheap, 0);
}

static unsigned int popcount8(uint8_t x)
{
	unsigned int n = 0;

	for (; x; x &= (uint8_t)(x - 1))
		n++;
	return n;
}

static void test_corrupt_flips_one_bit(void **state)
{
	struct fixture *fx = *state;
	unsigned int hit_first = 0, hit_last = 0;
	uint32_t i;

	start(fx, "seed=5,corrupt=100");
	for (i = 0; i < 20000; i++) {
		uint8_t want[256];
		size_t len = 1 + i % 200, k;
		unsigned int bits = 0;
		struct iovec iov = { .iov_base = want, .iov_len = len };

		for (k = 0; k < len; k++)
			want[k] = (uint8_t)(i * 7 + k);
		fault_packet(fx->f, FAULT_OUT, &iov, 1);
		assert_int_equal(fx->last_len, len);
		for (k = 0; k < len; k++) {
			unsigned int b = popcount8((uint8_t)(want[k] ^ fx->last[k]));

			bits += b;
			if (b && k == 0)
				hit_first++;
			if (b && k == len - 1)
				hit_last++;
		}
		assert_int_equal(bits, 1);
		/* the caller's packet is never written to */
		for (k = 0; k < len; k++)
			assert_int_equal(want[k], (uint8_t)(i * 7 + k));
	}
	assert_int_equal(fault_counters(fx->f, FAULT_OUT)->corrupted, 20000);
	/* the flip can land anywhere, first and last byte included */
	assert_true(hit_first > 0);
	assert_true(hit_last > 0);
}

/*
 * Frames with a virtio-net header: the flip lands in the packet, never in
 * the header; from the TUN the header's checksum flags are cleared (the stack
 * must check it), toward the TUN a frame whose checksum the kernel would
 * complete is dropped, and one with a complete checksum is flipped.
 */
static void test_corrupt_vnet_frames(void **state)
{
	struct fixture *fx = *state;
	uint8_t frame[VNET_HDR_LEN + 60];
	struct iovec iov = { .iov_base = frame, .iov_len = sizeof(frame) };
	uint32_t i;
	size_t k;

	start(fx, "seed=9,corrupt=100");
	fault_set_vnet(fx->f, true);
	for (i = 0; i < 2000; i++) {
		unsigned int bits = 0;

		memset(frame, 0, VNET_HDR_LEN);
		frame[0] = VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID;
		frame[1] = VNET_GSO_TCPV4;
		for (k = VNET_HDR_LEN; k < sizeof(frame); k++)
			frame[k] = (uint8_t)(i + k);
		fx->last_len = 0;
		fault_packet(fx->f, FAULT_IN, &iov, 1);
		assert_int_equal(fx->last_len, sizeof(frame));
		assert_int_equal(fx->last[0], 0);	       /* flags cleared */
		assert_int_equal(fx->last[1], VNET_GSO_TCPV4); /* the rest of the header kept */
		for (k = VNET_HDR_LEN; k < sizeof(frame); k++)
			bits += popcount8((uint8_t)(frame[k] ^ fx->last[k]));
		assert_int_equal(bits, 1);
		/* Toward the TUN, a partial checksum: dropped. */
		fx->last_len = 0;
		frame[0] = VNET_F_NEEDS_CSUM;
		fault_packet(fx->f, FAULT_OUT, &iov, 1);
		assert_int_equal(fx->last_len, 0);
		/* A complete one (all-zero header): flipped in the packet. */
		frame[0] = 0;
		frame[1] = 0;
		fault_packet(fx->f, FAULT_OUT, &iov, 1);
		assert_int_equal(fx->last_len, sizeof(frame));
		assert_memory_equal(fx->last, frame, VNET_HDR_LEN);
		bits = 0;
		for (k = VNET_HDR_LEN; k < sizeof(frame); k++)
			bits += popcount8((uint8_t)(frame[k] ^ fx->last[k]));
		assert_int_equal(bits, 1);
	}
	assert_int_equal(fault_counters(fx->f, FAULT_IN)->corrupted, 2000);
	assert_int_equal(fault_counters(fx->f, FAULT_OUT)->corrupted, 4000);
	assert_int_equal(fault_counters(fx->f, FAULT_OUT)->delivered, 2000);
}

static void test_reorder_releases_in_bounded_time(void **state)
{
	struct fixture *fx = *state;
	const uint32_t n = 30000;
	static uint64_t sent_at[30000];
	static uint8_t seen[30000];
	uint32_t i, late = 0, out_of_order = 0, max_id = 0;
	size_t k;

	start(fx, "seed=11,reorder=30");
	for (i = 0; i < n; i++) {
		sent_at[i] = fx->loop.now;
		send_pkt(fx, FAULT_IN, i, 32);
		if (i % 5 == 0)
			advance(fx, 1);
		if (i % 1000 == 999)
			advance(fx, 50); /* a pause: the timer must release the rest */
	}
	advance(fx, FAULT_REORDER_MS);
	assert_int_equal(fault_held(fx->f), 0);
	assert_int_equal(fx->loop.nheap, 0);
	assert_int_equal(fx->nrec, n);
	for (k = 0; k < fx->nrec; k++) {
		uint32_t id = fx->rec[k].id;

		assert_true(id < n);
		assert_int_equal(seen[id], 0); /* exactly once */
		seen[id] = 1;
		assert_true(fx->rec[k].at - sent_at[id] <= FAULT_REORDER_MS);
		if (fx->rec[k].at - sent_at[id] == FAULT_REORDER_MS)
			late++;
		if (id < max_id)
			out_of_order++;
		else
			max_id = id;
	}
	assert_rate(fault_counters(fx->f, FAULT_IN)->reordered, n, 30, "reordered");
	assert_true(out_of_order > n / 10);
	assert_true(late > 0); /* some went out by the timer */
}

static void test_reorder_lone_packet_by_timer(void **state)
{
	struct fixture *fx = *state;

	start(fx, "reorder=100");
	send_pkt(fx, FAULT_OUT, 1, 40);
	assert_int_equal(fx->nrec, 0);
	assert_int_equal(fault_held(fx->f), 1);
	advance(fx, FAULT_REORDER_MS - 1);
	assert_int_equal(fx->nrec, 0);
	advance(fx, 1);
	assert_int_equal(fx->nrec, 1);
	assert_int_equal(fault_held(fx->f), 0);
	assert_int_equal(fx->loop.nheap, 0);
}

static void test_delay_fifo_exact(void **state)
{
	struct fixture *fx = *state;
	uint32_t i;

	start(fx, "in.delay=20,out.delay=5");
	for (i = 0; i < 100; i++) {
		send_pkt(fx, FAULT_IN, i, 50);
		send_pkt(fx, FAULT_OUT, 1000 + i, 50);
		advance(fx, 1);
	}
	advance(fx, 20);
	assert_int_equal(fault_held(fx->f), 0);
	assert_int_equal(fx->nrec, 200);
	{
		uint32_t in = 0, out = 0;
		size_t k;

		for (k = 0; k < fx->nrec; k++) {
			const struct rec *r = &fx->rec[k];

			if (r->d == FAULT_IN) {
				assert_int_equal(r->id, in); /* FIFO */
				assert_int_equal(r->at, 1000 + in + 20);
				in++;
			} else {
				assert_int_equal(r->id, 1000 + out);
				assert_int_equal(r->at, 1000 + out + 5);
				out++;
			}
		}
	}
	assert_int_equal(fault_counters(fx->f, FAULT_IN)->delayed, 100);
	assert_int_equal(fx->loop.nheap, 0);
}

static void test_everything_at_once_drains(void **state)
{
	struct fixture *fx = *state;
	const struct fault_counters *c;
	uint32_t i;
	int d;

	start(fx, "seed=2,loss=5,reorder=25,dup=1,corrupt=0.1,delay=7");
	for (i = 0; i < 50000; i++) {
		send_pkt(fx, (enum fault_dir)(i & 1), i, 60);
		if (i % 10 == 0)
			advance(fx, 1);
	}
	/* bounded: reorder hold + delay, then nothing is left */
	advance(fx, FAULT_REORDER_MS + 7);
	assert_int_equal(fault_held(fx->f), 0);
	assert_int_equal(fx->loop.nheap, 0);
	for (d = 0; d < FAULT_NDIR; d++) {
		c = fault_counters(fx->f, (enum fault_dir)d);
		assert_int_equal(c->overflow, 0);
		assert_int_equal(c->delivered, c->pkts - c->lost + c->duplicated);
		assert_int_equal(c->delayed, c->delivered);
	}
}

static void test_held_count_bounded(void **state)
{
	struct fixture *fx = *state;
	const struct fault_counters *c;
	uint32_t i;

	start(fx, "delay=10000");
	for (i = 0; i < FAULT_MAX_HELD + 500; i++)
		send_pkt(fx, FAULT_IN, i, 100);
	c = fault_counters(fx->f, FAULT_IN);
	assert_int_equal(fault_held(fx->f), FAULT_MAX_HELD);
	assert_int_equal(c->delayed, FAULT_MAX_HELD);
	assert_int_equal(c->overflow, 500);
	/* the other direction shares the bound */
	send_pkt(fx, FAULT_OUT, 1, 100);
	assert_int_equal(fault_counters(fx->f, FAULT_OUT)->overflow, 1);
	advance(fx, 10000);
	assert_int_equal(fx->nrec, FAULT_MAX_HELD);
	assert_int_equal(fault_held(fx->f), 0);
	/* room again */
	send_pkt(fx, FAULT_OUT, 2, 100);
	assert_int_equal(fault_held(fx->f), 1);
	/* teardown frees what is still held (LeakSanitizer checks) */
}

static void test_held_bytes_bounded(void **state)
{
	struct fixture *fx = *state;
	static uint8_t big[FAULT_PKT_MAX];
	struct iovec iov = { .iov_base = big, .iov_len = sizeof(big) };
	const size_t fit = FAULT_MAX_HELD_BYTES / sizeof(big);
	size_t i;

	start(fx, "out.delay=1");
	for (i = 0; i < fit + 10; i++)
		fault_packet(fx->f, FAULT_OUT, &iov, 1);
	assert_int_equal(fault_held(fx->f), fit);
	assert_int_equal(fault_counters(fx->f, FAULT_OUT)->overflow, 10);
	/* a packet larger than any MTU is refused, not overrun */
	{
		struct iovec two[2] = { iov, { .iov_base = big, .iov_len = 1 } };

		fault_packet(fx->f, FAULT_OUT, two, 2);
		assert_int_equal(fault_counters(fx->f, FAULT_OUT)->overflow, 11);
	}
	advance(fx, 1);
	assert_int_equal(fx->nrec, fit);
	assert_int_equal(fx->last_len, sizeof(big));
}

static void test_free_with_everything_held(void **state)
{
	struct fixture *fx = *state;
	uint32_t i;

	start(fx, "reorder=100,delay=50");
	for (i = 0; i < 100; i++)
		send_pkt(fx, (enum fault_dir)(i & 1), i, 200);
	assert_true(fault_held(fx->f) > 0);
	assert_true(fx->loop.nheap > 0);
	/* teardown: fault_free cancels the timers and frees every copy */
}

/* ---- from the environment (what the engine calls) ---- */

static void test_from_env(void **state)
{
	struct fixture *fx = *state;
	uint8_t pkt[40] = { 0x45 };
	struct iovec iov[2] = { { .iov_base = pkt, .iov_len = 10 },
				{ .iov_base = pkt + 10, .iov_len = 30 } };

	unsetenv("PROXYVPN_FAULT");
	fx->f = (struct fault *)fx; /* must be overwritten */
	assert_int_equal(fault_from_env(&fx->loop, false, on_deliver, fx, &fx->f), 0);
	assert_null(fx->f);
	fault_log_stats(fx->f);

	setenv("PROXYVPN_FAULT", "seed=1,loss=x", 1);
	assert_int_equal(fault_from_env(&fx->loop, false, on_deliver, fx, &fx->f), -EINVAL);
	assert_null(fx->f);

	setenv("PROXYVPN_FAULT", "seed=1,out.dup=100,in.loss=100", 1);
	assert_int_equal(fault_from_env(&fx->loop, false, on_deliver, fx, &fx->f), 0);
	assert_non_null(fx->f);
	/* out: handed back as one packet, twice */
	fault_packet(fx->f, FAULT_OUT, iov, 2);
	assert_int_equal(fx->nrec, 2);
	assert_int_equal(fx->rec[0].d, FAULT_OUT);
	assert_int_equal(fx->rec[1].len, 40);
	assert_memory_equal(fx->last, pkt, 40);
	/* in: dropped */
	fault_packet(fx->f, FAULT_IN, iov, 2);
	assert_int_equal(fault_counters(fx->f, FAULT_IN)->lost, 1);
	assert_int_equal(fx->nrec, 2);
	fault_log_stats(fx->f);
	fault_free(fx->f);

	/* a delayed packet comes back when its time has come */
	setenv("PROXYVPN_FAULT", "in.delay=1", 1);
	assert_int_equal(fault_from_env(&fx->loop, true, on_deliver, fx, &fx->f), 0);
	fault_packet(fx->f, FAULT_IN, iov, 2);
	assert_int_equal(fx->nrec, 2);
	advance(fx, 1);
	assert_int_equal(fx->nrec, 3);
	assert_int_equal(fx->rec[2].d, FAULT_IN);
	unsetenv("PROXYVPN_FAULT");
	/* teardown frees fx->f */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_error_leaves_one_line_per_item),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test_setup_teardown(test_rates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_faults_passes_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_flips_one_bit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_vnet_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reorder_releases_in_bounded_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reorder_lone_packet_by_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay_fifo_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_everything_at_once_drains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_count_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_bytes_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_everything_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_env, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
