/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Policy routing for host mode (`up`), over rtnetlink: our own table with a
 * default route out of the TUN, a local default (via lo) and an unreachable
 * default behind it, and one rule per family sending our fwmark (full
 * mask) to that table. Plus a catch-all for hosts with no default route: a
 * second table (default dev TUN, unreachable default) looked up, with no
 * selector, after the main table.
 */
#ifndef PROXYVPN_ROUTE_H
#define PROXYVPN_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* First values route_pick() tries; it walks upward from each. */
#define ROUTE_TABLE_DEFAULT 0x7076u /* "pv" */
#define ROUTE_MARK_DEFAULT  0x7076u
#define ROUTE_PRIO_DEFAULT  5200u
/*
 * The catch-all: connect() and an unconnected send route the packet once
 * before our fwmark exists (the mark is set by fw.c's route chain, on the
 * packet that lookup produced). Without a default route in main, that first
 * lookup fails and the app gets ENETUNREACH although the TUN would carry it.
 * A rule after main (32766) and default (32767) sends what main cannot route
 * to a table of its own holding only `default dev TUN` and `unreachable
 * default`: never the local fallback, which would deliver unmarked traffic to
 * local listeners. With the TUN gone, the lookup ends at the unreachable route
 * (connect fails at once: K2). What is unmarked when it reaches the TUN (the
 * proxy's own connection, excluded traffic) is refused by fw.c's tun_guard
 * chain, so nothing loops through the engine.
 */
#define ROUTE_CATCH_TABLE_DEFAULT 0x7077u
#define ROUTE_CATCH_PRIO_MIN	  32768u
/*
 * rtm_protocol / FRA_PROTOCOL on every route and rule we add ('v'; unused
 * by the kernel and iproute2's rt_protos). It is what route_find_ours()
 * recognises, so a look-alike someone typed by hand is never ours.
 */
#define ROUTE_PROTO 118
/*
 * Behind the TUN's route: once the TUN is gone (a crash), marked TCP is
 * routed to lo by the local fallback, never out, and fw.c's input chain
 * answers it with a reset, so apps fail at once instead of hanging (the
 * unreachable route alone drops it silently inside the output hook's
 * reroute, which TCP does not report to connect()). The unreachable default
 * behind both ends the lookup in our table for what neither matches (a
 * socket bound to another device), which would otherwise fall through to
 * the main table; the kernel then assumes such a destination on-link, and
 * fw.c's mark_guard chain drops what would leave that way.
 */
#define ROUTE_METRIC_FALLBACK 0xfffffffeu
#define ROUTE_METRIC_UNREACH  0xffffffffu

struct route_cfg {
	int ifindex;	      /* the TUN; 0 only for route_remove() of a dead run */
	uint32_t table;	      /* our routing table id */
	uint32_t mark;	      /* fwmark; the rule matches mark/0xffffffff (full mask) */
	uint32_t prio;	      /* ip rule priority */
	uint32_t catch_table; /* the catch-all's table (not table) */
	uint32_t catch_prio;  /* its rule's priority, >= ROUTE_CATCH_PRIO_MIN */
	bool ipv6;	      /* also install the IPv6 side */
};

/* Values a user may choose (--table, --priority); any non-zero mark is fine. */
bool route_table_ok(uint32_t table); /* not 0 or 252-255 (compat, default, main, local) */
bool route_prio_ok(uint32_t prio);   /* 1-ROUTE_PRIO_MAX */
#define ROUTE_PRIO_MAX 32765u	     /* below the main table's rule (32766) */

/*
 * Fills each of table, mark and prio that is 0 with the first free value at
 * or above its default (dumps every family's routes and rules). A non-zero
 * field is the user's choice: kept, but -EBUSY if something already uses it
 * (*busy, if busy is not NULL, then names it: "table", "fwmark", "priority").
 * "Used": table = any route in it or any rule looking it up, or 0/252-255;
 * mark = a rule whose fwmark/fwmask would match a packet carrying it;
 * prio = any rule (any family) at it. catch_table and catch_prio are always
 * picked (from ROUTE_CATCH_TABLE_DEFAULT, not table; from
 * ROUTE_CATCH_PRIO_MIN). 0 or -errno (-ENOSPC: nothing free).
 */
int route_pick(struct route_cfg *c, const char **busy);

/*
 * Adds, per family (IPv4, then IPv6 if c->ipv6): `unreachable default`
 * (metric ROUTE_METRIC_UNREACH), `local default dev lo` (metric
 * ROUTE_METRIC_FALLBACK), `default dev TUN` and the rule
 * `fwmark mark/0xffffffff lookup table` at prio; then in catch_table
 * `unreachable default` and `default dev TUN`, and the rule `lookup
 * catch_table` at catch_prio; all tagged ROUTE_PROTO. Every add is
 * exclusive: installing twice fails with -EEXIST at the first step and
 * changes nothing. On any failure it removes what this call added and writes
 * the failed step into err. 0 or -errno.
 */
int route_install(const struct route_cfg *c, char *err, size_t errlen);

/*
 * Deletes exactly what route_install() adds (the dev route matched by
 * c->ifindex, or by table + protocol + type when ifindex is 0): rules
 * first, then routes. table 0 leaves the fwmark part out, catch_table 0 the
 * catch-all (a dead run found by route_find_ours() may have only one).
 * Absent objects are not an error. Goes on past a failure; returns the first
 * one (its step in err) or 0.
 */
int route_remove(const struct route_cfg *c, char *err, size_t errlen);

/*
 * For `down` without a state file. A rule is ours iff it was added with
 * FRA_PROTOCOL == ROUTE_PROTO, its action is "lookup table" with a table
 * that is not 0/local/main/default, and it has no other selector (no
 * from/to, tos, iif/oif, uidrange, ipproto, ports, l3mdev, suppress_*,
 * goto, not) than, for the fwmark rule, fwmark M/0xffffffff with M != 0; a
 * catch-all rule has no fwmark and a priority >= ROUTE_CATCH_PRIO_MIN. Fills
 * c from the first of each found (lowest prio; the part not found is left 0;
 * ipv6 = an IPv6 rule with the same ids exists; ifindex = the oif of the
 * table's default route, else 0). 1 found, 0 none, -errno. To clear several
 * dead runs, call in a loop (bounded) with route_remove() in between.
 */
int route_find_ours(struct route_cfg *c);

/*
 * What the watcher and `status` see of route_install()'s objects. Steps are
 * numbered in install order (IPv4: unreachable, local fallback, dev route,
 * fwmark rule, catch-all unreachable, catch-all dev route, catch-all rule;
 * then the same for IPv6), bit i of a mask standing for step i.
 */
enum {
	ROUTE_STEPS = 14,
	ROUTE_FOREIGN_MAX = 16, /* foreign routes route_repair() deletes per call */
};
struct route_state {
	uint32_t missing;     /* steps absent, or not as installed */
	unsigned int foreign; /* routes in our tables that route_install() did not add */
};

/* "IPv4 fwmark rule", ...; NULL for i >= ROUTE_STEPS. */
const char *route_step_name(unsigned int i);

/*
 * Looks for c's objects (two dumps): a route is ours by table, type,
 * protocol, metric and device (the dev routes: c->ifindex; with ifindex 0
 * they are always missing); a rule by priority, fwmark/mask (none for the
 * catch-all), table and no other selector (any protocol: the kernel would
 * take it for ours). Any other route in either table is foreign. 0 or
 * -errno.
 */
int route_check(const struct route_cfg *c, struct route_state *out);

/*
 * Puts back what route_check() would find missing, except the steps in
 * skip (e.g. the dev routes while the TUN is gone): routes replace whatever
 * holds their key (NLM_F_REPLACE), rules are added; and deletes up to
 * ROUTE_FOREIGN_MAX foreign routes from our tables. *done says what it
 * restored and deleted. 0 or the first -errno (its step in err).
 */
int route_repair(const struct route_cfg *c, uint32_t skip, struct route_state *done, char *err,
		 size_t errlen);

#endif
