/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a failed proxy tunnel means (struct upstream_fail, upstream.h), in
 * the three forms it takes: the words of a log line ("proxy 192.0.2.1:1080
 * refused our credentials (SOCKS5 auth)"), the errno the app's connect()
 * gets (a reset for ECONNREFUSED, an ICMP error for EHOSTUNREACH and
 * ENETUNREACH: tcp.h), and the default-level line, once per cause and proxy
 * per window (a minute) with the count of repeats when the window ends.
 * The mapping is proxyvpn(8)'s table "What the application sees"; keep the
 * two together.
 */
#ifndef PROXYVPN_UPFAIL_H
#define PROXYVPN_UPFAIL_H

#include <stddef.h>
#include <stdint.h>

#include "upstream.h"

enum {
	UPFAIL_WINDOW_MS = 60000, /* one line per cause and proxy this long */
	UPFAIL_CAUSES_MAX = 64,	  /* causes tracked at once; more are counted together */
	UPFAIL_TEXT_MAX = 512,	  /* a description, truncated past this */
};

/* The words for why (a dest name is shown as the app asked for it). Returns buf. */
const char *upfail_describe(const struct upstream_fail *why, char *buf, size_t len);

/*
 * What the app's connect() fails with: ENETUNREACH (SOCKS5 network
 * unreachable, address type not supported), EHOSTUNREACH (SOCKS5 host
 * unreachable, TTL expired; HTTP 504), else ECONNREFUSED: the destination
 * refused, or the proxy itself failed (down, credentials, policy, a reply
 * we cannot read), which no errno says better and the log line names.
 */
int upfail_app_errno(const struct upstream_fail *why);

/*
 * The rate limiter of the default-level lines. One per process: the
 * engines of a group (worker threads) share it, so its calls are
 * thread-safe. Times are loop ms (loop->now: one clock for every loop).
 */
struct upfail_log;

/* window_ms 0: UPFAIL_WINDOW_MS. NULL with errno set. */
struct upfail_log *upfail_log_new(uint32_t window_ms);
/* Logs the repeats still counted (at exit), then frees; NULL is fine. */
void upfail_log_free(struct upfail_log *l, uint64_t now);
/*
 * One failure at now: its line at once if its cause and proxy had none in
 * the current window, else counted. Returns when upfail_log_flush() is due
 * next (0: nothing counted, no call needed).
 */
uint64_t upfail_log_add(struct upfail_log *l, const struct upstream_fail *why, uint64_t now);
/*
 * Logs "N more times" for each window that has ended by now with repeats
 * (a new window starts then; a window without repeats ends its cause's
 * entry). Returns when it is due next, 0 if never.
 */
uint64_t upfail_log_flush(struct upfail_log *l, uint64_t now);

#endif
