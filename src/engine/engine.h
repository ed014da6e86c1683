/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine: one event loop's worth of everything behind one TUN fd. It
 * reads the TUN in batches into the IP layer and hands TCP to the stack
 * (tcp.h), whose session side is the session table (session.h: one
 * upstream per flow, upstream.h), UDP to port 53 to the TUN resolver
 * (resolver.h) and other UDP to the --udp policy (udp.h: the SOCKS5 relay,
 * or ICMP port unreachable). Each of those is an object of its own that
 * writes packets back through a callback into engine.c; the engine owns
 * them and the TUN. It runs from any TUN fd it is handed (IFF_TUN | IFF_NO_PI,
 * non-blocking), so exec mode, host mode and a privilege-separated child
 * all drive the same code; several engines on several queues of one TUN
 * run as a group (group.h).
 */
#ifndef PROXYVPN_ENGINE_H
#define PROXYVPN_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dnspool.h"
#include "ip.h"
#include "loop.h"
#include "tcp.h"
#include "upstream.h"
#include "url.h"

enum {
	ENGINE_TUN_BATCH = 64,			/* packets read per wakeup before flushing ACKs */
	ENGINE_PKT_MAX = 65536,			/* a TSO segment from the TUN included */
	ENGINE_FRAME_MAX = ENGINE_PKT_MAX + 64, /* read buffer: virtio-net header + packet */
	ENGINE_DRAIN_MS = 5000,			/* after the command exits, see engine_drain() */
	ENGINE_OUT_IOV = 8, /* iovecs per packet written, the virtio-net header included */
};

/*
 * The TUN resolver's addresses (--dns virtual/tcp): next to the TUN's own
 * 198.18.0.1 and fd70:7678::1, never assigned, so packets to them are
 * routed into the TUN. Queries to port 53 at any address are answered too.
 */
#define ENGINE_RESOLVER4 "198.18.0.2"
#define ENGINE_RESOLVER6 "fd70:7678::2"

/* What the engine does with DNS (UDP to port 53) and with other UDP. */
enum engine_dns {
	ENGINE_DNS_BYPASS,  /* DNS is UDP like any other: --udp decides */
	ENGINE_DNS_VIRTUAL, /* answered here: fake addresses, names to the proxy */
	ENGINE_DNS_TCP,	    /* carried as DNS over TCP through the proxy */
};

enum engine_udp {
	ENGINE_UDP_BLOCK, /* ICMP port unreachable: apps fail over to TCP at once */
	ENGINE_UDP_PROXY, /* SOCKS5 UDP ASSOCIATE (udp.h) */
};

struct engine_cfg {
	const struct proxy_url *proxy; /* borrowed for the engine's lifetime */
	struct sockaddr_storage proxy_addr;
	socklen_t proxy_addrlen;
	uint32_t mtu;
	size_t buf_size;	/* per connection, each way; 0 = TCP_BUF_DEFAULT */
	uint32_t hs_timeout_ms; /* proxy connect + handshake; 0 = UPSTREAM_HS_TIMEOUT_MS */
	struct tcp_cfg tcp;	/* limits and timers; mtu and buf_size come from above */
	uint32_t max_pending;	/* the handshake windows' cap, all engines; 0 = default */
	uint32_t engines;	/* engines in the group (its share of max_pending); 0 = 1 */
	enum engine_dns dns;
	enum engine_udp udp;
	uint32_t udp_timeout_ms;	     /* --udp proxy: 0 = UDP_TIMEOUT_MS_DEFAULT */
	uint32_t udp_max;		     /* --udp proxy: 0 = UDP_MAX_ASSOC_DEFAULT */
	bool udp_relay_at_proxy;	     /* up: the relay at the proxy's address (udp.h) */
	uint8_t resolver4[4], resolver6[16]; /* the TUN resolver's addresses (not bypass) */
	struct dnspool_cfg pool;	     /* fake addresses (virtual) */
	struct dnspool *shared_pool;	     /* --workers: queue 0's pool (engine_pool), borrowed */
	uint32_t dns_ttl;		     /* s, TTL of fake answers; 0 = DNSPOOL_TTL_DEFAULT */
	struct sockaddr_storage dns_server;  /* --dns-server (ss_family 0: none) */
	socklen_t dns_server_len;
	bool vnet; /* the TUN fd carries virtio-net headers: offloads (tun.h) */
	/* --workers: queue 0's failure log (engine_upfail), borrowed; NULL: the engine's own */
	struct upfail_log *upfail;
};

struct engine_stats { /* uint64_t counters only: summed as an array (engine_stats_add) */
	uint64_t pkts_in, pkts_out, pkts_bad, pkts_unsupported, tun_write_err, pkts_gso_in;
	uint64_t sessions_total, sessions_failed;
	uint64_t sessions_held, sessions_hold_expired; /* waited for the window or a socket */
	uint64_t udp_in, udp_bad, udp_unreach, dns_queries, dns_fake, dns_forwarded, dns_failed,
		fake_unmapped;
};

struct fault;
struct resolver;
struct session_table;
struct ctl_window;
struct udp_relay;
struct upfail_log;

/* Everything engine.c owns; the objects it points to are opaque here. */
struct engine {
	struct loop *loop;
	struct engine_cfg cfg;
	int tun_fd; /* -1 when none */
	struct loop_io tun_io;
	uint8_t *pkt;			/* TUN read buffer */
	struct upstream_cfg upstream;	/* the proxy: every upstream of this engine borrows it */
	struct tcp_stack *tcp;		/* its session side: sessions */
	struct session_table *sessions; /* session.h */
	struct resolver *resolver;	/* --dns virtual|tcp (resolver.h); else NULL */
	struct udp_relay *udp;		/* --udp proxy (udp.h); else NULL */
	struct fault *fault;		/* test builds with PROXYVPN_FAULT (fault.h); else NULL */
	/* engine.c's counters (packets, UDP); engine_stats_add adds the others' */
	struct engine_stats stats;
	struct timer drain_timer, quiet_timer;
	bool draining;
	/* Proxy failures at the default level, rate-limited (upfail.h) */
	struct upfail_log *upfail;
	bool upfail_own; /* made here (else cfg.upfail's) */
	struct timer upfail_timer;
};

/*
 * Takes over tun_fd (closed by engine_fini, or here on failure). 0 or
 * -errno; -EINVAL means a bad setting that has already been logged
 * (PROXYVPN_FAULT in fault builds). e needs no preparation.
 */
int engine_init(struct engine *e, struct loop *loop, int tun_fd, const struct engine_cfg *cfg);
/*
 * Closes every proxy socket and frees everything; safe after a failed
 * engine_init, twice, and on an engine whose tun_fd is -1 and the rest zero
 * (ENGINE_INIT).
 */
void engine_fini(struct engine *e);
#define ENGINE_INIT                                   \
	{                                             \
		.tun_fd = -1, .tun_io = LOOP_IO_UNSET \
	}
/* The fake-address pool (--dns virtual), for the other queues' engines; else NULL. */
struct dnspool *engine_pool(const struct engine *e);
/* The proxy-failure log, for the other queues' engines (one line per cause for all). */
struct upfail_log *engine_upfail(const struct engine *e);
void engine_log_stats(const struct engine *e);
/*
 * Adds all of e's counters (its own, its sessions', its resolver's, its TCP
 * stack's) to *es and *ts: several engines give one set of stats lines.
 */
void engine_stats_add(const struct engine *e, struct engine_stats *es, struct tcp_stats *ts);
/* Logs e's counters plus more/tmore (NULL: none added); e's fault counters alone. */
void engine_log_stats_with(const struct engine *e, const struct engine_stats *more,
			   const struct tcp_stats *tmore);
/*
 * Limits nobody set, from the host (engine_group_start calls it once, for
 * nq engines): --max-conns from the open-files limit (raised to its hard
 * limit first) and the memory budget, --mem-limit from the memory, the
 * handshake windows' cap from --max-conns. Says in tcp.conns_bound which
 * one bound --max-conns.
 */
void engine_limits_default(struct engine_cfg *cfg, int nq);
/* The handshake window and the flows waiting for it, added to *w. */
void engine_window_add(const struct engine *e, struct ctl_window *w);
/* One packet from the TUN into the IP and TCP layers. */
void engine_input(struct engine *e, const uint8_t *pkt, size_t len);
/*
 * The apps are gone, but their kernels may still be sending what they wrote
 * before exiting (a closed socket keeps sending): refuse new flows and stop
 * the loop once every flow's data and FIN have been handed to the proxy, or
 * after ms at most. A flow that is open but idle (SESSION_QUIET_MS without
 * a segment: a process the command left behind holds it) does not wait:
 * it is closed with the rest (said at -v).
 */
void engine_drain(struct engine *e, uint32_t ms);

#endif
