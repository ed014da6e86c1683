// SPDX-License-Identifier: GPL-2.0-only
/* The mock session side of the TCP stack (see mock-tcp.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock-tcp.h"

static void mock_bug(const char *what)
{
	fprintf(stderr, "mock-tcp: BUG: %s\n", what);
	abort();
}

#define MOCK_LOG(m, ...)                              \
	do {                                          \
		if ((m)->verbose)                     \
			fprintf(stderr, __VA_ARGS__); \
	} while (0)

/* The session a callback names: it must be ours and attached to its conn. */
static struct mock_sess *sess_of(void *user, const char *cb)
{
	struct mock_sess *s = user;

	if (!s || !s->m || s < s->m->s || s >= s->m->s + MOCK_SESS_MAX || !s->used) {
		fprintf(stderr, "mock-tcp: %s: ", cb);
		mock_bug("callback for a session that detached (or never was)");
	}
	if (s->c->user != s)
		mock_bug("callback user is not conn->user");
	if (s->closes)
		mock_bug("callback after on_close");
	return s;
}

static void drop(struct mock_sess *s)
{
	s->used = false;
	s->c = NULL;
}

/* session.c aborts from inside callbacks when the proxy socket fails. */
static bool abort_now(struct mock_sess *s)
{
	if (!s->abort_next)
		return false;
	MOCK_LOG(s->m, "  abort from callback\n");
	s->abort_next = false;
	mock_abort(s);
	return true;
}

static void *on_syn(void *ctx, struct tcp_conn *c)
{
	struct mock_tcp *m = ctx;
	int i;

	if (c->state != TCPS_SYN_PENDING || c->user)
		mock_bug("on_syn: conn not fresh");
	if (mock_find(m, c))
		mock_bug("on_syn: conn already held by a session");
	m->syns++;
	m->last = c;
	if (m->flags & MOCK_REFUSE)
		return NULL;
	for (i = 0; i < MOCK_SESS_MAX; i++) {
		if (!m->s[i].used) {
			m->s[i] = (struct mock_sess){
				.m = m, .c = c, .used = true, .order = ++m->order
			};
			MOCK_LOG(m, "  on_syn -> session %d (conn %u)\n", i, c->id);
			return &m->s[i];
		}
	}
	return NULL; /* table full: refused, like a session cap would */
}

static void on_data(void *user)
{
	struct mock_sess *s = sess_of(user, "on_data");

	s->m->datas++;
	if (abort_now(s))
		return;
	if (s->m->flags & MOCK_CONSUME_ON_DATA)
		tcp_rx_consume(s->c, s->c->rx.len);
}

static void on_sent(void *user)
{
	struct mock_sess *s = sess_of(user, "on_sent");

	s->m->sents++;
	abort_now(s);
}

static void on_fin(void *user)
{
	struct mock_sess *s = sess_of(user, "on_fin");

	s->m->fins++;
	if (abort_now(s))
		return;
	if ((s->m->flags & MOCK_SHUT_ON_FIN) && s->accepted && !s->shut) {
		s->shut = true;
		tcp_shutdown(s->c);
	}
}

static void on_close(void *user, int err)
{
	struct mock_sess *s = sess_of(user, "on_close");

	MOCK_LOG(s->m, "  on_close(%d) conn %u state %s\n", err, s->c->id,
		 tcp_state_name(s->c->state));
	if (err != 0 && err != -ECONNRESET && err != -ETIMEDOUT)
		mock_bug("on_close: unexpected error");
	if (s->c->state != TCPS_CLOSED && s->c->state != TCPS_TIME_WAIT)
		mock_bug("on_close in a state that is not over");
	s->closes++;
	s->close_err = err;
	s->m->closes++;
	s->m->close_err = err;
	if (s->m->flags & MOCK_DETACH_ON_CLOSE)
		mock_detach(s);
}

static void on_output(void *ctx, const struct iovec *iov, int iovcnt, const struct tcp_out *o)
{
	struct mock_tcp *m = ctx;

	if (m->output)
		m->output(m->ctx, iov, iovcnt, o);
}

const struct tcp_ops mock_tcp_ops = {
	.on_syn = on_syn,
	.on_data = on_data,
	.on_sent = on_sent,
	.on_fin = on_fin,
	.on_close = on_close,
	.output = on_output,
};

struct mock_sess *mock_find(struct mock_tcp *m, const struct tcp_conn *c)
{
	int i;

	for (i = 0; i < MOCK_SESS_MAX; i++)
		if (m->s[i].used && m->s[i].c == c)
			return &m->s[i];
	return NULL;
}

struct mock_sess *mock_recent(struct mock_tcp *m, unsigned int i)
{
	struct mock_sess *by[MOCK_SESS_MAX];
	int n = 0, a, b;

	for (a = 0; a < MOCK_SESS_MAX; a++)
		if (m->s[a].used)
			by[n++] = &m->s[a];
	if (!n)
		return NULL;
	for (a = 1; a < n; a++) /* newest first */
		for (b = a; b > 0 && by[b]->order > by[b - 1]->order; b--) {
			struct mock_sess *t = by[b];

			by[b] = by[b - 1];
			by[b - 1] = t;
		}
	return by[i % (unsigned int)n];
}

void mock_accept(struct mock_sess *s)
{
	s->accepted = true;
	tcp_accept(s->c);
}

void mock_reject(struct mock_sess *s)
{
	tcp_reject(s->c);
	drop(s);
}

void mock_unreach(struct mock_sess *s, enum icmp_unreach why)
{
	tcp_unreach(s->c, why);
	drop(s);
}

void mock_abort(struct mock_sess *s)
{
	tcp_abort(s->c);
	drop(s);
}

void mock_detach(struct mock_sess *s)
{
	tcp_detach(s->c);
	drop(s);
}

void mock_detach_all(struct mock_tcp *m)
{
	int i;

	for (i = 0; i < MOCK_SESS_MAX; i++)
		if (m->s[i].used)
			mock_detach(&m->s[i]);
}
