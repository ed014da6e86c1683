/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A stand-in for the session side of the TCP stack (tcp.h's struct
 * tcp_ops, ctx = struct mock_tcp): it holds conns the way session.c does,
 * counts every callback, and checks each one against what tcp.h promises
 * (on_syn only for a fresh conn, callbacks only for a conn still attached,
 * on_close once and nothing after it). A broken promise prints what broke
 * and aborts, which fails the unit test or the fuzz target there. Flags
 * make it do inside callbacks what session.c does. Packets toward the app
 * go to output. No cmocka: fuzz targets use it too.
 */
#ifndef PROXYVPN_TEST_MOCK_TCP_H
#define PROXYVPN_TEST_MOCK_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "tcp.h"

enum {
	MOCK_SESS_MAX = 64,
	MOCK_REFUSE = 1 << 0,	       /* on_syn refuses: the stack answers RST */
	MOCK_DETACH_ON_CLOSE = 1 << 1, /* tcp_detach inside on_close */
	MOCK_SHUT_ON_FIN = 1 << 2,     /* tcp_shutdown inside on_fin, once accepted */
	MOCK_CONSUME_ON_DATA = 1 << 3, /* all of rx consumed inside on_data */
};

struct mock_tcp;

struct mock_sess {
	struct mock_tcp *m;
	struct tcp_conn *c;
	uint32_t order; /* creation order: 1, 2, ... */
	bool used;	/* attached: the test may still call into the stack with c */
	bool accepted, shut;
	bool abort_next; /* tcp_abort inside its next callback */
	int closes, close_err;
};

typedef void mock_output_fn(void *ctx, const struct iovec *iov, int iovcnt,
			    const struct tcp_out *o);

struct mock_tcp {
	unsigned int flags;	/* MOCK_* */
	mock_output_fn *output; /* NULL: packets dropped */
	void *ctx;
	bool verbose; /* a line on stderr per callback */
	/* every session's callbacks together */
	int syns, datas, sents, fins, closes, close_err;
	struct tcp_conn *last; /* the conn of the newest on_syn (even a refused one) */
	uint32_t order;
	struct mock_sess s[MOCK_SESS_MAX];
};

extern const struct tcp_ops mock_tcp_ops;

/* The session holding c, or NULL. */
struct mock_sess *mock_find(struct mock_tcp *m, const struct tcp_conn *c);
/* The i-th most recent session still attached (0 = newest), or NULL if none. */
struct mock_sess *mock_recent(struct mock_tcp *m, unsigned int i);
/* What session.c does to let go: tcp_accept, tcp_reject, tcp_unreach, tcp_abort, tcp_detach. */
void mock_accept(struct mock_sess *s);
void mock_reject(struct mock_sess *s);
void mock_unreach(struct mock_sess *s, enum icmp_unreach why);
void mock_abort(struct mock_sess *s);
void mock_detach(struct mock_sess *s);
/* Detaches every conn still held (before tcp_stack_free). */
void mock_detach_all(struct mock_tcp *m);

#endif
