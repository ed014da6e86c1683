// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fake-address pool: mapping both ways, exclusions, expiry with and without
 * connections holding an entry, the LRU bound (the least recently used
 * entry no connection holds makes room, named when it had not expired),
 * a clock that lags behind, pool exhaustion, and how late a recycled
 * address comes back. Time is passed in by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dnspool.h"

static void cfg_small(struct dnspool_cfg *c, const char *net4, uint32_t max)
{
	dnspool_cfg_default(c);
	assert_int_equal(dnspool_parse_cidr(net4, AF_INET, c->net4, &c->plen4), 0);
	c->max = max;
	c->keep_ms = 1000;
}

static void test_parse_cidr(void **state)
{
	uint8_t n[16], l;

	(void)state;
	assert_int_equal(dnspool_parse_cidr("198.18.0.0/15", AF_INET, n, &l), 0);
	assert_int_equal(l, 15);
	assert_int_equal(n[0], 198);
	assert_int_equal(n[1], 18);
	assert_int_equal(dnspool_parse_cidr("10.1.2.0/24", AF_INET, n, &l), 0);
	assert_int_equal(dnspool_parse_cidr("198.19.0.0/15", AF_INET, n, &l),
			 -EINVAL); /* host bit */
	assert_int_equal(dnspool_parse_cidr("10.0.0.0/7", AF_INET, n, &l), -EINVAL);
	assert_int_equal(dnspool_parse_cidr("10.0.0.0/31", AF_INET, n, &l), -EINVAL);
	assert_int_equal(dnspool_parse_cidr("10.0.0.0", AF_INET, n, &l), -EINVAL);
	assert_int_equal(dnspool_parse_cidr("10.0.0.0/", AF_INET, n, &l), -EINVAL);
	assert_int_equal(dnspool_parse_cidr("10.0.0.0/24x", AF_INET, n, &l), -EINVAL);
	assert_int_equal(dnspool_parse_cidr("10.0.0.0/-24", AF_INET, n, &l), -EINVAL);
	assert_int_equal(dnspool_parse_cidr("fd00::/24", AF_INET, n, &l), -EINVAL);
	assert_int_equal(dnspool_parse_cidr("fd70:7678::/64", AF_INET6, n, &l), 0);
	assert_int_equal(l, 64);
	assert_int_equal(dnspool_parse_cidr("fd70:7678::1/64", AF_INET6, n, &l), -EINVAL);
	assert_int_equal(dnspool_parse_cidr("fd00::/48", AF_INET6, n, &l), -EINVAL);
	assert_int_equal(dnspool_parse_cidr("fd00::/120", AF_INET6, n, &l), 0);
	assert_int_equal(dnspool_parse_cidr("fd00::/121", AF_INET6, n, &l), -EINVAL);
}

static void test_map_both_ways(void **state)
{
	struct dnspool_cfg c;
	struct dnspool *p;
	struct dnspool_entry *e;
	uint8_t a4[4], a6[16], b4[4], b6[16], x[16];
	char s[64];

	(void)state;
	dnspool_cfg_default(&c);
	inet_pton(AF_INET, "198.18.0.1", c.excl4[c.nexcl4++]);
	inet_pton(AF_INET, "198.18.0.2", c.excl4[c.nexcl4++]);
	inet_pton(AF_INET6, "fd70:7678::1", c.excl6[c.nexcl6++]);
	inet_pton(AF_INET6, "fd70:7678::2", c.excl6[c.nexcl6++]);
	p = dnspool_new(&c);
	assert_non_null(p);
	assert_int_equal(dnspool_map(p, "a.example", 0, a4, a6, NULL), 0);
	inet_ntop(AF_INET, a4, s, sizeof(s));
	assert_string_equal(s, "198.18.0.3"); /* .0 (network), .1 and .2 skipped */
	inet_ntop(AF_INET6, a6, s, sizeof(s));
	assert_string_equal(s, "fd70:7678::3");
	assert_int_equal(dnspool_map(p, "b.example", 0, b4, b6, NULL), 0);
	assert_memory_not_equal(a4, b4, 4);
	assert_memory_not_equal(a6, b6, 16);
	/* The same name again: the same addresses. */
	assert_int_equal(dnspool_map(p, "a.example", 5, x, b6, NULL), 0);
	assert_memory_equal(x, a4, 4);
	assert_int_equal(dnspool_count(p), 2);
	e = dnspool_get(p, AF_INET, b4, 10);
	assert_non_null(e);
	assert_string_equal(dnspool_entry_name(e), "b.example");
	dnspool_put(p, e, 10);
	e = dnspool_get(p, AF_INET6, a6, 10);
	assert_non_null(e);
	assert_string_equal(dnspool_entry_name(e), "a.example");
	dnspool_put(p, e, 10);
	/* In the pool but not mapped; outside the pool. */
	inet_pton(AF_INET, "198.18.200.9", x);
	assert_true(dnspool_contains(p, AF_INET, x));
	assert_null(dnspool_get(p, AF_INET, x, 10));
	inet_pton(AF_INET, "198.20.0.3", x);
	assert_false(dnspool_contains(p, AF_INET, x));
	assert_null(dnspool_get(p, AF_INET, x, 10));
	inet_pton(AF_INET6, "fd70:7679::3", x);
	assert_false(dnspool_contains(p, AF_INET6, x));
	inet_pton(AF_INET6, "fd70:7678:0:0:1::3", x); /* past the low 32 bits */
	assert_false(dnspool_contains(p, AF_INET6, x));
	dnspool_free(p);
}

static void test_expiry(void **state)
{
	struct dnspool_cfg c;
	struct dnspool *p;
	struct dnspool_entry *e;
	uint8_t a4[4], a6[16], b4[4], b6[16];

	(void)state;
	cfg_small(&c, "10.9.0.0/16", 100);
	p = dnspool_new(&c);
	assert_non_null(p);
	assert_false(dnspool_known(p, "n", 0));
	assert_int_equal(dnspool_map(p, "n", 0, a4, a6, NULL), 0);
	assert_true(dnspool_known(p, "n", 999));
	assert_false(dnspool_known(p, "m", 999));
	assert_non_null((e = dnspool_get(p, AF_INET, a4, 999)));
	/* Held by a connection: alive long past keep. */
	assert_non_null(dnspool_get(p, AF_INET6, a6, 50000));
	dnspool_put(p, e, 50000);
	e = dnspool_get(p, AF_INET6, a6, 50000); /* still one ref: balance below */
	dnspool_put(p, e, 50000);
	dnspool_put(p, e, 50000);
	/* keep counts from the last release. */
	assert_non_null((e = dnspool_get(p, AF_INET, a4, 50999)));
	dnspool_put(p, e, 50999);
	assert_true(dnspool_known(p, "n", 51998));
	assert_null(dnspool_get(p, AF_INET, a4, 51999));
	assert_null(dnspool_get(p, AF_INET6, a6, 51999));
	assert_false(dnspool_known(p, "n", 51999)); /* expired: asking does not revive it */
	/* Asked again after expiry: new addresses, the old ones stay dead. */
	assert_int_equal(dnspool_map(p, "n", 52000, b4, b6, NULL), 0);
	assert_memory_not_equal(a4, b4, 4);
	assert_memory_not_equal(a6, b6, 16);
	assert_null(dnspool_get(p, AF_INET, a4, 52000));
	assert_int_equal(dnspool_count(p), 1);
	dnspool_free(p);
}

static void test_lru_bound(void **state)
{
	struct dnspool_cfg c;
	struct dnspool *p;
	struct dnspool_evicted ev;
	struct dnspool_entry *e4, *e5, *e6;
	uint8_t a4[3][4], a6[16], x4[4], f4[4], s4[4];

	(void)state;
	cfg_small(&c, "10.9.0.0/16", 3);
	p = dnspool_new(&c);
	assert_non_null(p);
	assert_int_equal(dnspool_map(p, "one", 0, a4[0], a6, &ev), 0);
	assert_string_equal(ev.name, "");
	assert_int_equal(dnspool_map(p, "two", 100, a4[1], a6, NULL), 0);
	assert_int_equal(dnspool_map(p, "three", 200, a4[2], a6, NULL), 0);
	/* Full, nothing expired: the least recently used makes room, and is named. */
	assert_int_equal(dnspool_map(p, "four", 500, x4, a6, &ev), 0);
	assert_string_equal(ev.name, "one");
	assert_int_equal(ev.idle_ms, 500);
	assert_int_equal(dnspool_count(p), 3);
	assert_null(dnspool_get(p, AF_INET, a4[0], 500));
	/* "two" used again: "three" is now the oldest. */
	assert_int_equal(dnspool_map(p, "two", 600, x4, a6, NULL), 0);
	assert_int_equal(dnspool_map(p, "five", 700, f4, a6, &ev), 0);
	assert_string_equal(ev.name, "three");
	assert_non_null(dnspool_get(p, AF_INET, a4[1], 700)); /* "two" stays */
	/* Held entries are never dropped, however old: "two" is skipped. */
	assert_int_equal(dnspool_map(p, "six", 800, s4, a6, &ev), 0);
	assert_string_equal(ev.name, "four");
	assert_non_null((e5 = dnspool_get(p, AF_INET, f4, 800)));
	assert_non_null((e6 = dnspool_get(p, AF_INET, s4, 800)));
	/* Every entry held: a new name is refused, nobody dropped. */
	assert_int_equal(dnspool_map(p, "seven", 100000, x4, a6, &ev), -ENOSPC);
	assert_string_equal(ev.name, "");
	assert_int_equal(dnspool_count(p), 3);
	assert_non_null((e4 = dnspool_get(p, AF_INET, a4[1], 100000))); /* "two", still live */
	dnspool_put(p, e4, 100000);					/* one reference left */
	dnspool_put(p, e5, 100000); /* "five": released, the only one free */
	assert_int_equal(dnspool_map(p, "seven", 100000, x4, a6, &ev), 0);
	assert_string_equal(ev.name, "five");
	assert_int_equal(ev.idle_ms, 0);
	/* An expired entry makes room without being named. */
	dnspool_put(p, e6, 100000);
	assert_int_equal(dnspool_map(p, "eight", 200000, x4, a6, &ev), 0);
	assert_string_equal(ev.name, "");
	assert_int_equal(dnspool_count(p), 3);
	dnspool_free(p); /* "two" is still held: freed all the same */
}

/* Released entries go to the head: the one unused longest makes room. */
static void test_lru_order(void **state)
{
	struct dnspool_cfg c;
	struct dnspool *p;
	struct dnspool_evicted ev;
	struct dnspool_entry *e;
	uint8_t a[4][4], a6[16], x4[4];
	char name[8];
	int i;

	(void)state;
	cfg_small(&c, "10.9.0.0/16", 4);
	c.keep_ms = 60000;
	p = dnspool_new(&c);
	assert_non_null(p);
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(dnspool_map(p, name, (uint64_t)i, a[i], a6, NULL), 0);
	}
	/* n0 carried a connection from 10 to 20: used at 20, after n1-n3. */
	assert_non_null((e = dnspool_get(p, AF_INET, a[0], 10)));
	dnspool_put(p, e, 20);
	assert_int_equal(dnspool_map(p, "x1", 30, x4, a6, &ev), 0);
	assert_string_equal(ev.name, "n1");
	assert_int_equal(dnspool_map(p, "x2", 30, x4, a6, &ev), 0);
	assert_string_equal(ev.name, "n2");
	assert_int_equal(dnspool_map(p, "x3", 30, x4, a6, &ev), 0);
	assert_string_equal(ev.name, "n3");
	assert_int_equal(dnspool_map(p, "x4", 30, x4, a6, &ev), 0);
	assert_string_equal(ev.name, "n0");
	assert_int_equal(ev.idle_ms, 10);
	dnspool_free(p);
}

/*
 * --workers: each thread passes its own loop's clock, which may lag behind
 * the time another thread just used an entry at. A lagging clock must not
 * make that entry look expired (now - used would wrap).
 */
static void test_clock_behind(void **state)
{
	struct dnspool_cfg c;
	struct dnspool *p;
	struct dnspool_entry *e;
	uint8_t a4[4], a6[16], b4[4], b6[16];

	(void)state;
	cfg_small(&c, "10.9.0.0/16", 100);
	p = dnspool_new(&c);
	assert_non_null(p);
	assert_int_equal(dnspool_map(p, "n", 5000, a4, a6, NULL), 0);
	assert_non_null((e = dnspool_get(p, AF_INET, a4, 4990)));
	dnspool_put(p, e, 4990);
	assert_int_equal(dnspool_map(p, "n", 4980, b4, b6, NULL), 0);
	assert_memory_equal(a4, b4, 4);
	assert_memory_equal(a6, b6, 16);
	/* Expiry still runs from the latest time seen. */
	assert_non_null((e = dnspool_get(p, AF_INET6, a6, 5999)));
	dnspool_put(p, e, 5999);
	assert_null(dnspool_get(p, AF_INET6, a6, 6999));
	dnspool_free(p);
}

static void test_exhaustion_and_reuse(void **state)
{
	struct dnspool_cfg c;
	struct dnspool *p;
	struct dnspool_evicted ev;
	struct dnspool_entry *held[5];
	uint8_t a4[5][4], a6[16], x4[4];
	char name[8], s[32];
	int i;

	(void)state;
	cfg_small(&c, "10.9.0.0/29", 100); /* offsets 1-6 */
	inet_pton(AF_INET, "10.9.0.2", c.excl4[c.nexcl4++]);
	p = dnspool_new(&c);
	assert_non_null(p);
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		assert_int_equal(dnspool_map(p, name, 0, a4[i], a6, NULL), 0);
		assert_int_not_equal(a4[i][3], 0);
		assert_int_not_equal(a4[i][3], 2);
		assert_int_not_equal(a4[i][3], 7);
	}
	/* Every address handed out: h0 (oldest) gives its address up. */
	assert_int_equal(dnspool_map(p, "h5", 10, x4, a6, &ev), 0);
	assert_string_equal(ev.name, "h0");
	inet_ntop(AF_INET, x4, s, sizeof(s));
	assert_string_equal(s, "10.9.0.1"); /* after .6 the cursor wrapped */
	assert_memory_equal(x4, a4[0], 4);  /* the only free one */
	memcpy(a4[0], x4, 4);
	/* All five held: nothing to give up. */
	for (i = 0; i < 5; i++)
		assert_non_null((held[i] = dnspool_get(p, AF_INET, a4[i], 20)));
	assert_int_equal(dnspool_map(p, "h6", 20, x4, a6, &ev), -ENOSPC);
	for (i = 0; i < 5; i++)
		dnspool_put(p, held[i], 30);
	assert_int_equal(dnspool_map(p, "h6", 30, x4, a6, &ev), 0);
	dnspool_free(p);
	/* A pool with no usable address is refused. */
	cfg_small(&c, "10.9.0.0/30", 100);
	inet_pton(AF_INET, "10.9.0.1", c.excl4[c.nexcl4++]);
	assert_null(dnspool_new(&c));
}

static void test_many(void **state)
{
	struct dnspool_cfg c;
	struct dnspool *p;
	uint8_t a4[4], a6[16];
	char name[32];
	int i;

	(void)state;
	cfg_small(&c, "198.18.0.0/15", 1000);
	p = dnspool_new(&c);
	assert_non_null(p);
	for (i = 0; i < 5000; i++) {
		struct dnspool_entry *e;

		snprintf(name, sizeof(name), "host%d.test", i);
		assert_int_equal(dnspool_map(p, name, (uint64_t)i, a4, a6, NULL), 0);
		e = dnspool_get(p, AF_INET6, a6, (uint64_t)i);
		assert_non_null(e);
		assert_string_equal(dnspool_entry_name(e), name);
		dnspool_put(p, e, (uint64_t)i);
		assert_true(dnspool_count(p) <= 1000); /* keep 1000 ms, one name per ms */
	}
	dnspool_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_cidr),
		cmocka_unit_test(test_map_both_ways),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_lru_bound),
		cmocka_unit_test(test_lru_order),
		cmocka_unit_test(test_clock_behind),
		cmocka_unit_test(test_exhaustion_and_reuse),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests_name("dnspool", tests, NULL, NULL);
}
