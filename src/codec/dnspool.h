/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The virtual resolver's fake addresses: each name asked for gets one IPv4
 * and one IPv6 address from the pools (default 198.18.0.0/15 and
 * fd70:7678::/64), and a TCP connection to either is opened at the proxy by
 * that name. Bounded: at most cfg.max entries. A mapping no connection
 * holds lives keep_ms after its last use (expired: a new query gets fresh
 * addresses); when the pool is full, the least recently used mapping that
 * no connection holds makes room, expired or not, so one client filling
 * the pool with names cannot deny names to the others. Only when every
 * entry is held is a new name refused. Addresses are handed out by a
 * cursor that walks the whole pool before it reuses one, so an address a
 * stale cache still holds comes back as late as possible. Pure: the caller
 * passes the time (ms); the pool's clock never goes back, whatever thread
 * passes an older one.
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

/* A mapping dnspool_map dropped before it expired, to make room. */
struct dnspool_evicted {
	char name[254];	  /* "" if none was */
	uint64_t idle_ms; /* since its last use */
};

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
 * if new; either way it counts as used now. A full pool drops its least
 * recently used mapping that no connection holds; if that one had not
 * expired, it is named in *ev (may be NULL). 0, or -ENOSPC when every
 * entry is held by a connection, -ENOMEM.
 */
int dnspool_map(struct dnspool *p, const char *name, uint64_t now, uint8_t a4[4], uint8_t a6[16],
		struct dnspool_evicted *ev);

/* name has a live mapping (one dnspool_map would return as it is); nothing changes. */
bool dnspool_known(struct dnspool *p, const char *name, uint64_t now);

/* addr (4 or 16 bytes by family) lies in one of the pools. */
bool dnspool_contains(const struct dnspool *p, int family, const uint8_t *addr);

/*
 * The live entry for addr with a reference taken (it is neither expired
 * nor dropped for room while held), or NULL: no mapping or an expired one.
 * dnspool_put() drops it.
 */
struct dnspool_entry *dnspool_get(struct dnspool *p, int family, const uint8_t *addr, uint64_t now);
void dnspool_put(struct dnspool *p, struct dnspool_entry *e, uint64_t now);
const char *dnspool_entry_name(const struct dnspool_entry *e);

size_t dnspool_count(struct dnspool *p);

#endif
