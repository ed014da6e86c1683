// SPDX-License-Identifier: GPL-2.0-only
/*
 * Engine wiring: TUN reads in batches into the IP and TCP layers (UDP to
 * the resolver or the --udp policy), then one flush per batch so ACKs and
 * new data go out coalesced, then dead sessions, connections and finished
 * DNS forwards are freed outside every callback.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "engine.h"
#include "fault.h"
#include "ip.h"
#include "log.h"
#include "sandbox.h"
#include "resolver.h"
#include "session.h"
#include "udp.h"
#include "vnet.h"

int engine_udp_output(struct engine *e, int family, const uint8_t *src, uint16_t sport,
		      const uint8_t *dst, uint16_t dport, const void *data, size_t len)
{
	uint8_t hdr[IP_MAX_HDR + UDP_HDR_LEN];
	struct iovec iov[2];
	size_t hl = udp_build_hdr(hdr, family, src, sport, dst, dport, data, len);

	if (!hl || hl + len > e->cfg.mtu)
		return -EMSGSIZE;
	iov[0] = (struct iovec){ .iov_base = hdr, .iov_len = hl };
	iov[1] = (struct iovec){ .iov_base = (void *)(uintptr_t)data, .iov_len = len };
	engine_output(e, iov, 2, NULL);
	return 0;
}

/* --udp proxy: the SOCKS5 UDP ASSOCIATE relay (udp.c); false = refused (ICMP). */
bool engine_udp_proxy_input(struct engine *e, const struct ip_view *v, const struct udp_view *u)
{
	return e->udp && udp_relay_input(e->udp, v, u);
}

static void udp_relay_output(void *ctx, const struct iovec *iov, int iovcnt)
{
	engine_output(ctx, iov, iovcnt, NULL);
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
	if (e->cfg.dns != ENGINE_DNS_BYPASS && u.dport == 53) {
		resolver_udp_input(e, v, &u);
		return;
	}
	if (e->cfg.udp == ENGINE_UDP_PROXY && engine_udp_proxy_input(e, v, &u))
		return;
	n = icmp_build_port_unreach(out, pkt, len, v);
	if (!n)
		return;
	e->stats.udp_unreach++;
	iov = (struct iovec){ .iov_base = out, .iov_len = n };
	engine_output(e, &iov, 1, NULL);
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

void engine_input_frame(struct engine *e, uint8_t *buf, size_t len)
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

void engine_output(struct engine *e, const struct iovec *iov, int iovcnt, const struct tcp_out *o)
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
	if (fault_out(e, iov, iovcnt))
		return; /* test builds: it writes to the TUN itself */
	if (writev(e->tun_fd, iov, iovcnt) < 0)
		e->stats.tun_write_err++;
	else
		e->stats.pkts_out++;
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
		if (fault_in(e, e->pkt, (size_t)n))
			continue; /* test builds: it calls engine_input() */
		engine_input_frame(e, e->pkt, (size_t)n);
	}
}

static void engine_idle(struct loop *l, void *arg)
{
	struct engine *e = arg;

	session_flush_pending(e); /* before the ACKs: they carry the freed window */
	tcp_flush(e->tcp);
	session_reap(e);
	resolver_reap(e);
	udp_reap(e->udp);
	tcp_flush(e->tcp); /* conns the reaped sessions let go of */
	if (e->draining && !session_undelivered(e)) {
		log_debug("drained: every flow delivered to the proxy");
		l->stop = true;
	}
}

static void drain_expired(struct timer *t)
{
	struct engine *e = (struct engine *)((char *)t - offsetof(struct engine, drain_timer));
	size_t n = session_undelivered(e);

	if (n)
		log_info("%zu connection(s) still sending after the command exited: closing them",
			 n);
	e->loop->stop = true;
}

void engine_drain(struct engine *e, uint32_t ms)
{
	if (e->draining || !e->tcp)
		return;
	e->draining = true;
	e->drain_timer.cb = drain_expired;
	loop_timer_set(e->loop, &e->drain_timer, e->loop->now + ms);
}

int engine_init(struct engine *e, struct loop *loop, int tun_fd, const struct engine_cfg *cfg)
{
	struct tcp_cfg tc;
	int ret;

	memset(e, 0, sizeof(*e));
	e->tun_io.fd = -1;
	e->loop = loop;
	e->cfg = *cfg;
	e->tun_fd = tun_fd;
	if (!e->cfg.hs_timeout_ms)
		e->cfg.hs_timeout_ms = ENGINE_HS_TIMEOUT_MS;
	if (!e->cfg.buf_size)
		e->cfg.buf_size = TCP_BUF_DEFAULT;
	ret = fault_init(e); /* test builds only: PROXYVPN_FAULT */
	if (ret < 0)
		goto err;
	e->pkt = malloc(ENGINE_FRAME_MAX);
	if (!e->pkt) {
		ret = -ENOMEM;
		goto err;
	}
	tc = cfg->tcp;
	tc.mtu = cfg->mtu;
	tc.buf_size = e->cfg.buf_size;
	tc.offload = cfg->vnet;
	e->tcp = tcp_stack_new(loop, &tc, &session_tcp_ops, e);
	if (!e->tcp) {
		ret = -errno;
		goto err_pkt;
	}
	ret = resolver_init(e);
	if (ret < 0)
		goto err_tcp;
	if (cfg->udp == ENGINE_UDP_PROXY) {
		struct udp_cfg uc = {
			.proxy = cfg->proxy,
			.proxy_addr = cfg->proxy_addr,
			.proxy_addrlen = cfg->proxy_addrlen,
			.mtu = cfg->mtu,
			.timeout_ms = cfg->udp_timeout_ms,
			.max_assoc = cfg->udp_max,
			.relay_at_proxy = cfg->udp_relay_at_proxy,
			.hs_timeout_ms = e->cfg.hs_timeout_ms,
			.pool = e->pool, /* virtual DNS: fake addresses go by name */
		};

		/* UDP packets go out the way TCP segments do (fault layer included). */
		e->udp = udp_relay_new(loop, &uc, udp_relay_output, e);
		if (!e->udp) {
			ret = -errno;
			goto err_res;
		}
	}
	e->tun_io.cb = tun_readable;
	ret = loop_io_add(loop, &e->tun_io, tun_fd, EPOLLIN);
	if (ret < 0)
		goto err_res;
	/* The engine is the loop's only idle user. */
	loop->idle = engine_idle;
	loop->idle_arg = e;
	return 0;

err_res:
	udp_relay_free(e->udp);
	e->udp = NULL;
	resolver_fini(e);
err_tcp:
	tcp_stack_free(e->tcp);
	e->tcp = NULL;
err_pkt:
	free(e->pkt);
	e->pkt = NULL;
err:
	fault_fini(e);
	return ret;
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
	if (!e->tcp)
		return;
	add_counters((uint64_t *)es, (const uint64_t *)&e->stats, sizeof(*es) / sizeof(uint64_t));
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
	log_info("stats: tcp handshakes %llu refused-at-limit %llu ooo-queued %llu "
		 "sack-retrans %llu paws-dropped %llu challenge-acks %llu keepalive-timeouts %llu "
		 "idle-timeouts %llu rst-in %llu rst-out %llu rto %llu lost-retrans %llu "
		 "tail-probes %llu undone %llu tun-write-errors %llu; offload %s gso-in %llu "
		 "gso-out %llu",
		 (unsigned long long)t->handshakes, (unsigned long long)t->limit_refused,
		 (unsigned long long)t->ooo_queued, (unsigned long long)t->sack_rexmit,
		 (unsigned long long)t->paws_dropped, (unsigned long long)t->challenge_acks,
		 (unsigned long long)t->ka_timeouts, (unsigned long long)t->idle_timeouts,
		 (unsigned long long)t->rst_in, (unsigned long long)t->rst_out,
		 (unsigned long long)t->rto_fired, (unsigned long long)t->lost_rexmit,
		 (unsigned long long)t->tlp, (unsigned long long)t->undo,
		 (unsigned long long)x->tun_write_err, e->cfg.vnet ? "on" : "off",
		 (unsigned long long)x->pkts_gso_in, (unsigned long long)t->gso_out);
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
	fault_log_stats(e);
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
	fault_fini(e); /* drops held packets: nothing reaches the stack after this */
	if (e->loop)
		loop_timer_cancel(e->loop, &e->drain_timer);
	udp_relay_free(e->udp); /* gives back the fake-address entries it holds */
	e->udp = NULL;
	if (e->tcp) {
		session_close_all(e); /* gives back the fake-address entries they hold */
		tcp_stack_free(e->tcp);
		e->tcp = NULL;
	}
	resolver_fini(e);
	if (e->loop)
		loop_io_del(e->loop, &e->tun_io);
	if (e->tun_fd >= 0)
		close(e->tun_fd);
	e->tun_fd = -1;
	free(e->pkt);
	e->pkt = NULL;
}
