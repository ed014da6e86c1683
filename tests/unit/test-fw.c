// SPDX-License-Identifier: GPL-2.0-only
/*
 * fw.c: golden renderings (forwarded traffic and DHCP uids included), strict
 * cfg validation and buffer bounds; as root, in fresh network namespaces:
 * apply (every forward mode), re-apply, read-back, remove, the look-alike
 * table left alone, and real traffic over a veth pair to a peer namespace
 * under the killswitch (with a killswitch-off positive control).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fw.h"

#define MARK 0x7076

static struct fw_net n4(const char *s, int prefix)
{
	struct fw_net n = { .family = AF_INET, .prefix = (uint8_t)prefix };

	assert_int_equal(inet_pton(AF_INET, s, n.addr), 1);
	return n;
}

static struct fw_net n6(const char *s, int prefix)
{
	struct fw_net n = { .family = AF_INET6, .prefix = (uint8_t)prefix };

	assert_int_equal(inet_pton(AF_INET6, s, n.addr), 1);
	return n;
}

static const char golden_full[] =
	"create table inet proxyvpn { comment \"proxyvpn\"; }\n"
	"table inet proxyvpn {\n"
	"\tset proxy4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\tauto-merge\n"
	"\t\telements = { 192.0.2.10 }\n"
	"\t}\n"
	"\tset proxy6 {\n"
	"\t\ttype ipv6_addr\n"
	"\t\tflags interval\n"
	"\t\tauto-merge\n"
	"\t\telements = { 2001:db8::10 }\n"
	"\t}\n"
	"\tset exclude4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\tauto-merge\n"
	"\t\telements = { 10.0.0.0/8, 192.168.0.0/16 }\n"
	"\t}\n"
	"\tset exclude6 {\n"
	"\t\ttype ipv6_addr\n"
	"\t\tflags interval\n"
	"\t\tauto-merge\n"
	"\t\telements = { fd00::/8 }\n"
	"\t}\n"
	"\tset dns4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\tauto-merge\n"
	"\t\telements = { 9.9.9.9 }\n"
	"\t}\n"
	"\tset dns6 {\n"
	"\t\ttype ipv6_addr\n"
	"\t\tflags interval\n"
	"\t\tauto-merge\n"
	"\t\telements = { 2620:fe::fe }\n"
	"\t}\n"
	"\tchain mark_tcp {\n"
	"\t\ttype route hook output priority mangle; policy accept;\n"
	"\t\toif \"lo\" return\n"
	"\t\tmeta l4proto != tcp return\n"
	"\t\tct direction reply return\n"
	"\t\tip daddr @proxy4 tcp dport 1080 return\n"
	"\t\tip6 daddr @proxy6 tcp dport 1080 return\n"
	"\t\tip daddr @exclude4 return\n"
	"\t\tip6 daddr @exclude6 return\n"
	"\t\tmeta mark set 0x00007076\n"
	"\t}\n"
	"\tchain fail_fast {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tiif \"lo\" meta mark 0x00007076 meta l4proto tcp reject with tcp reset\n"
	"\t}\n"
	"\tchain mark_guard {\n"
	"\t\ttype filter hook postrouting priority filter; policy accept;\n"
	"\t\tmeta mark 0x00007076 oif != \"lo\" oifname != \"pvpn0\" meta l4proto tcp drop\n"
	"\t}\n"
	"\tchain tun_guard {\n"
	"\t\ttype filter hook output priority filter; policy accept;\n"
	"\t\toifname \"pvpn0\" meta mark != 0x00007076 meta l4proto tcp reject with tcp reset\n"
	"\t\toifname \"pvpn0\" meta mark != 0x00007076 drop\n"
	"\t}\n"
	"\tchain killswitch {\n"
	"\t\ttype filter hook output priority filter; policy drop;\n"
	"\t\toif \"lo\" accept\n"
	"\t\toifname \"pvpn0\" accept\n"
	"\t\tmeta l4proto tcp meta mark 0x00007076 accept\n"
	"\t\tip daddr @proxy4 tcp dport 1080 accept\n"
	"\t\tip6 daddr @proxy6 tcp dport 1080 accept\n"
	"\t\tip daddr @exclude4 accept\n"
	"\t\tip6 daddr @exclude6 accept\n"
	"\t\tip daddr @dns4 meta l4proto { tcp, udp } th dport 53 accept\n"
	"\t\tip6 daddr @dns6 meta l4proto { tcp, udp } th dport 53 accept\n"
	"\t\tmeta nfproto ipv4 udp sport 68 udp dport 67 meta skuid 0 accept\n"
	"\t\tip6 daddr ff02::1:2 udp sport 546 udp dport 547 accept\n"
	"\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } ip6 "
	"hoplimit 255 accept\n"
	"\t\ticmpv6 type { mld-listener-report, mld2-listener-report } ip6 hoplimit 1 accept\n"
	"\t\tmeta l4proto tcp reject with tcp reset\n"
	"\t\treject with icmpx admin-prohibited\n"
	"\t}\n"
	"}\n";

static const char golden_nokill[] =
	"create table inet proxyvpn { comment \"proxyvpn\"; }\n"
	"table inet proxyvpn {\n"
	"\tset proxy4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\tauto-merge\n"
	"\t\telements = { 192.0.2.10 }\n"
	"\t}\n"
	"\tset proxy6 {\n"
	"\t\ttype ipv6_addr\n"
	"\t\tflags interval\n"
	"\t\tauto-merge\n"
	"\t\telements = { 2001:db8::10 }\n"
	"\t}\n"
	"\tset exclude4 {\n"
	"\t\ttype ipv4_addr\n"
	"\t\tflags interval\n"
	"\t\tauto-merge\n"
	"\t\telements = { 10.0.0.0/8, 192.168.0.0/16 }\n"
	"\t}\n"
	"\tset exclude6 {\n"
	"\t\ttype ipv6_addr\n"
	"\t\tflags interval\n"
	"\t\tauto-merge\n"
	"\t\telements = { fd00::/8 }\n"
	"\t}\n"
	"\tchain mark_tcp {\n"
	"\t\ttype route hook output priority mangle; policy accept;\n"
	"\t\toif \"lo\" return\n"
	"\t\tmeta l4proto != tcp return\n"
	"\t\tct direction reply return\n"
	"\t\tip daddr @proxy4 tcp dport 1080 return\n"
	"\t\tip6 daddr @proxy6 tcp dport 1080 return\n"
	"\t\tip daddr @exclude4 return\n"
	"\t\tip6 daddr @exclude6 return\n"
	"\t\tmeta mark set 0x00007076\n"
	"\t}\n"
	"\tchain fail_fast {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tiif \"lo\" meta mark 0x00007076 meta l4proto tcp reject with tcp "
	"reset\n"
	"\t}\n"
	"\tchain mark_guard {\n"
	"\t\ttype filter hook postrouting priority filter; policy accept;\n"
	"\t\tmeta mark 0x00007076 oif != \"lo\" oifname != \"pvpn0\" meta "
	"l4proto tcp drop\n"
	"\t}\n"
	"\tchain tun_guard {\n"
	"\t\ttype filter hook output priority filter; policy accept;\n"
	"\t\toifname \"pvpn0\" meta mark != 0x00007076 meta l4proto tcp reject with tcp reset\n"
	"\t\toifname \"pvpn0\" meta mark != 0x00007076 drop\n"
	"\t}\n"
	"}\n";

static const char golden_empty[] =
	"create table inet proxyvpn { comment \"proxyvpn\"; }\n"
	"table inet proxyvpn {\n"
	"\tchain mark_tcp {\n"
	"\t\ttype route hook output priority mangle; policy accept;\n"
	"\t\toif \"lo\" return\n"
	"\t\tmeta l4proto != tcp return\n"
	"\t\tct direction reply return\n"
	"\t\tmeta mark set 0x00000001\n"
	"\t}\n"
	"\tchain fail_fast {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tiif \"lo\" meta mark 0x00000001 meta l4proto tcp reject with tcp reset\n"
	"\t}\n"
	"\tchain mark_guard {\n"
	"\t\ttype filter hook postrouting priority filter; policy accept;\n"
	"\t\tmeta mark 0x00000001 oif != \"lo\" oifname != \"t\" meta l4proto tcp drop\n"
	"\t}\n"
	"\tchain tun_guard {\n"
	"\t\ttype filter hook output priority filter; policy accept;\n"
	"\t\toifname \"t\" meta mark != 0x00000001 meta l4proto tcp reject with tcp reset\n"
	"\t\toifname \"t\" meta mark != 0x00000001 drop\n"
	"\t}\n"
	"\tchain killswitch {\n"
	"\t\ttype filter hook output priority filter; policy drop;\n"
	"\t\toif \"lo\" accept\n"
	"\t\toifname \"t\" accept\n"
	"\t\tmeta l4proto tcp meta mark 0x00000001 accept\n"
	"\t\tmeta nfproto ipv4 udp sport 68 udp dport 67 meta skuid 0 accept\n"
	"\t\tip6 daddr ff02::1:2 udp sport 546 udp dport 547 accept\n"
	"\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } ip6 "
	"hoplimit 255 accept\n"
	"\t\ticmpv6 type { mld-listener-report, mld2-listener-report } ip6 hoplimit 1 accept\n"
	"\t\tmeta l4proto tcp reject with tcp reset\n"
	"\t\treject with icmpx admin-prohibited\n"
	"\t}\n"
	"}\n";

/* Host bits are cleared (10.1.2.3/8 is 10.0.0.0/8), both families in one cfg. */
static void full_cfg(struct fw_cfg *c, struct fw_net px[2], struct fw_net ex[3],
		     struct fw_net dns[2])
{
	px[0] = n4("192.0.2.10", 32);
	px[1] = n6("2001:db8::10", 128);
	ex[0] = n4("10.1.2.3", 8);
	ex[1] = n4("192.168.0.0", 16);
	ex[2] = n6("fd00::1", 8);
	dns[0] = n4("9.9.9.9", 32);
	dns[1] = n6("2620:fe::fe", 128);
	*c = (struct fw_cfg){ .tun = "pvpn0",
			      .mark = MARK,
			      .killswitch = true,
			      .proxy = px,
			      .nproxy = 2,
			      .proxy_port = 1080,
			      .exclude = ex,
			      .nexclude = 3,
			      .dns = dns,
			      .ndns = 2 };
}

static void test_golden(void **state)
{
	struct fw_net px[2], ex[3], dns[2];
	struct fw_cfg c, e = { .tun = "t", .mark = 1, .killswitch = true };
	char buf[8192];

	(void)state;
	full_cfg(&c, px, ex, dns);
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), (int)strlen(golden_full));
	assert_string_equal(buf, golden_full);
	c.killswitch = false;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), (int)strlen(golden_nokill));
	assert_string_equal(buf, golden_nokill);
	/* Empty lists: no sets, no rules referring to them. */
	assert_int_equal(fw_render(&e, buf, sizeof(buf)), (int)strlen(golden_empty));
	assert_string_equal(buf, golden_empty);
	/* The owner record is the comment; the rest is the same. */
	e.owner = "proxyvpn uid=0 pid=1 start=2";
	assert_int_equal(fw_render(&e, buf, sizeof(buf)), (int)strlen(golden_empty) + 20);
	assert_memory_equal(
		buf, "create table inet proxyvpn { comment \"proxyvpn uid=0 pid=1 start=2\"; }\n",
		strlen("create table inet proxyvpn { comment \"proxyvpn uid=0 pid=1 start=2\"; }\n"));
	assert_string_equal(strchr(buf, '\n'), strchr(golden_empty, '\n'));
}

/* Only IPv6 entries: only the *6 sets and rules; DNS sets only with the killswitch. */
static void test_one_family(void **state)
{
	struct fw_net px = n6("2001:db8::1", 128), dns = n6("2001:db8::53", 128);
	struct fw_cfg c = { .tun = "tun0",
			    .mark = 0xffffffff,
			    .proxy = &px,
			    .nproxy = 1,
			    .proxy_port = 443,
			    .dns = &dns,
			    .ndns = 1 };
	char buf[8192];

	(void)state;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "proxy4"));
	assert_null(strstr(buf, "dns6"));
	assert_non_null(strstr(buf, "ip6 daddr @proxy6 tcp dport 443 return\n"));
	assert_non_null(strstr(buf, "meta mark set 0xffffffff\n"));
	c.killswitch = true;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "ip6 daddr @proxy6 tcp dport 443 accept\n"));
	assert_non_null(strstr(buf, "\t\telements = { 2001:db8::53 }\n"));
	assert_null(strstr(buf, "ip daddr"));
}

static void test_bad_cfg(void **state)
{
	static const char *const bad_tun[] = { "",     "a b",  "x;flush ruleset",
					       "a\"b", "a\\b", "0123456789abcdef",
					       ".",    "..",   "tun\n0",
					       "t/0",  "t:0",  "t{0}" };
	struct fw_net px[2], ex[3], dns[2], bad;
	struct fw_cfg c;
	char buf[8192];
	size_t i;

	(void)state;
	full_cfg(&c, px, ex, dns);
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	for (i = 0; i < sizeof(bad_tun) / sizeof(bad_tun[0]); i++) {
		c.tun = bad_tun[i];
		assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	}
	c.tun = NULL;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	c.tun = "0123456789abcde"; /* 15: the longest name */
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	c.tun = "A-b_c.9";
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_int_equal(fw_render(NULL, buf, sizeof(buf)), -EINVAL);

	full_cfg(&c, px, ex, dns);
	c.mark = 0; /* "meta mark 0 accept" would let every unmarked TCP out */
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	full_cfg(&c, px, ex, dns);
	c.proxy_port = 0;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	c.nproxy = 0; /* no proxy addresses (a loopback proxy): no port needed */
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);

	full_cfg(&c, px, ex, dns);
	ex[0].prefix = 33;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	ex[0].prefix = 0; /* 0.0.0.0/0 is a valid (if odd) exclude */
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "0.0.0.0/0"));
	dns[1].prefix = 129;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	dns[1].prefix = 128;
	px[0].family = AF_UNIX;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	px[0].family = AF_INET;

	c.dns = NULL; /* a count without an array */
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	c.dns = &bad;
	c.ndns = FW_MAX_NETS + 1;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	c.dns = dns;
	c.ndns = 2;
	assert_int_equal(fw_render(&c, NULL, 10), -EINVAL);
}

/* Every length short of the script: -ENOSPC, NUL-terminated, no overflow (ASan). */
static void test_small_buffers(void **state)
{
	struct fw_net px[2], ex[3], dns[2];
	struct fw_cfg c;
	size_t need, len;

	(void)state;
	full_cfg(&c, px, ex, dns);
	need = strlen(golden_full) + 1;
	assert_int_equal(fw_render(&c, NULL, 0), -ENOSPC);
	for (len = 1; len <= need; len++) {
		char *buf = malloc(len);
		int ret;

		assert_non_null(buf);
		ret = fw_render(&c, buf, len);
		if (len < need) {
			assert_int_equal(ret, -ENOSPC);
			assert_true(strlen(buf) < len);
		} else {
			assert_int_equal(ret, (int)need - 1);
			assert_string_equal(buf, golden_full);
		}
		free(buf);
	}
}

/* ---- root: fresh network namespaces ---- */

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

/* Back to the original namespace; the test's one dies with its last reference. */
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

static void need_root(void)
{
	if (geteuid() != 0)
		skip();
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

/* Whole output of a shell command (in the current namespace). */
static void capture(char *out, size_t len, const char *cmd)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	assert_non_null(f);
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	assert_int_equal(pclose(f), 0);
}

static void applied(const struct fw_cfg *c, char *err, size_t errlen)
{
	int ret = fw_apply(c, err, errlen);

	if (ret)
		fail_msg("fw_apply: %d: %s", ret, err);
}

static int count_tables(void)
{
	char out[4096], *p = out;
	int n = 0;

	capture(out, sizeof(out), "nft list tables");
	while ((p = strstr(p, "table inet proxyvpn"))) {
		n++;
		p++;
	}
	return n;
}

/* --dns virtual|tcp: DNS marked, let through the killswitch when marked, DNATed. */
static void test_dns_steer(void **state)
{
	struct fw_net px[2], ex[3], dns[2];
	struct fw_cfg c;
	char buf[8192];
	const char *mark, *lo;

	(void)state;
	full_cfg(&c, px, ex, dns);
	c.dns_steer = true;
	inet_pton(AF_INET, "198.18.0.2", c.dns4);
	inet_pton(AF_INET6, "fd70:7678::2", c.dns6);
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	/* Before the non-TCP return and the proxy/exclude returns: every resolver. */
	lo = strstr(buf, "\t\toif \"lo\" return\n");
	mark = strstr(buf, "\t\tct direction original meta l4proto { tcp, udp } th dport 53 "
			   "meta mark set 0x00007076 accept\n");
	assert_non_null(lo);
	assert_non_null(mark);
	assert_true(mark > lo && mark < strstr(buf, "meta l4proto != tcp return"));
	assert_non_null(strstr(buf, "\t\tmeta l4proto { tcp, udp } th dport 53 meta mark "
				    "0x00007076 accept\n"));
	assert_non_null(
		strstr(buf, "\tchain dns_nat {\n\t\ttype nat hook output priority -100; "
			    "policy accept;\n\t\toif \"lo\" return\n"
			    "\t\tmeta nfproto ipv4 meta l4proto { tcp, udp } th dport 53 dnat ip "
			    "to 198.18.0.2\n\t\tmeta nfproto ipv6 meta l4proto { tcp, udp } th "
			    "dport 53 dnat ip6 to fd70:7678::2\n\t}\n}\n"));
	/* After a crash, steered UDP DNS (routed to lo) fails at once. */
	assert_non_null(strstr(buf, "\t\tmeta mark 0x00007076 oif \"lo\" meta l4proto udp drop\n"));
	c.killswitch = false;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "chain dns_nat"));
	assert_non_null(strstr(buf, "th dport 53 meta mark set"));
	assert_non_null(strstr(buf, "oif \"lo\" meta l4proto udp drop"));
	c.dns_steer = false;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "dns_nat"));
	assert_null(strstr(buf, "dport 53"));
	assert_null(strstr(buf, "oif \"lo\" meta l4proto udp drop"));
}

/*
 * Excluded owners (a local proxy, --exclude-uid, --exclude-cgroup) and peers:
 * returned before DNS steering and marking, skipped by the DNAT, accepted by
 * the killswitch; bad paths, depths, counts and peers refused.
 */
static void owners_cfg(struct fw_cfg *c, uint32_t uid[2], struct fw_cgroup *g, struct fw_peer p[2])
{
	uid[0] = 105;
	uid[1] = 4000000000u;
	memset(g, 0, sizeof(*g));
	strcpy(g->path, "system.slice/tor@default.service");
	strcpy(g->under, "unified");
	g->level = 2;
	memset(p, 0, 2 * sizeof(*p));
	p[0].family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", p[0].addr);
	p[0].port = 22;
	p[1].family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", p[1].addr);
	p[1].port = 2222;
	c->exclude_uid = uid;
	c->nexclude_uid = 2;
	c->exclude_cgroup = g;
	c->nexclude_cgroup = 1;
	c->exclude_peer = p;
	c->nexclude_peer = 2;
}

static void test_owners(void **state)
{
	static const char *const bad_path[] = { "",	 "/a",	   "a/",   "a//b", ".",
						"a/./b", "../a",   "a/..", "a b",  "a\"b",
						"a;b",	 "a\\x2d", "a\nb", "é" };
	struct fw_net px[2], ex[3], dns[2];
	struct fw_cgroup g;
	struct fw_peer p[2];
	uint32_t uid[2];
	struct fw_cfg c;
	char buf[16384];
	const char *steer, *own, *mark, *ks, *nat;
	size_t i;

	(void)state;
	full_cfg(&c, px, ex, dns);
	owners_cfg(&c, uid, &g, p);
	c.dns_steer = true;
	inet_pton(AF_INET, "198.18.0.2", c.dns4);
	inet_pton(AF_INET6, "fd70:7678::2", c.dns6);
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	own = strstr(buf,
		     "\t\toif \"lo\" return\n"
		     "\t\tmeta skuid 105 return\n"
		     "\t\tmeta skuid 4000000000 return\n"
		     "\t\tsocket cgroupv2 level 2 \"unified/system.slice/tor@default.service\" "
		     "return\n");
	steer = strstr(buf, "th dport 53 meta mark set");
	mark = strstr(buf, "\t\tip daddr @proxy4 tcp dport 1080 return\n"
			   "\t\tip6 daddr @proxy6 tcp dport 1080 return\n"
			   "\t\tip daddr 192.0.2.1 tcp dport 22 return\n"
			   "\t\tip6 daddr 2001:db8::1 tcp dport 2222 return\n"
			   "\t\tip daddr @exclude4 return\n");
	ks = strstr(buf, "\t\tip6 daddr @proxy6 tcp dport 1080 accept\n"
			 "\t\tmeta skuid 105 accept\n"
			 "\t\tmeta skuid 4000000000 accept\n"
			 "\t\tsocket cgroupv2 level 2 \"unified/system.slice/tor@default.service\" "
			 "accept\n"
			 "\t\tip daddr 192.0.2.1 tcp dport 22 accept\n"
			 "\t\tip6 daddr 2001:db8::1 tcp dport 2222 accept\n"
			 "\t\tip daddr @exclude4 accept\n");
	nat = strstr(buf, "\tchain dns_nat {\n\t\ttype nat hook output priority -100; "
			  "policy accept;\n\t\toif \"lo\" return\n\t\tmeta skuid 105 return\n"
			  "\t\tmeta skuid 4000000000 return\n\t\tsocket cgroupv2 level 2 ");
	assert_non_null(own);
	assert_non_null(steer);
	assert_true(own < steer);
	assert_non_null(mark);
	assert_non_null(ks);
	assert_non_null(nat);

	/* Without the killswitch: no accepts; a cgroup at the v2 root's level. */
	c.killswitch = false;
	strcpy(g.under, "");
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "socket cgroupv2 level 2 \"system.slice/tor@default.service\" "
				    "return\n"));
	assert_null(strstr(buf, "skuid 105 accept"));

	/* Refused: bad paths (as path or as under), a level that is not the depth. */
	for (i = 0; i < sizeof(bad_path) / sizeof(bad_path[0]); i++) {
		int want = bad_path[i][0] ? -EINVAL : 0;

		assert_int_equal(fw_cgroup_depth(bad_path[i]), want);
		owners_cfg(&c, uid, &g, p);
		strcpy(g.path, bad_path[i]);
		assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
		owners_cfg(&c, uid, &g, p);
		strcpy(g.under, bad_path[i]);
		if (want)
			assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
		else
			assert_true(fw_render(&c, buf, sizeof(buf)) >
				    0); /* "": the v2 root is the mount */
	}
	assert_int_equal(fw_cgroup_depth("a"), 1);
	assert_int_equal(fw_cgroup_depth("user.slice/user-1000.slice/session-2.scope"), 3);
	assert_int_equal(fw_cgroup_depth(NULL), -EINVAL);
	owners_cfg(&c, uid, &g, p);
	g.level = 3;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	/* under + path must fit in one nft string */
	owners_cfg(&c, uid, &g, p);
	memset(g.under, 'u', 128);
	g.under[128] = '\0';
	memset(g.path, 'p', 127);
	g.path[127] = '\0';
	g.level = 1;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	g.path[126] = '\0';
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	/* counts, arrays, peers */
	owners_cfg(&c, uid, &g, p);
	c.nexclude_uid = FW_MAX_OWNERS + 1;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	owners_cfg(&c, uid, &g, p);
	c.exclude_cgroup = NULL;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	owners_cfg(&c, uid, &g, p);
	p[1].port = 0;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
	owners_cfg(&c, uid, &g, p);
	p[0].family = AF_UNIX;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
}

/* --udp proxy: UDP marked (with its exceptions), accepted marked, guarded (also to lo: fails fast). */
static const char golden_udp_mark[] =
	"\tchain mark_tcp {\n"
	"\t\ttype route hook output priority mangle; policy accept;\n"
	"\t\toif \"lo\" return\n"
	"\t\tmeta l4proto != { tcp, udp } return\n"
	"\t\tct direction reply return\n"
	"\t\tip daddr @proxy4 tcp dport 1080 return\n"
	"\t\tip6 daddr @proxy6 tcp dport 1080 return\n"
	"\t\tip daddr @proxy4 meta l4proto udp return\n"
	"\t\tip6 daddr @proxy6 meta l4proto udp return\n"
	"\t\tip daddr @exclude4 return\n"
	"\t\tip6 daddr @exclude6 return\n"
	"\t\tudp sport 68 udp dport 67 meta skuid 0 return\n"
	"\t\tip6 daddr ff02::1:2 udp sport 546 udp dport 547 return\n"
	"\t\tip daddr @dns4 udp dport 53 return\n"
	"\t\tip6 daddr @dns6 udp dport 53 return\n"
	"\t\tmeta mark set 0x00007076\n"
	"\t}\n"
	"\tchain fail_fast {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tiif \"lo\" meta mark 0x00007076 meta l4proto tcp reject with tcp reset\n"
	"\t}\n"
	"\tchain mark_guard {\n"
	"\t\ttype filter hook postrouting priority filter; policy accept;\n"
	"\t\tmeta mark 0x00007076 oif != \"lo\" oifname != \"pvpn0\" meta l4proto { tcp, udp } "
	"drop\n"
	"\t\tmeta mark 0x00007076 oif \"lo\" meta l4proto udp drop\n"
	"\t}\n"
	"\tchain tun_guard {\n"
	"\t\ttype filter hook output priority filter; policy accept;\n"
	"\t\toifname \"pvpn0\" meta mark != 0x00007076 meta l4proto tcp reject with tcp reset\n"
	"\t\toifname \"pvpn0\" meta mark != 0x00007076 drop\n"
	"\t}\n"
	"\tchain killswitch {\n"
	"\t\ttype filter hook output priority filter; policy drop;\n"
	"\t\toif \"lo\" accept\n"
	"\t\toifname \"pvpn0\" accept\n"
	"\t\tmeta l4proto tcp meta mark 0x00007076 accept\n"
	"\t\tmeta l4proto udp meta mark 0x00007076 accept\n"
	"\t\tip daddr @proxy4 tcp dport 1080 accept\n"
	"\t\tip6 daddr @proxy6 tcp dport 1080 accept\n"
	"\t\tip daddr @proxy4 meta l4proto udp accept\n"
	"\t\tip6 daddr @proxy6 meta l4proto udp accept\n"
	"\t\tip daddr @exclude4 accept\n";

static void test_udp(void **state)
{
	struct fw_net px[2], ex[3], dns[2];
	struct fw_cfg c;
	char buf[8192];
	const char *ks;

	(void)state;
	full_cfg(&c, px, ex, dns);
	c.udp_mark = true;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, golden_udp_mark));
	assert_null(strstr(buf, "meta l4proto udp accept\n\t\tip daddr @dns4"));
	/* without the killswitch: the same marks (dns sets kept for the exception) */
	c.killswitch = false;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "chain killswitch"));
	assert_non_null(strstr(buf, "\t\tip daddr @dns4 udp dport 53 return\n"));
	assert_non_null(strstr(buf, "\telements = { 9.9.9.9 }\n"));
	/* --dns virtual|tcp: DNS is steered, no DNS exception */
	c.dns_steer = true;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "udp dport 53 return"));
	assert_null(strstr(buf, "set dns4"));
	/* --udp bypass: the killswitch accepts UDP, before the rejects; nothing else */
	full_cfg(&c, px, ex, dns);
	c.udp_bypass = true;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	ks = strstr(buf, "\t\tip6 daddr @exclude6 accept\n\t\tmeta l4proto udp accept\n"
			 "\t\tip daddr @dns4 ");
	assert_non_null(ks);
	assert_non_null(strstr(buf, "meta l4proto != tcp return\n"));
	assert_null(strstr(buf, "oif \"lo\" meta l4proto udp drop"));
	assert_non_null(strstr(buf, "oifname != \"pvpn0\" meta l4proto tcp drop\n"));
	/* both at once is not a cfg */
	c.udp_mark = true;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
}

/* fw_net_parse: addresses and CIDRs of both families, every malformed form refused. */
static void test_net_parse(void **state)
{
	struct fw_net n;
	char out[FW_NET_STRLEN];

	(void)state;
	assert_int_equal(fw_net_parse("192.0.2.7", false, &n), 0);
	assert_int_equal(n.family, AF_INET);
	assert_int_equal(n.prefix, 32);
	assert_int_equal(fw_net_parse("2001:db8::1", false, &n), 0);
	assert_int_equal(n.family, AF_INET6);
	assert_int_equal(n.prefix, 128);
	assert_int_equal(fw_net_parse("10.1.2.3/8", true, &n), 0);
	assert_int_equal(n.prefix, 8);
	assert_int_equal(fw_net_str(&n, out, sizeof(out)), 0);
	assert_string_equal(out, "10.0.0.0/8");
	assert_int_equal(fw_net_parse("2001:db8::/032", true, &n), 0); /* leading zero: decimal */
	assert_int_equal(n.prefix, 32);
	assert_int_equal(fw_net_parse("0.0.0.0/0", true, &n), 0);
	assert_int_equal(n.prefix, 0);
	assert_int_equal(fw_net_parse("::ffff:192.0.2.1", false, &n), 0);
	assert_int_equal(n.family, AF_INET6);

	assert_int_equal(fw_net_parse("10.0.0.0/8", false, &n), -EINVAL); /* no prefix wanted */
	assert_int_equal(fw_net_parse("10.0.0.0/33", true, &n), -EINVAL);
	assert_int_equal(fw_net_parse("::/129", true, &n), -EINVAL);
	assert_int_equal(fw_net_parse("10.0.0.0/", true, &n), -EINVAL);
	assert_int_equal(fw_net_parse("10.0.0.0/-1", true, &n), -EINVAL);
	assert_int_equal(fw_net_parse("10.0.0.0/+8", true, &n), -EINVAL);
	assert_int_equal(fw_net_parse("10.0.0.0/ 8", true, &n), -EINVAL);
	assert_int_equal(fw_net_parse("10.0.0.0/8 ", true, &n), -EINVAL);
	assert_int_equal(fw_net_parse("10.0.0.0/0x8", true, &n), -EINVAL);
	assert_int_equal(fw_net_parse("10.0.0.0/99999999999999999999", true, &n), -EINVAL);
	assert_int_equal(n.family, 0); /* zeroed on failure */
	assert_int_equal(fw_net_parse("", false, &n), -EINVAL);
	assert_int_equal(fw_net_parse("10.0.0", false, &n), -EINVAL);
	assert_int_equal(fw_net_parse(" 10.0.0.1", false, &n), -EINVAL);
	assert_int_equal(fw_net_parse("fe80::1%eth0", false, &n), -EINVAL);
	assert_int_equal(fw_net_parse("host.example", false, &n), -EINVAL);
	assert_int_equal(fw_net_parse("1111:2222:3333:4444:5555:6666:255.255.255.255x", false, &n),
			 -EINVAL);

	assert_true(fw_tun_ok("pvpn0"));
	assert_true(fw_tun_ok("a.b_c-D9"));
	assert_true(fw_tun_ok("123456789012345"));
	assert_false(fw_tun_ok("1234567890123456"));
	assert_false(fw_tun_ok(""));
	assert_false(fw_tun_ok("."));
	assert_false(fw_tun_ok(".."));
	assert_false(fw_tun_ok("tun 0"));
	assert_false(fw_tun_ok("tun\"0"));
	assert_false(fw_tun_ok(NULL));
}

/* --forward proxy, killswitch on: what the prerouting, forward and input chains hold. */
static const char golden_fwd_mark[] =
	"\tchain forward_mark {\n"
	"\t\ttype filter hook prerouting priority mangle; policy accept;\n"
	"\t\tiifname \"pvpn0\" return\n"
	"\t\tiif \"lo\" return\n"
	"\t\tfib daddr type { local, broadcast, multicast } return\n"
	"\t\tfib daddr . iif oif exists return\n"
	"\t\tmeta l4proto != tcp return\n"
	"\t\tct direction reply return\n"
	"\t\tip daddr @proxy4 tcp dport 1080 return\n"
	"\t\tip6 daddr @proxy6 tcp dport 1080 return\n"
	"\t\tip daddr @exclude4 return\n"
	"\t\tip6 daddr @exclude6 return\n"
	"\t\tmeta mark set 0x00007076\n"
	"\t}\n"
	"\tchain forward_filter {\n"
	"\t\ttype filter hook forward priority filter; policy drop;\n"
	"\t\tmeta mark 0x00007076 oifname \"pvpn0\" accept\n"
	"\t\tfib daddr . iif oif exists accept\n"
	"\t\tct direction reply accept\n"
	"\t\tip daddr @proxy4 tcp dport 1080 accept\n"
	"\t\tip6 daddr @proxy6 tcp dport 1080 accept\n"
	"\t\tip daddr @exclude4 accept\n"
	"\t\tip6 daddr @exclude6 accept\n"
	"\t\tip daddr @dns4 meta l4proto { tcp, udp } th dport 53 accept\n"
	"\t\tip6 daddr @dns6 meta l4proto { tcp, udp } th dport 53 accept\n"
	"\t}\n"
	"}\n";

static const char golden_fwd_ff[] =
	"\tchain fail_fast {\n"
	"\t\ttype filter hook input priority filter; policy accept;\n"
	"\t\tiif \"lo\" meta mark 0x00007076 meta l4proto tcp reject with tcp reset\n"
	"\t\tiif != \"lo\" meta mark 0x00007076 meta l4proto tcp reject with tcp reset\n"
	"\t\tiif != \"lo\" meta mark 0x00007076 drop\n"
	"\t}\n";

static const char golden_fwd_block[] =
	"\tchain forward_filter {\n"
	"\t\ttype filter hook forward priority filter; policy drop;\n"
	"\t\tfib daddr . iif oif exists accept\n"
	"\t\tct direction reply accept\n"
	"\t\tip daddr @proxy4 tcp dport 1080 accept\n"
	"\t\tip6 daddr @proxy6 tcp dport 1080 accept\n"
	"\t\tip daddr @exclude4 accept\n"
	"\t\tip6 daddr @exclude6 accept\n"
	"\t}\n"
	"}\n";

static void test_forward(void **state)
{
	struct fw_net px[2], ex[3], dns[2];
	char buf[16384], nokill[16384];
	const char *p;
	struct fw_cfg c;

	(void)state;
	full_cfg(&c, px, ex, dns);
	/* direct (0) is the old ruleset, byte for byte */
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), (int)strlen(golden_full));
	c.forward = FW_FWD_PROXY;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	p = strstr(buf, golden_fwd_mark);
	assert_non_null(p);
	assert_int_equal(strlen(p), strlen(golden_fwd_mark)); /* the last chains */
	assert_non_null(strstr(buf, golden_fwd_ff));
	/* the host's own chains are what they were */
	assert_non_null(strstr(buf, "\t\toif \"lo\" return\n\t\tmeta l4proto != tcp return\n"));
	/* without the killswitch: marked the same, no forward filter */
	c.killswitch = false;
	assert_true(fw_render(&c, nokill, sizeof(nokill)) > 0);
	assert_non_null(strstr(nokill, "\tchain forward_mark {\n"));
	assert_null(strstr(nokill, "forward_filter"));
	assert_non_null(strstr(nokill, golden_fwd_ff));
	/* --udp proxy: forwarded UDP marked, no DHCP exception (the host's only) */
	c.udp_mark = true;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	p = strstr(buf, "\tchain forward_mark {\n");
	assert_non_null(p);
	assert_non_null(strstr(p, "\t\tfib daddr . iif oif exists return\n"
				  "\t\tmeta l4proto != { tcp, udp } return\n"));
	assert_null(strstr(p, "sport 68"));
	assert_non_null(strstr(p, "\t\tip6 daddr @dns6 udp dport 53 return\n"
				  "\t\tmeta mark set 0x00007076\n\t}\n"));
	/* with the killswitch and --udp proxy: UDP to the proxy may be forwarded */
	c.killswitch = true;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	p = strstr(buf, "\tchain forward_filter {\n");
	assert_non_null(p);
	assert_non_null(strstr(p, "\t\tip6 daddr @proxy6 meta l4proto udp accept\n"));
	/* --udp bypass: forwarded UDP allowed out, unmarked */
	c.udp_mark = false;
	c.udp_bypass = true;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	p = strstr(buf, "\tchain forward_filter {\n");
	assert_non_null(strstr(p, "\t\tip6 daddr @exclude6 accept\n\t\tmeta l4proto udp accept\n"));
	/* --dns virtual|tcp: forwarded DNS marked and DNATed, after the mangle marks */
	c.udp_bypass = false;
	c.dns_steer = true;
	inet_pton(AF_INET, "198.18.0.2", c.dns4);
	inet_pton(AF_INET6, "fd70:7678::2", c.dns6);
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	p = strstr(buf, "\tchain forward_mark {\n");
	assert_non_null(strstr(p, "\t\tfib daddr . iif oif exists return\n"
				  "\t\tct direction original meta l4proto { tcp, udp } th dport 53 "
				  "meta mark set 0x00007076 accept\n"));
	assert_non_null(strstr(
		buf,
		"\tchain forward_dns_nat {\n\t\ttype nat hook prerouting priority -100; policy "
		"accept;\n\t\tmeta mark 0x00007076 meta nfproto ipv4 meta l4proto { tcp, udp } "
		"th dport 53 dnat ip to 198.18.0.2\n\t\tmeta mark 0x00007076 meta nfproto ipv6 "
		"meta l4proto { tcp, udp } th dport 53 dnat ip6 to fd70:7678::2\n\t}\n}\n"));
	/* block: the forward filter alone, no marks, no fail-fast for forwarded */
	full_cfg(&c, px, ex, dns);
	c.forward = FW_FWD_BLOCK;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	p = strstr(buf, golden_fwd_block);
	assert_non_null(p);
	assert_int_equal(strlen(p), strlen(golden_fwd_block));
	assert_null(strstr(buf, "forward_mark"));
	assert_null(strstr(buf, "iif != \"lo\""));
	c.killswitch = false; /* block needs no killswitch */
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, golden_fwd_block));
	/* not a mode */
	c.forward = (enum fw_forward)3;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
}

/* DHCP from port 68 passes (and, with --udp proxy, stays unmarked) for root and dhcp_uids only. */
static void test_dhcp_uids(void **state)
{
	struct fw_net px[2], ex[3], dns[2];
	struct fw_cfg c;
	char buf[8192];

	(void)state;
	full_cfg(&c, px, ex, dns);
	c.udp_mark = true;
	c.dhcp_uids[0] = 998;
	c.dhcp_uids[1] = 4242;
	c.ndhcp_uids = 2;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_non_null(
		strstr(buf, "\t\tmeta nfproto ipv4 udp sport 68 udp dport 67 meta skuid { 0, 998, "
			    "4242 } accept\n"));
	assert_non_null(strstr(buf, "\t\tudp sport 68 udp dport 67 meta skuid { 0, 998, 4242 } "
				    "return\n"));
	assert_null(strstr(buf, "udp sport 68 udp dport 67 accept"));
	c.ndhcp_uids = FW_MAX_DHCP_UIDS;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	c.ndhcp_uids = FW_MAX_DHCP_UIDS + 1;
	assert_int_equal(fw_render(&c, buf, sizeof(buf)), -EINVAL);
}

/* Per-user caps: one dynamic set per protocol, counted last in the mark chain. */
static void test_user_caps(void **state)
{
	static const char tcp_set[] =
		"\tset user_tcp {\n\t\ttype uid\n\t\tsize 65535\n\t\tflags dynamic\n\t}\n";
	static const char tcp_rule[] =
		"\t\tmeta mark set 0x00007076\n"
		"\t\tmeta l4proto tcp ct state new meta skuid != 0 add @user_tcp "
		"{ meta skuid ct count over 512 } reject with tcp reset\n";
	static const char udp_rule[] =
		"\t\tmeta l4proto udp ct state new meta skuid != 0 add @user_udp "
		"{ meta skuid ct count over 128 } reject with icmpx admin-prohibited\n\t}\n";
	struct fw_net px[2], ex[3], dns[2];
	struct fw_cfg c;
	char buf[8192];

	(void)state;
	full_cfg(&c, px, ex, dns);
	c.user_tcp = 512;
	c.user_udp = 128;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, tcp_set));
	assert_non_null(strstr(buf, "\t\tip6 daddr @exclude6 return\n"));
	assert_non_null(strstr(buf, tcp_rule));
	assert_true(strstr(buf, tcp_rule) > strstr(buf, "\t\tip6 daddr @exclude6 return\n"));
	/* UDP is not marked without --udp proxy: no UDP cap */
	assert_null(strstr(buf, "user_udp"));
	c.udp_mark = true;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\tset user_udp {\n\t\ttype uid\n"));
	assert_non_null(strstr(buf, udp_rule));
	/* DNS steered: accepted before the caps, so never counted */
	c.dns_steer = true;
	inet_pton(AF_INET, "198.18.0.2", c.dns4);
	inet_pton(AF_INET6, "fd70:7678::2", c.dns6);
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_true(strstr(buf, "th dport 53 meta mark set 0x00007076 accept") <
		    strstr(buf, "add @user_tcp"));
	/* forwarded packets have no socket uid: no cap in forward_mark */
	c.forward = FW_FWD_PROXY;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\tchain forward_mark {\n"));
	assert_null(strstr(strstr(buf, "\tchain forward_mark {\n"), "ct count"));
	c.forward = FW_FWD_DIRECT;
	/* 0: no cap */
	c.user_tcp = c.user_udp = 0;
	assert_true(fw_render(&c, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "user_"));
	assert_null(strstr(buf, "ct count"));
}

static void test_apply_remove(void **state)
{
	struct fw_net px[2], ex[3], dns[2];
	char err[256] = "", out[16384];
	struct fw_cfg c;

	(void)state;
	need_root();
	full_cfg(&c, px, ex, dns);
	assert_int_equal(fw_present(), 0);
	assert_int_equal(fw_remove(NULL, err, sizeof(err)), 0); /* absent: fine */
	applied(&c, err, sizeof(err));
	assert_int_equal(fw_present(), 1);
	capture(out, sizeof(out), "nft list table inet proxyvpn");
	assert_non_null(strstr(out, "comment \"proxyvpn\""));
	assert_non_null(strstr(out, "oifname \"pvpn0\" accept"));
	assert_non_null(strstr(out, "elements = { 10.0.0.0/8, 192.168.0.0/16 }"));
	capture(out, sizeof(out), "nft -j list table inet proxyvpn");
	assert_non_null(strstr(out, "\"hook\": \"output\", \"prio\": -150"));

	/* Again, and again with the killswitch off: replaced, still one table. */
	applied(&c, err, sizeof(err));
	assert_int_equal(count_tables(), 1);
	c.killswitch = false;
	applied(&c, err, sizeof(err));
	assert_int_equal(count_tables(), 1);
	capture(out, sizeof(out), "nft list table inet proxyvpn");
	assert_null(strstr(out, "killswitch"));
	assert_null(strstr(out, "dns4"));
	/* --udp proxy and bypass, killswitch on: nft takes them, the read-back counts match */
	c.killswitch = true;
	c.udp_mark = true;
	applied(&c, err, sizeof(err));
	capture(out, sizeof(out), "nft list table inet proxyvpn");
	assert_non_null(strstr(out, "meta mark 0x00007076 oif \"lo\" meta l4proto udp drop\n"));
	assert_non_null(strstr(out, "ip6 daddr @dns6 udp dport 53 return"));
	/* the per-user caps: nft takes the dynamic sets and ct count */
	c.user_tcp = 512;
	c.user_udp = 128;
	applied(&c, err, sizeof(err));
	capture(out, sizeof(out), "nft list table inet proxyvpn");
	assert_non_null(strstr(out, "add @user_tcp { meta skuid ct count over 512 } reject"));
	assert_non_null(strstr(out, "add @user_udp { meta skuid ct count over 128 } reject"));
	c.user_tcp = c.user_udp = 0;
	c.udp_mark = false;
	c.udp_bypass = true;
	applied(&c, err, sizeof(err));
	assert_int_equal(count_tables(), 1);
	c.udp_bypass = false;
	/* Excluded owners and peers, DNS steered: nft takes them (a cgroup if v2 is mounted). */
	{
		static const char *const v2[] = { "", "unified" };
		struct fw_cgroup g;
		struct fw_peer pe[2];
		uint32_t uid[2];
		char dir[128] = "";

		owners_cfg(&c, uid, &g, pe);
		c.nexclude_cgroup = 0;
		for (size_t i = 0; i < 2 && !c.nexclude_cgroup; i++) {
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%scgroup.controllers", v2[i],
				 v2[i][0] ? "/" : "");
			if (access(dir, F_OK) != 0)
				continue;
			snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%spvtest-fw-%d", v2[i],
				 v2[i][0] ? "/" : "", (int)getpid());
			if (mkdir(dir, 0755) != 0)
				continue;
			snprintf(g.under, sizeof(g.under), "%s", v2[i]);
			snprintf(g.path, sizeof(g.path), "pvtest-fw-%d", (int)getpid());
			g.level = 1;
			c.nexclude_cgroup = 1;
		}
		c.dns_steer = true;
		inet_pton(AF_INET, "198.18.0.2", c.dns4);
		inet_pton(AF_INET6, "fd70:7678::2", c.dns6);
		applied(&c, err, sizeof(err));
		capture(out, sizeof(out), "nft list table inet proxyvpn");
		assert_non_null(strstr(out, "meta skuid 105 return"));
		assert_non_null(strstr(out, "ip daddr 192.0.2.1 tcp dport 22 accept"));
		if (c.nexclude_cgroup)
			assert_non_null(strstr(out, "socket cgroupv2 level 1 "));
		else
			fprintf(stderr,
				"(no cgroup v2 under /sys/fs/cgroup: cgroup rule not applied)\n");
		assert_int_equal(fw_remove(NULL, err, sizeof(err)), 0);
		if (c.nexclude_cgroup)
			assert_int_equal(rmdir(dir), 0);
		full_cfg(&c, px, ex, dns);
	}

	/* forwarded traffic: nft takes fib in prerouting and forward, the counts match */
	c.forward = FW_FWD_PROXY;
	c.udp_mark = true;
	c.dns_steer = true;
	inet_pton(AF_INET, "198.18.0.2", c.dns4);
	inet_pton(AF_INET6, "fd70:7678::2", c.dns6);
	c.dhcp_uids[0] = 998;
	c.ndhcp_uids = 1;
	applied(&c, err, sizeof(err));
	capture(out, sizeof(out), "nft list table inet proxyvpn");
	assert_non_null(strstr(out, "fib daddr . iif oif exists return"));
	assert_non_null(strstr(out, "chain forward_dns_nat"));
	assert_non_null(strstr(out, "meta skuid { 0, 998 }"));
	c.killswitch = false;
	applied(&c, err, sizeof(err));
	c.killswitch = true;
	c.forward = FW_FWD_BLOCK;
	applied(&c, err, sizeof(err));
	capture(out, sizeof(out), "nft list table inet proxyvpn");
	assert_null(strstr(out, "forward_mark"));
	assert_non_null(strstr(out, "chain forward_filter"));
	assert_int_equal(count_tables(), 1);
	c.forward = FW_FWD_DIRECT;
	c.udp_mark = false;
	c.dns_steer = false;
	c.ndhcp_uids = 0;

	assert_int_equal(fw_remove(NULL, err, sizeof(err)), 0);
	assert_int_equal(fw_present(), 0);
	assert_int_equal(count_tables(), 0);
	assert_int_equal(fw_remove(NULL, err, sizeof(err)), 0);

	/* A bad cfg changes nothing. */
	c.tun = "x;flush ruleset";
	assert_int_equal(fw_apply(&c, err, sizeof(err)), -EINVAL);
	assert_int_equal(fw_present(), 0);
}

/* The watcher's and status's view: what is missing or changed, named; a digest blind to handles and dynamic elements. */
static void test_inspect(void **state)
{
	struct fw_net px[2], ex[3], dns[2];
	struct fw_seen want, have;
	char err[256] = "", what[256];
	uint64_t first;
	struct fw_cfg c;

	(void)state;
	need_root();
	full_cfg(&c, px, ex, dns);
	c.user_tcp = 512;
	assert_int_equal(fw_expect(&c, &want), 0);
	assert_int_equal(want.rules[FW_CH_DNS], -1);
	assert_true(want.rules[FW_CH_KS] > 5 && want.rules[FW_CH_FF] == 1);
	assert_int_equal(fw_inspect(&have, err, sizeof(err)), 0);
	assert_int_equal(have.state, 0);
	assert_int_equal(fw_diff(&want, &have, what, sizeof(what)), 1);
	assert_string_equal(what, "table inet proxyvpn removed");

	applied(&c, err, sizeof(err));
	assert_int_equal(fw_inspect(&have, err, sizeof(err)), 0);
	assert_int_equal(fw_diff(&want, &have, what, sizeof(what)), 0);
	assert_true(have.digest != 0);
	first = have.digest;
	want.digest = first;
	/* applied again: new handles, same digest */
	applied(&c, err, sizeof(err));
	assert_int_equal(fw_inspect(&have, err, sizeof(err)), 0);
	assert_int_equal(have.digest, first);
	/* a dynamic set's elements come and go with traffic: not a change */
	sh("nft add element inet proxyvpn user_tcp '{ 1000 ct count over 512 }'");
	assert_int_equal(fw_inspect(&have, err, sizeof(err)), 0);
	assert_int_equal(fw_diff(&want, &have, what, sizeof(what)), 0);

	sh("nft flush chain inet proxyvpn killswitch");
	assert_int_equal(fw_inspect(&have, err, sizeof(err)), 0);
	assert_int_equal(fw_diff(&want, &have, what, sizeof(what)), 1);
	assert_non_null(strstr(what, "chain killswitch: 0 of "));
	sh("nft delete chain inet proxyvpn killswitch && nft delete chain inet proxyvpn fail_fast");
	assert_int_equal(fw_inspect(&have, err, sizeof(err)), 0);
	assert_int_equal(fw_diff(&want, &have, what, sizeof(what)), 1);
	assert_string_equal(what, "chain fail_fast removed, chain killswitch removed");
	applied(&c, err, sizeof(err));
	assert_int_equal(fw_inspect(&have, err, sizeof(err)), 0);
	assert_int_equal(fw_diff(&want, &have, what, sizeof(what)), 0);

	/* the same rule counts, another exclude: a change all the same */
	sh("nft add element inet proxyvpn exclude4 '{ 203.0.113.0/24 }'");
	assert_int_equal(fw_inspect(&have, err, sizeof(err)), 0);
	assert_int_equal(fw_diff(&want, &have, what, sizeof(what)), 1);
	assert_string_equal(what, "table inet proxyvpn changed");
	sh("nft add chain inet proxyvpn dns_nat '{ type nat hook output priority -100; }'");
	assert_int_equal(fw_inspect(&have, err, sizeof(err)), 0);
	assert_int_equal(fw_diff(&want, &have, what, sizeof(what)), 1);
	assert_string_equal(what, "chain dns_nat added");

	sh("nft flush ruleset && nft add table inet proxyvpn");
	assert_int_equal(fw_inspect(&have, err, sizeof(err)), 0);
	assert_int_equal(have.state, -EEXIST);
	assert_int_equal(fw_diff(&want, &have, what, sizeof(what)), 1);
	assert_string_equal(what, "table inet proxyvpn replaced by one not ours");
	sh("nft flush ruleset");
	assert_string_equal(fw_chain_name(FW_CH_KS), "killswitch");
	assert_null(fw_chain_name(FW_CHAINS));
}

/* Someone else's table of the same name (untagged or tagged otherwise) is never touched. */
static void test_lookalike(void **state)
{
	static const char *const decoys[] = {
		"nft add table inet proxyvpn",
		"nft add table inet proxyvpn '{ comment \"proxyvpn2\"; }'",
		"nft add table inet proxyvpn '{ comment \"x\"; }'",
	};
	struct fw_net px[2], ex[3], dns[2];
	char err[256], out[4096];
	struct fw_cfg c;
	size_t i;

	(void)state;
	need_root();
	full_cfg(&c, px, ex, dns);
	for (i = 0; i < sizeof(decoys) / sizeof(decoys[0]); i++) {
		sh("%s", decoys[i]);
		sh("nft add chain inet proxyvpn decoy");
		assert_int_equal(fw_present(), -EEXIST);
		err[0] = '\0';
		assert_int_equal(fw_remove(NULL, err, sizeof(err)), -EEXIST);
		assert_non_null(strstr(err, "not ours"));
		err[0] = '\0';
		assert_int_equal(fw_apply(&c, err, sizeof(err)), -EEXIST);
		assert_non_null(strstr(err, "not ours"));
		capture(out, sizeof(out), "nft list table inet proxyvpn");
		assert_non_null(strstr(out, "chain decoy"));
		assert_null(strstr(out, "mark_tcp"));
		sh("nft delete table inet proxyvpn");
	}
	/* Same name in another family is not ours to care about. */
	sh("nft add table ip proxyvpn");
	applied(&c, err, sizeof(err));
	assert_int_equal(fw_remove(NULL, err, sizeof(err)), 0);
	capture(out, sizeof(out), "nft list tables");
	assert_string_equal(out, "table ip proxyvpn\n");
}

/*
 * Owners: the claim is one atomic create; a table is replaced or removed only
 * by the owner its comment names; the comment survives every replacement.
 */
static void test_owner(void **state)
{
	static const char mine[] = "proxyvpn uid=1000 pid=4242 start=777";
	static const char other[] = "proxyvpn uid=0 pid=17 start=5";
	struct fw_net px[2], ex[3], dns[2];
	char err[256] = "", out[16384], comment[FW_COMMENT_MAX + 1];
	struct fw_cfg c;

	(void)state;
	need_root();
	full_cfg(&c, px, ex, dns);
	assert_int_equal(fw_claim("proxyvpn", err, sizeof(err)), -EINVAL); /* not a record */
	assert_int_equal(fw_claim(mine, err, sizeof(err)), 0);
	assert_int_equal(fw_claim(other, err, sizeof(err)), -EEXIST);
	assert_int_equal(fw_claim(mine, err, sizeof(err)), -EEXIST);
	assert_int_equal(fw_owner(comment), 1);
	assert_string_equal(comment, mine);
	capture(out, sizeof(out), "nft list table inet proxyvpn");
	assert_null(strstr(out, "chain")); /* the claim is an empty table */

	/* another owner (or none) may neither replace nor remove it */
	c.owner = other;
	assert_int_equal(fw_apply(&c, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "another up"));
	c.owner = NULL;
	assert_int_equal(fw_apply(&c, err, sizeof(err)), -EBUSY);
	assert_int_equal(fw_remove(other, err, sizeof(err)), -EBUSY);
	assert_int_equal(fw_remove(NULL, err, sizeof(err)), -EBUSY);
	assert_int_equal(fw_owner(comment), 1);
	assert_string_equal(comment, mine);

	/* its owner replaces it, twice: the comment stays */
	c.owner = mine;
	applied(&c, err, sizeof(err));
	applied(&c, err, sizeof(err));
	assert_int_equal(count_tables(), 1);
	capture(out, sizeof(out), "nft list table inet proxyvpn");
	assert_non_null(strstr(out, "comment \"proxyvpn uid=1000 pid=4242 start=777\""));
	assert_non_null(strstr(out, "chain mark_tcp"));
	assert_int_equal(fw_remove(mine, err, sizeof(err)), 0);
	assert_int_equal(fw_present(), 0);

	/* a bad record is not a cfg */
	c.owner = "proxyvpn uid=1 pid=0 start=1";
	assert_int_equal(fw_apply(&c, err, sizeof(err)), -EINVAL);
	c.owner = "proxyvpn uid=1 pid=1 start=1\"; flush ruleset; \"";
	assert_int_equal(fw_apply(&c, err, sizeof(err)), -EINVAL);
	assert_int_equal(fw_claim(c.owner, err, sizeof(err)), -EINVAL);
	assert_int_equal(fw_present(), 0);
}

/* ---- root: traffic through the killswitch, over a veth pair to a peer namespace ---- */

static void enter(int ns)
{
	assert_int_equal(setns(ns, CLONE_NEWNET), 0);
}

/* A socket of the peer namespace (sockets stay in the namespace they were made in). */
static int peer_socket(int here, int peer, int family, int type, uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, one = 1;

	enter(peer);
	fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	enter(here);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	if (family == AF_INET6) {
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), 0);
		assert_int_equal(bind(fd, (struct sockaddr *)&a6, sizeof(a6)), 0);
	} else {
		assert_int_equal(bind(fd, (struct sockaddr *)&a4, sizeof(a4)), 0);
	}
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void addr_of(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &a6->sin6_addr), 1);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
	}
}

/* A connected UDP send: 0 if it went out with no error back within 300 ms, else -errno. */
static int udp_probe(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len, elen = sizeof(int);
	int fd, e = 0, ret = 0;
	char b[1];

	addr_of(ip, port, &ss, &len);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	if (send(fd, "q", 1, 0) < 0) {
		ret = -errno;
	} else if (readable(fd, 300)) {
		if (recv(fd, b, sizeof(b), MSG_DONTWAIT) < 0)
			ret = -errno;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen);
	close(fd);
	return ret ? ret : -e;
}

/* A TCP connect bounded to 2 s: 0 when established, else -errno. */
static int tcp_probe(const char *ip, uint16_t port)
{
	struct pollfd p = { .events = POLLOUT };
	struct sockaddr_storage ss;
	socklen_t len, elen = sizeof(int);
	int e = 0;

	addr_of(ip, port, &ss, &len);
	p.fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(p.fd >= 0);
	if (connect(p.fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		e = errno;
		close(p.fd);
		return -e;
	}
	if (poll(&p, 1, 2000) != 1) {
		close(p.fd);
		return -ETIMEDOUT;
	}
	getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &e, &elen);
	close(p.fd);
	return -e;
}

static bool blocked(int ret)
{
	return ret == -EPERM || ret == -ECONNREFUSED || ret == -EHOSTUNREACH || ret == -EACCES ||
	       ret == -ENETUNREACH;
}

static long peer_counter(int here, int peer, const char *name)
{
	char cmd[128], out[1024], *p;

	snprintf(cmd, sizeof(cmd), "nft list counter inet peer %s", name);
	enter(peer);
	capture(out, sizeof(out), cmd);
	enter(here);
	p = strstr(out, "packets ");
	assert_non_null(p);
	return strtol(p + 8, NULL, 10);
}

static void test_killswitch_traffic(void **state)
{
	struct fw_net px = n4("10.9.0.2", 32), dns = n4("10.9.0.2", 32);
	struct fw_cfg c = { .tun = "pvtun0",
			    .mark = MARK,
			    .killswitch = true,
			    .proxy = &px,
			    .nproxy = 1,
			    .proxy_port = 1080,
			    .dns = &dns,
			    .ndns = 1 };
	int here, peer, l_proxy, l_80, l_local, u_53, u_9999, u6_9999, fd;
	long tcp80;
	char err[256] = "", b[16];

	(void)state;
	need_root();
	here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(here >= 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	peer = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(peer >= 0);
	enter(here);

	sh("ip link set lo up && ip link add v0 type veth peer name v1 netns /proc/%d/fd/%d && "
	   "ip addr add 10.9.0.1/24 dev v0 && ip -6 addr add fd09::1/64 dev v0 nodad && "
	   "ip link set v0 up && ip link add pvtun0 type veth peer name pvtun1 && ip link set "
	   "pvtun0 up && "
	   "ip rule add fwmark %#x lookup 100 && ip -6 rule add fwmark %#x lookup 100 && "
	   "ip route add local default dev lo table 100 && "
	   "ip -6 route add local default dev lo table 100",
	   (int)getpid(), peer, MARK, MARK);
	enter(peer);
	sh("ip link set lo up && ip addr add 10.9.0.2/24 dev v1 && ip addr add 10.9.0.3/24 dev v1 "
	   "&& ip -6 addr add fd09::2/64 dev v1 nodad && ip link set v1 up");
	sh("nft 'add table inet peer; add counter inet peer tcp80; add counter inet peer udp9999; "
	   "add counter inet peer udp5353; add counter inet peer dns; add counter inet peer proxy; "
	   "add chain inet peer in { type filter hook input priority 0; policy accept; }; "
	   "add rule inet peer in tcp dport 80 counter name tcp80; "
	   "add rule inet peer in udp dport 9999 counter name udp9999; "
	   "add rule inet peer in udp dport 5353 counter name udp5353; "
	   "add rule inet peer in udp dport 53 counter name dns; "
	   "add rule inet peer in tcp dport 1080 counter name proxy'");
	enter(here);
	l_proxy = peer_socket(here, peer, AF_INET, SOCK_STREAM, 1080);
	l_80 = peer_socket(here, peer, AF_INET, SOCK_STREAM, 80);
	u_53 = peer_socket(here, peer, AF_INET, SOCK_DGRAM, 53);
	u_9999 = peer_socket(here, peer, AF_INET, SOCK_DGRAM, 9999);
	u6_9999 = peer_socket(here, peer, AF_INET6, SOCK_DGRAM, 9999);

	applied(&c, err, sizeof(err));

	/* Blocked, and failing fast rather than timing out. */
	assert_true(blocked(udp_probe("10.9.0.3", 9999)));
	assert_true(blocked(udp_probe("10.9.0.2", 5353))); /* the resolver, not port 53 */
	assert_true(blocked(udp_probe("fd09::2", 9999)));
	assert_int_equal(tcp_probe("10.9.0.2", 80), -ECONNREFUSED); /* proxy address, wrong port */
	/*
	 * Marked TCP follows fwmark to table 100, whose only route is route.c's
	 * fallback, as when the TUN is gone: to lo, where the fail_fast chain
	 * resets it. Refused at once (not a timeout), for both families, and
	 * a local listener on the same port is not reached.
	 */
	l_local = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l_local >= 0);
	{
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
		int one = 1;

		setsockopt(l_local, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		assert_int_equal(bind(l_local, (struct sockaddr *)&a, sizeof(a)), 0);
		assert_int_equal(listen(l_local, 4), 0);
	}
	assert_int_equal(tcp_probe("10.9.0.3", 80), -ECONNREFUSED);
	assert_int_equal(tcp_probe("fd09::2", 80), -ECONNREFUSED);
	assert_false(readable(l_local, 0));

	/* Allowed: DNS to the resolver, TCP to the proxy. */
	assert_int_equal(udp_probe("10.9.0.2", 53), 0);
	assert_true(readable(u_53, 1000));
	assert_int_equal(tcp_probe("10.9.0.2", 1080), 0);
	assert_true(readable(l_proxy, 1000));
	fd = accept(l_proxy, NULL, NULL);
	assert_true(fd >= 0);
	close(fd);

	/* Nothing else arrived. */
	assert_false(readable(u_9999, 0));
	assert_false(readable(u6_9999, 0));
	assert_false(readable(l_80, 0));
	assert_int_equal(peer_counter(here, peer, "tcp80"), 0);
	assert_int_equal(peer_counter(here, peer, "udp9999"), 0);
	assert_int_equal(peer_counter(here, peer, "udp5353"), 0);
	assert_int_equal(peer_counter(here, peer, "dns"), 1);
	assert_true(peer_counter(here, peer, "proxy") >= 2); /* SYN, ACK */

	/* Positive control: killswitch off, UDP goes out directly. */
	c.killswitch = false;
	applied(&c, err, sizeof(err));
	assert_int_equal(udp_probe("10.9.0.3", 9999), 0);
	assert_true(readable(u_9999, 1000));
	assert_int_equal(recv(u_9999, b, sizeof(b), 0), 1);
	assert_int_equal(udp_probe("fd09::2", 9999), 0);
	assert_true(readable(u6_9999, 1000));
	/*
	 * Only the proxy's address and port stay direct: another port of its
	 * host is marked like any destination (here table 100's fallback
	 * resets it), killswitch or not; the proxy's port still connects.
	 */
	tcp80 = peer_counter(here, peer, "tcp80");
	assert_int_equal(tcp80, 0);
	assert_int_equal(tcp_probe("10.9.0.2", 80), -ECONNREFUSED);
	assert_int_equal(tcp_probe("10.9.0.2", 1080), 0);
	assert_true(readable(l_proxy, 1000));
	fd = accept(l_proxy, NULL, NULL);
	assert_true(fd >= 0);
	close(fd);
	/* Marked TCP still goes to table 100, with or without the killswitch. */
	assert_int_equal(tcp_probe("10.9.0.3", 80), -ECONNREFUSED);
	assert_false(readable(l_local, 0));
	assert_false(readable(l_80, 0));
	assert_int_equal(peer_counter(here, peer, "tcp80"), 0);

	assert_int_equal(fw_remove(NULL, err, sizeof(err)), 0);
	close(l_local);
	close(l_proxy);
	close(l_80);
	close(u_53);
	close(u_9999);
	close(u6_9999);
	close(peer);
	close(here);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_one_family),
		cmocka_unit_test(test_bad_cfg),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_dns_steer),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_dhcp_uids),
		cmocka_unit_test(test_net_parse),
		cmocka_unit_test(test_owners),
		cmocka_unit_test(test_user_caps),
		cmocka_unit_test_setup_teardown(test_apply_remove, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_lookalike, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_owner, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_inspect, ns_setup, ns_teardown),
		cmocka_unit_test_setup_teardown(test_killswitch_traffic, ns_setup, ns_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
