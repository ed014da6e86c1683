// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fake-address pool: entries in three chained hash tables (name, IPv4
 * offset, IPv6 offset); those no connection holds also in one LRU list,
 * most recent first, whose tail is the one to drop when the pool is full.
 * An address is stored as its offset in the pool (the low 32 bits at most).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns.h"
#include "dnspool.h"
#include "num.h"

struct dnspool_entry {
	struct dnspool_entry *hn, *h4, *h6; /* hash chains */
	struct dnspool_entry *prev, *next;  /* LRU while refs == 0, head = most recent */
	uint64_t used;			    /* ms (pool clock), last answered or released */
	uint32_t refs;			    /* connections using it */
	uint32_t off4, off6;
	char name[];
};

_Static_assert(sizeof(((struct dnspool_evicted *)0)->name) == DNS_TEXT_MAX + 1,
	       "dnspool_evicted: room for any name");

struct dnspool {
	struct dnspool_cfg cfg;
	struct dnspool_entry **tn, **t4, **t6;
	size_t nbuckets;		   /* a power of two */
	struct dnspool_entry *head, *tail; /* the entries no connection holds */
	size_t count;			   /* all entries, held or not */
	uint64_t clock;			   /* the latest time any caller passed */
	uint32_t size4, size6;		   /* offsets 1 .. size-2 are handed out */
	uint32_t cur4, cur6;		   /* next offset to try */
	uint64_t seed;
	/* --workers: one pool for every engine thread; each call below holds it */
	pthread_mutex_t lock;
};

int dnspool_parse_cidr(const char *s, int family, uint8_t *net, uint8_t *plen)
{
	char a[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = family == AF_INET6 ? 16 : 4, i;
	uint64_t n;
	unsigned lo = family == AF_INET6 ? 64 : 8, hi = family == AF_INET6 ? 120 : 30;

	if (!slash || (size_t)(slash - s) >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = 0;
	if (inet_pton(family, a, net) != 1)
		return -EINVAL;
	if (num_parse(slash + 1, strlen(slash + 1), 0, lo, hi, &n) < 0)
		return -EINVAL;
	for (i = 0; i < alen; i++) {
		size_t bit = i * 8;
		uint8_t mask = bit >= n	      ? 0
			       : bit + 8 <= n ? 0xff
					      : (uint8_t)(0xff << (8 - (n - bit)));

		if (net[i] & ~mask)
			return -EINVAL; /* host bits set */
	}
	*plen = (uint8_t)n;
	return 0;
}

void dnspool_cfg_default(struct dnspool_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	dnspool_parse_cidr(DNSPOOL_NET4_DEFAULT, AF_INET, cfg->net4, &cfg->plen4);
	dnspool_parse_cidr(DNSPOOL_NET6_DEFAULT, AF_INET6, cfg->net6, &cfg->plen6);
}

/* The offset of addr in its pool, or false if outside it. */
static bool addr_off(const struct dnspool *p, int family, const uint8_t *addr, uint32_t *off)
{
	const uint8_t *net = family == AF_INET6 ? p->cfg.net6 : p->cfg.net4;
	size_t alen = family == AF_INET6 ? 16 : 4;
	uint32_t size = family == AF_INET6 ? p->size6 : p->size4;
	uint32_t o = load_be32(addr + alen - 4), base = load_be32(net + alen - 4);

	if (memcmp(addr, net, alen - 4))
		return false;
	if (o - base >= size)
		return false;
	*off = o - base;
	return true;
}

static void off_addr(const struct dnspool *p, int family, uint32_t off, uint8_t *addr)
{
	const uint8_t *net = family == AF_INET6 ? p->cfg.net6 : p->cfg.net4;
	size_t alen = family == AF_INET6 ? 16 : 4;

	memcpy(addr, net, alen);
	store_be32(addr + alen - 4, load_be32(net + alen - 4) + off);
}

/* FNV-1a over the bytes, keyed by a random seed: chain lengths stay short. */
static size_t hash(const struct dnspool *p, const void *data, size_t len)
{
	const uint8_t *b = data;
	uint64_t h = 0xcbf29ce484222325ull ^ p->seed;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	h ^= h >> 29;
	return (size_t)h & (p->nbuckets - 1);
}

static size_t hash_off(const struct dnspool *p, uint32_t off)
{
	return hash(p, &off, sizeof(off));
}

struct dnspool *dnspool_new(const struct dnspool_cfg *cfg)
{
	struct dnspool *p;
	uint32_t max = cfg->max ? cfg->max : DNSPOOL_MAX_DEFAULT;

	if (cfg->plen4 < 8 || cfg->plen4 > 30 || cfg->plen6 < 64 || cfg->plen6 > 120 ||
	    cfg->nexcl4 > DNSPOOL_EXCLUDE_MAX || cfg->nexcl6 > DNSPOOL_EXCLUDE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->lock, NULL);
	p->cfg = *cfg;
	p->cfg.max = max;
	if (!p->cfg.keep_ms)
		p->cfg.keep_ms = DNSPOOL_KEEP_MS_DEFAULT;
	p->size4 = (uint32_t)1 << (32 - cfg->plen4);
	p->size6 = cfg->plen6 <= 96 ? UINT32_MAX : (uint32_t)1 << (128 - cfg->plen6);
	p->cur4 = p->cur6 = 1;
	if (p->size4 <= 3 + cfg->nexcl4 || p->size6 <= 3 + cfg->nexcl6) {
		free(p);
		errno = EINVAL; /* not one usable address */
		return NULL;
	}
	for (p->nbuckets = 64; p->nbuckets < max && p->nbuckets < ((size_t)1 << 20);)
		p->nbuckets <<= 1;
	p->tn = calloc(p->nbuckets, sizeof(*p->tn));
	p->t4 = calloc(p->nbuckets, sizeof(*p->t4));
	p->t6 = calloc(p->nbuckets, sizeof(*p->t6));
	if (!p->tn || !p->t4 || !p->t6 || getrandom(&p->seed, sizeof(p->seed), 0) < 0) {
		dnspool_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void dnspool_free(struct dnspool *p)
{
	struct dnspool_entry *e, *n;
	size_t i;

	if (!p)
		return;
	for (i = 0; p->tn && i < p->nbuckets; i++) {
		for (e = p->tn[i]; e; e = n) {
			n = e->hn;
			free(e);
		}
	}
	free(p->tn);
	free(p->t4);
	free(p->t6);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

size_t dnspool_count(struct dnspool *p)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->count;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/*
 * Engine threads each pass their own loop's clock, read at their last
 * wakeup: one may be behind the time another just stamped on an entry. The
 * pool keeps the latest it was given, so nothing looks older than it is
 * (now - used would wrap and expire an entry just used).
 */
static uint64_t pool_now(struct dnspool *p, uint64_t now)
{
	if (now > p->clock)
		p->clock = now;
	return p->clock;
}

static bool expired(const struct dnspool *p, const struct dnspool_entry *e, uint64_t now)
{
	return e->refs == 0 && now - e->used >= p->cfg.keep_ms;
}

static void lru_unlink(struct dnspool *p, struct dnspool_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		p->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		p->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct dnspool *p, struct dnspool_entry *e)
{
	e->next = p->head;
	e->prev = NULL;
	if (p->head)
		p->head->prev = e;
	else
		p->tail = e;
	p->head = e;
}

static void chain_del(struct dnspool_entry **slot, struct dnspool_entry *e, size_t link)
{
	while (*slot) {
		struct dnspool_entry **next = (struct dnspool_entry **)((char *)*slot + link);

		if (*slot == e) {
			*slot = *(struct dnspool_entry **)((char *)e + link);
			return;
		}
		slot = next;
	}
}

static void entry_del(struct dnspool *p, struct dnspool_entry *e)
{
	chain_del(&p->tn[hash(p, e->name, strlen(e->name))], e, offsetof(struct dnspool_entry, hn));
	chain_del(&p->t4[hash_off(p, e->off4)], e, offsetof(struct dnspool_entry, h4));
	chain_del(&p->t6[hash_off(p, e->off6)], e, offsetof(struct dnspool_entry, h6));
	if (e->refs == 0)
		lru_unlink(p, e);
	p->count--;
	free(e);
}

static struct dnspool_entry *find_off(const struct dnspool *p, int family, uint32_t off)
{
	struct dnspool_entry *e;

	if (family == AF_INET6) {
		for (e = p->t6[hash_off(p, off)]; e; e = e->h6)
			if (e->off6 == off)
				return e;
	} else {
		for (e = p->t4[hash_off(p, off)]; e; e = e->h4)
			if (e->off4 == off)
				return e;
	}
	return NULL;
}

static bool excluded(const struct dnspool *p, int family, uint32_t off)
{
	uint8_t a[16];
	size_t i;

	off_addr(p, family, off, a);
	if (family == AF_INET6) {
		for (i = 0; i < p->cfg.nexcl6; i++)
			if (!memcmp(a, p->cfg.excl6[i], 16))
				return true;
	} else {
		for (i = 0; i < p->cfg.nexcl4; i++)
			if (!memcmp(a, p->cfg.excl4[i], 4))
				return true;
	}
	return false;
}

/*
 * The next free offset after the cursor, skipping offset 0 and the last
 * (network and broadcast-like), excluded and mapped ones. Entries are fewer
 * than the pool's usable offsets (checked by the caller), so one turn of
 * the pool finds one; the walk is bounded by that turn anyway.
 */
static bool next_off(struct dnspool *p, int family, uint32_t *off)
{
	uint32_t *cur = family == AF_INET6 ? &p->cur6 : &p->cur4;
	uint32_t size = family == AF_INET6 ? p->size6 : p->size4, i;

	for (i = 0; i < size; i++) {
		uint32_t o = *cur;

		*cur = o + 1 >= size - 1 ? 1 : o + 1;
		if (o == 0 || o >= size - 1 || excluded(p, family, o) || find_off(p, family, o))
			continue;
		*off = o;
		return true;
	}
	return false;
}

/*
 * Room for one more: under the bound, or the least recently used entry no
 * connection holds dropped, expired or not (named in *ev if not). Waiting
 * for it to expire would let one client that asks for many names deny
 * every other one a name for keep_ms.
 */
static int make_room(struct dnspool *p, uint64_t now, struct dnspool_evicted *ev)
{
	struct dnspool_entry *e = p->tail;
	uint32_t usable4 = p->size4 - 2 - (uint32_t)p->cfg.nexcl4;
	uint32_t usable6 = p->size6 - 2 - (uint32_t)p->cfg.nexcl6;

	if (p->count < p->cfg.max && p->count < usable4 && p->count < usable6)
		return 0;
	if (!e)
		return -ENOSPC; /* every entry is held by a connection */
	if (ev && !expired(p, e, now)) {
		snprintf(ev->name, sizeof(ev->name), "%s", e->name);
		ev->idle_ms = now - e->used;
	}
	entry_del(p, e);
	return 0;
}

static struct dnspool_entry *find_name(const struct dnspool *p, const char *name)
{
	struct dnspool_entry *e;

	for (e = p->tn[hash(p, name, strlen(name))]; e; e = e->hn)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

static int map_locked(struct dnspool *p, const char *name, uint64_t now, uint8_t a4[4],
		      uint8_t a6[16], struct dnspool_evicted *ev)
{
	struct dnspool_entry *e = find_name(p, name);
	size_t len = strlen(name), h;
	int ret;

	if (e && expired(p, e, now)) {
		/* Fresh addresses: a cache that outlived the old ones gets an RST. */
		entry_del(p, e);
		e = NULL;
	}
	if (!e) {
		if (len > DNS_TEXT_MAX)
			return -EINVAL;
		ret = make_room(p, now, ev);
		if (ret < 0)
			return ret;
		e = calloc(1, sizeof(*e) + len + 1);
		if (!e)
			return -ENOMEM;
		if (!next_off(p, AF_INET, &e->off4) || !next_off(p, AF_INET6, &e->off6)) {
			free(e);
			return -ENOSPC;
		}
		memcpy(e->name, name, len + 1);
		h = hash(p, name, len);
		e->hn = p->tn[h];
		p->tn[h] = e;
		h = hash_off(p, e->off4);
		e->h4 = p->t4[h];
		p->t4[h] = e;
		h = hash_off(p, e->off6);
		e->h6 = p->t6[h];
		p->t6[h] = e;
		p->count++;
	} else if (e->refs == 0) {
		lru_unlink(p, e);
	}
	e->used = now;
	if (e->refs == 0)
		lru_push(p, e);
	off_addr(p, AF_INET, e->off4, a4);
	off_addr(p, AF_INET6, e->off6, a6);
	return 0;
}

bool dnspool_known(struct dnspool *p, const char *name, uint64_t now)
{
	const struct dnspool_entry *e;
	bool live;

	pthread_mutex_lock(&p->lock);
	e = find_name(p, name);
	live = e && !expired(p, e, pool_now(p, now));
	pthread_mutex_unlock(&p->lock);
	return live;
}

bool dnspool_contains(const struct dnspool *p, int family, const uint8_t *addr)
{
	uint32_t off;

	return addr_off(p, family, addr, &off);
}

int dnspool_map(struct dnspool *p, const char *name, uint64_t now, uint8_t a4[4], uint8_t a6[16],
		struct dnspool_evicted *ev)
{
	int ret;

	if (ev)
		ev->name[0] = '\0';
	pthread_mutex_lock(&p->lock);
	ret = map_locked(p, name, pool_now(p, now), a4, a6, ev);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

struct dnspool_entry *dnspool_get(struct dnspool *p, int family, const uint8_t *addr, uint64_t now)
{
	struct dnspool_entry *e = NULL;
	uint32_t off;

	if (!addr_off(p, family, addr, &off))
		return NULL;
	pthread_mutex_lock(&p->lock);
	now = pool_now(p, now);
	e = find_off(p, family, off);
	if (e && !expired(p, e, now)) {
		if (e->refs++ == 0)
			lru_unlink(p, e); /* held: out of reach of make_room */
		e->used = now;
	} else {
		e = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	return e;
}

void dnspool_put(struct dnspool *p, struct dnspool_entry *e, uint64_t now)
{
	pthread_mutex_lock(&p->lock);
	e->used = pool_now(p, now); /* the keep time runs from the last connection's end */
	if (e->refs == 0)
		lru_unlink(p, e); /* not held (an unbalanced put): moved to the head below */
	else if (--e->refs)
		goto out; /* still held */
	lru_push(p, e);	  /* the list stays in order of use, newest first */
out:
	pthread_mutex_unlock(&p->lock);
}

const char *dnspool_entry_name(const struct dnspool_entry *e)
{
	return e->name;
}
