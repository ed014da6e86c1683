// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the fake-address pool (testplan B4): the input is a
 * program of operations on a small pool (a /28 and a /120 with two
 * addresses excluded, at most 6 names, keep 100 ms): map a name, take or
 * release a reference by address, let time pass. Checked after each step,
 * against a model of what was handed out: the count stays within the bound;
 * an address is in the pool, not excluded, and never given to two live
 * names; a name keeps its addresses while it is live; a lookup by address
 * finds the name it was handed out for; an entry with a reference never
 * expires and is never dropped for room; a new name is refused only when
 * every entry is held; the LRU list holds exactly the entries nobody holds,
 * newest first. Time may also step back (another thread's older clock).
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../src/codec/dnspool.c"
#include "../../src/codec/num.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

enum { NAMES = 8, MAXE = 6, HELD = 16 };

struct model {
	bool live; /* mapped and not known to be expired */
	uint8_t a4[4], a6[16];
};

static void check(const struct dnspool *p)
{
	const struct dnspool_entry *e;
	size_t n = 0, unheld = 0, i;
	uint64_t last = UINT64_MAX;

	for (e = p->head; e; e = e->next) {
		n++;
		assert(e->refs == 0);
		assert(e->used <= last && e->used <= p->clock);
		last = e->used;
		assert(!e->next || e->next->prev == e);
		assert(e->next || p->tail == e);
	}
	for (i = 0; i < p->nbuckets; i++) {
		for (e = p->tn[i]; e; e = e->hn) {
			unheld += e->refs == 0;
			assert(find_name(p, e->name) == e);
			assert(find_off(p, AF_INET, e->off4) == e);
			assert(find_off(p, AF_INET6, e->off6) == e);
			assert(e->off4 >= 1 && e->off4 <= p->size4 - 2 &&
			       !excluded(p, AF_INET, e->off4));
			assert(e->off6 >= 1 && e->off6 <= p->size6 - 2 &&
			       !excluded(p, AF_INET6, e->off6));
		}
	}
	assert(n == unheld);
	assert(dnspool_count((struct dnspool *)p) == p->count);
}

/* Every entry held by a connection: the only case a new name is refused. */
static bool all_held(const struct dnspool *p)
{
	return p->count >= MAXE && !p->head;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct dnspool_cfg c;
	struct dnspool *p;
	struct model m[NAMES] = { 0 };
	struct dnspool_entry *held[HELD];
	size_t nheld = 0, i;
	uint64_t now = 0;

	memset(&c, 0, sizeof(c));
	dnspool_parse_cidr("10.0.0.0/28", AF_INET, c.net4, &c.plen4);
	dnspool_parse_cidr("fd00::/120", AF_INET6, c.net6, &c.plen6);
	memcpy(c.excl4[c.nexcl4++], (uint8_t[]){ 10, 0, 0, 1 }, 4);
	memcpy(c.excl6[c.nexcl6++], (uint8_t[]){ 0xfd, [15] = 2 }, 16);
	c.max = MAXE;
	c.keep_ms = 100;
	p = dnspool_new(&c);
	assert(p);
	for (i = 0; i + 1 < len; i += 2) {
		uint8_t op = data[i] & 3, arg = data[i + 1];
		char name[16];
		uint8_t a4[4], a6[16];
		struct dnspool_entry *e;
		struct dnspool_evicted ev;
		size_t k = arg % NAMES;

		snprintf(name, sizeof(name), "n%zu.test", k);
		switch (op) {
		case 0: { /* map a name */
			const struct dnspool_entry *b = find_name(p, name);
			bool was_live = b && !expired(p, b, now > p->clock ? now : p->clock);
			uint8_t o4[4], o6[16];

			if (was_live) {
				off_addr(p, AF_INET, b->off4, o4);
				off_addr(p, AF_INET6, b->off6, o6);
			}
			/* the resolver's check: "known" is exactly "live", and asking changes nothing */
			assert(dnspool_known(p, name, now) == was_live);
			assert(find_name(p, name) == b);
			if (dnspool_map(p, name, now, a4, a6, &ev) < 0) {
				assert(!was_live); /* a live name is always answered */
				assert(all_held(p));
				assert(!ev.name[0]);
				break;
			}
			if (ev.name[0]) { /* dropped for room before it expired */
				size_t j = strtoul(ev.name + 1, NULL, 10);

				assert(!find_name(p, ev.name) && j < NAMES && j != k);
				m[j].live = false;
			}
			assert(a4[0] == 10 && a4[1] == 0 && a4[2] == 0 && a4[3] < 15 && a4[3] > 1);
			assert(a6[0] == 0xfd && a6[14] == 0 && a6[15] < 255 && a6[15] != 2 &&
			       a6[15] != 0);
			if (was_live) /* still live: the same addresses */
				assert(!memcmp(a4, o4, 4) && !memcmp(a6, o6, 16));
			e = dnspool_get(p, AF_INET6, a6, now);
			assert(e && !strcmp(dnspool_entry_name(e), name));
			dnspool_put(p, e, now);
			m[k].live = true;
			memcpy(m[k].a4, a4, 4);
			memcpy(m[k].a6, a6, 16);
			break;
		}
		case 1: /* take a reference by address */
			if (!m[k].live || nheld == HELD)
				break;
			e = dnspool_get(p, arg & 8 ? AF_INET6 : AF_INET,
					arg & 8 ? m[k].a6 : m[k].a4, now);
			if (!e) {
				m[k].live = false; /* expired */
				break;
			}
			if (strcmp(dnspool_entry_name(e), name)) {
				/*
				 * Expired, and the small pool came round to its
				 * address for another name (the stale-cache case
				 * keep_ms and the cursor make rare): the name no
				 * longer owns it.
				 */
				const struct dnspool_entry *o = find_name(p, name);

				assert(!o || o != e);
				dnspool_put(p, e, now);
				m[k].live = false;
				break;
			}
			held[nheld++] = e;
			break;
		case 2: /* release one */
			if (nheld) {
				size_t j = arg % nheld;

				dnspool_put(p, held[j], now);
				held[j] = held[--nheld];
			}
			break;
		case 3: /* time passes, or a thread with an older clock calls */
			if (arg & 0x80)
				now -= now < (arg & 0x7f) ? now : (arg & 0x7f);
			else
				now += arg;
			break;
		}
		assert(dnspool_count(p) <= MAXE);
		check(p);
		for (k = 0; k < nheld; k++)
			assert(held[k]->refs > 0);
	}
	while (nheld)
		dnspool_put(p, held[--nheld], now);
	dnspool_free(p);
	return 0;
}
