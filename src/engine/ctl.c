// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket (see ctl.h): ctl_listen() makes it in the state dir,
 * the server answers "status" requests from the engine's loop, and
 * ctl_query() is the client `proxyvpn status` uses. A client can cost the
 * engine at most one slot of CTL_MAX_CLIENTS, CTL_REQ_MAX bytes of request,
 * one reply of at most CTL_REPLY_MAX and CTL_TIMEOUT_MS; every socket is
 * non-blocking, so a slow or hostile one never stalls the data path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"

#ifndef PROXYVPN_VERSION
#define PROXYVPN_VERSION "0.0.0"
#endif

/* ---- the request and the reply (pure) ---- */

int ctl_parse_request(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len < CTL_REQ_MAX ? len : CTL_REQ_MAX);
	size_t n;

	if (!nl)
		return len < CTL_REQ_MAX && !memchr(buf, '\0', len) ? -EAGAIN : -EINVAL;
	n = (size_t)(nl - buf);
	if (n && buf[n - 1] == '\r')
		n--;
	if (n == 6 && !memcmp(buf, "status", 6))
		return CTL_REQ_STATUS;
	if (n == 11 && !memcmp(buf, "status text", 11))
		return CTL_REQ_STATUS_TEXT;
	return -EINVAL;
}

#define ES(f)                                        \
	{                                            \
#f, offsetof(struct engine_stats, f) \
	}
#define TS(f)                                     \
	{                                         \
#f, offsetof(struct tcp_stats, f) \
	}
static const struct counter {
	const char *name;
	size_t off;
} eng_counters[] =
	{
		ES(pkts_in),	   ES(pkts_out),       ES(pkts_bad),	    ES(pkts_unsupported),
		ES(tun_write_err), ES(sessions_total), ES(sessions_failed),
},
  tcp_counters[] = {
	  TS(segs_in),	     TS(segs_out),    TS(bad_csum),	 TS(bad_hdr),
	  TS(rst_out),	     TS(rst_in),      TS(retrans),	 TS(syn_refused),
	  TS(conns_open),    TS(ooo_dropped), TS(beyond_window), TS(dup_segs),
	  TS(ooo_queued),    TS(sack_rexmit), TS(paws_dropped),	 TS(challenge_acks),
	  TS(limit_refused), TS(ka_timeouts), TS(idle_timeouts), TS(handshakes),
	  TS(rto_fired),     TS(lost_rexmit), TS(tlp),		 TS(undo),
};
#undef ES
#undef TS

static uint64_t counter(const void *stats, const struct counter *c)
{
	uint64_t v;

	memcpy(&v, (const char *)stats + c->off, sizeof(v));
	return v;
}

static void counters_json(struct jbuf *b, const char *key, const void *stats,
			  const struct counter *c, size_t n)
{
	size_t i;

	jb_key(b, key);
	jb_raw(b, "{");
	for (i = 0; i < n; i++) {
		if (i)
			jb_raw(b, ",");
		jb_kv_u64(b, c[i].name, counter(stats, &c[i]));
	}
	jb_raw(b, "}");
}

/* "1.2.3.4:80" or "[2001:db8::1]:80"; "-" without an address. */
static void endpoint(char *out, size_t len, int family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	if ((family != AF_INET && family != AF_INET6) || !inet_ntop(family, addr, a, sizeof(a))) {
		snprintf(out, len, "-");
		return;
	}
	snprintf(out, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

/* Room kept back while listing connections, for what closes the reply. */
enum { CTL_TAIL_ROOM = 512 };

static size_t conns_json(struct jbuf *b, const struct session_info *conns, size_t n)
{
	char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
	size_t i;

	jb_raw(b, ",\"connections\":[");
	for (i = 0; i < n; i++) {
		const struct session_info *c = &conns[i];
		size_t mark = b->len;

		if (jb_room(b) < CTL_TAIL_ROOM + 2 * sizeof(src) + 256)
			break;
		endpoint(src, sizeof(src), c->family, c->src, c->sport);
		endpoint(dst, sizeof(dst), c->family, c->dst, c->dport);
		jb_printf(b, "%s{\"id\":%u,", i ? "," : "", c->id);
		jb_kv_str(b, "src", src);
		jb_raw(b, ",");
		jb_kv_str(b, "dst", dst);
		jb_raw(b, ",");
		jb_kv_str(b, "state", c->tcp_state);
		jb_raw(b, ",");
		jb_kv_str(b, "phase", c->phase);
		jb_printf(b, ",\"bytes_up\":%llu,\"bytes_down\":%llu,\"age_ms\":%llu}",
			  (unsigned long long)c->bytes_up, (unsigned long long)c->bytes_down,
			  (unsigned long long)c->age_ms);
		if (b->full) { /* cannot happen with the room check; never emit half an entry */
			b->full = false;
			b->len = mark;
			b->p[mark] = '\0';
			break;
		}
	}
	jb_raw(b, "]");
	return i;
}

static void reply_json(struct jbuf *b, const struct ctl_live *l, const struct session_info *conns,
		       size_t n, size_t total)
{
	size_t listed;

	jb_raw(b, "{");
	jb_kv_str(b, "version", l->version);
	jb_printf(b, ",\"pid\":%d,\"engine_pid\":%d,\"uptime_ms\":%llu,", (int)l->pid,
		  (int)l->engine_pid, (unsigned long long)l->uptime_ms);
	counters_json(b, "engine", l->eng, eng_counters,
		      sizeof(eng_counters) / sizeof(eng_counters[0]));
	jb_raw(b, ",");
	counters_json(b, "tcp", l->tcp, tcp_counters,
		      sizeof(tcp_counters) / sizeof(tcp_counters[0]));
	jb_printf(b, ",\"flows\":%zu,\"handshaking\":%zu,\"buffer_bytes\":%zu,\"sessions\":%zu",
		  l->conns, l->pending, l->mem, l->sessions);
	listed = conns_json(b, conns, n);
	jb_printf(b, ",\"connections_listed\":%zu,", listed);
	jb_kv_bool(b, "connections_truncated", listed < total);
	jb_raw(b, "}\n");
}

static void reply_text(struct jbuf *b, const struct ctl_live *l, const struct session_info *conns,
		       size_t n, size_t total)
{
	const struct engine_stats *e = l->eng;
	const struct tcp_stats *t = l->tcp;
	char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
	size_t i;

	jb_printf(b, "live: pid %d (engine %d, up %llu s), version %s\n", (int)l->pid,
		  (int)l->engine_pid, (unsigned long long)(l->uptime_ms / 1000), l->version);
	jb_printf(b, "packets: in %llu, out %llu, bad %llu, not TCP %llu, TUN write errors %llu\n",
		  (unsigned long long)e->pkts_in, (unsigned long long)e->pkts_out,
		  (unsigned long long)e->pkts_bad, (unsigned long long)e->pkts_unsupported,
		  (unsigned long long)e->tun_write_err);
	jb_printf(b, "sessions: %zu open, %llu in all, %llu failed\n", l->sessions,
		  (unsigned long long)e->sessions_total, (unsigned long long)e->sessions_failed);
	jb_printf(
		b,
		"tcp: %zu flows (%zu handshaking), %zu buffer bytes; segments in %llu, "
		"out %llu, retransmitted %llu; resets in %llu, out %llu; refused at limits %llu\n",
		l->conns, l->pending, l->mem, (unsigned long long)t->segs_in,
		(unsigned long long)t->segs_out, (unsigned long long)t->retrans,
		(unsigned long long)t->rst_in, (unsigned long long)t->rst_out,
		(unsigned long long)t->limit_refused);
	for (i = 0; i < n && jb_room(b) >= CTL_TAIL_ROOM; i++) {
		const struct session_info *c = &conns[i];

		endpoint(src, sizeof(src), c->family, c->src, c->sport);
		endpoint(dst, sizeof(dst), c->family, c->dst, c->dport);
		jb_printf(b, "conn %u: %s -> %s %s (%s), up %llu, down %llu bytes, age %llu s\n",
			  c->id, src, dst, c->tcp_state, c->phase, (unsigned long long)c->bytes_up,
			  (unsigned long long)c->bytes_down,
			  (unsigned long long)(c->age_ms / 1000));
	}
	if (i < total)
		jb_printf(b, "(%zu more connections not listed)\n", total - i);
}

int ctl_reply_status(struct jbuf *b, enum ctl_req req, const struct ctl_live *l,
		     const struct session_info *conns, size_t n, size_t total)
{
	if (n > total)
		total = n;
	if (req == CTL_REQ_STATUS_TEXT)
		reply_text(b, l, conns, n, total);
	else
		reply_json(b, l, conns, n, total);
	return b->full ? -ENOSPC : 0;
}

/* ---- the socket ---- */

static int dir_path(int dirfd, char *out, size_t len)
{
	/* the dir's own path could be long or changed: go through its fd */
	int n = snprintf(out, len, "/proc/self/fd/%d/%s", dirfd, CTL_SOCK);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void ctl_unlink(int dirfd)
{
	struct stat st;

	if (fstatat(dirfd, CTL_SOCK, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode))
		unlinkat(dirfd, CTL_SOCK, 0);
}

int ctl_listen(int dirfd, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *step = "socket";
	mode_t old;
	int fd, ret;

	ret = dir_path(dirfd, sa.sun_path, sizeof(sa.sun_path));
	if (ret < 0) {
		snprintf(err, errlen, "control socket path: %s", strerror(-ret));
		return ret;
	}
	/* the lock is ours: anything named ctl is a dead run's */
	if (unlinkat(dirfd, CTL_SOCK, 0) < 0 && errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "removing a stale control socket: %s", strerror(-ret));
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	step = "bind";
	old = umask(0177); /* the socket file is made 0600 */
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0)
		goto fail;
	step = "listen";
	if (listen(fd, CTL_MAX_CLIENTS) < 0)
		goto fail_unlink;
	return fd;
fail_unlink:
	ret = -errno;
	unlinkat(dirfd, CTL_SOCK, 0);
	errno = -ret;
fail:
	ret = -errno;
	if (fd >= 0)
		close(fd);
	snprintf(err, errlen, "control socket: %s: %s", step, strerror(-ret));
	return ret;
}

/* ---- the server ---- */

static void client_close(struct ctl_client *c)
{
	struct loop *l = c->srv->loop;
	int fd = c->io.fd;

	if (fd < 0)
		return;
	loop_io_del(l, &c->io);
	close(fd);
	loop_timer_cancel(l, &c->timer);
	free(c->reply);
	c->reply = NULL;
	c->reqlen = c->replylen = c->sent = 0;
}

static void add_u64(uint64_t *dst, const uint64_t *src, size_t n)
{
	while (n--)
		*dst++ += *src++;
}

/* Every engine's counters summed into *m, which l then points to. */
static void add_more(const struct ctl_server *cs, struct ctl_live *l, struct ctl_more *m)
{
	struct engine_stats es = { 0 };
	struct tcp_stats ts = { 0 };

	cs->more(cs->more_arg, m);
	engine_stats_add(cs->eng, &es, &ts);
	add_u64((uint64_t *)&m->eng, (const uint64_t *)&es, sizeof(es) / sizeof(uint64_t));
	add_u64((uint64_t *)&m->tcp, (const uint64_t *)&ts, sizeof(ts) / sizeof(uint64_t));
	l->eng = &m->eng;
	l->tcp = &m->tcp;
	l->conns += m->conns;
	l->pending += m->pending;
	l->mem += m->mem;
}

static int build_reply(struct ctl_client *c, enum ctl_req req)
{
	const struct ctl_server *cs = c->srv;
	const struct engine *e = cs->eng;
	struct session_info *conns;
	const struct session *s = NULL;
	struct ctl_live l = {
		.version = PROXYVPN_VERSION,
		.pid = cs->up_pid ? cs->up_pid : getpid(),
		.engine_pid = getpid(),
		.uptime_ms = cs->loop->now - cs->started,
		.eng = &e->stats,
		.tcp = tcp_stack_stats(e->tcp),
		.conns = tcp_stack_conns(e->tcp),
		.pending = tcp_stack_pending(e->tcp),
		.mem = tcp_stack_mem(e->tcp),
	};
	struct ctl_more more = { 0 };
	struct jbuf b;
	size_t n = 0;

	if (cs->more)
		add_more(cs, &l, &more);
	conns = calloc(CTL_CONNS_MAX, sizeof(*conns));
	c->reply = malloc(CTL_REPLY_MAX);
	if (!conns || !c->reply) {
		free(conns);
		return -ENOMEM;
	}
	while ((s = session_next(e, s))) {
		if (n < CTL_CONNS_MAX)
			session_info(s, cs->loop->now, &conns[n]);
		n++;
	}
	l.sessions = n;
	jb_init(&b, c->reply, CTL_REPLY_MAX);
	ctl_reply_status(&b, req, &l, conns, n < CTL_CONNS_MAX ? n : CTL_CONNS_MAX, n);
	free(conns);
	c->replylen = b.len;
	return 0;
}

static void client_write(struct ctl_client *c)
{
	while (c->sent < c->replylen) {
		ssize_t n = send(c->io.fd, c->reply + c->sent, c->replylen - c->sent,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			break;
		}
		c->sent += (size_t)n;
	}
	client_close(c);
}

static void client_read(struct ctl_client *c)
{
	ssize_t n;
	int req;

	n = recv(c->io.fd, c->req + c->reqlen, sizeof(c->req) - c->reqlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->reqlen += (size_t)n;
	req = ctl_parse_request(c->req, c->reqlen);
	if (req == -EAGAIN)
		return;
	if (req < 0 || build_reply(c, (enum ctl_req)req) < 0 ||
	    loop_io_mod(c->srv->loop, &c->io, EPOLLOUT) < 0) {
		client_close(c);
		return;
	}
	client_write(c);
}

static void client_io(struct loop_io *io, uint32_t events)
{
	struct ctl_client *c = (struct ctl_client *)io;

	if (c->reply && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		client_write(c);
	else if (!c->reply)
		client_read(c);
}

static void client_timeout(struct timer *t)
{
	struct ctl_client *c =
		(struct ctl_client *)((char *)t - offsetof(struct ctl_client, timer));

	client_close(c);
}

static bool peer_allowed(const struct ctl_server *cs, int fd, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	*uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof(cr))
		return false;
	*uid = cr.uid;
	return cr.uid == 0 || cr.uid == cs->owner;
}

static void take(struct ctl_server *cs, int fd)
{
	struct ctl_client *c = NULL;
	uid_t uid;
	size_t i;

	if (!peer_allowed(cs, fd, &uid)) {
		log_info("control socket: peer uid %d refused", (int)uid);
		goto refuse;
	}
	for (i = 0; i < CTL_MAX_CLIENTS && !c; i++)
		if (cs->client[i].io.fd < 0)
			c = &cs->client[i];
	if (!c) {
		log_debug("control socket: %d clients already: one more refused", CTL_MAX_CLIENTS);
		goto refuse;
	}
	c->reqlen = c->replylen = c->sent = 0;
	if (loop_io_add(cs->loop, &c->io, fd, EPOLLIN) < 0)
		goto refuse;
	loop_timer_set(cs->loop, &c->timer, cs->loop->now + CTL_TIMEOUT_MS);
	return;
refuse:
	cs->refused++;
	close(fd);
}

static void accept_io(struct loop_io *io, uint32_t events)
{
	struct ctl_server *cs = (struct ctl_server *)io;
	int i, fd;

	(void)events;
	for (i = 0; i < CTL_ACCEPT_BATCH; i++) {
		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("control socket: accept");
			return;
		}
		take(cs, fd);
	}
}

int ctl_server_init(struct ctl_server *cs, struct loop *loop, const struct engine *e, int listen_fd,
		    uid_t owner)
{
	size_t i;
	int fl, ret;

	memset(cs, 0, sizeof(*cs));
	cs->io.fd = -1;
	cs->loop = loop;
	cs->eng = e;
	cs->owner = owner;
	cs->started = loop->now;
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		cs->client[i].io.fd = -1;
		cs->client[i].io.cb = client_io;
		cs->client[i].timer.cb = client_timeout;
		cs->client[i].srv = cs;
	}
	cs->io.cb = accept_io;
	fl = fcntl(listen_fd, F_GETFL);
	if (fl < 0 || fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = -errno;
		close(listen_fd);
		return ret;
	}
	ret = loop_io_add(loop, &cs->io, listen_fd, EPOLLIN);
	if (ret < 0)
		close(listen_fd);
	return ret;
}

void ctl_server_fini(struct ctl_server *cs)
{
	size_t i;
	int fd = cs->io.fd;

	if (!cs->loop)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		client_close(&cs->client[i]);
	loop_io_del(cs->loop, &cs->io);
	if (fd >= 0)
		close(fd);
	cs->loop = NULL;
}

/* ---- the client ---- */

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	uint64_t now = loop_clock_ms();
	int ret;

	if (now >= deadline)
		return -ETIMEDOUT;
	ret = poll(&p, 1, (int)(deadline - now));
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	return ret == 0 ? -ETIMEDOUT : 0;
}

ssize_t ctl_query(int dirfd, const char *req, char *out, size_t cap, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t deadline = loop_clock_ms() + (uint64_t)timeout_ms;
	size_t len = 0, reqlen = strlen(req), sent = 0;
	int fd, ret;

	if (cap < 1)
		return -EINVAL;
	ret = dir_path(dirfd, sa.sun_path, sizeof(sa.sun_path));
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a unix connect never waits for the server's accept */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	while (sent < reqlen) {
		ssize_t n;

		ret = wait_fd(fd, POLLOUT, deadline);
		if (ret < 0)
			goto out;
		n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ret = errno == EPIPE ? -ECONNRESET : -errno;
			goto out;
		}
		sent += (size_t)n;
	}
	for (;;) {
		ssize_t n;

		ret = wait_fd(fd, POLLIN, deadline);
		if (ret < 0)
			goto out;
		n = recv(fd, out + len, cap - 1 - len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap - 1) {
			ret = -EMSGSIZE;
			goto out;
		}
	}
	ret = len ? 0 : -ECONNRESET;
out:
	close(fd);
	out[ret < 0 ? 0 : len] = '\0';
	return ret < 0 ? ret : (ssize_t)len;
}
