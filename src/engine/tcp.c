// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TCP state machine (RFC 9293) for the terminating side of every flow
 * that enters the TUN. We only ever open passively, and we hold the SYN-ACK
 * until the proxy tunnel exists, so the app's connect() means "the far end
 * is reachable". Retransmission follows RFC 6298 (one timer per connection)
 * with a tail loss probe (RFC 8985 7). Loss recovery is SACK-based after
 * RFC 6675 (NewReno's partial ACKs, RFC 6582, only for an app without
 * SACK), with limited transmit (RFC 3042), early retransmit (RFC 5827) and
 * Eifel undo of a spurious recovery (RFC 3522). Congestion control is slow
 * start with ABC and congestion avoidance (RFC 5681, 3465), a loss backing
 * off to 0.7 of the flight. RST/SYN acceptance follows RFC 5961
 * (challenge ACKs).
 *
 * ACKs are coalesced: input only marks a connection pending, and
 * tcp_flush() (called once per event-loop batch) sends one segment that
 * carries the ACK, the window and any new data.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "buf.h"
#include "log.h"
#include "tcp.h"

#define SEQ_LT(a, b)  ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b)  ((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)

enum {
	TF_PENDING = 1 << 0,	/* on the pending-output list */
	TF_ACK_NOW = 1 << 1,	/* an ACK is owed */
	TF_FIN_QUEUED = 1 << 2, /* proxy EOF: FIN goes after tx */
	TF_FIN_ACKED = 1 << 3,
	TF_FIN_RCVD = 1 << 4,
	TF_RECOVERY = 1 << 5,  /* fast recovery until snd_una passes recover */
	TF_DEAD = 1 << 6,      /* on the dead list */
	TF_WSCALE = 1 << 7,    /* both sides agreed on window scaling */
	TF_TS = 1 << 8,	       /* timestamps agreed (RFC 7323) */
	TF_SACK = 1 << 9,      /* SACK agreed (RFC 2018) */
	TF_HS = 1 << 10,       /* counted in stack->npending */
	TF_TIDLE = 1 << 11,    /* the timer is the keepalive/idle one, not RTO/persist */
	TF_FIN_OOO = 1 << 12,  /* the app's FIN arrived out of order: fin_seq */
	TF_TLP = 1 << 13,      /* the timer is a tail loss probe, the RTO follows it */
	TF_TLP_DONE = 1 << 14, /* one probe per flight: until an ACK moves snd_una */
};

enum { TS_OPT_LEN = 12 }; /* NOP NOP kind len TSval TSecr */

struct tcp_stack {
	struct loop *loop;
	const struct tcp_ops *ops;
	void *ctx;
	struct tcp_cfg cfg;
	struct tcp_conn **buckets;
	size_t nbuckets, count;
	uint64_t hash_key[2];
	uint32_t next_id;
	struct tcp_conn *pending;
	struct tcp_conn *dead;
	struct tcp_stats stats;
	size_t npending;	  /* handshakes in progress */
	size_t mem;		  /* ring storage allocated */
	uint64_t full_since;	  /* without cfg.shared: see struct tcp_shared */
	uint64_t log_at;	  /* the last line about deferred SYNs; 0 = none yet */
	uint64_t deferred_logged; /* syn_deferred + limit_refused at that line */
};

static void conn_timer_cb(struct timer *t);
static uint32_t sb_bytes(const struct tcp_conn *c, uint32_t from, uint32_t to);
static void conn_output(struct tcp_conn *c);

const char *tcp_state_name(enum tcp_state s)
{
	/* In enum order, one per state: a state added without a name fails the build. */
	static const char *const names[] = {
		"SYN-PENDING", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "FIN-WAIT-1",
		"FIN-WAIT-2",  "CLOSING",      "LAST-ACK",    "TIME-WAIT",  "CLOSED",
	};

	_Static_assert(sizeof(names) / sizeof(names[0]) == TCPS_STATE_MAX, "a name per state");
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* ---- segment parsing ---- */

static int parse_options(const uint8_t *p, size_t len, struct tcp_seg *s)
{
	struct rd r = { p, len };

	while (r.left) {
		uint8_t kind, olen;

		if (rd_u8(&r, &kind) < 0)
			return -EINVAL;
		if (kind == 0)
			break; /* end of option list */
		if (kind == 1)
			continue; /* NOP */
		if (rd_u8(&r, &olen) < 0 || olen < 2 || (size_t)(olen - 2) > r.left)
			return -EINVAL; /* length missing, too short, or past the header */
		if (kind == 2 && olen == 4) {
			s->mss = load_be16(r.p);
		} else if (kind == 3 && olen == 3) {
			s->wscale = r.p[0] > 14 ? 14 : r.p[0]; /* RFC 7323 2.3 */
		} else if (kind == 4 && olen == 2) {
			s->sack_perm = true;
		} else if (kind == 8 && olen == 10) {
			s->ts = true;
			s->tsval = load_be32(r.p);
			s->tsecr = load_be32(r.p + 4);
		} else if (kind == 5 && olen >= 10 && (olen - 2) % 8 == 0) {
			unsigned i;

			for (i = 0; i < (unsigned)(olen - 2) / 8 && s->nsack < 4; i++) {
				s->sack[s->nsack][0] = load_be32(r.p + 8 * i);
				s->sack[s->nsack][1] = load_be32(r.p + 8 * i + 4);
				s->nsack++;
			}
		}
		rd_skip(&r, olen - 2);
	}
	return 0;
}

int tcp_parse(const struct ip_view *ip, struct tcp_seg *s)
{
	const uint8_t *p = ip->l4;
	size_t doff;

	if (ip->l4_len < TCP_HDR_LEN)
		return -EINVAL;
	doff = (size_t)(p[12] >> 4) * 4;
	if (doff < TCP_HDR_LEN || doff > ip->l4_len)
		return -EINVAL;
#ifndef FUZZING
	/* Unless the kernel vouched for it (offload: vnet.c). */
	if (!ip->csum_ok && csum_fold(csum_add(csum_pseudo(ip->family, ip->src, ip->dst,
							   IPPROTO_TCP, (uint32_t)ip->l4_len),
					       p, ip->l4_len)) != 0)
		return -EPROTO;
#endif
	memset(s, 0, sizeof(*s));
	s->sport = load_be16(p);
	s->dport = load_be16(p + 2);
	s->seq = load_be32(p + 4);
	s->ack = load_be32(p + 8);
	s->flags = p[13] & 0x3f;
	s->wnd = load_be16(p + 14);
	s->wscale = -1;
	if (parse_options(p + TCP_HDR_LEN, doff - TCP_HDR_LEN, s) < 0)
		return -EINVAL;
	s->data = p + doff;
	s->len = ip->l4_len - doff;
	return 0;
}

/* ---- flow table ---- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static size_t flow_hash(const struct tcp_stack *st, int family, const uint8_t *laddr,
			const uint8_t *raddr, uint16_t lport, uint16_t rport)
{
	uint64_t h = st->hash_key[0], w[2];
	size_t alen = ip_addr_len(family);

	memset(w, 0, sizeof(w));
	memcpy(w, laddr, alen);
	h = mix(h, w[0]);
	h = mix(h, w[1]);
	memset(w, 0, sizeof(w));
	memcpy(w, raddr, alen);
	h = mix(h, w[0] ^ st->hash_key[1]);
	h = mix(h, w[1]);
	h = mix(h, (uint64_t)family << 32 | (uint64_t)lport << 16 | rport);
	return (size_t)h & (st->nbuckets - 1);
}

static struct tcp_conn *flow_find(struct tcp_stack *st, const struct ip_view *ip,
				  const struct tcp_seg *s)
{
	size_t alen = ip_addr_len(ip->family);
	struct tcp_conn *c =
		st->buckets[flow_hash(st, ip->family, ip->dst, ip->src, s->dport, s->sport)];

	for (; c; c = c->hnext)
		if (c->family == ip->family && c->lport == s->dport && c->rport == s->sport &&
		    !memcmp(c->laddr, ip->dst, alen) && !memcmp(c->raddr, ip->src, alen))
			return c;
	return NULL;
}

static void flow_grow(struct tcp_stack *st)
{
	size_t n = st->nbuckets * 2, i;
	struct tcp_conn **nb = calloc(n, sizeof(*nb));
	struct tcp_conn **old = st->buckets;
	size_t oldn = st->nbuckets;

	if (!nb)
		return; /* keep the longer chains; still correct */
	st->buckets = nb;
	st->nbuckets = n;
	for (i = 0; i < oldn; i++) {
		struct tcp_conn *c = old[i], *next;

		for (; c; c = next) {
			size_t b = flow_hash(st, c->family, c->laddr, c->raddr, c->lport, c->rport);

			next = c->hnext;
			c->hnext = nb[b];
			nb[b] = c;
		}
	}
	free(old);
}

static void flow_insert(struct tcp_stack *st, struct tcp_conn *c)
{
	size_t b;

	if (st->count >= st->nbuckets)
		flow_grow(st);
	b = flow_hash(st, c->family, c->laddr, c->raddr, c->lport, c->rport);
	c->hnext = st->buckets[b];
	st->buckets[b] = c;
	st->count++; /* shared->conns: taken in limits_take() */
}

/* A table that turns SYNs away: since when (0: it does not). */
static uint64_t full_get(const struct tcp_stack *st)
{
	return st->cfg.shared
		       ? atomic_load_explicit(&st->cfg.shared->full_since, memory_order_relaxed)
		       : st->full_since;
}

static void full_set(struct tcp_stack *st, uint64_t now)
{
	uint64_t zero = 0;

	if (st->cfg.shared)
		atomic_compare_exchange_strong(&st->cfg.shared->full_since, &zero, now);
	else if (!st->full_since)
		st->full_since = now;
}

/* A flow left: a SYN that comes back now may fit, so the clock starts again. */
static void full_clear(struct tcp_stack *st)
{
	if (!st->cfg.shared)
		st->full_since = 0;
	else if (atomic_load_explicit(&st->cfg.shared->full_since, memory_order_relaxed))
		atomic_store_explicit(&st->cfg.shared->full_since, 0, memory_order_relaxed);
}

static void flow_remove(struct tcp_stack *st, struct tcp_conn *c)
{
	struct tcp_conn **pp =
		&st->buckets[flow_hash(st, c->family, c->laddr, c->raddr, c->lport, c->rport)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			c->hnext = NULL;
			st->count--;
			if (st->cfg.shared)
				atomic_fetch_sub(&st->cfg.shared->conns, 1);
			full_clear(st);
			return;
		}
	}
}

/* ---- output ---- */

static uint32_t rcv_window(const struct tcp_conn *c)
{
	size_t space = ring_space(&c->rx);
	size_t max = (size_t)65535 << c->rcv_ws;

	return (uint32_t)(space < max ? space : max);
}

/* The full checksum: header sum plus the payload pieces. */
static uint16_t payload_csum(uint32_t sum, const struct iovec *pl, int plcnt)
{
	int i;

	/* Odd-length pieces would shift byte lanes; tx pieces come from one ring so only the
	 * first may be odd, and then we sum the second separately with a swap. */
	if (plcnt == 2 && (pl[0].iov_len & 1)) {
		uint32_t s2 = csum_add(0, pl[1].iov_base, pl[1].iov_len);

		sum = csum_add(sum, pl[0].iov_base, pl[0].iov_len);
		s2 = (s2 & 0xffff) + (s2 >> 16);
		s2 = (s2 & 0xffff) + (s2 >> 16);
		s2 = ((s2 & 0xff) << 8) | (s2 >> 8);
		sum += s2;
		if (sum < s2)
			sum++;
	} else {
		for (i = 0; i < plcnt; i++)
			sum = csum_add(sum, pl[i].iov_base, pl[i].iov_len);
	}
	return csum_fold(sum);
}

/*
 * Builds and writes one segment. Payload comes from tx at offset off. The
 * header lives on the stack; the payload is handed to the TUN as iovecs.
 * With offload the checksum is left to the kernel (the pseudo-header sum,
 * uncomplemented, as CHECKSUM_PARTIAL wants it), and gso > 0 asks it to cut
 * the payload into gso-byte segments.
 */
static void send_raw(struct tcp_stack *st, int family, const uint8_t *src, const uint8_t *dst,
		     uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		     uint16_t wnd, const uint8_t *opt, size_t optlen, const struct iovec *pl,
		     int plcnt, uint16_t gso)
{
	uint8_t hdr[IP_MAX_HDR + TCP_HDR_LEN + TCP_MAX_OPT];
	struct iovec iov[3];
	struct tcp_out out;
	size_t plen = 0, ipl, tl = TCP_HDR_LEN + optlen;
	uint8_t *t;
	uint32_t sum;
	uint16_t c;
	int i;

	for (i = 0; i < plcnt; i++)
		plen += pl[i].iov_len;
	ipl = ip_build_hdr(hdr, family, src, dst, IPPROTO_TCP, tl + plen);
	t = hdr + ipl;
	store_be16(t, sport);
	store_be16(t + 2, dport);
	store_be32(t + 4, seq);
	store_be32(t + 8, ack);
	t[12] = (uint8_t)((tl / 4) << 4);
	t[13] = flags;
	store_be16(t + 14, wnd);
	store_be16(t + 16, 0);
	store_be16(t + 18, 0);
	if (optlen)
		memcpy(t + TCP_HDR_LEN, opt, optlen);
	sum = csum_pseudo(family, src, dst, IPPROTO_TCP, (uint32_t)(tl + plen));
	if (st->cfg.offload)
		c = (uint16_t)~csum_fold(sum);
	else
		c = payload_csum(csum_add(sum, t, tl), pl, plcnt);
	memcpy(t + 16, &c, 2);
	iov[0].iov_base = hdr;
	iov[0].iov_len = ipl + tl;
	for (i = 0; i < plcnt; i++)
		iov[1 + i] = pl[i];
	st->stats.segs_out++;
	if (flags & TCP_RST)
		st->stats.rst_out++;
	if (!st->cfg.offload) {
		st->ops->output(st->ctx, iov, 1 + plcnt, NULL);
		return;
	}
	out.gso_size = gso;
	out.l3_len = (uint8_t)ipl;
	out.hdr_len = (uint8_t)(ipl + tl);
	if (gso)
		st->stats.gso_out++;
	st->ops->output(st->ctx, iov, 1 + plcnt, &out);
}

static uint32_t ts_now(const struct tcp_conn *c)
{
	return (uint32_t)c->stack->loop->now + c->ts_off;
}

/* SACK blocks we would put on an ACK now (RFC 2018 4: the newest range first). */
static size_t sack_blocks(const struct tcp_conn *c)
{
	size_t max = (c->flags & TF_TS) ? 3 : 4;

	if (!(c->flags & TF_SACK) || !c->nooo)
		return 0;
	return c->nooo < max ? c->nooo : max;
}

/* Option bytes on a non-SYN segment sent now. */
static size_t opt_len(const struct tcp_conn *c)
{
	size_t n = (c->flags & TF_TS) ? TS_OPT_LEN : 0, k = sack_blocks(c);

	return k ? n + 4 + 8 * k : n;
}

static size_t build_opts(const struct tcp_conn *c, uint8_t flags, uint8_t *opt)
{
	size_t n = 0, k, i;

	if (flags & TCP_SYN) {
		uint16_t mss = (uint16_t)(c->stack->cfg.mtu - TCP_HDR_LEN -
					  (c->family == AF_INET6 ? IP6_HDR_LEN : IP4_HDR_LEN));

		opt[n++] = 2;
		opt[n++] = 4;
		store_be16(opt + n, mss);
		n += 2;
		if (c->flags & TF_SACK) {
			opt[n++] = 1;
			opt[n++] = 1;
			opt[n++] = 4;
			opt[n++] = 2;
		}
		if (c->flags & TF_WSCALE) {
			opt[n++] = 1;
			opt[n++] = 3;
			opt[n++] = 3;
			opt[n++] = c->rcv_ws;
		}
	}
	if (c->flags & TF_TS) {
		opt[n++] = 1;
		opt[n++] = 1;
		opt[n++] = 8;
		opt[n++] = 10;
		store_be32(opt + n, ts_now(c));
		store_be32(opt + n + 4, c->ts_recent);
		n += 8;
	}
	if (flags & TCP_SYN)
		return n;
	k = sack_blocks(c);
	if (k) {
		/* ooo[] is kept newest first, as RFC 2018 4 wants the blocks. */
		opt[n++] = 1;
		opt[n++] = 1;
		opt[n++] = 5;
		opt[n++] = (uint8_t)(2 + 8 * k);
		for (i = 0; i < k; i++) {
			store_be32(opt + n, c->ooo[i].start);
			store_be32(opt + n + 4, c->ooo[i].end);
			n += 8;
		}
	}
	return n;
}

static void send_seg(struct tcp_conn *c, uint32_t seq, uint8_t flags, size_t off, size_t n)
{
	struct iovec pl[2];
	uint8_t opt[TCP_MAX_OPT];
	size_t optlen;
	uint32_t wnd = rcv_window(c);
	uint16_t gso = 0;
	int plcnt = 0;

	optlen = build_opts(c, flags, opt);
	if (flags & TCP_SYN) {
		if (wnd > 65535)
			wnd = 65535; /* the SYN's window is never scaled */
		c->rcv_adv = c->rcv_nxt + wnd;
	} else {
		/*
		 * Round down to the scale: the edge may move left by less than
		 * one scale unit, which senders tolerate, but it never promises
		 * space we do not have (that would force us to drop in-window data).
		 */
		uint32_t w = wnd >> c->rcv_ws;

		if (w > 65535)
			w = 65535;
		c->rcv_adv = c->rcv_nxt + (w << c->rcv_ws);
		wnd = w;
	}
	if (n)
		plcnt = ring_peek(&c->tx, off, n, pl);
	/* Only conn_output() hands us more than one segment's worth (offload). */
	if (n > (size_t)c->mss - optlen)
		gso = (uint16_t)(c->mss - optlen);
	send_raw(c->stack, c->family, c->laddr, c->raddr, c->lport, c->rport, seq,
		 (flags & TCP_ACK) ? c->rcv_nxt : 0, flags, (uint16_t)wnd, opt, optlen, pl, plcnt,
		 gso);
	if (flags & TCP_ACK) {
		c->flags &= ~TF_ACK_NOW;
		c->last_ack_sent = c->rcv_nxt;
	}
}

static void send_rst_for(struct tcp_stack *st, const struct ip_view *ip, const struct tcp_seg *s)
{
	uint32_t ack;

	if (s->flags & TCP_RST)
		return;
	if (s->flags & TCP_ACK) {
		send_raw(st, ip->family, ip->dst, ip->src, s->dport, s->sport, s->ack, 0, TCP_RST,
			 0, NULL, 0, NULL, 0, 0);
		return;
	}
	ack = s->seq + (uint32_t)s->len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
	send_raw(st, ip->family, ip->dst, ip->src, s->dport, s->sport, 0, ack, TCP_RST | TCP_ACK, 0,
		 NULL, 0, NULL, 0, 0);
}

static void mark_pending(struct tcp_conn *c)
{
	if (c->flags & (TF_PENDING | TF_DEAD))
		return;
	c->flags |= TF_PENDING;
	c->pnext = c->stack->pending;
	c->stack->pending = c;
}

static void arm(struct tcp_conn *c, uint32_t ms)
{
	c->flags &= ~(TF_TIDLE | TF_TLP);
	loop_timer_set(c->stack->loop, &c->timer, c->stack->loop->now + ms);
}

/*
 * Data is out: the RTO, or first a tail loss probe (RFC 8985 7) after two
 * RTTs, which draws the ACK (or SACK) that tells a lost tail, or a lost last
 * ACK, in a few ms rather than after the 200 ms minimum RTO.
 */
static void arm_data(struct tcp_conn *c)
{
	uint32_t pto = 2 * c->srtt;

	if (pto < 10)
		pto = 10;
	if (c->snd_max - c->snd_una <= c->mss)
		pto += TCP_DELACK_MS; /* one segment: the app may delay its ACK */
	if (!(c->flags & TF_SACK) || (c->flags & TF_TLP_DONE) || !c->srtt ||
	    c->snd_nxt != c->snd_max || pto >= c->rto) {
		arm(c, c->rto);
		return;
	}
	arm(c, pto);
	c->flags |= TF_TLP;
}

/* The retransmission or persist timer is running (not just keepalive/idle). */
static bool rto_armed(const struct tcp_conn *c)
{
	return timer_armed(&c->timer) && !(c->flags & TF_TIDLE);
}

static bool synchronized(const struct tcp_conn *c)
{
	return c->state >= TCPS_ESTABLISHED && c->state <= TCPS_LAST_ACK;
}

static bool ka_on(const struct tcp_conn *c)
{
	const struct tcp_cfg *cfg = &c->stack->cfg;

	return cfg->ka_idle_ms != UINT32_MAX &&
	       (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT ||
		c->state == TCPS_FIN_WAIT_2);
}

/* With nothing to retransmit, the timer watches for keepalive and idle deadlines. */
static void arm_idle(struct tcp_conn *c)
{
	const struct tcp_cfg *cfg = &c->stack->cfg;
	uint64_t now = c->stack->loop->now, when = UINT64_MAX;

	if (!synchronized(c) || rto_armed(c))
		return;
	if (ka_on(c))
		when = c->last_rcv + cfg->ka_idle_ms + (uint64_t)c->ka_probes * cfg->ka_intvl_ms;
	if (cfg->idle_ms && c->last_act + cfg->idle_ms < when)
		when = c->last_act + cfg->idle_ms;
	if (when == UINT64_MAX) {
		if (timer_armed(&c->timer))
			loop_timer_cancel(c->stack->loop, &c->timer);
		return;
	}
	if (when <= now)
		when = now + 1;
	if (timer_armed(&c->timer) && c->timer.when == when)
		return;
	loop_timer_set(c->stack->loop, &c->timer, when);
	c->flags |= TF_TIDLE;
}

/* ---- lifecycle ---- */

static void conn_kill(struct tcp_conn *c)
{
	if (c->flags & TF_DEAD)
		return;
	c->flags |= TF_DEAD;
	c->dnext = c->stack->dead;
	c->stack->dead = c;
}

static void hs_done(struct tcp_conn *c)
{
	if (c->flags & TF_HS) {
		c->flags &= ~TF_HS;
		c->stack->npending--;
	}
}

/* Enters CLOSED: out of the flow table, no timer, session told once. */
static void conn_closed(struct tcp_conn *c, int err)
{
	void *user = c->user;
	enum tcp_state prev = c->state;

	if (prev == TCPS_CLOSED)
		return;
	hs_done(c);
	if (prev != TCPS_TIME_WAIT)
		flow_remove(c->stack, c);
	c->state = TCPS_CLOSED;
	loop_timer_cancel(c->stack->loop, &c->timer);
	if (!user)
		conn_kill(c);
	else if (prev != TCPS_TIME_WAIT) /* TIME_WAIT already told it */
		c->stack->ops->on_close(user, err);
}

static void enter_time_wait(struct tcp_conn *c)
{
	void *user = c->user;

	/*
	 * Stays in the flow table so retransmitted FINs are re-ACKed, for a
	 * short bounded time; a new SYN for the same flow replaces it.
	 */
	c->state = TCPS_TIME_WAIT;
	arm(c, TCP_TIME_WAIT_MS);
	/* Nothing more will be sent or taken: keep only the few bytes of state. */
	ring_fini(&c->tx);
	c->nooo = 0;
	c->nsb = 0;
	if (!user)
		ring_fini(&c->rx);
	if (user)
		c->stack->ops->on_close(user, 0);
}

static void rtt_sample(struct tcp_conn *c, uint32_t r)
{
	/* RFC 6298 2.2/2.3 with alpha 1/8, beta 1/4; granularity 1 ms. */
	if (!c->srtt) {
		c->srtt = r ? r : 1;
		c->rttvar = r / 2;
	} else {
		uint32_t d = c->srtt > r ? c->srtt - r : r - c->srtt;

		c->rttvar = (3 * c->rttvar + d) / 4;
		c->srtt = (7 * c->srtt + r) / 8;
		if (!c->srtt)
			c->srtt = 1;
	}
	c->rto = c->srtt + (4 * c->rttvar > 1 ? 4 * c->rttvar : 1);
	if (c->rto < TCP_RTO_MIN_MS)
		c->rto = TCP_RTO_MIN_MS;
	if (c->rto > TCP_RTO_MAX_MS)
		c->rto = TCP_RTO_MAX_MS;
}

static uint32_t flight(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una;
}

/* Resends the segment at snd_una; returns the bytes it covers. */
static size_t retransmit_first(struct tcp_conn *c)
{
	size_t smss = c->mss - opt_len(c);
	size_t n = c->tx.len < smss ? c->tx.len : smss;
	uint8_t fl = TCP_ACK;

	if (!SEQ_GEQ(c->snd_una, c->tx_seq))
		return 0;
	if ((c->flags & TF_FIN_QUEUED) && n == c->tx.len && c->snd_max == c->tx_seq + c->tx.len + 1)
		fl |= TCP_FIN;
	if (!n && !(fl & TCP_FIN))
		return 0;
	c->stack->stats.retrans++;
	send_seg(c, c->snd_una, (uint8_t)(fl | (n ? TCP_PSH : 0)), 0, n);
	return n;
}

/* Keepalive probes toward the app, and the idle timeout (both off the data path). */
static void idle_timer(struct tcp_conn *c)
{
	const struct tcp_cfg *cfg = &c->stack->cfg;
	uint64_t now = c->stack->loop->now;

	c->flags &= ~TF_TIDLE;
	if (cfg->idle_ms && now >= c->last_act + cfg->idle_ms) {
		c->stack->stats.idle_timeouts++;
		send_seg(c, c->snd_nxt, TCP_RST | TCP_ACK, 0, 0);
		conn_closed(c, -ETIMEDOUT);
		return;
	}
	if (ka_on(c) &&
	    now >= c->last_rcv + cfg->ka_idle_ms + (uint64_t)c->ka_probes * cfg->ka_intvl_ms) {
		if (c->ka_probes >= cfg->ka_cnt) {
			c->stack->stats.ka_timeouts++;
			send_seg(c, c->snd_nxt, TCP_RST | TCP_ACK, 0, 0);
			conn_closed(c, -ETIMEDOUT);
			return;
		}
		/* RFC 9293 3.8.4: an old sequence number draws an ACK from a live peer. */
		c->ka_probes++;
		send_seg(c, c->snd_una - 1, TCP_ACK, 0, 0);
	}
	arm_idle(c);
}

/* RFC 8985 7.3: one new segment if there is one, else the last one again. */
static void tail_probe(struct tcp_conn *c)
{
	size_t smss = c->mss - opt_len(c), off = c->snd_nxt - c->tx_seq, n = 0;
	uint32_t rroom = c->snd_wnd > flight(c) ? c->snd_wnd - flight(c) : 0;

	c->flags = (c->flags & ~TF_TLP) | TF_TLP_DONE;
	c->stack->stats.tlp++;
	if (off <= c->tx.len)
		n = c->tx.len - off;
	if (n > smss)
		n = smss;
	if (n > rroom)
		n = rroom;
	if (n && !(c->flags & TF_FIN_QUEUED && n == c->tx.len - off)) {
		send_seg(c, c->snd_nxt, TCP_ACK | TCP_PSH, off, n);
		c->snd_nxt += (uint32_t)n;
		c->snd_max = c->snd_nxt;
	} else {
		uint32_t len = flight(c) < smss ? flight(c) : (uint32_t)smss;
		uint32_t start = c->snd_max - len;

		if (SEQ_GEQ(start, c->tx_seq) && start - c->tx_seq + len <= c->tx.len) {
			c->stack->stats.retrans++;
			send_seg(c, start, TCP_ACK | TCP_PSH, start - c->tx_seq, len);
		} else {
			retransmit_first(c); /* a FIN is out: resend from una */
		}
	}
	arm(c, c->rto);
}

static void conn_timer_cb(struct timer *t)
{
	struct tcp_conn *c = (struct tcp_conn *)((char *)t - offsetof(struct tcp_conn, timer));

	switch (c->state) {
	case TCPS_SYN_RCVD:
		if (++c->retries > TCP_SYNACK_RETRIES) {
			send_seg(c, c->snd_nxt, TCP_RST, 0, 0);
			conn_closed(c, -ETIMEDOUT);
			return;
		}
		c->stack->stats.retrans++;
		c->snd_nxt = c->iss;
		c->rtt_ts = 0; /* Karn: no sample from a resent SYN-ACK */
		c->rto = c->rto * 2 > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : c->rto * 2;
		conn_output(c);
		return;
	case TCPS_TIME_WAIT:
		flow_remove(c->stack, c);
		conn_closed(c, 0);
		return;
	case TCPS_SYN_PENDING:
	case TCPS_CLOSED:
		return;
	default:
		break;
	}
	if (c->flags & TF_TIDLE) {
		idle_timer(c);
		return;
	}
	if (c->flags & TF_TLP) {
		tail_probe(c);
		return;
	}
	if (flight(c)) {
		uint32_t half = flight(c) / 2;

		if (++c->retries > TCP_DATA_RETRIES) {
			send_seg(c, c->snd_nxt, TCP_RST | TCP_ACK, 0, 0);
			conn_closed(c, -ETIMEDOUT);
			return;
		}
		log_debug("conn %u: RTO %u ms: flight %u cwnd %u una+%u..%u sacked %u in %u "
			  "ranges%s dupacks %u rxt %u",
			  c->id, c->rto, flight(c), c->cwnd, c->snd_nxt - c->snd_una,
			  c->snd_max - c->snd_una, sb_bytes(c, c->snd_una, c->snd_max), c->nsb,
			  (c->flags & TF_RECOVERY) ? " recovery" : "", c->dupacks,
			  c->high_rxt - c->snd_una);
		/* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS); go back to una. */
		c->ssthresh = half > 2u * c->mss ? half : 2u * c->mss;
		c->cwnd = c->mss;
		c->snd_nxt = c->snd_una;
		c->dupacks = 0;
		c->flags &= ~TF_RECOVERY;

		c->nsb = 0; /* go back N; the app drops what it already has */
		c->stack->stats.rto_fired++;
		c->rtt_ts = 0; /* Karn: no samples from retransmitted data */
		c->rto = c->rto * 2 > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : c->rto * 2;
		c->stack->stats.retrans++;
		conn_output(c);
		if (!rto_armed(c))
			arm(c, c->rto);
		return;
	}
	if (c->snd_wnd == 0 && c->tx.len > c->snd_nxt - c->tx_seq) {
		/* Persist: an already-acked sequence number draws an ACK with the window. */
		send_seg(c, c->snd_una - 1, TCP_ACK, 0, 0);
		c->rto = c->rto * 2 > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : c->rto * 2;
		arm(c, c->rto);
		return;
	}
	arm_idle(c);
}

/* ---- SACK scoreboard (RFC 2018, recovery after RFC 6675) ---- */

/* Bytes the app SACKed in [from, to). sb[] is sorted and disjoint. */
static uint32_t sb_bytes(const struct tcp_conn *c, uint32_t from, uint32_t to)
{
	uint32_t n = 0;
	unsigned i;

	for (i = 0; i < c->nsb; i++) {
		uint32_t s = c->sb[i].start, e = c->sb[i].end;

		if (SEQ_LT(s, from))
			s = from;
		if (SEQ_GT(e, to))
			e = to;
		if (SEQ_LT(s, e))
			n += e - s;
	}
	return n;
}

static uint32_t sb_high(const struct tcp_conn *c)
{
	return c->nsb ? c->sb[c->nsb - 1].end : c->snd_una;
}

/*
 * RFC 6675 pipe, taking every hole below the highest SACK as lost: what is
 * past the highest SACK, plus the holes already resent in this recovery.
 */
static uint32_t pipe_bytes(const struct tcp_conn *c)
{
	uint32_t high = sb_high(c), rx = c->high_rxt;

	if (SEQ_LT(rx, c->snd_una))
		rx = c->snd_una;
	if (SEQ_GT(rx, high))
		rx = high;
	return (c->snd_max - high) + (rx - c->snd_una) - sb_bytes(c, c->snd_una, rx);
}

/* The first hole at or after from, below the highest SACK. */
static bool sb_next_hole(const struct tcp_conn *c, uint32_t from, struct tcp_range *h)
{
	uint32_t pos = SEQ_LT(from, c->snd_una) ? c->snd_una : from;
	unsigned i;

	for (i = 0; i < c->nsb; i++) {
		if (SEQ_LT(pos, c->sb[i].start)) {
			h->start = pos;
			h->end = c->sb[i].start;
			return true;
		}
		if (SEQ_LT(pos, c->sb[i].end))
			pos = c->sb[i].end;
	}
	return false;
}

/* Adds [s, e) (already checked to lie in (snd_una, snd_max]) to the scoreboard. */
static void sb_add(struct tcp_conn *c, uint32_t s, uint32_t e)
{
	unsigned i = 0, j;

	while (i < c->nsb && SEQ_LT(c->sb[i].end, s))
		i++;
	/* Merge every range that overlaps or touches [s, e). */
	j = i;
	while (j < c->nsb && SEQ_LEQ(c->sb[j].start, e)) {
		if (SEQ_LT(c->sb[j].start, s))
			s = c->sb[j].start;
		if (SEQ_GT(c->sb[j].end, e))
			e = c->sb[j].end;
		j++;
	}
	if (j == i && c->nsb == TCP_SB_MAX)
		return; /* full: forget this block, recovery still works */
	memmove(&c->sb[i + 1], &c->sb[j], (c->nsb - j) * sizeof(c->sb[0]));
	c->nsb = (uint8_t)(c->nsb - (j - i) + 1);
	c->sb[i].start = s;
	c->sb[i].end = e;
}

static void sb_prune(struct tcp_conn *c)
{
	unsigned i = 0;

	while (i < c->nsb && SEQ_LEQ(c->sb[i].end, c->snd_una))
		i++;
	memmove(&c->sb[0], &c->sb[i], (c->nsb - i) * sizeof(c->sb[0]));
	c->nsb = (uint8_t)(c->nsb - i);
	if (c->nsb && SEQ_LT(c->sb[0].start, c->snd_una))
		c->sb[0].start = c->snd_una;
}

/* In recovery: resend holes while the pipe has room (RFC 6675 5, NextSeg rule 1). */
static void sack_rexmit(struct tcp_conn *c, size_t smss)
{
	struct tcp_range h;

	while (pipe_bytes(c) < c->cwnd && sb_next_hole(c, c->high_rxt, &h)) {
		uint32_t n = h.end - h.start;
		size_t off = h.start - c->tx_seq;

		if (n > smss)
			n = (uint32_t)smss;
		if (SEQ_LT(h.start, c->tx_seq) || off + n > c->tx.len)
			break;
		send_seg(c, h.start, TCP_ACK | TCP_PSH, off, n);
		c->high_rxt = h.start + n;
		c->rxt_mark = c->snd_max;
		c->stack->stats.sack_rexmit++;
		c->stack->stats.retrans++;
		if (!rto_armed(c))
			arm(c, c->rto);
	}
}

/*
 * With offload one packet carries whole segments, at most 64 KiB of them,
 * and at most a quarter of cwnd: a packet lost on the TUN (a full queue
 * drops it whole) then leaves three more of the flight to draw the SACKs
 * that repair it, rather than the RTO that a lost whole flight costs.
 */
static size_t gso_limit(const struct tcp_conn *c, size_t smss)
{
	size_t lim = c->cwnd / 4;

	if (!c->stack->cfg.offload)
		return smss;
	if (lim > TCP_GSO_MAX)
		lim = TCP_GSO_MAX;
	lim -= lim % smss;
	return lim > smss ? lim : smss;
}

/* Sends what the windows allow, then a bare ACK if one is still owed. */
static void conn_output(struct tcp_conn *c)
{
	size_t off, avail, n, smss, lim;
	bool fin;

	switch (c->state) {
	case TCPS_SYN_PENDING:
	case TCPS_CLOSED:
		return;
	case TCPS_SYN_RCVD:
		if (c->snd_nxt == c->iss) {
			send_seg(c, c->iss, TCP_SYN | TCP_ACK, 0, 0);
			c->snd_nxt = c->iss + 1;
			if (SEQ_GT(c->snd_nxt, c->snd_max))
				c->snd_max = c->snd_nxt;
			arm(c, c->rto);
		}
		return;
	case TCPS_FIN_WAIT_2:
	case TCPS_TIME_WAIT:
		goto ack;
	default:
		break;
	}
	smss = c->mss - opt_len(c);
	lim = gso_limit(c, smss);
	if ((c->flags & (TF_RECOVERY | TF_SACK)) == (TF_RECOVERY | TF_SACK))
		sack_rexmit(c, smss);
	for (;;) {
		uint32_t inflight = (c->flags & (TF_RECOVERY | TF_SACK)) == (TF_RECOVERY | TF_SACK)
					    ? pipe_bytes(c)
					    : c->snd_nxt - c->snd_una;
		/* RFC 3042: each of the first two dup ACKs lets one more segment out. */
		uint32_t cw =
			c->cwnd + ((c->flags & TF_RECOVERY)
					   ? 0
					   : (uint32_t)(c->dupacks < 2 ? c->dupacks : 2) * c->mss);
		uint32_t room = cw > inflight ? cw - inflight : 0;
		uint32_t rroom = c->snd_wnd > c->snd_nxt - c->snd_una
					 ? c->snd_wnd - (c->snd_nxt - c->snd_una)
					 : 0;

		if (room > rroom)
			room = rroom;
		off = c->snd_nxt - c->tx_seq;
		if (off > c->tx.len)
			break; /* FIN already out */
		avail = c->tx.len - off;
		n = avail < lim ? avail : lim;
		if (n > room)
			n = room;
		/* A large segment ends on a segment boundary unless it takes all there is. */
		if (n > smss && n < avail)
			n -= n % smss;
		fin = (c->flags & TF_FIN_QUEUED) && n == avail;
		if (!n && !fin)
			break;
		/* Sender SWS avoidance: no runt segments while data is in flight. */
		if (n < avail && n < smss && c->snd_nxt != c->snd_una)
			break;
		send_seg(c, c->snd_nxt,
			 (uint8_t)(TCP_ACK | (n ? TCP_PSH : 0) | (fin ? TCP_FIN : 0)), off, n);
		if (n && c->snd_nxt == c->snd_max) {
			c->last_act = c->stack->loop->now;
			if (!c->rtt_ts && !(c->flags & TF_RECOVERY)) {
				c->rtt_ts = c->stack->loop->now ? c->stack->loop->now : 1;
				c->rtt_seq = c->snd_nxt + (uint32_t)n;
			}
		}
		c->snd_nxt += (uint32_t)n + fin;
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (!rto_armed(c) || (c->flags & TF_TLP))
			arm_data(c); /* RFC 8985 7.2: each new segment re-arms the probe */
		if (fin)
			break;
	}
	/* Zero window with data waiting and nothing in flight: persist. */
	if (!c->snd_wnd && !flight(c) && c->tx.len > c->snd_nxt - c->tx_seq && !rto_armed(c))
		arm(c, c->rto);
ack:
	if (c->flags & TF_ACK_NOW)
		send_seg(c, c->snd_nxt, TCP_ACK, 0, 0);
	arm_idle(c);
}

/* ---- input ---- */

enum tcp_limit { TCP_LIM_OK, TCP_LIM_CONNS, TCP_LIM_MEM };

/*
 * Room for one more flow? With shared limits its place is taken here
 * (undone by limits_release, else by flow_remove), so two stacks racing for
 * the last place cannot both get it.
 */
static enum tcp_limit limits_take(struct tcp_stack *st)
{
	struct tcp_shared *sh = st->cfg.shared;
	size_t mem = 0;
	int i;

	if (!sh) {
		if (st->count >= st->cfg.max_conns)
			return TCP_LIM_CONNS;
		return st->mem < st->cfg.mem_budget ? TCP_LIM_OK : TCP_LIM_MEM;
	}
	atomic_store_explicit(&sh->mem[st->cfg.shared_idx], st->mem, memory_order_relaxed);
	for (i = 0; i < sh->nstacks; i++)
		mem += atomic_load_explicit(&sh->mem[i], memory_order_relaxed);
	if (mem >= st->cfg.mem_budget)
		return TCP_LIM_MEM;
	if (atomic_fetch_add(&sh->conns, 1) >= st->cfg.max_conns) {
		atomic_fetch_sub(&sh->conns, 1);
		return TCP_LIM_CONNS;
	}
	return TCP_LIM_OK;
}

static void limits_release(struct tcp_stack *st)
{
	if (st->cfg.shared)
		atomic_fetch_sub(&st->cfg.shared->conns, 1);
}

/* At most one line a minute (per engine), at the default level, naming the limit. */
static void limit_log(struct tcp_stack *st, enum tcp_limit lim, bool reset)
{
	uint64_t n = st->stats.syn_deferred + st->stats.limit_refused, now = st->loop->now;
	char how[160];

	if (st->log_at && now - st->log_at < TCP_LIMIT_LOG_MS)
		return;
	if (lim == TCP_LIM_MEM)
		snprintf(how, sizeof(how), "buffer memory at --mem-limit (%zu MiB): raise it",
			 st->cfg.mem_budget >> 20);
	else if (st->cfg.conns_bound == TCP_BOUND_FILES)
		snprintf(how, sizeof(how),
			 "%u flows, the --max-conns the open-files limit (%u) allows: raise that "
			 "(ulimit -n, LimitNOFILE=) or set --max-conns",
			 st->cfg.max_conns, st->cfg.nofile);
	else if (st->cfg.conns_bound == TCP_BOUND_MEMORY)
		snprintf(how, sizeof(how),
			 "%u flows, the --max-conns that --mem-limit (%zu MiB) allows: raise that "
			 "or set --max-conns",
			 st->cfg.max_conns, st->cfg.mem_budget >> 20);
	else
		snprintf(how, sizeof(how), "%u flows at --max-conns: raise it", st->cfg.max_conns);
	log_notice("tcp: new connections wait (%llu since the last such line): %s; %s",
		   (unsigned long long)(n - st->deferred_logged), how,
		   reset ? "full for 10 s with none closing, so new SYNs now get a reset"
			 : "their SYNs are dropped and come back as the apps resend them");
	st->log_at = now;
	st->deferred_logged = n;
}

/*
 * A SYN past a limit: dropped, so the app's kernel sends it again (as a
 * full accept queue does), unless the table has been full for
 * TCP_FULL_RESET_MS with no flow leaving it: then a reset.
 */
static void over_limit(struct tcp_stack *st, enum tcp_limit lim, const struct ip_view *ip,
		       const struct tcp_seg *s)
{
	uint64_t now = st->loop->now, since;
	bool reset;

	full_set(st, now ? now : 1);
	since = full_get(st);
	reset = since && now >= since && now - since >= TCP_FULL_RESET_MS;
	if (reset) {
		st->stats.limit_refused++;
		send_rst_for(st, ip, s);
	} else {
		st->stats.syn_deferred++;
	}
	limit_log(st, lim, reset);
}

static void new_flow(struct tcp_stack *st, const struct ip_view *ip, const struct tcp_seg *s)
{
	struct tcp_conn *c;
	uint32_t iss;
	uint16_t maxmss = (uint16_t)(st->cfg.mtu - TCP_HDR_LEN -
				     (ip->family == AF_INET6 ? IP6_HDR_LEN : IP4_HDR_LEN));

	enum tcp_limit lim = limits_take(st);

	/* Past a limit a new flow waits (or, stuck full, is reset); existing ones carry on. */
	if (lim != TCP_LIM_OK) {
		over_limit(st, lim, ip, s);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		limits_release(st);
		st->stats.syn_refused++;
		send_rst_for(st, ip, s);
		return;
	}
	if (getrandom(&iss, sizeof(iss), GRND_NONBLOCK) != sizeof(iss))
		iss = (uint32_t)(st->loop->now * 2654435761u) ^ st->next_id;
	c->stack = st;
	c->id = ++st->next_id;
	c->family = ip->family;
	memcpy(c->laddr, ip->dst, 16);
	memcpy(c->raddr, ip->src, 16);
	c->lport = s->dport;
	c->rport = s->sport;
	c->state = TCPS_SYN_PENDING;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->last_rcv = st->loop->now; /* a resent SYN renews it: the app still waits */
	c->iss = iss;
	c->snd_una = c->snd_nxt = c->snd_max = iss;
	c->tx_seq = iss + 1;
	c->snd_wnd = s->wnd;
	c->snd_wl1 = s->seq;
	c->mss = s->mss ? s->mss : (ip->family == AF_INET6 ? 1220 : 536);
	if (c->mss > maxmss)
		c->mss = maxmss;
	if (c->mss < 64)
		c->mss = 64; /* absurd peer MSS: keep the stack moving */
	if (s->wscale >= 0) {
		c->flags |= TF_WSCALE;
		c->snd_ws = (uint8_t)s->wscale;
		while (c->rcv_ws < 14 && ((size_t)65535 << c->rcv_ws) < st->cfg.buf_size)
			c->rcv_ws++;
	}
	if (s->sack_perm)
		c->flags |= TF_SACK;
	if (s->ts) {
		c->flags |= TF_TS;
		c->ts_recent = s->tsval;
		c->ts_off = iss * 2654435761u; /* RFC 7323 5.4: no shared clock */
	}
	c->cwnd = TCP_INIT_CWND_SEGS * (uint32_t)c->mss;
	c->ssthresh = UINT32_MAX / 2;
	c->reordering = 3;
	c->rto = TCP_RTO_INIT_MS;
	c->timer.cb = conn_timer_cb;
	ring_init(&c->rx, st->cfg.buf_size);
	ring_init(&c->tx, st->cfg.buf_size);
	c->rx.mem = c->tx.mem = &st->mem;
	flow_insert(st, c);
	st->stats.conns_open++;
	st->stats.handshakes++;
	st->npending++;
	c->flags |= TF_HS;
	c->user = st->ops->on_syn(st->ctx, c);
	if (!c->user) {
		st->stats.syn_refused++;
		tcp_reject(c);
	}
}

/*
 * Duplicate ACKs that start recovery: 3, or fewer when less than 4 segments
 * are out and nothing new can follow them (RFC 5827 early retransmit).
 */
static uint32_t dup_thresh(const struct tcp_conn *c)
{
	uint32_t segs = (flight(c) + c->mss - 1) / c->mss;

	if (c->reordering > 3 && segs > c->reordering)
		return c->reordering; /* this path reorders: wait longer */

	/*
	 * With fewer than 4 segments out, cwnd is that small too, so limited
	 * transmit cannot bring 3 dup ACKs in time either.
	 */
	if (segs >= 4)
		return 3;
	return segs > 1 ? segs - 1 : 1;
}

static void enter_recovery(struct tcp_conn *c)
{
	/*
	 * RFC 5681 3.2 fast retransmit; RFC 6582 / 6675 recovery point. The
	 * window backs off to 0.7 of the flight (RFC 9438's beta), not half:
	 * on a local link most losses are queue drops, not a congested path.
	 */
	uint32_t back = (uint32_t)((uint64_t)flight(c) * 7 / 10);

	c->prior_cwnd = c->cwnd;
	c->prior_ssthresh = c->ssthresh;
	c->undo_una = c->snd_una;
	c->rxt_tsval = (c->flags & TF_TS) ? ts_now(c) : 0;
	c->ssthresh = back > 2u * c->mss ? back : 2u * c->mss;
	c->recover = c->snd_max;
	c->flags |= TF_RECOVERY;
	c->high_rxt = c->snd_una;
	c->rxt_mark = c->snd_max;
	c->rtt_ts = 0; /* Karn: the timed segment may be resent */
	if ((c->flags & TF_SACK) && c->nsb) {
		c->cwnd = c->ssthresh; /* sending is paced by pipe_bytes() */
		mark_pending(c);
		return;
	}
	c->high_rxt = c->snd_una + (uint32_t)retransmit_first(c);
	c->cwnd = c->ssthresh + 3u * c->mss;
}

/*
 * A hole resent in this recovery is still a hole although three segments
 * sent after it have been SACKed: the resend was lost too. Resend the holes
 * again now rather than wait for the RTO (the idea of RACK, RFC 8985, in
 * sequence space).
 */
static void lost_rexmit_check(struct tcp_conn *c)
{
	struct tcp_range h;

	if (SEQ_LEQ(c->high_rxt, c->snd_una) || !sb_next_hole(c, c->snd_una, &h) ||
	    !SEQ_LT(h.start, c->high_rxt))
		return;
	if (sb_bytes(c, c->rxt_mark, c->snd_max) < 3u * c->mss)
		return;
	c->stack->stats.lost_rexmit++;
	c->high_rxt = c->snd_una;
	c->rxt_mark = c->snd_max;
}

/*
 * Eifel detection (RFC 3522): the first ACK past the hole echoes a timestamp
 * older than our first retransmission, so the original segment filled it.
 */
static bool spurious_recovery(const struct tcp_conn *c, const struct tcp_seg *s)
{
	return c->rxt_tsval && s->ts && s->tsecr && SEQ_GT(s->ack, c->undo_una) &&
	       c->snd_una == c->undo_una && SEQ_LT(s->tsecr, c->rxt_tsval);
}

/* Takes the SACK blocks of an acceptable ACK into the scoreboard. */
static void sack_input(struct tcp_conn *c, const struct tcp_seg *s)
{
	unsigned i;

	for (i = 0; i < s->nsack; i++) {
		uint32_t l = s->sack[i][0], r = s->sack[i][1];

		if (!SEQ_LT(l, r) || SEQ_LEQ(r, c->snd_una) || SEQ_GT(r, c->snd_max))
			continue; /* D-SACK, stale or bogus: ignored */
		if (SEQ_LT(l, c->snd_una))
			l = c->snd_una;
		sb_add(c, l, r);
	}
}

/* ACK field processing for synchronized states. Returns false if the segment is done. */
static bool process_ack(struct tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t wnd = (uint32_t)s->wnd << c->snd_ws;
	uint64_t now = c->stack->loop->now;
	bool dup = false;

	if (SEQ_GT(s->ack, c->snd_max)) {
		c->flags |= TF_ACK_NOW; /* acks something never sent */
		return false;
	}
	if (SEQ_LT(s->ack, c->snd_una))
		return true; /* old duplicate ACK: data may still be good */
	if (SEQ_LT(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, s->ack))) {
		dup = s->ack == c->snd_una && !s->len && !(s->flags & TCP_FIN) &&
		      wnd == c->snd_wnd && flight(c);
		if (wnd > c->snd_wnd)
			mark_pending(c); /* the window opened: maybe more to send */
		c->snd_wnd = wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
	}
	if (SEQ_GT(s->ack, c->snd_una)) {
		uint32_t acked = s->ack - c->snd_una;
		bool spurious = (c->flags & TF_RECOVERY) && spurious_recovery(c, s);
		size_t data = 0;

		/*
		 * One timed segment per RTT, never across a retransmission (Karn).
		 * Timestamp echoes are not used: after a loss the app echoes the
		 * TSval from before the hole (RFC 7323 4.2), which inflates the
		 * RTO by the whole recovery.
		 */
		if (c->rtt_ts && SEQ_GEQ(s->ack, c->rtt_seq)) {
			rtt_sample(c, (uint32_t)(now - c->rtt_ts));
			c->rtt_ts = 0;
		}
		if (SEQ_GT(s->ack, c->tx_seq)) {
			data = s->ack - c->tx_seq;
			if (data > c->tx.len)
				data = c->tx.len;
			ring_consume(&c->tx, data);
			c->tx_seq += (uint32_t)data;
		}
		if ((c->flags & TF_FIN_QUEUED) && !c->tx.len && s->ack == c->tx_seq + 1)
			c->flags |= TF_FIN_ACKED;
		c->snd_una = s->ack;
		if (SEQ_LT(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		sb_prune(c);
		if (spurious) {
			/* RFC 3522: the original arrived; undo the back-off, expect reordering. */
			c->stack->stats.undo++;
			c->flags &= ~TF_RECOVERY;
			c->cwnd = c->prior_cwnd > c->cwnd ? c->prior_cwnd : c->cwnd;
			c->ssthresh = c->prior_ssthresh;
			c->nsb = 0;
			if (c->reordering < 32)
				c->reordering += 2;
		} else if (c->flags & TF_RECOVERY) {
			if (SEQ_GEQ(s->ack, c->recover)) {
				c->flags &= ~TF_RECOVERY;
				c->cwnd = c->ssthresh;
			} else if (!(c->flags & TF_SACK) || !c->nsb) {
				/* Partial ACK: resend the next hole, deflate (RFC 6582 3.2). */
				retransmit_first(c);
				c->cwnd = c->cwnd > acked ? c->cwnd - acked + c->mss : c->mss;
			}
		} else if (c->cwnd < c->ssthresh) {
			/* RFC 3465 (ABC, L = 2): delayed ACKs must not halve slow start. */
			c->cwnd += acked < 2u * c->mss ? acked : 2u * c->mss;
		} else {
			c->cwnd += (uint32_t)((uint64_t)c->mss * c->mss / c->cwnd) + 1;
		}
		if (c->cwnd > 2 * c->stack->cfg.buf_size)
			c->cwnd = (uint32_t)(2 * c->stack->cfg.buf_size);
		c->dupacks = 0;
		c->retries = 0;
		c->flags &= ~TF_TLP_DONE;
		if (c->snd_una == c->snd_max)
			loop_timer_cancel(c->stack->loop, &c->timer);
		else
			arm_data(c);
		if (data && c->user)
			c->stack->ops->on_sent(c->user);
		mark_pending(c);
	} else if (!dup) {
		c->dupacks = 0;
	}
	if ((c->flags & TF_SACK) && s->nsack && flight(c)) {
		sack_input(c, s);
		if (c->flags & TF_RECOVERY) {
			lost_rexmit_check(c);
			mark_pending(c); /* the pipe may have room now */
		}
	}
	if (!(c->flags & TF_RECOVERY) && flight(c) && c->snd_nxt == c->snd_max) {
		uint32_t thresh = dup_thresh(c);

		if (dup && ++c->dupacks >= thresh)
			enter_recovery(c);
		else if ((c->flags & TF_SACK) && c->nsb &&
			 sb_bytes(c, c->snd_una, sb_high(c)) >
				 (thresh - 1) * (uint32_t)(c->mss - opt_len(c)))
			enter_recovery(c); /* RFC 6675 IsLost(SND.UNA) */
		else if (dup)
			mark_pending(c); /* RFC 3042 limited transmit */
	} else if (dup && (c->flags & TF_RECOVERY) && !(c->flags & TF_SACK) && ++c->dupacks > 3) {
		c->cwnd += c->mss; /* NewReno inflation */
		mark_pending(c);
	}
	return true;
}

/* The app's FIN is next in sequence: take it. */
static void fin_in(struct tcp_conn *c)
{
	c->rcv_nxt++;
	c->flags |= TF_FIN_RCVD | TF_ACK_NOW;
	mark_pending(c);
	if (c->user)
		c->stack->ops->on_fin(c->user);
	if (c->state == TCPS_ESTABLISHED)
		c->state = TCPS_CLOSE_WAIT;
	else if (c->state == TCPS_FIN_WAIT_1 && !(c->flags & TF_FIN_ACKED))
		c->state = TCPS_CLOSING;
	else
		enter_time_wait(c);
}

static bool ooo_touches(const struct tcp_range *r, uint32_t s, uint32_t e)
{
	return SEQ_LEQ(r->start, e) && SEQ_GEQ(r->end, s);
}

/*
 * Parks out-of-order data in rx's free space, at its place in sequence, and
 * records the range newest first (the order SACK blocks are sent in). The
 * window we advertised is that free space, so this costs no memory beyond
 * the buffer; at most TCP_OOO_MAX disjoint ranges are kept.
 */
static void ooo_store(struct tcp_conn *c, uint32_t seq, const uint8_t *p, size_t len, bool fin)
{
	size_t off = seq - c->rcv_nxt, space = ring_space(&c->rx);
	uint32_t s = seq, e;
	unsigned i, touching = 0;
	bool changed;

	if (off >= space) {
		c->stack->stats.beyond_window++;
		return;
	}
	if (len > space - off) {
		len = space - off;
		fin = false;
	}
	if (fin && !(c->flags & TF_FIN_OOO)) {
		c->flags |= TF_FIN_OOO;
		c->fin_seq = seq + (uint32_t)len;
	}
	if (!len)
		return;
	e = seq + (uint32_t)len;
	for (i = 0; i < c->nooo; i++)
		touching += ooo_touches(&c->ooo[i], s, e);
	if (!touching && c->nooo == TCP_OOO_MAX) {
		c->stack->stats.ooo_dropped++;
		return;
	}
	if (ring_write_at(&c->rx, c->rx.len + off, p, len) < 0) {
		c->stack->stats.ooo_dropped++;
		return;
	}
	c->stack->stats.ooo_queued++;
	c->last_act = c->stack->loop->now;
	do {
		changed = false;
		for (i = 0; i < c->nooo; i++) {
			if (!ooo_touches(&c->ooo[i], s, e))
				continue;
			if (SEQ_LT(c->ooo[i].start, s))
				s = c->ooo[i].start;
			if (SEQ_GT(c->ooo[i].end, e))
				e = c->ooo[i].end;
			memmove(&c->ooo[i], &c->ooo[i + 1], (c->nooo - i - 1) * sizeof(c->ooo[0]));
			c->nooo--;
			changed = true;
			break;
		}
	} while (changed);
	memmove(&c->ooo[1], &c->ooo[0], c->nooo * sizeof(c->ooo[0]));
	c->ooo[0].start = s;
	c->ooo[0].end = e;
	c->nooo++;
}

/* rcv_nxt moved: parked ranges it reached become held data. */
static void ooo_advance(struct tcp_conn *c)
{
	unsigned i = 0;

	while (i < c->nooo) {
		struct tcp_range r = c->ooo[i];

		if (SEQ_GT(r.start, c->rcv_nxt)) {
			i++;
			continue;
		}
		if (SEQ_GT(r.end, c->rcv_nxt)) {
			ring_commit(&c->rx, r.end - c->rcv_nxt);
			c->rcv_nxt = r.end;
		}
		memmove(&c->ooo[i], &c->ooo[i + 1], (c->nooo - i - 1) * sizeof(c->ooo[0]));
		c->nooo--;
		i = 0; /* the new rcv_nxt may reach another one */
	}
}

static void conn_input(struct tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t seglen = (uint32_t)s->len + !!(s->flags & TCP_FIN);
	uint32_t wnd = rcv_window(c);
	bool ok, ack_only = false;

	/*
	 * RFC 9293 3.10.7.4 first check. The window is our buffer space now,
	 * which is never less than what we advertised (only arriving data fills it).
	 */
	if (!seglen)
		ok = wnd ? SEQ_GEQ(s->seq, c->rcv_nxt) && SEQ_LT(s->seq, c->rcv_nxt + wnd)
			 : s->seq == c->rcv_nxt;
	else
		ok = wnd && SEQ_LT(s->seq, c->rcv_nxt + wnd) && SEQ_GT(s->seq + seglen, c->rcv_nxt);
	if (s->flags & TCP_RST) {
		c->stack->stats.rst_in++;
		if (s->seq == c->rcv_nxt) {
			conn_closed(c, -ECONNRESET);
		} else if (ok) {
			c->stack->stats.challenge_acks++;
			c->flags |= TF_ACK_NOW; /* RFC 5961 3.2 challenge ACK */
			mark_pending(c);
		}
		return;
	}
	/*
	 * RFC 7323 5.3 R1: PAWS, an old timestamp is an old duplicate. A pure
	 * ACK at rcv_nxt carries no data to protect and may just have been
	 * overtaken (its SACK blocks still count), so like Linux we let it in.
	 */
	if ((c->flags & TF_TS) && s->ts && SEQ_LT(s->tsval, c->ts_recent) &&
	    (seglen || s->seq != c->rcv_nxt || (s->flags & TCP_SYN))) {
		c->stack->stats.paws_dropped++;
		c->flags |= TF_ACK_NOW;
		mark_pending(c);
		return;
	}
	if (!ok && !wnd && s->seq == c->rcv_nxt) {
		/* Zero window: the ACK field still counts, the data does not (3.10.7.4). */
		ack_only = true;
	} else if (!ok) {
		c->stack->stats.dup_segs++;
		c->flags |= TF_ACK_NOW;
		mark_pending(c);
		return;
	}
	c->last_rcv = c->stack->loop->now;
	c->ka_probes = 0;
	/* RFC 7323 4.3: remember the timestamp to echo. */
	if ((c->flags & TF_TS) && s->ts && SEQ_GEQ(s->tsval, c->ts_recent) &&
	    SEQ_LEQ(s->seq, c->last_ack_sent))
		c->ts_recent = s->tsval;
	if (s->flags & TCP_SYN) {
		c->stack->stats.challenge_acks++;
		c->flags |= TF_ACK_NOW; /* RFC 5961 4.2 */
		mark_pending(c);
		return;
	}
	if (!(s->flags & TCP_ACK))
		return;
	if (!process_ack(c, s)) {
		mark_pending(c);
		return;
	}
	if (c->flags & TF_FIN_ACKED) {
		if (c->state == TCPS_FIN_WAIT_1) {
			c->state = TCPS_FIN_WAIT_2;
		} else if (c->state == TCPS_CLOSING) {
			enter_time_wait(c);
			return;
		} else if (c->state == TCPS_LAST_ACK) {
			conn_closed(c, 0);
			return;
		}
	}
	if (ack_only) {
		c->stack->stats.beyond_window++;
		c->flags |= TF_ACK_NOW;
		mark_pending(c);
		return;
	}
	if (c->state != TCPS_ESTABLISHED && c->state != TCPS_FIN_WAIT_1 &&
	    c->state != TCPS_FIN_WAIT_2)
		return; /* app already sent its FIN: nothing more to take */
	if (SEQ_GT(s->seq, c->rcv_nxt)) {
		/* Out of order: parked in rx past what is held, SACKed, ACKed at once. */
		ooo_store(c, s->seq, s->data, s->len, s->flags & TCP_FIN);
		c->flags |= TF_ACK_NOW;
		mark_pending(c);
		return;
	}
	if (s->len) {
		const uint8_t *p = s->data;
		size_t len = s->len, n;
		uint32_t before = c->rcv_nxt;

		n = c->rcv_nxt - s->seq; /* already have these */
		p += n;
		len -= n;
		n = len < ring_space(&c->rx) ? len : ring_space(&c->rx);
		if (n && ring_write(&c->rx, p, n) != (long)n) {
			c->flags |= TF_ACK_NOW; /* no memory: drop, the peer resends */
			mark_pending(c);
			return;
		}
		c->rcv_nxt += (uint32_t)n;
		ooo_advance(c);
		c->flags |= TF_ACK_NOW;
		mark_pending(c);
		if (c->rcv_nxt != before) {
			c->last_act = c->stack->loop->now;
			if (c->user)
				c->stack->ops->on_data(c->user);
		}
		if (n < len) {
			c->stack->stats.beyond_window++;
			return; /* beyond our buffer: trimmed, FIN (if any) not accepted */
		}
	}
	if ((c->flags & TF_FIN_OOO) && c->fin_seq == c->rcv_nxt && !(c->flags & TF_FIN_RCVD))
		fin_in(c); /* the FIN that came early is next in line now */
	else if ((s->flags & TCP_FIN) && s->seq + (uint32_t)s->len == c->rcv_nxt)
		fin_in(c);
}

static void syn_rcvd_input(struct tcp_conn *c, const struct tcp_seg *s)
{
	if (s->flags & TCP_RST) {
		if (s->seq == c->rcv_nxt)
			conn_closed(c, -ECONNRESET);
		return;
	}
	if (s->flags & TCP_SYN) {
		if (s->seq == c->irs && !(s->flags & TCP_ACK)) {
			c->snd_nxt = c->iss; /* our SYN-ACK was lost: resend it now */
			c->rtt_ts = 0;
			mark_pending(c);
		}
		return;
	}
	if (!(s->flags & TCP_ACK))
		return;
	if (s->ack != c->iss + 1 || c->snd_max != c->iss + 1) {
		/* Acks nothing we sent (RFC 9293 3.10.7.4, SYN-RECEIVED). */
		send_seg(c, s->ack, TCP_RST, 0, 0);
		return;
	}
	if (SEQ_LT(s->seq, c->rcv_nxt) || SEQ_GT(s->seq, c->rcv_nxt + rcv_window(c))) {
		/* Unacceptable sequence number: answer with our SYN-ACK again. */
		c->snd_nxt = c->iss;
		c->rtt_ts = 0;
		mark_pending(c);
		return;
	}
	if ((c->flags & TF_TS) && s->ts && SEQ_LT(s->tsval, c->ts_recent)) {
		c->stack->stats.paws_dropped++;
		return;
	}
	hs_done(c);
	c->state = TCPS_ESTABLISHED;
	c->last_rcv = c->last_act = c->stack->loop->now;
	if ((c->flags & TF_TS) && s->ts)
		c->ts_recent = s->tsval;
	c->snd_una = c->iss + 1;
	/* A resent SYN-ACK may be queued (snd_nxt rewound): it is acked now. */
	c->snd_nxt = c->iss + 1;
	c->snd_wnd = (uint32_t)s->wnd << c->snd_ws;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->retries = 0;
	loop_timer_cancel(c->stack->loop, &c->timer);
	if (c->flags & TF_FIN_QUEUED)
		c->state = TCPS_FIN_WAIT_1;
	if (c->srtt == 0 && c->rtt_ts) {
		rtt_sample(c, (uint32_t)(c->stack->loop->now - c->rtt_ts));
		c->rtt_ts = 0;
	}
	mark_pending(c);
	if (s->len || (s->flags & TCP_FIN))
		conn_input(c, s);
}

void tcp_input(struct tcp_stack *st, const struct ip_view *ip)
{
	struct tcp_seg s;
	struct tcp_conn *c;
	int ret = tcp_parse(ip, &s);

	st->stats.segs_in++;
	if (ret == -EPROTO) {
		st->stats.bad_csum++;
		return;
	}
	if (ret < 0) {
		st->stats.bad_hdr++;
		return;
	}
	c = flow_find(st, ip, &s);
	if (c && c->state == TCPS_TIME_WAIT &&
	    (s.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN && SEQ_GT(s.seq, c->rcv_nxt)) {
		/* RFC 9293 3.6.1: a new incarnation may reuse the flow. */
		flow_remove(st, c);
		conn_closed(c, 0);
		c = NULL;
	}
	if (!c) {
		if ((s.flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) == TCP_SYN)
			new_flow(st, ip, &s);
		else
			send_rst_for(st, ip, &s);
		return;
	}
	switch (c->state) {
	case TCPS_SYN_PENDING:
		/*
		 * A resent SYN is not a new flow; the tunnel is still being
		 * built, or the flow waits for its turn (session.c): absorbed.
		 */
		if ((s.flags & TCP_RST) && s.seq == c->rcv_nxt)
			conn_closed(c, -ECONNRESET);
		else if (s.flags & TCP_SYN)
			c->last_rcv = st->loop->now;
		return;
	case TCPS_SYN_RCVD:
		syn_rcvd_input(c, &s);
		return;
	case TCPS_TIME_WAIT:
		if (s.flags & TCP_FIN) {
			c->flags |= TF_ACK_NOW;
			mark_pending(c);
			arm(c, TCP_TIME_WAIT_MS);
		}
		return;
	case TCPS_CLOSED:
		return;
	default:
		conn_input(c, &s);
	}
}

void tcp_flush(struct tcp_stack *st)
{
	struct tcp_conn *c;

	while ((c = st->pending)) {
		st->pending = c->pnext;
		c->flags &= ~TF_PENDING;
		if (!(c->flags & TF_DEAD))
			conn_output(c);
	}
	while ((c = st->dead)) {
		st->dead = c->dnext;
		loop_timer_cancel(st->loop, &c->timer);
		ring_fini(&c->rx);
		ring_fini(&c->tx);
		st->stats.conns_open--;
		free(c);
		full_clear(st); /* its buffers are free: --mem-limit may have room */
	}
	if (st->cfg.shared) /* for the other stacks' limits_take() */
		atomic_store_explicit(&st->cfg.shared->mem[st->cfg.shared_idx], st->mem,
				      memory_order_relaxed);
}

/* ---- session interface ---- */

void tcp_accept(struct tcp_conn *c)
{
	if (c->state != TCPS_SYN_PENDING)
		return;
	c->state = TCPS_SYN_RCVD;
	c->rtt_ts = c->stack->loop->now ? c->stack->loop->now : 1;
	mark_pending(c);
}

/* The handshake will not be: the conn leaves the table, detached. */
static void reject_done(struct tcp_conn *c)
{
	c->user = NULL;
	hs_done(c);
	if (c->state != TCPS_CLOSED)
		flow_remove(c->stack, c);
	c->state = TCPS_CLOSED;
	loop_timer_cancel(c->stack->loop, &c->timer);
	conn_kill(c);
}

void tcp_reject(struct tcp_conn *c)
{
	/* RST+ACK of the SYN: the app's connect() fails with ECONNREFUSED. */
	send_raw(c->stack, c->family, c->laddr, c->raddr, c->lport, c->rport, 0, c->irs + 1,
		 TCP_RST | TCP_ACK, 0, NULL, 0, NULL, 0, 0);
	reject_done(c);
}

/*
 * The ICMP error quotes the app's SYN as the app's kernel sent it, as far as
 * that kernel looks (RFC 792: the IP header and 8 bytes on): its addresses
 * and ports find the socket, and the sequence number must be the SYN's
 * (Linux tcp_v4_err/tcp_v6_err drop an error quoting a sequence number
 * outside what is in flight). A connection in SYN-SENT then fails with the
 * error's errno at once, whatever the code.
 */
void tcp_unreach(struct tcp_conn *c, enum icmp_unreach why)
{
	struct tcp_stack *st = c->stack;
	uint8_t syn[IP_MAX_HDR + TCP_HDR_LEN], out[ICMP6_ERR_MAX];
	struct iovec iov = { .iov_base = out };
	struct ip_view v;
	size_t hl;
	uint8_t *t;
	uint16_t sum;

	if (c->state != TCPS_SYN_PENDING) {
		tcp_abort(c); /* past the SYN an ICMP error would not end it */
		return;
	}
	hl = ip_build_hdr(syn, c->family, c->raddr, c->laddr, IPPROTO_TCP, TCP_HDR_LEN);
	t = syn + hl;
	memset(t, 0, TCP_HDR_LEN);
	store_be16(t, c->rport);
	store_be16(t + 2, c->lport);
	store_be32(t + 4, c->irs);
	t[12] = (TCP_HDR_LEN / 4) << 4;
	t[13] = TCP_SYN;
	sum = csum_fold(
		csum_add(csum_pseudo(c->family, c->raddr, c->laddr, IPPROTO_TCP, TCP_HDR_LEN), t,
			 TCP_HDR_LEN));
	memcpy(t + 16, &sum, 2);
	if (ip_parse(syn, hl + TCP_HDR_LEN, &v) < 0 ||
	    !(iov.iov_len = icmp_build_unreach(out, syn, hl + TCP_HDR_LEN, &v, why))) {
		tcp_reject(c); /* an address no ICMP error may answer: the RST */
		return;
	}
	st->stats.unreach_out++;
	st->ops->output(st->ctx, &iov, 1, NULL);
	reject_done(c);
}

void tcp_abort(struct tcp_conn *c)
{
	if (c->state == TCPS_SYN_PENDING) {
		tcp_reject(c);
		return;
	}
	if (c->state != TCPS_CLOSED && c->state != TCPS_TIME_WAIT)
		send_seg(c, c->snd_nxt, TCP_RST | TCP_ACK, 0, 0);
	c->user = NULL;
	hs_done(c);
	if (c->state == TCPS_TIME_WAIT)
		c->state = TCPS_CLOSING; /* so conn_closed removes it from the table */
	if (c->state != TCPS_CLOSED)
		flow_remove(c->stack, c);
	c->state = TCPS_CLOSED;
	loop_timer_cancel(c->stack->loop, &c->timer);
	conn_kill(c);
}

void tcp_shutdown(struct tcp_conn *c)
{
	if (c->flags & TF_FIN_QUEUED)
		return;
	c->flags |= TF_FIN_QUEUED;
	if (c->state == TCPS_ESTABLISHED)
		c->state = TCPS_FIN_WAIT_1;
	else if (c->state == TCPS_CLOSE_WAIT)
		c->state = TCPS_LAST_ACK;
	mark_pending(c);
}

void tcp_kick(struct tcp_conn *c)
{
	mark_pending(c);
}

void tcp_rx_consume(struct tcp_conn *c, size_t n)
{
	uint32_t before = c->rcv_adv - c->rcv_nxt;

	if (c->nooo)
		ring_drop(&c->rx, n); /* parked data keeps its place */
	else
		ring_consume(&c->rx, n);
	/* Receiver SWS avoidance (RFC 9293 3.8.6.2.2): update when it opens by enough. */
	if (rcv_window(c) - before >= (c->rx.cap / 2 < 2u * c->mss ? c->rx.cap / 2 : 2u * c->mss)) {
		c->flags |= TF_ACK_NOW;
		mark_pending(c);
	}
}

void tcp_detach(struct tcp_conn *c)
{
	c->user = NULL;
	if (c->state == TCPS_CLOSED)
		conn_kill(c);
	else if (c->state != TCPS_TIME_WAIT)
		tcp_abort(c);
	else
		ring_fini(&c->rx); /* lingers for TIME-WAIT without buffers */
}

size_t tcp_stack_conns(const struct tcp_stack *st)
{
	return st->count;
}

size_t tcp_stack_pending(const struct tcp_stack *st)
{
	return st->npending;
}

size_t tcp_stack_mem(const struct tcp_stack *st)
{
	return st->mem;
}

bool tcp_fin_received(const struct tcp_conn *c)
{
	return c->flags & TF_FIN_RCVD;
}

/* ---- stack ---- */

struct tcp_stack *tcp_stack_new(struct loop *loop, const struct tcp_cfg *cfg,
				const struct tcp_ops *ops, void *ctx)
{
	struct tcp_stack *st;

	if (cfg->shared && (cfg->shared_idx < 0 || cfg->shared_idx >= TCP_SHARED_MAX ||
			    cfg->shared_idx >= cfg->shared->nstacks)) {
		errno = EINVAL;
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->loop = loop;
	st->ops = ops;
	st->ctx = ctx;
	st->cfg = *cfg;
	if (!st->cfg.buf_size)
		st->cfg.buf_size = TCP_BUF_DEFAULT;
	if (!st->cfg.max_conns)
		st->cfg.max_conns = TCP_MAX_CONNS_DEFAULT;
	if (!st->cfg.mem_budget)
		st->cfg.mem_budget = TCP_MEM_BUDGET_DEFAULT;
	if (!st->cfg.ka_idle_ms)
		st->cfg.ka_idle_ms = TCP_KA_IDLE_MS_DEFAULT;
	if (!st->cfg.ka_intvl_ms)
		st->cfg.ka_intvl_ms = TCP_KA_INTVL_MS_DEFAULT;
	if (!st->cfg.ka_cnt)
		st->cfg.ka_cnt = TCP_KA_CNT_DEFAULT;
	st->nbuckets = 1024;
	st->buckets = calloc(st->nbuckets, sizeof(*st->buckets));
	if (!st->buckets) {
		free(st);
		errno = ENOMEM;
		return NULL;
	}
	if (getrandom(st->hash_key, sizeof(st->hash_key), GRND_NONBLOCK) != sizeof(st->hash_key))
		st->hash_key[0] = loop_clock_ms() * 0x9e3779b97f4a7c15ull;
	return st;
}

void tcp_stack_free(struct tcp_stack *st)
{
	size_t i;

	if (!st)
		return;
	tcp_flush(st);
	if (st->cfg.shared) {
		/* What this stack holds leaves the shared count with it. */
		atomic_fetch_sub(&st->cfg.shared->conns, st->count);
		atomic_store(&st->cfg.shared->mem[st->cfg.shared_idx], 0);
		if (st->count)
			full_clear(st);
	}
	for (i = 0; i < st->nbuckets; i++) {
		struct tcp_conn *c = st->buckets[i], *next;

		for (; c; c = next) {
			next = c->hnext;
			loop_timer_cancel(st->loop, &c->timer);
			ring_fini(&c->rx);
			ring_fini(&c->tx);
			free(c);
		}
	}
	/* Closed conns still held by sessions are freed by their detach + flush. */
	free(st->buckets);
	free(st);
}

const struct tcp_stats *tcp_stack_stats(const struct tcp_stack *st)
{
	return &st->stats;
}
