// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TUN resolver: fake answers from the pool, and DNS over TCP through
 * the proxy for what is forwarded (one tunnel per query: RFC 7766 framing,
 * a 2-byte length before each message).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "dns.h"
#include "log.h"
#include "resolver.h"

enum { RESOLVER_TCP_REPLY_MAX = DNS_UDP_MAX }; /* our own answers are far smaller */

enum fwd_state { F_CONNECTING, F_HANDSHAKE, F_SEND, F_RECV, F_DEAD };

/* One query forwarded over its own tunnel. */
struct dnsfwd {
	struct loop_io io; /* first: the callback casts back */
	struct timer timer;
	struct dnsfwd *next, *prev; /* e->fwd; the dead list via next */
	struct engine *eng;
	enum fwd_state state;
	struct proxy_hs hs;
	struct dns_query q;
	int family; /* reply addressing: from us:53 to app:port */
	uint8_t us[16], app[16];
	uint16_t app_port;
	uint8_t *out; /* length prefix + query */
	size_t out_len, out_off;
	uint8_t *in; /* length prefix + reply */
	size_t in_len;
};

static void reply(struct engine *e, int family, const uint8_t *us, const uint8_t *app,
		  uint16_t app_port, const void *msg, size_t len)
{
	if (engine_udp_output(e, family, us, 53, app, app_port, msg, len) < 0)
		e->stats.dns_failed++;
}

/* A reply without answers (NODATA, errors), kept within the client's limit. */
static void reply_rcode(struct engine *e, int family, const uint8_t *us, const uint8_t *app,
			uint16_t app_port, const struct dns_query *q, uint16_t rcode, bool tc)
{
	uint8_t buf[DNS_UDP_MAX];
	int n = dns_build_reply(buf, sizeof(buf), dns_udp_limit(q), q, rcode, NULL, 0, 0);

	if (n < 0)
		return;
	if (tc)
		buf[2] |= 0x02;
	reply(e, family, us, app, app_port, buf, (size_t)n);
}

/* ---- forwarding over TCP through the proxy ---- */

static void fwd_kill(struct dnsfwd *f)
{
	struct engine *e = f->eng;

	if (f->state == F_DEAD)
		return;
	f->state = F_DEAD;
	if (f->io.fd >= 0) {
		int fd = f->io.fd;

		loop_io_del(e->loop, &f->io);
		close(fd);
	}
	loop_timer_cancel(e->loop, &f->timer);
	proxy_hs_free(&f->hs);
	if (f->prev)
		f->prev->next = f->next;
	else
		e->fwd = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->prev = NULL;
	f->next = e->fwd_dead;
	e->fwd_dead = f;
}

static void fwd_fail(struct dnsfwd *f, int err)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(
		f->eng->cfg.dns_server.ss_family,
		f->eng->cfg.dns_server.ss_family == AF_INET6
			? (const void *)&((struct sockaddr_in6 *)&f->eng->cfg.dns_server)->sin6_addr
			: (const void *)&((struct sockaddr_in *)&f->eng->cfg.dns_server)->sin_addr,
		a, sizeof(a));
	log_info("dns: query for %s to %s through the proxy failed: %s", f->q.name, a,
		 strerror(-err));
	f->eng->stats.dns_failed++;
	reply_rcode(f->eng, f->family, f->us, f->app, f->app_port, &f->q, DNS_R_SERVFAIL, false);
	fwd_kill(f);
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
	if (len > dns_udp_limit(&f->q))
		reply_rcode(f->eng, f->family, f->us, f->app, f->app_port, &f->q,
			    load_be16(msg + 2) & 0xf, true);
	else
		reply(f->eng, f->family, f->us, f->app, f->app_port, msg, len);
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

static void fwd_send(struct dnsfwd *f)
{
	const uint8_t *p;
	size_t len;
	ssize_t n;

	if (f->state == F_HANDSHAKE) {
		len = proxy_hs_pending(&f->hs, &p);
	} else {
		p = f->out + f->out_off;
		len = f->out_len - f->out_off;
	}
	if (!len)
		return;
	n = send(f->io.fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fwd_fail(f, -errno);
		return;
	}
	if (f->state == F_HANDSHAKE) {
		proxy_hs_sent(&f->hs, (size_t)n);
		return;
	}
	f->out_off += (size_t)n;
	if (f->out_off == f->out_len)
		f->state = F_RECV;
}

static void fwd_recv(struct dnsfwd *f)
{
	uint8_t buf[HTTP_MAX_HDR];
	size_t used = 0;
	ssize_t n;
	int ret;

	n = recv(f->io.fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fwd_fail(f, -errno);
		return;
	}
	if (n == 0) {
		fwd_fail(f, -ECONNRESET);
		return;
	}
	if (f->state != F_HANDSHAKE) {
		fwd_take(f, buf, (size_t)n);
		return;
	}
	ret = proxy_hs_input(&f->hs, buf, (size_t)n, &used);
	if (ret < 0) {
		fwd_fail(f, ret);
		return;
	}
	if (ret == 0)
		return;
	proxy_hs_free(&f->hs);
	f->state = F_SEND;
	if ((size_t)n > used && !fwd_take(f, buf + used, (size_t)n - used))
		return;
	fwd_send(f);
}

static void fwd_update(struct dnsfwd *f)
{
	const uint8_t *p;
	uint32_t ev = EPOLLIN;

	if (f->state == F_DEAD)
		return;
	if (f->state == F_CONNECTING || f->state == F_SEND ||
	    (f->state == F_HANDSHAKE && proxy_hs_pending(&f->hs, &p)))
		ev |= EPOLLOUT;
	if (f->state == F_CONNECTING)
		ev = EPOLLOUT;
	if (loop_io_mod(f->eng->loop, &f->io, ev) < 0)
		fwd_fail(f, -errno);
}

static void fwd_io(struct loop_io *io, uint32_t events)
{
	struct dnsfwd *f = (struct dnsfwd *)io;
	int err = 0;
	socklen_t len = sizeof(err);

	if (f->state == F_CONNECTING) {
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			fwd_fail(f, -err);
			return;
		}
		f->state = F_HANDSHAKE;
	}
	if (f->state != F_DEAD && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		fwd_recv(f);
	if (f->state == F_HANDSHAKE || f->state == F_SEND)
		fwd_send(f);
	fwd_update(f);
}

static void fwd_timeout(struct timer *t)
{
	struct dnsfwd *f = (struct dnsfwd *)((char *)t - offsetof(struct dnsfwd, timer));

	fwd_fail(f, -ETIMEDOUT);
}

static size_t fwd_count(const struct engine *e)
{
	const struct dnsfwd *f;
	size_t n = 0;

	for (f = e->fwd; f; f = f->next)
		n++;
	return n;
}

/*
 * Every slot taken: the query waiting longest (the list's tail) gets its
 * SERVFAIL now and gives its slot up. Refusing the new one instead let
 * anyone who asks for names that never answer shut every other query out.
 */
static void fwd_evict(struct engine *e)
{
	struct dnsfwd *f = e->fwd;

	while (f && f->next)
		f = f->next;
	if (!f)
		return;
	log_debug("dns: %d queries in flight: %s (the oldest) answered SERVFAIL for room",
		  RESOLVER_FWD_MAX, f->q.name);
	e->stats.dns_failed++;
	reply_rcode(e, f->family, f->us, f->app, f->app_port, &f->q, DNS_R_SERVFAIL, false);
	fwd_kill(f);
}

/* Starts forwarding msg; false if it could not (the caller sends SERVFAIL). */
static bool fwd_start(struct engine *e, const struct ip_view *v, const struct udp_view *u,
		      const struct dns_query *q)
{
	const struct sockaddr_storage *ss = &e->cfg.dns_server;
	struct proxy_dest d = { .family = ss->ss_family };
	struct dnsfwd *f;
	int fd, one = 1;

	if (!ss->ss_family || u->len > 65535)
		return false;
	if (fwd_count(e) >= RESOLVER_FWD_MAX)
		fwd_evict(e);
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
	f->in = malloc(2 + 65535);
	f->out = malloc(2 + u->len);
	if (!f->in || !f->out || proxy_hs_init(&f->hs, e->cfg.proxy, &d) < 0)
		goto err;
	f->eng = e;
	f->io.fd = -1;
	f->io.cb = fwd_io;
	f->timer.cb = fwd_timeout;
	f->q = *q;
	f->family = v->family;
	memcpy(f->us, v->dst, ip_addr_len(v->family));
	memcpy(f->app, v->src, ip_addr_len(v->family));
	f->app_port = u->sport;
	store_be16(f->out, (uint16_t)u->len);
	memcpy(f->out + 2, u->data, u->len);
	f->out_len = 2 + u->len;
	fd = socket(e->cfg.proxy_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err_hs;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((connect(fd, (const struct sockaddr *)&e->cfg.proxy_addr, e->cfg.proxy_addrlen) < 0 &&
	     errno != EINPROGRESS) ||
	    loop_io_add(e->loop, &f->io, fd, EPOLLOUT) < 0) {
		close(fd);
		goto err_hs;
	}
	f->next = e->fwd;
	if (e->fwd)
		e->fwd->prev = f;
	e->fwd = f;
	loop_timer_set(e->loop, &f->timer, e->loop->now + RESOLVER_FWD_TIMEOUT_MS);
	e->stats.dns_forwarded++;
	return true;

err_hs:
	proxy_hs_free(&f->hs);
err:
	free(f->in);
	free(f->out);
	free(f);
	return false;
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
static int answer_fake(struct engine *e, const struct dns_query *q, uint8_t *buf, size_t cap,
		       size_t limit)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 }, lo6[16] = { [15] = 1 };
	struct dns_addr an = { .family = q->qtype == DNS_T_AAAA ? AF_INET6 : AF_INET };
	size_t alen = an.family == AF_INET6 ? 16 : 4;
	uint32_t ttl = e->cfg.dns_ttl ? e->cfg.dns_ttl : DNSPOOL_TTL_DEFAULT;
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
	ret = dnspool_map(e->pool, q->name, e->loop->now, a4, a6, &ev);
	if (ev.name[0])
		log_debug("dns: fake-address pool full: %s (unused for %llu s) gave up its "
			  "addresses for %s",
			  ev.name, (unsigned long long)(ev.idle_ms / 1000), q->name);
	if (ret < 0) {
		log_info("dns: no fake address for %s: %s", q->name,
			 ret == -ENOSPC ? "every fake address is held by a connection"
					: strerror(-ret));
		e->stats.dns_failed++;
		return dns_build_reply(buf, cap, limit, q, DNS_R_SERVFAIL, NULL, 0, 0);
	}
	memcpy(an.addr, an.family == AF_INET6 ? a6 : a4, alen);
	e->stats.dns_fake++;
	return dns_build_reply(buf, cap, limit, q, DNS_R_NOERROR, &an, 1, ttl);
}

/*
 * PTR for a fake address: the name it stands for (NXDOMAIN if none is
 * live). 0 when the name is not the reverse of a fake address.
 */
static int answer_ptr(struct engine *e, const struct dns_query *q, uint8_t *buf, size_t cap,
		      size_t limit)
{
	struct dnspool_entry *ent;
	uint8_t a[16];
	int family, n;

	if (dns_ptr_addr(q->name, &family, a) < 0 || !dnspool_contains(e->pool, family, a))
		return 0;
	ent = dnspool_get(e->pool, family, a, e->loop->now);
	if (!ent)
		return dns_build_reply(buf, cap, limit, q, DNS_R_NXDOMAIN, NULL, 0, 0);
	n = dns_build_name_reply(buf, cap, limit, q, dnspool_entry_name(ent),
				 e->cfg.dns_ttl ? e->cfg.dns_ttl : DNSPOOL_TTL_DEFAULT);
	dnspool_put(e->pool, ent, e->loop->now);
	return n == 0 ? -1 : n;
}

/*
 * What the engine answers itself for msg[0..len), in buf: errors for what
 * does not parse, fake addresses (virtual), NODATA (or REFUSED for other
 * classes) when there is no server to forward to. Returns the length, 0
 * when the query is for --dns-server (*q parsed), -1 when no answer is due.
 */
static int answer_local(struct engine *e, const uint8_t *msg, size_t len, struct dns_query *q,
			uint8_t *buf, size_t cap, bool udp)
{
	uint16_t rcode;
	int ret = dns_parse_query(msg, len, q, &rcode), n;
	size_t limit;

	e->stats.dns_queries++;
	if (ret == -EBADMSG) {
		e->stats.dns_failed++;
		return -1; /* no header, or a response: dropped */
	}
	limit = udp ? dns_udp_limit(q) : cap;
	if (ret < 0) {
		n = dns_build_reply(buf, cap, limit, q, rcode, NULL, 0, 0);
	} else {
		log_debug("dns: %s type %u", q->name, q->qtype);
		bool in = e->cfg.dns == ENGINE_DNS_VIRTUAL && q->qclass == DNS_C_IN;

		n = 0;
		if (in && (q->qtype == DNS_T_A || q->qtype == DNS_T_AAAA))
			n = answer_fake(e, q, buf, cap, limit);
		else if (in && q->qtype == DNS_T_PTR)
			n = answer_ptr(e, q, buf, cap, limit); /* 0: not a fake address */
		if (n == 0 && e->cfg.dns_server.ss_family)
			return 0;
		if (n == 0) /* virtual without a server: other types have no data */
			n = dns_build_reply(buf, cap, limit, q,
					    q->qclass == DNS_C_IN ? DNS_R_NOERROR : DNS_R_REFUSED,
					    NULL, 0, 0);
	}
	return n > 0 ? n : -1;
}

void resolver_udp_input(struct engine *e, const struct ip_view *v, const struct udp_view *u)
{
	uint8_t buf[DNS_UDP_MAX];
	struct dns_query q;
	int n;

	/* Sent to a group or to everyone: no unicast answer from such an address. */
	if ((v->family == AF_INET && v->dst[0] >= 224) ||
	    (v->family == AF_INET6 && v->dst[0] == 0xff)) {
		e->stats.dns_queries++;
		e->stats.dns_failed++;
		return;
	}
	n = answer_local(e, u->data, u->len, &q, buf, sizeof(buf), true);
	if (n > 0) {
		reply(e, v->family, v->dst, v->src, u->sport, buf, (size_t)n);
		return;
	}
	if (n == 0 && !fwd_start(e, v, u, &q)) {
		e->stats.dns_failed++;
		reply_rcode(e, v->family, v->dst, v->src, u->sport, &q, DNS_R_SERVFAIL, false);
	}
}

/*
 * DNS over TCP from the app to the resolver (virtual): the flow is served
 * here, one framed reply per framed query (RFC 7766), answered locally
 * (queries that would be forwarded get SERVFAIL on this path). Called when
 * rx gained bytes, tx gained room, or the app's FIN came.
 */
bool resolver_tcp_local(struct engine *e, struct tcp_conn *c)
{
	uint8_t out[2 + RESOLVER_TCP_REPLY_MAX], *msg;
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
		 * Each query in a buffer of its own: with --workers every thread
		 * runs this, and one static buffer mixed their queries (one
		 * app got another's answer).
		 */
		msg = malloc(len ? len : 1);
		if (!msg) {
			tcp_abort(c);
			return false;
		}
		cnt = ring_peek(&c->rx, 2, len, iov);
		for (i = 0, off = 0; i < cnt; i++) {
			memcpy(msg + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		tcp_rx_consume(c, 2 + len);
		n = answer_local(e, msg, len, &q, out + 2, sizeof(out) - 2, false);
		free(msg);
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

static bool is_resolver(const struct engine *e, int family, const uint8_t *a)
{
	return family == AF_INET6 ? !memcmp(a, e->cfg.resolver6, 16)
				  : !memcmp(a, e->cfg.resolver4, 4);
}

int resolver_fake_dest(struct engine *e, int family, const uint8_t *addr, struct proxy_dest *d,
		       struct dnspool_entry **ref)
{
	struct dnspool_entry *ent;
	size_t len;

	*ref = NULL;
	if (!e->pool || !dnspool_contains(e->pool, family, addr))
		return 0;
	ent = dnspool_get(e->pool, family, addr, e->loop->now);
	if (!ent) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(family, addr, a, sizeof(a));
		log_info("to %s: a fake address with no live name: refused", a);
		e->stats.fake_unmapped++;
		return -ECONNREFUSED;
	}
	len = strlen(dnspool_entry_name(ent));
	if (len >= sizeof(d->name)) {
		dnspool_put(e->pool, ent, e->loop->now);
		return -ECONNREFUSED;
	}
	d->family = 0;
	memcpy(d->name, dnspool_entry_name(ent), len + 1);
	*ref = ent;
	return 1;
}

int resolver_tcp_dest(struct engine *e, const struct tcp_conn *c, struct proxy_dest *d,
		      struct dnspool_entry **ref)
{
	*ref = NULL;
	if (e->cfg.dns == ENGINE_DNS_BYPASS)
		return 0;
	if (is_resolver(e, c->family, c->laddr)) {
		const struct sockaddr_storage *ss = &e->cfg.dns_server;

		/* DNS over TCP from apps: spliced to the server, or served here. */
		if (c->lport != 53)
			return -ECONNREFUSED;
		if (e->cfg.dns == ENGINE_DNS_VIRTUAL)
			return RESOLVER_LOCAL;
		d->family = ss->ss_family;
		if (ss->ss_family == AF_INET6)
			memcpy(d->addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		else
			memcpy(d->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return 0;
	}
	return resolver_fake_dest(e, c->family, c->laddr, d, ref);
}

void resolver_tcp_done(struct engine *e, struct dnspool_entry *ref)
{
	if (ref && e->pool)
		dnspool_put(e->pool, ref, e->loop->now);
}

/* ---- lifetime ---- */

int resolver_init(struct engine *e)
{
	struct dnspool_cfg pc;

	e->fwd = NULL;
	if (e->cfg.dns != ENGINE_DNS_VIRTUAL)
		return 0;
	if (e->cfg.shared_pool) {
		/* Another queue's engine answers the query, this one gets the SYN. */
		e->pool = e->cfg.shared_pool;
		return 0;
	}
	pc = e->cfg.pool;
	/* The TUN's own addresses and the resolver's are never handed out. */
	if (pc.nexcl4 + 1 <= DNSPOOL_EXCLUDE_MAX)
		memcpy(pc.excl4[pc.nexcl4++], e->cfg.resolver4, 4);
	if (pc.nexcl6 + 1 <= DNSPOOL_EXCLUDE_MAX)
		memcpy(pc.excl6[pc.nexcl6++], e->cfg.resolver6, 16);
	e->pool = dnspool_new(&pc);
	return e->pool ? 0 : -errno;
}

void resolver_reap(struct engine *e)
{
	struct dnsfwd *f;

	while ((f = e->fwd_dead)) {
		e->fwd_dead = f->next;
		free(f->in);
		free(f->out);
		free(f);
	}
}

void resolver_fini(struct engine *e)
{
	while (e->fwd)
		fwd_kill(e->fwd);
	resolver_reap(e);
	if (e->pool != e->cfg.shared_pool)
		dnspool_free(e->pool);
	e->pool = NULL;
}
