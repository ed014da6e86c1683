// SPDX-License-Identifier: GPL-2.0-only
/*
 * `up`'s privilege separation (see privsep.h): the parent's small loop
 * (signals, the engine's IPC, the restart timer) and the engine child's
 * start: close every fd but the socketpair, take the TUN from it, build the
 * engine, enter the sandbox, say ready, serve. Every message from the
 * engine is checked as hostile input; one that is not exactly what may come
 * gets the engine killed and restarted like a crash. Tearing down instead
 * would lift the killswitch, which an attacker in the engine must not be
 * able to cause.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "fd.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "privsep.h"
#include "url.h"
#include "watch.h"
#include "workers.h"

struct privsep {
	const struct privsep_cfg *cfg;
	struct loop loop;
	struct loop_io sig_io, ipc_io;
	struct timer restart, term;
	struct privsep_backoff bo;
	pid_t pid;    /* the engine, or -1 */
	uint32_t gen; /* engines started */
	bool ready;   /* this engine said IPC_READY */
	bool ever_ready;
	bool stopping;
	int status; /* privsep_run's return */
};

#define container(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

uint32_t privsep_backoff_next(struct privsep_backoff *b, uint64_t now)
{
	uint64_t oldest;

	b->death[b->n % PRIVSEP_LOOP_CRASHES] = now;
	b->n++;
	if (b->n < PRIVSEP_LOOP_CRASHES) {
		b->delay_ms = 0;
		return 0;
	}
	/* the slot written next holds the oldest of the last LOOP_CRASHES */
	oldest = b->death[b->n % PRIVSEP_LOOP_CRASHES];
	if (now - oldest >= PRIVSEP_LOOP_WINDOW_MS) {
		b->delay_ms = 0;
		return 0;
	}
	if (b->delay_ms == 0)
		b->delay_ms = PRIVSEP_BACKOFF_MIN_MS;
	else if (b->delay_ms < PRIVSEP_BACKOFF_MAX_MS / 2)
		b->delay_ms *= 2;
	else
		b->delay_ms = PRIVSEP_BACKOFF_MAX_MS;
	return b->delay_ms;
}

/* ---- the engine child ---- */

struct engine_run {
	struct loop loop;
	struct loop_io sig_io;
};

static void engine_sig_cb(struct loop_io *io, uint32_t events)
{
	struct engine_run *r = container(io, struct engine_run, sig_io);
	struct signalfd_siginfo si;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		r->loop.stop = true; /* SIGTERM from the parent: tearing down */
}

/* The hello: the generation and the fds, exactly as announced. */
static int take_hello(int sock, uint32_t *gen, int *tun_fds, int *nq, int *ctl_fd)
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
	*ctl_fd = m.nfds > h.queues ? m.fds[h.queues] : -1;
	return 0;
}

/* ctl: the other engines' counters for a status reply. */
static void workers_more(void *arg, struct ctl_more *m)
{
	workers_snapshot(arg, &m->eng, &m->tcp, &m->conns, &m->pending, &m->mem);
}

/* The workers on queues 1..nq-1, then every engine's counters. */
static void stop_engines(struct engine *eng, struct workers *ws)
{
	struct engine_stats es = { 0 };
	struct tcp_stats ts = { 0 };

	if (!ws->n) {
		engine_log_stats(eng);
		return;
	}
	workers_stop(ws, &es, &ts);
	log_info("TUN queue 0: sessions %llu", (unsigned long long)eng->stats.sessions_total);
	engine_log_stats_with(eng, &es, &ts); /* all engines together */
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

static noreturn void engine_child(int sock, const struct privsep_cfg *c, pid_t ppid)
{
	static struct tcp_shared shared; /* the limits of all engines together */
	struct engine_run run;
	struct engine eng = { .tun_fd = -1 };
	struct ctl_server ctl = { 0 };
	struct workers ws = { 0 };
	struct ipc_ready rd = { 0 };
	struct sandbox_cfg sbx = c->sandbox;
	struct engine_cfg ecfg = *c->ecfg;
	int tun_fds[IPC_MAX_QUEUES], nq, ctl_fd, sfd, ret;
	sigset_t term;

	/* Die with the parent; if it already died, getppid() shows it. */
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL) < 0 || getppid() != ppid)
		_exit(1);
	sock = fd_close_others(sock);
	if (sock < 0 || take_hello(sock, &rd.generation, tun_fds, &nq, &ctl_fd) < 0) {
		log_error("engine: no valid hello from the parent");
		_exit(1);
	}
	/* SIGINT and SIGHUP stay blocked: only the parent decides to stop. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	if (loop_init(&run.loop) < 0) {
		log_warn("engine: epoll");
		_exit(1);
	}
	sfd = signalfd(-1, &term, SFD_NONBLOCK | SFD_CLOEXEC);
	run.sig_io.cb = engine_sig_cb;
	if (sfd < 0 || loop_io_add(&run.loop, &run.sig_io, sfd, EPOLLIN) < 0) {
		log_warn("engine: signalfd");
		_exit(1);
	}
	if (nq > 1) {
		shared.nstacks = nq;
		ecfg.tcp.shared = &shared; /* queue 0's engine is stack 0 */
	}
	ret = engine_init(&eng, &run.loop, tun_fds[0], &ecfg);
	if (ret < 0) {
		if (ret != -EINVAL)
			log_error("engine: %s", strerror(-ret));
		_exit(1);
	}
	/* The control socket (status): served in this loop, from this engine. */
	if (ctl_fd >= 0) {
		ret = ctl_server_init(&ctl, &run.loop, &eng, ctl_fd, c->ctl_uid);
		if (ret < 0) {
			log_error("engine: control socket: %s", strerror(-ret));
			_exit(1);
		}
		ctl.up_pid = ppid;
	}
	/* Acquired: TUN queues, epoll, signalfd, the socketpair. Now shed everything. */
	sbx.parent = ppid;
	if (sandbox_enter(&sbx) < 0)
		_exit(1);
	/* Threads only now: the sandbox may unshare a user namespace, which a
	 * threaded process cannot, and capabilities are per thread. */
	ecfg.shared_pool = eng.pool; /* one name <-> fake address map for all queues */
	if (workers_start(&ws, tun_fds + 1, nq - 1, &ecfg) < 0)
		_exit(1);
	if (ws.n) {
		ctl.more = workers_more;
		ctl.more_arg = &ws;
	}
	if (ipc_send(sock, IPC_READY, &rd, sizeof(rd), NULL, 0) < 0)
		_exit(1);
	fault_ipc(sock, &rd);
	ret = loop_run(&run.loop);
	if (ret < 0)
		log_error("engine: event loop: %s", strerror(-ret));
	ctl_server_fini(&ctl);
	stop_engines(&eng, &ws); /* the workers use queue 0's resolver pool */
	engine_fini(&eng);
	_exit(ret < 0 ? 1 : 0);
}

/* ---- the parent ---- */

static void ipc_close(struct privsep *p)
{
	if (p->ipc_io.fd >= 0) {
		int fd = p->ipc_io.fd;

		loop_io_del(&p->loop, &p->ipc_io);
		close(fd);
	}
}

static void ipc_cb(struct loop_io *io, uint32_t events);

static int spawn(struct privsep *p)
{
	const struct privsep_cfg *c = p->cfg;
	struct ipc_hello h = { .fds = IPC_FD_TUN,
			       .generation = ++p->gen,
			       .queues = (uint32_t)c->nqueues };
	int fds[IPC_MAX_FDS], nfds = c->nqueues, sv[2], ret;
	pid_t pid, ppid = getpid();

	memcpy(fds, c->tun_fds, (size_t)c->nqueues * sizeof(int));
	if (c->ctl_fd >= 0) {
		h.fds |= IPC_FD_CTL;
		fds[nfds++] = c->ctl_fd;
	}

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("up: engine socketpair");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		log_warn("up: fork");
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		close(sv[0]);
		engine_child(sv[1], c, ppid);
	}
	close(sv[1]);
#ifdef PROXYVPN_FAULT
	/* test builds: only the first engine misbehaves */
	unsetenv("PROXYVPN_FAULT_SYSCALL");
	unsetenv("PROXYVPN_FAULT_IPC");
#endif
	p->pid = pid;
	p->ready = false;
	ret = ipc_send(sv[0], IPC_HELLO, &h, sizeof(h), fds, (unsigned int)nfds);
	if (ret < 0)
		log_debug("up: hello to the engine: %s", strerror(-ret)); /* SIGCHLD follows */
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0 ||
	    loop_io_add(&p->loop, &p->ipc_io, sv[0], EPOLLIN) < 0) {
		log_warn("up: engine socket");
		close(sv[0]);
		kill(pid, SIGKILL); /* reaped by the SIGCHLD path */
	}
	log_debug("up: engine %u started (pid %d)", p->gen, (int)pid);
	return 0;
}

static void restart_cb(struct timer *t)
{
	struct privsep *p = container(t, struct privsep, restart);

	if (p->stopping || p->pid > 0)
		return;
	if (spawn(p) < 0) {
		/* fork failed (memory, pids): try again later, killswitch holds */
		loop_timer_set(&p->loop, &p->restart, p->loop.now + PRIVSEP_BACKOFF_MIN_MS);
	}
}

/* The engine sent something it may not: kill it; the restart path follows. */
static void hostile(struct privsep *p, const char *why)
{
	log_error("up: engine pid %d: %s: killing it", (int)p->pid, why);
	ipc_close(p);
	if (p->pid > 0)
		kill(p->pid, SIGKILL);
}

static void ipc_cb(struct loop_io *io, uint32_t events)
{
	struct privsep *p = container(io, struct privsep, ipc_io);
	struct ipc_ready rd;
	struct ipc_msg m;
	int ret;

	(void)events;
	for (;;) {
		ret = ipc_recv(io->fd, &m);
		if (ret == -EAGAIN)
			return;
		if (ret == -EPIPE || ret == -ECONNRESET) {
			ipc_close(p); /* the engine is going: SIGCHLD follows */
			return;
		}
		if (ret < 0) {
			hostile(p, "malformed message");
			return;
		}
		/* Only one message may ever come: READY, once, of this generation. */
		if (m.nfds || m.type != IPC_READY || p->ready ||
		    ipc_get_data(&m, &rd, sizeof(rd)) < 0 || rd.generation != p->gen ||
		    rd.zero != 0) {
			ipc_msg_close(&m);
			hostile(p, "unexpected message");
			return;
		}
		p->ready = true;
		if (!p->ever_ready)
			log_info("up: the host's TCP goes through %s://%s:%u via %s",
				 url_scheme_name(p->cfg->ecfg->proxy->type),
				 p->cfg->ecfg->proxy->host, p->cfg->ecfg->proxy->port,
				 p->cfg->tun_name);
		else
			log_info("up: engine restarted (pid %d)", (int)p->pid);
		if (!p->ever_ready && p->cfg->watch)
			watch_engine_ready(p->cfg->watch); /* READY=1 once all is verified */
		p->ever_ready = true;
	}
}

static void describe_death(pid_t pid, int st)
{
	if (WIFSIGNALED(st))
		log_error("up: engine pid %d killed by signal %d%s", (int)pid, WTERMSIG(st),
			  WTERMSIG(st) == SIGSYS ? " (a syscall the sandbox forbids)" : "");
	else
		log_error("up: engine pid %d exited with status %d", (int)pid, WEXITSTATUS(st));
}

static void engine_died(struct privsep *p, int st)
{
	uint32_t delay;

	ipc_close(p);
	loop_timer_cancel(&p->loop, &p->term);
	if (p->stopping) {
		log_debug("up: engine stopped");
		p->pid = -1;
		p->loop.stop = true;
		return;
	}
	describe_death(p->pid, st);
	p->pid = -1;
	if (!p->ever_ready) {
		/* the first engine never came up: a setup problem, not a crash */
		log_error("up: the engine could not start: tearing down");
		p->status = -1;
		p->loop.stop = true;
		return;
	}
	delay = privsep_backoff_next(&p->bo, p->loop.now);
	if (delay)
		log_error("up: engine crash loop: next start in %u ms (the killswitch holds)",
			  delay);
	loop_timer_set(&p->loop, &p->restart, p->loop.now + delay);
}

static void term_expired(struct timer *t)
{
	struct privsep *p = container(t, struct privsep, term);

	if (p->pid > 0) {
		log_warnx("up: engine did not stop within %d ms: SIGKILL", PRIVSEP_TERM_MS);
		kill(p->pid, SIGKILL);
	}
}

static void stop(struct privsep *p)
{
	if (p->stopping)
		return;
	p->stopping = true;
	loop_timer_cancel(&p->loop, &p->restart);
	if (p->pid <= 0) {
		p->loop.stop = true;
		return;
	}
	kill(p->pid, SIGTERM);
	p->term.cb = term_expired;
	loop_timer_set(&p->loop, &p->term, p->loop.now + PRIVSEP_TERM_MS);
}

static void sig_cb(struct loop_io *io, uint32_t events)
{
	struct privsep *p = container(io, struct privsep, sig_io);
	struct signalfd_siginfo si;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo != SIGCHLD) {
			log_info("signal %u: tearing down", si.ssi_signo);
			stop(p);
			continue;
		}
		for (;;) {
			int st;
			pid_t pid = waitpid(-1, &st, WNOHANG);

			if (pid <= 0)
				break;
			if (pid == p->pid)
				engine_died(p, st);
		}
	}
}

int privsep_run(const struct privsep_cfg *c)
{
	struct privsep p = { .cfg = c,
			     .loop = LOOP_UNSET,
			     .sig_io = LOOP_IO_UNSET,
			     .ipc_io = LOOP_IO_UNSET,
			     .pid = -1 };
	sigset_t mask;
	int sfd = -1, ret;

	if (c->nqueues < 1 || c->nqueues > IPC_MAX_QUEUES)
		return -1;
	p.restart.cb = restart_cb;
	p.term.cb = term_expired;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if (loop_init(&p.loop) < 0) {
		log_warn("up: event loop");
		return -1;
	}
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	p.sig_io.cb = sig_cb;
	p.ipc_io.cb = ipc_cb;
	if (sfd < 0 || loop_io_add(&p.loop, &p.sig_io, sfd, EPOLLIN) < 0) {
		log_warn("up: signalfd");
		ret = -1;
		goto out;
	}
	/* the watcher (watch.h) first: what it finds missing is put back before any engine */
	if (c->watch && watch_attach(c->watch, &p.loop) < 0) {
		ret = -1; /* logged */
		goto out;
	}
	if (spawn(&p) < 0) {
		ret = -1;
		goto out;
	}
	ret = loop_run(&p.loop);
	if (ret < 0) {
		log_error("up: event loop: %s", strerror(-ret));
		ret = -1;
	} else {
		ret = p.status;
	}
out:
	if (p.pid > 0) {
		int st;

		kill(p.pid, SIGKILL);
		waitpid(p.pid, &st, 0);
	}
	ipc_close(&p);
	if (sfd >= 0)
		close(sfd);
	loop_fini(&p.loop);
	return ret;
}
