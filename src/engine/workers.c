// SPDX-License-Identifier: GPL-2.0-only
/*
 * Engine workers, one thread per extra TUN queue (see workers.h). The only
 * thing a worker shares with the others is the process: its loop, engine,
 * sessions and sockets are its own. The caller talks to it through an
 * eventfd: a count below WK_STOP asks it to drain, WK_STOP or more to stop.
 * Its counters reach other threads (`up`'s control socket) only through the
 * copy it publishes under a mutex every WK_SNAP_MS.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "ctl-proto.h"
#include "fault.h"
#include "log.h"
#include "workers.h"

#define WK_STOP	   ((uint64_t)1 << 32)
#define WK_SNAP_MS 500 /* how often a worker publishes its counters */

/* A worker's counters as of its last snapshot, for another thread to read. */
struct snap {
	pthread_mutex_t mu;
	struct engine_stats es;
	struct tcp_stats ts;
	size_t conns, pending, mem;
	struct ctl_window win;
};

struct worker {
	int id;
	pthread_t th;
	bool running; /* thread started, not joined yet */
	struct loop loop;
	struct engine eng;
	struct loop_io ev_io;
	struct timer snap_timer;
	struct snap snap;
};

static void snap_take(struct worker *w)
{
	struct engine_stats es = { 0 };
	struct tcp_stats ts = { 0 };
	const struct tcp_stack *st = w->eng.tcp;

	if (!st)
		return;
	engine_stats_add(&w->eng, &es, &ts);
	pthread_mutex_lock(&w->snap.mu);
	w->snap.es = es;
	w->snap.ts = ts;
	w->snap.conns = tcp_stack_conns(st);
	w->snap.pending = tcp_stack_pending(st);
	w->snap.mem = tcp_stack_mem(st);
	w->snap.win = (struct ctl_window){ 0 };
	engine_window_add(&w->eng, &w->snap.win);
	pthread_mutex_unlock(&w->snap.mu);
}

static void snap_cb(struct timer *t)
{
	struct worker *w = (struct worker *)((char *)t - offsetof(struct worker, snap_timer));

	snap_take(w);
	loop_timer_set(&w->loop, t, w->loop.now + WK_SNAP_MS);
}

static void ev_cb(struct loop_io *io, uint32_t events)
{
	struct worker *w = (struct worker *)((char *)io - offsetof(struct worker, ev_io));
	uint64_t v;

	(void)events;
	if (read(io->fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return;
	if (v >= WK_STOP)
		w->loop.stop = true;
	else
		engine_drain(&w->eng, ENGINE_DRAIN_MS);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int ret = loop_run(&w->loop);

	if (ret < 0)
		log_error("worker %d: event loop: %s", w->id, strerror(-ret));
	return NULL;
}

static void worker_fini(struct worker *w)
{
	int fd = w->ev_io.fd;

	loop_timer_cancel(&w->loop, &w->snap_timer);
	pthread_mutex_destroy(&w->snap.mu);
	engine_fini(&w->eng);
	if (fd >= 0) {
		loop_io_del(&w->loop, &w->ev_io);
		close(fd);
	}
	loop_fini(&w->loop);
}

/* Loop, engine and control eventfd on fd; the thread is started by the caller. */
static int worker_init(struct worker *w, int id, int fd, const struct engine_cfg *ecfg)
{
	struct engine_cfg c = *ecfg, *cfg = &c;
	int ev, ret;

	c.tcp.shared_idx = id;
	w->id = id;
	w->eng = (struct engine)ENGINE_INIT;
	w->ev_io.fd = -1;
	w->snap_timer.cb = snap_cb;
	ret = loop_init(&w->loop);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	pthread_mutex_init(&w->snap.mu, NULL);
	ret = engine_init(&w->eng, &w->loop, fd, cfg); /* owns fd now, even on failure */
	if (ret < 0) {
		pthread_mutex_destroy(&w->snap.mu);
		engine_fini(&w->eng);
		loop_fini(&w->loop);
		return ret;
	}
	ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->ev_io.cb = ev_cb;
	if (ev < 0 || loop_io_add(&w->loop, &w->ev_io, ev, EPOLLIN) < 0) {
		ret = -errno;
		if (ev >= 0)
			close(ev);
		w->ev_io.fd = -1;
		worker_fini(w);
		return ret;
	}
	snap_take(w);
	loop_timer_set(&w->loop, &w->snap_timer, w->loop.now + WK_SNAP_MS);
	return 0;
}

static void signal_worker(struct worker *w, uint64_t v)
{
	if (w->running && write(w->ev_io.fd, &v, sizeof(v)) < 0)
		log_warn("worker %d: eventfd", w->id);
}

int workers_start(struct workers *ws, const int *fds, int n, const struct engine_cfg *cfg)
{
	int i, ret = 0;

	memset(ws, 0, sizeof(*ws));
	if (n <= 0)
		return 0;
	/*
	 * One malloc arena for every thread: glibc's per-thread arenas read
	 * /proc/sys/vm/overcommit_memory when they shrink, and the sandbox
	 * (entered before this) forbids opening files. The engines allocate
	 * per connection, not per packet, so the shared arena costs nothing.
	 */
	mallopt(M_ARENA_MAX, 1);
	ws->w = calloc((size_t)n, sizeof(*ws->w));
	if (!ws->w) {
		for (i = 0; i < n; i++)
			close(fds[i]);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct worker *w = &ws->w[i];

		ret = ret < 0 ? ret : worker_init(w, i + 1, fds[i], cfg);
		if (ret < 0) {
			if (w->id == 0)
				close(fds[i]); /* not reached by worker_init */
			continue;
		}
		ws->n = i + 1;
		ret = -pthread_create(&w->th, NULL, worker_main, w);
		if (ret < 0) {
			worker_fini(w);
			ws->n = i;
			continue;
		}
		w->running = true;
	}
	if (ret < 0) {
		log_error("engine workers: %s", strerror(-ret));
		workers_stop(ws, NULL, NULL);
	}
	return ret;
}

void workers_drain(struct workers *ws)
{
	int i;

	if (ws->draining)
		return;
	ws->draining = true;
	for (i = 0; i < ws->n; i++)
		signal_worker(&ws->w[i], 1);
}

void workers_snapshot(struct workers *ws, struct engine_stats *es, struct tcp_stats *ts,
		      size_t *conns, size_t *pending, size_t *mem, struct ctl_window *win)
{
	int i;

	for (i = 0; i < ws->n; i++) {
		struct snap *p = &ws->w[i].snap;
		size_t k;

		if (!ws->w[i].running)
			continue;
		pthread_mutex_lock(&p->mu);
		for (k = 0; k < sizeof(*es) / sizeof(uint64_t); k++)
			((uint64_t *)es)[k] += ((const uint64_t *)&p->es)[k];
		for (k = 0; k < sizeof(*ts) / sizeof(uint64_t); k++)
			((uint64_t *)ts)[k] += ((const uint64_t *)&p->ts)[k];
		*conns += p->conns;
		*pending += p->pending;
		*mem += p->mem;
		for (k = 0; k < sizeof(*win) / sizeof(uint64_t); k++)
			((uint64_t *)win)[k] += ((const uint64_t *)&p->win)[k];
		pthread_mutex_unlock(&p->mu);
	}
}

void workers_stop(struct workers *ws, struct engine_stats *es, struct tcp_stats *ts)
{
	int i;

	for (i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];
		struct engine_stats own = { 0 };
		struct tcp_stats town = { 0 };

		if (!w->running)
			continue;
		if (!ws->draining)
			signal_worker(w, WK_STOP);
		pthread_join(w->th, NULL);
		w->running = false;
		engine_stats_add(&w->eng, &own, &town);
		log_info("TUN queue %d: sessions %llu", w->id,
			 (unsigned long long)own.sessions_total);
		fault_log_stats(w->eng.fault); /* test builds: each engine has its own */
		if (es)
			engine_stats_add(&w->eng, es, ts);
		worker_fini(w);
	}
	free(ws->w);
	memset(ws, 0, sizeof(*ws));
}
