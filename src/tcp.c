// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TCP state machine (RFC 9293) for the terminating side of every flow
 * that enters the TUN. We only ever open passively, and we hold the SYN-ACK
 * until the proxy tunnel exists, so the app's connect() means "the far end
 * is reachable". Retransmission follows RFC 6298 (one timer per connection),
 * congestion control is Reno with NewReno partial ACKs (RFC 5681, 6582),
 * RST/SYN acceptance follows RFC 5961 (challenge ACKs).
 *
 * ACKs are coalesced: input only marks a connection pending, and
 * tcp_flush() (called once per event-loop batch) sends one segment that
 * carries the ACK, the window and any new data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "buf.h"
#include "log.h"
#include "tcp.h"

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)

enum {
	TF_PENDING = 1 << 0,	/* on the pending-output list */
	TF_ACK_NOW = 1 << 1,	/* an ACK is owed */
	TF_FIN_QUEUED = 1 << 2,	/* proxy EOF: FIN goes after tx */
	TF_FIN_ACKED = 1 << 3,
	TF_FIN_RCVD = 1 << 4,
	TF_RECOVERY = 1 << 5,	/* fast recovery until snd_una passes recover */
	TF_DEAD = 1 << 6,	/* on the dead list */
	TF_WSCALE = 1 << 7,	/* both sides agreed on window scaling */
};

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
};

static void conn_timer_cb(struct timer *t);
static void conn_output(struct tcp_conn *c);

const char *tcp_state_name(enum tcp_state s)
{
	static const char *const names[] = {
		[TCPS_SYN_PENDING] = "SYN-PENDING", [TCPS_SYN_RCVD] = "SYN-RECEIVED",
		[TCPS_ESTABLISHED] = "ESTABLISHED", [TCPS_CLOSE_WAIT] = "CLOSE-WAIT",
		[TCPS_FIN_WAIT_1] = "FIN-WAIT-1",   [TCPS_FIN_WAIT_2] = "FIN-WAIT-2",
		[TCPS_CLOSING] = "CLOSING",	   [TCPS_LAST_ACK] = "LAST-ACK",
		[TCPS_TIME_WAIT] = "TIME-WAIT",	   [TCPS_CLOSED] = "CLOSED",
	};

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
			break;		/* end of option list */
		if (kind == 1)
			continue;	/* NOP */
		if (rd_u8(&r, &olen) < 0 || olen < 2 || (size_t)(olen - 2) > r.left)
			return -EINVAL;	/* length missing, too short, or past the header */
		if (kind == 2 && olen == 4)
			s->mss = load_be16(r.p);
		else if (kind == 3 && olen == 3)
			s->wscale = r.p[0] > 14 ? 14 : r.p[0];	/* RFC 7323 2.3 */
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
	if (csum_fold(csum_add(csum_pseudo(ip->family, ip->src, ip->dst, IPPROTO_TCP,
					   (uint32_t)ip->l4_len),
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
	struct tcp_conn *c = st->buckets[flow_hash(st, ip->family, ip->dst, ip->src, s->dport,
						   s->sport)];

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
		return;		/* keep the longer chains; still correct */
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
	st->count++;
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

/*
 * Builds and writes one segment. Payload comes from tx at offset off. The
 * header lives on the stack; the payload is handed to the TUN as iovecs.
 */
static void send_raw(struct tcp_stack *st, int family, const uint8_t *src, const uint8_t *dst,
		     uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		     uint16_t wnd, const uint8_t *opt, size_t optlen, const struct iovec *pl,
		     int plcnt)
{
	uint8_t hdr[IP_MAX_HDR + TCP_HDR_LEN + TCP_MAX_OPT];
	struct iovec iov[3];
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
	sum = csum_add(sum, t, tl);
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
	c = csum_fold(sum);
	memcpy(t + 16, &c, 2);
	iov[0].iov_base = hdr;
	iov[0].iov_len = ipl + tl;
	for (i = 0; i < plcnt; i++)
		iov[1 + i] = pl[i];
	st->stats.segs_out++;
	if (flags & TCP_RST)
		st->stats.rst_out++;
	st->ops->output(st->ctx, iov, 1 + plcnt);
}

static void send_seg(struct tcp_conn *c, uint32_t seq, uint8_t flags, size_t off, size_t n)
{
	struct iovec pl[2];
	uint8_t opt[8];
	size_t optlen = 0;
	uint32_t wnd = rcv_window(c);
	int plcnt = 0;

	if (flags & TCP_SYN) {
		uint16_t mss = (uint16_t)(c->stack->cfg.mtu - TCP_HDR_LEN -
					  (c->family == AF_INET6 ? IP6_HDR_LEN : IP4_HDR_LEN));

		opt[0] = 2;
		opt[1] = 4;
		store_be16(opt + 2, mss);
		optlen = 4;
		if (c->flags & TF_WSCALE) {
			opt[4] = 1;
			opt[5] = 3;
			opt[6] = 3;
			opt[7] = c->rcv_ws;
			optlen = 8;
		}
		if (wnd > 65535)
			wnd = 65535;	/* the SYN's window is never scaled */
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
	send_raw(c->stack, c->family, c->laddr, c->raddr, c->lport, c->rport, seq,
		 (flags & TCP_ACK) ? c->rcv_nxt : 0, flags, (uint16_t)wnd, opt, optlen, pl, plcnt);
	if (flags & TCP_ACK)
		c->flags &= ~TF_ACK_NOW;
}

static void send_rst_for(struct tcp_stack *st, const struct ip_view *ip, const struct tcp_seg *s)
{
	uint32_t ack;

	if (s->flags & TCP_RST)
		return;
	if (s->flags & TCP_ACK) {
		send_raw(st, ip->family, ip->dst, ip->src, s->dport, s->sport, s->ack, 0, TCP_RST,
			 0, NULL, 0, NULL, 0);
		return;
	}
	ack = s->seq + (uint32_t)s->len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
	send_raw(st, ip->family, ip->dst, ip->src, s->dport, s->sport, 0, ack, TCP_RST | TCP_ACK, 0,
		 NULL, 0, NULL, 0);
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
	loop_timer_set(c->stack->loop, &c->timer, c->stack->loop->now + ms);
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

/* Enters CLOSED: out of the flow table, no timer, session told once. */
static void conn_closed(struct tcp_conn *c, int err)
{
	void *user = c->user;
	enum tcp_state prev = c->state;

	if (prev == TCPS_CLOSED)
		return;
	if (prev != TCPS_TIME_WAIT)
		flow_remove(c->stack, c);
	c->state = TCPS_CLOSED;
	loop_timer_cancel(c->stack->loop, &c->timer);
	if (!user)
		conn_kill(c);
	else if (prev != TCPS_TIME_WAIT)	/* TIME_WAIT already told it */
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

static void retransmit_first(struct tcp_conn *c)
{
	size_t n = c->tx.len < c->mss ? c->tx.len : c->mss;
	uint8_t fl = TCP_ACK;

	if (!SEQ_GEQ(c->snd_una, c->tx_seq))
		return;
	if ((c->flags & TF_FIN_QUEUED) && n == c->tx.len && c->snd_max == c->tx_seq + c->tx.len + 1)
		fl |= TCP_FIN;
	if (!n && !(fl & TCP_FIN))
		return;
	c->stack->stats.retrans++;
	send_seg(c, c->snd_una, (uint8_t)(fl | (n ? TCP_PSH : 0)), 0, n);
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
		c->rtt_ts = 0;	/* Karn: no sample from a resent SYN-ACK */
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
	if (flight(c)) {
		uint32_t half = flight(c) / 2;

		if (++c->retries > TCP_DATA_RETRIES) {
			send_seg(c, c->snd_nxt, TCP_RST | TCP_ACK, 0, 0);
			conn_closed(c, -ETIMEDOUT);
			return;
		}
		/* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS); go back to una. */
		c->ssthresh = half > 2u * c->mss ? half : 2u * c->mss;
		c->cwnd = c->mss;
		c->snd_nxt = c->snd_una;
		c->dupacks = 0;
		c->flags &= ~TF_RECOVERY;
		c->rtt_ts = 0;	/* Karn: no samples from retransmitted data */
		c->rto = c->rto * 2 > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : c->rto * 2;
		c->stack->stats.retrans++;
		conn_output(c);
		if (!timer_armed(&c->timer))
			arm(c, c->rto);
		return;
	}
	if (c->snd_wnd == 0 && c->tx.len > c->snd_nxt - c->tx_seq) {
		/* Persist: an already-acked sequence number draws an ACK with the window. */
		send_seg(c, c->snd_una - 1, TCP_ACK, 0, 0);
		c->rto = c->rto * 2 > TCP_RTO_MAX_MS ? TCP_RTO_MAX_MS : c->rto * 2;
		arm(c, c->rto);
	}
}

/* Sends what the windows allow, then a bare ACK if one is still owed. */
static void conn_output(struct tcp_conn *c)
{
	size_t off, avail, n;
	bool fin, sent = false;

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
	for (;;) {
		uint32_t wnd = c->snd_wnd < c->cwnd ? c->snd_wnd : c->cwnd;
		uint32_t room = wnd > c->snd_nxt - c->snd_una ? wnd - (c->snd_nxt - c->snd_una) : 0;

		off = c->snd_nxt - c->tx_seq;
		if (off > c->tx.len)
			break;	/* FIN already out */
		avail = c->tx.len - off;
		n = avail < c->mss ? avail : c->mss;
		if (n > room)
			n = room;
		fin = (c->flags & TF_FIN_QUEUED) && n == avail;
		if (!n && !fin)
			break;
		/* Sender SWS avoidance: no runt segments while data is in flight. */
		if (n < avail && n < c->mss && c->snd_nxt != c->snd_una)
			break;
		send_seg(c, c->snd_nxt, (uint8_t)(TCP_ACK | (n ? TCP_PSH : 0) | (fin ? TCP_FIN : 0)),
			 off, n);
		if (!c->rtt_ts && n && c->snd_nxt == c->snd_max) {
			c->rtt_ts = c->stack->loop->now ? c->stack->loop->now : 1;
			c->rtt_seq = c->snd_nxt + (uint32_t)n;
		}
		c->snd_nxt += (uint32_t)n + fin;
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		sent = true;
		if (!timer_armed(&c->timer))
			arm(c, c->rto);
		if (fin)
			break;
	}
	(void)sent;
	/* Zero window with data waiting and nothing in flight: persist. */
	if (!c->snd_wnd && !flight(c) && c->tx.len > c->snd_nxt - c->tx_seq &&
	    !timer_armed(&c->timer))
		arm(c, c->rto);
ack:
	if (c->flags & TF_ACK_NOW)
		send_seg(c, c->snd_nxt, TCP_ACK, 0, 0);
}

/* ---- input ---- */

static void new_flow(struct tcp_stack *st, const struct ip_view *ip, const struct tcp_seg *s)
{
	struct tcp_conn *c;
	uint32_t iss;
	uint16_t maxmss = (uint16_t)(st->cfg.mtu - TCP_HDR_LEN -
				     (ip->family == AF_INET6 ? IP6_HDR_LEN : IP4_HDR_LEN));

	c = calloc(1, sizeof(*c));
	if (!c) {
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
	c->iss = iss;
	c->snd_una = c->snd_nxt = c->snd_max = iss;
	c->tx_seq = iss + 1;
	c->snd_wnd = s->wnd;
	c->snd_wl1 = s->seq;
	c->mss = s->mss ? s->mss : (ip->family == AF_INET6 ? 1220 : 536);
	if (c->mss > maxmss)
		c->mss = maxmss;
	if (c->mss < 64)
		c->mss = 64;	/* absurd peer MSS: keep the stack moving */
	if (s->wscale >= 0) {
		c->flags |= TF_WSCALE;
		c->snd_ws = (uint8_t)s->wscale;
		while (c->rcv_ws < 14 && ((size_t)65535 << c->rcv_ws) < st->cfg.buf_size)
			c->rcv_ws++;
	}
	c->cwnd = TCP_INIT_CWND_SEGS * (uint32_t)c->mss;
	c->ssthresh = UINT32_MAX / 2;
	c->rto = TCP_RTO_INIT_MS;
	c->timer.cb = conn_timer_cb;
	ring_init(&c->rx, st->cfg.buf_size);
	ring_init(&c->tx, st->cfg.buf_size);
	flow_insert(st, c);
	st->stats.conns_open++;
	c->user = st->ops->on_syn(st->ctx, c);
	if (!c->user) {
		st->stats.syn_refused++;
		tcp_reject(c);
	}
}

/* ACK field processing for synchronized states. Returns false if the segment is done. */
static bool process_ack(struct tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t wnd = (uint32_t)s->wnd << c->snd_ws;

	if (SEQ_GT(s->ack, c->snd_max)) {
		c->flags |= TF_ACK_NOW;	/* acks something never sent */
		return false;
	}
	if (SEQ_LT(s->ack, c->snd_una))
		return true;		/* old duplicate ACK: data may still be good */
	if (SEQ_LT(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, s->ack))) {
		bool dup = s->ack == c->snd_una && !s->len && !(s->flags & TCP_FIN) &&
			   wnd == c->snd_wnd && flight(c);

		if (!dup)
			c->dupacks = 0;
		if (wnd > c->snd_wnd)
			mark_pending(c);	/* the window opened: maybe more to send */
		c->snd_wnd = wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (dup && ++c->dupacks == 3) {
			/* RFC 5681 3.2 fast retransmit; RFC 6582 recovery point. */
			uint32_t half = flight(c) / 2;

			c->ssthresh = half > 2u * c->mss ? half : 2u * c->mss;
			c->recover = c->snd_max;
			c->flags |= TF_RECOVERY;
			retransmit_first(c);
			c->cwnd = c->ssthresh + 3u * c->mss;
		} else if (dup && c->dupacks > 3 && (c->flags & TF_RECOVERY)) {
			c->cwnd += c->mss;
		}
	}
	if (SEQ_GT(s->ack, c->snd_una)) {
		uint32_t acked = s->ack - c->snd_una;
		size_t data = 0;

		if (c->rtt_ts && SEQ_GEQ(s->ack, c->rtt_seq)) {
			rtt_sample(c, (uint32_t)(c->stack->loop->now - c->rtt_ts));
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
		if (c->flags & TF_RECOVERY) {
			if (SEQ_GEQ(s->ack, c->recover)) {
				c->flags &= ~TF_RECOVERY;
				c->cwnd = c->ssthresh;
			} else {
				/* Partial ACK: resend the next hole, deflate (RFC 6582 3.2). */
				retransmit_first(c);
				c->cwnd = c->cwnd > acked ? c->cwnd - acked + c->mss : c->mss;
			}
		} else if (c->cwnd < c->ssthresh) {
			c->cwnd += acked < c->mss ? acked : c->mss;
		} else {
			c->cwnd += (uint32_t)((uint64_t)c->mss * c->mss / c->cwnd) + 1;
		}
		if (c->cwnd > 2 * c->stack->cfg.buf_size)
			c->cwnd = (uint32_t)(2 * c->stack->cfg.buf_size);
		c->dupacks = 0;
		c->retries = 0;
		if (c->snd_una == c->snd_max)
			loop_timer_cancel(c->stack->loop, &c->timer);
		else
			arm(c, c->rto);
		if (data && c->user)
			c->stack->ops->on_sent(c->user);
		mark_pending(c);
	}
	return true;
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
			c->flags |= TF_ACK_NOW;	/* RFC 5961 3.2 challenge ACK */
			mark_pending(c);
		}
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
	if (s->flags & TCP_SYN) {
		c->flags |= TF_ACK_NOW;		/* RFC 5961 4.2 */
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
		return;		/* app already sent its FIN: nothing more to take */
	if (s->len) {
		const uint8_t *p = s->data;
		size_t len = s->len, n;
		uint32_t seq = s->seq;

		if (SEQ_GT(seq, c->rcv_nxt)) {
			/* Out of order: no queue yet, the app's kernel resends. */
			c->stack->stats.ooo_dropped++;
			c->flags |= TF_ACK_NOW;
			mark_pending(c);
			return;
		}
		n = c->rcv_nxt - seq;	/* already have these */
		p += n;
		len -= n;
		n = len < ring_space(&c->rx) ? len : ring_space(&c->rx);
		if (n && ring_write(&c->rx, p, n) != (long)n) {
			c->flags |= TF_ACK_NOW;	/* no memory: drop, the peer resends */
			mark_pending(c);
			return;
		}
		c->rcv_nxt += (uint32_t)n;
		c->flags |= TF_ACK_NOW;
		mark_pending(c);
		if (n < len) {
			c->stack->stats.beyond_window++;
			return;	/* beyond our buffer: trimmed, FIN (if any) not accepted */
		}
		if (n && c->user)
			c->stack->ops->on_data(c->user);
	}
	if ((s->flags & TCP_FIN) && s->seq + (uint32_t)s->len + 1 == c->rcv_nxt + 1) {
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
			c->snd_nxt = c->iss;	/* our SYN-ACK was lost: resend it now */
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
	c->state = TCPS_ESTABLISHED;
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
	if (c && c->state == TCPS_TIME_WAIT && (s.flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
	    SEQ_GT(s.seq, c->rcv_nxt)) {
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
		/* A resent SYN is not a new flow; the tunnel is still being built. */
		if ((s.flags & TCP_RST) && s.seq == c->rcv_nxt)
			conn_closed(c, -ECONNRESET);
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
	}
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

void tcp_reject(struct tcp_conn *c)
{
	/* RST+ACK of the SYN: the app's connect() fails with ECONNREFUSED. */
	send_raw(c->stack, c->family, c->laddr, c->raddr, c->lport, c->rport, 0, c->irs + 1,
		 TCP_RST | TCP_ACK, 0, NULL, 0, NULL, 0);
	c->user = NULL;
	if (c->state != TCPS_CLOSED)
		flow_remove(c->stack, c);
	c->state = TCPS_CLOSED;
	loop_timer_cancel(c->stack->loop, &c->timer);
	conn_kill(c);
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
	if (c->state == TCPS_TIME_WAIT)
		c->state = TCPS_CLOSING;	/* so conn_closed removes it from the table */
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
}

bool tcp_fin_received(const struct tcp_conn *c)
{
	return c->flags & TF_FIN_RCVD;
}

/* ---- stack ---- */

struct tcp_stack *tcp_stack_new(struct loop *loop, const struct tcp_cfg *cfg,
				const struct tcp_ops *ops, void *ctx)
{
	struct tcp_stack *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->loop = loop;
	st->ops = ops;
	st->ctx = ctx;
	st->cfg = *cfg;
	if (!st->cfg.buf_size)
		st->cfg.buf_size = TCP_BUF_DEFAULT;
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
