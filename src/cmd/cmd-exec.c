// SPDX-License-Identifier: GPL-2.0-only
/*
 * `proxyvpn exec`: parse options, resolve the proxy once, spawn the
 * namespace child, run the engine on its TUN until the command exits and
 * what it wrote has reached the proxy (at most ENGINE_DRAIN_MS more; idle
 * connections of processes it left behind are not waited for), and
 * exit with the command's status. SIGINT, SIGTERM and SIGHUP are forwarded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "engine.h"
#include "exec.h"
#include "fd.h"
#include "group.h"
#include "log.h"
#include "loop.h"
#include "opts.h"
#include "proxyopt.h"
#include "sandbox.h"
#include "url.h"

struct exec_run {
	struct loop loop;
	struct loop_io sig_io;
	struct engine_group *group; /* an engine per TUN queue */
	pid_t pid;
	int status; /* exit status to return, once the child is reaped */
	bool reaped;
};

enum {
	OPT_NO_OFFLOAD = 256,
	OPT_WORKERS,
	OPT_ISOLATE,
	OPT_ALLOW_SYSTEM_BUS,
	OPT_CHECK_LEAKS,
};

static int wait_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return EXIT_SETUP;
}

static void signal_cb(struct loop_io *io, uint32_t events)
{
	struct exec_run *r = (struct exec_run *)((char *)io - offsetof(struct exec_run, sig_io));
	struct signalfd_siginfo si;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			int st;

			if (!r->reaped && waitpid(r->pid, &st, WNOHANG) == r->pid) {
				r->reaped = true;
				r->status = wait_status(st);
				/* Let what the command wrote before exiting reach the proxy. */
				engine_group_drain(r->group, ENGINE_DRAIN_MS);
			}
			continue;
		}
		if (!r->reaped) {
			log_debug("forwarding signal %u to the command", si.ssi_signo);
			kill(r->pid, (int)si.ssi_signo);
		}
	}
}

int cmd_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "proxy", required_argument, NULL, 'p' },
		{ "proxy-file", required_argument, NULL, OPT_PROXY_FILE },
		{ "mtu", required_argument, NULL, 'm' },
		LIMIT_LONG_OPTIONS,
		DNS_LONG_OPTIONS,
		{ "udp", required_argument, NULL, OPT_UDP },
		{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		{ "isolate", no_argument, NULL, OPT_ISOLATE },
		{ "allow-system-bus", no_argument, NULL, OPT_ALLOW_SYSTEM_BUS },
		{ "check-leaks", no_argument, NULL, OPT_CHECK_LEAKS },
		COMMON_LONG_OPTIONS,
	};
	const char *proxy_file = NULL;
	char *proxy_arg = NULL;
	struct proxy_url url;
	struct engine_cfg ecfg = { .mtu = 1500,
				   .dns = ENGINE_DNS_VIRTUAL,
				   .udp = ENGINE_UDP_BLOCK };
	const char *nameserver;
	struct exec_opts eo;
	struct exec_child child = { .pid = -1, .tun_fd = -1, .ctl_fd = -1 };
	struct exec_run run = { .loop = LOOP_UNSET, .sig_io = LOOP_IO_UNSET, .pid = -1 };
	struct engine_group_cfg gc;
	sigset_t mask, oldmask;
	int c, ret, sfd = -1, status = EXIT_SETUP;
	bool no_offload = false, isolate = false, allow_system_bus = false, check_leaks = false;
	uint32_t nworkers = 1;

	dnspool_cfg_default(&ecfg.pool);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:m:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			proxy_arg = optarg;
			break;
		case OPT_PROXY_FILE:
			proxy_file = optarg;
			break;
		case 'm':
			if (!opt_u32("--mtu", optarg, 1280, 65535, &ecfg.mtu))
				return EXIT_USAGE;
			break;
		case OPT_MAX_CONNS:
		case OPT_MAX_PENDING:
		case OPT_BUFFER:
		case OPT_MEM_LIMIT:
		case OPT_IDLE_TIMEOUT:
		case OPT_KEEPALIVE:
		case OPT_UDP_TIMEOUT:
		case OPT_MAX_UDP:
			if (!limit_opt_parse(c, optarg, &ecfg))
				return EXIT_USAGE;
			break;
		case OPT_DNS:
		case OPT_DNS_SERVER:
		case OPT_UDP:
		case OPT_FAKE_NET4:
		case OPT_FAKE_NET6:
		case OPT_FAKE_MAX:
			if (!dns_opt_parse(c, optarg, &ecfg))
				return EXIT_USAGE;
			break;
		case OPT_NO_OFFLOAD:
			no_offload = true;
			break;
		case OPT_WORKERS:
			if (!opt_u32("--workers", optarg, 1, EXEC_MAX_QUEUES, &nworkers))
				return EXIT_USAGE;
			break;
		case OPT_ISOLATE:
			isolate = true;
			break;
		case OPT_ALLOW_SYSTEM_BUS:
			allow_system_bus = true;
			break;
		case OPT_CHECK_LEAKS:
			check_leaks = true;
			break;
		default:
			ret = opt_common(c, argv);
			if (ret)
				return ret > 0 ? 0 : EXIT_USAGE;
			break;
		}
	}
	if (check_leaks && optind < argc) {
		log_error("exec: --check-leaks runs its own checks, not a command");
		return EXIT_USAGE;
	}
	if (!check_leaks && optind >= argc) {
		log_error("exec: missing command (proxyvpn exec [OPTIONS] -- COMMAND [ARG...])");
		return EXIT_USAGE;
	}
	if (!check_leaks && strcmp(argv[optind - 1], "--") != 0) {
		log_error("exec: missing `--' before the command `%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!dns_opt_finish(&ecfg, EXEC_TUN_ADDR4, EXEC_TUN_ADDR6))
		return EXIT_USAGE;
	nameserver = ecfg.dns == ENGINE_DNS_BYPASS ? NULL : ENGINE_RESOLVER4;
	if (proxy_opt_load(proxy_file, proxy_arg, &url) < 0)
		return EXIT_USAGE;
	if (ecfg.udp == ENGINE_UDP_PROXY && url.type != PROXY_SOCKS5) {
		log_error("--udp proxy needs a socks5:// proxy (%s:// carries no UDP)",
			  url_scheme_name(url.type));
		url_clear(&url);
		return EXIT_USAGE;
	}
	ret = url_resolve(&url, &ecfg.proxy_addr, &ecfg.proxy_addrlen);
	if (ret < 0) {
		log_error("cannot resolve proxy host `%s': %s", url.host,
			  ret == -EAGAIN ? "temporary failure in name resolution" : "no such host");
		url_clear(&url);
		return EXIT_SETUP;
	}
	ecfg.proxy = &url;

	/* Signals are read through a signalfd; the child unblocks them before exec. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	signal(SIGPIPE, SIG_IGN);

	eo = (struct exec_opts){ .argv = check_leaks ? NULL : argv + optind,
				 .mtu = (int)ecfg.mtu,
				 .nameserver = nameserver,
				 .no_offload = no_offload,
				 .queues = (int)nworkers,
				 .isolate = isolate,
				 .allow_system_bus = allow_system_bus,
				 .check_leaks = check_leaks };
	if (exec_spawn(&eo, &child) < 0)
		goto out;
	fd_raise_limit(); /* the engine's: one proxy socket per flow; the command keeps its own */
	run.pid = child.pid;
	if (loop_init(&run.loop) < 0) {
		log_warn("epoll");
		goto out_kill;
	}
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	run.sig_io.cb = signal_cb;
	if (sfd < 0 || loop_io_add(&run.loop, &run.sig_io, sfd, EPOLLIN) < 0) {
		log_warn("signalfd");
		goto out_kill;
	}
	ecfg.vnet = child.vnet;
	/*
	 * Everything is acquired (TUN, epoll, signalfd, the raised fd limit):
	 * the group sheds every privilege before the command can send a
	 * packet. The engine keeps the caller's uid (it forwards signals to,
	 * and reaps, the command, which runs as that uid).
	 */
	gc = (struct engine_group_cfg){
		.ecfg = &ecfg,
		.tun_fds = child.tun_fds,
		.nq = child.nq,
		.sandbox = { .kill_pid = child.pid },
	};
	ret = engine_group_start(&run.group, &run.loop, &gc);
	for (c = 0; c < child.nq; c++)
		child.tun_fds[c] = -1; /* taken over, even on failure */
	child.tun_fd = -1;
	if (ret < 0)
		goto out_kill;
	ret = exec_release(&child);
	if (ret < 0) {
		int st;

		waitpid(child.pid, &st, 0);
		run.reaped = true;
		status = ret == -ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
		goto out;
	}
	log_info("running %s through %s://%s:%u", check_leaks ? "the leak check" : argv[optind],
		 url_scheme_name(url.type), url.host, url.port);
	ret = loop_run(&run.loop);
	if (ret < 0) {
		errno = -ret;
		log_warn("event loop");
		goto out_kill;
	}
	status = run.status;
	engine_group_stop(run.group, true); /* all engines' counters together */
	run.group = NULL;
	goto out;

out_kill:
	if (!run.reaped && child.pid > 0) {
		int st;

		kill(child.pid, SIGKILL);
		waitpid(child.pid, &st, 0);
	}
	status = EXIT_SETUP;
out:
	engine_group_stop(run.group, false);
	exec_child_close(&child);
	if (sfd >= 0)
		close(sfd);
	loop_fini(&run.loop);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	url_clear(&url);
	return status;
}
