// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine's sandbox: capabilities (all sets), ids, no_new_privs and a
 * seccomp allowlist, in the order of style.md 3.12 (see sandbox.h). The
 * allowlist is what the engine's event loop, the TCP stack, the proxy
 * sockets and glibc's malloc and threads make; everything else kills the
 * process (SIGSYS), which the privileged side sees as a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <seccomp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

/* ---- capabilities ---- */

/* Every cap the kernel knows, probed rather than trusted from headers. 0 or -errno. */
static int drop_bounding(void)
{
	int cap;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) < 0 && errno != EINVAL)
		return -errno;
	for (cap = 0; prctl(PR_CAPBSET_READ, (unsigned long)cap, 0UL, 0UL, 0UL) >= 0; cap++) {
		if (prctl(PR_CAPBSET_READ, (unsigned long)cap, 0UL, 0UL, 0UL) == 0)
			continue;
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0UL, 0UL, 0UL) < 0)
			return -errno;
	}
	return cap == 0 ? -ENOSYS : 0;
}

/*
 * Dropping the bounding set takes CAP_SETPCAP. Without it (an unprivileged
 * exec caller, or `up` run by a user through file caps), a new user
 * namespace grants it for the one thing we do with it: dropping. The
 * engine's sockets stay in the network namespace they were made in.
 */
static int drop_bounding_any(void)
{
	int ret = drop_bounding();

	if (ret != -EPERM)
		return ret;
	if (unshare(CLONE_NEWUSER) < 0)
		return -errno;
	return drop_bounding();
}

static int clear_sets(void)
{
	cap_t none = cap_init();
	int ret = 0;

	if (!none)
		return -errno;
	if (cap_set_proc(none) < 0)
		ret = -errno;
	cap_free(none);
	return ret;
}

static int switch_ids(uid_t uid, gid_t gid)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	/* Verify: every id changed, and there is no way back. */
	if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -errno;
	if (r != uid || e != uid || s != uid || rg != gid || eg != gid || sg != gid)
		return -EPERM;
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM;
	return 0;
}

/* ---- seccomp ---- */

/* Syscalls allowed whatever their arguments; why each: docs/security.md. */
static const int allow_plain[] = {
	/* the event loop and its clock */
	SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait),
	SCMP_SYS(epoll_pwait2),
	SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_create1),
	SCMP_SYS(clock_gettime),
	SCMP_SYS(gettimeofday),
	SCMP_SYS(timerfd_create),
	SCMP_SYS(timerfd_settime),
	SCMP_SYS(timerfd_gettime),
	/* TUN and proxy-socket I/O, stderr logging */
	SCMP_SYS(read),
	SCMP_SYS(write),
	SCMP_SYS(readv),
	SCMP_SYS(writev),
	SCMP_SYS(close),
	SCMP_SYS(sendmsg),
	SCMP_SYS(recvmsg),
	SCMP_SYS(sendmmsg),
	SCMP_SYS(recvmmsg),
	SCMP_SYS(sendto),
	SCMP_SYS(recvfrom),
	SCMP_SYS(shutdown),
	/* proxy connections (socket() itself is argument-filtered below) */
	SCMP_SYS(connect),
	SCMP_SYS(setsockopt),
	SCMP_SYS(getsockopt),
	SCMP_SYS(getsockname),
	SCMP_SYS(getpeername),
	/* (no accept4: the parent accepts control connections and hands them over) */
	/* malloc */
	SCMP_SYS(brk),
	SCMP_SYS(munmap),
	SCMP_SYS(mremap),
	SCMP_SYS(madvise),
	/* ISS, timestamp offsets, flow-hash key */
	SCMP_SYS(getrandom),
	/* threads (glibc pthread_create, locks), wakeups between them */
	SCMP_SYS(futex),
	SCMP_SYS(set_robust_list),
	SCMP_SYS(rseq),
	SCMP_SYS(sched_yield),
	SCMP_SYS(sched_getaffinity),
	SCMP_SYS(gettid),
	SCMP_SYS(getpid),
	SCMP_SYS(eventfd2),
	/* our own ids, e.g. to compare with a control-socket peer's SO_PEERCRED */
	SCMP_SYS(getuid),
	SCMP_SYS(geteuid),
	SCMP_SYS(getgid),
	SCMP_SYS(getegid),
	SCMP_SYS(getppid),
	/* signals: returning from handlers, masks, abort() */
	SCMP_SYS(rt_sigreturn),
	SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigaction),
	SCMP_SYS(sigaltstack),
	SCMP_SYS(restart_syscall),
	SCMP_SYS(exit),
	SCMP_SYS(exit_group),
};

/* One argument comparison, every field set (libseccomp's SCMP_A* leave datum_b out). */
static struct scmp_arg_cmp cmp(unsigned int arg, enum scmp_compare op, scmp_datum_t a,
			       scmp_datum_t b)
{
	return (struct scmp_arg_cmp){ .arg = arg, .op = op, .datum_a = a, .datum_b = b };
}

static int add(scmp_filter_ctx ctx, int nr, unsigned int n, const struct scmp_arg_cmp *a)
{
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, a);
}

/* socket(): TCP and UDP over IPv4 and IPv6 only: no raw, packet, netlink, unix, ping. */
static int allow_socket(scmp_filter_ctx ctx)
{
	static const int fams[] = { AF_INET, AF_INET6 };
	static const struct {
		int type, proto;
	} kinds[] = {
		{ SOCK_STREAM, 0 },
		{ SOCK_STREAM, IPPROTO_TCP },
		{ SOCK_DGRAM, 0 },
		{ SOCK_DGRAM, IPPROTO_UDP },
	};
	size_t f, k;
	int ret;

	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			struct scmp_arg_cmp a[3] = {
				cmp(0, SCMP_CMP_EQ, (scmp_datum_t)fams[f], 0),
				/* the type without SOCK_NONBLOCK | SOCK_CLOEXEC */
				cmp(1, SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)kinds[k].type),
				cmp(2, SCMP_CMP_EQ, (scmp_datum_t)kinds[k].proto, 0),
			};

			ret = add(ctx, SCMP_SYS(socket), 3, a);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

/* Calls allowed with some arguments only. */
static int allow_filtered(scmp_filter_ctx ctx, const struct sandbox_cfg *c)
{
	static const int fcntl_cmds[] = { F_GETFL, F_SETFL, F_GETFD, F_SETFD };
	struct scmp_arg_cmp a[2];
	size_t i;
	int ret;

	ret = allow_socket(ctx);
	/* fcntl: flags only (O_NONBLOCK, FD_CLOEXEC); no locks, owners, leases */
	for (i = 0; ret == 0 && i < sizeof(fcntl_cmds) / sizeof(fcntl_cmds[0]); i++) {
		a[0] = cmp(1, SCMP_CMP_EQ, (scmp_datum_t)fcntl_cmds[i], 0);
		ret = add(ctx, SCMP_SYS(fcntl), 1, a);
	}
	/* mmap/mprotect for malloc and thread stacks, never executable memory */
	a[0] = cmp(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	if (ret == 0)
		ret = add(ctx, SCMP_SYS(mmap), 1, a);
	if (ret == 0)
		ret = add(ctx, SCMP_SYS(mprotect), 1, a);
	/* clone: new threads only (CLONE_THREAD), never a new process */
	a[0] = cmp(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
	if (ret == 0)
		ret = add(ctx, SCMP_SYS(clone), 1, a);
	/* clone3 passes its flags in memory, out of the filter's reach: glibc
	 * falls back to clone() on ENOSYS */
	if (ret == 0)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	/* signals to ourselves only (abort(), raise()) */
	a[0] = cmp(0, SCMP_CMP_EQ, (scmp_datum_t)getpid(), 0);
	if (ret == 0)
		ret = add(ctx, SCMP_SYS(tgkill), 1, a);
	/* exec mode: signal forwarding to, and reaping of, the one command */
	if (ret == 0 && c->kill_pid > 0) {
		a[0] = cmp(0, SCMP_CMP_EQ, (scmp_datum_t)c->kill_pid, 0);
		ret = add(ctx, SCMP_SYS(kill), 1, a);
		if (ret == 0)
			ret = add(ctx, SCMP_SYS(wait4), 1, a);
	}
	return ret;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANDBOX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANDBOX_SANITIZED 1
#endif
#endif

static int load_filter(const struct sandbox_cfg *c)
{
	static const int hot[] = {
		SCMP_SYS(read),	   SCMP_SYS(writev),	 SCMP_SYS(readv),
		SCMP_SYS(sendmsg), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_ctl),
	};
	const char *mode = secure_getenv("PROXYVPN_SECCOMP");
	uint32_t def = SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx;
	size_t i;
	int ret = 0;

	if (mode && !strcmp(mode, "log")) {
		def = SCMP_ACT_LOG;
		log_warnx("PROXYVPN_SECCOMP=log: forbidden syscalls are logged, not stopped");
	} else if (mode && !strcmp(mode, "off")) {
		/* valgrind cannot run under (or load) a filter: it has no seccomp() */
		log_warnx("PROXYVPN_SECCOMP=off: no seccomp filter (debugging only)");
		return 0;
	}
#ifdef SANDBOX_SANITIZED
	/*
	 * make asan / make tsan (test builds, never installed): a sanitizer
	 * report opens /proc/self/maps (and its log file), LeakSanitizer
	 * ptraces a helper at exit; the filter is still installed, but it
	 * logs instead of killing.
	 */
	def = SCMP_ACT_LOG;
#endif
	ctx = seccomp_init(def);
	if (!ctx)
		return -ENOMEM;
	/* every thread, should one exist already (it should not: see sandbox.h) */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	/*
	 * A syscall of another ABI (int 0x80 / ia32, x32 numbers) is judged by
	 * none of our rules. libseccomp's default for it kills only the
	 * calling thread: with --workers the others would go on, one TUN
	 * queue's flows left hanging. The whole process, as for any other
	 * forbidden call.
	 */
	if (ret == 0)
		ret = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* the data path's calls first: a binary tree, hot calls on top (best effort) */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (i = 0; ret == 0 && i < sizeof(hot) / sizeof(hot[0]); i++)
		seccomp_syscall_priority(ctx, hot[i], 255);
	for (i = 0; ret == 0 && i < sizeof(allow_plain) / sizeof(allow_plain[0]); i++)
		ret = add(ctx, allow_plain[i], 0, NULL);
	if (ret == 0)
		ret = allow_filtered(ctx, c);
	if (ret == 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	return ret;
}

#ifdef PROXYVPN_FAULT
/* Counted down by every engine thread (one tick per TUN packet). */
static _Atomic long fault_after;
static bool fault_x32;

/* "N" or "N:x32" (the syscall in x32 numbering: another ABI than the filter's). */
static void fault_read_env(void)
{
	const char *s = getenv("PROXYVPN_FAULT_SYSCALL");
	char *end;
	long n = 0;

	fault_x32 = false;
	if (s && *s >= '1' && *s <= '9') {
		n = strtol(s, &end, 10);
		if (!strcmp(end, ":x32"))
			fault_x32 = true;
		else if (*end)
			n = 0;
	}
	atomic_store(&fault_after, n);
	if (n > 0)
		log_info("PROXYVPN_FAULT_SYSCALL: a forbidden syscall%s after %ld packets",
			 fault_x32 ? " (x32 ABI)" : "", n);
}

void sandbox_fault_tick(void)
{
	long left = atomic_load_explicit(&fault_after, memory_order_relaxed);

	if (left <= 0 || atomic_fetch_sub(&fault_after, 1) != 1)
		return;
#ifdef __x86_64__
	if (fault_x32) {
		/* getpid() with the x32 bit: allowed by name, but not of our ABI */
		log_info("PROXYVPN_FAULT_SYSCALL: calling getpid() as an x32 syscall");
		syscall(0x40000000L | SYS_getpid);
		log_error("PROXYVPN_FAULT_SYSCALL: the x32 syscall came back");
		return;
	}
#endif
	log_info("PROXYVPN_FAULT_SYSCALL: calling chdir(\"/\"), which the filter forbids");
	if (syscall(SYS_chdir, "/") == 0)
		log_error("PROXYVPN_FAULT_SYSCALL: chdir() was allowed");
}
#else
static void fault_read_env(void)
{
}
#endif

int sandbox_enter(const struct sandbox_cfg *c)
{
	const char *step = "bounding and ambient capability sets";
	int ret;

	fault_read_env();
	ret = drop_bounding_any();
	if (ret == 0 && c->set_ids) {
		step = "switching uid and gid";
		ret = switch_ids(c->uid, c->gid);
	}
	if (ret == 0) {
		step = "clearing the capability sets";
		ret = clear_sets();
	}
	if (ret == 0 && c->parent > 0) {
		step = "parent-death signal";
		if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0UL, 0UL, 0UL) < 0)
			ret = -errno;
		else if (getppid() != c->parent)
			ret = -ESRCH;
	}
	if (ret == 0) {
		step = "no_new_privs";
		if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0)
			ret = -errno;
	}
	if (ret == 0) {
		step = "loading the seccomp filter";
		ret = load_filter(c);
	}
	if (ret < 0) {
		log_error("sandbox: %s: %s", step, strerror(-ret));
		return ret;
	}
	return 0;
}

bool sandbox_uid_is_nobody(uid_t uid)
{
	const struct passwd *pw;

	if (uid == SANDBOX_NOBODY_UID)
		return true;
	pw = getpwnam("nobody");
	return pw && pw->pw_uid == uid;
}

int sandbox_user(const char *name, uid_t *uid, gid_t *gid)
{
	const struct passwd *pw = getpwnam(name ? name : SANDBOX_USER_DEFAULT);

	if (!pw && name) {
		log_error("--user: no such user `%s'", name);
		return -ENOENT;
	}
	if (!pw) {
		log_error(
			"up: the engine runs as the system user " SANDBOX_USER_DEFAULT
			", and there is none: make install creates it (or: useradd --system "
			"--gid nogroup --no-create-home --shell /usr/sbin/nologin " SANDBOX_USER_DEFAULT
			"), or name an unprivileged user of its own with --user");
		return -ENOENT;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		log_error("--user: `%s' has uid or gid 0: the engine must not run as root",
			  pw->pw_name);
		return -EINVAL;
	}
	/* copied first: the next getpwnam() (in sandbox_uid_is_nobody) reuses *pw */
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (sandbox_uid_is_nobody(*uid)) {
		log_error("--user: `%s' is nobody, whose other processes could stop the engine "
			  "and hang the host's TCP: use a user of the engine's own",
			  name ? name : SANDBOX_USER_DEFAULT);
		return -EINVAL;
	}
	return 0;
}
