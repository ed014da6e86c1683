// SPDX-License-Identifier: GPL-2.0-only
/*
 * The watcher (watch.h): two netlink sockets in the parent's loop, one
 * subscribed to nf_tables' events, one to rtnetlink's rules, routes, links
 * and addresses. An event only says where to look (nlwatch.c); each pass
 * then checks the objects themselves (fw_inspect, fw_ipt_check,
 * nl_link_state, route_check) and repairs what is missing or changed, the
 * killswitch first. Our own repairs cause events too: the pass they cause
 * finds everything in place and does nothing, which also verifies the
 * repair.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fw-ipt.h"
#include "log.h"
#include "loop.h"
#include "nl.h"
#include "nlwatch.h"
#include "notify.h"
#include "num.h"
#include "watch.h"

#define RECORD	   "watch"
#define RECORD_TMP "watch.tmp"

enum { RECV_SIZE = 65536 };

struct watch {
	struct watch_cfg cfg;
	struct loop *loop;
	struct loop_io nft_io, rt_io;
	struct timer retry;
	struct nlw_ids ids;
	struct nlw_seen seen;
	struct fw_seen want; /* the table as fw_apply leaves it (digest: as verified) */
	uint32_t dirty;	     /* NLW_* still to check */
	uint64_t t_event;    /* µs: when the oldest unhandled event was read, 0 if none */
	uint64_t win_start;  /* ms: the repair bound's window, from its first repair */
	unsigned int win_n;  /* repairs in it */
	bool win_said;	     /* the bound was logged in this window */
	unsigned int bound_n, bound_ms; /* WATCH_REPAIRS_PER_SEC per 1000 ms (test builds: other) */
	bool fw_ok, link_ok, routes_ok;
	bool link_gone; /* the TUN was deleted: not ours to make again */
	bool engine_ready, ready;
	struct watchrec rec;
};

#define container(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- the record ---- */

/* Best effort: status falls back to what it sees in the kernel. */
static void record_write(struct watch *w)
{
	char buf[WATCHREC_MAX];
	int n, fd;

	w->rec.nft_digest = w->cfg.ipt ? 0 : w->want.digest;
	w->rec.ready = w->ready;
	n = watchrec_format(&w->rec, buf, sizeof(buf));
	if (n < 0)
		return;
	unlinkat(w->cfg.dirfd, RECORD_TMP, 0);
	fd = openat(w->cfg.dirfd, RECORD_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		log_warn("up: watch: writing its record");
		return;
	}
	if (write(fd, buf, (size_t)n) != n ||
	    renameat(w->cfg.dirfd, RECORD_TMP, w->cfg.dirfd, RECORD) < 0) {
		log_warn("up: watch: writing its record");
		unlinkat(w->cfg.dirfd, RECORD_TMP, 0);
	}
	close(fd);
}

int watch_record_read(int dirfd, struct watchrec *r, const char **why)
{
	char buf[WATCHREC_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, ret;

	memset(r, 0, sizeof(*r));
	fd = openat(dirfd, RECORD, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		*why = ret == -ENOENT ? "no record" : ret == -ELOOP ? "a symlink" : "cannot open";
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 07777) != 0600) {
		close(fd);
		*why = "not a regular file of ours with mode 0600";
		return -EPERM;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		*why = "cannot read";
		return -EIO;
	}
	if (n > WATCHREC_MAX) {
		*why = "too long";
		return -EINVAL;
	}
	return watchrec_parse(buf, (size_t)n, r, why);
}

void watch_record_remove(int dirfd)
{
	unlinkat(dirfd, RECORD, 0);
	unlinkat(dirfd, RECORD_TMP, 0);
}

/* ---- the bound ---- */

/* One repair may run now; else (once per window) say so and retry when the next one starts. */
static bool budget(struct watch *w)
{
	uint64_t now = w->loop->now;

	if (now - w->win_start >= w->bound_ms) {
		w->win_start = now;
		w->win_n = 0;
		w->win_said = false;
	}
	if (w->win_n < w->bound_n) {
		w->win_n++;
		return true;
	}
	if (!w->win_said) {
		w->win_said = true;
		w->rec.limited++;
		log_error("up: watch: %u repairs within %u ms: something keeps removing or "
			  "changing our objects (a firewall manager in a loop?); the next repair "
			  "waits for the next %u ms, and until then what is missing stays missing "
			  "(up keeps running, nothing else is removed)",
			  w->bound_n, w->bound_ms, w->bound_ms);
		record_write(w);
	}
	if (!timer_armed(&w->retry))
		loop_timer_set(w->loop, &w->retry, w->win_start + w->bound_ms);
	return false;
}

#ifdef PROXYVPN_FAULT
/*
 * Test builds: PROXYVPN_FAULT_WATCH_BOUND=N/MS allows N repairs per MS ms
 * (e2e watch hits the bound with two flushes, whatever the machine's pace).
 */
static void fault_bound(struct watch *w)
{
	const char *v = getenv("PROXYVPN_FAULT_WATCH_BOUND"), *slash;
	uint64_t n, ms;

	slash = v ? strchr(v, '/') : NULL;
	if (!slash || num_parse(v, (size_t)(slash - v), 0, 1, 1000, &n) < 0 ||
	    num_parse(slash + 1, strlen(slash + 1), 0, 1, 600000, &ms) < 0)
		return;
	w->bound_n = (unsigned int)n;
	w->bound_ms = (unsigned int)ms;
	log_info("PROXYVPN_FAULT_WATCH_BOUND: %u repairs per %u ms", w->bound_n, w->bound_ms);
}
#else
static void fault_bound(struct watch *w)
{
	(void)w;
}
#endif

static void retry_later(struct watch *w)
{
	if (!timer_armed(&w->retry))
		loop_timer_set(w->loop, &w->retry, w->loop->now + WATCH_RETRY_MS);
}

static void repaired(struct watch *w, enum watch_kind k, uint64_t t0, const char *what,
		     const char *who)
{
	uint64_t us = now_us() - t0;

	w->rec.repairs[k]++;
	w->rec.window_last_us = us;
	if (us > w->rec.window_max_us)
		w->rec.window_max_us = us;
	log_warnx("up: watch: %s%s: restored in %llu.%03llu ms", what, who,
		  (unsigned long long)(us / 1000), (unsigned long long)(us % 1000));
}

/* ---- the checks, each followed by its repair ---- */

/* " (by pid N, comm)" for nf_tables events, from their transaction's NEWGEN. */
static void culprit(const struct watch *w, char *out, size_t len)
{
	if (w->seen.pid)
		snprintf(out, len, " (by pid %u, %s)", w->seen.pid,
			 w->seen.comm[0] ? w->seen.comm : "?");
	else
		out[0] = '\0';
}

static void fw_pass(struct watch *w, uint64_t t0, bool gone)
{
	char what[256], err[256], who[64];
	struct fw_seen have;
	int ret;

	culprit(w, who, sizeof(who));
	if (w->cfg.ipt) {
		ret = fw_ipt_check(w->cfg.fw, w->cfg.rc.ipv6, what, sizeof(what));
		if (ret < 0) {
			log_error("up: watch: checking the iptables chains: %s", strerror(-ret));
			w->fw_ok = false;
			return retry_later(w);
		}
		if (ret == 0) {
			w->fw_ok = true;
			return;
		}
		w->fw_ok = false;
		if (!budget(w))
			return;
		ret = fw_ipt_apply(w->cfg.fw, w->cfg.rc.ipv6, err, sizeof(err));
		if (ret < 0) {
			log_error("up: watch: %s%s: putting the iptables chains back: %s", what,
				  who, err);
			return retry_later(w);
		}
		w->fw_ok = true;
		repaired(w, WATCH_IPT, t0, what, who);
		return;
	}
	/* deleted, the event says: no need to look before putting it back */
	if (gone) {
		have.state = 0;
		snprintf(what, sizeof(what), "table inet " FW_TABLE " removed");
		goto repair;
	}
	ret = fw_inspect(&have, err, sizeof(err));
	if (ret < 0) {
		log_error("up: watch: %s", err);
		w->fw_ok = false;
		return retry_later(w);
	}
	if (!fw_diff(&w->want, &have, what, sizeof(what))) {
		if (!w->want.digest)
			w->want.digest = have.digest; /* the first look: as installed */
		w->fw_ok = true;
		return;
	}
	w->fw_ok = false;
	if (have.state == -EEXIST) {
		/* a table of our name that is not ours: never touched (fw.c) */
		log_error("up: watch: %s%s: not ours to replace; the killswitch is NOT in place",
			  what, who);
		return retry_later(w);
	}
repair:
	if (!budget(w))
		return;
	ret = fw_apply(w->cfg.fw, err, sizeof(err));
	if (ret == 0)
		ret = fw_inspect(&have, err, sizeof(err));
	if (ret < 0) {
		log_error("up: watch: %s%s: putting the table back: %s", what, who, err);
		return retry_later(w);
	}
	if (w->want.digest && have.digest != w->want.digest)
		log_debug("up: watch: the table put back lists differently (digest %016llx, was "
			  "%016llx)",
			  (unsigned long long)have.digest, (unsigned long long)w->want.digest);
	w->want.digest = have.digest;
	w->fw_ok = true;
	repaired(w, WATCH_NFT, t0, what, who);
}

static void link_pass(struct watch *w, uint64_t t0)
{
	const struct route_cfg *rc = &w->cfg.rc;
	struct nl *nl = nl_open();
	int ret;

	if (!nl) {
		log_warn("up: watch: netlink socket");
		w->link_ok = false;
		return retry_later(w);
	}
	ret = nl_link_state(nl, rc->ifindex, w->cfg.tun);
	if (ret == -ENODEV) {
		/*
		 * Its queues are the engine's and the parent's fds: a new one
		 * would need a new engine. Marked TCP now meets the local
		 * fallback route and is reset (fail closed).
		 */
		if (!w->link_gone)
			log_error("up: watch: the TUN %s was deleted: TCP now fails (reset), "
				  "nothing leaks; restart up to carry it again",
				  w->cfg.tun);
		w->link_gone = true;
		w->link_ok = false;
		goto out;
	}
	if (ret < 0) {
		log_error("up: watch: looking at the TUN %s: %s", w->cfg.tun, strerror(-ret));
		w->link_ok = false;
		retry_later(w);
		goto out;
	}
	w->link_ok = true;
	if (ret == 0) {
		w->link_ok = false;
		if (!budget(w))
			goto out;
		ret = nl_link_set_up(nl, rc->ifindex, 0);
		if (ret < 0) {
			log_error("up: watch: the TUN %s was set down: setting it up: %s",
				  w->cfg.tun, strerror(-ret));
			retry_later(w);
			goto out;
		}
		w->link_ok = true;
		repaired(w, WATCH_LINK, t0, "the TUN was set down", "");
	}
	/* Down and up again, IPv6 addresses are gone (not IPv4's): look at both. */
	for (int v6 = 0; v6 <= (rc->ipv6 ? 1 : 0); v6++) {
		int fam = v6 ? AF_INET6 : AF_INET, plen = v6 ? 128 : 32;
		const void *a = v6 ? (const void *)w->cfg.addr6 : (const void *)w->cfg.addr4;

		ret = nl_addr_has(nl, rc->ifindex, fam, a, plen);
		if (ret == 1)
			continue;
		w->link_ok = false;
		if (ret < 0 || !budget(w)) {
			if (ret < 0)
				retry_later(w);
			continue;
		}
		ret = nl_addr_add(nl, rc->ifindex, fam, a, plen);
		if (ret < 0 && ret != -EEXIST) {
			log_error("up: watch: putting the TUN's IPv%d address back: %s", v6 ? 6 : 4,
				  strerror(-ret));
			retry_later(w);
			continue;
		}
		w->link_ok = true;
		repaired(w, WATCH_ADDR, t0,
			 v6 ? "the TUN's IPv6 address was removed"
			    : "the TUN's IPv4 address was removed",
			 "");
	}
out:
	nl_close(nl);
}

/* The names of the steps in mask, comma-separated. */
static void step_names(uint32_t mask, char *out, size_t len)
{
	size_t off = 0;

	out[0] = '\0';
	for (unsigned int i = 0; i < ROUTE_STEPS; i++) {
		int n;

		if (!(mask & (1U << i)))
			continue;
		n = snprintf(out + off, len - off, "%s%s", off ? ", " : "", route_step_name(i));
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}

/* Steps whose name has word in it: the rules, the dev routes. */
static uint32_t steps_named(const char *word)
{
	uint32_t m = 0;

	for (unsigned int i = 0; i < ROUTE_STEPS; i++)
		if (strstr(route_step_name(i), word))
			m |= 1U << i;
	return m;
}

static void route_pass(struct watch *w, uint64_t t0)
{
	/* The dev routes cannot come back while the TUN is gone. */
	uint32_t skip = w->link_gone ? steps_named("via the TUN") : 0, rules = steps_named("rule");
	struct route_state st, done;
	char what[512], err[256];
	int ret;

	ret = route_check(&w->cfg.rc, &st);
	if (ret < 0) {
		log_error("up: watch: looking at the routes and rules: %s", strerror(-ret));
		w->routes_ok = false;
		return retry_later(w);
	}
	w->routes_ok = !st.missing && !st.foreign;
	if (!(st.missing & ~skip) && !st.foreign)
		return;
	if (!budget(w))
		return;
	ret = route_repair(&w->cfg.rc, skip, &done, err, sizeof(err));
	if (ret < 0) {
		log_error("up: watch: putting the routes and rules back: %s", err);
		retry_later(w);
	}
	if (done.missing & rules) {
		step_names(done.missing & rules, what, sizeof(what));
		repaired(w, WATCH_RULE, t0, what, " removed or changed");
	}
	if (done.missing & ~rules) {
		step_names(done.missing & ~rules, what, sizeof(what));
		repaired(w, WATCH_ROUTE, t0, what, " removed or changed");
	}
	if (done.foreign) {
		snprintf(what, sizeof(what), "%u route%s not ours in our tables", done.foreign,
			 done.foreign == 1 ? "" : "s");
		repaired(w, WATCH_ROUTE, t0, what, ": deleted,");
	}
	w->routes_ok = ret == 0 && !(st.missing & skip);
}

static void maybe_ready(struct watch *w)
{
	if (w->ready || !w->engine_ready || !w->fw_ok || !w->link_ok || !w->routes_ok)
		return;
	w->ready = true;
	record_write(w);
	log_info("up: ready: the killswitch, every rule and route and the TUN are in the kernel");
	if (notify_send("READY=1") < 0)
		log_warn("up: telling $NOTIFY_SOCKET we are ready");
	if (w->cfg.ready_fd >= 0) {
		if (notify_fd_ready(w->cfg.ready_fd) < 0)
			log_warn("up: writing to the --ready-fd");
		w->cfg.ready_fd = -1;
	}
}

/* One pass over what events (or a retry) marked dirty: the killswitch first. */
static void pass(struct watch *w)
{
	uint64_t t0 = w->t_event ? w->t_event : now_us();
	uint32_t what = w->dirty;
	struct watchrec before = w->rec;

	if (!what || timer_armed(&w->retry))
		return; /* nothing to do, or waiting: the timer checks everything */
	w->dirty = 0;
	w->t_event = 0;
	if (what & (NLW_NFT | NLW_IPT))
		fw_pass(w, t0, what & NLW_NFT_GONE);
	if (what & (NLW_LINK | NLW_ADDR))
		link_pass(w, t0);
	if (what & (NLW_RULE | NLW_ROUTE | NLW_LINK))
		route_pass(w, t0);
	w->seen.pid = 0;
	w->seen.comm[0] = '\0';
	if (memcmp(&before, &w->rec, sizeof(before)))
		record_write(w);
	maybe_ready(w);
}

static void retry_cb(struct timer *t)
{
	struct watch *w = container(t, struct watch, retry);

	w->dirty = NLW_ALL;
	pass(w);
}

/* Reads every notification queued on io (from the kernel only) into w->seen. */
static void drain(struct watch *w, struct loop_io *io)
{
	_Alignas(struct nlmsghdr) char buf[RECV_SIZE];

	for (;;) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(io->fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &flen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* the kernel dropped some: look at everything */
				log_debug(
					"up: watch: events lost (socket buffer full): full check");
				w->dirty |= NLW_ALL;
				continue;
			}
			if (errno != EAGAIN)
				log_warn("up: watch: reading events");
			return;
		}
		if (flen < sizeof(from) || from.nl_family != AF_NETLINK || from.nl_pid != 0)
			continue; /* not from the kernel */
		if (nlw_parse(buf, (size_t)n, &w->ids, &w->seen) < 0)
			w->seen.bits |= NLW_ALL; /* unreadable: look at everything */
	}
}

/* Events on io: read them all, then one pass over what they touched. */
static void events(struct watch *w, struct loop_io *io)
{
	uint64_t t = now_us();

	drain(w, io);
	w->dirty |= w->seen.bits;
	w->seen.bits = 0;
	if (w->dirty && !w->t_event)
		w->t_event = t;
	pass(w);
}

static void nft_cb(struct loop_io *io, uint32_t ev)
{
	(void)ev;
	events(container(io, struct watch, nft_io), io);
}

static void rt_cb(struct loop_io *io, uint32_t ev)
{
	(void)ev;
	events(container(io, struct watch, rt_io), io);
}

/* A netlink socket subscribed to groups, non-blocking, with a big receive buffer. */
static int subscribe(int proto, const unsigned int *groups, size_t n)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, size = WATCH_RCVBUF;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err;
	for (size_t i = 0; i < n; i++)
		if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
			       sizeof(groups[i])) < 0)
			goto err;
	/* past rmem_max needs CAP_NET_ADMIN, which we have; else the default */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return fd;
err:
	size = -errno;
	close(fd);
	return size;
}

struct watch *watch_new(const struct watch_cfg *c)
{
	static const unsigned int nft_groups[] = { NFNLGRP_NFTABLES };
	static const unsigned int rt_groups[] = {
		RTNLGRP_LINK,	    RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
		RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV4_RULE,	 RTNLGRP_IPV6_RULE,
	};
	struct watch *w = calloc(1, sizeof(*w));
	int fd;

	if (!w) {
		log_error("up: watch: %s", strerror(ENOMEM));
		return NULL;
	}
	w->cfg = *c;
	w->nft_io.fd = w->rt_io.fd = -1;
	w->nft_io.cb = nft_cb;
	w->rt_io.cb = rt_cb;
	w->retry.cb = retry_cb;
	w->rec.pid = (uint32_t)getpid();
	w->bound_n = WATCH_REPAIRS_PER_SEC;
	w->bound_ms = 1000;
	fault_bound(w);
	w->ids = (struct nlw_ids){ .nft_table = c->ipt ? NULL : FW_TABLE,
				   .ipt = c->ipt,
				   .ifindex = c->rc.ifindex,
				   .table = c->rc.table,
				   .prio = c->rc.prio,
				   .mark = c->rc.mark,
				   .catch_table = c->rc.catch_table,
				   .catch_prio = c->rc.catch_prio,
				   .self = (uint32_t)getpid() };
	if (!c->ipt && fw_expect(c->fw, &w->want) < 0) {
		log_error("up: watch: the firewall configuration is invalid");
		goto err;
	}
	/* iptables-nft's changes come as nf_tables events too (legacy's do not) */
	fd = subscribe(NETLINK_NETFILTER, nft_groups, 1);
	if (fd < 0 && c->ipt) {
		/* the fallback is for kernels without nf_tables: nothing to follow there */
		log_warnx("up: watch: no nf_tables events (%s): changes to the iptables chains "
			  "are not seen",
			  strerror(-fd));
	} else if (fd < 0) {
		log_error("up: watch: nf_tables events: %s", strerror(-fd));
		goto err;
	}
	w->nft_io.fd = fd;
	fd = subscribe(NETLINK_ROUTE, rt_groups, sizeof(rt_groups) / sizeof(rt_groups[0]));
	if (fd < 0) {
		log_error("up: watch: rtnetlink events: %s", strerror(-fd));
		goto err;
	}
	w->rt_io.fd = fd;
	return w;
err:
	watch_free(w);
	return NULL;
}

/*
 * libnftables calls exit() when it cannot open its netlink socket (nft
 * 1.0.6's netlink_init_error): a check or repair under a full fd table
 * would end up without teardown. The parent's fd count does not grow once
 * the engine's socket is made, so what is free now stays free: refuse to
 * start without room for that socket and a repair's peak (libnftables'
 * netlink socket and a file it reads; route.c, nl.c and the record need
 * one at a time).
 */
static int headroom(int fd, int want)
{
	int fds[WATCH_FD_HEADROOM], n, ret = 0;

	for (n = 0; n < want && n < WATCH_FD_HEADROOM; n++) {
		fds[n] = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (fds[n] < 0) {
			ret = -errno;
			break;
		}
	}
	while (n-- > 0)
		close(fds[n]);
	return ret;
}

int watch_attach(struct watch *w, struct loop *l)
{
	int fd, ret;

	ret = headroom(w->rt_io.fd, WATCH_FD_HEADROOM);
	if (ret < 0) {
		log_error("up: watch: fewer than %d file descriptors to spare for repairs "
			  "(RLIMIT_NOFILE): %s",
			  WATCH_FD_HEADROOM, strerror(-ret));
		return ret;
	}
	w->loop = l;
	fd = w->nft_io.fd;
	w->nft_io.fd = -1;
	ret = fd < 0 ? 0 : loop_io_add(l, &w->nft_io, fd, EPOLLIN);
	if (ret < 0) {
		w->nft_io.fd = fd;
		goto err;
	}
	fd = w->rt_io.fd;
	w->rt_io.fd = -1;
	ret = loop_io_add(l, &w->rt_io, fd, EPOLLIN);
	if (ret < 0) {
		w->rt_io.fd = fd;
		goto err;
	}
	record_write(w);
	/* whatever went missing since it was installed */
	w->dirty = NLW_ALL;
	pass(w);
	return 0;
err:
	log_error("up: watch: joining the loop: %s", strerror(-ret));
	return ret;
}

void watch_engine_ready(struct watch *w)
{
	w->engine_ready = true;
	w->dirty |= NLW_ALL;
	pass(w); /* or the retry timer's pass, if one is pending */
}

void watch_free(struct watch *w)
{
	if (!w)
		return;
	/* the loop is gone by now (privsep_run finished it): only our own fds */
	if (w->nft_io.fd >= 0)
		close(w->nft_io.fd);
	if (w->rt_io.fd >= 0)
		close(w->rt_io.fd);
	if (w->loop) {
		watch_record_remove(w->cfg.dirfd);
		notify_send("STOPPING=1");
	}
	if (w->cfg.ready_fd > 2)
		close(w->cfg.ready_fd); /* never ready: EOF without the line */
	free(w);
}
