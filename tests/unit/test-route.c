// SPDX-License-Identifier: GPL-2.0-only
/*
 * route.c in a fresh network namespace (root only, else skipped): each test
 * forks a child that unshares CLONE_NEWNET, makes a TUN (pvtest0) and an
 * "uplink" TUN (pvup0) holding the main table's defaults, then checks what
 * route.c did with `ip` (inspection only). The child's exit status is the
 * result: 0 pass, 1 fail (reason on stderr), 77 skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nl.h"
#include "route.h"
#include "tun.h"

#define SKIP_CODE 77
#define TUN	  "pvtest0"
#define UPLINK	  "pvup0"

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			_exit(1);                                                                \
		}                                                                                \
	} while (0)

struct env {
	struct nl *nl;
	int tun_fd;
	int ifindex;
};

/* Runs a shell command (2>&1) into out; returns its exit status, -1 on error. */
static __attribute__((format(printf, 3, 4))) int sh(char *out, size_t len, const char *fmt, ...)
{
	char cmd[512], junk[512];
	size_t n = 0, r;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n + 1 < len && (r = fread(out + n, 1, len - n - 1, f)) > 0)
		n += r;
	/* Read the rest too, so the command never dies of SIGPIPE. */
	while (fread(junk, 1, sizeof(junk), f) > 0)
		;
	if (len)
		out[n] = '\0';
	st = pclose(f);
	if (st < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Like sh() but the command must succeed; output discarded. */
#define RUN(...)                                                                                \
	do {                                                                                    \
		char o_[4096];                                                                  \
		int s_ = sh(o_, sizeof(o_), __VA_ARGS__);                                       \
		if (s_ != 0) {                                                                  \
			fprintf(stderr, "%s:%d: command failed (%d): %s\n", __FILE__, __LINE__, \
				s_, o_);                                                        \
			_exit(1);                                                               \
		}                                                                               \
	} while (0)

static int count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* Every rule and every route of both families, as text. */
static void snapshot(char *out, size_t len)
{
	static const char *const cmds[] = {
		"ip rule",
		"ip -6 rule",
		"ip route show table all",
		"ip -6 route show table all",
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		CHECK(sh(out + n, len - n, "%s", cmds[i]) == 0);
		n += strlen(out + n);
		CHECK(n + 1 < len);
	}
}

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, s, strlen(s)) < 0)
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
	close(fd);
}

static int tun_up(struct nl *nl, const char *name, int *ifindex)
{
	char got[IFNAMSIZ];
	bool vnet;
	int fd = tun_open(name, got, false, &vnet);

	CHECK(fd >= 0);
	*ifindex = nl_link_index(nl, got);
	CHECK(*ifindex > 0);
	CHECK(nl_link_set_up(nl, *ifindex, 1500) == 0);
	return fd;
}

static void setup(struct env *e)
{
	struct in6_addr a6;
	struct in_addr a4;
	char out[256];
	int up, lo;

	if (unshare(CLONE_NEWNET) < 0)
		_exit(SKIP_CODE);
	if (sh(out, sizeof(out), "ip -V") != 0)
		_exit(SKIP_CODE);
	/* A new netns can copy a host's disable_ipv6=1 (see exec.c). */
	write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "0");
	write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "0");
	e->nl = nl_open();
	CHECK(e->nl);
	lo = nl_link_index(e->nl, "lo");
	CHECK(lo > 0 && nl_link_set_up(e->nl, lo, 0) == 0);

	e->tun_fd = tun_up(e->nl, TUN, &e->ifindex);
	inet_pton(AF_INET, "198.18.0.1", &a4);
	inet_pton(AF_INET6, "fd70:7678::1", &a6);
	CHECK(nl_addr_add(e->nl, e->ifindex, AF_INET, &a4, 32) == 0);
	CHECK(nl_addr_add(e->nl, e->ifindex, AF_INET6, &a6, 128) == 0);

	/* Unmarked traffic (and marked traffic, were we not fail-closed) goes here. */
	tun_up(e->nl, UPLINK, &up);
	inet_pton(AF_INET, "192.0.2.1", &a4);
	inet_pton(AF_INET6, "2001:db8:ffff::1", &a6);
	CHECK(nl_addr_add(e->nl, up, AF_INET, &a4, 32) == 0);
	CHECK(nl_addr_add(e->nl, up, AF_INET6, &a6, 128) == 0);
	CHECK(nl_route_add_default(e->nl, up, AF_INET, RT_TABLE_MAIN) == 0);
	CHECK(nl_route_add_default(e->nl, up, AF_INET6, RT_TABLE_MAIN) == 0);
}

/*
 * Look-alikes route_pick must step around and route_find_ours must leave
 * alone: our exact shape without our protocol; our protocol without the full
 * mask; a table used only by a route; our protocol with an extra selector
 * (iif); our protocol inverted ("not"); a catch-all's shape without our
 * protocol at the first catch-all priority; one with our protocol but ahead
 * of main.
 */
static void add_decoys(void)
{
	RUN("ip rule add pref 5200 fwmark 0x7076 table 0x7076");
	RUN("ip rule add pref 5201 fwmark 0x7077/0xff table 0x7077 proto 118");
	RUN("ip route add table 0x7078 unreachable default");
	RUN("ip -6 rule add pref 5202 fwmark 0x7079 iif lo table 0x7079 proto 118");
	RUN("ip -6 rule add pref 5203 not fwmark 0x707a table 0x707b proto 118");
	RUN("ip rule add pref 32768 table 0x707d");
	RUN("ip -6 rule add pref 32000 table 0x707d proto 118");
}

static void run_child(void (*fn)(struct env *e))
{
	pid_t pid;
	int st;

	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct env e = { 0 };

		alarm(60); /* bounds the whole child, ip commands included */
		setup(&e);
		fn(&e);
		nl_close(e.nl);
		if (e.tun_fd >= 0)
			close(e.tun_fd);
		exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == SKIP_CODE)
		skip();
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("child: %s %d", WIFEXITED(st) ? "exit" : "signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* `ip route get` for dst with mark (0 = none); output in out, status returned. */
static int route_get(char *out, size_t len, const char *dst, uint32_t mark)
{
	const char *fam = strchr(dst, ':') ? "-6" : "-4";

	if (mark)
		return sh(out, len, "ip %s -o route get %s mark 0x%x", fam, dst, mark);
	return sh(out, len, "ip %s -o route get %s", fam, dst);
}

static void check_objects(const struct route_cfg *c, const char *fam)
{
	char out[4096], s[64];

	CHECK(sh(out, sizeof(out), "ip %s -j rule list table %u", fam, c->table) == 0);
	CHECK(count(out, "\"priority\":") == 1);
	snprintf(s, sizeof(s), "\"priority\":%u,", c->prio);
	CHECK(strstr(out, s));
	snprintf(s, sizeof(s), "\"fwmark\":\"0x%x\"", c->mark);
	CHECK(strstr(out, s));
	CHECK(!strstr(out, "fwmask")); /* iproute2 omits a full mask */
	CHECK(strstr(out, "\"protocol\":\"118\""));

	CHECK(sh(out, sizeof(out), "ip %s -j route show table %u", fam, c->table) == 0);
	CHECK(count(out, "\"dst\":") == 3);
	CHECK(count(out, "\"dst\":\"default\"") == 3);
	CHECK(count(out, "\"type\":\"unreachable\"") == 1);
	CHECK(count(out, "\"type\":\"local\"") == 1);
	CHECK(count(out, "\"metric\":4294967294") == 1);
	CHECK(count(out, "\"metric\":4294967295") == 1);
	CHECK(count(out, "\"dev\":\"" TUN "\"") == 1);
	CHECK(count(out, "\"protocol\":\"118\"") == 3);

	/* The catch-all: a rule with no selector, a TUN route and an unreachable one. */
	CHECK(sh(out, sizeof(out), "ip %s -j rule list table %u", fam, c->catch_table) == 0);
	CHECK(count(out, "\"priority\":") == 1);
	snprintf(s, sizeof(s), "\"priority\":%u,", c->catch_prio);
	CHECK(strstr(out, s));
	CHECK(!strstr(out, "fwmark"));
	CHECK(strstr(out, "\"protocol\":\"118\""));
	CHECK(sh(out, sizeof(out), "ip %s -j route show table %u", fam, c->catch_table) == 0);
	CHECK(count(out, "\"dst\":\"default\"") == 2);
	CHECK(count(out, "\"type\":\"unreachable\"") == 1);
	CHECK(!strstr(out, "local"));
	CHECK(count(out, "\"dev\":\"" TUN "\"") == 1);
	CHECK(count(out, "\"protocol\":\"118\"") == 2);
}

static void check_marked_to_tun(const struct route_cfg *c)
{
	static const char *const dsts[] = { "1.2.3.4", "2001:db8::1" };
	char out[1024];

	for (int i = 0; i < 2; i++) {
		CHECK(route_get(out, sizeof(out), dsts[i], c->mark) == 0);
		CHECK(strstr(out, " dev " TUN " "));
		CHECK(route_get(out, sizeof(out), dsts[i], 0) == 0);
		CHECK(strstr(out, " dev " UPLINK " "));
		/* Another mark is not ours either. */
		CHECK(route_get(out, sizeof(out), dsts[i], c->mark + 1) == 0);
		CHECK(strstr(out, " dev " UPLINK " "));
	}
}

static void pick_body(struct env *e)
{
	struct route_cfg c = { .ifindex = e->ifindex, .ipv6 = true };
	const char *busy = NULL;

	add_decoys();
	CHECK(route_pick(&c, NULL) == 0);
	/* Tables 7076-7079 are referenced, 0x707a is free (0x707b is used). */
	CHECK(c.table == 0x707a);
	/* 0x7076 is a rule's mark, 0x7077 matches 0x7077/0xff. */
	CHECK(c.mark == 0x7078);
	CHECK(c.prio == 5204);
	/* 0x7077-0x7079 and 0x707b are used, 0x707a is ours; 32768 is a rule's. */
	CHECK(c.catch_table == 0x707c);
	CHECK(c.catch_prio == 32769);
	CHECK(c.ifindex == e->ifindex && c.ipv6);

	/* The user's own values are kept, or refused when taken. */
	c = (struct route_cfg){ .table = 0x7078 };
	CHECK(route_pick(&c, &busy) == -EBUSY && !strcmp(busy, "table"));
	c = (struct route_cfg){ .mark = 0x1077 };
	CHECK(route_pick(&c, &busy) == -EBUSY && !strcmp(busy, "fwmark"));
	c = (struct route_cfg){ .prio = 5203 };
	CHECK(route_pick(&c, &busy) == -EBUSY && !strcmp(busy, "priority"));
	c = (struct route_cfg){ .table = 254 };
	CHECK(route_pick(&c, NULL) == -EBUSY);
	c = (struct route_cfg){ .table = 100, .prio = 9000 };
	CHECK(route_pick(&c, NULL) == 0);
	CHECK(c.table == 100 && c.prio == 9000 && c.mark == 0x7078);
	/* The catch-all's table is never the user's table. */
	c = (struct route_cfg){ .table = 0x707c };
	CHECK(route_pick(&c, NULL) == 0);
	CHECK(c.table == 0x707c && c.catch_table == 0x707a);
}

static void test_pick_avoids_decoys(void **state)
{
	(void)state;
	run_child(pick_body);
}

static void install_remove_body(struct env *e)
{
	static char before[16384], after[16384], installed[16384];
	struct route_cfg c = { .ifindex = e->ifindex, .ipv6 = true };
	char err[256] = "", out[1024];

	add_decoys();
	snapshot(before, sizeof(before));
	/* Marked traffic leaves by the uplink before we are up. */
	CHECK(route_get(out, sizeof(out), "1.2.3.4", 0x7078) == 0 && strstr(out, " dev " UPLINK));

	CHECK(route_pick(&c, NULL) == 0);
	CHECK(route_install(&c, err, sizeof(err)) == 0);
	check_objects(&c, "-4");
	check_objects(&c, "-6");
	check_marked_to_tun(&c);
	snapshot(installed, sizeof(installed));

	/* Twice: -EEXIST at the first step, nothing changed. */
	CHECK(route_install(&c, err, sizeof(err)) == -EEXIST);
	CHECK(strstr(err, "IPv4 unreachable default route"));
	snapshot(after, sizeof(after));
	CHECK(strcmp(installed, after) == 0);

	CHECK(route_remove(&c, err, sizeof(err)) == 0);
	snapshot(after, sizeof(after));
	if (strcmp(before, after) != 0)
		fprintf(stderr, "before:\n%s\nafter:\n%s\n", before, after);
	CHECK(strcmp(before, after) == 0);
	/* Absent objects are not an error. */
	CHECK(route_remove(&c, err, sizeof(err)) == 0);

	/* IPv4 only: nothing of ours in IPv6. */
	c.ipv6 = false;
	CHECK(route_install(&c, err, sizeof(err)) == 0);
	check_objects(&c, "-4");
	CHECK(sh(out, sizeof(out), "ip -6 rule list table %u", c.table) == 0);
	CHECK(!strstr(out, "proto"));
	CHECK(route_remove(&c, err, sizeof(err)) == 0);
	snapshot(after, sizeof(after));
	CHECK(strcmp(before, after) == 0);
}

static void test_install_remove(void **state)
{
	(void)state;
	run_child(install_remove_body);
}

/* Bounded: the TUN goes with its last fd, normally before close() returns. */
static void wait_gone(struct nl *nl, const char *name)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 200; i++) {
		if (nl_link_index(nl, name) == -ENODEV)
			return;
		nanosleep(&ts, NULL);
	}
	CHECK(!"interface still there after 2 s");
}

static void fail_closed_body(struct env *e)
{
	static const char *const dsts[] = { "1.2.3.4", "2001:db8::1" };
	static char before[16384], after[16384];
	struct route_cfg c = { .ifindex = e->ifindex, .ipv6 = true };
	char err[256], out[8192];

	snapshot(before, sizeof(before));
	CHECK(route_pick(&c, NULL) == 0);
	CHECK(route_install(&c, err, sizeof(err)) == 0);
	check_marked_to_tun(&c);

	close(e->tun_fd);
	e->tun_fd = -1;
	wait_gone(e->nl, TUN);
	for (int i = 0; i < 2; i++) {
		/* The fallback answers (to lo, never out), not the uplink. */
		CHECK(route_get(out, sizeof(out), dsts[i], c.mark) == 0);
		CHECK(strstr(out, "local "));
		CHECK(strstr(out, " dev lo "));
		CHECK(!strstr(out, UPLINK));
		CHECK(route_get(out, sizeof(out), dsts[i], 0) == 0);
		CHECK(strstr(out, " dev " UPLINK " "));
	}

	/* The dev routes went with the device: remove still succeeds. */
	CHECK(route_remove(&c, err, sizeof(err)) == 0);
	snapshot(after, sizeof(after));
	CHECK(strcmp(before, after) != 0); /* the TUN's own routes are gone */
	CHECK(sh(out, sizeof(out),
		 "ip rule; ip -6 rule; ip route show table all; "
		 "ip -6 route show table all") == 0);
	CHECK(!strstr(out, "proto 118"));
}

static void test_fail_closed(void **state)
{
	(void)state;
	run_child(fail_closed_body);
}

static void find_body(struct env *e)
{
	static char before[16384], after[16384];
	struct route_cfg c = { .ifindex = e->ifindex, .ipv6 = true }, f;
	char err[256];

	add_decoys();
	snapshot(before, sizeof(before));
	memset(&f, 0xa5, sizeof(f));
	CHECK(route_find_ours(&f) == 0);

	CHECK(route_pick(&c, NULL) == 0);
	CHECK(route_install(&c, err, sizeof(err)) == 0);
	memset(&f, 0, sizeof(f));
	CHECK(route_find_ours(&f) == 1);
	CHECK(f.table == c.table && f.mark == c.mark && f.prio == c.prio);
	CHECK(f.catch_table == c.catch_table && f.catch_prio == c.catch_prio);
	CHECK(f.ipv6 && f.ifindex == e->ifindex);
	CHECK(route_remove(&f, err, sizeof(err)) == 0);
	snapshot(after, sizeof(after));
	CHECK(strcmp(before, after) == 0);
	CHECK(route_find_ours(&f) == 0);

	/* A dead run (TUN gone, no state file), IPv4 only, user-chosen ids. */
	c = (struct route_cfg){ .ifindex = e->ifindex,
				.table = 1000,
				.mark = 0x99,
				.prio = 100,
				.catch_table = 1001,
				.catch_prio = 40000 };
	CHECK(route_install(&c, err, sizeof(err)) == 0);
	close(e->tun_fd);
	e->tun_fd = -1;
	wait_gone(e->nl, TUN);
	memset(&f, 0, sizeof(f));
	CHECK(route_find_ours(&f) == 1);
	CHECK(f.table == 1000 && f.mark == 0x99 && f.prio == 100 && !f.ipv6 && f.ifindex == 0);
	CHECK(f.catch_table == 1001 && f.catch_prio == 40000);
	CHECK(route_remove(&f, err, sizeof(err)) == 0);
	CHECK(route_find_ours(&f) == 0);

	/* Half a run (only its catch-all left) is found and removed too. */
	c.ifindex = 0;
	RUN("ip rule add pref 40001 table 1002 proto 118");
	RUN("ip route add table 1002 unreachable default proto 118 metric 4294967295");
	memset(&f, 0, sizeof(f));
	CHECK(route_find_ours(&f) == 1);
	CHECK(f.table == 0 && f.catch_table == 1002 && f.catch_prio == 40001);
	CHECK(route_remove(&f, err, sizeof(err)) == 0);
	CHECK(route_find_ours(&f) == 0);
	CHECK(sh(after, sizeof(after), "ip route show table 1002") == 0 && !after[0]);
	/* Every decoy is still there. */
	CHECK(sh(after, sizeof(after), "ip rule; ip -6 rule; ip route show table 0x7078") == 0);
	CHECK(strstr(after, "5200:\tfrom all fwmark 0x7076 lookup 28790"));
	CHECK(strstr(after, "5201:\tfrom all fwmark 0x7077/0xff lookup 28791 proto 118"));
	CHECK(strstr(after, "5202:\tfrom all fwmark 0x7079 iif lo lookup 28793 proto 118"));
	CHECK(strstr(after, "5203:\tnot from all fwmark 0x707a lookup 28795 proto 118"));
	CHECK(strstr(after, "32000:\tfrom all lookup 28797 proto 118"));
	CHECK(strstr(after, "32768:\tfrom all lookup 28797"));
	CHECK(strstr(after, "unreachable default"));
}

static void test_find_ours(void **state)
{
	(void)state;
	run_child(find_body);
}

static void rollback_body(struct env *e)
{
	static char before[16384], after[16384];
	struct route_cfg c = { .ifindex = e->ifindex, .ipv6 = true };
	char err[256] = "";

	CHECK(route_pick(&c, NULL) == 0);
	/* Our own IPv6 rule already there: the last step fails. */
	RUN("ip -6 rule add pref %u fwmark 0x%x table %u proto 118", c.prio, c.mark, c.table);
	snapshot(before, sizeof(before));
	CHECK(route_install(&c, err, sizeof(err)) == -EEXIST);
	CHECK(strstr(err, "IPv6 fwmark rule"));
	snapshot(after, sizeof(after));
	CHECK(strcmp(before, after) == 0);

	/* No such device: the second step fails, the first is undone. */
	c.ifindex = 9999;
	CHECK(route_install(&c, err, sizeof(err)) == -ENODEV);
	CHECK(strstr(err, "IPv4 default route via the TUN"));
	snapshot(after, sizeof(after));
	CHECK(strcmp(before, after) == 0);

	c.ifindex = 0;
	CHECK(route_install(&c, err, sizeof(err)) == -EINVAL);
	c.ifindex = e->ifindex;
	c.table = 255;
	CHECK(route_install(&c, err, sizeof(err)) == -EINVAL);
	CHECK(route_remove(&c, err, sizeof(err)) == -EINVAL);
	CHECK(route_pick(&c, NULL) == -EBUSY);
	c = (struct route_cfg){ .ifindex = e->ifindex, .ipv6 = true };
	CHECK(route_pick(&c, NULL) == 0);
	/* The catch-all ahead of main, or in our own table: refused. */
	c.catch_prio = 32767;
	CHECK(route_install(&c, err, sizeof(err)) == -EINVAL);
	CHECK(route_remove(&c, err, sizeof(err)) == -EINVAL);
	c.catch_prio = 32768;
	c.catch_table = c.table;
	CHECK(route_install(&c, err, sizeof(err)) == -EINVAL);
}

/*
 * No default route in main (a network whose only way out is the proxy):
 * unmarked traffic main cannot route reaches the TUN by the catch-all, so
 * connect() gets a source address and a packet the mark can reroute; once
 * the TUN is gone it is unreachable at once (never the local fallback).
 */
static void no_default_body(struct env *e)
{
	static const char *const dsts[] = { "1.2.3.4", "2001:db8::1" };
	static char before[16384], after[16384];
	struct route_cfg c = { .ifindex = e->ifindex, .ipv6 = true };
	char err[256], out[1024];

	RUN("ip route del default; ip -6 route del default");
	snapshot(before, sizeof(before));
	for (int i = 0; i < 2; i++)
		CHECK(route_get(out, sizeof(out), dsts[i], 0) != 0);
	CHECK(route_pick(&c, NULL) == 0);
	CHECK(route_install(&c, err, sizeof(err)) == 0);
	for (int i = 0; i < 2; i++) {
		CHECK(route_get(out, sizeof(out), dsts[i], 0) == 0);
		CHECK(strstr(out, " dev " TUN " "));
		CHECK(route_get(out, sizeof(out), dsts[i], c.mark) == 0);
		CHECK(strstr(out, " dev " TUN " "));
	}
	/* The uplink's own subnet still goes by main. */
	CHECK(route_get(out, sizeof(out), "192.0.2.1", 0) == 0 && strstr(out, "local"));

	close(e->tun_fd);
	e->tun_fd = -1;
	wait_gone(e->nl, TUN);
	for (int i = 0; i < 2; i++) {
		CHECK(route_get(out, sizeof(out), dsts[i], 0) != 0);
		CHECK(!strstr(out, " dev "));
		CHECK(route_get(out, sizeof(out), dsts[i], c.mark) == 0 && strstr(out, " dev lo "));
	}
	CHECK(route_remove(&c, err, sizeof(err)) == 0);
	CHECK(sh(after, sizeof(after),
		 "ip rule; ip -6 rule; ip route show table all; "
		 "ip -6 route show table all") == 0);
	CHECK(!strstr(after, "proto 118"));
}

static void test_no_default_route(void **state)
{
	(void)state;
	run_child(no_default_body);
}

static void test_install_rollback(void **state)
{
	(void)state;
	run_child(rollback_body);
}

/* The watcher's view: route_check() finds what was removed or replaced, route_repair() puts it back. */
static void check_repair_body(struct env *e)
{
	static char installed[16384], after[16384];
	struct route_cfg c = { .ifindex = e->ifindex, .ipv6 = true };
	struct route_state st, done;
	struct in6_addr a6;
	struct in_addr a4;
	char err[256] = "";

	CHECK(route_pick(&c, NULL) == 0);
	CHECK(route_install(&c, err, sizeof(err)) == 0);
	snapshot(installed, sizeof(installed));
	CHECK(route_check(&c, &st) == 0);
	CHECK(st.missing == 0 && st.foreign == 0);
	CHECK(route_repair(&c, 0, &done, err, sizeof(err)) == 0);
	CHECK(done.missing == 0 && done.foreign == 0);
	CHECK(route_step_name(3) && !strcmp(route_step_name(3), "IPv4 fwmark rule"));
	CHECK(route_step_name(13) && !strcmp(route_step_name(13), "IPv6 catch-all rule"));
	CHECK(route_step_name(ROUTE_STEPS) == NULL);

	/* ip rule flush (IPv4): our two rules, and main's and default's, go */
	RUN("ip rule flush");
	CHECK(route_check(&c, &st) == 0);
	CHECK(st.missing == (1U << 3 | 1U << 6) && st.foreign == 0);
	/*
	 * the table flushed (IPv6: iproute2 leaves the unreachable route), a
	 * foreign route added, the IPv4 dev route replaced
	 */
	RUN("ip -6 route flush table %u", c.table);
	RUN("ip route add 203.0.113.0/24 dev " UPLINK " table %u", c.table);
	RUN("ip route replace default dev " UPLINK " table %u", c.table);
	CHECK(route_check(&c, &st) == 0);
	CHECK(st.missing == (1U << 2 | 1U << 3 | 1U << 6 | 1U << 8 | 1U << 9) && st.foreign == 2);

	/* skipped steps stay missing */
	CHECK(route_repair(&c, 1U << 9, &done, err, sizeof(err)) == 0);
	CHECK(done.missing == (1U << 2 | 1U << 3 | 1U << 6 | 1U << 8) && done.foreign == 2);
	CHECK(route_check(&c, &st) == 0);
	CHECK(st.missing == 1U << 9 && st.foreign == 0);
	CHECK(route_repair(&c, 0, &done, err, sizeof(err)) == 0);
	CHECK(done.missing == 1U << 9 && done.foreign == 0);
	CHECK(route_check(&c, &st) == 0);
	CHECK(st.missing == 0 && st.foreign == 0);
	/* byte for byte as installed, once the rules we do not own are back */
	RUN("ip rule add pref 32766 table main && ip rule add pref 32767 table default");
	snapshot(after, sizeof(after));
	if (strcmp(installed, after) != 0)
		fprintf(stderr, "installed:\n%s\nafter:\n%s\n", installed, after);
	CHECK(strcmp(installed, after) == 0);

	/* the link and its addresses, as the watcher and status see them */
	inet_pton(AF_INET, "198.18.0.1", &a4);
	inet_pton(AF_INET6, "fd70:7678::1", &a6);
	CHECK(nl_link_state(e->nl, e->ifindex, TUN) == 1);
	CHECK(nl_link_state(e->nl, e->ifindex, UPLINK) == -ENODEV);
	CHECK(nl_link_state(e->nl, 9999, TUN) == -ENODEV);
	CHECK(nl_addr_has(e->nl, e->ifindex, AF_INET, &a4, 32) == 1);
	CHECK(nl_addr_has(e->nl, e->ifindex, AF_INET6, &a6, 128) == 1);
	CHECK(nl_addr_has(e->nl, e->ifindex, AF_INET, &a4, 24) == 0);
	RUN("ip link set " TUN " down && ip addr del 198.18.0.1/32 dev " TUN);
	CHECK(nl_link_state(e->nl, e->ifindex, TUN) == 0);
	CHECK(nl_addr_has(e->nl, e->ifindex, AF_INET, &a4, 32) == 0);
	CHECK(nl_addr_has(e->nl, e->ifindex, AF_INET6, &a6, 128) == 0); /* down: IPv6 goes too */

	/* the TUN gone: its dev routes went with it; repair skips them */
	close(e->tun_fd);
	e->tun_fd = -1;
	wait_gone(e->nl, TUN);
	CHECK(nl_link_state(e->nl, e->ifindex, TUN) == -ENODEV);
	CHECK(route_check(&c, &st) == 0);
	CHECK(st.missing == (1U << 2 | 1U << 5 | 1U << 9 | 1U << 12));
	CHECK(route_repair(&c, 1U << 2 | 1U << 5 | 1U << 9 | 1U << 12, &done, err, sizeof(err)) ==
	      0);
	CHECK(done.missing == 0);
	CHECK(route_remove(&c, err, sizeof(err)) == 0);
}

static void test_check_repair(void **state)
{
	(void)state;
	run_child(check_repair_body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_avoids_decoys), cmocka_unit_test(test_install_remove),
		cmocka_unit_test(test_fail_closed),	   cmocka_unit_test(test_find_ours),
		cmocka_unit_test(test_install_rollback),   cmocka_unit_test(test_no_default_route),
		cmocka_unit_test(test_check_repair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
