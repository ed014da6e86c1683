/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A scripted proxy for unit tests: a TCP listener on 127.0.0.1 whose
 * connections the test plays by hand (expect these bytes, send those,
 * close), while the code under test runs in a loop the helpers pump. No
 * cmocka here: the helpers return what happened and the test asserts.
 */
#ifndef PROXYVPN_TEST_FAKE_PROXY_H
#define PROXYVPN_TEST_FAKE_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "upstream.h"
#include "url.h"

struct fake_proxy {
	int lfd; /* listening, -1 when stopped */
	uint16_t port;
	struct proxy_url url;	/* socks5:// or http:// to it */
	struct upstream_cfg up; /* what an engine would make of the URL */
};

/* Listens on 127.0.0.1, a port of the kernel's choice. 0 or -errno. */
int fake_proxy_start(struct fake_proxy *fp, enum proxy_type type);
/* Adds user:pass to the URL the code under test uses. */
void fake_proxy_auth(struct fake_proxy *fp, const char *user, const char *pass);
void fake_proxy_stop(struct fake_proxy *fp);
/* The next connection to it (pumping l meanwhile), or -1 after timeout_ms. */
int fake_proxy_accept(struct fake_proxy *fp, struct loop *l, int timeout_ms);

/*
 * One turn of loop_run's body, by hand: timers due at l->now, the fds ready
 * within ms, then the idle hook (if any). The clock is not read: tests move
 * l->now themselves.
 */
void loop_pump(struct loop *l, int ms);
/*
 * Reads exactly n bytes from fd within timeout_ms, pumping l so the code
 * under test can write them; true if they are exactly want.
 */
bool fake_expect(struct loop *l, int fd, const void *want, size_t n, int timeout_ms);
/* Reads whatever fd holds within timeout_ms (pumping l) into buf: the count, 0 on EOF, -1. */
ssize_t fake_read(struct loop *l, int fd, void *buf, size_t cap, int timeout_ms);
/* Sends all of p[0..n) (blocking). true on success. */
bool fake_send(int fd, const void *p, size_t n);
/* Closes fd with an RST (SO_LINGER 0). */
void fake_reset(int fd);

#endif
