// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket's server (see ctl.h), in the engine's loop, for the
 * connections the parent hands over. A client can cost the engine at most
 * one slot of CTL_MAX_CLIENTS, CTL_REQ_MAX
 * bytes of request, one reply of at most CTL_REPLY_MAX and CTL_TIMEOUT_MS;
 * every socket is non-blocking, so a slow or hostile one never stalls the
 * data path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "session.h"

#ifndef PROXYVPN_VERSION
#define PROXYVPN_VERSION "0.0.0"
#endif

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

/* Offsets of ctl-proto.h's counters in the engine's structs, in its enum order. */
static const size_t eng_off[] = {
	offsetof(struct engine_stats, pkts_in),
	offsetof(struct engine_stats, pkts_out),
	offsetof(struct engine_stats, pkts_bad),
	offsetof(struct engine_stats, pkts_unsupported),
	offsetof(struct engine_stats, tun_write_err),
	offsetof(struct engine_stats, sessions_total),
	offsetof(struct engine_stats, sessions_failed),
	offsetof(struct engine_stats, sessions_held),
	offsetof(struct engine_stats, sessions_hold_expired),
};
static const size_t tcp_off[] = {
	offsetof(struct tcp_stats, segs_in),	   offsetof(struct tcp_stats, segs_out),
	offsetof(struct tcp_stats, bad_csum),	   offsetof(struct tcp_stats, bad_hdr),
	offsetof(struct tcp_stats, rst_out),	   offsetof(struct tcp_stats, rst_in),
	offsetof(struct tcp_stats, retrans),	   offsetof(struct tcp_stats, syn_refused),
	offsetof(struct tcp_stats, conns_open),	   offsetof(struct tcp_stats, ooo_dropped),
	offsetof(struct tcp_stats, beyond_window), offsetof(struct tcp_stats, dup_segs),
	offsetof(struct tcp_stats, ooo_queued),	   offsetof(struct tcp_stats, sack_rexmit),
	offsetof(struct tcp_stats, paws_dropped),  offsetof(struct tcp_stats, challenge_acks),
	offsetof(struct tcp_stats, limit_refused), offsetof(struct tcp_stats, ka_timeouts),
	offsetof(struct tcp_stats, idle_timeouts), offsetof(struct tcp_stats, handshakes),
	offsetof(struct tcp_stats, rto_fired),	   offsetof(struct tcp_stats, lost_rexmit),
	offsetof(struct tcp_stats, tlp),	   offsetof(struct tcp_stats, undo),
	offsetof(struct tcp_stats, syn_deferred),
};
_Static_assert(sizeof(eng_off) / sizeof(eng_off[0]) == CTL_E_MAX, "an offset per counter");
_Static_assert(sizeof(tcp_off) / sizeof(tcp_off[0]) == CTL_T_MAX, "an offset per counter");

static void pick(uint64_t *dst, const void *stats, const size_t *off, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		memcpy(&dst[i], (const char *)stats + off[i], sizeof(dst[i]));
}

static void add_u64(uint64_t *dst, const uint64_t *src, size_t n)
{
	while (n--)
		*dst++ += *src++;
}

static void limits_fill(struct ctl_limits *lim, const struct engine_cfg *c)
{
	static const char *const from[] = {
		[TCP_BOUND_OPTION] = "option",
		[TCP_BOUND_FILES] = "open-files",
		[TCP_BOUND_MEMORY] = "memory",
	};
	const struct tcp_cfg *t = &c->tcp;

	*lim = (struct ctl_limits){
		.max_conns = t->max_conns,
		.max_pending = c->max_pending,
		.mem_limit = t->mem_budget,
		.buffer = c->buf_size ? c->buf_size : TCP_BUF_DEFAULT,
		.nofile = t->nofile,
		.idle_timeout_ms = t->idle_ms,
		.keepalive_ms = t->ka_idle_ms == UINT32_MAX ? 0
				: t->ka_idle_ms		    ? t->ka_idle_ms
							    : TCP_KA_IDLE_MS_DEFAULT,
		.max_conns_from = t->conns_bound < 3 ? from[t->conns_bound] : "option",
	};
}

void ctl_live_fill(struct ctl_live *l, const struct engine *e, const struct ctl_more *more)
{
	struct engine_stats es = { 0 };
	struct tcp_stats ts = { 0 };

	engine_stats_add(e, &es, &ts);
	l->conns = tcp_stack_conns(e->tcp);
	l->pending = tcp_stack_pending(e->tcp);
	l->mem = tcp_stack_mem(e->tcp);
	engine_window_add(e, &l->win);
	limits_fill(&l->lim, &e->cfg);
	if (more) {
		add_u64((uint64_t *)&l->win, (const uint64_t *)&more->win,
			sizeof(l->win) / sizeof(uint64_t));
		add_u64((uint64_t *)&es, (const uint64_t *)&more->eng,
			sizeof(es) / sizeof(uint64_t));
		add_u64((uint64_t *)&ts, (const uint64_t *)&more->tcp,
			sizeof(ts) / sizeof(uint64_t));
		l->conns += more->conns;
		l->pending += more->pending;
		l->mem += more->mem;
	}
	pick(l->eng, &es, eng_off, CTL_E_MAX);
	pick(l->tcp, &ts, tcp_off, CTL_T_MAX);
}

#ifdef PROXYVPN_FAULT
/*
 * Test builds: PROXYVPN_FAULT_CTL=forge makes every reply what an engine
 * taken over could send: terminal escapes in the text, and JSON that closes
 * its object and adds top-level fields of its own (a raw escape in it too).
 * The client must show the text inert and refuse the JSON.
 */
static void fault_forge(struct jbuf *b, enum ctl_req req)
{
	if (!getenv("PROXYVPN_FAULT_CTL"))
		return;
	if (req == CTL_REQ_STATUS_TEXT) {
		jb_raw(b, "\x1b]0;forged title\x07\x1b[31mforged: red\x1b[0m\n");
		return;
	}
	while (b->len && b->p[b->len - 1] == '\n')
		b->p[--b->len] = '\0';
	jb_raw(b, ",\"running\":false,\"installed\":null,\"forged\":{\"x\":\"\x1b[2J\"}\n");
}
#else
static void fault_forge(struct jbuf *b, enum ctl_req req)
{
	(void)b;
	(void)req;
}
#endif

static int build_reply(struct ctl_client *c, enum ctl_req req)
{
	const struct ctl_server *cs = c->srv;
	const struct engine *e = cs->eng;
	struct ctl_conn *conns;
	const struct session *s = NULL;
	struct ctl_live l = {
		.version = PROXYVPN_VERSION,
		.pid = cs->up_pid ? cs->up_pid : getpid(),
		.engine_pid = getpid(),
		.uptime_ms = cs->loop->now - cs->started,
	};
	struct ctl_more more = { 0 };
	struct jbuf b;
	size_t n = 0;

	if (cs->more)
		cs->more(cs->more_arg, &more);
	ctl_live_fill(&l, e, cs->more ? &more : NULL);
	conns = calloc(CTL_CONNS_MAX, sizeof(*conns));
	c->reply = malloc(CTL_REPLY_MAX);
	if (!conns || !c->reply) {
		free(conns);
		return -ENOMEM;
	}
	while ((s = session_next(e->sessions, s))) {
		if (n < CTL_CONNS_MAX)
			session_info(s, cs->loop->now, &conns[n]);
		n++;
	}
	l.sessions = n;
	jb_init(&b, c->reply, CTL_REPLY_MAX);
	ctl_reply_status(&b, req, &l, conns, n < CTL_CONNS_MAX ? n : CTL_CONNS_MAX, n);
	fault_forge(&b, req);
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

void ctl_server_take(struct ctl_server *cs, int fd)
{
	struct ctl_client *c = NULL;
	size_t i;

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

void ctl_server_init(struct ctl_server *cs, struct loop *loop, const struct engine *e)
{
	size_t i;

	memset(cs, 0, sizeof(*cs));
	cs->loop = loop;
	cs->eng = e;
	cs->started = loop->now;
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		cs->client[i].io.fd = -1;
		cs->client[i].io.cb = client_io;
		cs->client[i].timer.cb = client_timeout;
		cs->client[i].srv = cs;
	}
}

void ctl_server_fini(struct ctl_server *cs)
{
	size_t i;

	if (!cs->loop)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		client_close(&cs->client[i]);
	cs->loop = NULL;
}
