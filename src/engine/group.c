// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine group (see group.h) and `up`'s engine process on top of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl.h"
#include "group.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "workers.h"

struct engine_group {
	struct engine eng;	  /* queue 0's, on the caller's loop */
	struct workers ws;	  /* queues 1..n-1 */
	struct ctl_server ctl;	  /* up: the control socket, in queue 0's loop */
	struct tcp_shared shared; /* the limits of all engines together */
};

/* ctl: the other engines' counters for a status reply. */
static void workers_more(void *arg, struct ctl_more *m)
{
	workers_snapshot(arg, &m->eng, &m->tcp, &m->conns, &m->pending, &m->mem, &m->win);
}

static void close_fds(const int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int engine_group_start(struct engine_group **out, struct loop *loop,
		       const struct engine_group_cfg *c)
{
	struct engine_cfg ecfg = *c->ecfg;
	struct engine_group *g;
	int ret;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g) {
		log_error("engine: %s", strerror(ENOMEM));
		close_fds(c->tun_fds, c->nq);
		return -ENOMEM;
	}
	g->eng = (struct engine)ENGINE_INIT;
	engine_limits_default(&ecfg, c->nq);
	if (c->nq > 1) {
		g->shared.nstacks = c->nq;
		ecfg.tcp.shared = &g->shared; /* queue 0's engine is stack 0 */
	}
	ret = engine_init(&g->eng, loop, c->tun_fds[0], &ecfg); /* takes queue 0 */
	if (ret < 0) {
		if (ret != -EINVAL) /* a bad setting: engine_init named it */
			log_error("engine: %s", strerror(-ret));
		goto err_engine;
	}
	/* The control connections (status): served in this loop, from this engine. */
	if (c->ctl) {
		ctl_server_init(&g->ctl, loop, &g->eng);
		g->ctl.up_pid = c->up_pid;
	}
	/*
	 * Everything is acquired (TUN queue 0, epoll, the caller's fds): shed
	 * every privilege before the first packet.
	 */
	ret = sandbox_enter(&c->sandbox);
	if (ret < 0)
		goto err_ctl;
	/*
	 * Threads only now: capabilities are per thread, and the sandbox may
	 * unshare a user namespace, which a threaded process cannot.
	 */
	ecfg.shared_pool = engine_pool(&g->eng); /* one name <-> fake address map for all */
	ecfg.upfail = engine_upfail(&g->eng);	 /* one line per cause for all */
	ret = workers_start(&g->ws, c->tun_fds + 1, c->nq - 1, &ecfg); /* takes the rest; logs */
	if (ret < 0)
		goto err_workers;
	if (g->ws.n) {
		g->ctl.more = workers_more;
		g->ctl.more_arg = &g->ws;
	}
	*out = g;
	return 0;

err_engine:
err_ctl:
	close_fds(c->tun_fds + 1, c->nq - 1);
err_workers:
	ctl_server_fini(&g->ctl);
	engine_fini(&g->eng);
	free(g);
	return ret;
}

void engine_group_ctl(struct engine_group *g, int fd)
{
	if (!g->ctl.loop) {
		close(fd);
		return;
	}
	ctl_server_take(&g->ctl, fd);
}

void engine_group_drain(struct engine_group *g, uint32_t ms)
{
	engine_drain(&g->eng, ms);
	workers_drain(&g->ws);
}

void engine_group_stop(struct engine_group *g, bool log_stats)
{
	struct engine_stats es = { 0 };
	struct tcp_stats ts = { 0 };
	bool workers = g && g->ws.n;

	if (!g)
		return;
	ctl_server_fini(&g->ctl);	/* it reads the workers' counters */
	workers_stop(&g->ws, &es, &ts); /* once their drains are over too */
	if (log_stats && workers) {
		struct engine_stats own = { 0 };
		struct tcp_stats town = { 0 };

		engine_stats_add(&g->eng, &own, &town);
		log_info("TUN queue 0: sessions %llu", (unsigned long long)own.sessions_total);
		engine_log_stats_with(&g->eng, &es, &ts); /* all engines together */
	} else if (log_stats) {
		engine_log_stats(&g->eng);
	}
	engine_fini(&g->eng); /* the workers used its resolver pool */
	free(g);
}

/* ---- up's engine process ---- */

struct engine_run {
	struct loop loop;
	struct loop_io sig_io;
	struct loop_io ipc_io; /* the parent, after IPC_READY */
	struct engine_group *g;
	uint32_t gen;
	int status;
};

static void sig_cb(struct loop_io *io, uint32_t events)
{
	struct engine_run *r =
		(struct engine_run *)((char *)io - offsetof(struct engine_run, sig_io));
	struct signalfd_siginfo si;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		r->loop.stop = true; /* SIGTERM from the parent: tearing down */
}

/*
 * What the parent sends once the engine is ready: a ping to answer, a
 * control connection to serve. Anything else, or EOF (the parent is gone,
 * and PR_SET_PDEATHSIG follows), ends the engine.
 */
static void ipc_cb(struct loop_io *io, uint32_t events)
{
	struct engine_run *r =
		(struct engine_run *)((char *)io - offsetof(struct engine_run, ipc_io));
	struct ipc_msg m;
	struct ipc_ctl cc;
	struct ipc_ping pong = { .generation = r->gen };
	int ret;

	(void)events;
	for (;;) {
		ret = ipc_recv(io->fd, &m);
		if (ret == -EAGAIN || ret == -EINTR)
			return;
		if (ret == 0 && ipc_ping_check(&m, IPC_PING, r->gen, &pong.seq) == 0) {
			/* a full socket drops it: the parent notices if it goes on */
			ipc_send(io->fd, IPC_PONG, &pong, sizeof(pong), NULL, 0);
			continue;
		}
		if (ret == 0 && ipc_ctl_check(&m, &cc) == 0) {
			log_debug("engine: control connection of uid %u", cc.uid);
			engine_group_ctl(r->g, m.fds[0]);
			continue;
		}
		if (ret != -EPIPE) {
			log_error("engine: unexpected message from the parent: stopping");
			r->status = 1;
		}
		ipc_msg_close(&m);
		r->loop.stop = true;
		return;
	}
}

/* The hello: the generation and the fds, exactly as announced. */
static int take_hello(int sock, uint32_t *gen, int *tun_fds, int *nq)
{
	struct ipc_hello h;
	struct ipc_msg m;
	unsigned int i;
	int ret;

	ret = ipc_recv(sock, &m);
	if (ret < 0)
		return ret;
	if (ipc_hello_check(&m, &h) < 0) {
		ipc_msg_close(&m);
		return -EBADMSG;
	}
	*gen = h.generation;
	for (i = 0; i < h.queues; i++)
		tun_fds[i] = m.fds[i];
	*nq = (int)h.queues;
	return 0;
}

#ifdef PROXYVPN_FAULT
/*
 * Test builds: PROXYVPN_FAULT_IPC=ready|garbage makes the first engine
 * send, after its IPC_READY, a second READY or a record with a bad
 * header: the parent must kill and restart it.
 */
static void fault_ipc(int sock, const struct ipc_ready *rd)
{
	static const uint8_t garbage[] = { 2, 0, 8, 0, 1, 0, 0, 0, 1 }; /* len 8, 1 byte */
	const char *s = getenv("PROXYVPN_FAULT_IPC");

	if (!s)
		return;
	log_info("PROXYVPN_FAULT_IPC: sending %s", s);
	if (!strcmp(s, "ready"))
		ipc_send(sock, IPC_READY, rd, sizeof(*rd), NULL, 0);
	else
		send(sock, garbage, sizeof(garbage), MSG_NOSIGNAL);
}
#else
static void fault_ipc(int sock, const struct ipc_ready *rd)
{
	(void)sock;
	(void)rd;
}
#endif

int engine_main(int sock, const struct engine_main_cfg *c)
{
	struct engine_run run = { .loop = LOOP_UNSET,
				  .sig_io = LOOP_IO_UNSET,
				  .ipc_io = LOOP_IO_UNSET };
	struct engine_group_cfg gc = {
		.ecfg = c->ecfg,
		.sandbox = c->sandbox,
		.ctl = true,
		.up_pid = c->parent,
	};
	struct engine_group *g;
	struct ipc_ready rd = { 0 };
	int tun_fds[IPC_MAX_QUEUES], sfd = -1, ret, status = 1;
	sigset_t term;

	if (take_hello(sock, &rd.generation, tun_fds, &gc.nq) < 0) {
		log_error("engine: no valid hello from the parent");
		return 1;
	}
	run.gen = rd.generation;
	gc.tun_fds = tun_fds;
	gc.sandbox.parent = c->parent;
	/* SIGINT and SIGHUP stay blocked: only the parent decides to stop. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	run.sig_io.cb = sig_cb;
	if (loop_init(&run.loop) < 0) {
		log_warn("engine: epoll");
		goto err_fds;
	}
	sfd = signalfd(-1, &term, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || loop_io_add(&run.loop, &run.sig_io, sfd, EPOLLIN) < 0) {
		log_warn("engine: signalfd");
		goto err_fds;
	}
	if (engine_group_start(&g, &run.loop, &gc) < 0) /* takes the fds */
		goto out;
	run.g = g;
	run.ipc_io.cb = ipc_cb;
	if (ipc_send(sock, IPC_READY, &rd, sizeof(rd), NULL, 0) < 0 ||
	    fcntl(sock, F_SETFL, O_NONBLOCK) < 0 ||
	    loop_io_add(&run.loop, &run.ipc_io, sock, EPOLLIN) < 0) {
		engine_group_stop(g, false); /* the parent is gone: so are we */
		goto out;
	}
	fault_ipc(sock, &rd);
	ret = loop_run(&run.loop);
	if (ret < 0)
		log_error("engine: event loop: %s", strerror(-ret));
	else
		status = run.status;
	loop_io_del(&run.loop, &run.ipc_io); /* the caller closes sock */
	engine_group_stop(g, true);
	goto out;
err_fds:
	close_fds(tun_fds, gc.nq);
out:
	if (sfd >= 0)
		close(sfd);
	loop_fini(&run.loop);
	return status;
}
