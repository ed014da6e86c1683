/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The handshake window: how many proxy handshakes an engine has in flight
 * at once, following how fast the proxy answers, the way TCP's congestion
 * window follows a path. A burst of SYNs past the window waits (session.c
 * holds the flows in SYN-PENDING) instead of being refused.
 *
 * The rule (also in docs/architecture.md, "The handshake window"):
 *  - start at HSWIN_INIT (or the cap if smaller);
 *  - every handshake the proxy answers (a tunnel, or a refusal it sent)
 *    while the window was at least half used adds one: the window doubles
 *    per round trip below ssthresh (slow start), and grows by one per
 *    window's worth of answers above it (congestion avoidance);
 *  - a loss (the proxy refused or dropped the connect, the connect needed
 *    more than one SYN, the proxy did not answer its own part of the
 *    handshake in time, or closed before answering) halves it, at most once
 *    per window of handshakes (only one started after the last halving can
 *    halve it again), never below HSWIN_MIN; ssthresh becomes the new size;
 *  - after HSWIN_FORGET_MS without a loss, ssthresh goes back to the cap,
 *    so a proxy that recovered is probed exponentially again;
 *  - never above the cap (--max-pending, this engine's share of it).
 *
 * Pure: the caller's clock, no allocation, no I/O (tests/unit/test-hswin.c).
 */
#ifndef PROXYVPN_HSWIN_H
#define PROXYVPN_HSWIN_H

#include <stdbool.h>
#include <stdint.h>

enum {
	HSWIN_INIT = 64,	 /* handshakes in flight before the proxy said anything */
	HSWIN_MIN = 4,		 /* a loss never shrinks it below this */
	HSWIN_FORGET_MS = 10000, /* this long without a loss: back to slow start */
};

struct hswin {
	uint32_t cap;	   /* --max-pending (this engine's share) */
	uint32_t size;	   /* handshakes allowed in flight */
	uint32_t ssthresh; /* below: +1 per answer; above: +1 per size answers */
	uint32_t acc;	   /* answers counted toward the next +1 above ssthresh */
	uint32_t inflight;
	uint64_t started;		 /* handshakes started: the tickets */
	uint64_t recover;		 /* a loss of a ticket <= this does not halve again */
	uint64_t last_loss, last_answer; /* caller's ms; 0 = never */
	uint32_t lowest, highest;	 /* of size, since init */
	uint64_t losses;		 /* loss signals, halving or not */
};

/* cap 0 is taken as 1. */
void hswin_init(struct hswin *w, uint32_t cap);
/* Room for one more handshake now? */
bool hswin_room(const struct hswin *w);
/* A handshake starts: its ticket, for hswin_loss and hswin_done. */
uint64_t hswin_start(struct hswin *w);
/* The handshake with this ticket saw a loss (it may still go on). */
void hswin_loss(struct hswin *w, uint64_t ticket, uint64_t now);
/*
 * A handshake ended (any ticket: only the count matters here): answered
 * (the proxy answered, and no loss was signalled for it) or not.
 */
void hswin_done(struct hswin *w, bool answered, uint64_t now);

#endif
