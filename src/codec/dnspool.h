/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtual resolver's fake addresses: each name asked for gets one IPv4
 * and one IPv6 address from the pools (default 198.18.0.0/15 and
 * fd70:7678::/64), and a TCP connection to either is opened at the proxy by
 * that name. Bounded: at most cfg.max entries, least recently used first
 * out, and an entry is recycled only once it has expired (no connection
 * holds it and it was last used keep_ms ago). Addresses are handed out by
 * a cursor that walks the whole pool before it reuses one, so an address
 * a stale cache still holds comes back as late as possible. Pure: the
 * caller passes the time (ms).
 */
#ifndef PROXYVPN_DNSPOOL_H
#define PROXYVPN_DNSPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNSPOOL_NET4_DEFAULT "198.18.0.0/15"  /* RFC 2544 benchmarking range */
#define DNSPOOL_NET6_DEFAULT "fd70:7678::/64" /* ULA, the TUN's own /64 */

enum {
	DNSPOOL_MAX_DEFAULT = 65536,	  /* names mapped at once */
	DNSPOOL_TTL_DEFAULT = 10,	  /* s, the TTL of our answers */
	DNSPOOL_KEEP_MS_DEFAULT = 600000, /* a mapping outlives its last use this long */
	DNSPOOL_EXCLUDE_MAX = 8,	  /* addresses never handed out, per family */
};

struct dnspool_cfg {
	uint8_t net4[4], net6[16];
	uint8_t plen4, plen6; /* 8-30, 64-120 */
	uint32_t max;	      /* 0 = DNSPOOL_MAX_DEFAULT */
	uint32_t keep_ms;     /* 0 = DNSPOOL_KEEP_MS_DEFAULT */
	uint8_t excl4[DNSPOOL_EXCLUDE_MAX][4], excl6[DNSPOOL_EXCLUDE_MAX][16];
	size_t nexcl4, nexcl6; /* the TUN's own and the resolver's addresses */
};

struct dnspool;
struct dnspool_entry;

/*
 * Parses "ADDR/LEN" of family (AF_INET/AF_INET6) into net/plen: host bits
 * must be zero, LEN within the range above. 0 or -EINVAL.
 */
int dnspool_parse_cidr(const char *s, int family, uint8_t *net, uint8_t *plen);

/* The defaults above (nothing excluded yet). */
void dnspool_cfg_default(struct dnspool_cfg *cfg);

/* NULL with errno set (ENOMEM, EINVAL for a bad cfg). */
struct dnspool *dnspool_new(const struct dnspool_cfg *cfg);
void dnspool_free(struct dnspool *p);

/*
 * The addresses for name (lower case, as dns_parse_query gives it), made
 * if new; either way it counts as used now. 0, or -ENOSPC when the pool is
 * full of entries that have not expired, -ENOMEM.
 */
int dnspool_map(struct dnspool *p, const char *name, uint64_t now, uint8_t a4[4], uint8_t a6[16]);

/* addr (4 or 16 bytes by family) lies in one of the pools. */
bool dnspool_contains(const struct dnspool *p, int family, const uint8_t *addr);

/*
 * The live entry for addr with a reference taken (it will not expire while
 * held), or NULL: no mapping or an expired one. dnspool_put() drops it.
 */
struct dnspool_entry *dnspool_get(struct dnspool *p, int family, const uint8_t *addr, uint64_t now);
void dnspool_put(struct dnspool *p, struct dnspool_entry *e, uint64_t now);
const char *dnspool_entry_name(const struct dnspool_entry *e);

size_t dnspool_count(struct dnspool *p);

#endif
