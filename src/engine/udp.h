/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * UDP relay through a SOCKS5 proxy (RFC 1928 §7, UDP ASSOCIATE). One
 * association per app socket, keyed by the app's (family, address, port):
 * the datagrams an app socket sends to any destination share it, each
 * carrying its destination in the SOCKS5 header. An association is a TCP
 * control connection (greeting, auth, UDP ASSOCIATE through struct
 * proxy_hs) plus a UDP socket connected to the relay address the proxy
 * names, so the kernel delivers datagrams from that address only. Replies
 * go back to the app as UDP packets from the source the relay reports.
 * The control connection is an upstream (upstream.h) like any tunnel.
 *
 * Virtual DNS (cfg.pool): a datagram to a fake address goes to the proxy by
 * name, and the association holds the mapping (a dnspool reference) while it
 * remembers that destination (UDP_PEERS per association). The relay reports
 * a reply's source as the address the proxy resolved (or the name), so a
 * reply whose port matches a name the socket sent to is shown as coming from
 * that name's fake address, which is what a connected app socket expects.
 *
 * Bounds: at most max_assoc associations (past it, new app sockets' datagrams
 * are refused: counted, and the caller answers ICMP port unreachable); at most UDP_QUEUE_MAX datagrams / UDP_QUEUE_BYTES
 * held per association while its handshake runs; an association with no
 * datagram either way for timeout_ms is closed, and so is one whose control
 * connection the proxy closes. One whose setup failed stays (without
 * sockets) for UDP_RETRY_MS, dropping its socket's datagrams, then goes. Every drop has a counter (struct udp_stats).
 */
#ifndef PROXYVPN_UDP_H
#define PROXYVPN_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "ip.h"
#include "loop.h"
#include "upstream.h"

enum {
	UDP_TIMEOUT_MS_DEFAULT = 60000, /* idle, per association (--udp-timeout) */
	UDP_MAX_ASSOC_DEFAULT = 256,	/* associations at once (--max-udp) */
	UDP_RETRY_MS = 2000,	 /* after a failed setup, the app socket's datagrams are dropped */
	UDP_QUEUE_MAX = 16,	 /* datagrams held while an association is set up */
	UDP_QUEUE_BYTES = 65536, /* their bytes, SOCKS5 headers included */
	UDP_RX_BATCH = 64,	 /* datagrams read from a relay socket per wakeup */
	UDP_PEERS = 4,		 /* destinations remembered per association (replies) */
};

struct dnspool;

struct udp_cfg {
	const struct upstream_cfg *upstream; /* borrowed: the proxy, which must be SOCKS5 */
	struct dnspool *pool;		     /* borrowed, may be NULL: virtual DNS (dnspool.h) */
	uint32_t mtu;			     /* of the TUN: larger replies are dropped */
	uint32_t timeout_ms;		     /* 0 = UDP_TIMEOUT_MS_DEFAULT */
	uint32_t max_assoc;		     /* 0 = UDP_MAX_ASSOC_DEFAULT */
	/*
	 * The relay is the proxy's own address with BND.PORT whatever
	 * BND.ADDR says (host mode: only the proxy's address is left
	 * unmarked by the firewall; datagrams to another would loop into
	 * the TUN).
	 */
	bool relay_at_proxy;
};

struct udp_stats {
	uint64_t assoc_total, assoc_failed, assoc_idle, assoc_closed;
	uint64_t limit_dropped;		/* new app socket past max_assoc */
	uint64_t dgrams_out, dgrams_in; /* app -> relay, relay -> app */
	uint64_t queue_dropped;		/* setup queue full, or setup failed with datagrams held */
	uint64_t failed_dropped;	/* within UDP_RETRY_MS of a failed setup */
	uint64_t send_dropped;		/* relay socket full or refusing */
	uint64_t bad_in;	  /* from the app: multicast, broadcast or port 0 destination */
	uint64_t stale_fake;	  /* from the app: to a virtual-DNS address no longer mapped */
	uint64_t bad_relay;	  /* from the relay: malformed SOCKS5 header */
	uint64_t frag_dropped;	  /* from the relay: FRAG != 0 */
	uint64_t foreign_dropped; /* from the relay: source of another family, or a name */
	uint64_t too_big;	  /* from the relay: larger than the TUN MTU */
};

/* Writes one IP packet (header and payload as iovecs) to the TUN. */
typedef void udp_output_fn(void *ctx, const struct iovec *iov, int iovcnt);

/*
 * Writes one UDP datagram to the app through output: from src:sport (the
 * address the app sent to) to dst:dport. 0, or -EMSGSIZE past mtu (UDP
 * toward the app is never fragmented).
 */
int udp_send_to_app(udp_output_fn *output, void *ctx, uint32_t mtu, int family, const uint8_t *src,
		    uint16_t sport, const uint8_t *dst, uint16_t dport, const void *data,
		    size_t len);

struct udp_relay;

/* NULL with errno set (EINVAL: proxy not SOCKS5; ENOMEM). */
struct udp_relay *udp_relay_new(struct loop *loop, const struct udp_cfg *cfg, udp_output_fn *output,
				void *ctx);
/* Closes every association and frees everything; NULL is fine. */
void udp_relay_free(struct udp_relay *r);
/*
 * One UDP datagram from the app: v as parsed by ip_parse(), u by
 * udp_parse(). True if it was taken (sent, queued, or dropped as UDP may
 * be: queue full, relay socket full); false if it was refused (past
 * max_assoc, within UDP_RETRY_MS of a failed setup, to an expired
 * virtual-DNS address, a multicast or port-0 destination): the caller
 * answers ICMP port unreachable so a connected socket fails at once.
 */
bool udp_relay_input(struct udp_relay *r, const struct ip_view *v, const struct udp_view *u);
/* Frees associations closed during this loop batch (call outside every callback). */
void udp_reap(struct udp_relay *r);
const struct udp_stats *udp_relay_stats(const struct udp_relay *r);
/* Live associations. */
size_t udp_relay_count(const struct udp_relay *r);

#endif
