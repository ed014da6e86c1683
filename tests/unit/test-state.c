// SPDX-License-Identifier: GPL-2.0-only
/*
 * state.c: round trip of a full record, every kind of corrupt file, the
 * record helpers `up` builds it with (add, drop the last, has, the routes
 * of one install), the directory and file checks (symlinks, modes, owners),
 * atomic replacement, and the `up` lock across processes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state.h"

#define OTHER_UID 65534

static char tmpdir[64];
static char dirpath[128];
static int dirfd_;

static void fill(struct state *s)
{
	static const char *const link[] = { "pvpn0" };
	static const char *const route[] = { "4", "51820", "default", "dev=pvpn0" };
	static const char *const route6[] = { "6", "51820", "::/0", "unreachable" };
	static const char *const rule[] = { "4", "5180", "fwmark=0xca6c/0xffffffff" };
	static const char *const nft[] = { "inet", "proxyvpn" };

	memset(s, 0, sizeof(*s));
	s->pid = 4242;
	s->start = 1700000000;
	strcpy(s->tun, "pvpn0");
	s->ifindex = 17;
	s->table = 51820;
	s->fwmark = 0xca6c;
	s->priority = 5180;
	s->catch_table = 51821;
	s->catch_priority = 32768;
	s->ipv6 = true;
	s->killswitch = true;
	s->forward = STATE_FWD_PROXY;
	s->fw = STATE_FW_NFTABLES;
	strcpy(s->fw_table, "proxyvpn");
	strcpy(s->fw_chain, "pvpn");
	s->proxy.family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", s->proxy.addr), 1);
	s->proxy.port = 1080;
	assert_int_equal(state_obj_add(s, STATE_OBJ_LINK, 1, link), 0);
	assert_int_equal(state_obj_add(s, STATE_OBJ_ROUTE, 4, route), 0);
	assert_int_equal(state_obj_add(s, STATE_OBJ_ROUTE, 4, route6), 0);
	assert_int_equal(state_obj_add(s, STATE_OBJ_RULE, 3, rule), 0);
	assert_int_equal(state_obj_add(s, STATE_OBJ_NFT_TABLE, 2, nft), 0);
}

static int format(const struct state *s, char *buf, size_t len)
{
	const char *why = NULL;
	int n = state_format(s, buf, len, &why);

	if (n < 0)
		fail_msg("state_format = %d (%s)", n, why ? why : "(null)");
	return n;
}

static void assert_same(const struct state *a, const struct state *b)
{
	unsigned int i, j;

	assert_int_equal(a->pid, b->pid);
	assert_true(a->start == b->start);
	assert_string_equal(a->tun, b->tun);
	assert_int_equal(a->ifindex, b->ifindex);
	assert_int_equal(a->table, b->table);
	assert_int_equal(a->fwmark, b->fwmark);
	assert_int_equal(a->priority, b->priority);
	assert_int_equal(a->catch_table, b->catch_table);
	assert_int_equal(a->catch_priority, b->catch_priority);
	assert_int_equal(a->ipv6, b->ipv6);
	assert_int_equal(a->killswitch, b->killswitch);
	assert_int_equal(a->forward, b->forward);
	assert_int_equal(a->fw, b->fw);
	assert_string_equal(a->fw_table, b->fw_table);
	assert_string_equal(a->fw_chain, b->fw_chain);
	assert_int_equal(a->proxy.family, b->proxy.family);
	assert_memory_equal(a->proxy.addr, b->proxy.addr, 16);
	assert_int_equal(a->proxy.port, b->proxy.port);
	assert_int_equal(a->nobj, b->nobj);
	for (i = 0; i < a->nobj; i++) {
		assert_int_equal(a->obj[i].kind, b->obj[i].kind);
		assert_int_equal(a->obj[i].nargs, b->obj[i].nargs);
		for (j = 0; j < a->obj[i].nargs; j++)
			assert_string_equal(a->obj[i].arg[j], b->obj[i].arg[j]);
	}
}

static void parse_ok(const char *buf, size_t len, struct state *s)
{
	const char *why = NULL;
	int ret = state_parse(buf, len, s, &why);

	if (ret != 0)
		fail_msg("state_parse = %d (%s) on:\n%.*s", ret, why ? why : "(null)", (int)len,
			 buf);
	assert_null(why);
	assert_int_equal(s->version, STATE_VERSION);
}

static void parse_bad_len(const char *buf, size_t len, const char *want)
{
	struct state s;
	const char *why = NULL;
	int ret = state_parse(buf, len, &s, &why);
	static const struct state zero;

	if (ret != -EINVAL)
		fail_msg("state_parse = %d, want -EINVAL, on:\n%.*s", ret, (int)len, buf);
	assert_non_null(why);
	if (want && !strstr(why, want))
		fail_msg("why \"%s\", want \"%s\", on:\n%.*s", why, want, (int)len, buf);
	/* Nothing half-parsed survives. */
	assert_memory_equal(&s, &zero, sizeof(s));
}

static void parse_bad(const char *buf, const char *want)
{
	parse_bad_len(buf, strlen(buf), want);
}

/* A valid file with `line` substituted for the line starting with `key `. */
static void with_line(char *out, size_t len, const char *key, const char *line)
{
	struct state s;
	char buf[STATE_FILE_MAX];
	char *p, *nl = NULL;
	size_t kl = strlen(key);

	fill(&s);
	format(&s, buf, sizeof(buf));
	for (p = buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			break;
	}
	assert_true(*p && nl);
	snprintf(out, len, "%.*s%s%s", (int)(p - buf), buf, line, nl);
}

static void bad_value(const char *key, const char *line, const char *want)
{
	char buf[STATE_FILE_MAX];

	with_line(buf, sizeof(buf), key, line);
	parse_bad(buf, want);
}

static void good_value(const char *key, const char *line, struct state *s)
{
	char buf[STATE_FILE_MAX];

	with_line(buf, sizeof(buf), key, line);
	parse_ok(buf, strlen(buf), s);
}

static int setup(void **st)
{
	(void)st;
	strcpy(tmpdir, "/tmp/test-state.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(dirpath, sizeof(dirpath), "%s/proxyvpn", tmpdir);
	return 0;
}

static int teardown(void **st)
{
	char cmd[160];

	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Opens (creating) the state dir under the test's temp dir. */
static int open_dir(void)
{
	const char *why = NULL;
	int fd = state_dir_open(dirpath, &why);

	if (fd < 0)
		fail_msg("state_dir_open(%s) = %d (%s)", dirpath, fd, why ? why : "(null)");
	dirfd_ = fd;
	return fd;
}

static void test_round_trip(void **st)
{
	struct state a, b;
	char buf[STATE_FILE_MAX], buf2[STATE_FILE_MAX];
	int n;

	(void)st;
	fill(&a);
	n = format(&a, buf, sizeof(buf));
	assert_int_equal((size_t)n, strlen(buf));
	assert_string_equal(buf, "proxyvpn-state 3\n"
				 "pid 4242\n"
				 "start 1700000000\n"
				 "tun pvpn0\n"
				 "ifindex 17\n"
				 "table 51820\n"
				 "fwmark 51820\n"
				 "priority 5180\n"
				 "catch-table 51821\n"
				 "catch-priority 32768\n"
				 "ipv6 on\n"
				 "fw nftables\n"
				 "fw-table proxyvpn\n"
				 "fw-chain pvpn\n"
				 "killswitch on\n"
				 "forward proxy\n"
				 "proxy [2001:db8::1]:1080\n"
				 "obj link pvpn0\n"
				 "obj route 4 51820 default dev=pvpn0\n"
				 "obj route 6 51820 ::/0 unreachable\n"
				 "obj rule 4 5180 fwmark=0xca6c/0xffffffff\n"
				 "obj nft-table inet proxyvpn\n"
				 "end\n");
	parse_ok(buf, (size_t)n, &b);
	assert_same(&a, &b);
	assert_int_equal(format(&b, buf2, sizeof(buf2)), n);
	assert_string_equal(buf, buf2);

	/* IPv4 proxy, iptables, switches off. */
	a.proxy.family = AF_INET;
	memset(a.proxy.addr, 0, sizeof(a.proxy.addr));
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", a.proxy.addr), 1);
	a.proxy.port = 65535;
	a.fw = STATE_FW_IPTABLES;
	a.ipv6 = false;
	a.killswitch = false;
	a.nobj = 0;
	n = format(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "proxy 127.0.0.1:65535\n"));
	assert_non_null(strstr(buf, "fw iptables\n"));
	assert_non_null(strstr(buf, "killswitch off\n"));
	parse_ok(buf, (size_t)n, &b);
	assert_same(&a, &b);
}

/* Every field at its largest: 64 objects of 4 fields of 63 bytes. */
static void test_round_trip_max(void **st)
{
	struct state a, b;
	char buf[STATE_FILE_MAX];
	char f[STATE_OBJ_ARGS][STATE_ARG_MAX + 1];
	const char *args[STATE_OBJ_ARGS];
	unsigned int i, j;
	int n;

	(void)st;
	fill(&a);
	a.nobj = 0;
	a.pid = STATE_PID_MAX;
	a.start = INT64_MAX;
	strcpy(a.tun, "abcdefghijklmno");
	a.ifindex = INT32_MAX;
	a.table = UINT32_MAX;
	a.fwmark = UINT32_MAX;
	a.priority = UINT32_MAX;
	a.catch_table = UINT32_MAX - 1;
	a.catch_priority = UINT32_MAX;
	memset(a.fw_table, 'T', STATE_NAME_MAX);
	memset(a.fw_chain, 'C', STATE_NAME_MAX);
	for (i = 0; i < STATE_OBJ_MAX; i++) {
		for (j = 0; j < STATE_OBJ_ARGS; j++) {
			memset(f[j], 'a' + (char)j, STATE_ARG_MAX);
			f[j][STATE_ARG_MAX] = '\0';
			args[j] = f[j];
		}
		assert_int_equal(
			state_obj_add(&a, (enum state_kind)(1 + i % 7), STATE_OBJ_ARGS, args), 0);
	}
	assert_int_equal(state_obj_add(&a, STATE_OBJ_LINK, 1, args), -ENOSPC);
	n = format(&a, buf, sizeof(buf));
	assert_true(n < STATE_FILE_MAX / 2);
	parse_ok(buf, (size_t)n, &b);
	assert_same(&a, &b);
	/* The smallest buffer that fits, and one byte less. */
	{
		char small[STATE_FILE_MAX];
		const char *why = NULL;

		assert_int_equal(state_format(&a, small, (size_t)n + 1, &why), n);
		assert_int_equal(state_format(&a, small, (size_t)n, &why), -ENOSPC);
	}
}

static void test_truncated(void **st)
{
	struct state a;
	char buf[STATE_FILE_MAX];
	int n, i;

	(void)st;
	fill(&a);
	n = format(&a, buf, sizeof(buf));
	/* Every prefix: cut mid-line, or at a line end (then "end" is missing). */
	for (i = 0; i < n; i++)
		parse_bad_len(buf, (size_t)i, NULL);
	parse_bad("", "empty");
	parse_bad("proxyvpn-state 3\n", "no end line");
}

static void test_header(void **st)
{
	char buf[STATE_FILE_MAX];
	struct state a;
	int n;

	(void)st;
	fill(&a);
	n = format(&a, buf, sizeof(buf));
	(void)n;
	/* Versions 1 (before the catch-all) and 2 (before forward) are not
	 * read: down goes by our tags. */
	memcpy(buf, "proxyvpn-state 1", 16);
	parse_bad(buf, "version");
	memcpy(buf, "proxyvpn-state 2", 16);
	parse_bad(buf, "version");
	memcpy(buf, "proxyvpn-state 4", 16);
	parse_bad(buf, "version");
	memcpy(buf, "proxyvpn-state 0", 16);
	parse_bad(buf, "version");
	memcpy(buf, "proxyvpn-stat  2", 16);
	parse_bad(buf, "not a proxyvpn state file");
	parse_bad("wg-quick\nend\n", "not a proxyvpn state file");
	parse_bad("proxyvpn-state 03\nend\n", "version");
	parse_bad("proxyvpn-state 3 \nend\n", "version");
	parse_bad("proxyvpn-state  3\nend\n", "version");
	parse_bad("proxyvpn-state 99999999999999999999999\nend\n", "version");
	parse_bad("\nproxyvpn-state 3\nend\n", "not a proxyvpn state file");
	/* A header alone with end is syntactically fine but lacks every key. */
	parse_bad("proxyvpn-state 3\nend\n", "missing key");
}

static void test_numbers(void **st)
{
	struct state s;
	char line[64];

	(void)st;
	bad_value("pid", "pid 0", "bad pid");
	bad_value("pid", "pid 4194305", "bad pid");
	bad_value("pid", "pid -1", "bad pid");
	bad_value("pid", "pid +1", "bad pid");
	bad_value("pid", "pid 01", "bad pid");
	bad_value("pid", "pid 1x", "bad pid");
	bad_value("pid", "pid ", "bad pid");
	bad_value("pid", "pid 1 ", "bad pid");
	bad_value("pid", "pid  1", "bad pid");
	bad_value("pid", "pid 0x10", "bad pid");
	good_value("pid", "pid 4194304", &s);
	assert_int_equal(s.pid, 4194304);
	good_value("pid", "pid 1", &s);

	bad_value("start", "start -1", "bad start");
	bad_value("start", "start 9223372036854775808", "bad start");
	bad_value("start", "start 18446744073709551616", "bad start");
	bad_value("start", "start 99999999999999999999999", "bad start");
	good_value("start", "start 9223372036854775807", &s);
	assert_true(s.start == INT64_MAX);
	good_value("start", "start 0", &s);

	bad_value("ifindex", "ifindex 0", "bad ifindex");
	bad_value("ifindex", "ifindex 2147483648", "bad ifindex");
	good_value("ifindex", "ifindex 2147483647", &s);

	for (unsigned int t = 253; t <= 255; t++) {
		snprintf(line, sizeof(line), "table %u", t);
		bad_value("table", line, "bad table");
	}
	bad_value("table", "table 0", "bad table");
	bad_value("table", "table 4294967296", "bad table");
	good_value("table", "table 4294967295", &s);
	assert_int_equal(s.table, UINT32_MAX);
	good_value("table", "table 252", &s);
	good_value("table", "table 256", &s);

	bad_value("fwmark", "fwmark 0", "bad fwmark");
	bad_value("fwmark", "fwmark 4294967296", "bad fwmark");
	good_value("fwmark", "fwmark 1", &s);

	bad_value("priority", "priority 0", "bad priority");
	bad_value("priority", "priority 32766", "bad priority");
	bad_value("priority", "priority 32767", "bad priority");
	bad_value("priority", "priority 4294967296", "bad priority");
	good_value("priority", "priority 32768", &s);
	good_value("priority", "priority 32765", &s);

	bad_value("catch-table", "catch-table 0", "bad catch-table");
	bad_value("catch-table", "catch-table 255", "bad catch-table");
	bad_value("catch-table", "catch-table 51820", "catch-table out of range"); /* = table */
	good_value("catch-table", "catch-table 4294967295", &s);
	bad_value("catch-priority", "catch-priority 0", "bad catch-priority");
	bad_value("catch-priority", "catch-priority 5200", "bad catch-priority");
	bad_value("catch-priority", "catch-priority 32767", "bad catch-priority");
	bad_value("catch-priority", "catch-priority 4294967296", "bad catch-priority");
	good_value("catch-priority", "catch-priority 32768", &s);
}

static void test_names(void **st)
{
	struct state s;

	(void)st;
	bad_value("tun", "tun ", "bad tun name");
	bad_value("tun", "tun abcdefghijklmnop", "bad tun name"); /* 16 */
	bad_value("tun", "tun a/b", "bad tun name");
	bad_value("tun", "tun a b", "bad tun name");
	bad_value("tun", "tun a:b", "bad tun name");
	bad_value("tun", "tun \x7f", "bad tun name");
	bad_value("tun", "tun a\tb", "bad tun name");
	bad_value("tun", "tun a\rb", "bad tun name");
	bad_value("tun", "tun \xc3\xa9", "bad tun name");
	good_value("tun", "tun abcdefghijklmno", &s);
	good_value("tun", "tun A-b_c.9", &s);

	bad_value("fw-table", "fw-table ", "bad fw-table");
	bad_value("fw-table", "fw-table abcdefghijklmnopqrstuvwxyz0123456", "bad fw-table");
	bad_value("fw-table", "fw-table a;b", "bad fw-table");
	good_value("fw-table", "fw-table abcdefghijklmnopqrstuvwxyz01234", &s);
	bad_value("fw-chain", "fw-chain $x", "bad fw-chain");
	bad_value("fw-chain", "fw-chain ", "bad fw-chain");

	bad_value("fw", "fw nft", "bad fw");
	bad_value("fw", "fw NFTABLES", "bad fw");
	bad_value("fw", "fw nftables ", "bad fw");
	good_value("fw", "fw iptables", &s);
	assert_int_equal(s.fw, STATE_FW_IPTABLES);

	bad_value("ipv6", "ipv6 1", "bad ipv6");
	bad_value("ipv6", "ipv6 yes", "bad ipv6");
	bad_value("ipv6", "ipv6 On", "bad ipv6");
	good_value("ipv6", "ipv6 off", &s);
	assert_false(s.ipv6);
	bad_value("killswitch", "killswitch ", "bad killswitch");
	bad_value("killswitch", "killswitch onn", "bad killswitch");
	good_value("killswitch", "killswitch off", &s);
	assert_false(s.killswitch);
	bad_value("forward", "forward ", "bad forward");
	bad_value("forward", "forward Proxy", "bad forward");
	bad_value("forward", "forward proxyy", "bad forward");
	good_value("forward", "forward block", &s);
	assert_int_equal(s.forward, STATE_FWD_BLOCK);
	good_value("forward", "forward direct", &s);
	assert_int_equal(s.forward, STATE_FWD_DIRECT);
}

static void test_proxy(void **st)
{
	struct state s;

	(void)st;
	bad_value("proxy", "proxy 127.0.0.1", "bad proxy");
	bad_value("proxy", "proxy 127.0.0.1:", "bad proxy");
	bad_value("proxy", "proxy 127.0.0.1:0", "bad proxy");
	bad_value("proxy", "proxy 127.0.0.1:65536", "bad proxy");
	bad_value("proxy", "proxy 127.0.0.1:01080", "bad proxy");
	bad_value("proxy", "proxy 127.1:1080", "bad proxy");
	bad_value("proxy", "proxy localhost:1080", "bad proxy");
	bad_value("proxy", "proxy ::1:1080", "bad proxy");
	bad_value("proxy", "proxy [::1]1080", "bad proxy");
	bad_value("proxy", "proxy [::1]:", "bad proxy");
	bad_value("proxy", "proxy [::1]", "bad proxy");
	bad_value("proxy", "proxy [127.0.0.1]:1080", "bad proxy");
	bad_value("proxy", "proxy []:1080", "bad proxy");
	bad_value("proxy", "proxy [fe80::1%eth0]:1080", "bad proxy");
	bad_value("proxy", "proxy :1080", "bad proxy");
	bad_value("proxy", "proxy [::1]:1080:1", "bad proxy");
	good_value("proxy", "proxy 10.0.0.1:1", &s);
	assert_int_equal(s.proxy.family, AF_INET);
	assert_int_equal(s.proxy.port, 1);
	good_value("proxy", "proxy [::ffff:10.0.0.1]:1080", &s);
	assert_int_equal(s.proxy.family, AF_INET6);
}

static void test_keys(void **st)
{
	char buf[STATE_FILE_MAX];
	struct state a;
	char *p;
	int n;

	(void)st;
	fill(&a);
	n = format(&a, buf, sizeof(buf));

	bad_value("tun", "tun0 pvpn0", "unknown key");
	bad_value("tun", "TUN pvpn0", "unknown key");
	bad_value("tun", "tun", "line without a value");
	bad_value("tun", "", "line without a value");
	bad_value("tun", " tun pvpn0", "unknown key");
	bad_value("tun", "#tun pvpn0", "unknown key");
	bad_value("tun", "tun pvpn0\ntun pvpn1", "duplicate key");
	bad_value("pid", "pid 1\npid 1", "duplicate key");
	bad_value("tun", "tun pvpn0\nend", "data after end");
	bad_value("tun", "tun pvpn0\r", "bad tun name");
	bad_value("tun", "end 1", "unknown key");

	/* Each required key, missing. */
	for (p = buf + strlen("proxyvpn-state 3\n"); strncmp(p, "obj ", 4) != 0;) {
		char c[STATE_FILE_MAX];
		char *nl = strchr(p, '\n');

		snprintf(c, sizeof(c), "%.*s%s", (int)(p - buf), buf, nl + 1);
		parse_bad(c, "missing key");
		p = nl + 1;
	}
	/* Keys in another order are fine. */
	{
		char c[STATE_FILE_MAX];
		struct state b;
		char *pid = strstr(buf, "pid ");
		char *nl = strchr(pid, '\n');
		char *end = strstr(buf, "end\n");

		snprintf(c, sizeof(c), "%.*s%.*s%.*send\n", (int)(pid - buf), buf,
			 (int)(end - nl - 1), nl + 1, (int)(nl + 1 - pid), pid);
		parse_ok(c, strlen(c), &b);
		assert_same(&a, &b);
	}
	/* end, twice. */
	memcpy(buf + n, "end\n", 5);
	parse_bad(buf, "data after end");
}

static void test_objects(void **st)
{
	struct state s;
	char buf[STATE_FILE_MAX];
	char big[STATE_FILE_MAX];
	const char *why;
	const char *bad_arg[] = { "a b" };
	const char *empty[] = { "" };
	const char *long_arg[] = {
		"0123456789012345678901234567890123456789012345678901234567890123"
	};
	unsigned int i;
	size_t off;
	int n;

	(void)st;
	bad_value("obj", "obj link", "bad obj");
	bad_value("obj", "obj link ", "bad obj");
	bad_value("obj", "obj link  a", "bad obj");
	bad_value("obj", "obj link a ", "bad obj");
	bad_value("obj", "obj lnk a", "bad obj");
	bad_value("obj", "obj  link a", "bad obj");
	bad_value("obj", "obj nft_table a", "bad obj");
	bad_value("obj", "obj link a b c d e", "bad obj");
	bad_value("obj", "obj link a;b", "bad obj");
	bad_value("obj", "obj link a\\b", "bad obj");
	bad_value("obj",
		  "obj link 0123456789012345678901234567890123456789012345678901234567890123",
		  "bad obj");
	good_value("obj",
		   "obj link 012345678901234567890123456789012345678901234567890123456789012", &s);
	good_value("obj", "obj ipt-rule a b c d", &s);
	assert_int_equal(s.obj[0].kind, STATE_OBJ_IPT_RULE);
	assert_int_equal(s.obj[0].nargs, 4);
	good_value("obj", "obj addr pvpn0 198.18.0.1/32\nobj ipt-chain filter PVPN-OUT", &s);

	/* state_obj_add() validates as the parser does. */
	fill(&s);
	n = (int)s.nobj;
	assert_int_equal(state_obj_add(&s, STATE_OBJ_LINK, 1, bad_arg), -EINVAL);
	assert_int_equal(state_obj_add(&s, STATE_OBJ_LINK, 1, empty), -EINVAL);
	assert_int_equal(state_obj_add(&s, STATE_OBJ_LINK, 1, long_arg), -EINVAL);
	assert_int_equal(state_obj_add(&s, STATE_OBJ_LINK, 0, bad_arg), -EINVAL);
	assert_int_equal(state_obj_add(&s, STATE_OBJ_LINK, 5, bad_arg), -EINVAL);
	assert_int_equal(state_obj_add(&s, (enum state_kind)0, 1, (const char *[]){ "x" }),
			 -EINVAL);
	assert_int_equal(state_obj_add(&s, (enum state_kind)99, 1, (const char *[]){ "x" }),
			 -EINVAL);
	assert_int_equal((int)s.nobj, n);
	assert_string_equal(state_kind_name(STATE_OBJ_NFT_TABLE), "nft-table");
	assert_null(state_kind_name((enum state_kind)99));

	/* 64 objects parse, 65 do not. */
	fill(&s);
	s.nobj = 0;
	n = format(&s, buf, sizeof(buf));
	off = (size_t)n - 4; /* before "end\n" */
	memcpy(big, buf, off);
	for (i = 0; i < STATE_OBJ_MAX; i++)
		off += (size_t)sprintf(big + off, "obj link l%u\n", i);
	strcpy(big + off, "end\n");
	parse_ok(big, strlen(big), &s);
	assert_int_equal(s.nobj, STATE_OBJ_MAX);
	assert_string_equal(s.obj[63].arg[0], "l63");
	sprintf(big + off, "obj link l64\nend\n");
	parse_bad(big, "too many objects");

	/* state_format() refuses what state_parse() would refuse. */
	fill(&s);
	s.obj[0].arg[0][0] = ' ';
	assert_int_equal(state_format(&s, buf, sizeof(buf), &why), -EINVAL);
	fill(&s);
	strcpy(s.obj[0].arg[1], "x"); /* past nargs */
	assert_int_equal(state_format(&s, buf, sizeof(buf), &why), -EINVAL);
	fill(&s);
	s.nobj = STATE_OBJ_MAX + 1;
	assert_int_equal(state_format(&s, buf, sizeof(buf), &why), -EINVAL);
	fill(&s);
	s.proxy.port = 0;
	assert_int_equal(state_format(&s, buf, sizeof(buf), &why), -EINVAL);
	fill(&s);
	s.fw = 0;
	assert_int_equal(state_format(&s, buf, sizeof(buf), &why), -EINVAL);
	fill(&s);
	s.table = 254;
	assert_int_equal(state_format(&s, buf, sizeof(buf), &why), -EINVAL);
	assert_string_equal(why, "table out of range");
}

/* The record helpers up uses: state_add, state_drop_last, state_has, state_add_routes. */
static void test_record_helpers(void **st)
{
	char buf[STATE_FILE_MAX];
	struct state s, back;
	const char *why;
	unsigned int i;
	int n;

	(void)st;
	fill(&s);
	s.nobj = 0;
	assert_false(state_has(&s, STATE_OBJ_LINK));
	assert_int_equal(state_drop_last(&s, STATE_OBJ_LINK), -ENOENT); /* empty */
	assert_int_equal(state_add(&s, STATE_OBJ_LINK, "pvpn0", "7", NULL), 0);
	assert_int_equal(state_add(&s, STATE_OBJ_ADDR, "7", "198.18.0.1/32", NULL), 0);
	assert_int_equal(s.nobj, 2);
	assert_int_equal(s.obj[1].nargs, 2);
	assert_string_equal(s.obj[1].arg[1], "198.18.0.1/32");
	assert_true(state_has(&s, STATE_OBJ_LINK));
	assert_true(state_has(&s, STATE_OBJ_ADDR));
	assert_false(state_has(&s, STATE_OBJ_NFT_TABLE));
	/* five fields, a bad one, an unknown kind: nothing added */
	assert_int_equal(state_add(&s, STATE_OBJ_RULE, "a", "b", "c", "d", "e", NULL), -EINVAL);
	assert_int_equal(state_add(&s, STATE_OBJ_RULE, "a b", NULL), -EINVAL);
	assert_int_equal(state_add(&s, STATE_OBJ_RULE, "", NULL), -EINVAL);
	assert_int_equal(state_add(&s, (enum state_kind)99, "x", NULL), -EINVAL);
	assert_int_equal(s.nobj, 2);

	/* only the last object, and only of the kind named, is dropped */
	assert_int_equal(state_add(&s, STATE_OBJ_NFT_TABLE, "inet", "proxyvpn", NULL), 0);
	assert_true(state_has(&s, STATE_OBJ_NFT_TABLE));
	assert_int_equal(state_drop_last(&s, STATE_OBJ_ADDR), -ENOENT);
	assert_int_equal(s.nobj, 3);
	assert_int_equal(state_drop_last(&s, STATE_OBJ_NFT_TABLE), 0);
	assert_int_equal(s.nobj, 2);
	assert_false(state_has(&s, STATE_OBJ_NFT_TABLE));
	assert_int_equal(s.obj[2].nargs, 0); /* nothing stale past nobj */
	n = state_format(&s, buf, sizeof(buf), &why);
	assert_true(n > 0);
	assert_null(strstr(buf, "nft-table"));

	/* the routes of one route_install, in its order: the record's own numbers */
	s.nobj = 0;
	s.table = 28790;
	s.fwmark = 0x7076;
	s.priority = 5200;
	s.catch_table = 28791;
	s.catch_priority = 32768;
	s.ipv6 = false;
	assert_int_equal(state_add_routes(&s), 0);
	assert_int_equal(s.nobj, 7);
	s.ipv6 = true;
	assert_int_equal(state_add_routes(&s), 0);
	assert_int_equal(s.nobj, 21);
	for (i = 0; i < s.nobj; i++) {
		static const char *const via[] = { "unreachable", "local", "dev", NULL,
						   "unreachable", "dev",   NULL };
		const struct state_obj *o = &s.obj[i];
		unsigned int k = i % 7;

		/* 0-6: the IPv4-only call; 7-13 and 14-20: the dual-stack one */
		assert_string_equal(o->arg[0], i < 14 ? "4" : "6");
		if (via[k]) {
			assert_int_equal(o->kind, STATE_OBJ_ROUTE);
			assert_int_equal(o->nargs, 4);
			assert_string_equal(o->arg[1], k < 3 ? "28790" : "28791");
			assert_string_equal(o->arg[2], "default");
			assert_string_equal(o->arg[3], via[k]);
		} else {
			assert_int_equal(o->kind, STATE_OBJ_RULE);
			assert_int_equal(o->nargs, 3);
			assert_string_equal(o->arg[1], k == 3 ? "5200" : "32768");
			assert_string_equal(o->arg[2],
					    k == 3 ? "fwmark=0x7076/0xffffffff" : "lookup=28791");
		}
	}
	/* what it records parses back */
	n = state_format(&s, buf, sizeof(buf), &why);
	assert_true(n > 0);
	parse_ok(buf, (size_t)n, &back);
	assert_int_equal(back.nobj, 21);
	/* no room left: -ENOSPC, what fitted stays */
	s.nobj = STATE_OBJ_MAX - 2;
	assert_int_equal(state_add_routes(&s), -ENOSPC);
	assert_int_equal(s.nobj, STATE_OBJ_MAX);
	assert_int_equal(state_add(&s, STATE_OBJ_LINK, "x", NULL), -ENOSPC);
}

static void test_sizes_and_bytes(void **st)
{
	struct state a;
	char buf[STATE_FILE_MAX];
	static char huge[STATE_FILE_MAX + 2];
	char line[STATE_LINE_MAX + 32];
	int n, i;

	(void)st;
	fill(&a);
	n = format(&a, buf, sizeof(buf));

	/* A NUL anywhere. */
	for (i = 0; i < n; i++) {
		char c[STATE_FILE_MAX];

		memcpy(c, buf, (size_t)n);
		c[i] = '\0';
		parse_bad_len(c, (size_t)n, "NUL byte");
	}
	/* No final newline. */
	parse_bad_len(buf, (size_t)n - 1, "no newline at end");
	/* CRLF line ends. */
	{
		char c[STATE_FILE_MAX];
		size_t o = 0;

		for (i = 0; i < n; i++) {
			if (buf[i] == '\n')
				c[o++] = '\r';
			c[o++] = buf[i];
		}
		parse_bad_len(c, o, NULL);
	}
	/* Over the cap, even if the rest is a valid file padded with objects. */
	memset(huge, 'x', sizeof(huge));
	memcpy(huge, buf, (size_t)n);
	huge[STATE_FILE_MAX] = '\n';
	parse_bad_len(huge, STATE_FILE_MAX + 1, "larger than 64 KiB");
	/* A line over STATE_LINE_MAX. */
	memset(line, 'a', sizeof(line));
	memcpy(line, "obj link ", 9);
	line[STATE_LINE_MAX + 1] = '\0';
	bad_value("obj", line, "line too long");
}

/* ---- files ---- */

static void write_raw(int dfd, const char *name, const char *data, size_t len, mode_t mode)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);

	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_write_read(void **st)
{
	struct state a, b;
	struct stat sb;
	const char *why = NULL;
	int dfd;

	(void)st;
	dfd = open_dir();
	assert_int_equal(fstat(dfd, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);

	assert_int_equal(state_read(dfd, &b, &why), -ENOENT);
	fill(&a);
	assert_int_equal(state_write(dfd, &a, &why), 0);
	assert_int_equal(fstatat(dfd, "state", &sb, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(fstatat(dfd, "state.tmp", &sb, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(state_read(dfd, &b, &why), 0);
	assert_same(&a, &b);

	/* Replaced, not appended. */
	a.nobj = 1;
	a.pid = 7;
	assert_int_equal(state_write(dfd, &a, &why), 0);
	assert_int_equal(state_read(dfd, &b, &why), 0);
	assert_same(&a, &b);

	/* An invalid record is never written; the old file stays. */
	a.pid = 0;
	assert_int_equal(state_write(dfd, &a, &why), -EINVAL);
	assert_int_equal(state_read(dfd, &b, &why), 0);
	assert_int_equal(b.pid, 7);

	/* Umask does not make the file unreadable for us. */
	{
		mode_t old = umask(0277);

		a.pid = 8;
		assert_int_equal(state_write(dfd, &a, &why), 0);
		umask(old);
		assert_int_equal(state_read(dfd, &b, &why), 0);
		assert_int_equal(b.pid, 8);
	}

	assert_int_equal(state_remove(dfd), 0);
	assert_int_equal(state_read(dfd, &b, &why), -ENOENT);
	assert_int_equal(state_remove(dfd), 0);
	close(dfd);
}

static void test_stale_tmp(void **st)
{
	struct state a, b;
	struct stat sb;
	const char *why = NULL;
	char victim[160], lnk[160];
	int dfd, vfd;

	(void)st;
	dfd = open_dir();
	fill(&a);
	/* A half-written temp file from a crash: the new write replaces it. */
	write_raw(dfd, "state.tmp", "proxyvpn-state 1\npid", 20, 0600);
	assert_int_equal(state_write(dfd, &a, &why), 0);
	assert_int_equal(fstatat(dfd, "state.tmp", &sb, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(state_read(dfd, &b, &why), 0);

	/* state.tmp a symlink to a file elsewhere: removed, never written through. */
	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	vfd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(vfd >= 0);
	assert_int_equal(write(vfd, "keep", 4), 4);
	close(vfd);
	assert_int_equal(symlinkat(victim, dfd, "state.tmp"), 0);
	assert_int_equal(state_write(dfd, &a, &why), 0);
	assert_int_equal(stat(victim, &sb), 0);
	assert_int_equal(sb.st_size, 4);
	assert_int_equal(state_read(dfd, &b, &why), 0);

	/* A stale temp file with a valid state: state_remove() takes both. */
	write_raw(dfd, "state.tmp", "x", 1, 0600);
	assert_int_equal(state_remove(dfd), 0);
	assert_int_equal(fstatat(dfd, "state.tmp", &sb, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(fstatat(dfd, "state", &sb, AT_SYMLINK_NOFOLLOW), -1);

	/* The state file a symlink (to a valid state file!): refused. */
	snprintf(lnk, sizeof(lnk), "%s/elsewhere", tmpdir);
	assert_int_equal(state_write(dfd, &a, &why), 0);
	assert_int_equal(renameat(dfd, "state", AT_FDCWD, lnk), 0);
	assert_int_equal(symlinkat(lnk, dfd, "state"), 0);
	assert_int_equal(state_read(dfd, &b, &why), -ELOOP);
	assert_non_null(strstr(why, "symlink"));
	/* Writing replaces the link itself, not its target. */
	a.pid = 99;
	assert_int_equal(state_write(dfd, &a, &why), 0);
	assert_int_equal(lstat(lnk, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(state_read(dfd, &b, &why), 0);
	assert_int_equal(b.pid, 99);
	close(dfd);
}

static void test_file_checks(void **st)
{
	struct state a, b;
	char buf[STATE_FILE_MAX];
	static char huge[STATE_FILE_MAX + 100];
	const char *why = NULL;
	int dfd, n;

	(void)st;
	dfd = open_dir();
	fill(&a);
	n = format(&a, buf, sizeof(buf));

	write_raw(dfd, "state", buf, (size_t)n, 0600);
	assert_int_equal(state_read(dfd, &b, &why), 0);
	write_raw(dfd, "state", buf, (size_t)n, 0644);
	assert_int_equal(state_read(dfd, &b, &why), -EPERM);
	write_raw(dfd, "state", buf, (size_t)n, 0400);
	assert_int_equal(state_read(dfd, &b, &why), -EPERM);
	write_raw(dfd, "state", buf, (size_t)n, 0600);

	/* Corrupt content. */
	write_raw(dfd, "state", buf, (size_t)n - 5, 0600);
	assert_int_equal(state_read(dfd, &b, &why), -EINVAL);
	assert_non_null(why);

	/* Over the cap. */
	memset(huge, '\n', sizeof(huge));
	write_raw(dfd, "state", huge, sizeof(huge), 0600);
	assert_int_equal(state_read(dfd, &b, &why), -EINVAL);
	assert_non_null(strstr(why, "64 KiB"));

	/* Not a regular file: a directory, a FIFO (must not block). */
	assert_int_equal(unlinkat(dfd, "state", 0), 0);
	assert_int_equal(mkdirat(dfd, "state", 0700), 0);
	assert_true(state_read(dfd, &b, &why) < 0);
	assert_int_equal(unlinkat(dfd, "state", AT_REMOVEDIR), 0);
	assert_int_equal(mkfifoat(dfd, "state", 0600), 0);
	assert_int_equal(state_read(dfd, &b, &why), -EPERM);
	assert_int_equal(unlinkat(dfd, "state", 0), 0);

	/* Owned by someone else. */
	if (geteuid() == 0) {
		write_raw(dfd, "state", buf, (size_t)n, 0600);
		assert_int_equal(fchownat(dfd, "state", OTHER_UID, OTHER_UID, 0), 0);
		assert_int_equal(state_read(dfd, &b, &why), -EPERM);
		assert_int_equal(unlinkat(dfd, "state", 0), 0);
	}
	close(dfd);
}

static void test_dir_checks(void **st)
{
	const char *why = NULL;
	char path[200], target[200];
	int fd;

	(void)st;
	/* Created 0700 even under a permissive or odd umask. */
	{
		mode_t old = umask(0222);
		struct stat sb;

		fd = open_dir();
		umask(old);
		assert_int_equal(fstat(fd, &sb), 0);
		assert_int_equal(sb.st_mode & 07777, 0700);
		close(fd);
	}
	/* Opening an existing good one again. */
	fd = open_dir();
	close(fd);

	/* Wrong mode. */
	assert_int_equal(chmod(dirpath, 0755), 0);
	assert_int_equal(state_dir_open(dirpath, &why), -EPERM);
	assert_non_null(strstr(why, "0700"));
	assert_int_equal(chmod(dirpath, 0700), 0);

	/* Wrong owner. */
	if (geteuid() == 0) {
		assert_int_equal(chown(dirpath, OTHER_UID, OTHER_UID), 0);
		assert_int_equal(state_dir_open(dirpath, &why), -EPERM);
		assert_int_equal(chown(dirpath, 0, 0), 0);
	}

	/* A symlink to a good directory of ours. */
	snprintf(target, sizeof(target), "%s/real", tmpdir);
	assert_int_equal(mkdir(target, 0700), 0);
	snprintf(path, sizeof(path), "%s/link", tmpdir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(state_dir_open(path, &why), -ELOOP);
	assert_non_null(strstr(why, "symlink"));
	/* A dangling one is not created through either. */
	snprintf(path, sizeof(path), "%s/dangling", tmpdir);
	snprintf(target, sizeof(target), "%s/nowhere", tmpdir);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(state_dir_open(path, &why), -ELOOP);
	assert_int_equal(access(target, F_OK), -1);

	/* A regular file. */
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(state_dir_open(path, &why), -ENOTDIR);

	/* A parent others may write to, without the sticky bit. */
	snprintf(path, sizeof(path), "%s/open", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, 0777), 0);
	snprintf(path, sizeof(path), "%s/open/proxyvpn", tmpdir);
	assert_int_equal(state_dir_open(path, &why), -EPERM);
	snprintf(path, sizeof(path), "%s/open", tmpdir);
	assert_int_equal(chmod(path, 01777), 0);
	snprintf(path, sizeof(path), "%s/open/proxyvpn", tmpdir);
	fd = state_dir_open(path, &why);
	assert_true(fd >= 0);
	close(fd);

	/* Bad paths. */
	assert_int_equal(state_dir_open("", &why), -EINVAL);
	assert_int_equal(state_dir_open("/tmp/x/", &why), -EINVAL);
	assert_int_equal(state_dir_open("/tmp/..", &why), -EINVAL);
	assert_int_equal(state_dir_open("/nonexistent-parent/proxyvpn", &why), -ENOENT);
}

/* state_dir() as an ordinary user, in a child that drops to OTHER_UID. */
static int dir_as_user(const char *xdg, char *out, size_t len)
{
	int pfd[2], status, ret;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[PATH_MAX + 16];
		const char *why = NULL;

		close(pfd[0]);
		if (setresgid(OTHER_UID, OTHER_UID, OTHER_UID) < 0 ||
		    setresuid(OTHER_UID, OTHER_UID, OTHER_UID) < 0)
			_exit(100);
		if (xdg)
			setenv("XDG_RUNTIME_DIR", xdg, 1);
		else
			unsetenv("XDG_RUNTIME_DIR");
		ret = state_dir(buf, sizeof(buf), &why);
		if (ret == 0)
			(void)!write(pfd[1], buf, strlen(buf));
		_exit(-ret);
	}
	close(pfd[1]);
	memset(out, 0, len);
	(void)!read(pfd[0], out, len - 1);
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 100);
	return -WEXITSTATUS(status);
}

static void test_state_dir(void **st)
{
	char out[PATH_MAX], xdg[200], want[220];
	const char *why = NULL;

	(void)st;
	if (geteuid() != 0) {
		/* As an ordinary user: only the environment can be varied. */
		skip();
	}
	assert_int_equal(state_dir(out, sizeof(out), &why), 0);
	assert_string_equal(out, "/run/proxyvpn");
	assert_int_equal(state_dir(out, 5, &why), -ENAMETOOLONG);

	snprintf(xdg, sizeof(xdg), "%s/xdg", tmpdir);
	assert_int_equal(mkdir(xdg, 0700), 0);
	assert_int_equal(chown(xdg, OTHER_UID, OTHER_UID), 0);
	/* The test dir itself must be searchable by the other uid. */
	assert_int_equal(chmod(tmpdir, 0711), 0);
	snprintf(want, sizeof(want), "%s/proxyvpn", xdg);
	assert_int_equal(dir_as_user(xdg, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(dir_as_user(NULL, out, sizeof(out)), -ENOENT);
	assert_int_equal(dir_as_user("", out, sizeof(out)), -ENOENT);
	assert_int_equal(dir_as_user("run/user/1000", out, sizeof(out)), -EINVAL);
	assert_int_equal(chmod(xdg, 0770), 0);
	assert_int_equal(dir_as_user(xdg, out, sizeof(out)), -EPERM);
	assert_int_equal(chmod(xdg, 0702), 0);
	assert_int_equal(dir_as_user(xdg, out, sizeof(out)), -EPERM);
	assert_int_equal(chmod(xdg, 0700), 0);
	assert_int_equal(chown(xdg, 0, 0), 0);
	assert_int_equal(dir_as_user(xdg, out, sizeof(out)), -EPERM);
	assert_int_equal(dir_as_user(tmpdir, out, sizeof(out)), -EPERM); /* root's */
	snprintf(want, sizeof(want), "%s/xdg-link", tmpdir);
	assert_int_equal(symlink(xdg, want), 0);
	assert_int_equal(lchown(want, OTHER_UID, OTHER_UID), 0);
	assert_int_equal(dir_as_user(want, out, sizeof(out)), -ENOTDIR);
	assert_int_equal(chmod(tmpdir, 0700), 0);
}

/* Takes the lock in a child; returns what state_lock() gave there. */
static int lock_in_child(int dfd, pid_t *holder)
{
	int pfd[2], status;
	pid_t pid, h = -1;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int ret = state_lock(dfd, &h);

		(void)!write(pfd[1], &h, sizeof(h));
		_exit(ret == -EBUSY ? 1 : ret >= 0 ? 0 : 2);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &h, sizeof(h)), (ssize_t)sizeof(h));
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	*holder = h;
	switch (WEXITSTATUS(status)) {
	case 0:
		return 0;
	case 1:
		return -EBUSY;
	default:
		return -EIO;
	}
}

static void test_lock(void **st)
{
	struct stat sb;
	pid_t holder;
	int dfd, lfd, status, pfd[2];
	pid_t pid;
	char c;

	(void)st;
	dfd = open_dir();
	lfd = state_lock(dfd, &holder);
	assert_true(lfd >= 0);
	assert_int_equal(holder, 0);
	assert_int_equal(fstat(lfd, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(lock_in_child(dfd, &holder), -EBUSY);
	assert_int_equal(holder, getpid());
	/* A second open file description in the same process is refused too. */
	assert_int_equal(state_lock(dfd, &holder), -EBUSY);
	close(lfd);
	assert_int_equal(lock_in_child(dfd, &holder), 0);
	assert_int_equal(holder, 0);

	/* The holder SIGKILLed: the lock is free at once. */
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		if (state_lock(dfd, NULL) < 0)
			_exit(1);
		(void)!write(pfd[1], "L", 1);
		pause();
		_exit(0);
	}
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	assert_int_equal(state_lock(dfd, &holder), -EBUSY);
	assert_int_equal(holder, pid);
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	lfd = state_lock(dfd, &holder);
	assert_true(lfd >= 0);
	close(lfd);

	/* The lock file a symlink: refused, not followed. */
	assert_int_equal(unlinkat(dfd, "lock", 0), 0);
	assert_int_equal(symlinkat("/etc/passwd", dfd, "lock"), 0);
	assert_int_equal(state_lock(dfd, &holder), -ELOOP);
	assert_int_equal(unlinkat(dfd, "lock", 0), 0);
	/* With a bad mode: refused. */
	write_raw(dfd, "lock", "1\n", 2, 0644);
	assert_int_equal(state_lock(dfd, &holder), -EPERM);
	assert_int_equal(unlinkat(dfd, "lock", 0), 0);
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_max),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_proxy),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_record_helpers),
		cmocka_unit_test(test_sizes_and_bytes),
		cmocka_unit_test_setup_teardown(test_write_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
