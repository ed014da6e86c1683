/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The event loop: epoll for fds, a binary min-heap for timers, a
 * millisecond monotonic clock read once per iteration. The only
 * epoll_wait() in the tree. Single-threaded; callbacks may add, change and
 * remove any fd or timer, including their own.
 */
#ifndef PROXYVPN_LOOP_H
#define PROXYVPN_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop_io {
	int fd;
	uint32_t events; /* EPOLLIN | EPOLLOUT currently registered */
	void (*cb)(struct loop_io *io, uint32_t events);
};

struct timer {
	uint64_t when; /* ms, loop clock */
	size_t idx;    /* heap slot + 1; 0 = not armed */
	void (*cb)(struct timer *t);
};

struct loop {
	int epfd;
	uint64_t now; /* ms since an arbitrary point */
	bool stop;
	struct timer **heap;
	size_t nheap, capheap;
	void (*idle)(struct loop *l, void *arg); /* after each batch of events */
	void *idle_arg;
};

/*
 * Initialisers for a loop and an io not set up yet, so that teardown after a
 * failure at any step (loop_fini, loop_io_del, a close of io.fd) never
 * touches fd 0, a valid fd when the caller started with stdin closed.
 */
/* clang-format off */
#define LOOP_UNSET    { .epfd = -1 }
#define LOOP_IO_UNSET { .fd = -1 }
/* clang-format on */

/* 0 or -errno (l->epfd is -1 then). */
int loop_init(struct loop *l);
void loop_fini(struct loop *l);

/* Registers fd for events (EPOLLIN/EPOLLOUT; edge- or level-triggered as given). */
int loop_io_add(struct loop *l, struct loop_io *io, int fd, uint32_t events);
int loop_io_mod(struct loop *l, struct loop_io *io, uint32_t events);
/* Safe on an io that was never added (fd < 0). Does not close the fd. */
void loop_io_del(struct loop *l, struct loop_io *io);

void loop_timer_set(struct loop *l, struct timer *t, uint64_t when);
void loop_timer_cancel(struct loop *l, struct timer *t);
static inline bool timer_armed(const struct timer *t)
{
	return t->idx != 0;
}

uint64_t loop_clock_ms(void);

/* Runs the timers due at l->now (loop_run does this; tests drive it by hand). */
void loop_run_timers(struct loop *l);

/* Runs until l->stop. Returns 0, or -errno if epoll_wait fails. */
int loop_run(struct loop *l);

#endif
