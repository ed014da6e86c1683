/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TUN resolver (engine side of --dns virtual and --dns tcp). Every UDP
 * query to port 53 that reaches the TUN is answered here, whatever address
 * it was sent to, from that address: A and AAAA with fake addresses
 * (virtual), anything else NOERROR/NODATA, or forwarded as DNS over TCP
 * through the proxy to --dns-server (tcp: every query; virtual: the types
 * other than A/AAAA when a server is given). A forwarded query that fails
 * or takes RESOLVER_FWD_TIMEOUT_MS gets SERVFAIL; at most RESOLVER_FWD_MAX
 * are in flight (past that, the oldest gets SERVFAIL and makes room).
 */
#ifndef PROXYVPN_RESOLVER_H
#define PROXYVPN_RESOLVER_H

#include "engine.h"
#include "proxy.h"

enum {
	RESOLVER_FWD_MAX = 128,
	RESOLVER_FWD_TIMEOUT_MS = 5000,
};

/* Makes the fake pool (virtual). 0 or -errno. */
int resolver_init(struct engine *e);
/* Drops queries in flight and the pool; safe on an engine without them. */
void resolver_fini(struct engine *e);
/* Frees forwarded queries finished during this batch. */
void resolver_reap(struct engine *e);

/* One UDP datagram to port 53 (DNS mode not bypass). */
void resolver_udp_input(struct engine *e, const struct ip_view *v, const struct udp_view *u);

/*
 * Where a new TCP flow to c->laddr:c->lport goes. 0: the address as is.
 * 1: d->name set from the fake address's mapping, with *ref held (give it
 * back with resolver_tcp_done). -ECONNREFUSED: a fake address with no live
 * mapping, or the resolver's address on a port other than 53: reset.
 * The resolver's port 53 (DNS over TCP from apps): with --dns tcp it goes
 * to --dns-server (d->addr rewritten, 0 returned); with virtual it is
 * served here (RESOLVER_LOCAL).
 */
int resolver_tcp_dest(struct engine *e, const struct tcp_conn *c, struct proxy_dest *d,
		      struct dnspool_entry **ref);
enum { RESOLVER_LOCAL = 2 }; /* resolver_tcp_dest: serve the flow here (resolver_tcp_local) */

/*
 * DNS over TCP to the resolver with --dns virtual: framed queries in rx
 * answered into tx, our FIN after the app's. The session calls it when rx
 * gains bytes, tx gains room and on the app's FIN. false: c was aborted
 * (tcp_abort, detached).
 */
bool resolver_tcp_local(struct engine *e, struct tcp_conn *c);
void resolver_tcp_done(struct engine *e, struct dnspool_entry *ref);

/*
 * The same for any protocol (the UDP relay: a SOCKS5 UDP header can carry
 * a name): addr in a fake pool is replaced by its name in d (family 0) with
 * *ref held (1), refused if unmapped (-ECONNREFUSED), else left alone (0).
 * Give *ref back with resolver_tcp_done when the flow ends.
 */
int resolver_fake_dest(struct engine *e, int family, const uint8_t *addr, struct proxy_dest *d,
		       struct dnspool_entry **ref);

#endif
