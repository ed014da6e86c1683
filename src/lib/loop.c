// SPDX-License-Identifier: GPL-2.0-only
/*
 * epoll + timer heap. Timer callbacks run before fd events are waited for;
 * an idle hook runs after each batch so the stack can flush coalesced ACKs
 * and reap closed connections outside of any callback.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

enum { LOOP_MAX_EVENTS = 128 };

uint64_t loop_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int loop_init(struct loop *l)
{
	*l = (struct loop){ .epfd = -1 };
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->now = loop_clock_ms();
	return 0;
}

void loop_fini(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
	free(l->heap);
	l->heap = NULL;
	l->nheap = l->capheap = 0;
}

int loop_io_add(struct loop *l, struct loop_io *io, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	io->fd = fd;
	io->events = events;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		io->fd = -1;
		return -errno;
	}
	return 0;
}

int loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (io->events == events)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

void loop_io_del(struct loop *l, struct loop_io *io)
{
	if (io->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->fd = -1;
	io->events = 0;
}

/* Heap slots are 0-based; t->idx stores slot + 1 so 0 means unarmed. */
static void heap_place(struct loop *l, size_t i, struct timer *t)
{
	l->heap[i] = t;
	t->idx = i + 1;
}

static void sift_up(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (l->heap[parent]->when <= t->when)
			break;
		heap_place(l, i, l->heap[parent]);
		i = parent;
	}
	heap_place(l, i, t);
}

static void sift_down(struct loop *l, size_t i)
{
	struct timer *t = l->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->when < l->heap[c]->when)
			c++;
		if (t->when <= l->heap[c]->when)
			break;
		heap_place(l, i, l->heap[c]);
		i = c;
	}
	heap_place(l, i, t);
}

void loop_timer_cancel(struct loop *l, struct timer *t)
{
	size_t i;
	struct timer *last;

	if (!t->idx)
		return;
	i = t->idx - 1;
	t->idx = 0;
	last = l->heap[--l->nheap];
	if (i == l->nheap)
		return;
	heap_place(l, i, last);
	sift_down(l, i);
	sift_up(l, last->idx - 1);
}

void loop_timer_set(struct loop *l, struct timer *t, uint64_t when)
{
	if (t->idx) {
		size_t i = t->idx - 1;
		uint64_t old = t->when;

		t->when = when;
		if (when < old)
			sift_up(l, i);
		else
			sift_down(l, i);
		return;
	}
	if (l->nheap == l->capheap) {
		size_t cap = l->capheap ? l->capheap * 2 : 64;
		struct timer **h = realloc(l->heap, cap * sizeof(*h));

		if (!h)
			abort(); /* a timer we cannot arm is a connection we cannot bound */
		l->heap = h;
		l->capheap = cap;
	}
	t->when = when;
	heap_place(l, l->nheap++, t);
	sift_up(l, l->nheap - 1);
}

static int next_timeout(struct loop *l)
{
	uint64_t d;

	if (!l->nheap)
		return -1;
	if (l->heap[0]->when <= l->now)
		return 0;
	d = l->heap[0]->when - l->now;
	return d > 60000 ? 60000 : (int)d;
}

void loop_run_timers(struct loop *l)
{
	/* Bounded: a callback re-arming itself for "now" runs next iteration. */
	size_t budget = l->nheap;

	while (l->nheap && l->heap[0]->when <= l->now && budget--) {
		struct timer *t = l->heap[0];

		loop_timer_cancel(l, t);
		t->cb(t);
	}
}

int loop_run(struct loop *l)
{
	struct epoll_event ev[LOOP_MAX_EVENTS];

	while (!l->stop) {
		int n, i;

		l->now = loop_clock_ms();
		loop_run_timers(l);
		if (l->idle)
			l->idle(l, l->idle_arg);
		if (l->stop)
			break;
		n = epoll_wait(l->epfd, ev, LOOP_MAX_EVENTS, next_timeout(l));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		l->now = loop_clock_ms();
		for (i = 0; i < n && !l->stop; i++) {
			struct loop_io *io = ev[i].data.ptr;

			/* A callback earlier in this batch may have removed it. */
			if (io->fd < 0)
				continue;
			io->cb(io, ev[i].events);
		}
		if (l->idle)
			l->idle(l, l->idle_arg);
	}
	return 0;
}
