// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault injection for tests (see fault.h): loss, corruption, duplication,
 * reordering and delay between the TUN and the stack, driven by a seeded
 * PRNG per direction so a run's decisions depend only on the seed and the
 * packets seen. Compiled to nothing unless PROXYVPN_FAULT is defined.
 */
#ifdef PROXYVPN_FAULT

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "vnet.h"

/* A packet held back: a copy of our own. */
struct held {
	struct held *next;
	uint64_t when;	   /* ms, loop clock: release at the latest then */
	unsigned int skip; /* reorder: later packets to let pass first */
	size_t len;
	uint8_t data[];
};

struct hq {
	struct held *head, *tail;
};

struct fault_side {
	struct fault *f;
	enum fault_dir d;
	struct fault_rates r;
	uint64_t rng;
	struct hq reo; /* reordered, in arrival (so deadline) order */
	struct hq dly; /* delayed, FIFO (so deadline order) */
	struct timer reo_timer, dly_timer;
	struct fault_counters c;
	uint8_t *scratch; /* the packet being decided on, flattened */
};

struct fault {
	struct loop *loop;
	fault_deliver_fn *deliver;
	void *ctx;
	size_t nheld, held_bytes;
	bool vnet; /* frames start with a virtio-net header (fault_set_vnet) */
	struct fault_side side[FAULT_NDIR];
};

/* ---- PRNG: splitmix64 (Steele, Lea, Flood 2014) ---- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) for n < 2^32 (multiply-shift; bias below n / 2^32). */
static uint32_t rng_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((rng_next(s) >> 32) * (uint64_t)n) >> 32);
}

static bool chance(struct fault_side *sd, uint32_t ppm)
{
	return ppm && rng_below(&sd->rng, FAULT_PPM) < ppm;
}

/* ---- configuration ---- */

enum fault_key { K_LOSS, K_CORRUPT, K_DUP, K_REORDER, K_DELAY, K_NKEYS };

static const char *const key_names[K_NKEYS] = { "loss", "corrupt", "dup", "reorder", "delay" };

/* "0".."100" with at most 4 decimals, as parts per million. */
static bool parse_percent(const char *v, size_t n, uint32_t *ppm)
{
	uint32_t ip = 0, fp = 0;
	size_t i = 0, id, fd = 0;

	while (i < n && v[i] >= '0' && v[i] <= '9' && i < 3)
		ip = ip * 10 + (uint32_t)(v[i++] - '0');
	id = i;
	if (!id)
		return false;
	if (i < n && v[i] == '.') {
		i++;
		while (i < n && v[i] >= '0' && v[i] <= '9' && fd < 4) {
			fp = fp * 10 + (uint32_t)(v[i++] - '0');
			fd++;
		}
		if (!fd)
			return false;
	}
	if (i != n)
		return false;
	while (fd++ < 4)
		fp *= 10;
	if (ip > 100 || (ip == 100 && fp))
		return false;
	*ppm = ip * 10000 + fp;
	return true;
}

/* Decimal digits only, at most max. */
static bool parse_uint(const char *v, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t x = 0;
	size_t i;

	if (!n)
		return false;
	for (i = 0; i < n; i++) {
		unsigned int dg;

		if (v[i] < '0' || v[i] > '9')
			return false;
		dg = (unsigned int)(v[i] - '0');
		if (x > (max - dg) / 10)
			return false;
		x = x * 10 + dg;
	}
	*out = x;
	return true;
}

static bool match(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

static int bad(char *err, size_t errlen, const char *item, size_t n, const char *why)
{
	if (n > 48)
		snprintf(err, errlen, "`%.48s...': %s", item, why);
	else
		snprintf(err, errlen, "`%.*s': %s", (int)n, item, why);
	return -EINVAL;
}

int fault_parse(const char *s, struct fault_cfg *cfg, char *err, size_t errlen)
{
	bool set[FAULT_NDIR][K_NKEYS] = { { false } }, seed_set = false;
	const char *p = s;

	*cfg = (struct fault_cfg){ .seed = 1 };
	if (!*s)
		return 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p), kn, vn;
		const char *eq = memchr(p, '=', n), *k = p, *v;
		int d0 = FAULT_IN, d1 = FAULT_OUT, key, d;
		uint64_t x = 0;
		uint32_t ppm = 0;

		if (!n) {
			snprintf(err, errlen,
				 "empty item in `%.48s' (key=value items, separated by ',')", s);
			return -EINVAL;
		}
		if (!eq)
			return bad(err, errlen, p, n, "expected key=value");
		kn = (size_t)(eq - p);
		v = eq + 1;
		vn = n - kn - 1;
		if (match(k, kn, "seed")) {
			if (seed_set)
				return bad(err, errlen, p, n, "seed given twice");
			if (!parse_uint(v, vn, UINT64_MAX, &cfg->seed))
				return bad(err, errlen, p, n,
					   "seed must be a decimal 0-18446744073709551615");
			seed_set = true;
			goto next;
		}
		if (kn > 3 && !memcmp(k, "in.", 3)) {
			d1 = FAULT_IN;
			k += 3;
			kn -= 3;
		} else if (kn > 4 && !memcmp(k, "out.", 4)) {
			d0 = FAULT_OUT;
			k += 4;
			kn -= 4;
		}
		for (key = 0; key < K_NKEYS; key++)
			if (match(k, kn, key_names[key]))
				break;
		if (key == K_NKEYS)
			return bad(err, errlen, p, n,
				   "unknown key (seed, [in.|out.]loss|corrupt|dup|reorder|delay)");
		if (key == K_DELAY) {
			if (!parse_uint(v, vn, FAULT_DELAY_MAX_MS, &x))
				return bad(err, errlen, p, n, "delay must be 0-10000 (ms)");
		} else if (!parse_percent(v, vn, &ppm)) {
			return bad(err, errlen, p, n,
				   "must be a percentage 0-100 with at most 4 decimals");
		}
		for (d = d0; d <= d1; d++) {
			struct fault_rates *r = &cfg->dir[d];

			if (set[d][key])
				return bad(err, errlen, p, n, "set twice for one direction");
			set[d][key] = true;
			switch (key) {
			case K_LOSS:
				r->loss = ppm;
				break;
			case K_CORRUPT:
				r->corrupt = ppm;
				break;
			case K_DUP:
				r->dup = ppm;
				break;
			case K_REORDER:
				r->reorder = ppm;
				break;
			default:
				r->delay_ms = (uint32_t)x;
				break;
			}
		}
	next:
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* ---- held packets ---- */

static struct held *hold(struct fault *f, const uint8_t *pkt, size_t len)
{
	struct held *h;

	if (f->nheld >= FAULT_MAX_HELD || f->held_bytes + len > FAULT_MAX_HELD_BYTES)
		return NULL;
	h = malloc(sizeof(*h) + len);
	if (!h)
		return NULL;
	memcpy(h->data, pkt, len);
	h->len = len;
	h->next = NULL;
	f->nheld++;
	f->held_bytes += len;
	return h;
}

static void unhold(struct fault *f, struct held *h)
{
	f->nheld--;
	f->held_bytes -= h->len;
	free(h);
}

static void hq_push(struct hq *q, struct held *h)
{
	h->next = NULL;
	if (q->tail)
		q->tail->next = h;
	else
		q->head = h;
	q->tail = h;
}

static struct held *hq_pop(struct hq *q)
{
	struct held *h = q->head;

	if (h) {
		q->head = h->next;
		if (!q->head)
			q->tail = NULL;
		h->next = NULL;
	}
	return h;
}

static void hq_free(struct fault *f, struct hq *q)
{
	struct held *h;

	while ((h = hq_pop(q)))
		unhold(f, h);
}

/* Re-arms t for q's first deadline, or cancels it if q is empty. */
static void hq_arm(struct fault *f, struct hq *q, struct timer *t)
{
	if (q->head)
		loop_timer_set(f->loop, t, q->head->when);
	else
		loop_timer_cancel(f->loop, t);
}

/* ---- the pipeline: loss, corrupt, dup -> reorder -> delay -> deliver ---- */

static void deliver(struct fault_side *sd, const uint8_t *pkt, size_t len)
{
	sd->c.delivered++;
	sd->f->deliver(sd->f->ctx, sd->d, pkt, len);
}

/* Past the reorder stage: deliver now, or after the delay. */
static void emit(struct fault_side *sd, const uint8_t *pkt, size_t len)
{
	struct fault *f = sd->f;
	struct held *h;

	if (!sd->r.delay_ms) {
		deliver(sd, pkt, len);
		return;
	}
	h = hold(f, pkt, len);
	if (!h) {
		sd->c.overflow++;
		return;
	}
	sd->c.delayed++;
	h->when = f->loop->now + sd->r.delay_ms;
	hq_push(&sd->dly, h);
	if (!timer_armed(&sd->dly_timer))
		loop_timer_set(f->loop, &sd->dly_timer, h->when);
}

static void emit_held(struct fault_side *sd, struct held *h)
{
	struct fault *f = sd->f;

	if (!sd->r.delay_ms) {
		/* Off the books before delivering: delivery may hold new packets. */
		f->nheld--;
		f->held_bytes -= h->len;
		deliver(sd, h->data, h->len);
		free(h);
		return;
	}
	h->when = f->loop->now + sd->r.delay_ms;
	sd->c.delayed++;
	hq_push(&sd->dly, h);
	if (!timer_armed(&sd->dly_timer))
		loop_timer_set(f->loop, &sd->dly_timer, h->when);
}

static void reorder_stage(struct fault_side *sd, const uint8_t *pkt, size_t len)
{
	struct fault *f = sd->f;
	struct hq ready = { NULL, NULL };
	struct held **pp = &sd->reo.head, *prev = NULL, *h;

	/* This packet is one more passing every packet held before it. */
	while ((h = *pp)) {
		if (--h->skip) {
			prev = h;
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		if (sd->reo.tail == h)
			sd->reo.tail = prev;
		hq_push(&ready, h);
	}
	if (chance(sd, sd->r.reorder)) {
		h = hold(f, pkt, len);
		if (h) {
			sd->c.reordered++;
			h->skip = 1 + rng_below(&sd->rng, FAULT_REORDER_MAX_SKIP);
			h->when = f->loop->now + FAULT_REORDER_MS;
			hq_push(&sd->reo, h);
		} else {
			sd->c.overflow++;
		}
	} else {
		emit(sd, pkt, len);
	}
	hq_arm(f, &sd->reo, &sd->reo_timer);
	/* Then the ones it overtook. */
	while ((h = hq_pop(&ready)))
		emit_held(sd, h);
}

static void reo_expired(struct timer *t)
{
	struct fault_side *sd =
		(struct fault_side *)((char *)t - offsetof(struct fault_side, reo_timer));
	struct held *h;

	while (sd->reo.head && sd->reo.head->when <= sd->f->loop->now) {
		h = hq_pop(&sd->reo);
		emit_held(sd, h);
	}
	hq_arm(sd->f, &sd->reo, &sd->reo_timer);
}

static void dly_expired(struct timer *t)
{
	struct fault_side *sd =
		(struct fault_side *)((char *)t - offsetof(struct fault_side, dly_timer));
	struct fault *f = sd->f;
	struct held *h;

	while (sd->dly.head && sd->dly.head->when <= f->loop->now) {
		h = hq_pop(&sd->dly);
		f->nheld--;
		f->held_bytes -= h->len;
		deliver(sd, h->data, h->len);
		free(h);
	}
	hq_arm(f, &sd->dly, &sd->dly_timer);
}

void fault_packet(struct fault *f, enum fault_dir d, const struct iovec *iov, int iovcnt)
{
	struct fault_side *sd = &f->side[d];
	size_t len = 0, hl = f->vnet ? VNET_HDR_LEN : 0;
	int i;

	sd->c.pkts++;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > FAULT_PKT_MAX - len) {
			sd->c.overflow++; /* larger than any MTU: cannot happen */
			return;
		}
		memcpy(sd->scratch + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	if (chance(sd, sd->r.loss)) {
		sd->c.lost++;
		return;
	}
	if (len > hl && chance(sd, sd->r.corrupt)) {
		uint32_t bit = rng_below(&sd->rng, (uint32_t)(len - hl) * 8);

		sd->scratch[hl + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		sd->c.corrupted++;
		if (hl && d == FAULT_IN) {
			/* Make the stack check the checksum the kernel vouched for. */
			sd->scratch[0] &= (uint8_t) ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID);
		} else if (hl && (sd->scratch[0] & VNET_F_NEEDS_CSUM)) {
			/* The app's kernel trusts an offloaded checksum: drop it as its check would. */
			return;
		}
	}
	if (chance(sd, sd->r.dup)) {
		sd->c.duplicated++;
		reorder_stage(sd, sd->scratch, len);
	}
	reorder_stage(sd, sd->scratch, len);
}

struct fault *fault_new(struct loop *l, const struct fault_cfg *cfg, fault_deliver_fn *deliver_fn,
			void *ctx)
{
	struct fault *f = calloc(1, sizeof(*f));
	int d;

	if (!f)
		return NULL;
	f->loop = l;
	f->deliver = deliver_fn;
	f->ctx = ctx;
	for (d = 0; d < FAULT_NDIR; d++) {
		struct fault_side *sd = &f->side[d];

		sd->f = f;
		sd->d = (enum fault_dir)d;
		sd->r = cfg->dir[d];
		/* Independent streams per direction, both from the one seed. */
		sd->rng = cfg->seed ^ (0xd1b54a32d192ed03ULL * (uint64_t)(d + 1));
		sd->reo_timer.cb = reo_expired;
		sd->dly_timer.cb = dly_expired;
		sd->scratch = malloc(FAULT_PKT_MAX);
		if (!sd->scratch) {
			fault_free(f);
			errno = ENOMEM;
			return NULL;
		}
	}
	return f;
}

void fault_free(struct fault *f)
{
	int d;

	if (!f)
		return;
	for (d = 0; d < FAULT_NDIR; d++) {
		struct fault_side *sd = &f->side[d];

		loop_timer_cancel(f->loop, &sd->reo_timer);
		loop_timer_cancel(f->loop, &sd->dly_timer);
		hq_free(f, &sd->reo);
		hq_free(f, &sd->dly);
		free(sd->scratch);
	}
	free(f);
}

const struct fault_counters *fault_counters(const struct fault *f, enum fault_dir d)
{
	return &f->side[d].c;
}

size_t fault_held(const struct fault *f)
{
	return f->nheld;
}

void fault_set_vnet(struct fault *f, bool on)
{
	f->vnet = on;
}

/* ---- from the environment ---- */

static void fmt_pct(char *buf, size_t n, uint32_t ppm)
{
	snprintf(buf, n, "%" PRIu32 ".%04" PRIu32, ppm / 10000, ppm % 10000);
}

int fault_from_env(struct loop *l, bool vnet, fault_deliver_fn *cb, void *ctx, struct fault **out)
{
	const char *s = getenv("PROXYVPN_FAULT");
	char err[FAULT_ERR_LEN];
	struct fault_cfg cfg;
	int d;

	*out = NULL;
	if (!s)
		return 0;
	if (fault_parse(s, &cfg, err, sizeof(err)) < 0) {
		log_error("PROXYVPN_FAULT: %s", err);
		return -EINVAL;
	}
	*out = fault_new(l, &cfg, cb, ctx);
	if (!*out)
		return -ENOMEM;
	fault_set_vnet(*out, vnet);
	for (d = 0; d < FAULT_NDIR; d++) {
		const struct fault_rates *r = &cfg.dir[d];
		char a[16], b[16], c[16], x[16];

		fmt_pct(a, sizeof(a), r->loss);
		fmt_pct(b, sizeof(b), r->corrupt);
		fmt_pct(c, sizeof(c), r->dup);
		fmt_pct(x, sizeof(x), r->reorder);
		log_info("fault injection %s: seed %" PRIu64 " loss %s%% corrupt %s%% dup %s%% "
			 "reorder %s%% delay %" PRIu32 " ms",
			 d == FAULT_IN ? "in" : "out", cfg.seed, a, b, c, x, r->delay_ms);
	}
	return 0;
}

void fault_log_stats(const struct fault *f)
{
	const struct fault_counters *i, *o;

	if (!f)
		return;
	i = fault_counters(f, FAULT_IN);
	o = fault_counters(f, FAULT_OUT);
	log_info("fault stats: in: packets %" PRIu64 " lost %" PRIu64 " corrupted %" PRIu64
		 " duplicated %" PRIu64 " reordered %" PRIu64 " delayed %" PRIu64
		 " overflow %" PRIu64 " delivered %" PRIu64 "; out: packets %" PRIu64
		 " lost %" PRIu64 " corrupted %" PRIu64 " duplicated %" PRIu64 " reordered %" PRIu64
		 " delayed %" PRIu64 " overflow %" PRIu64 " delivered %" PRIu64 "; held %zu",
		 i->pkts, i->lost, i->corrupted, i->duplicated, i->reordered, i->delayed,
		 i->overflow, i->delivered, o->pkts, o->lost, o->corrupted, o->duplicated,
		 o->reordered, o->delayed, o->overflow, o->delivered, f->nheld);
}

#endif /* PROXYVPN_FAULT */
