// SPDX-License-Identifier: GPL-2.0-only
/*
 * `up`'s privilege separation (see privsep.h): the parent's small loop
 * (signals, the engine's IPC, the restart timer, the heartbeat, the
 * control socket's connections) and the engine child's
 * start: close every fd but the socketpair, then engine_main() (group.h)
 * takes the TUN from it, builds the engines, enters the sandbox, says
 * ready and serves. Every message from the
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

#include "ctl-sock.h"
#include "fd.h"
#include "group.h"
#include "ipc.h"
#include "log.h"
#include "loop.h"
#include "privsep.h"
#include "url.h"
#include "watch.h"

struct privsep {
	const struct privsep_cfg *cfg;
	struct loop loop;
	struct loop_io sig_io, ipc_io;
	struct loop_io ctl_io; /* the control socket: accepted and checked here */
	struct timer restart, term;
	struct timer hb;  /* the heartbeat, every PRIVSEP_PING_MS */
	uint64_t born;	  /* when this engine was forked, loop ms */
	uint64_t ping_at; /* when the ping in flight left, 0: none in flight */
	uint32_t ping_seq;
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

static noreturn void engine_child(int sock, const struct privsep_cfg *c, pid_t ppid)
{
	struct engine_main_cfg mc = {
		.ecfg = c->ecfg,
		.sandbox = c->sandbox,
		.parent = ppid,
	};

	/* Die with the parent; if it already died, getppid() shows it. */
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL) < 0 || getppid() != ppid)
		_exit(1);
	sock = fd_close_others(sock);
	if (sock < 0) {
		log_error("engine: cannot close the parent's fds");
		_exit(1);
	}
	_exit(engine_main(sock, &mc));
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
	p->born = p->loop.now;
	p->ping_at = 0;
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

/* Kills the engine (logged by the caller); the restart path follows. */
static void hostile_quiet(struct privsep *p)
{
	ipc_close(p);
	if (p->pid > 0)
		kill(p->pid, SIGKILL);
}

/* The engine sent something it may not: kill it; the restart path follows. */
static void hostile(struct privsep *p, const char *why)
{
	log_error("up: engine pid %d: %s: killing it", (int)p->pid, why);
	hostile_quiet(p);
}

static void ipc_cb(struct loop_io *io, uint32_t events)
{
	struct privsep *p = container(io, struct privsep, ipc_io);
	struct ipc_ready rd;
	struct ipc_msg m;
	uint32_t seq;
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
		/* The answer to the ping in flight, and only that. */
		if (m.type == IPC_PONG) {
			if (!p->ready || !p->ping_at ||
			    ipc_ping_check(&m, IPC_PONG, p->gen, &seq) < 0 || seq != p->ping_seq) {
				ipc_msg_close(&m);
				hostile(p, "unexpected message");
				return;
			}
			p->ping_at = 0;
			continue;
		}
		/* Else only READY, once, of this generation. */
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

/* ---- the heartbeat ---- */

/*
 * An engine that stops answering (SIGSTOP, an endless loop, a deadlock)
 * holds the TUN while the host's TCP hangs: kill it, and the restart path
 * starts another, as after a crash. The killswitch holds meanwhile. Any
 * process of the engine's uid could send that SIGSTOP: that uid is the
 * proxyvpn user's or the owner's own, never nobody's (sandbox.h).
 */
static void heartbeat_cb(struct timer *t)
{
	struct privsep *p = container(t, struct privsep, hb);
	struct ipc_ping ping = { .generation = p->gen };
	uint64_t now = p->loop.now;
	int ret;

	loop_timer_set(&p->loop, &p->hb, now + PRIVSEP_PING_MS);
	if (p->pid <= 0 || p->stopping || p->ipc_io.fd < 0)
		return;
	if (!p->ready && now - p->born >= PRIVSEP_READY_MS) {
		log_error("up: engine pid %d not ready after %d ms: killing it", (int)p->pid,
			  PRIVSEP_READY_MS);
		hostile_quiet(p);
		return;
	}
	if (!p->ready)
		return;
	if (p->ping_at) {
		if (now - p->ping_at >= PRIVSEP_HANG_MS) {
			log_error("up: engine pid %d has not answered for %llu ms (stopped or "
				  "stuck): killing it",
				  (int)p->pid, (unsigned long long)(now - p->ping_at));
			hostile_quiet(p);
		}
		return;
	}
	ping.seq = ++p->ping_seq;
	ret = ipc_send(p->ipc_io.fd, IPC_PING, &ping, sizeof(ping), NULL, 0);
	if (ret < 0 && ret != -EAGAIN)
		log_debug("up: ping to the engine: %s", strerror(-ret));
	p->ping_at = now ? now : 1; /* unsent (a full socket): unanswered all the same */
}

/* ---- control connections ---- */

/*
 * The control socket is the parent's: it accepts, checks the peer with the
 * credentials the kernel gives in the host's user namespace (ctl_accept),
 * and hands what it lets through to the engine, which serves it. Refused
 * and unserved connections are closed unanswered.
 */
static void ctl_cb(struct loop_io *io, uint32_t events)
{
	struct privsep *p = container(io, struct privsep, ctl_io);
	struct ipc_ctl cc = { 0 };
	uid_t uid;
	int i, fd, ret;

	(void)events;
	for (i = 0; i < PRIVSEP_CTL_BATCH; i++) {
		fd = ctl_accept(io->fd, p->cfg->ctl_uid, &uid);
		if (fd == -EAGAIN)
			return;
		if (fd == -EACCES) {
			log_info("control socket: peer uid %d refused", (int)uid);
			continue;
		}
		if (fd < 0) {
			log_warnx("control socket: accept: %s", strerror(-fd));
			return;
		}
		if (!p->ready || p->ipc_io.fd < 0) {
			log_debug("control socket: no engine ready: connection closed");
			close(fd);
			continue;
		}
		cc.uid = (uint32_t)uid;
		ret = ipc_send(p->ipc_io.fd, IPC_CTL, &cc, sizeof(cc), &fd, 1);
		if (ret < 0)
			log_debug("control socket: handing a connection over: %s", strerror(-ret));
		close(fd);
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
			     .ctl_io = LOOP_IO_UNSET,
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
	p.ctl_io.cb = ctl_cb;
	if (c->ctl_fd >= 0 && loop_io_add(&p.loop, &p.ctl_io, c->ctl_fd, EPOLLIN) < 0) {
		log_warn("up: control socket");
		ret = -1;
		goto out;
	}
	p.hb.cb = heartbeat_cb;
	loop_timer_set(&p.loop, &p.hb, p.loop.now + PRIVSEP_PING_MS);
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
	if (p.ctl_io.fd >= 0)
		loop_io_del(&p.loop, &p.ctl_io); /* the caller closes it */
	if (sfd >= 0)
		close(sfd);
	loop_fini(&p.loop);
	return ret;
}
