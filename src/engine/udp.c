// SPDX-License-Identifier: GPL-2.0-only
/*
 * UDP through SOCKS5 UDP ASSOCIATE (see udp.h). An association is born on
 * the first datagram of an app socket: an upstream to the proxy (UDP
 * ASSOCIATE, DST.ADDR 0.0.0.0:0 as RFC 1928 §7 allows: behind a NAT our own
 * address would be wrong), then a
 * UDP socket connected to the relay address from the reply (the proxy's
 * own address when the reply names 0.0.0.0, ::, or a host name). Datagrams
 * sent meanwhile wait in a small queue. Associations are freed only in
 * udp_reap(), after the loop batch, so no callback sees freed memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnspool.h"
#include "list.h"
#include "log.h"
#include "proxy.h"
#include "udp.h"
#include "upfail.h"

enum assoc_state {
	A_CONNECTING, /* the upstream connects and runs the handshake */
	A_READY,
	A_FAILED, /* sockets closed; its datagrams dropped until UDP_RETRY_MS pass */
	A_DEAD,
};

/* A datagram held while the association is set up: SOCKS5 header + payload. */
struct qdgram {
	struct qdgram *next;
	size_t len;
	uint8_t data[];
};

/*
 * A destination the app socket sent to lately: an address, or a virtual-DNS
 * fake address sent to the proxy as its name (the entry's reference keeps
 * the mapping alive while the association remembers it).
 */
struct peer {
	int family;	  /* 0 = empty slot */
	uint8_t addr[16]; /* as the app sees it: fake for a name */
	uint16_t port;
	struct dnspool_entry *fake; /* NULL for a real address */
	uint64_t used;		    /* r->seq when last sent to */
};

struct assoc {
	struct upstream *ctl;  /* TCP control connection; freed with the association */
	struct loop_io dgram;  /* UDP socket connected to the relay */
	struct assoc *hnext;   /* hash chain */
	struct list_node node; /* r->live, or r->dead */
	struct udp_relay *r;
	enum assoc_state state;
	uint32_t id;
	int family;
	uint8_t app[16]; /* the app socket's address and port */
	uint16_t app_port;
	struct timer timer; /* idle timeout, or the retry wait after a failure */
	uint64_t last;	    /* ms: last datagram either way */
	struct qdgram *q_head, *q_tail;
	size_t q_n, q_bytes;
	struct peer peers[UDP_PEERS];
};

struct udp_relay {
	struct loop *loop;
	struct udp_cfg cfg;
	udp_output_fn *output;
	void *ctx;
	struct assoc **hash;
	size_t nbuckets; /* a power of two */
	uint64_t hash_key;
	struct list_node *live, *dead; /* associations */
	size_t count;
	uint32_t next_id;
	uint64_t seq; /* orders peer use */
	uint8_t *buf; /* one relay datagram */
	struct udp_stats stats;
};

enum { RELAY_BUF = 65536 };

/* Unicast only: a SOCKS5 relay carries no multicast or broadcast. */
static bool unicast(int family, const uint8_t *a)
{
	static const uint8_t zero[16];

	if (family == AF_INET)
		return (a[0] & 0xf0) != 0xe0 && memcmp(a, "\xff\xff\xff\xff", 4) != 0 &&
		       memcmp(a, zero, 4) != 0;
	return a[0] != 0xff && memcmp(a, zero, 16) != 0;
}

/* ---- association table ---- */

static size_t bucket(const struct udp_relay *r, int family, const uint8_t *addr, uint16_t port)
{
	uint64_t h = r->hash_key ^ (uint64_t)family;
	size_t i, n = ip_addr_len(family);

	/* FNV-1a over a keyed start: the app cannot aim at one chain. */
	for (i = 0; i < n; i++)
		h = (h ^ addr[i]) * 0x100000001b3ull;
	h = (h ^ (port >> 8)) * 0x100000001b3ull;
	h = (h ^ (port & 0xff)) * 0x100000001b3ull;
	h ^= h >> 29;
	return (size_t)h & (r->nbuckets - 1);
}

static struct assoc *lookup(struct udp_relay *r, int family, const uint8_t *addr, uint16_t port)
{
	struct assoc *a;

	for (a = r->hash[bucket(r, family, addr, port)]; a; a = a->hnext)
		if (a->family == family && a->app_port == port &&
		    memcmp(a->app, addr, ip_addr_len(family)) == 0)
			return a;
	return NULL;
}

static void unhash(struct assoc *a)
{
	struct udp_relay *r = a->r;
	struct assoc **pp = &r->hash[bucket(r, a->family, a->app, a->app_port)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == a) {
			*pp = a->hnext;
			a->hnext = NULL;
			return;
		}
	}
}

static void queue_free(struct assoc *a)
{
	struct qdgram *q;

	while ((q = a->q_head)) {
		a->q_head = q->next;
		free(q);
	}
	a->q_tail = NULL;
	a->q_n = a->q_bytes = 0;
}

static void peer_clear(struct udp_relay *r, struct peer *p)
{
	if (p->fake)
		dnspool_put(r->cfg.pool, p->fake, r->loop->now);
	memset(p, 0, sizeof(*p));
}

static void peers_clear(struct assoc *a)
{
	size_t i;

	for (i = 0; i < UDP_PEERS; i++)
		peer_clear(a->r, &a->peers[i]);
}

/*
 * Remembers a destination (taking over the reference in fake), replacing
 * the least recently used slot.
 */
static void peer_note(struct assoc *a, int family, const uint8_t *addr, uint16_t port,
		      struct dnspool_entry *fake)
{
	struct udp_relay *r = a->r;
	struct peer *p, *old = &a->peers[0];
	size_t i;

	for (i = 0; i < UDP_PEERS; i++) {
		p = &a->peers[i];
		if (p->family == family && p->port == port &&
		    memcmp(p->addr, addr, ip_addr_len(family)) == 0) {
			if (fake)
				dnspool_put(r->cfg.pool, fake, r->loop->now);
			p->used = ++r->seq;
			return;
		}
		if (p->used < old->used)
			old = p;
	}
	peer_clear(r, old);
	old->family = family;
	memcpy(old->addr, addr, ip_addr_len(family));
	old->port = port;
	old->fake = fake;
	old->used = ++r->seq;
}

/*
 * The source the app should see for a relay datagram from src, in *out
 * (family = the app's). An address the socket sent to stays itself; else a
 * reply to a name the socket sent to (the relay reports the address the
 * proxy resolved it to, or the name) comes from that name's fake address,
 * matched by port, most recent first; else any address of the app's family
 * passes (as through a full-cone NAT). False: nothing the app can be shown.
 */
static bool reply_source(const struct assoc *a, const struct proxy_dest *src,
			 struct proxy_dest *out)
{
	const struct peer *p, *best = NULL;
	size_t i;

	for (i = 0; i < UDP_PEERS; i++) {
		p = &a->peers[i];
		if (!p->family || p->port != src->port)
			continue;
		if (!p->fake && src->family == p->family &&
		    memcmp(p->addr, src->addr, ip_addr_len(p->family)) == 0) {
			*out = *src;
			return true;
		}
		if (p->fake &&
		    (src->family != 0 || strcasecmp(dnspool_entry_name(p->fake), src->name) == 0) &&
		    (!best || p->used > best->used))
			best = p;
	}
	memset(out, 0, sizeof(*out));
	if (best) {
		out->family = best->family;
		memcpy(out->addr, best->addr, 16);
		out->port = best->port;
		return true;
	}
	if (src->family != a->family)
		return false;
	*out = *src;
	return true;
}

/* Closes both sockets and drops what the association held. */
static void assoc_close(struct assoc *a)
{
	struct udp_relay *r = a->r;
	int fd;

	if (a->ctl)
		upstream_close(a->ctl, false);
	fd = a->dgram.fd;
	loop_io_del(r->loop, &a->dgram); /* fd = -1: later events in this batch are skipped */
	if (fd >= 0)
		close(fd);
	loop_timer_cancel(r->loop, &a->timer);
	queue_free(a);
	peers_clear(a);
}

static void assoc_kill(struct assoc *a)
{
	struct udp_relay *r = a->r;

	if (a->state == A_DEAD)
		return;
	a->state = A_DEAD;
	assoc_close(a);
	unhash(a);
	list_move(&r->live, &r->dead, &a->node);
	r->count--;
}

/*
 * The setup failed. The association stays in the table for UDP_RETRY_MS,
 * without sockets, dropping the app socket's datagrams: a proxy that refuses
 * UDP ASSOCIATE costs one handshake (and one log line) per app socket and
 * retry period, not one per datagram.
 */
static void assoc_fail_why(struct assoc *a, int err, const char *what)
{
	struct udp_relay *r = a->r;

	r->stats.assoc_failed++;
	r->stats.queue_dropped += a->q_n;
	log_info("udp %u: association failed: %s", a->id, what ? what : strerror(-err));
	assoc_close(a);
	a->state = A_FAILED;
	loop_timer_set(r->loop, &a->timer, r->loop->now + UDP_RETRY_MS);
}

static void assoc_fail(struct assoc *a, int err)
{
	assoc_fail_why(a, err, NULL);
}

/* ---- relay -> app ---- */

int udp_send_to_app(udp_output_fn *output, void *ctx, uint32_t mtu, int family, const uint8_t *src,
		    uint16_t sport, const uint8_t *dst, uint16_t dport, const void *data,
		    size_t len)
{
	uint8_t hdr[IP_MAX_HDR + UDP_HDR_LEN];
	struct iovec iov[2];
	size_t hl = udp_build_hdr(hdr, family, src, sport, dst, dport, data, len);

	if (!hl || hl + len > mtu)
		return -EMSGSIZE; /* we do not fragment toward the app */
	iov[0] = (struct iovec){ .iov_base = hdr, .iov_len = hl };
	iov[1] = (struct iovec){ .iov_base = (void *)(uintptr_t)data, .iov_len = len };
	output(ctx, iov, len ? 2 : 1);
	return 0;
}

/* One decapsulated datagram to the app as a UDP packet from src:sport. */
static void to_app(struct assoc *a, const struct proxy_dest *from, const uint8_t *data, size_t len)
{
	struct udp_relay *r = a->r;
	struct proxy_dest src;

	if (!reply_source(a, from, &src)) {
		r->stats.foreign_dropped++; /* a name, or another family than the app's */
		return;
	}
	if (udp_send_to_app(r->output, r->ctx, r->cfg.mtu, a->family, src.addr, src.port, a->app,
			    a->app_port, data, len) < 0)
		r->stats.too_big++;
	else
		r->stats.dgrams_in++;
}

static void dgram_readable(struct loop_io *io, uint32_t events)
{
	struct assoc *a = (struct assoc *)((char *)io - offsetof(struct assoc, dgram));
	struct udp_relay *r = a->r;
	struct proxy_dest src;
	int i, hl;

	(void)events;
	for (i = 0; i < UDP_RX_BATCH && a->state == A_READY; i++) {
		/* Connected: the kernel hands us datagrams from the relay address only. */
		ssize_t n = recv(io->fd, r->buf, RELAY_BUF, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			/* ECONNREFUSED: an ICMP error says the relay is gone. */
			log_info("udp %u: relay socket: %s", a->id, strerror(errno));
			r->stats.assoc_closed++;
			assoc_kill(a);
			return;
		}
		hl = socks5_parse_udp_hdr(r->buf, (size_t)n, &src);
		if (hl == -EOPNOTSUPP) {
			r->stats.frag_dropped++;
			continue;
		}
		if (hl < 0) {
			r->stats.bad_relay++;
			continue;
		}
		a->last = r->loop->now;
		to_app(a, &src, r->buf + hl, (size_t)n - (size_t)hl);
	}
}

/* ---- app -> relay ---- */

/* SOCKS5 header + payload as one datagram to the relay. */
static void send_dgram(struct assoc *a, const uint8_t *hdr, size_t hl, const uint8_t *data,
		       size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)(uintptr_t)hdr, .iov_len = hl },
		{ .iov_base = (void *)(uintptr_t)data, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	if (sendmsg(a->dgram.fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		a->r->stats.send_dropped++; /* EAGAIN, EMSGSIZE, ECONNREFUSED: UDP may drop */
	else
		a->r->stats.dgrams_out++;
}

static void flush_queue(struct assoc *a)
{
	struct qdgram *q;

	while ((q = a->q_head)) {
		a->q_head = q->next;
		send_dgram(a, q->data, q->len, NULL, 0);
		free(q);
	}
	a->q_tail = NULL;
	a->q_n = a->q_bytes = 0;
}

static void enqueue(struct assoc *a, const uint8_t *hdr, size_t hl, const uint8_t *data, size_t len)
{
	struct qdgram *q;

	if (a->q_n >= UDP_QUEUE_MAX || a->q_bytes + hl + len > UDP_QUEUE_BYTES) {
		a->r->stats.queue_dropped++;
		return;
	}
	q = malloc(sizeof(*q) + hl + len);
	if (!q) {
		a->r->stats.queue_dropped++;
		return;
	}
	q->next = NULL;
	q->len = hl + len;
	memcpy(q->data, hdr, hl);
	memcpy(q->data + hl, data, len);
	if (a->q_tail)
		a->q_tail->next = q;
	else
		a->q_head = q;
	a->q_tail = q;
	a->q_n++;
	a->q_bytes += q->len;
}

/* ---- control connection ---- */

static uint32_t timeout_ms(const struct udp_relay *r)
{
	return r->cfg.timeout_ms ? r->cfg.timeout_ms : UDP_TIMEOUT_MS_DEFAULT;
}

/*
 * The relay address: BND from the reply, or the proxy's own address with
 * BND.PORT when BND.ADDR is unspecified (dante and others answer 0.0.0.0)
 * or a name (we do not resolve in the engine), or always with relay_at_proxy.
 */
static int relay_addr(const struct udp_relay *r, const struct proxy_dest *bnd,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	static const uint8_t zero[16];

	if (bnd->port == 0)
		return -EPROTO;
	if (bnd->family == 0 || memcmp(bnd->addr, zero, ip_addr_len(bnd->family)) == 0 ||
	    r->cfg.relay_at_proxy) {
		*ss = r->cfg.upstream->addr;
		*len = r->cfg.upstream->addrlen;
		if (ss->ss_family == AF_INET6)
			((struct sockaddr_in6 *)ss)->sin6_port = htons(bnd->port);
		else
			((struct sockaddr_in *)ss)->sin_port = htons(bnd->port);
		return 0;
	}
	memset(ss, 0, sizeof(*ss));
	if (bnd->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, bnd->addr, 16);
		s6->sin6_port = htons(bnd->port);
		*len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, bnd->addr, 4);
		s4->sin_port = htons(bnd->port);
		*len = sizeof(*s4);
	}
	return 0;
}

/* The handshake is done: open the relay socket and send what waited. */
static int assoc_ready(struct assoc *a)
{
	struct udp_relay *r = a->r;
	struct sockaddr_storage ss;
	struct proxy_dest bnd;
	socklen_t sl;
	int fd, ret;

	ret = upstream_udp_relay(a->ctl, &bnd);
	if (ret < 0)
		return ret;
	ret = relay_addr(r, &bnd, &ss, &sl);
	if (ret < 0)
		return ret;
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	a->dgram.cb = dgram_readable;
	ret = loop_io_add(r->loop, &a->dgram, fd, EPOLLIN);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	/* The control connection now only tells us when the association ends. */
	ret = upstream_events(a->ctl, EPOLLIN);
	if (ret < 0)
		return ret;
	a->state = A_READY;
	a->last = r->loop->now;
	loop_timer_set(r->loop, &a->timer, r->loop->now + timeout_ms(r));
	log_debug("udp %u: association up", a->id);
	flush_queue(a);
	return 0;
}

/* Nothing follows the reply on the control connection: data is ignored. */
static void ctl_open(void *ctx, const uint8_t *data, size_t len)
{
	struct assoc *a = ctx;
	int ret;

	(void)data;
	(void)len;
	ret = assoc_ready(a);
	if (ret < 0)
		assoc_fail(a, ret);
}

static void ctl_fail(void *ctx, const struct upstream_fail *why)
{
	char text[UPFAIL_TEXT_MAX];

	assoc_fail_why(ctx, -why->err, upfail_describe(why, text, sizeof(text)));
}

static void ctl_io(void *ctx, uint32_t events)
{
	struct assoc *a = ctx;
	uint8_t sink[512];
	struct iovec iov = { .iov_base = sink, .iov_len = sizeof(sink) };
	ssize_t n;

	(void)events;
	if (a->state != A_READY)
		return;
	n = upstream_readv(a->ctl, &iov, 1);
	/* RFC 1928 §7: the association ends with its TCP connection. */
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		log_debug("udp %u: proxy closed the control connection", a->id);
		a->r->stats.assoc_closed++;
		assoc_kill(a);
	}
}

static const struct upstream_ops ctl_ops = {
	.on_open = ctl_open,
	.on_fail = ctl_fail,
	.on_io = ctl_io,
};

static void assoc_timer(struct timer *t)
{
	struct assoc *a = (struct assoc *)((char *)t - offsetof(struct assoc, timer));
	struct udp_relay *r = a->r;
	uint64_t due;

	if (a->state == A_FAILED) {
		assoc_kill(a); /* the next datagram tries again */
		return;
	}
	/* Re-armed lazily: a datagram only moves a->last, never the heap. */
	due = a->last + timeout_ms(r);
	if (due > r->loop->now) {
		loop_timer_set(r->loop, t, due);
		return;
	}
	log_debug("udp %u: idle, closed", a->id);
	r->stats.assoc_idle++;
	assoc_kill(a);
}

static struct assoc *assoc_new(struct udp_relay *r, int family, const uint8_t *addr, uint16_t port)
{
	struct proxy_dest any = { .family = r->cfg.upstream->addr.ss_family };
	struct assoc *a;
	size_t b;
	int ret;

	a = calloc(1, sizeof(*a));
	if (!a) {
		ret = -ENOMEM;
		goto err_log;
	}
	a->r = r;
	a->id = ++r->next_id;
	a->family = family;
	memcpy(a->app, addr, ip_addr_len(family));
	a->app_port = port;
	a->dgram.fd = -1;
	a->timer.cb = assoc_timer;
	a->ctl = upstream_new_udp(r->loop, r->cfg.upstream, &any, &ctl_ops, a, NULL);
	if (!a->ctl) {
		ret = -errno;
		free(a);
		goto err_log;
	}
	a->state = A_CONNECTING;
	b = bucket(r, family, addr, port);
	a->hnext = r->hash[b];
	r->hash[b] = a;
	list_add(&r->live, &a->node);
	r->count++;
	r->stats.assoc_total++;
	log_debug("udp %u: new association, connecting to proxy", a->id);
	return a;

err_log:
	r->stats.assoc_failed++;
	log_info("udp: cannot open an association: %s", strerror(-ret));
	return NULL;
}

bool udp_relay_input(struct udp_relay *r, const struct ip_view *v, const struct udp_view *u)
{
	uint8_t hdr[SOCKS5_UDP_HDR_MAX];
	struct proxy_dest dst = { .family = v->family };
	struct dnspool_entry *fake = NULL;
	const struct udp_view d = *u;
	struct assoc *a;
	int hl;

	if (!unicast(v->family, v->dst) || d.dport == 0) {
		r->stats.bad_in++;
		return false;
	}
	memcpy(dst.addr, v->dst, ip_addr_len(v->family));
	dst.port = d.dport;
	if (r->cfg.pool && dnspool_contains(r->cfg.pool, v->family, v->dst)) {
		/* A virtual-DNS address: the proxy gets the name (SOCKS5 ATYP 3). */
		fake = dnspool_get(r->cfg.pool, v->family, v->dst, r->loop->now);
		if (!fake) {
			r->stats.stale_fake++; /* expired: never guess a destination */
			return false;
		}
		dst.family = 0;
		snprintf(dst.name, sizeof(dst.name), "%s", dnspool_entry_name(fake));
	}
	hl = socks5_build_udp_hdr(hdr, sizeof(hdr), &dst);
	if (hl < 0) {
		r->stats.bad_in++;
		goto refused;
	}
	a = lookup(r, v->family, v->src, d.sport);
	if (!a) {
		if (r->count >= r->cfg.max_assoc) {
			r->stats.limit_dropped++;
			goto refused;
		}
		a = assoc_new(r, v->family, v->src, d.sport);
		if (!a)
			goto refused;
	}
	if (a->state == A_FAILED) {
		r->stats.failed_dropped++;
		goto refused;
	}
	peer_note(a, v->family, v->dst, d.dport, fake);
	a->last = r->loop->now;
	if (a->state != A_READY)
		enqueue(a, hdr, (size_t)hl, d.data, d.len);
	else
		send_dgram(a, hdr, (size_t)hl, d.data, d.len);
	return true;
refused:
	if (fake)
		dnspool_put(r->cfg.pool, fake, r->loop->now);
	return false;
}

/* ---- the relay ---- */

struct udp_relay *udp_relay_new(struct loop *loop, const struct udp_cfg *cfg, udp_output_fn *output,
				void *ctx)
{
	struct udp_relay *r;

	if (!cfg->upstream || cfg->upstream->proxy->type != PROXY_SOCKS5) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->loop = loop;
	r->cfg = *cfg;
	if (!r->cfg.max_assoc)
		r->cfg.max_assoc = UDP_MAX_ASSOC_DEFAULT;
	if (!r->cfg.mtu)
		r->cfg.mtu = 1500;
	r->output = output;
	r->ctx = ctx;
	for (r->nbuckets = 64; r->nbuckets < r->cfg.max_assoc && r->nbuckets < 65536;)
		r->nbuckets *= 2;
	r->hash = calloc(r->nbuckets, sizeof(*r->hash));
	r->buf = malloc(RELAY_BUF);
	if (!r->hash || !r->buf) {
		free(r->hash);
		free(r->buf);
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	if (getrandom(&r->hash_key, sizeof(r->hash_key), GRND_NONBLOCK) != sizeof(r->hash_key))
		r->hash_key = (uint64_t)(uintptr_t)r ^ loop_clock_ms();
	return r;
}

void udp_reap(struct udp_relay *r)
{
	struct assoc *a;

	if (!r)
		return;
	while (r->dead) {
		a = list_entry(r->dead, struct assoc, node);
		list_del(&r->dead, &a->node);
		upstream_free(a->ctl);
		free(a);
	}
}

void udp_relay_free(struct udp_relay *r)
{
	if (!r)
		return;
	while (r->live)
		assoc_kill(list_entry(r->live, struct assoc, node));
	udp_reap(r);
	free(r->hash);
	free(r->buf);
	free(r);
}

const struct udp_stats *udp_relay_stats(const struct udp_relay *r)
{
	return &r->stats;
}

size_t udp_relay_count(const struct udp_relay *r)
{
	return r->count;
}
