// SPDX-License-Identifier: GPL-2.0-only
/*
 * The handshake window (see hswin.h for the rule). Additive increase,
 * multiplicative decrease, on handshakes instead of segments: answers are
 * the ACKs, a connect the proxy's kernel dropped or a proxy that does not
 * answer its own part in time is the loss.
 */
#include "hswin.h"

static void note(struct hswin *w)
{
	if (w->size < w->lowest)
		w->lowest = w->size;
	if (w->size > w->highest)
		w->highest = w->size;
}

void hswin_init(struct hswin *w, uint32_t cap)
{
	*w = (struct hswin){ .cap = cap ? cap : 1 };
	w->size = w->cap < HSWIN_INIT ? w->cap : HSWIN_INIT;
	w->ssthresh = w->cap;
	w->lowest = w->highest = w->size;
}

bool hswin_room(const struct hswin *w)
{
	return w->inflight < w->size;
}

uint64_t hswin_start(struct hswin *w)
{
	w->inflight++;
	return ++w->started;
}

void hswin_loss(struct hswin *w, uint64_t ticket, uint64_t now)
{
	uint32_t floor = w->cap < HSWIN_MIN ? w->cap : HSWIN_MIN;

	w->losses++;
	w->last_loss = now ? now : 1;
	/*
	 * The handshakes in flight when the window was halved were sent at
	 * the old size: their losses tell nothing new (TCP's one decrease per
	 * window of data, RFC 5681 3.2 / RFC 6582).
	 */
	if (ticket <= w->recover)
		return;
	w->recover = w->started;
	w->size = w->size / 2 > floor ? w->size / 2 : floor;
	w->ssthresh = w->size;
	w->acc = 0;
	note(w);
}

void hswin_done(struct hswin *w, bool answered, uint64_t now)
{
	/* Only a window that was at least half used learns from an answer (RFC 7661). */
	bool used = w->inflight * 2 >= w->size;

	if (w->inflight)
		w->inflight--;
	if (!answered)
		return;
	w->last_answer = now ? now : 1;
	if (w->last_loss && now - w->last_loss >= HSWIN_FORGET_MS && w->ssthresh < w->cap) {
		w->ssthresh = w->cap; /* the proxy has coped for a while: probe fast again */
		w->last_loss = 0;
	}
	if (!used || w->size >= w->cap)
		return;
	if (w->size < w->ssthresh) {
		w->size++;
	} else if (++w->acc >= w->size) {
		w->acc = 0;
		w->size++;
	}
	note(w);
}
