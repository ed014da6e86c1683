// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sessions: the proxy side of each flow. A session is born on the app's SYN,
 * connects to the proxy and runs the handshake while the SYN-ACK is held
 * back, then relays bytes between the flow's rings and the proxy socket.
 * Half-close is carried through: the app's FIN becomes shutdown(SHUT_WR)
 * once rx is written out, the proxy's EOF becomes our FIN after tx is sent.
 * A session is freed only in session_reap(), after the loop batch, so no
 * callback ever sees freed memory.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "proxy.h"
#include "resolver.h"
#include "session.h"

enum session_state {
	S_CONNECTING,
	S_HANDSHAKE,
	S_RELAY,
	S_LOCAL, /* no proxy: DNS over TCP answered by resolver.c */
	S_DEAD,
	S_STATE_MAX,
};

struct session {
	struct loop_io io;	     /* the proxy socket */
	struct session *next, *prev; /* engine->sessions, or engine->dead via next */
	struct engine *eng;
	struct tcp_conn *conn; /* NULL once detached */
	enum session_state state;
	struct proxy_hs *hs; /* during the handshake only: 2.3 KiB an idle flow need not keep */
	struct timer hs_timer;
	uint32_t id;
	bool proxy_eof;	 /* proxy sent FIN: tcp_shutdown done */
	bool shut_wr;	 /* app's FIN passed on to the proxy */
	bool tcp_done;	 /* on_close(0) seen: flush rx, then go */
	bool rx_pending; /* on engine->rx_pending: write rx out after the batch */
	struct session *rx_next;
	struct dnspool_entry *fake;    /* the name behind a fake address, held */
	uint64_t born;		       /* loop ms at the SYN */
	uint64_t bytes_up, bytes_down; /* app -> proxy, proxy -> app (relay only) */
};

/* The handshake's state, freed once the tunnel is up or the session dies. */
static void hs_release(struct session *s)
{
	if (!s->hs)
		return;
	proxy_hs_free(s->hs);
	free(s->hs);
	s->hs = NULL;
}

static const char *dest_str(const struct tcp_conn *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->laddr, a, sizeof(a));
	snprintf(buf, len, c->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, c->lport);
	return buf;
}

static void session_kill(struct session *s)
{
	struct engine *e = s->eng;
	int fd;

	if (s->state == S_DEAD)
		return;
	fd = s->io.fd;

	s->state = S_DEAD;
	loop_io_del(e->loop, &s->io); /* fd = -1: later events in this batch are skipped */
	if (fd >= 0)
		close(fd);
	loop_timer_cancel(e->loop, &s->hs_timer);
	hs_release(s);
	resolver_tcp_done(e, s->fake);
	s->fake = NULL;
	if (s->conn) {
		tcp_detach(s->conn);
		s->conn = NULL;
	}
	/* unlink from live list, push on dead list */
	if (s->prev)
		s->prev->next = s->next;
	else
		e->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->prev = NULL;
	s->next = e->dead;
	e->dead = s;
}

/* Closes the proxy socket with an RST rather than a FIN (the app reset). */
static void close_reset(struct session *s)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (s->io.fd >= 0)
		setsockopt(s->io.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

static void update_io(struct session *s)
{
	uint32_t ev = 0;

	if (s->state == S_DEAD)
		return;
	if (s->state == S_CONNECTING) {
		ev = EPOLLOUT;
	} else if (s->state == S_HANDSHAKE) {
		const uint8_t *p;

		ev = EPOLLIN | (proxy_hs_pending(s->hs, &p) ? EPOLLOUT : 0);
	} else {
		if (!s->proxy_eof && s->conn && ring_space(&s->conn->tx))
			ev |= EPOLLIN;
		if (s->conn && s->conn->rx.len)
			ev |= EPOLLOUT;
	}
	if (loop_io_mod(s->eng->loop, &s->io, ev) < 0) {
		log_warn("session %u: epoll", s->id);
		if (s->conn)
			tcp_abort(s->conn);
		s->conn = NULL;
		session_kill(s);
	}
}

static void fail(struct session *s, int err)
{
	char d[64];

	s->eng->stats.sessions_failed++;
	if (s->conn) {
		log_info("session %u: tunnel to %s failed: %s", s->id,
			 dest_str(s->conn, d, sizeof(d)), strerror(-err));
		tcp_reject(s->conn); /* app sees connection refused */
		s->conn = NULL;
	}
	session_kill(s);
}

/* Maybe finish: everything the app sent is out, and TCP is through. */
static void maybe_done(struct session *s)
{
	if (s->conn && s->conn->rx.len)
		return;
	if (s->conn && tcp_fin_received(s->conn) && !s->shut_wr) {
		shutdown(s->io.fd, SHUT_WR);
		s->shut_wr = true;
	}
	if (s->tcp_done)
		session_kill(s);
}

/* rx -> proxy. Returns false if the session died. */
static bool flush_rx(struct session *s)
{
	struct tcp_conn *c = s->conn;

	while (c && c->rx.len) {
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov };
		ssize_t n;

		mh.msg_iovlen = (size_t)ring_peek(&c->rx, 0, c->rx.len, iov);
		n = sendmsg(s->io.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			log_info("session %u: proxy write: %s", s->id, strerror(errno));
			tcp_abort(c);
			s->conn = NULL;
			session_kill(s);
			return false;
		}
		s->bytes_up += (uint64_t)n;
		tcp_rx_consume(c, (size_t)n);
	}
	maybe_done(s);
	return s->state != S_DEAD;
}

/* proxy -> tx. */
static void fill_tx(struct session *s)
{
	struct tcp_conn *c = s->conn;
	struct iovec iov[2];
	ssize_t n;
	int cnt;

	if (!c || s->proxy_eof)
		return;
	cnt = ring_reserve(&c->tx, iov);
	if (cnt <= 0) {
		if (cnt < 0) {
			tcp_abort(c);
			s->conn = NULL;
			session_kill(s);
		}
		return;
	}
	n = readv(s->io.fd, iov, cnt);
	if (n > 0) {
		s->bytes_down += (uint64_t)n;
		ring_commit(&c->tx, (size_t)n);
		tcp_kick(c);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == 0) {
		s->proxy_eof = true;
		tcp_shutdown(c);
		return;
	}
	/* Upstream reset: the app gets a reset too, not a clean FIN. */
	log_info("session %u: proxy read: %s", s->id, strerror(errno));
	tcp_abort(c);
	s->conn = NULL;
	session_kill(s);
}

static void handshake_output(struct session *s);

static void handshake_input(struct session *s)
{
	uint8_t buf[HTTP_MAX_HDR];
	const uint8_t *p;
	size_t used = 0;
	ssize_t n;
	int ret;

	n = recv(s->io.fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		fail(s, -errno);
		return;
	}
	if (n == 0) {
		fail(s, -ECONNRESET);
		return;
	}
	ret = proxy_hs_input(s->hs, buf, (size_t)n, &used);
	if (ret < 0) {
		fail(s, ret);
		return;
	}
	if (ret == 0)
		return;
	/*
	 * A proxy may answer ahead (all SOCKS5 replies in one read): what is
	 * still queued, e.g. the CONNECT request, goes out before any app
	 * byte. Under 2 KiB in an empty socket buffer; if not, no tunnel.
	 */
	handshake_output(s);
	if (s->state == S_DEAD)
		return;
	if (proxy_hs_pending(s->hs, &p)) {
		fail(s, -ENOBUFS);
		return;
	}
	/* Tunnel open: bytes after the reply are already the far end's data. */
	hs_release(s);
	loop_timer_cancel(s->eng->loop, &s->hs_timer);
	s->state = S_RELAY;
	if ((size_t)n > used &&
	    ring_write(&s->conn->tx, buf + used, (size_t)n - used) != (long)((size_t)n - used)) {
		fail(s, -ENOMEM);
		return;
	}
	s->bytes_down += (uint64_t)n - used;
	tcp_accept(s->conn);
	log_debug("session %u: tunnel up", s->id);
}

static void handshake_output(struct session *s)
{
	const uint8_t *p;
	size_t len = s->hs ? proxy_hs_pending(s->hs, &p) : 0;
	ssize_t n;

	if (!len)
		return;
	n = send(s->io.fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fail(s, -errno);
		return;
	}
	proxy_hs_sent(s->hs, (size_t)n);
}

static void session_io(struct loop_io *io, uint32_t events)
{
	struct session *s = (struct session *)io;
	int err = 0;
	socklen_t len = sizeof(err);

	switch (s->state) {
	case S_CONNECTING:
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			fail(s, -err);
			return;
		}
		s->state = S_HANDSHAKE;
		handshake_output(s);
		break;
	case S_HANDSHAKE:
		if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			handshake_input(s);
		if (s->state == S_HANDSHAKE && (events & EPOLLOUT))
			handshake_output(s);
		/* SOCKS5 may have queued its next request during input. */
		if (s->state == S_HANDSHAKE)
			handshake_output(s);
		break;
	case S_RELAY:
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			if (!flush_rx(s))
				return;
		if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			fill_tx(s);
		break;
	case S_LOCAL: /* no socket */
	case S_DEAD:
	case S_STATE_MAX:
		return;
	}
	update_io(s);
}

static void hs_timeout(struct timer *t)
{
	struct session *s = (struct session *)((char *)t - offsetof(struct session, hs_timer));

	fail(s, -ETIMEDOUT);
}

/* ---- TCP stack callbacks ---- */

/* The proxy side gets the same keepalive as the app side: a dead path is noticed. */
static void proxy_keepalive(const struct engine *e, int fd)
{
	const struct tcp_cfg *t = &e->cfg.tcp;
	uint32_t idle = t->ka_idle_ms ? t->ka_idle_ms : TCP_KA_IDLE_MS_DEFAULT;
	int one = 1, v;

	if (idle == UINT32_MAX)
		return;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	v = (int)((idle + 999) / 1000);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v));
	v = (int)(((t->ka_intvl_ms ? t->ka_intvl_ms : TCP_KA_INTVL_MS_DEFAULT) + 999) / 1000);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v));
	v = (int)(t->ka_cnt ? t->ka_cnt : TCP_KA_CNT_DEFAULT);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v));
}

static void *on_syn(void *ctx, struct tcp_conn *c)
{
	struct engine *e = ctx;
	struct session *s;
	struct proxy_dest d = { .family = c->family, .port = c->lport };
	int fd, one = 1, ret;

	if (e->draining)
		return NULL; /* the command has exited: RST */
	memcpy(d.addr, c->laddr, ip_addr_len(c->family));
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->eng = e;
	s->conn = c;
	s->id = c->id;
	s->born = e->loop->now;
	s->io.fd = -1;
	s->io.cb = session_io;
	s->hs_timer.cb = hs_timeout;
	/* A fake address (virtual DNS) goes to the proxy by name. */
	ret = resolver_tcp_dest(e, c, &d, &s->fake);
	if (ret < 0)
		goto err;
	if (ret == RESOLVER_LOCAL) {
		s->state = S_LOCAL;
		s->next = e->sessions;
		if (e->sessions)
			e->sessions->prev = s;
		e->sessions = s;
		tcp_accept(c); /* nothing to wait for: SYN-ACK at this batch's flush */
		return s;
	}
	if (ret)
		log_debug("session %u: to %s:%u by name", s->id, d.name, d.port);
	s->hs = calloc(1, sizeof(*s->hs));
	ret = s->hs ? proxy_hs_init(s->hs, e->cfg.proxy, &d) : -ENOMEM;
	if (ret < 0)
		goto err_hs;
	fd = socket(e->cfg.proxy_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		log_warn("session %u: proxy socket", s->id); /* EMFILE: app gets an RST */
		goto err_hs;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	proxy_keepalive(e, fd);
	if (connect(fd, (struct sockaddr *)&e->cfg.proxy_addr, e->cfg.proxy_addrlen) < 0 &&
	    errno != EINPROGRESS) {
		ret = -errno;
		close(fd);
		goto err_hs;
	}
	ret = loop_io_add(e->loop, &s->io, fd, EPOLLOUT);
	if (ret < 0) {
		close(fd);
		goto err_hs;
	}
	s->next = e->sessions;
	if (e->sessions)
		e->sessions->prev = s;
	e->sessions = s;
	e->stats.sessions_total++;
	loop_timer_set(e->loop, &s->hs_timer, e->loop->now + e->cfg.hs_timeout_ms);
	log_debug("session %u: new flow, connecting to proxy", s->id);
	return s;

err_hs:
	hs_release(s);
	resolver_tcp_done(e, s->fake);
err:
	log_debug("session %u: refused: %s", s->id, strerror(-ret));
	e->stats.sessions_failed++;
	free(s);
	return NULL;
}

/*
 * The app's data is written to the proxy once per loop batch, not once per
 * segment: one sendmsg() for everything a TUN read batch brought.
 */
/* S_LOCAL: the resolver serves the flow; false once it was aborted. */
static void local_io(struct session *s)
{
	if (s->conn && !resolver_tcp_local(s->eng, s->conn)) {
		s->conn = NULL;
		session_kill(s);
	}
}

static void on_data(void *user)
{
	struct session *s = user;

	if (s->state == S_LOCAL) {
		local_io(s);
		return;
	}
	if (s->state != S_RELAY || s->rx_pending)
		return;
	s->rx_pending = true;
	s->rx_next = s->eng->rx_pending;
	s->eng->rx_pending = s;
}

void session_flush_pending(struct engine *e)
{
	struct session *s;

	while ((s = e->rx_pending)) {
		e->rx_pending = s->rx_next;
		s->rx_pending = false;
		if (s->state == S_RELAY && flush_rx(s))
			update_io(s);
	}
}

static void on_sent(void *user)
{
	struct session *s = user;

	if (s->state == S_LOCAL)
		local_io(s);
	if (s->state == S_RELAY)
		update_io(s);
}

static void on_fin(void *user)
{
	struct session *s = user;

	if (s->state == S_LOCAL)
		local_io(s);
	if (s->state != S_RELAY)
		return;
	maybe_done(s);
	if (s->state != S_DEAD)
		update_io(s);
}

static void on_close(void *user, int err)
{
	struct session *s = user;

	if (s->state == S_DEAD)
		return;
	if (err) {
		log_debug("session %u: app side closed: %s", s->id, strerror(-err));
		close_reset(s);
		session_kill(s);
		return;
	}
	s->tcp_done = true;
	if (s->state != S_RELAY) {
		session_kill(s);
		return;
	}
	if (flush_rx(s))
		update_io(s);
}

static void on_output(void *ctx, const struct iovec *iov, int iovcnt, const struct tcp_out *o)
{
	engine_output(ctx, iov, iovcnt, o);
}

const struct tcp_ops session_tcp_ops = {
	.on_syn = on_syn,
	.on_data = on_data,
	.on_sent = on_sent,
	.on_fin = on_fin,
	.on_close = on_close,
	.output = on_output,
};

void session_reap(struct engine *e)
{
	struct session *s;

	while ((s = e->dead)) {
		e->dead = s->next;
		free(s);
	}
}

size_t session_undelivered(const struct engine *e)
{
	const struct session *s;
	size_t n = 0;

	for (s = e->sessions; s; s = s->next)
		if (s->state == S_RELAY && s->conn && !s->shut_wr)
			n++;
	return n;
}

void session_close_all(struct engine *e)
{
	e->rx_pending = NULL; /* the sessions on it are closed below */
	while (e->sessions) {
		struct session *s = e->sessions;

		if (s->state == S_RELAY && s->shut_wr) {
			/*
			 * Everything the app sent is in the socket: close with a
			 * FIN so the kernel still delivers it. Unread input would
			 * turn close() into an RST that drops the send queue.
			 */
			char sink[4096];

			while (recv(s->io.fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
				;
		} else {
			close_reset(s);
		}
		session_kill(s);
	}
	session_reap(e);
}

const struct session *session_next(const struct engine *e, const struct session *prev)
{
	return prev ? prev->next : e->sessions;
}

void session_info(const struct session *s, uint64_t now, struct session_info *out)
{
	/* In enum order, one per state: a state added without a name fails the build. */
	static const char *const phase[] = {
		"connecting", "handshake", "relay", "local", "closed",
	};
	const struct tcp_conn *c = s->conn;

	_Static_assert(sizeof(phase) / sizeof(phase[0]) == S_STATE_MAX, "a phase per state");
	memset(out, 0, sizeof(*out));
	out->id = s->id;
	out->phase = phase[s->state];
	out->tcp_state = c ? tcp_state_name(c->state) : "DETACHED";
	out->bytes_up = s->bytes_up;
	out->bytes_down = s->bytes_down;
	out->age_ms = now > s->born ? now - s->born : 0;
	if (!c)
		return;
	out->family = c->family;
	memcpy(out->src, c->raddr, sizeof(out->src));
	memcpy(out->dst, c->laddr, sizeof(out->dst));
	out->sport = c->rport;
	out->dport = c->lport;
}
