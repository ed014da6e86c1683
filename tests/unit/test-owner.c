// SPDX-License-Identifier: GPL-2.0-only
/*
 * owner.c: the record's round trip, every malformed form refused, the bare
 * tag of old tables, /proc/PID/stat lines with hostile command names. And
 * claim.c: our own record, a dead process's record not taken for a live
 * one (also when its pid is ours with another start time), and, as root in
 * a fresh network namespace, the verdicts for a table and a TUN alias.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claim.h"
#include "fw.h"
#include "nl.h"
#include "owner.h"

static int parse(const char *s, struct owner *o)
{
	return owner_parse(s, strlen(s), o);
}

static void test_round_trip(void **state)
{
	static const struct owner cases[] = {
		{ 0, 1, 0 },
		{ 1000, 4242, 123456 },
		{ UINT32_MAX - 1, OWNER_PID_MAX, UINT64_MAX },
	};
	char buf[OWNER_STR_MAX + 1];
	struct owner o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = owner_format(&cases[i], buf, sizeof(buf));

		assert_true(n > 0 && n <= OWNER_STR_MAX);
		assert_int_equal(owner_parse(buf, (size_t)n, &o), 0);
		assert_true(owner_eq(&o, &cases[i]));
	}
	assert_int_equal(owner_format(&cases[1], buf, sizeof(buf)), 39);
	assert_string_equal(buf, "proxyvpn uid=1000 pid=4242 start=123456");
	/* the largest record fits OWNER_STR_MAX, a byte less does not */
	assert_int_equal(owner_format(&cases[2], buf, sizeof(buf)), 62);
	assert_int_equal(owner_format(&cases[2], buf, 63), 62);
	assert_int_equal(owner_format(&cases[2], buf, 62), -ENOSPC);
	/* fields out of range are not a record */
	assert_int_equal(owner_format(&(struct owner){ UINT32_MAX, 1, 1 }, buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(owner_format(&(struct owner){ 1, 0, 1 }, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(owner_format(&(struct owner){ 1, OWNER_PID_MAX + 1, 1 }, buf, sizeof(buf)),
			 -EINVAL);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"proxyvpn ",
		"proxyvpn2",
		"Proxyvpn uid=1 pid=1 start=1",
		"proxyvpn uid=1 pid=1",
		"proxyvpn uid=1 pid=1 start=",
		"proxyvpn uid=1 pid=1 start=1 ",
		"proxyvpn uid=1 pid=1 start=1 x=2",
		"proxyvpn uid=1  pid=1 start=1",
		"proxyvpn uid=01 pid=1 start=1",
		"proxyvpn uid=+1 pid=1 start=1",
		"proxyvpn uid=-1 pid=1 start=1",
		"proxyvpn uid=4294967295 pid=1 start=1", /* (uid_t)-1 */
		"proxyvpn uid=4294967296 pid=1 start=1",
		"proxyvpn uid=1 pid=0 start=1",
		"proxyvpn uid=1 pid=4194305 start=1",
		"proxyvpn uid=1 pid=1 start=18446744073709551616",
		"proxyvpn uid=1 pid=1 start=0x10",
		"proxyvpn pid=1 uid=1 start=1",
		"proxyvpn uid=1 pid=1 start=1\n",
		" proxyvpn uid=1 pid=1 start=1",
	};
	struct owner o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.uid = 7;
		if (parse(bad[i], &o) != -EINVAL)
			fail_msg("accepted `%s'", bad[i]);
		assert_int_equal(o.uid, 0); /* zeroed */
	}
	/* a NUL inside the span */
	assert_int_equal(owner_parse("proxyvpn uid=1\0pid=1 start=1", 28, &o), -EINVAL);
	/* the bare tag: ours, from before owners */
	assert_int_equal(parse("proxyvpn", &o), -ENODATA);
	assert_int_equal(parse("proxyvpn uid=0 pid=1 start=0", &o), 0);
}

static void test_stat(void **state)
{
	uint64_t st = 0;
	char line[512];
	size_t i;
	static const char *const comms[] = { "sh", "a b", "x) S 1 2 3", ")", "((", "" };

	(void)state;
	for (i = 0; i < sizeof(comms) / sizeof(comms[0]); i++) {
		int n = snprintf(line, sizeof(line),
				 "4242 (%s) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
				 "987654321 1000 100 18446744073709551615\n",
				 comms[i]);

		assert_int_equal(owner_stat_start(line, (size_t)n, &st), 0);
		assert_true(st == 987654321);
	}
	/* too few fields, an empty field, no parentheses, a bad number */
	assert_int_equal(owner_stat_start("1 (a) S 1 2", 11, &st), -EINVAL);
	snprintf(line, sizeof(line), "1 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18  20\n");
	assert_int_equal(owner_stat_start(line, strlen(line), &st), -EINVAL);
	snprintf(line, sizeof(line), "1 a S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n");
	assert_int_equal(owner_stat_start(line, strlen(line), &st), -EINVAL);
	snprintf(line, sizeof(line),
		 "1 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 x9 20\n");
	assert_int_equal(owner_stat_start(line, strlen(line), &st), -EINVAL);
	assert_int_equal(owner_stat_start("", 0, &st), -EINVAL);
	/* the last field on the line, without the rest */
	snprintf(line, sizeof(line), "1 (a) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 77");
	assert_int_equal(owner_stat_start(line, strlen(line), &st), 0);
	assert_true(st == 77);
}

/* Our own record, and a dead child's: not alive, nor with its pid and another start. */
static void test_alive(void **state)
{
	struct owner me, child, fake;
	pid_t pid;
	int st;

	(void)state;
	assert_int_equal(claim_self(&me), 0);
	assert_int_equal(me.pid, (uint32_t)getpid());
	assert_int_equal(me.uid, (uint32_t)getuid());
	assert_int_equal(claim_alive(&me), 1);
	fake = me;
	fake.start++;
	assert_int_equal(claim_alive(&fake), 0); /* our pid, another process */

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	child.uid = me.uid;
	child.pid = (uint32_t)pid;
	assert_int_equal(claim_self(&fake), 0); /* (still us) */
	{
		char path[32], buf[OWNER_STAT_MAX];
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		n = read(fd, buf, sizeof(buf));
		close(fd);
		assert_true(n > 0);
		assert_int_equal(owner_stat_start(buf, (size_t)n, &child.start), 0);
	}
	assert_int_equal(claim_alive(&child), 1);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(claim_alive(&child), 0);
}

/* ---- root, in a fresh network namespace: what probe and verdict make of the kernel ---- */

static int saved_ns = -1;

static int ns_setup(void **state)
{
	(void)state;
	if (geteuid() != 0)
		return 0;
	saved_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved_ns < 0 || unshare(CLONE_NEWNET) < 0)
		return -1;
	return 0;
}

static int ns_teardown(void **state)
{
	(void)state;
	if (saved_ns < 0)
		return 0;
	if (setns(saved_ns, CLONE_NEWNET) < 0)
		return -1;
	close(saved_ns);
	saved_ns = -1;
	return 0;
}

static void sh(const char *cmd)
{
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

/* claim_verdict() as uid (in a child: ids cannot come back). */
static enum claim_verdict verdict_as(const struct claim *c, uid_t uid)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(setresuid(uid, uid, uid) == 0 ? (int)claim_verdict(c) : 100);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return (enum claim_verdict)WEXITSTATUS(st);
}

static void test_probe(void **state)
{
	struct owner me, dead = { .uid = 4321, .pid = 1, .start = 1 };
	char rec[OWNER_STR_MAX + 1], err[256] = "", cmd[256];
	struct claim c;
	struct nl *nl;
	int ifindex;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(claim_self(&me), 0);
	/* nothing */
	assert_int_equal(claim_probe(&c), 0);
	assert_int_equal(c.nft, 0);
	assert_false(c.live);
	assert_int_equal(claim_verdict(&c), CLAIM_FREE);

	/* a table of a dead owner (pid 1 never has start time 1): root may clean */
	assert_true(owner_format(&dead, rec, sizeof(rec)) > 0);
	assert_int_equal(fw_claim(rec, err, sizeof(err)), 0);
	assert_int_equal(claim_probe(&c), 0);
	assert_int_equal(c.nft, 1);
	assert_true(c.nft_owner);
	assert_true(owner_eq(&c.o, &dead));
	assert_false(c.live);
	assert_int_equal(claim_verdict(&c), CLAIM_MINE_DEAD);
	/* its uid may clean too, nobody else */
	assert_int_equal(verdict_as(&c, 4321), CLAIM_MINE_DEAD);
	assert_int_equal(verdict_as(&c, 4322), CLAIM_OTHERS_DEAD);
	assert_int_equal(fw_remove(rec, err, sizeof(err)), 0);

	/* our own live claim */
	assert_true(owner_format(&me, rec, sizeof(rec)) > 0);
	assert_int_equal(fw_claim(rec, err, sizeof(err)), 0);
	assert_int_equal(claim_probe(&c), 0);
	assert_true(c.live);
	assert_false(c.tun);
	assert_int_equal(claim_verdict(&c), CLAIM_LIVE);
	assert_int_equal(verdict_as(&c, 4321), CLAIM_LIVE);
	assert_int_equal(fw_remove(rec, err, sizeof(err)), 0);

	/* a link with a record as its alias is a live up, with no table at all */
	sh("ip link add pvpntest type veth peer name pvpnpeer");
	nl = nl_open();
	assert_non_null(nl);
	ifindex = nl_link_index(nl, "pvpntest");
	assert_true(ifindex > 0);
	assert_true(owner_format(&dead, rec, sizeof(rec)) > 0);
	assert_int_equal(nl_link_set_names(nl, ifindex, "pvpnren", rec), 0);
	assert_int_equal(claim_probe(&c), 0);
	assert_true(c.live && c.tun);
	assert_string_equal(c.tun_name, "pvpnren");
	assert_true(owner_eq(&c.o, &dead));
	assert_int_equal(claim_verdict(&c), CLAIM_LIVE);
	/* a rename onto a taken name fails, atomically */
	sh("ip link add pvpntaken type veth peer name pvpnpeer2");
	assert_int_equal(nl_link_set_names(nl, ifindex, "pvpntaken", NULL), -EEXIST);
	/* an alias that is not a record is nobody's */
	assert_int_equal(nl_link_set_names(nl, ifindex, NULL, "proxyvpn"), 0);
	assert_int_equal(claim_probe(&c), 0);
	assert_false(c.live);
	nl_close(nl);

	/* a look-alike table */
	sh("nft add table inet proxyvpn '{ comment \"x\"; }'");
	assert_int_equal(claim_probe(&c), 0);
	assert_int_equal(claim_verdict(&c), CLAIM_LOOKALIKE);
	sh("nft delete table inet proxyvpn");
	/* the bare tag of old runs: root may clean */
	snprintf(cmd, sizeof(cmd), "nft add table inet proxyvpn '{ comment \"%s\"; }'", OWNER_TAG);
	sh(cmd);
	assert_int_equal(claim_probe(&c), 0);
	assert_int_equal(c.nft, 1);
	assert_false(c.nft_owner);
	assert_int_equal(claim_verdict(&c), CLAIM_MINE_DEAD);
	assert_int_equal(verdict_as(&c, 4321), CLAIM_OTHERS_DEAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_alive),
		cmocka_unit_test_setup_teardown(test_probe, ns_setup, ns_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
