/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine: one event loop that owns a TUN fd, the TCP stack, and one
 * session (proxy socket) per TCP flow. It runs from any TUN fd it is handed
 * (IFF_TUN | IFF_NO_PI, non-blocking), so exec mode, host mode and a
 * privilege-separated child all drive the same code.
 */
#ifndef PROXYVPN_ENGINE_H
#define PROXYVPN_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "loop.h"
#include "tcp.h"
#include "url.h"

enum {
	ENGINE_HS_TIMEOUT_MS = 10000,	/* proxy connect + handshake */
	ENGINE_TUN_BATCH = 64,		/* packets read per wakeup before flushing ACKs */
	ENGINE_PKT_MAX = 65536,
	ENGINE_DRAIN_MS = 5000,		/* after the command exits, see engine_drain() */
};

struct engine_cfg {
	const struct proxy_url *proxy;	/* borrowed for the engine's lifetime */
	struct sockaddr_storage proxy_addr;
	socklen_t proxy_addrlen;
	uint32_t mtu;
	size_t buf_size;		/* per connection, each way; 0 = TCP_BUF_DEFAULT */
	uint32_t hs_timeout_ms;		/* 0 = ENGINE_HS_TIMEOUT_MS */
	struct tcp_cfg tcp;		/* limits and timers; mtu and buf_size come from above */
	bool udp_proxy;			/* --udp proxy: UDP via SOCKS5 UDP ASSOCIATE (udp.c) */
	uint32_t udp_timeout_ms;	/* 0 = UDP_TIMEOUT_MS_DEFAULT */
	uint32_t udp_max;		/* 0 = UDP_MAX_ASSOC_DEFAULT */
};

struct engine_stats {
	uint64_t pkts_in, pkts_out, pkts_bad, pkts_unsupported, tun_write_err;
	uint64_t sessions_total, sessions_failed;
};

struct session;
struct fault;
struct udp_relay;

struct engine {
	struct loop *loop;
	struct engine_cfg cfg;
	int tun_fd;
	struct loop_io tun_io;
	struct tcp_stack *tcp;
	struct session *sessions;	/* live, doubly linked */
	struct session *dead;		/* freed at the end of each loop batch */
	struct session *rx_pending;	/* got app data this batch (session.c) */
	uint8_t *pkt;			/* TUN read buffer */
	struct engine_stats stats;
	struct timer drain_timer;
	bool draining;
	struct fault *fault;		/* test builds only (fault.h); else always NULL */
	struct udp_relay *udp;		/* --udp proxy only; else NULL */
};

/*
 * Takes over tun_fd (closed by engine_fini). 0 or -errno; -EINVAL means a bad
 * setting that has already been logged (PROXYVPN_FAULT in fault builds).
 */
int engine_init(struct engine *e, struct loop *loop, int tun_fd, const struct engine_cfg *cfg);
/* Closes every proxy socket and frees everything; safe on a zeroed engine. */
void engine_fini(struct engine *e);
void engine_log_stats(const struct engine *e);
/* One packet from the TUN into the IP and TCP layers (the fault layer calls it too). */
void engine_input(struct engine *e, const uint8_t *pkt, size_t len);
/*
 * The apps are gone, but their kernels may still be sending what they wrote
 * before exiting (a closed socket keeps sending): refuse new flows and stop
 * the loop once every flow's data and FIN have been handed to the proxy,
 * or after ms at most.
 */
void engine_drain(struct engine *e, uint32_t ms);

#endif
