// SPDX-License-Identifier: GPL-2.0-only
/*
 * `proxyvpn exec`: a forked child enters new user, network and mount
 * namespaces, builds the command's view of the file system (nsview.c),
 * builds tun0 with addresses and default routes, passes the TUN fd back
 * over a SEQPACKET socketpair, then waits for the parent's go before it
 * drops every capability and execvp()s the command (or runs --check-leaks,
 * leakcheck.c). Each setup failure comes back as (step, -errno) and the
 * parent logs one line for it (the child does for the view: only it knows
 * the path).
 * The parent must be single-threaded when it calls exec_spawn(): the child
 * allocates (libmnl, libcap) before it execs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec.h"
#include "fd.h"
#include "fdpass.h"
#include "leakcheck.h"
#include "log.h"
#include "nl.h"
#include "nsview.h"
#include "tun.h"

enum exec_step {
	STEP_NONE,
	STEP_UNSHARE,
	STEP_IDMAP,
	STEP_MOUNT,
	STEP_VIEW,
	STEP_IPV6,
	STEP_TUN,
	STEP_NETLINK,
	STEP_LO,
	STEP_LINK,
	STEP_ADDR4,
	STEP_ROUTE4,
	STEP_ADDR6,
	STEP_ROUTE6,
	STEP_CAPS,
	STEP_EXEC,
	STEP_MAX,
};

enum {
	EXEC_F_NO_IPV6 = 1 << 0,   /* kernel without IPv6: tun0 is IPv4 only */
	EXEC_F_SMALL_MTU = 1 << 1, /* MTU below IPv6's minimum: IPv4 only */
	EXEC_F_VNET = 1 << 2,	   /* the TUN fd carries virtio-net headers (offloads) */
	EXEC_IPV6_MIN_MTU = 1280,
	EXEC_GO = 'g', /* parent -> child: exec the command now */
	EXEC_MAX_ERRNO = 4095,
};

/* Child -> parent, once after setup (with the TUN fd) and once if exec fails. */
struct exec_msg {
	int32_t err;	/* 0 or -errno */
	int32_t step;	/* enum exec_step that failed */
	uint32_t flags; /* EXEC_F_* */
};

static const struct {
	const char *what;
	const char *hint; /* appended after strerror() */
} steps[STEP_MAX] = {
	[STEP_UNSHARE] = { "cannot create user, network and mount namespaces",
			   " (are unprivileged user namespaces enabled?)" },
	[STEP_IDMAP] = { "cannot map uid and gid into the user namespace", "" },
	[STEP_MOUNT] = { "cannot make the mount tree private", "" },
	[STEP_VIEW] = { "cannot build the command's view of the file system", "" },
	[STEP_IPV6] = { "cannot enable IPv6 in the network namespace", "" },
	[STEP_TUN] = { "cannot create TUN device", " (is /dev/net/tun accessible?)" },
	[STEP_NETLINK] = { "cannot open rtnetlink socket", "" },
	[STEP_LO] = { "cannot bring up lo", "" },
	[STEP_LINK] = { "cannot bring up " EXEC_TUN_NAME, "" },
	[STEP_ADDR4] = { "cannot add address " EXEC_TUN_ADDR4 "/32", "" },
	[STEP_ROUTE4] = { "cannot add IPv4 default route", "" },
	[STEP_ADDR6] = { "cannot add address " EXEC_TUN_ADDR6 "/128", "" },
	[STEP_ROUTE6] = { "cannot add IPv6 default route", "" },
	[STEP_CAPS] = { "cannot drop capabilities", "" },
	[STEP_EXEC] = { "cannot execute the command", "" },
};

static int write_file(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != len)
		ret = -EIO;
	close(fd);
	return ret;
}

/* Identity map of the caller's own ids: allowed unprivileged, and as root. */
static int map_ids(uid_t uid, gid_t gid)
{
	char line[64];
	int ret;

	/* Unprivileged gid_map writes need setgroups denied; absent before 3.19. */
	ret = write_file("/proc/self/setgroups", "deny");
	if (ret < 0 && ret != -ENOENT)
		return ret;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned int)gid, (unsigned int)gid);
	ret = write_file("/proc/self/gid_map", line);
	if (ret < 0)
		return ret;
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned int)uid, (unsigned int)uid);
	return write_file("/proc/self/uid_map", line);
}

static int read_flag(const char *path)
{
	char c = '0';
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, &c, 1);
	close(fd);
	return n == 1 && c == '1';
}

/*
 * A new netns normally gets IPv6 defaults, but net.core.devconf_inherit_init_net
 * can copy a host's disable_ipv6=1 into it. Our own netns sysctls are
 * writable with CAP_NET_ADMIN in its user namespace. Must run before tun0
 * exists: a new device copies conf/default. No file: no IPv6 in this kernel,
 * which STEP_ADDR6 reports as EAFNOSUPPORT.
 */
static int enable_ipv6(void)
{
	static const char *const knobs[] = {
		"/proc/sys/net/ipv6/conf/all/disable_ipv6",
		"/proc/sys/net/ipv6/conf/default/disable_ipv6",
	};
	size_t i;
	int ret;

	if (!read_flag(knobs[0]) && !read_flag(knobs[1]))
		return 0;
	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		ret = write_file(knobs[i], "0");
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int setup_links(struct nl *nl, const char *tun_name, int mtu, struct exec_msg *m)
{
	struct in6_addr a6;
	struct in_addr a4;
	int ret, idx;

	m->step = STEP_LO;
	ret = nl_link_index(nl, "lo");
	if (ret < 0)
		return ret;
	ret = nl_link_set_up(nl, ret, 0);
	if (ret < 0)
		return ret;

	/* Up before addresses: IPv4 link-scope routes need a running link. */
	m->step = STEP_LINK;
	idx = nl_link_index(nl, tun_name);
	if (idx < 0)
		return idx;
	ret = nl_link_set_up(nl, idx, mtu);
	if (ret < 0)
		return ret;
	ret = nl_link_set_txqlen(nl, idx, NL_TUN_TXQLEN);
	if (ret < 0)
		return ret;

	m->step = STEP_ADDR4;
	if (inet_pton(AF_INET, EXEC_TUN_ADDR4, &a4) != 1)
		return -EINVAL;
	ret = nl_addr_add(nl, idx, AF_INET, &a4, 32);
	if (ret < 0)
		return ret;
	m->step = STEP_ROUTE4;
	ret = nl_route_add_default(nl, idx, AF_INET, RT_TABLE_MAIN);
	if (ret < 0)
		return ret;

	/* The kernel turns IPv6 off on such a link; the address add fails. */
	if (mtu > 0 && mtu < EXEC_IPV6_MIN_MTU) {
		m->flags |= EXEC_F_SMALL_MTU;
		return 0;
	}
	m->step = STEP_ADDR6;
	if (inet_pton(AF_INET6, EXEC_TUN_ADDR6, &a6) != 1)
		return -EINVAL;
	ret = nl_addr_add(nl, idx, AF_INET6, &a6, 128);
	if (ret == -EAFNOSUPPORT) {
		m->flags |= EXEC_F_NO_IPV6;
		return 0;
	}
	if (ret < 0)
		return ret;
	m->step = STEP_ROUTE6;
	return nl_route_add_default(nl, idx, AF_INET6, RT_TABLE_MAIN);
}

/* Namespaces, TUN and its configuration. 0 or -errno with m->step set. */
static int child_setup(const struct exec_opts *o, uid_t uid, gid_t gid, struct exec_msg *m,
		       int *tun_fds)
{
	char name[IFNAMSIZ];
	struct nl *nl;
	bool vnet;
	int ret;

	m->step = STEP_UNSHARE;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) < 0)
		return -errno;
	/*
	 * A setcap'd binary is not dumpable, which makes /proc/self/{uid,gid}_map
	 * root-owned and unwritable for us. We now hold nothing of the
	 * parent namespace's privileges, so being dumpable costs nothing.
	 */
	if (prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL) != 1)
		prctl(PR_SET_DUMPABLE, 1UL, 0UL, 0UL, 0UL);

	m->step = STEP_IDMAP;
	ret = map_ids(uid, gid);
	if (ret < 0)
		return ret;

	/* The view's mounts (nsview.c) must not propagate to the host. */
	m->step = STEP_MOUNT;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;

	/* Fatal when it fails: a host service left in sight is a leak. */
	m->step = STEP_VIEW;
#ifdef PROXYVPN_FAULT
	/*
	 * test builds only: e2e valgrind runs the namespace child under
	 * valgrind 3.19, which answers ENOSYS to the new mount API (fsopen,
	 * fsmount, open_tree, move_mount) the view is built with.
	 */
	if (getenv("PROXYVPN_FAULT_NOVIEW"))
		goto view_done;
#endif
	ret = nsview_setup(&(struct nsview_cfg){ .nameserver = o->nameserver,
						 .isolate = o->isolate,
						 .allow_system_bus = o->allow_system_bus,
						 .uid = uid });
	if (ret < 0)
		return ret;
#ifdef PROXYVPN_FAULT
view_done:
#endif

	m->step = STEP_IPV6;
	ret = enable_ipv6();
	if (ret < 0)
		return ret;

	m->step = STEP_TUN;
	ret = tun_open_queues(EXEC_TUN_NAME, name, !o->no_offload, &vnet, tun_fds,
			      o->queues > 1 ? o->queues : 1);
	if (ret < 0)
		return ret;
	if (vnet)
		m->flags |= EXEC_F_VNET;

	m->step = STEP_NETLINK;
	nl = nl_open();
	if (!nl)
		return -errno;
	ret = setup_links(nl, name, o->mtu, m);
	nl_close(nl);
	return ret;
}

static void reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;
	int sig;

	/* SIGKILL, SIGSTOP and libc's reserved signals fail: fine. */
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The command runs with the caller's uid and gid and no capabilities. The
 * bounding set matters for a uid-0 caller: execve() would otherwise hand
 * root every capability in it again. Probe the kernel's last cap rather
 * than trust CAP_LAST_CAP from our headers.
 */
static int drop_caps(void)
{
	cap_t none;
	int cap, ret = 0;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) < 0 && errno != EINVAL)
		return -errno;
	for (cap = 0; prctl(PR_CAPBSET_READ, (unsigned long)cap, 0UL, 0UL, 0UL) >= 0; cap++) {
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0UL, 0UL, 0UL) < 0)
			return -errno;
	}
	if (cap == 0)
		return -ENOSYS;
	none = cap_init();
	if (!none)
		return -errno;
	if (cap_set_proc(none) < 0)
		ret = -errno;
	cap_free(none);
	return ret;
}

static noreturn void child_main(const struct exec_opts *o, int ctl, pid_t ppid, uid_t uid,
				gid_t gid)
{
	struct exec_msg m = { 0 };
	const char *cmd = o->argv ? o->argv[0] : NULL;
	int tun_fds[EXEC_MAX_QUEUES], nq = o->queues > 1 ? o->queues : 1, i;
	ssize_t n;
	char go;

	/* Die with the parent; if it already died, getppid() shows it. */
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL) < 0 || getppid() != ppid)
		_exit(125);
	ctl = fd_close_others(ctl);
	if (ctl < 0)
		_exit(125);

	m.err = child_setup(o, uid, gid, &m, tun_fds);
	if (m.err == 0)
		m.step = STEP_NONE;
	if (fd_send(ctl, &m, sizeof(m), m.err < 0 ? -1 : tun_fds[0]) < 0 || m.err < 0)
		_exit(125);
	/* One more message per queue, each with its fd. */
	for (i = 1; i < nq; i++)
		if (fd_send(ctl, &m, sizeof(m), tun_fds[i]) < 0)
			_exit(125);
	for (i = 0; i < nq; i++)
		close(tun_fds[i]);

	do
		n = read(ctl, &go, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || go != EXEC_GO)
		_exit(125); /* the parent gave up and has said why */

	reset_signals();
	m.err = drop_caps();
	if (m.err < 0) {
		log_error("exec: %s: %s", steps[STEP_CAPS].what, strerror(-m.err));
		m.step = STEP_CAPS;
		fd_send(ctl, &m, sizeof(m), -1);
		_exit(125);
	}

	if (o->check_leaks) {
		close(ctl); /* the parent's EOF, as for a successful execvp() */
		_exit(leakcheck_run());
	}
	/* ctl is O_CLOEXEC: a successful execvp() is the parent's EOF. */
	execvp(cmd, o->argv);
	m.err = -errno;
	m.step = STEP_EXEC;
	if (m.err == -ENOENT && !strchr(cmd, '/'))
		log_error("%s: command not found", cmd);
	else
		log_error("%s: %s", cmd, strerror(-m.err));
	fd_send(ctl, &m, sizeof(m), -1);
	_exit(m.err == -ENOENT ? 127 : 126);
}

static int reap(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 0; /* ECHILD: SIGCHLD is ignored, the kernel reaped it */
	}
	return status;
}

static void log_setup_failure(const struct exec_msg *m, int mtu)
{
	const char *what = "namespace setup failed", *hint = "";

	if (m->step == STEP_VIEW)
		return; /* the child named the path: only it knows which */
	if (m->step > STEP_NONE && m->step < STEP_MAX) {
		what = steps[m->step].what;
		hint = steps[m->step].hint;
	}
	if (m->step == STEP_LINK && mtu > 0)
		log_error("exec: %s with MTU %d: %s", what, mtu, strerror(-m->err));
	else
		log_error("exec: %s: %s%s", what, strerror(-m->err), hint);
}

#if defined(__SANITIZE_THREAD__)
#define EXEC_CLONE 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EXEC_CLONE 1
#endif
#endif

#ifdef EXEC_CLONE
/*
 * make tsan only: ThreadSanitizer starts a thread of its own in a child of
 * fork(), and unshare(CLONE_NEWUSER) refuses a threaded process; its
 * clone() interceptor starts none. Here (one thread in the parent) the
 * child is the same as fork()'s.
 */
struct spawn_arg {
	const struct exec_opts *o;
	int sv[2];
	pid_t ppid;
	uid_t uid;
	gid_t gid;
};

static int spawn_main(void *arg)
{
	struct spawn_arg *a = arg;

	close(a->sv[0]);
	child_main(a->o, a->sv[1], a->ppid, a->uid, a->gid);
}

static pid_t spawn(struct spawn_arg *a)
{
	size_t sz = (size_t)8 << 20; /* mapped lazily: as large as a main stack */
	char *stk = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
			 -1, 0);
	pid_t pid;

	if (stk == MAP_FAILED)
		return -1;
	pid = clone(spawn_main, stk + sz, SIGCHLD, a);
	munmap(stk, sz); /* the child has its own copy */
	return pid;
}
#endif

int exec_spawn(const struct exec_opts *o, struct exec_child *c)
{
	struct exec_msg m = { 0 };
	uid_t uid = getuid();
	gid_t gid = getgid();
	pid_t ppid = getpid(), pid;
	int sv[2], tun_fd = -1, ret, fl, status, nq = o->queues > 1 ? o->queues : 1, i;
	int fds[EXEC_MAX_QUEUES];

	*c = (struct exec_child){ .pid = -1, .tun_fd = -1, .ctl_fd = -1 };
	for (i = 0; i < EXEC_MAX_QUEUES; i++)
		fds[i] = c->tun_fds[i] = -1;
	if ((!o->check_leaks && (!o->argv || !o->argv[0])) || o->mtu < 0 || nq > EXEC_MAX_QUEUES)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		log_warn("exec: socketpair");
		return ret;
	}
#ifdef EXEC_CLONE
	pid = spawn(&(struct spawn_arg){
		.o = o, .sv = { sv[0], sv[1] }, .ppid = ppid, .uid = uid, .gid = gid });
#else
	pid = fork();
#endif
	if (pid < 0) {
		ret = -errno;
		log_warn("exec: fork");
		goto err_sock;
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(o, sv[1], ppid, uid, gid);
	}
	close(sv[1]);
	sv[1] = -1;

	ret = fd_recv(sv[0], &m, sizeof(m), &tun_fd);
	if (ret < 0) {
		/* After EPIPE it is a zombie already: the kill keeps its status. */
		kill(pid, SIGKILL);
		status = reap(pid);
		if (ret == -EPIPE && WIFSIGNALED(status))
			log_error("exec: namespace setup process killed by signal %d",
				  WTERMSIG(status));
		else if (ret == -EPIPE)
			log_error("exec: namespace setup process exited without a reply");
		else
			log_error("exec: bad reply from namespace setup process: %s",
				  strerror(-ret));
		goto err_sock;
	}
	if (m.err < 0 && m.err >= -EXEC_MAX_ERRNO) {
		log_setup_failure(&m, o->mtu);
		ret = m.err;
		goto err_tun;
	}
	if (m.err != 0 || tun_fd < 0) {
		log_error("exec: bad reply from namespace setup process");
		ret = -EBADMSG;
		goto err_tun;
	}
	fds[0] = tun_fd;
	for (i = 1; i < nq; i++) {
		struct exec_msg q;

		ret = fd_recv(sv[0], &q, sizeof(q), &fds[i]);
		if (ret < 0 || q.err != 0 || fds[i] < 0) {
			log_error("exec: namespace setup process sent too few TUN queues");
			ret = ret < 0 ? ret : -EBADMSG;
			goto err_tun;
		}
	}
	for (i = 0; i < nq; i++) {
		fl = fcntl(fds[i], F_GETFL);
		if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0) {
			ret = -errno;
			log_warn("exec: cannot make the TUN fd non-blocking");
			goto err_tun;
		}
	}
	if (m.flags & EXEC_F_NO_IPV6)
		log_info("exec: this kernel has no IPv6; the command gets IPv4 only");
	if (m.flags & EXEC_F_SMALL_MTU)
		log_warnx("exec: MTU %d is below IPv6's minimum of %d; the command gets IPv4 only",
			  o->mtu, EXEC_IPV6_MIN_MTU);
	*c = (struct exec_child){ .pid = pid,
				  .tun_fd = tun_fd,
				  .ctl_fd = sv[0],
				  .vnet = (m.flags & EXEC_F_VNET) != 0,
				  .nq = nq };
	for (i = 0; i < EXEC_MAX_QUEUES; i++)
		c->tun_fds[i] = i < nq ? fds[i] : -1;
	return 0;

err_tun:
	if (tun_fd >= 0)
		close(tun_fd);
	for (i = 1; i < nq; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* A child that reported a failure is already exiting; kill the rest. */
	kill(pid, SIGKILL);
	reap(pid);
err_sock:
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return ret;
}

int exec_release(struct exec_child *c)
{
	struct exec_msg m = { 0 };
	char go = EXEC_GO;
	ssize_t n;
	int ret, fd;

	do
		n = send(c->ctl_fd, &go, 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		ret = -errno;
		log_error("exec: the command's process exited before it could start");
		return ret;
	}
	ret = fd_recv(c->ctl_fd, &m, sizeof(m), &fd);
	if (fd >= 0)
		close(fd);
	if (ret == -EPIPE)
		return 0; /* execvp() succeeded and closed the child's end */
	if (ret < 0) {
		log_error("exec: bad reply from the command's process: %s", strerror(-ret));
		return ret;
	}
	if (m.err >= 0 || m.err < -EXEC_MAX_ERRNO)
		return -EPROTO;
	return m.err; /* the child logged it: it knows the command's name */
}

void exec_child_close(struct exec_child *c)
{
	int i;

	if (c->ctl_fd >= 0)
		close(c->ctl_fd);
	if (c->tun_fd >= 0)
		close(c->tun_fd);
	for (i = 1; i < c->nq; i++)
		if (c->tun_fds[i] >= 0)
			close(c->tun_fds[i]);
	c->ctl_fd = -1;
	c->tun_fd = -1;
	c->nq = 0;
}
