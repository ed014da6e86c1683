// SPDX-License-Identifier: GPL-2.0-only
/*
 * The proxy connection (see upstream.h): connect, handshake, timeout, then
 * the tunnel's socket for its owner. The handshake itself is proxy.c's
 * (sans I/O); this file moves its bytes and turns its verdict into one of
 * two callbacks.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcp.h"
#include "upstream.h"

enum up_state {
	U_CONNECTING,
	U_HANDSHAKE,
	U_OPEN,
	U_CLOSED,
};

struct upstream {
	struct loop_io io; /* the proxy socket; first: the callback casts back */
	struct timer timer;
	struct loop *loop;
	const struct upstream_cfg *cfg;
	const struct upstream_ops *ops;
	void *ctx;
	enum up_state state;
	struct proxy_hs *hs; /* until open: 2.3 KiB an idle tunnel need not keep */
};

const char *upstream_stage_name(enum upstream_stage s)
{
	/* In enum order, one per stage: a stage added without a name fails the build. */
	static const char *const names[] = {
		"connect", "socks5-method", "socks5-auth", "socks5-reply", "http-reply",
		"timeout", "closed",	    "malformed",   "local",
	};

	_Static_assert(sizeof(names) / sizeof(names[0]) == UPSTREAM_STAGE_MAX, "a name per stage");
	return (unsigned)s < UPSTREAM_STAGE_MAX ? names[s] : "?";
}

/* The handshake step under way, as a stage. */
static enum upstream_stage step_of(const struct upstream *u)
{
	enum proxy_hs_state st;

	if (u->state == U_CONNECTING || !u->hs)
		return UPSTREAM_CONNECT;
	st = u->hs->state == HS_FAILED ? u->hs->fail.step : u->hs->state;
	switch (st) {
	case HS_SOCKS5_METHOD:
		return UPSTREAM_SOCKS5_METHOD;
	case HS_SOCKS5_AUTH:
		return UPSTREAM_SOCKS5_AUTH;
	case HS_SOCKS5_REPLY:
		return UPSTREAM_SOCKS5_REPLY;
	case HS_HTTP_REPLY:
	default:
		return UPSTREAM_HTTP_REPLY;
	}
}

static void hs_release(struct upstream *u)
{
	if (!u->hs)
		return;
	proxy_hs_free(u->hs);
	free(u->hs);
	u->hs = NULL;
}

void upstream_close(struct upstream *u, bool reset)
{
	int fd = u->io.fd;

	if (u->state == U_CLOSED)
		return;
	u->state = U_CLOSED;
	if (reset && fd >= 0) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	loop_io_del(u->loop, &u->io); /* fd -1: later events in this batch are skipped */
	if (fd >= 0)
		close(fd);
	loop_timer_cancel(u->loop, &u->timer);
	hs_release(u);
}

void upstream_free(struct upstream *u)
{
	if (!u)
		return;
	upstream_close(u, false);
	free(u);
}

/* Fills *why for a failure at stage (the step under way read from u). */
static void describe(const struct upstream *u, enum upstream_stage stage, int err, int code,
		     struct upstream_fail *why)
{
	memset(why, 0, sizeof(*why));
	why->stage = stage;
	why->during = step_of(u);
	why->err = err;
	why->code = code;
	why->type = u->cfg->proxy->type;
	why->proxy = (const struct sockaddr *)&u->cfg->addr;
	why->proxy_len = u->cfg->addrlen;
	why->auth = u->cfg->proxy->has_auth;
	why->first = -1;
	why->timeout_ms = u->cfg->hs_timeout_ms ? u->cfg->hs_timeout_ms : UPSTREAM_HS_TIMEOUT_MS;
	if (u->hs) {
		why->dest = u->hs->dest;
		why->udp = u->hs->udp_assoc;
		if (u->hs->in && u->hs->in_len)
			why->first = u->hs->in[0];
	}
}

static void report(const struct upstream *u, const struct upstream_fail *why)
{
	if (u->cfg->report)
		u->cfg->report(u->cfg->report_arg, why);
}

static void fail(struct upstream *u, enum upstream_stage stage, int err, int code)
{
	struct upstream_fail why;

	describe(u, stage, err, code, &why);
	upstream_close(u, false);
	report(u, &why);
	u->ops->on_fail(u->ctx, &why);
}

/* The handshake said no (proxy_hs's reasons become a stage). */
static void fail_hs(struct upstream *u)
{
	const struct proxy_hs_fail *f = &u->hs->fail;
	enum upstream_stage stage;

	if (f->refused)
		stage = step_of(u);
	else if (f->err == -EPROTO || f->err == -EMSGSIZE)
		stage = UPSTREAM_MALFORMED;
	else
		stage = UPSTREAM_LOCAL;
	fail(u, stage, -f->err, f->code);
}

/* The pending request bytes to the socket. False if the upstream failed. */
static bool hs_output(struct upstream *u)
{
	const uint8_t *p;
	size_t len = proxy_hs_pending(u->hs, &p);
	ssize_t n;

	if (!len)
		return true;
	n = send(u->io.fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return true;
		fail(u, UPSTREAM_CLOSED, errno, -1);
		return false;
	}
	proxy_hs_sent(u->hs, (size_t)n);
	return true;
}

static void open_tunnel(struct upstream *u, const uint8_t *data, size_t len)
{
	const uint8_t *p;
	int ret;

	/* Early data: what a proxy that answered ahead left queued goes first. */
	if (!hs_output(u))
		return;
	if (proxy_hs_pending(u->hs, &p)) {
		fail(u, UPSTREAM_LOCAL, ENOBUFS, -1);
		return;
	}
	loop_timer_cancel(u->loop, &u->timer);
	ret = loop_io_mod(u->loop, &u->io, EPOLLIN); /* until the owner says otherwise */
	if (ret < 0) {
		fail(u, UPSTREAM_LOCAL, -ret, -1);
		return;
	}
	u->state = U_OPEN;
	u->ops->on_open(u->ctx, data, len);
	hs_release(u); /* after on_open: upstream_udp_relay reads the reply */
}

static void hs_input(struct upstream *u)
{
	uint8_t buf[HTTP_MAX_HDR];
	size_t used = 0;
	ssize_t n;
	int ret;

	n = recv(u->io.fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fail(u, UPSTREAM_CLOSED, errno, -1);
		return;
	}
	if (n == 0) {
		fail(u, UPSTREAM_CLOSED, ECONNRESET, -1);
		return;
	}
	ret = proxy_hs_input(u->hs, buf, (size_t)n, &used);
	if (ret < 0)
		fail_hs(u);
	else if (ret == 1) /* bytes after the reply are already the far end's */
		open_tunnel(u, buf + used, (size_t)n - used);
}

static void up_io(struct loop_io *io, uint32_t events)
{
	struct upstream *u = (struct upstream *)io;
	const uint8_t *p;
	socklen_t len = sizeof(int);
	int err = 0, ret;

	switch (u->state) {
	case U_CONNECTING:
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			fail(u, UPSTREAM_CONNECT, err, -1);
			return;
		}
		u->state = U_HANDSHAKE;
		break;
	case U_HANDSHAKE:
		if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			hs_input(u);
		break;
	case U_OPEN:
		u->ops->on_io(u->ctx, events);
		return;
	case U_CLOSED:
		return;
	}
	/* SOCKS5 may have queued its next request during input. */
	if (u->state != U_HANDSHAKE || !hs_output(u))
		return;
	ret = loop_io_mod(u->loop, io, EPOLLIN | (proxy_hs_pending(u->hs, &p) ? EPOLLOUT : 0));
	if (ret < 0)
		fail(u, UPSTREAM_LOCAL, -ret, -1);
}

static void up_timeout(struct timer *t)
{
	struct upstream *u = (struct upstream *)((char *)t - offsetof(struct upstream, timer));

	fail(u, UPSTREAM_TIMEOUT, ETIMEDOUT, -1);
}

/* The proxy side gets the app side's keepalive: a dead path is noticed. */
static void set_options(const struct upstream_cfg *c, int fd)
{
	uint32_t idle = c->ka_idle_ms ? c->ka_idle_ms : TCP_KA_IDLE_MS_DEFAULT;
	int one = 1, v;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (idle == UINT32_MAX)
		return;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	v = (int)((idle + 999) / 1000);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v));
	v = (int)(((c->ka_intvl_ms ? c->ka_intvl_ms : TCP_KA_INTVL_MS_DEFAULT) + 999) / 1000);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v));
	v = (int)(c->ka_cnt ? c->ka_cnt : TCP_KA_CNT_DEFAULT);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v));
}

static struct upstream *start(struct loop *loop, const struct upstream_cfg *cfg,
			      const struct proxy_dest *d, bool udp, const struct upstream_ops *ops,
			      void *ctx, struct upstream_fail *why)
{
	enum upstream_stage stage = UPSTREAM_LOCAL;
	struct upstream_fail dummy;
	struct upstream *u;
	int fd, ret;

	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->io.fd = -1;
	u->io.cb = up_io;
	u->timer.cb = up_timeout;
	u->loop = loop;
	u->cfg = cfg;
	u->ops = ops;
	u->ctx = ctx;
	u->state = U_CONNECTING;
	u->hs = calloc(1, sizeof(*u->hs));
	if (!u->hs) {
		ret = -ENOMEM;
		goto err;
	}
	ret = udp ? proxy_hs_init_udp(u->hs, cfg->proxy, d) : proxy_hs_init(u->hs, cfg->proxy, d);
	if (ret < 0) {
		u->hs->dest = *d; /* for *why */
		goto err;
	}
	fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno; /* EMFILE: the caller's flow gets a reset */
		goto err;
	}
	set_options(cfg, fd);
	if (connect(fd, (const struct sockaddr *)&cfg->addr, cfg->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		ret = -errno;
		stage = UPSTREAM_CONNECT;
		close(fd);
		goto err;
	}
	ret = loop_io_add(loop, &u->io, fd, EPOLLOUT);
	if (ret < 0) {
		close(fd);
		goto err;
	}
	loop_timer_set(loop, &u->timer,
		       loop->now +
			       (cfg->hs_timeout_ms ? cfg->hs_timeout_ms : UPSTREAM_HS_TIMEOUT_MS));
	return u;

err:
	if (!why)
		why = &dummy;
	describe(u, stage, -ret, -1, why);
	why->udp = udp;
	report(u, why);
	upstream_free(u);
	errno = -ret;
	return NULL;
}

struct upstream *upstream_new(struct loop *loop, const struct upstream_cfg *cfg,
			      const struct proxy_dest *d, const struct upstream_ops *ops, void *ctx,
			      struct upstream_fail *why)
{
	return start(loop, cfg, d, false, ops, ctx, why);
}

struct upstream *upstream_new_udp(struct loop *loop, const struct upstream_cfg *cfg,
				  const struct proxy_dest *from, const struct upstream_ops *ops,
				  void *ctx, struct upstream_fail *why)
{
	return start(loop, cfg, from, true, ops, ctx, why);
}

int upstream_udp_relay(const struct upstream *u, struct proxy_dest *bnd)
{
	uint8_t rep;

	if (!u->hs || !u->hs->udp_assoc || u->hs->state != HS_DONE ||
	    socks5_parse_reply_bnd(u->hs->in, u->hs->in_len, &rep, bnd) <= 0 || rep != 0)
		return -EPROTO;
	return 0;
}

bool upstream_connected(const struct upstream *u)
{
	return u->state == U_HANDSHAKE || u->state == U_OPEN;
}

int upstream_events(struct upstream *u, uint32_t events)
{
	if (u->state != U_OPEN)
		return -ENOTCONN;
	return loop_io_mod(u->loop, &u->io, events);
}

ssize_t upstream_readv(struct upstream *u, const struct iovec *iov, int iovcnt)
{
	return readv(u->io.fd, iov, iovcnt);
}

ssize_t upstream_writev(struct upstream *u, const struct iovec *iov, int iovcnt)
{
	struct msghdr mh = { .msg_iov = (struct iovec *)(uintptr_t)iov,
			     .msg_iovlen = (size_t)iovcnt };

	return sendmsg(u->io.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

void upstream_shutdown(struct upstream *u)
{
	if (u->io.fd >= 0)
		shutdown(u->io.fd, SHUT_WR);
}
