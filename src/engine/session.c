// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sessions: the proxy side of each flow (see session.h). The upstream does
 * the connect and the handshake; here the SYN-ACK waits for it, then bytes
 * are relayed between the flow's rings and the tunnel. Half-close is
 * carried through: the app's FIN becomes shutdown(SHUT_WR) once rx is
 * written out, the proxy's EOF becomes our FIN after tx is sent.
 *
 * Waiting: a flow the handshake window (hswin.h) has no room for, or that
 * got no socket (the open-files limit), is queued in arrival order with
 * its SYN unanswered; session_reap starts the queue's head as places free.
 * A waiting flow is reset only when the proxy has answered nothing for the
 * handshake timeout while it waited (as a handshake timing out would be),
 * and let go when its app stopped resending the SYN (SESSION_GAVE_UP_MS).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "hswin.h"
#include "list.h"
#include "log.h"
#include "resolver.h"
#include "session.h"
#include "upfail.h"

enum session_state {
	S_WAITING,    /* queued for the window or a socket: no upstream yet */
	S_CONNECTING, /* the upstream connects and runs the handshake */
	S_RELAY,
	S_LOCAL, /* no proxy: DNS over TCP answered by resolver.c */
	S_DEAD,
	S_STATE_MAX,
};

struct session {
	struct list_node node; /* t->live, or t->dead */
	struct session_table *t;
	struct tcp_conn *conn; /* NULL once detached */
	struct upstream *up;   /* NULL for S_LOCAL; freed with the session */
	enum session_state state;
	uint32_t id;
	bool proxy_eof;	 /* proxy sent FIN: tcp_shutdown done */
	bool shut_wr;	 /* app's FIN passed on to the proxy */
	bool tcp_done;	 /* on_close(0) seen: flush rx, then go */
	bool rx_pending; /* on t->rx_pending: write rx out after the batch */
	bool slow;	 /* the connect needed a second SYN: a loss already told the window */
	struct session *rx_next;
	struct session *qnext, *qprev; /* t's wait queue (S_WAITING) */
	struct proxy_dest *dest;       /* S_WAITING: where it goes once started */
	uint64_t ticket;	       /* the window's, while the handshake runs; 0 = none */
	uint64_t hs_at;		       /* loop ms when the handshake started */
	struct dnspool_entry *fake;    /* the name behind a fake address, held */
	uint64_t born;		       /* loop ms at the SYN */
	uint64_t bytes_up, bytes_down; /* app -> proxy, proxy -> app (relay only) */
	uint64_t last_flush;	       /* loop ms: rx last handed to the proxy (window opened) */
};

struct session_table {
	struct loop *loop;
	struct session_cfg cfg;
	session_output_fn *output;
	void *ctx;
	struct list_node *live;	    /* sessions */
	struct list_node *dead;	    /* freed at the end of each loop batch */
	struct session *rx_pending; /* got app data this batch */
	size_t count;		    /* live */
	bool refuse;		    /* session_refuse_new: the command has exited */
	struct session_stats stats;
	struct hswin win;	       /* proxy handshakes in flight */
	struct session *qhead, *qtail; /* waiting flows, oldest first */
	size_t nwaiting;
	bool starved;	      /* no socket at the last try (EMFILE...): wait for one to close */
	struct timer tick;    /* SESSION_TICK_MS while flows wait or handshakes run */
	uint64_t log_at;      /* the last line about waiting flows; 0 = none yet */
	uint64_t held_logged; /* stats.held at that line */
	uint32_t hs_timeout;  /* ms: the upstream's handshake timeout */
};

/* Where s goes: "203.0.113.5:443", or the name behind a fake address (virtual DNS). */
static const char *dest_str(const struct session *s, char *buf, size_t len)
{
	const struct tcp_conn *c = s->conn;
	char a[INET6_ADDRSTRLEN];

	if (s->fake) {
		snprintf(buf, len, "%s:%u", dnspool_entry_name(s->fake), c->lport);
		return buf;
	}
	inet_ntop(c->family, c->laddr, a, sizeof(a));
	snprintf(buf, len, c->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, c->lport);
	return buf;
}

static struct session *sess(struct list_node *n)
{
	return n ? list_entry(n, struct session, node) : NULL;
}

static void link_live(struct session *s)
{
	list_add(&s->t->live, &s->node);
	s->t->count++;
}

static void queue_tail(struct session_table *t, struct session *s)
{
	s->qnext = NULL;
	s->qprev = t->qtail;
	if (t->qtail)
		t->qtail->qnext = s;
	else
		t->qhead = s;
	t->qtail = s;
	t->nwaiting++;
}

static void queue_head(struct session_table *t, struct session *s)
{
	s->qprev = NULL;
	s->qnext = t->qhead;
	if (t->qhead)
		t->qhead->qprev = s;
	else
		t->qtail = s;
	t->qhead = s;
	t->nwaiting++;
}

static void queue_del(struct session_table *t, struct session *s)
{
	if (s->qprev)
		s->qprev->qnext = s->qnext;
	else
		t->qhead = s->qnext;
	if (s->qnext)
		s->qnext->qprev = s->qprev;
	else
		t->qtail = s->qprev;
	s->qnext = s->qprev = NULL;
	t->nwaiting--;
}

/* The handshake's place in the window is given back (once). */
static void win_done(struct session *s, bool answered)
{
	if (!s->ticket)
		return;
	hswin_done(&s->t->win, answered && !s->slow, s->t->loop->now);
	s->ticket = 0;
}

static void tick_arm(struct session_table *t)
{
	if (!timer_armed(&t->tick) && (t->qhead || t->win.inflight))
		loop_timer_set(t->loop, &t->tick, t->loop->now + SESSION_TICK_MS);
}

/* Closes the tunnel (reset: with an RST) and moves s to the dead list. */
static void kill_session(struct session *s, bool reset)
{
	struct session_table *t = s->t;

	if (s->state == S_DEAD)
		return;
	if (s->state == S_WAITING)
		queue_del(t, s);
	free(s->dest);
	s->dest = NULL;
	win_done(s, false);
	s->state = S_DEAD;
	if (s->up)
		upstream_close(s->up, reset);
	if (t->cfg.resolver)
		resolver_tcp_done(t->cfg.resolver, s->fake);
	s->fake = NULL;
	if (s->conn) {
		tcp_detach(s->conn);
		s->conn = NULL;
	}
	list_move(&t->live, &t->dead, &s->node);
	t->count--;
}

/* The tunnel broke or the relay cannot go on: the app gets a reset. */
static void abort_session(struct session *s)
{
	if (s->conn)
		tcp_abort(s->conn);
	s->conn = NULL;
	kill_session(s, false);
}

static void update_io(struct session *s)
{
	uint32_t ev = 0;

	if (s->state != S_RELAY)
		return;
	if (!s->proxy_eof && s->conn && ring_space(&s->conn->tx))
		ev |= EPOLLIN;
	if (s->conn && s->conn->rx.len)
		ev |= EPOLLOUT;
	if (upstream_events(s->up, ev) < 0) {
		log_warn("session %u: epoll", s->id);
		abort_session(s);
	}
}

/* Maybe finish: everything the app sent is out, and TCP is through. */
static void maybe_done(struct session *s)
{
	if (s->conn && s->conn->rx.len)
		return;
	if (s->conn && tcp_fin_received(s->conn) && !s->shut_wr) {
		upstream_shutdown(s->up);
		s->shut_wr = true;
	}
	if (s->tcp_done)
		kill_session(s, false);
}

/* rx -> proxy. Returns false if the session died. */
static bool flush_rx(struct session *s)
{
	struct tcp_conn *c = s->conn;

	while (c && c->rx.len) {
		struct iovec iov[2];
		int cnt = ring_peek(&c->rx, 0, c->rx.len, iov);
		ssize_t n = upstream_writev(s->up, iov, cnt);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			log_info("session %u: proxy write: %s", s->id, strerror(errno));
			abort_session(s);
			return false;
		}
		s->bytes_up += (uint64_t)n;
		s->last_flush = s->t->loop->now;
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
		if (cnt < 0)
			abort_session(s);
		return;
	}
	n = upstream_readv(s->up, iov, cnt);
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
	abort_session(s);
}

/* ---- the upstream's callbacks ---- */

/* No tunnel (err: positive errno): the app's connect() is refused. */
static void reject(struct session *s, int err)
{
	char d[URL_HOST_MAX + 16];

	s->t->stats.failed++;
	if (s->conn) {
		log_info("session %u: tunnel to %s failed: %s", s->id, dest_str(s, d, sizeof(d)),
			 strerror(err));
		tcp_reject(s->conn); /* app sees connection refused */
		s->conn = NULL;
	}
	kill_session(s, false);
}

/*
 * The proxy could not open the tunnel: the app's connect() fails with the
 * errno closest to what the proxy said (upfail_app_errno). The default-level
 * line is the upstream's report; this one is per session (-v).
 */
/*
 * Did the proxy itself fail to keep up? Its connect refused, dropped or
 * timed out, or no answer (or a close) before its own first reply, which
 * does not wait for the destination (for SOCKS5 the method reply; HTTP
 * CONNECT has none of its own, so only the connect counts). A refusal the
 * proxy sends is an answer: it kept up.
 */
static bool proxy_lost(const struct upstream_fail *why)
{
	if (why->stage == UPSTREAM_CONNECT)
		return true;
	if (why->stage != UPSTREAM_TIMEOUT && why->stage != UPSTREAM_CLOSED)
		return false;
	return why->during == UPSTREAM_CONNECT || why->during == UPSTREAM_SOCKS5_METHOD ||
	       why->during == UPSTREAM_SOCKS5_AUTH;
}

static void up_fail(void *ctx, const struct upstream_fail *why)
{
	struct session *s = ctx;
	char text[UPFAIL_TEXT_MAX];
	int err = upfail_app_errno(why);
	bool lost = proxy_lost(why);

	if (lost && s->ticket && !s->slow)
		hswin_loss(&s->t->win, s->ticket, s->t->loop->now);
	win_done(s, !lost && why->stage != UPSTREAM_LOCAL);
	s->t->stats.failed++;
	if (s->conn) {
		log_info("session %u: %s", s->id, upfail_describe(why, text, sizeof(text)));
		if (err == EHOSTUNREACH || err == ENETUNREACH)
			tcp_unreach(s->conn,
				    err == EHOSTUNREACH ? ICMP_UNREACH_HOST : ICMP_UNREACH_NET);
		else
			tcp_reject(s->conn); /* ECONNREFUSED */
		s->conn = NULL;
	}
	kill_session(s, false);
}

static void up_open(void *ctx, const uint8_t *data, size_t len)
{
	struct session *s = ctx;

	win_done(s, true);
	/* Bytes after the reply are already the far end's data. */
	if (len && ring_write(&s->conn->tx, data, len) != (long)len) {
		reject(s, ENOMEM);
		return;
	}
	s->state = S_RELAY;
	s->bytes_down += len;
	tcp_accept(s->conn);
	log_debug("session %u: tunnel up", s->id);
	update_io(s);
}

static void up_io(void *ctx, uint32_t events)
{
	struct session *s = ctx;

	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		if (!flush_rx(s))
			return;
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		fill_tx(s);
	update_io(s);
}

static const struct upstream_ops session_up_ops = {
	.on_open = up_open,
	.on_fail = up_fail,
	.on_io = up_io,
};

/* ---- TCP stack callbacks ---- */

/* No socket for now, or no local port: wait for one to close rather than refuse. */
static bool resource_errno(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM ||
	       err == EADDRNOTAVAIL || err == EAGAIN;
}

/*
 * The proxy connect of s, to d: 1 started, 0 no socket now (s waits), -1
 * failed at once (errno set: the app is refused, as a failed connect is).
 */
static int start_upstream(struct session *s, const struct proxy_dest *d)
{
	struct session_table *t = s->t;
	struct upstream_fail why;

	s->up = upstream_new(t->loop, t->cfg.upstream, d, &session_up_ops, s, &why);
	if (!s->up) {
		int err = errno;

		if (resource_errno(err)) {
			t->starved = true;
			errno = err;
			return 0;
		}
		if (why.stage == UPSTREAM_CONNECT) { /* refused at once: a loss like any */
			hswin_loss(&t->win, hswin_start(&t->win), t->loop->now);
			hswin_done(&t->win, false, t->loop->now);
		}
		log_warnx("session %u: proxy socket: %s", s->id, strerror(err));
		errno = err;
		return -1;
	}
	s->ticket = hswin_start(&t->win);
	s->hs_at = t->loop->now;
	s->state = S_CONNECTING;
	t->stats.total++;
	tick_arm(t);
	log_debug("session %u: connecting to proxy", s->id);
	return 1;
}

/* At most one line a minute, at the default level: who waits, and for what. */
static void wait_log(struct session_table *t)
{
	uint64_t now = t->loop->now, n = t->stats.held - t->held_logged;

	if (t->log_at && now - t->log_at < SESSION_WAIT_LOG_MS)
		return;
	t->log_at = now;
	t->held_logged = t->stats.held;
	if (t->starved)
		log_notice(
			"proxy: %zu connection(s) wait for a socket (%llu since the last such "
			"line): the engine is at its open-files limit (%u; one per proxied "
			"connection): raise it with ulimit -n, or LimitNOFILE= in a systemd unit",
			t->nwaiting, (unsigned long long)n, t->cfg.nofile);
	else if (t->win.size >= t->win.cap)
		log_notice(
			"proxy: %zu connection(s) wait for their proxy handshake (%llu since "
			"the last such line): %u in flight, the --max-pending cap: raise it with "
			"--max-pending",
			t->nwaiting, (unsigned long long)n, t->win.inflight);
	else
		log_notice("proxy: %zu connection(s) wait for their proxy handshake (%llu since "
			   "the last such line): %u in flight, as many as the proxy keeps up with "
			   "(the window follows it, up to --max-pending %u)",
			   t->nwaiting, (unsigned long long)n, t->win.inflight, t->win.cap);
}

/* s waits (SYN-PENDING, its SYN unanswered) for a place; d is copied. False: no memory. */
static bool hold(struct session *s, const struct proxy_dest *d)
{
	struct session_table *t = s->t;

	s->dest = malloc(sizeof(*s->dest));
	if (!s->dest)
		return false;
	*s->dest = *d;
	s->state = S_WAITING;
	queue_tail(t, s);
	t->stats.held++;
	tick_arm(t);
	wait_log(t);
	log_debug("session %u: waits for %s", s->id,
		  t->starved ? "a socket" : "a place in the handshake window");
	return true;
}

static void *on_syn(void *ctx, struct tcp_conn *c)
{
	struct session_table *t = ctx;
	struct session *s;
	struct proxy_dest d = { .family = c->family, .port = c->lport };
	int ret = 0;

	if (t->refuse)
		return NULL; /* the command has exited: RST */
	memcpy(d.addr, c->laddr, ip_addr_len(c->family));
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->t = t;
	s->conn = c;
	s->id = c->id;
	s->born = t->loop->now;
	/* A fake address (virtual DNS) goes to the proxy by name. */
	if (t->cfg.resolver)
		ret = resolver_tcp_dest(t->cfg.resolver, c, &d, &s->fake);
	if (ret < 0)
		goto err;
	if (ret == RESOLVER_LOCAL) {
		s->state = S_LOCAL;
		link_live(s);
		tcp_accept(c); /* nothing to wait for: SYN-ACK at this batch's flush */
		return s;
	}
	if (ret)
		log_debug("session %u: to %s:%u by name", s->id, d.name, d.port);
	/* In arrival order: nobody overtakes a flow already waiting. */
	if (!t->qhead && !t->starved && hswin_room(&t->win)) {
		ret = start_upstream(s, &d);
		if (ret < 0) {
			ret = -errno; /* the app gets an RST */
			goto err;
		}
		if (ret > 0) {
			link_live(s);
			return s;
		}
	}
	if (!hold(s, &d)) {
		ret = -ENOMEM;
		goto err;
	}
	link_live(s);
	return s;

err:
	if (t->cfg.resolver)
		resolver_tcp_done(t->cfg.resolver, s->fake);
	log_debug("session %u: refused: %s", s->id, strerror(-ret));
	t->stats.failed++;
	free(s);
	return NULL;
}

/* Waiting flows into the window, oldest first, while it (and the open files) have room. */
static void pump(struct session_table *t)
{
	struct session *s;

	while ((s = t->qhead) && !t->starved && hswin_room(&t->win)) {
		int ret;

		queue_del(t, s);
		s->state = S_CONNECTING; /* for kill_session, until start_upstream says */
		ret = start_upstream(s, s->dest);
		if (ret == 0) {
			s->state = S_WAITING;
			queue_head(t, s); /* keeps its place */
			break;
		}
		free(s->dest);
		s->dest = NULL;
		if (ret < 0)
			reject(s, errno);
	}
}

/* A waiting flow given up on: reset (the app, if still there, hears it at once). */
static void expire(struct session *s, const char *why)
{
	log_debug("session %u: stopped waiting: %s", s->id, why);
	s->t->stats.hold_expired++;
	reject(s, ETIMEDOUT);
}

static void tick_cb(struct timer *tm)
{
	struct session_table *t =
		(struct session_table *)((char *)tm - offsetof(struct session_table, tick));
	uint64_t now = t->loop->now;
	bool silent = !t->win.last_answer || now - t->win.last_answer >= t->hs_timeout;
	struct list_node *i;
	struct session *s, *next;

	/* Connects the proxy's kernel did not answer at once: it is flooded. */
	if (t->win.inflight) {
		for (i = t->live; i; i = i->next) {
			s = list_entry(i, struct session, node);
			if (s->state == S_CONNECTING && s->ticket && !s->slow &&
			    now - s->hs_at >= SESSION_SLOW_CONNECT_MS &&
			    !upstream_connected(s->up)) {
				s->slow = true;
				hswin_loss(&t->win, s->ticket, now);
			}
		}
	}
	for (s = t->qhead; s; s = next) {
		next = s->qnext;
		if (silent && now - s->born >= t->hs_timeout)
			expire(s, "the proxy has answered nothing for the handshake timeout");
		else if (s->conn && now - s->conn->last_rcv >= SESSION_GAVE_UP_MS)
			expire(s, "its app stopped resending the SYN");
	}
	t->starved = false; /* a socket may have closed elsewhere (another engine, UDP, DNS) */
	if (t->qhead || t->win.inflight)
		loop_timer_set(t->loop, &t->tick, now + SESSION_TICK_MS);
}

/* S_LOCAL: the resolver serves the flow; it dies once the resolver aborted it. */
static void local_io(struct session *s)
{
	if (s->conn && !resolver_tcp_local(s->t->cfg.resolver, s->conn)) {
		s->conn = NULL;
		kill_session(s, false);
	}
}

/*
 * The app's data is written to the proxy once per loop batch, not once per
 * segment: one sendmsg() for everything a TUN read batch brought.
 */
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
	s->rx_next = s->t->rx_pending;
	s->t->rx_pending = s;
}

void session_flush_pending(struct session_table *t)
{
	struct session *s;

	while ((s = t->rx_pending)) {
		t->rx_pending = s->rx_next;
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
	update_io(s);
}

static void on_close(void *user, int err)
{
	struct session *s = user;

	if (s->state == S_DEAD)
		return;
	if (err) {
		log_debug("session %u: app side closed: %s", s->id, strerror(-err));
		kill_session(s, true); /* the app reset: so does the proxy's side */
		return;
	}
	s->tcp_done = true;
	if (s->state != S_RELAY) {
		kill_session(s, false);
		return;
	}
	if (flush_rx(s))
		update_io(s);
}

static void on_output(void *ctx, const struct iovec *iov, int iovcnt, const struct tcp_out *o)
{
	struct session_table *t = ctx;

	t->output(t->ctx, iov, iovcnt, o);
}

const struct tcp_ops session_tcp_ops = {
	.on_syn = on_syn,
	.on_data = on_data,
	.on_sent = on_sent,
	.on_fin = on_fin,
	.on_close = on_close,
	.output = on_output,
};

/* ---- the table ---- */

struct session_table *session_table_new(struct loop *loop, const struct session_cfg *cfg,
					session_output_fn *output, void *ctx)
{
	struct session_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->loop = loop;
	t->cfg = *cfg;
	t->output = output;
	t->ctx = ctx;
	hswin_init(&t->win, cfg->max_pending ? cfg->max_pending : SESSION_MAX_PENDING);
	t->hs_timeout = cfg->upstream && cfg->upstream->hs_timeout_ms ? cfg->upstream->hs_timeout_ms
								      : UPSTREAM_HS_TIMEOUT_MS;
	t->tick.cb = tick_cb;
	return t;
}

void session_reap(struct session_table *t)
{
	struct session *s;

	while ((s = sess(t->dead))) {
		list_del(&t->dead, &s->node);
		if (s->up)
			t->starved = false; /* its socket is closed: one is free */
		upstream_free(s->up);
		free(s);
	}
	if (t->qhead && !t->refuse)
		pump(t);
}

void session_table_free(struct session_table *t)
{
	if (!t)
		return;
	t->rx_pending = NULL; /* the sessions on it are closed below */
	while (t->live) {
		struct session *s = sess(t->live);
		bool delivered = s->state == S_RELAY && s->shut_wr;

		if (delivered) {
			/*
			 * Everything the app sent is in the socket: close with a
			 * FIN so the kernel still delivers it. Unread input would
			 * turn close() into an RST that drops the send queue.
			 */
			char sink[4096];
			struct iovec iov = { .iov_base = sink, .iov_len = sizeof(sink) };

			while (upstream_readv(s->up, &iov, 1) > 0)
				;
		}
		kill_session(s, !delivered);
	}
	t->refuse = true; /* nothing starts from here on */
	session_reap(t);
	loop_timer_cancel(t->loop, &t->tick);
	free(t);
}

void session_refuse_new(struct session_table *t)
{
	t->refuse = true;
}

/*
 * Still sending: bytes or a FIN not yet given to the proxy, a hole the app
 * will fill, or a segment from it (or a window we opened) within the last
 * SESSION_QUIET_MS: a closed socket's kernel sends what it holds at once,
 * ACK by ACK. Else idle: held open by a process the command left behind.
 */
static bool sending(const struct session *s, uint64_t now)
{
	const struct tcp_conn *c = s->conn;
	uint64_t last = c->last_rcv > s->last_flush ? c->last_rcv : s->last_flush;

	if (c->rx.len || c->nooo || (tcp_fin_received(c) && !s->shut_wr))
		return true;
	return now < last + SESSION_QUIET_MS;
}

size_t session_undelivered(const struct session_table *t, size_t *idle)
{
	struct list_node *i;
	size_t n = 0, quiet = 0;

	for (i = t->live; i; i = i->next) {
		const struct session *s = list_entry(i, struct session, node);

		if (s->state != S_RELAY || !s->conn || s->shut_wr)
			continue;
		if (sending(s, t->loop->now))
			n++;
		else
			quiet++;
	}
	if (idle)
		*idle = quiet;
	return n;
}

const struct session_stats *session_table_stats(const struct session_table *t)
{
	return &t->stats;
}

void session_window_get(const struct session_table *t, struct ctl_window *w)
{
	*w = (struct ctl_window){
		.size = t->win.size,
		.cap = t->win.cap,
		.in_flight = t->win.inflight,
		.waiting = t->nwaiting,
		.lowest = t->win.lowest,
		.highest = t->win.highest,
		.losses = t->win.losses,
	};
}

size_t session_count(const struct session_table *t)
{
	return t->count;
}

const struct session *session_next(const struct session_table *t, const struct session *prev)
{
	return sess(prev ? prev->node.next : t->live);
}

void session_info(const struct session *s, uint64_t now, struct ctl_conn *out)
{
	/* In enum order, one per state: a state added without a name fails the build. */
	static const char *const phase[] = { "waiting", "connecting", "relay", "local", "closed" };
	const struct tcp_conn *c = s->conn;

	_Static_assert(sizeof(phase) / sizeof(phase[0]) == S_STATE_MAX, "a phase per state");
	memset(out, 0, sizeof(*out));
	out->id = s->id;
	out->phase = phase[s->state];
	if (s->state == S_CONNECTING && upstream_connected(s->up))
		out->phase = "handshake";
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
	if (s->fake) /* the name the app asked for: more telling than 198.18.x.y */
		out->name = dnspool_entry_name(s->fake);
}
