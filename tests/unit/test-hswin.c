// SPDX-License-Identifier: GPL-2.0-only
/*
 * The handshake window's state machine (hswin.c): the start and the cap;
 * slow start doubles it per round of answers; a loss halves it once per
 * window (losses of handshakes started before the halving do not halve
 * again), never below HSWIN_MIN; above ssthresh it grows by one per
 * window's worth of answers; a quiet HSWIN_FORGET_MS brings slow start
 * back; an unused window does not grow; unanswered ends only free the
 * place; a proxy that refuses everything leaves it at the floor, and it
 * recovers once answers come.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hswin.h"

/*
 * One round trip under a backlog (a burst waiting): the window is kept full,
 * every handshake in flight is answered, and each answer's place is taken
 * at once by a waiting flow. Returns the new size.
 */
static uint32_t round_answered(struct hswin *w, uint64_t now)
{
	uint32_t n;

	while (hswin_room(w))
		hswin_start(w);
	for (n = w->inflight; n; n--) {
		hswin_done(w, true, now);
		while (hswin_room(w))
			hswin_start(w);
	}
	return w->size;
}

/* Ends every handshake in flight, unanswered (the burst is over). */
static void drain(struct hswin *w, uint64_t now)
{
	while (w->inflight)
		hswin_done(w, false, now);
}

static void test_init_cap(void **state)
{
	struct hswin w;

	(void)state;
	hswin_init(&w, 1000);
	assert_int_equal(w.size, HSWIN_INIT);
	assert_int_equal(w.ssthresh, 1000);
	hswin_init(&w, 10);
	assert_int_equal(w.size, 10);
	hswin_init(&w, 0);
	assert_int_equal(w.cap, 1);
	assert_int_equal(w.size, 1);
	/* room until size handshakes are in flight */
	hswin_init(&w, 3);
	assert_true(hswin_room(&w));
	assert_int_equal(hswin_start(&w), 1);
	assert_int_equal(hswin_start(&w), 2);
	assert_int_equal(hswin_start(&w), 3);
	assert_false(hswin_room(&w));
	hswin_done(&w, false, 5);
	assert_true(hswin_room(&w));
	assert_int_equal(w.size, 3); /* an end without an answer changes nothing but the count */
}

static void test_slow_start_to_cap(void **state)
{
	struct hswin w;

	(void)state;
	hswin_init(&w, 1000);
	assert_int_equal(round_answered(&w, 10), 128);
	assert_int_equal(round_answered(&w, 20), 256);
	assert_int_equal(round_answered(&w, 30), 512);
	assert_int_equal(round_answered(&w, 40), 1000); /* capped */
	assert_int_equal(round_answered(&w, 50), 1000);
	drain(&w, 60);
	assert_int_equal(w.size, 1000);
	assert_int_equal(w.highest, 1000);
	assert_int_equal(w.lowest, HSWIN_INIT);
	assert_int_equal(w.last_answer, 50);
}

static void test_loss_halves_once_per_window(void **state)
{
	struct hswin w;
	uint64_t t[64];
	int i;

	(void)state;
	hswin_init(&w, 1000);
	for (i = 0; i < 64; i++)
		t[i] = hswin_start(&w);
	/* A whole window lost (a proxy that stopped accepting): one halving. */
	for (i = 0; i < 64; i++)
		hswin_loss(&w, t[i], 100);
	assert_int_equal(w.size, 32);
	assert_int_equal(w.ssthresh, 32);
	assert_int_equal(w.losses, 64);
	for (i = 0; i < 64; i++)
		hswin_done(&w, false, 100);
	assert_int_equal(w.inflight, 0);
	/* A handshake started after the halving halves again. */
	t[0] = hswin_start(&w);
	hswin_loss(&w, t[0], 200);
	hswin_done(&w, false, 200);
	assert_int_equal(w.size, 16);
	assert_int_equal(w.lowest, 16);
}

static void test_floor(void **state)
{
	struct hswin w;
	int i;

	(void)state;
	hswin_init(&w, 1000);
	/* A proxy that refuses every connect, one after the other. */
	for (i = 0; i < 20; i++) {
		uint64_t t = hswin_start(&w);

		hswin_loss(&w, t, 10 + (uint64_t)i);
		hswin_done(&w, false, 10 + (uint64_t)i);
	}
	assert_int_equal(w.size, HSWIN_MIN);
	assert_int_equal(w.lowest, HSWIN_MIN);
	/* A cap below the floor is the floor. */
	hswin_init(&w, 2);
	hswin_loss(&w, hswin_start(&w), 5);
	assert_int_equal(w.size, 2);
}

static void test_congestion_avoidance(void **state)
{
	struct hswin w;

	(void)state;
	hswin_init(&w, 1000);
	hswin_loss(&w, hswin_start(&w), 1); /* 64 -> 32, ssthresh 32 */
	hswin_done(&w, false, 1);
	assert_int_equal(w.size, 32);
	/* Above ssthresh: +1 per window of answers, not per answer. */
	assert_int_equal(round_answered(&w, 2), 33);
	assert_int_equal(round_answered(&w, 3), 34);
	assert_int_equal(round_answered(&w, 4), 35);
	drain(&w, 5);
	assert_int_equal(w.ssthresh, 32);
}

static void test_forget(void **state)
{
	struct hswin w;

	(void)state;
	hswin_init(&w, 1000);
	hswin_loss(&w, hswin_start(&w), 1000);
	hswin_done(&w, false, 1000);
	assert_int_equal(w.size, 32);
	/* Answers within HSWIN_FORGET_MS of the loss: linear growth. */
	assert_int_equal(round_answered(&w, 1000 + HSWIN_FORGET_MS - 1), 33);
	/* Quiet long enough: slow start again, up to the cap. */
	assert_int_equal(round_answered(&w, 1000 + HSWIN_FORGET_MS), 66);
	assert_int_equal(w.ssthresh, 1000);
	assert_int_equal(round_answered(&w, 1000 + HSWIN_FORGET_MS + 1), 132);
	drain(&w, 1000 + HSWIN_FORGET_MS + 2);
}

static void test_unused_does_not_grow(void **state)
{
	struct hswin w;
	int i;

	(void)state;
	hswin_init(&w, 1000);
	/* A browser's handful at a time: answered, but the window was never needed. */
	for (i = 0; i < 1000; i++) {
		hswin_start(&w);
		hswin_done(&w, true, 10);
	}
	assert_int_equal(w.size, HSWIN_INIT);
	/* Half used is used. */
	for (i = 0; i < 32; i++)
		hswin_start(&w);
	hswin_done(&w, true, 11);
	assert_int_equal(w.size, HSWIN_INIT + 1);
}

static void test_recovers(void **state)
{
	struct hswin w;
	int i;

	(void)state;
	hswin_init(&w, 256);
	assert_int_equal(round_answered(&w, 10), 128);
	assert_int_equal(round_answered(&w, 20), 256);
	drain(&w, 30);
	/* The proxy refuses for a while: down to the floor. */
	for (i = 0; i < 10; i++) {
		uint64_t t = hswin_start(&w);

		hswin_loss(&w, t, 100 + (uint64_t)i);
		hswin_done(&w, false, 100 + (uint64_t)i);
	}
	assert_int_equal(w.size, HSWIN_MIN);
	/* It answers again: linear at first, then slow start after the quiet period. */
	assert_int_equal(round_answered(&w, 200), HSWIN_MIN + 1);
	for (i = 0; i < 8 && w.size < 256; i++)
		round_answered(&w, 200 + HSWIN_FORGET_MS + (uint64_t)i);
	drain(&w, 300 + HSWIN_FORGET_MS);
	assert_int_equal(w.size, 256);
	assert_int_equal(w.lowest, HSWIN_MIN);
	assert_int_equal(w.highest, 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_cap),
		cmocka_unit_test(test_slow_start_to_cap),
		cmocka_unit_test(test_loss_halves_once_per_window),
		cmocka_unit_test(test_floor),
		cmocka_unit_test(test_congestion_avoidance),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_unused_does_not_grow),
		cmocka_unit_test(test_recovers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
