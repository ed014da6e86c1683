// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TUN resolver (see resolver.h): fake answers from the pool, and DNS
 * over TCP through the proxy for what is forwarded (one upstream per query:
 * RFC 7766 framing, a 2-byte length before each message).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "buf.h"
#include "dns.h"
#include "list.h"
#include "log.h"
#include "resolver.h"
#include "upfail.h"

enum { RESOLVER_TCP_REPLY_MAX = DNS_UDP_MAX }; /* our own answers are far smaller */

enum fwd_state { F_CONNECTING, F_SEND, F_RECV, F_DEAD };

/* One query forwarded over its own tunnel. */
struct dnsfwd {
	struct timer timer;    /* the whole query: RESOLVER_FWD_TIMEOUT_MS */
	struct list_node node; /* r->fwd, or r->dead */
	struct resolver *r;
	struct upstream *up;
	enum fwd_state state;
	struct dns_query q;
	int family; /* reply addressing: from us:53 to app:port */
	uint8_t us[16], app[16];
	uint16_t app_port;
	uint8_t *out; /* length prefix + query */
	size_t out_len, out_off;
	uint8_t *in; /* length prefix + reply */
	size_t in_len;
	/*
	 * virtual: an A/AAAA query asked of --dns-server first, to answer
	 * NXDOMAIN for a name that does not exist; any other outcome gets the
	 * fake answer (a failed check must not cost the name).
	 */
	bool check;
};

struct resolver {
	struct loop *loop;
	struct resolver_cfg cfg;
	udp_output_fn *output;
	void *ctx;
	struct dnspool *pool;	/* virtual only; cfg.shared_pool is not ours to free */
	struct list_node *fwd;	/* queries in flight */
	struct list_node *dead; /* finished this batch, freed by resolver_reap */
	size_t nfwd;
	uint8_t *tcp_msg; /* one query of DNS over TCP (served here), allocated on first use */
	struct resolver_stats stats;
};

static void reply(struct resolver *r, int family, const uint8_t *us, const uint8_t *app,
		  uint16_t app_port, const void *msg, size_t len)
{
	if (udp_send_to_app(r->output, r->ctx, r->cfg.mtu, family, us, 53, app, app_port, msg,
			    len) < 0)
		r->stats.failed++;
}

/* A reply without answers (NODATA, errors), kept within the client's limit. */
static void reply_rcode(struct resolver *r, int family, const uint8_t *us, const uint8_t *app,
			uint16_t app_port, const struct dns_query *q, uint16_t rcode, bool tc)
{
	uint8_t buf[DNS_UDP_MAX];
	int n = dns_build_reply(buf, sizeof(buf), dns_udp_limit(q), q, rcode, NULL, 0, 0);

	if (n < 0)
		return;
	if (tc)
		buf[2] |= 0x02;
	reply(r, family, us, app, app_port, buf, (size_t)n);
}

/* ---- forwarding over TCP through the proxy ---- */

static void fwd_kill(struct dnsfwd *f)
{
	struct resolver *r = f->r;

	if (f->state == F_DEAD)
		return;
	f->state = F_DEAD;
	upstream_close(f->up, false);
	loop_timer_cancel(r->loop, &f->timer);
	list_move(&r->fwd, &r->dead, &f->node);
	r->nfwd--;
}

static int answer_fake(struct resolver *r, const struct dns_query *q, uint8_t *buf, size_t cap,
		       size_t limit);

/* A check is over without an NXDOMAIN: the fake answer, as without a server. */
static void fwd_answer_fake(struct dnsfwd *f)
{
	uint8_t buf[DNS_UDP_MAX];
	int n = answer_fake(f->r, &f->q, buf, sizeof(buf), dns_udp_limit(&f->q));

	if (n > 0)
		reply(f->r, f->family, f->us, f->app, f->app_port, buf, (size_t)n);
	fwd_kill(f);
}

/* what: the failure in words (a proxy's, upfail_describe); NULL: err's. */
static void fwd_fail_why(struct dnsfwd *f, int err, const char *what)
{
	const struct sockaddr_storage *ss = &f->r->cfg.server;
	char a[INET6_ADDRSTRLEN];

	inet_ntop(ss->ss_family,
		  ss->ss_family == AF_INET6
			  ? (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr
			  : (const void *)&((const struct sockaddr_in *)ss)->sin_addr,
		  a, sizeof(a));
	log_info("dns: query for %s to %s through the proxy failed: %s%s", f->q.name, a,
		 what ? what : strerror(-err), f->check ? " (answered with a fake address)" : "");
	if (f->check) {
		fwd_answer_fake(f);
		return;
	}
	f->r->stats.failed++;
	reply_rcode(f->r, f->family, f->us, f->app, f->app_port, &f->q, DNS_R_SERVFAIL, false);
	fwd_kill(f);
}

static void fwd_fail(struct dnsfwd *f, int err)
{
	fwd_fail_why(f, err, NULL);
}

/* The whole reply is in: hand it to the app (TC if it does not fit its limit). */
static void fwd_done(struct dnsfwd *f)
{
	const uint8_t *msg = f->in + 2;
	size_t len = f->in_len - 2;

	if (dns_check_reply(msg, len, &f->q) < 0) {
		fwd_fail(f, -EBADMSG);
		return;
	}
	if (f->check) {
		if ((load_be16(msg + 2) & 0xf) != DNS_R_NXDOMAIN) {
			fwd_answer_fake(f);
			return;
		}
		log_info("dns: %s does not exist (NXDOMAIN from --dns-server)", f->q.name);
		reply_rcode(f->r, f->family, f->us, f->app, f->app_port, &f->q, DNS_R_NXDOMAIN,
			    false);
		fwd_kill(f);
		return;
	}
	if (len > dns_udp_limit(&f->q))
		reply_rcode(f->r, f->family, f->us, f->app, f->app_port, &f->q,
			    load_be16(msg + 2) & 0xf, true);
	else
		reply(f->r, f->family, f->us, f->app, f->app_port, msg, len);
	fwd_kill(f);
}

/* Bytes from the tunnel: the framed reply. Returns false once f is done. */
static bool fwd_take(struct dnsfwd *f, const uint8_t *p, size_t n)
{
	while (n) {
		size_t want = f->in_len < 2 ? 2 : 2 + (size_t)load_be16(f->in), k;

		if (f->in_len == want)
			break; /* complete: bytes past the reply are ignored */
		k = want - f->in_len < n ? want - f->in_len : n;
		memcpy(f->in + f->in_len, p, k);
		f->in_len += k;
		p += k;
		n -= k;
		if (f->in_len == 2 && load_be16(f->in) < DNS_HDR_LEN) {
			fwd_fail(f, -EBADMSG);
			return false;
		}
	}
	if (f->in_len >= 2 && f->in_len == 2 + (size_t)load_be16(f->in)) {
		fwd_done(f);
		return false;
	}
	return true;
}

/* The framed query into the tunnel; then the reply is all we wait for. */
static void fwd_send(struct dnsfwd *f)
{
	struct iovec iov = { .iov_base = f->out + f->out_off, .iov_len = f->out_len - f->out_off };
	ssize_t n;

	if (f->state != F_SEND)
		return;
	n = upstream_writev(f->up, &iov, 1);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fwd_fail(f, -errno);
		return;
	}
	f->out_off += (size_t)n;
	if (f->out_off == f->out_len)
		f->state = F_RECV;
}

static void fwd_recv(struct dnsfwd *f)
{
	uint8_t buf[4096];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	ssize_t n = upstream_readv(f->up, &iov, 1);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fwd_fail(f, -errno);
		return;
	}
	if (n == 0) {
		fwd_fail(f, -ECONNRESET);
		return;
	}
	fwd_take(f, buf, (size_t)n);
}

static void fwd_update(struct dnsfwd *f)
{
	int ret;

	if (f->state != F_SEND && f->state != F_RECV)
		return;
	ret = upstream_events(f->up, EPOLLIN | (f->state == F_SEND ? EPOLLOUT : 0));
	if (ret < 0)
		fwd_fail(f, ret);
}

static void fwd_open(void *ctx, const uint8_t *data, size_t len)
{
	struct dnsfwd *f = ctx;

	f->state = F_SEND;
	/* A reply may come with the proxy's (it cannot precede our query, but
	 * a hostile proxy may send anything): taken like any other bytes. */
	if (len && !fwd_take(f, data, len))
		return;
	fwd_send(f);
	fwd_update(f);
}

static void fwd_up_fail(void *ctx, const struct upstream_fail *why)
{
	char text[UPFAIL_TEXT_MAX];

	fwd_fail_why(ctx, -why->err, upfail_describe(why, text, sizeof(text)));
}

static void fwd_io(void *ctx, uint32_t events)
{
	struct dnsfwd *f = ctx;

	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		fwd_recv(f);
	fwd_send(f);
	fwd_update(f);
}

static const struct upstream_ops fwd_ops = {
	.on_open = fwd_open,
	.on_fail = fwd_up_fail,
	.on_io = fwd_io,
};

static void fwd_timeout(struct timer *t)
{
	struct dnsfwd *f = (struct dnsfwd *)((char *)t - offsetof(struct dnsfwd, timer));

	fwd_fail(f, -ETIMEDOUT);
}

static void fwd_free(struct dnsfwd *f)
{
	upstream_free(f->up);
	free(f->in);
	free(f->out);
	free(f);
}

/*
 * Every slot taken: the query waiting longest (the list's tail: new ones go
 * in front) gets its SERVFAIL now and gives its slot up. Refusing the new
 * one instead let anyone who asks for names that never answer shut every
 * other query out.
 */
static void fwd_evict(struct resolver *r)
{
	struct list_node *n = r->fwd;
	struct dnsfwd *f;

	while (n && n->next)
		n = n->next;
	if (!n)
		return;
	f = list_entry(n, struct dnsfwd, node);
	log_debug("dns: %d queries in flight: %s (the oldest) answered %s for room",
		  RESOLVER_FWD_MAX, f->q.name, f->check ? "unchecked" : "SERVFAIL");
	if (f->check) {
		fwd_answer_fake(f);
		return;
	}
	r->stats.failed++;
	reply_rcode(r, f->family, f->us, f->app, f->app_port, &f->q, DNS_R_SERVFAIL, false);
	fwd_kill(f);
}

/* Starts forwarding the query; false if it could not (the caller sends SERVFAIL). */
static bool fwd_start(struct resolver *r, const struct ip_view *v, const struct udp_view *u,
		      const struct dns_query *q)
{
	const struct sockaddr_storage *ss = &r->cfg.server;
	struct proxy_dest d = { .family = ss->ss_family };
	struct dnsfwd *f;

	if (!ss->ss_family || u->len > 65535)
		return false;
	if (r->nfwd >= RESOLVER_FWD_MAX)
		fwd_evict(r);
	if (ss->ss_family == AF_INET6) {
		memcpy(d.addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		d.port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	} else {
		memcpy(d.addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		d.port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return false;
	f->r = r;
	f->timer.cb = fwd_timeout;
	f->q = *q;
	f->family = v->family;
	memcpy(f->us, v->dst, ip_addr_len(v->family));
	memcpy(f->app, v->src, ip_addr_len(v->family));
	f->app_port = u->sport;
	f->check = r->cfg.mode == RESOLVER_VIRTUAL && q->qclass == DNS_C_IN &&
		   (q->qtype == DNS_T_A || q->qtype == DNS_T_AAAA);
	f->in = malloc(2 + 65535);
	f->out = malloc(2 + u->len);
	if (!f->in || !f->out) {
		fwd_free(f);
		return false;
	}
	store_be16(f->out, (uint16_t)u->len);
	memcpy(f->out + 2, u->data, u->len);
	f->out_len = 2 + u->len;
	f->up = upstream_new(r->loop, r->cfg.upstream, &d, &fwd_ops, f, NULL);
	if (!f->up) {
		fwd_free(f);
		return false;
	}
	list_add(&r->fwd, &f->node);
	r->nfwd++;
	loop_timer_set(r->loop, &f->timer, r->loop->now + RESOLVER_FWD_TIMEOUT_MS);
	r->stats.forwarded++;
	return true;
}

/* ---- answering ---- */

/* name is suffix or ends in ".suffix". */
static bool in_domain(const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);

	if (n == k)
		return !strcmp(name, suffix);
	return n > k && name[n - k - 1] == '.' && !strcmp(name + n - k, suffix);
}

/*
 * The A/AAAA answer of the virtual resolver in buf (limit: the transport's).
 * Special-use names (RFC 6761) never go to the proxy: localhost is
 * loopback, invalid does not exist, the reverse trees have no addresses.
 * Returns the length, or a negative errno if nothing fits.
 */
static int answer_fake(struct resolver *r, const struct dns_query *q, uint8_t *buf, size_t cap,
		       size_t limit)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };
	struct dns_addr an = { .family = q->qtype == DNS_T_AAAA ? AF_INET6 : AF_INET };
	size_t alen = an.family == AF_INET6 ? 16 : 4;
	uint32_t ttl = r->cfg.ttl ? r->cfg.ttl : DNSPOOL_TTL_DEFAULT;
	struct dnspool_evicted ev;
	uint8_t a4[4], a6[16];
	int ret;

	if (in_domain(q->name, "localhost")) {
		memcpy(an.addr, an.family == AF_INET6 ? lo6 : lo4, alen);
		return dns_build_reply(buf, cap, limit, q, DNS_R_NOERROR, &an, 1, 3600);
	}
	if (in_domain(q->name, "invalid") || !q->name_ldh) /* no host name */
		return dns_build_reply(buf, cap, limit, q, DNS_R_NXDOMAIN, NULL, 0, 0);
	if (in_domain(q->name, "arpa"))
		return dns_build_reply(buf, cap, limit, q, DNS_R_NOERROR, NULL, 0, 0);
	ret = dnspool_map(r->pool, q->name, r->loop->now, a4, a6, &ev);
	if (ev.name[0])
		log_debug("dns: fake-address pool full: %s (unused for %llu s) gave up its "
			  "addresses for %s",
			  ev.name, (unsigned long long)(ev.idle_ms / 1000), q->name);
	if (ret < 0) {
		log_info("dns: no fake address for %s: %s", q->name,
			 ret == -ENOSPC ? "every fake address is held by a connection"
					: strerror(-ret));
		r->stats.failed++;
		return dns_build_reply(buf, cap, limit, q, DNS_R_SERVFAIL, NULL, 0, 0);
	}
	memcpy(an.addr, an.family == AF_INET6 ? a6 : a4, alen);
	r->stats.fake++;
	return dns_build_reply(buf, cap, limit, q, DNS_R_NOERROR, &an, 1, ttl);
}

/*
 * virtual with --dns-server: a host name with no live fake address is asked
 * of the server before it gets one. Special-use names are answered here,
 * and a name with a live address was asked already (or the check failed:
 * it keeps the address it got).
 */
static bool must_check(struct resolver *r, const struct dns_query *q)
{
	if (!r->cfg.server.ss_family || !q->name_ldh)
		return false;
	if (in_domain(q->name, "localhost") || in_domain(q->name, "invalid") ||
	    in_domain(q->name, "arpa"))
		return false;
	return !dnspool_known(r->pool, q->name, r->loop->now);
}

/*
 * PTR for a fake address: the name it stands for (NXDOMAIN if none is
 * live). 0 when the name is not the reverse of a fake address.
 */
static int answer_ptr(struct resolver *r, const struct dns_query *q, uint8_t *buf, size_t cap,
		      size_t limit)
{
	struct dnspool_entry *ent;
	uint8_t a[16];
	int family, n;

	if (dns_ptr_addr(q->name, &family, a) < 0 || !dnspool_contains(r->pool, family, a))
		return 0;
	ent = dnspool_get(r->pool, family, a, r->loop->now);
	if (!ent)
		return dns_build_reply(buf, cap, limit, q, DNS_R_NXDOMAIN, NULL, 0, 0);
	n = dns_build_name_reply(buf, cap, limit, q, dnspool_entry_name(ent),
				 r->cfg.ttl ? r->cfg.ttl : DNSPOOL_TTL_DEFAULT);
	dnspool_put(r->pool, ent, r->loop->now);
	return n == 0 ? -1 : n;
}

/*
 * What the engine answers itself for msg[0..len), in buf: errors for what
 * does not parse, fake addresses (virtual), NODATA (or REFUSED for other
 * classes) when there is no server to forward to. Returns the length, 0
 * when the query is for --dns-server (*q parsed), -1 when no answer is due.
 */
static int answer_local(struct resolver *r, const uint8_t *msg, size_t len, struct dns_query *q,
			uint8_t *buf, size_t cap, bool udp)
{
	uint16_t rcode;
	int ret = dns_parse_query(msg, len, q, &rcode), n;
	size_t limit;

	r->stats.queries++;
	if (ret == -EBADMSG) {
		r->stats.failed++;
		return -1; /* no header, or a response: dropped */
	}
	limit = udp ? dns_udp_limit(q) : cap;
	if (ret < 0) {
		n = dns_build_reply(buf, cap, limit, q, rcode, NULL, 0, 0);
	} else {
		log_debug("dns: %s type %u", q->name, q->qtype);
		bool in = r->cfg.mode == RESOLVER_VIRTUAL && q->qclass == DNS_C_IN;

		n = 0;
		if (in && (q->qtype == DNS_T_A || q->qtype == DNS_T_AAAA)) {
			if (udp && must_check(r, q))
				return 0; /* --dns-server first: NXDOMAIN if it says so */
			n = answer_fake(r, q, buf, cap, limit);
		} else if (in && q->qtype == DNS_T_PTR)
			n = answer_ptr(r, q, buf, cap, limit); /* 0: not a fake address */
		if (n == 0 && r->cfg.server.ss_family)
			return 0;
		if (n == 0) /* virtual without a server: other types have no data */
			n = dns_build_reply(buf, cap, limit, q,
					    q->qclass == DNS_C_IN ? DNS_R_NOERROR : DNS_R_REFUSED,
					    NULL, 0, 0);
	}
	return n > 0 ? n : -1;
}

void resolver_udp_input(struct resolver *r, const struct ip_view *v, const struct udp_view *u)
{
	uint8_t buf[DNS_UDP_MAX];
	struct dns_query q;
	int n;

	/* Sent to a group or to everyone: no unicast answer from such an address. */
	if ((v->family == AF_INET && v->dst[0] >= 224) ||
	    (v->family == AF_INET6 && v->dst[0] == 0xff)) {
		r->stats.queries++;
		r->stats.failed++;
		return;
	}
	n = answer_local(r, u->data, u->len, &q, buf, sizeof(buf), true);
	if (n > 0) {
		reply(r, v->family, v->dst, v->src, u->sport, buf, (size_t)n);
		return;
	}
	if (n == 0 && !fwd_start(r, v, u, &q)) {
		r->stats.failed++;
		reply_rcode(r, v->family, v->dst, v->src, u->sport, &q, DNS_R_SERVFAIL, false);
	}
}

/*
 * DNS over TCP from the app to the resolver (virtual): the flow is served
 * here, one framed reply per framed query (RFC 7766), answered locally
 * (queries that would be forwarded get SERVFAIL on this path). Called when
 * rx gained bytes, tx gained room, or the app's FIN came.
 */
bool resolver_tcp_local(struct resolver *r, struct tcp_conn *c)
{
	uint8_t out[2 + RESOLVER_TCP_REPLY_MAX];
	struct dns_query q;
	struct iovec iov[2];
	bool blocked = false;
	size_t len;
	int cnt, i, n;

	while (c->rx.len >= 2) {
		uint8_t hdr[2];
		size_t off = 0;

		cnt = ring_peek(&c->rx, 0, 2, iov);
		for (i = 0; i < cnt; i++) {
			memcpy(hdr + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		len = load_be16(hdr);
		if (c->rx.len < 2 + len)
			break; /* the rest of the query is still coming */
		if (ring_space(&c->tx) < sizeof(out)) {
			blocked = true; /* again when tx has room (on_sent) */
			break;
		}
		/*
		 * A buffer per resolver, not a static one: with --workers every
		 * thread runs this, and one static buffer mixed their queries
		 * (one app got another's answer).
		 */
		if (!r->tcp_msg && !(r->tcp_msg = malloc(65535))) {
			tcp_abort(c);
			return false;
		}
		cnt = ring_peek(&c->rx, 2, len, iov);
		for (i = 0, off = 0; i < cnt; i++) {
			memcpy(r->tcp_msg + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		tcp_rx_consume(c, 2 + len);
		n = answer_local(r, r->tcp_msg, len, &q, out + 2, sizeof(out) - 2, false);
		if (n == 0)
			n = dns_build_reply(out + 2, sizeof(out) - 2, sizeof(out) - 2, &q,
					    DNS_R_SERVFAIL, NULL, 0, 0);
		if (n <= 0)
			continue; /* nothing due (a response, a runt) */
		store_be16(out, (uint16_t)n);
		if (ring_write(&c->tx, out, 2 + (size_t)n) != (long)(2 + (size_t)n)) {
			tcp_abort(c); /* no memory for the ring */
			return false;
		}
		tcp_kick(c);
	}
	if (!blocked && tcp_fin_received(c))
		tcp_shutdown(c); /* the app is done asking: our FIN after the replies */
	return true;
}

/* ---- TCP to fake addresses ---- */

static bool is_resolver(const struct resolver *r, int family, const uint8_t *a)
{
	return family == AF_INET6 ? !memcmp(a, r->cfg.addr6, 16) : !memcmp(a, r->cfg.addr4, 4);
}

/*
 * addr in the fake pool is replaced by its name in d (family 0) with *ref
 * held (1), refused if unmapped (-ECONNREFUSED), else left alone (0).
 */
static int fake_dest(struct resolver *r, int family, const uint8_t *addr, struct proxy_dest *d,
		     struct dnspool_entry **ref)
{
	struct dnspool_entry *ent;
	size_t len;

	*ref = NULL;
	if (!r->pool || !dnspool_contains(r->pool, family, addr))
		return 0;
	ent = dnspool_get(r->pool, family, addr, r->loop->now);
	if (!ent) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(family, addr, a, sizeof(a));
		log_info("to %s: a fake address with no live name: refused", a);
		r->stats.fake_unmapped++;
		return -ECONNREFUSED;
	}
	len = strlen(dnspool_entry_name(ent));
	if (len >= sizeof(d->name)) {
		dnspool_put(r->pool, ent, r->loop->now);
		return -ECONNREFUSED;
	}
	d->family = 0;
	memcpy(d->name, dnspool_entry_name(ent), len + 1);
	*ref = ent;
	return 1;
}

int resolver_tcp_dest(struct resolver *r, const struct tcp_conn *c, struct proxy_dest *d,
		      struct dnspool_entry **ref)
{
	*ref = NULL;
	if (is_resolver(r, c->family, c->laddr)) {
		const struct sockaddr_storage *ss = &r->cfg.server;

		/* DNS over TCP from apps: spliced to the server, or served here. */
		if (c->lport != 53)
			return -ECONNREFUSED;
		if (r->cfg.mode == RESOLVER_VIRTUAL)
			return RESOLVER_LOCAL;
		d->family = ss->ss_family;
		if (ss->ss_family == AF_INET6)
			memcpy(d->addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		else
			memcpy(d->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return 0;
	}
	return fake_dest(r, c->family, c->laddr, d, ref);
}

void resolver_tcp_done(struct resolver *r, struct dnspool_entry *ref)
{
	if (ref && r->pool)
		dnspool_put(r->pool, ref, r->loop->now);
}

/* ---- lifetime ---- */

struct resolver *resolver_new(struct loop *loop, const struct resolver_cfg *cfg,
			      udp_output_fn *output, void *ctx)
{
	struct resolver *r = calloc(1, sizeof(*r));
	struct dnspool_cfg pc;

	if (!r)
		return NULL;
	r->loop = loop;
	r->cfg = *cfg;
	r->output = output;
	r->ctx = ctx;
	if (cfg->mode != RESOLVER_VIRTUAL)
		return r;
	if (cfg->shared_pool) {
		/* Another queue's engine answers the query, this one gets the SYN. */
		r->pool = cfg->shared_pool;
		return r;
	}
	pc = cfg->pool;
	/* The TUN's own addresses and the resolver's are never handed out. */
	if (pc.nexcl4 + 1 <= DNSPOOL_EXCLUDE_MAX)
		memcpy(pc.excl4[pc.nexcl4++], cfg->addr4, 4);
	if (pc.nexcl6 + 1 <= DNSPOOL_EXCLUDE_MAX)
		memcpy(pc.excl6[pc.nexcl6++], cfg->addr6, 16);
	r->pool = dnspool_new(&pc);
	if (!r->pool) {
		free(r);
		return NULL;
	}
	return r;
}

void resolver_reap(struct resolver *r)
{
	while (r->dead) {
		struct dnsfwd *f = list_entry(r->dead, struct dnsfwd, node);

		list_del(&r->dead, &f->node);
		fwd_free(f);
	}
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	while (r->fwd)
		fwd_kill(list_entry(r->fwd, struct dnsfwd, node));
	resolver_reap(r);
	if (r->pool != r->cfg.shared_pool)
		dnspool_free(r->pool);
	free(r->tcp_msg);
	free(r);
}

const struct resolver_stats *resolver_stats(const struct resolver *r)
{
	return &r->stats;
}

struct dnspool *resolver_pool(const struct resolver *r)
{
	return r ? r->pool : NULL;
}
