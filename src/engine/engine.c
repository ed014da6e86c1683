// SPDX-License-Identifier: GPL-2.0-only
/*
 * Engine wiring (see engine.h): TUN reads in batches into the IP and TCP
 * layers (UDP to the resolver or the --udp policy), then one flush per
 * batch so ACKs and new data go out coalesced, then dead sessions,
 * connections, finished DNS forwards and UDP associations are freed outside
 * every callback. In test builds the fault layer sits between the TUN and
 * the rest (fault.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine.h"
#include "fault.h"
#include "fd.h"
#include "hswin.h"
#include "ip.h"
#include "log.h"
#include "resolver.h"
#include "sandbox.h"
#include "ring.h"
#include "session.h"
#include "udp.h"
#include "upfail.h"
#include "vnet.h"

static void output(struct engine *e, const struct iovec *iov, int iovcnt, const struct tcp_out *o);

/* The session table's and the UDP side's packets toward the app. */
static void tcp_output(void *ctx, const struct iovec *iov, int iovcnt, const struct tcp_out *o)
{
	output(ctx, iov, iovcnt, o);
}

static void udp_output(void *ctx, const struct iovec *iov, int iovcnt)
{
	output(ctx, iov, iovcnt, NULL);
}

/* UDP: DNS to the resolver, else the --udp policy; what nobody takes gets ICMP. */
static void udp_input(struct engine *e, const uint8_t *pkt, size_t len, const struct ip_view *v)
{
	uint8_t out[ICMP6_ERR_MAX];
	struct iovec iov;
	struct udp_view u;
	size_t n;

	e->stats.udp_in++;
	if (udp_parse(v, &u) < 0) {
		e->stats.udp_bad++;
		return;
	}
	if (e->resolver && u.dport == 53) {
		resolver_udp_input(e->resolver, v, &u);
		return;
	}
	if (e->udp && udp_relay_input(e->udp, v, &u))
		return;
	n = icmp_build_port_unreach(out, pkt, len, v);
	if (!n)
		return;
	e->stats.udp_unreach++;
	iov = (struct iovec){ .iov_base = out, .iov_len = n };
	output(e, &iov, 1, NULL);
}

/* One parsed packet (pkt, len: the IP packet itself, for ICMP quotes). */
static void input_view(struct engine *e, const uint8_t *pkt, size_t len, const struct ip_view *v)
{
	if (v->proto == IPPROTO_UDP) {
		udp_input(e, pkt, len, v);
		return;
	}
	if (v->proto != IPPROTO_TCP) {
		e->stats.pkts_unsupported++; /* ICMP and the rest: not carried */
		return;
	}
	tcp_input(e->tcp, v);
}

void engine_input(struct engine *e, const uint8_t *pkt, size_t len)
{
	struct ip_view v;

	if (ip_parse(pkt, len, &v) < 0) {
		e->stats.pkts_bad++;
		return;
	}
	input_view(e, pkt, len, &v);
}

/*
 * One frame as read from the TUN: a virtio-net header first if cfg.vnet,
 * then engine_input()'s work. buf is writable: a partial non-TCP checksum
 * is completed in place.
 */
static void input_frame(struct engine *e, uint8_t *buf, size_t len)
{
	struct vnet_hdr h;
	struct ip_view v;

	if (!e->cfg.vnet) {
		engine_input(e, buf, len);
		return;
	}
	if (vnet_frame_parse(buf, len, &h, &v) < 0) {
		e->stats.pkts_bad++;
		return;
	}
	if (h.gso_type != VNET_GSO_NONE)
		e->stats.pkts_gso_in++;
	if (v.proto != IPPROTO_TCP)
		vnet_csum_fill(buf + VNET_HDR_LEN, &h, &v); /* their parsers check it */
	input_view(e, buf + VNET_HDR_LEN, len - VNET_HDR_LEN, &v);
}

static void tun_write(struct engine *e, const struct iovec *iov, int iovcnt)
{
	if (writev(e->tun_fd, iov, iovcnt) < 0)
		e->stats.tun_write_err++;
	else
		e->stats.pkts_out++;
}

/* Writes one packet (the header first if cfg.vnet) to the TUN, or to the fault layer. */
static void output(struct engine *e, const struct iovec *iov, int iovcnt, const struct tcp_out *o)
{
	uint8_t vh[VNET_HDR_LEN];
	struct iovec v[ENGINE_OUT_IOV];
	struct vnet_hdr h = { 0 };
	int i;

	if (e->cfg.vnet) {
		if (iovcnt >= ENGINE_OUT_IOV) {
			e->stats.tun_write_err++; /* cannot happen: tcp.c sends 1-3 */
			return;
		}
		/* Without o the packet is complete: an all-zero header says so. */
		if (o)
			vnet_tcp_hdr(&h, (((const uint8_t *)iov[0].iov_base)[0] >> 4) == 6,
				     o->l3_len, o->hdr_len, o->gso_size);
		vnet_build(vh, &h);
		v[0].iov_base = vh;
		v[0].iov_len = sizeof(vh);
		for (i = 0; i < iovcnt; i++)
			v[i + 1] = iov[i];
		iov = v;
		iovcnt++;
	}
	if (e->fault) {
		fault_packet(e->fault, FAULT_OUT, iov, iovcnt); /* it calls tun_write */
		return;
	}
	tun_write(e, iov, iovcnt);
}

static void tun_readable(struct loop_io *io, uint32_t events)
{
	struct engine *e = (struct engine *)((char *)io - offsetof(struct engine, tun_io));
	int i;

	(void)events;
	for (i = 0; i < ENGINE_TUN_BATCH; i++) {
		ssize_t n = read(e->tun_fd, e->pkt, ENGINE_FRAME_MAX);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* The namespace side went away (EIO/EBADFD): stop reading. */
			log_debug("tun read: %s", strerror(errno));
			loop_io_del(e->loop, io);
			return;
		}
		e->stats.pkts_in++;
		sandbox_fault_tick(); /* test builds: PROXYVPN_FAULT_SYSCALL */
		if (e->fault) {
			struct iovec v = { .iov_base = e->pkt, .iov_len = (size_t)n };

			fault_packet(e->fault, FAULT_IN, &v, 1); /* it calls input_frame */
			continue;
		}
		input_frame(e, e->pkt, (size_t)n);
	}
}

static void engine_idle(struct loop *l, void *arg)
{
	struct engine *e = arg;

	session_flush_pending(e->sessions); /* before the ACKs: they carry the freed window */
	tcp_flush(e->tcp);
	session_reap(e->sessions);
	if (e->resolver)
		resolver_reap(e->resolver);
	udp_reap(e->udp);
	tcp_flush(e->tcp); /* conns the reaped sessions let go of */
	if (e->draining) {
		size_t idle = 0;

		if (session_undelivered(e->sessions, &idle))
			return;
		if (idle)
			log_info("%zu idle connection(s) left open by processes the command left "
				 "behind: closing them",
				 idle);
		log_debug("drained: every flow delivered to the proxy");
		l->stop = true;
	}
}

/* While draining: a flow that falls quiet is seen without waiting for a packet. */
static void quiet_check(struct timer *t)
{
	struct engine *e = (struct engine *)((char *)t - offsetof(struct engine, quiet_timer));

	loop_timer_set(e->loop, t, e->loop->now + SESSION_QUIET_MS); /* engine_idle decides */
}

static void drain_expired(struct timer *t)
{
	struct engine *e = (struct engine *)((char *)t - offsetof(struct engine, drain_timer));
	size_t n = session_undelivered(e->sessions, NULL);

	if (n)
		log_info("%zu connection(s) still sending after the command exited: closing them",
			 n);
	e->loop->stop = true;
}

/* A proxy failure, from any of this engine's upstreams: the default-level line. */
static void upfail_report(void *arg, const struct upstream_fail *why)
{
	struct engine *e = arg;
	uint64_t next = upfail_log_add(e->upfail, why, e->loop->now);

	if (next && (!timer_armed(&e->upfail_timer) || e->upfail_timer.when > next))
		loop_timer_set(e->loop, &e->upfail_timer, next);
}

/* A window ended: its count of repeats. */
static void upfail_expired(struct timer *t)
{
	struct engine *e = (struct engine *)((char *)t - offsetof(struct engine, upfail_timer));
	uint64_t next = upfail_log_flush(e->upfail, e->loop->now);

	if (next)
		loop_timer_set(e->loop, &e->upfail_timer, next);
}

void engine_drain(struct engine *e, uint32_t ms)
{
	if (e->draining || !e->tcp)
		return;
	e->draining = true;
	session_refuse_new(e->sessions); /* the command has exited: RST */
	loop_timer_set(e->loop, &e->drain_timer, e->loop->now + ms);
	loop_timer_set(e->loop, &e->quiet_timer, e->loop->now + SESSION_QUIET_MS);
}

#ifdef PROXYVPN_FAULT
_Static_assert((size_t)ENGINE_FRAME_MAX <= (size_t)FAULT_PKT_MAX,
	       "the fault layer holds whole TUN frames");

/* The fault layer hands packets on: into the stack, or to the TUN. */
static void fault_deliver(void *ctx, enum fault_dir d, const uint8_t *pkt, size_t len)
{
	struct engine *e = ctx;
	struct iovec v = { .iov_base = (void *)(uintptr_t)pkt, .iov_len = len };

	if (d == FAULT_OUT) {
		tun_write(e, &v, 1);
		return;
	}
	/* The engine may complete a checksum in place: a writable copy. */
	memcpy(e->pkt, pkt, len);
	input_frame(e, e->pkt, len);
}

static int fault_start(struct engine *e)
{
	return fault_from_env(e->loop, e->cfg.vnet, fault_deliver, e, &e->fault);
}
#else
static int fault_start(struct engine *e)
{
	(void)e;
	return 0;
}
#endif

/* The parts an engine is made of, each of which writes to the TUN through output(). */
static int parts_new(struct engine *e)
{
	const struct engine_cfg *cfg = &e->cfg;
	struct session_cfg sc = { .upstream = &e->upstream };
	struct tcp_cfg tc;

	if (cfg->dns != ENGINE_DNS_BYPASS) {
		struct resolver_cfg rc = {
			.mode = cfg->dns == ENGINE_DNS_VIRTUAL ? RESOLVER_VIRTUAL : RESOLVER_TCP,
			.upstream = &e->upstream,
			.mtu = cfg->mtu,
			.pool = cfg->pool,
			.shared_pool = cfg->shared_pool,
			.ttl = cfg->dns_ttl,
			.server = cfg->dns_server,
			.server_len = cfg->dns_server_len,
		};

		memcpy(rc.addr4, cfg->resolver4, 4);
		memcpy(rc.addr6, cfg->resolver6, 16);
		e->resolver = resolver_new(e->loop, &rc, udp_output, e);
		if (!e->resolver)
			return -errno;
	}
	sc.resolver = e->resolver;
	/* This engine's share of the cap: every engine has a window of its own. */
	sc.max_pending = cfg->max_pending / (cfg->engines ? cfg->engines : 1);
	if (cfg->max_pending && !sc.max_pending)
		sc.max_pending = 1;
	sc.nofile = cfg->tcp.nofile;
	e->sessions = session_table_new(e->loop, &sc, tcp_output, e);
	if (!e->sessions)
		return -errno;
	tc = cfg->tcp;
	tc.mtu = cfg->mtu;
	tc.buf_size = cfg->buf_size;
	tc.offload = cfg->vnet;
	e->tcp = tcp_stack_new(e->loop, &tc, &session_tcp_ops, e->sessions);
	if (!e->tcp)
		return -errno;
	if (cfg->udp == ENGINE_UDP_PROXY) {
		struct udp_cfg uc = {
			.upstream = &e->upstream,
			.pool = resolver_pool(
				e->resolver), /* virtual DNS: fake addresses by name */
			.mtu = cfg->mtu,
			.timeout_ms = cfg->udp_timeout_ms,
			.max_assoc = cfg->udp_max,
			.relay_at_proxy = cfg->udp_relay_at_proxy,
		};

		e->udp = udp_relay_new(e->loop, &uc, udp_output, e);
		if (!e->udp)
			return -errno;
	}
	return 0;
}

int engine_init(struct engine *e, struct loop *loop, int tun_fd, const struct engine_cfg *cfg)
{
	int ret;

	*e = (struct engine)ENGINE_INIT;
	e->loop = loop;
	e->cfg = *cfg;
	e->tun_fd = tun_fd;
	if (!e->cfg.buf_size)
		e->cfg.buf_size = TCP_BUF_DEFAULT;
	e->upstream = (struct upstream_cfg){
		.proxy = cfg->proxy,
		.addr = cfg->proxy_addr,
		.addrlen = cfg->proxy_addrlen,
		.hs_timeout_ms = e->cfg.hs_timeout_ms,
		.ka_idle_ms = cfg->tcp.ka_idle_ms,
		.ka_intvl_ms = cfg->tcp.ka_intvl_ms,
		.ka_cnt = cfg->tcp.ka_cnt,
	};
	e->drain_timer.cb = drain_expired;
	e->quiet_timer.cb = quiet_check;
	e->upfail_timer.cb = upfail_expired;
	e->upfail = cfg->upfail;
	if (!e->upfail) {
		e->upfail = upfail_log_new(0);
		if (!e->upfail) {
			ret = -errno;
			goto err;
		}
		e->upfail_own = true;
	}
	e->upstream.report = upfail_report;
	e->upstream.report_arg = e;
	e->pkt = malloc(ENGINE_FRAME_MAX);
	if (!e->pkt) {
		ret = -ENOMEM;
		goto err;
	}
	ret = fault_start(e); /* test builds only: PROXYVPN_FAULT */
	if (ret < 0)
		goto err;
	ret = parts_new(e);
	if (ret < 0)
		goto err;
	e->tun_io.cb = tun_readable;
	ret = loop_io_add(loop, &e->tun_io, tun_fd, EPOLLIN);
	if (ret < 0)
		goto err;
	/* The engine is the loop's only idle user. */
	loop->idle = engine_idle;
	loop->idle_arg = e;
	return 0;
err:
	engine_fini(e);
	return ret;
}

/*
 * Sockets an engine group needs besides one per proxied TCP flow: epoll,
 * TUN queues, signalfd, eventfds, the control socket and its clients, the
 * log, and the DNS forwarder's upstreams (--dns tcp). --udp proxy adds two
 * per association (the TCP control connection and the UDP socket).
 */
enum { ENGINE_FD_RESERVE = 64 + RESOLVER_FWD_MAX };

void engine_limits_default(struct engine_cfg *cfg, int nq)
{
	struct tcp_cfg *tc = &cfg->tcp;
	struct rlimit rl;
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	uint64_t files, reserve = ENGINE_FD_RESERVE, by_mem;

	cfg->engines = nq > 0 ? (uint32_t)nq : 1;
	fd_raise_limit(); /* done by exec and up already; harmless again */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		rl.rlim_cur = 1048576;
	tc->nofile = rl.rlim_cur > UINT32_MAX ? UINT32_MAX : (uint32_t)rl.rlim_cur;
	/* A quarter of the RAM for buffers, at most the fixed default (one GiB). */
	if (!tc->mem_budget) {
		tc->mem_budget = TCP_MEM_BUDGET_DEFAULT;
		if (pages > 0 && psize > 0 &&
		    (uint64_t)pages * (uint64_t)psize / 4 < tc->mem_budget)
			tc->mem_budget = (size_t)((uint64_t)pages * (uint64_t)psize / 4);
		if (tc->mem_budget < TCP_MEM_BUDGET_MIN)
			tc->mem_budget = TCP_MEM_BUDGET_MIN;
	}
	if (!tc->max_conns) {
		if (cfg->udp == ENGINE_UDP_PROXY)
			reserve +=
				2 * (uint64_t)(cfg->udp_max ? cfg->udp_max : UDP_MAX_ASSOC_DEFAULT);
		/* Too few files for the reserve: half of them, the rest to everything else. */
		files = tc->nofile > 2 * reserve ? tc->nofile - reserve : tc->nofile / 2;
		/* Each flow that carried data both ways holds a ring's first storage each way. */
		by_mem = tc->mem_budget / (2 * RING_MIN_ALLOC);
		tc->conns_bound = files <= by_mem ? TCP_BOUND_FILES : TCP_BOUND_MEMORY;
		files = files <= by_mem ? files : by_mem;
		tc->max_conns = (uint32_t)(files < 1 ? 1 : files > 1048576 ? 1048576 : files);
	}
	/*
	 * The windows follow the proxy (hswin.h); the cap only keeps one
	 * runaway from taking every place: half the flows may be handshakes.
	 */
	if (!cfg->max_pending)
		cfg->max_pending = tc->max_conns / 2 > HSWIN_INIT ? tc->max_conns / 2 : HSWIN_INIT;
}

void engine_window_add(const struct engine *e, struct ctl_window *w)
{
	struct ctl_window x;
	size_t i;

	if (!e->sessions)
		return;
	session_window_get(e->sessions, &x);
	for (i = 0; i < sizeof(x) / sizeof(uint64_t); i++)
		((uint64_t *)w)[i] += ((const uint64_t *)&x)[i];
}

struct dnspool *engine_pool(const struct engine *e)
{
	return resolver_pool(e->resolver);
}

struct upfail_log *engine_upfail(const struct engine *e)
{
	return e->upfail;
}

/* Sums arrays of uint64_t counters: both stats structs hold nothing else. */
_Static_assert(sizeof(struct engine_stats) % sizeof(uint64_t) == 0, "engine_stats: u64 only");
_Static_assert(sizeof(struct tcp_stats) % sizeof(uint64_t) == 0, "tcp_stats: u64 only");

static void add_counters(uint64_t *dst, const uint64_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] += src[i];
}

void engine_stats_add(const struct engine *e, struct engine_stats *es, struct tcp_stats *ts)
{
	const struct session_stats *ss;

	if (!e->tcp)
		return;
	add_counters((uint64_t *)es, (const uint64_t *)&e->stats, sizeof(*es) / sizeof(uint64_t));
	ss = session_table_stats(e->sessions);
	es->sessions_total += ss->total;
	es->sessions_failed += ss->failed;
	es->sessions_held += ss->held;
	es->sessions_hold_expired += ss->hold_expired;
	if (e->resolver) {
		const struct resolver_stats *rs = resolver_stats(e->resolver);

		es->dns_queries += rs->queries;
		es->dns_fake += rs->fake;
		es->dns_forwarded += rs->forwarded;
		es->dns_failed += rs->failed;
		es->fake_unmapped += rs->fake_unmapped;
	}
	add_counters((uint64_t *)ts, (const uint64_t *)tcp_stack_stats(e->tcp),
		     sizeof(*ts) / sizeof(uint64_t));
}

void engine_log_stats_with(const struct engine *e, const struct engine_stats *more,
			   const struct tcp_stats *tmore)
{
	struct engine_stats es = { 0 };
	struct tcp_stats ts = { 0 };
	const struct engine_stats *x = &es;
	const struct tcp_stats *t = &ts;

	if (!e->tcp)
		return;
	engine_stats_add(e, &es, &ts);
	if (more)
		add_counters((uint64_t *)&es, (const uint64_t *)more,
			     sizeof(es) / sizeof(uint64_t));
	if (tmore)
		add_counters((uint64_t *)&ts, (const uint64_t *)tmore,
			     sizeof(ts) / sizeof(uint64_t));
	log_info("stats: packets in %llu out %llu bad %llu unsupported %llu; sessions %llu "
		 "failed %llu; segments in %llu out %llu retrans %llu bad-csum %llu "
		 "out-of-order %llu beyond-window %llu unacceptable %llu bad-hdr %llu",
		 (unsigned long long)x->pkts_in, (unsigned long long)x->pkts_out,
		 (unsigned long long)x->pkts_bad, (unsigned long long)x->pkts_unsupported,
		 (unsigned long long)x->sessions_total, (unsigned long long)x->sessions_failed,
		 (unsigned long long)t->segs_in, (unsigned long long)t->segs_out,
		 (unsigned long long)t->retrans, (unsigned long long)t->bad_csum,
		 (unsigned long long)t->ooo_dropped, (unsigned long long)t->beyond_window,
		 (unsigned long long)t->dup_segs, (unsigned long long)t->bad_hdr);
	log_info("stats: tcp handshakes %llu refused-at-limit %llu deferred-at-limit %llu "
		 "waited-for-proxy %llu gave-up-waiting %llu ooo-queued %llu "
		 "sack-retrans %llu paws-dropped %llu challenge-acks %llu keepalive-timeouts %llu "
		 "idle-timeouts %llu rst-in %llu rst-out %llu rto %llu lost-retrans %llu "
		 "tail-probes %llu undone %llu tun-write-errors %llu; offload %s gso-in %llu "
		 "gso-out %llu",
		 (unsigned long long)t->handshakes, (unsigned long long)t->limit_refused,
		 (unsigned long long)t->syn_deferred, (unsigned long long)x->sessions_held,
		 (unsigned long long)x->sessions_hold_expired, (unsigned long long)t->ooo_queued,
		 (unsigned long long)t->sack_rexmit, (unsigned long long)t->paws_dropped,
		 (unsigned long long)t->challenge_acks, (unsigned long long)t->ka_timeouts,
		 (unsigned long long)t->idle_timeouts, (unsigned long long)t->rst_in,
		 (unsigned long long)t->rst_out, (unsigned long long)t->rto_fired,
		 (unsigned long long)t->lost_rexmit, (unsigned long long)t->tlp,
		 (unsigned long long)t->undo, (unsigned long long)x->tun_write_err,
		 e->cfg.vnet ? "on" : "off", (unsigned long long)x->pkts_gso_in,
		 (unsigned long long)t->gso_out);
	if (x->udp_in || x->dns_queries)
		log_info("stats: udp in %llu bad %llu unreachable-sent %llu; dns queries %llu "
			 "fake %llu forwarded %llu failed %llu; fake-unmapped resets %llu",
			 (unsigned long long)x->udp_in, (unsigned long long)x->udp_bad,
			 (unsigned long long)x->udp_unreach, (unsigned long long)x->dns_queries,
			 (unsigned long long)x->dns_fake, (unsigned long long)x->dns_forwarded,
			 (unsigned long long)x->dns_failed, (unsigned long long)x->fake_unmapped);
	if (e->udp) {
		const struct udp_stats *u = udp_relay_stats(e->udp);

		log_info(
			"stats: udp-proxy associations %llu failed %llu idle-closed %llu proxy-closed %llu "
			"refused-at-limit %llu; datagrams out %llu in %llu; dropped: queue %llu "
			"after-failure %llu send %llu bad-from-app %llu stale-fake %llu "
			"bad-from-relay %llu fragments %llu foreign %llu too-big %llu",
			(unsigned long long)u->assoc_total, (unsigned long long)u->assoc_failed,
			(unsigned long long)u->assoc_idle, (unsigned long long)u->assoc_closed,
			(unsigned long long)u->limit_dropped, (unsigned long long)u->dgrams_out,
			(unsigned long long)u->dgrams_in, (unsigned long long)u->queue_dropped,
			(unsigned long long)u->failed_dropped, (unsigned long long)u->send_dropped,
			(unsigned long long)u->bad_in, (unsigned long long)u->stale_fake,
			(unsigned long long)u->bad_relay, (unsigned long long)u->frag_dropped,
			(unsigned long long)u->foreign_dropped, (unsigned long long)u->too_big);
	}
	fault_log_stats(e->fault);
}

void engine_log_stats(const struct engine *e)
{
	engine_log_stats_with(e, NULL, NULL);
}

void engine_fini(struct engine *e)
{
	if (e->loop && e->loop->idle == engine_idle) {
		e->loop->idle = NULL;
		e->loop->idle_arg = NULL;
	}
	fault_free(e->fault); /* drops held packets: nothing reaches the stack after this */
	e->fault = NULL;
	if (e->loop) {
		loop_timer_cancel(e->loop, &e->drain_timer);
		loop_timer_cancel(e->loop, &e->quiet_timer);
		loop_timer_cancel(e->loop, &e->upfail_timer);
	}
	udp_relay_free(e->udp); /* gives back the fake-address entries it holds */
	e->udp = NULL;
	session_table_free(e->sessions); /* detaches every conn; gives back fake addresses */
	e->sessions = NULL;
	tcp_stack_free(e->tcp);
	e->tcp = NULL;
	resolver_free(e->resolver);
	e->resolver = NULL;
	if (e->loop)
		loop_io_del(e->loop, &e->tun_io);
	if (e->tun_fd >= 0)
		close(e->tun_fd);
	e->tun_fd = -1;
	free(e->pkt);
	e->pkt = NULL;
	if (e->upfail_own) /* its last counts: after the sessions, whose closing may add some */
		upfail_log_free(e->upfail, e->loop ? e->loop->now : 0);
	e->upfail = NULL;
	e->upfail_own = false;
}
