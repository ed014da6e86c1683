/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TUN resolver (engine side of --dns virtual and --dns tcp). Every UDP
 * query to port 53 that reaches the TUN is answered here, whatever address
 * it was sent to, from that address: A and AAAA with fake addresses
 * (virtual), anything else NOERROR/NODATA, or forwarded as DNS over TCP
 * through the proxy to the server (tcp: every query; virtual: the types
 * other than A/AAAA when a server is given), one upstream (upstream.h) per
 * query. A forwarded query that fails or takes RESOLVER_FWD_TIMEOUT_MS gets
 * SERVFAIL; at most RESOLVER_FWD_MAX are in flight (past that, the oldest
 * gets SERVFAIL and makes room). Virtual with a server: an A/AAAA query over
 * UDP for a name with no live fake address is a check, forwarded the same
 * way: NXDOMAIN from the server is passed on, anything else (a failure
 * too) gets the fake answer. For the session table it says where a TCP
 * flow goes (the name behind a fake address) and serves DNS over TCP to its
 * own address.
 */
#ifndef PROXYVPN_RESOLVER_H
#define PROXYVPN_RESOLVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnspool.h"
#include "ip.h"
#include "loop.h"
#include "proxy.h"
#include "tcp.h"
#include "udp.h"
#include "upstream.h"

enum {
	RESOLVER_FWD_MAX = 128,
	RESOLVER_FWD_TIMEOUT_MS = 5000,
};

enum resolver_mode {
	RESOLVER_VIRTUAL, /* fake addresses; names go to the proxy */
	RESOLVER_TCP,	  /* every query as DNS over TCP through the proxy */
};

struct resolver_cfg {
	enum resolver_mode mode;
	const struct upstream_cfg *upstream; /* borrowed: forwarded queries go through it */
	uint32_t mtu;			     /* of the TUN: a larger UDP answer is not sent */
	uint8_t addr4[4], addr6[16];	     /* the resolver's own addresses */
	struct dnspool_cfg pool;	     /* virtual: the fake addresses */
	struct dnspool *shared_pool;	     /* virtual, --workers: queue 0's, borrowed */
	uint32_t ttl;			     /* s, of fake answers; 0 = DNSPOOL_TTL_DEFAULT */
	struct sockaddr_storage server;	     /* --dns-server (ss_family 0: none) */
	socklen_t server_len;
};

struct resolver_stats { /* uint64_t counters only */
	uint64_t queries, fake, forwarded, failed;
	uint64_t fake_unmapped; /* TCP to a fake address with no live name: reset */
};

struct resolver;

/* Answers go to the app through output (UDP packets). NULL with errno set. */
struct resolver *resolver_new(struct loop *loop, const struct resolver_cfg *cfg,
			      udp_output_fn *output, void *ctx);
/* Drops queries in flight and the pool (unless shared); NULL is fine. */
void resolver_free(struct resolver *r);
/* Frees forwarded queries finished during this batch (outside loop callbacks). */
void resolver_reap(struct resolver *r);
const struct resolver_stats *resolver_stats(const struct resolver *r);
/* The fake pool (virtual), for the UDP relay and the other queues; else NULL. */
struct dnspool *resolver_pool(const struct resolver *r);

/* One UDP datagram to port 53. */
void resolver_udp_input(struct resolver *r, const struct ip_view *v, const struct udp_view *u);

/*
 * Where a new TCP flow to c->laddr:c->lport goes. 0: the address as is.
 * 1: d->name set from the fake address's mapping, with *ref held (give it
 * back with resolver_tcp_done). -ECONNREFUSED: a fake address with no live
 * mapping, or the resolver's address on a port other than 53: reset.
 * The resolver's port 53 (DNS over TCP from apps): with --dns tcp it goes
 * to the server (d->addr rewritten, 0 returned); with virtual it is served
 * here (RESOLVER_LOCAL).
 */
int resolver_tcp_dest(struct resolver *r, const struct tcp_conn *c, struct proxy_dest *d,
		      struct dnspool_entry **ref);
enum { RESOLVER_LOCAL = 2 }; /* resolver_tcp_dest: serve the flow here (resolver_tcp_local) */

/*
 * DNS over TCP to the resolver with --dns virtual: framed queries in rx
 * answered into tx, our FIN after the app's. The session calls it when rx
 * gains bytes, tx gains room and on the app's FIN. false: c was aborted
 * (tcp_abort, detached).
 */
bool resolver_tcp_local(struct resolver *r, struct tcp_conn *c);
/* Gives back what resolver_tcp_dest held (NULL is fine). */
void resolver_tcp_done(struct resolver *r, struct dnspool_entry *ref);

#endif
