// SPDX-License-Identifier: GPL-2.0-only
/*
 * fw-ipt.c's rendering: golden iptables-restore input for IPv4 and IPv6
 * (only that family's addresses; link-local control per family), without
 * the killswitch, forwarded traffic (proxy, block), every short buffer (-ENOSPC, never past it) and bad
 * configurations. Applying it is covered by e2e upipt-socks5; as root, in a
 * fresh network namespace, fw_ipt_check() names a removed jump and chain.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fw-ipt.h"

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

static const char golden4[] =
	"*filter\n"
	":PROXYVPN-FF - [0:0]\n"
	":PROXYVPN-TUNG - [0:0]\n"
	":PROXYVPN-KS - [0:0]\n"
	"-A PROXYVPN-FF -i lo -p tcp -m mark --mark 0x7076/0xffffffff -j REJECT --reject-with "
	"tcp-reset\n"
	"-A PROXYVPN-TUNG -o pvpn0 -p tcp -m mark ! --mark 0x7076/0xffffffff -j REJECT "
	"--reject-with tcp-reset\n"
	"-A PROXYVPN-TUNG -o pvpn0 -m mark ! --mark 0x7076/0xffffffff -j DROP\n"
	"-A PROXYVPN-KS -o lo -j ACCEPT\n"
	"-A PROXYVPN-KS -o pvpn0 -j ACCEPT\n"
	"-A PROXYVPN-KS -p tcp -m mark --mark 0x7076/0xffffffff -j ACCEPT\n"
	"-A PROXYVPN-KS -d 192.0.2.10 -p tcp --dport 1080 -j ACCEPT\n"
	"-A PROXYVPN-KS -d 10.0.0.0/8 -j ACCEPT\n"
	"-A PROXYVPN-KS -d 9.9.9.9 -p udp --dport 53 -j ACCEPT\n"
	"-A PROXYVPN-KS -d 9.9.9.9 -p tcp --dport 53 -j ACCEPT\n"
	"-A PROXYVPN-KS -p udp --sport 68 --dport 67 -m owner --uid-owner 0 -j ACCEPT\n"
	"-A PROXYVPN-KS -p tcp -j REJECT --reject-with tcp-reset\n"
	"-A PROXYVPN-KS -j REJECT --reject-with icmp-admin-prohibited\n"
	"-I INPUT 1 -m comment --comment proxyvpn -j PROXYVPN-FF\n"
	"-I OUTPUT 1 -m comment --comment proxyvpn -j PROXYVPN-KS\n"
	"-I OUTPUT 1 -m comment --comment proxyvpn -j PROXYVPN-TUNG\n"
	"COMMIT\n"
	"*mangle\n"
	":PROXYVPN-MARK - [0:0]\n"
	":PROXYVPN-GUARD - [0:0]\n"
	"-A PROXYVPN-MARK -o lo -j RETURN\n"
	"-A PROXYVPN-MARK ! -p tcp -j RETURN\n"
	"-A PROXYVPN-MARK -m conntrack --ctdir REPLY -j RETURN\n"
	"-A PROXYVPN-MARK -d 192.0.2.10 -p tcp --dport 1080 -j RETURN\n"
	"-A PROXYVPN-MARK -d 10.0.0.0/8 -j RETURN\n"
	"-A PROXYVPN-MARK -j MARK --set-xmark 0x7076/0xffffffff\n"
	"-A PROXYVPN-GUARD -o lo -j RETURN\n"
	"-A PROXYVPN-GUARD -o pvpn0 -j RETURN\n"
	"-A PROXYVPN-GUARD -p tcp -m mark --mark 0x7076/0xffffffff -j DROP\n"
	"-I OUTPUT 1 -m comment --comment proxyvpn -j PROXYVPN-MARK\n"
	"-I POSTROUTING 1 -m comment --comment proxyvpn -j PROXYVPN-GUARD\n"
	"COMMIT\n";

static const char golden6_nokill[] =
	"*filter\n"
	":PROXYVPN-FF - [0:0]\n"
	":PROXYVPN-TUNG - [0:0]\n"
	"-A PROXYVPN-FF -i lo -p tcp -m mark --mark 0x7076/0xffffffff -j REJECT --reject-with "
	"tcp-reset\n"
	"-A PROXYVPN-TUNG -o pvpn0 -p tcp -m mark ! --mark 0x7076/0xffffffff -j REJECT "
	"--reject-with tcp-reset\n"
	"-A PROXYVPN-TUNG -o pvpn0 -m mark ! --mark 0x7076/0xffffffff -j DROP\n"
	"-I INPUT 1 -m comment --comment proxyvpn -j PROXYVPN-FF\n"
	"-I OUTPUT 1 -m comment --comment proxyvpn -j PROXYVPN-TUNG\n"
	"COMMIT\n"
	"*mangle\n"
	":PROXYVPN-MARK - [0:0]\n"
	":PROXYVPN-GUARD - [0:0]\n"
	"-A PROXYVPN-MARK -o lo -j RETURN\n"
	"-A PROXYVPN-MARK ! -p tcp -j RETURN\n"
	"-A PROXYVPN-MARK -m conntrack --ctdir REPLY -j RETURN\n"
	"-A PROXYVPN-MARK -d 2001:db8::10 -p tcp --dport 1080 -j RETURN\n"
	"-A PROXYVPN-MARK -d fd00::/8 -j RETURN\n"
	"-A PROXYVPN-MARK -j MARK --set-xmark 0x7076/0xffffffff\n"
	"-A PROXYVPN-GUARD -o lo -j RETURN\n"
	"-A PROXYVPN-GUARD -o pvpn0 -j RETURN\n"
	"-A PROXYVPN-GUARD -p tcp -m mark --mark 0x7076/0xffffffff -j DROP\n"
	"-I OUTPUT 1 -m comment --comment proxyvpn -j PROXYVPN-MARK\n"
	"-I POSTROUTING 1 -m comment --comment proxyvpn -j PROXYVPN-GUARD\n"
	"COMMIT\n";

static void cfg(struct fw_cfg *c, struct fw_net px[2], struct fw_net ex[2], struct fw_net dns[2])
{
	px[0] = n4("192.0.2.10", 32);
	px[1] = n6("2001:db8::10", 128);
	ex[0] = n4("10.1.2.3", 8); /* host bits cleared */
	ex[1] = n6("fd00::1", 8);
	dns[0] = n4("9.9.9.9", 32);
	dns[1] = n6("2620:fe::fe", 128);
	*c = (struct fw_cfg){ .tun = "pvpn0",
			      .mark = 0x7076,
			      .killswitch = true,
			      .proxy = px,
			      .nproxy = 2,
			      .proxy_port = 1080,
			      .exclude = ex,
			      .nexclude = 2,
			      .dns = dns,
			      .ndns = 2 };
}

static void test_golden(void **state)
{
	struct fw_net px[2], ex[2], dns[2];
	struct fw_cfg c;
	char buf[8192];

	(void)state;
	cfg(&c, px, ex, dns);
	assert_int_equal(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)), (int)strlen(golden4));
	assert_string_equal(buf, golden4);
	c.killswitch = false;
	assert_int_equal(fw_ipt_render(&c, AF_INET6, buf, sizeof(buf)),
			 (int)strlen(golden6_nokill));
	assert_string_equal(buf, golden6_nokill);
}

static void test_v6_killswitch(void **state)
{
	struct fw_net px[2], ex[2], dns[2];
	struct fw_cfg c;
	char buf[8192];

	(void)state;
	cfg(&c, px, ex, dns);
	assert_true(fw_ipt_render(&c, AF_INET6, buf, sizeof(buf)) > 0);
	assert_non_null(
		strstr(buf, "-A PROXYVPN-KS -d 2001:db8::10 -p tcp --dport 1080 -j ACCEPT\n"));
	assert_non_null(strstr(buf, "-A PROXYVPN-KS -d 2620:fe::fe -p udp --dport 53 -j ACCEPT\n"));
	assert_non_null(
		strstr(buf, "-A PROXYVPN-KS -d ff02::1:2/128 -p udp --sport 546 --dport 547"));
	assert_non_null(strstr(buf, "--icmpv6-type 135 -m hl --hl-eq 255 -j ACCEPT\n"));
	assert_non_null(strstr(buf, "--icmpv6-type 143 -m hl --hl-eq 1 -j ACCEPT\n"));
	assert_non_null(strstr(buf, "-A PROXYVPN-KS -j REJECT --reject-with adm-prohibited\n"));
	/* nothing of the other family */
	assert_null(strstr(buf, "192.0.2.10"));
	assert_null(strstr(buf, "9.9.9.9"));
	assert_null(strstr(buf, "--sport 68"));
}

/* --udp proxy (udp_mark) and --udp bypass, as fw.c renders them. */
static const char golden4_udp_mark[] =
	"*filter\n"
	":PROXYVPN-FF - [0:0]\n"
	":PROXYVPN-TUNG - [0:0]\n"
	":PROXYVPN-KS - [0:0]\n"
	"-A PROXYVPN-FF -i lo -p tcp -m mark --mark 0x7076/0xffffffff -j REJECT --reject-with "
	"tcp-reset\n"
	"-A PROXYVPN-TUNG -o pvpn0 -p tcp -m mark ! --mark 0x7076/0xffffffff -j REJECT "
	"--reject-with tcp-reset\n"
	"-A PROXYVPN-TUNG -o pvpn0 -m mark ! --mark 0x7076/0xffffffff -j DROP\n"
	"-A PROXYVPN-KS -o lo -j ACCEPT\n"
	"-A PROXYVPN-KS -o pvpn0 -j ACCEPT\n"
	"-A PROXYVPN-KS -p tcp -m mark --mark 0x7076/0xffffffff -j ACCEPT\n"
	"-A PROXYVPN-KS -p udp -m mark --mark 0x7076/0xffffffff -j ACCEPT\n"
	"-A PROXYVPN-KS -d 192.0.2.10 -p tcp --dport 1080 -j ACCEPT\n"
	"-A PROXYVPN-KS -d 192.0.2.10 -p udp -j ACCEPT\n"
	"-A PROXYVPN-KS -d 10.0.0.0/8 -j ACCEPT\n"
	"-A PROXYVPN-KS -d 9.9.9.9 -p udp --dport 53 -j ACCEPT\n"
	"-A PROXYVPN-KS -d 9.9.9.9 -p tcp --dport 53 -j ACCEPT\n"
	"-A PROXYVPN-KS -p udp --sport 68 --dport 67 -m owner --uid-owner 0 -j ACCEPT\n"
	"-A PROXYVPN-KS -p tcp -j REJECT --reject-with tcp-reset\n"
	"-A PROXYVPN-KS -j REJECT --reject-with icmp-admin-prohibited\n"
	"-I INPUT 1 -m comment --comment proxyvpn -j PROXYVPN-FF\n"
	"-I OUTPUT 1 -m comment --comment proxyvpn -j PROXYVPN-KS\n"
	"-I OUTPUT 1 -m comment --comment proxyvpn -j PROXYVPN-TUNG\n"
	"COMMIT\n"
	"*mangle\n"
	":PROXYVPN-MARK - [0:0]\n"
	":PROXYVPN-GUARD - [0:0]\n"
	"-A PROXYVPN-MARK -o lo -j RETURN\n"
	"-A PROXYVPN-MARK -m conntrack --ctdir REPLY -j RETURN\n"
	"-A PROXYVPN-MARK -d 192.0.2.10 -p tcp --dport 1080 -j RETURN\n"
	"-A PROXYVPN-MARK -d 192.0.2.10 -p udp -j RETURN\n"
	"-A PROXYVPN-MARK -d 10.0.0.0/8 -j RETURN\n"
	"-A PROXYVPN-MARK -p udp --sport 68 --dport 67 -m owner --uid-owner 0 -j RETURN\n"
	"-A PROXYVPN-MARK -d 9.9.9.9 -p udp --dport 53 -j RETURN\n"
	"-A PROXYVPN-MARK -p tcp -j MARK --set-xmark 0x7076/0xffffffff\n"
	"-A PROXYVPN-MARK -p udp -j MARK --set-xmark 0x7076/0xffffffff\n"
	"-A PROXYVPN-GUARD -o lo -p udp -m mark --mark 0x7076/0xffffffff -j DROP\n"
	"-A PROXYVPN-GUARD -o lo -j RETURN\n"
	"-A PROXYVPN-GUARD -o pvpn0 -j RETURN\n"
	"-A PROXYVPN-GUARD -p tcp -m mark --mark 0x7076/0xffffffff -j DROP\n"
	"-A PROXYVPN-GUARD -p udp -m mark --mark 0x7076/0xffffffff -j DROP\n"
	"-I OUTPUT 1 -m comment --comment proxyvpn -j PROXYVPN-MARK\n"
	"-I POSTROUTING 1 -m comment --comment proxyvpn -j PROXYVPN-GUARD\n"
	"COMMIT\n";

static void test_udp(void **state)
{
	struct fw_net px[2], ex[2], dns[2];
	struct fw_cfg c;
	char buf[8192];

	(void)state;
	cfg(&c, px, ex, dns);
	c.udp_mark = true;
	assert_int_equal(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)),
			 (int)strlen(golden4_udp_mark));
	assert_string_equal(buf, golden4_udp_mark);
	assert_true(fw_ipt_render(&c, AF_INET6, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "-A PROXYVPN-GUARD -o lo -p udp -m mark --mark "
				    "0x7076/0xffffffff -j DROP\n"));
	assert_non_null(strstr(
		buf, "-A PROXYVPN-MARK -d ff02::1:2/128 -p udp --sport 546 --dport 547 -j RETURN\n"
		     "-A PROXYVPN-MARK -d 2620:fe::fe -p udp --dport 53 -j RETURN\n"));
	/* --dns virtual|tcp: no DNS exception */
	c.dns_steer = true;
	assert_true(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "-A PROXYVPN-MARK -d 9.9.9.9"));
	/* bypass: the killswitch accepts UDP after the exclusions, marks as without --udp */
	cfg(&c, px, ex, dns);
	c.udp_bypass = true;
	assert_true(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "-A PROXYVPN-KS -d 10.0.0.0/8 -j ACCEPT\n"
				    "-A PROXYVPN-KS -p udp -j ACCEPT\n"));
	assert_non_null(strstr(buf, "-A PROXYVPN-MARK ! -p tcp -j RETURN\n"));
	assert_null(strstr(buf, "-o lo -p udp"));
}

/* Excluded owners and peers: RETURN from the marks, ACCEPT by the killswitch; peers per family. */
static void test_owners(void **state)
{
	struct fw_net px[2], ex[2], dns[2];
	struct fw_cgroup g = { .path = "system.slice/tor.service", .under = "unified", .level = 2 };
	struct fw_peer p[2] = { { .family = AF_INET, .port = 22 },
				{ .family = AF_INET6, .port = 2222 } };
	uint32_t uid = 105;
	struct fw_cfg c;
	char buf[8192];

	(void)state;
	inet_pton(AF_INET, "192.0.2.1", p[0].addr);
	inet_pton(AF_INET6, "2001:db8::1", p[1].addr);
	cfg(&c, px, ex, dns);
	c.exclude_uid = &uid;
	c.nexclude_uid = 1;
	c.exclude_cgroup = &g;
	c.nexclude_cgroup = 1;
	c.exclude_peer = p;
	c.nexclude_peer = 2;
	assert_true(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "-A PROXYVPN-MARK -d 192.0.2.10 -p tcp --dport 1080 -j RETURN\n"
				    "-A PROXYVPN-MARK -m owner --uid-owner 105 -j RETURN\n"
				    "-A PROXYVPN-MARK -m cgroup --path system.slice/tor.service -j "
				    "RETURN\n"
				    "-A PROXYVPN-MARK -d 192.0.2.1 -p tcp --dport 22 -j RETURN\n"
				    "-A PROXYVPN-MARK -d 10.0.0.0/8 -j RETURN\n"));
	assert_non_null(strstr(buf, "-A PROXYVPN-KS -m owner --uid-owner 105 -j ACCEPT\n"
				    "-A PROXYVPN-KS -m cgroup --path system.slice/tor.service -j "
				    "ACCEPT\n"
				    "-A PROXYVPN-KS -d 192.0.2.1 -p tcp --dport 22 -j ACCEPT\n"));
	assert_null(strstr(buf, "2001:db8::1"));
	assert_true(fw_ipt_render(&c, AF_INET6, buf, sizeof(buf)) > 0);
	assert_non_null(
		strstr(buf, "-A PROXYVPN-MARK -d 2001:db8::1 -p tcp --dport 2222 -j RETURN\n"));
	assert_non_null(strstr(buf, "-A PROXYVPN-KS -m owner --uid-owner 105 -j ACCEPT\n"));
	assert_null(strstr(buf, "192.0.2.1 "));
	/* a path that could smuggle an option is refused */
	strcpy(g.path, "a -j ACCEPT");
	assert_int_equal(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)), -EINVAL);
}

/* --forward proxy with the killswitch: FWDMARK in PREROUTING, FWD in FORWARD, as fw.c. */
static const char golden4_fwd[] =
	"*filter\n"
	":PROXYVPN-FF - [0:0]\n"
	":PROXYVPN-TUNG - [0:0]\n"
	":PROXYVPN-KS - [0:0]\n"
	":PROXYVPN-FWD - [0:0]\n"
	"-A PROXYVPN-FF -i lo -p tcp -m mark --mark 0x7076/0xffffffff -j REJECT --reject-with tcp-reset\n"
	"-A PROXYVPN-FF ! -i lo -p tcp -m mark --mark 0x7076/0xffffffff -j REJECT --reject-with tcp-reset\n"
	"-A PROXYVPN-FF ! -i lo -m mark --mark 0x7076/0xffffffff -j DROP\n"
	"-A PROXYVPN-TUNG -o pvpn0 -p tcp -m mark ! --mark 0x7076/0xffffffff -j REJECT --reject-with tcp-reset\n"
	"-A PROXYVPN-TUNG -o pvpn0 -m mark ! --mark 0x7076/0xffffffff -j DROP\n"
	"-A PROXYVPN-KS -o lo -j ACCEPT\n"
	"-A PROXYVPN-KS -o pvpn0 -j ACCEPT\n"
	"-A PROXYVPN-KS -p tcp -m mark --mark 0x7076/0xffffffff -j ACCEPT\n"
	"-A PROXYVPN-KS -d 192.0.2.10 -p tcp --dport 1080 -j ACCEPT\n"
	"-A PROXYVPN-KS -d 10.0.0.0/8 -j ACCEPT\n"
	"-A PROXYVPN-KS -d 9.9.9.9 -p udp --dport 53 -j ACCEPT\n"
	"-A PROXYVPN-KS -d 9.9.9.9 -p tcp --dport 53 -j ACCEPT\n"
	"-A PROXYVPN-KS -p udp --sport 68 --dport 67 -m owner --uid-owner 0 -j ACCEPT\n"
	"-A PROXYVPN-KS -p udp --sport 68 --dport 67 -m owner --uid-owner 998 -j ACCEPT\n"
	"-A PROXYVPN-KS -p tcp -j REJECT --reject-with tcp-reset\n"
	"-A PROXYVPN-KS -j REJECT --reject-with icmp-admin-prohibited\n"
	"-A PROXYVPN-FWD -o pvpn0 -m mark --mark 0x7076/0xffffffff -j ACCEPT\n"
	"-A PROXYVPN-FWD -m physdev --physdev-is-bridged -j ACCEPT\n"
	"-A PROXYVPN-FWD -m conntrack --ctdir REPLY -j ACCEPT\n"
	"-A PROXYVPN-FWD -d 192.0.2.10 -p tcp --dport 1080 -j ACCEPT\n"
	"-A PROXYVPN-FWD -d 10.0.0.0/8 -j ACCEPT\n"
	"-A PROXYVPN-FWD -d 9.9.9.9 -p udp --dport 53 -j ACCEPT\n"
	"-A PROXYVPN-FWD -d 9.9.9.9 -p tcp --dport 53 -j ACCEPT\n"
	"-A PROXYVPN-FWD -j DROP\n"
	"-I INPUT 1 -m comment --comment proxyvpn -j PROXYVPN-FF\n"
	"-I OUTPUT 1 -m comment --comment proxyvpn -j PROXYVPN-KS\n"
	"-I FORWARD 1 -m comment --comment proxyvpn -j PROXYVPN-FWD\n"
	"-I OUTPUT 1 -m comment --comment proxyvpn -j PROXYVPN-TUNG\n"
	"COMMIT\n"
	"*mangle\n"
	":PROXYVPN-MARK - [0:0]\n"
	":PROXYVPN-GUARD - [0:0]\n"
	":PROXYVPN-FWDMARK - [0:0]\n"
	"-A PROXYVPN-MARK -o lo -j RETURN\n"
	"-A PROXYVPN-MARK ! -p tcp -j RETURN\n"
	"-A PROXYVPN-MARK -m conntrack --ctdir REPLY -j RETURN\n"
	"-A PROXYVPN-MARK -d 192.0.2.10 -p tcp --dport 1080 -j RETURN\n"
	"-A PROXYVPN-MARK -d 10.0.0.0/8 -j RETURN\n"
	"-A PROXYVPN-MARK -j MARK --set-xmark 0x7076/0xffffffff\n"
	"-A PROXYVPN-FWDMARK -i pvpn0 -j RETURN\n"
	"-A PROXYVPN-FWDMARK -i lo -j RETURN\n"
	"-A PROXYVPN-FWDMARK -m addrtype --dst-type LOCAL -j RETURN\n"
	"-A PROXYVPN-FWDMARK -m addrtype --dst-type BROADCAST -j RETURN\n"
	"-A PROXYVPN-FWDMARK -m addrtype --dst-type MULTICAST -j RETURN\n"
	"-A PROXYVPN-FWDMARK ! -p tcp -j RETURN\n"
	"-A PROXYVPN-FWDMARK -m conntrack --ctdir REPLY -j RETURN\n"
	"-A PROXYVPN-FWDMARK -d 192.0.2.10 -p tcp --dport 1080 -j RETURN\n"
	"-A PROXYVPN-FWDMARK -d 10.0.0.0/8 -j RETURN\n"
	"-A PROXYVPN-FWDMARK -j MARK --set-xmark 0x7076/0xffffffff\n"
	"-A PROXYVPN-GUARD -o lo -j RETURN\n"
	"-A PROXYVPN-GUARD -o pvpn0 -j RETURN\n"
	"-A PROXYVPN-GUARD -m physdev --physdev-is-bridged -j RETURN\n"
	"-A PROXYVPN-GUARD -p tcp -m mark --mark 0x7076/0xffffffff -j DROP\n"
	"-I OUTPUT 1 -m comment --comment proxyvpn -j PROXYVPN-MARK\n"
	"-I POSTROUTING 1 -m comment --comment proxyvpn -j PROXYVPN-GUARD\n"
	"-I PREROUTING 1 -m comment --comment proxyvpn -j PROXYVPN-FWDMARK\n"
	"COMMIT\n";

static void test_forward(void **state)
{
	struct fw_net px[2], ex[2], dns[2];
	struct fw_cfg c;
	char buf[8192];

	(void)state;
	cfg(&c, px, ex, dns);
	c.forward = FW_FWD_PROXY;
	c.dhcp_uids[0] = 998;
	c.ndhcp_uids = 1;
	assert_int_equal(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)), (int)strlen(golden4_fwd));
	assert_string_equal(buf, golden4_fwd);
	/* IPv6: no BROADCAST address type */
	assert_true(fw_ipt_render(&c, AF_INET6, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf,
			       "-A PROXYVPN-FWDMARK -m addrtype --dst-type LOCAL -j RETURN\n"
			       "-A PROXYVPN-FWDMARK -m addrtype --dst-type MULTICAST -j RETURN\n"));
	assert_non_null(strstr(buf, "-A PROXYVPN-FWD -d 2620:fe::fe -p tcp --dport 53 -j ACCEPT\n"
				    "-A PROXYVPN-FWD -j DROP\n"));
	/* no killswitch: marked, no forward filter */
	c.killswitch = false;
	assert_true(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)) > 0);
	assert_non_null(
		strstr(buf, "-I PREROUTING 1 -m comment --comment proxyvpn -j PROXYVPN-FWDMARK\n"));
	assert_null(strstr(buf, "PROXYVPN-FWD "));
	/* block: the filter alone, without the TUN's or DNS's accepts */
	c.forward = FW_FWD_BLOCK;
	assert_true(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "PROXYVPN-FWDMARK"));
	assert_null(strstr(buf, "-A PROXYVPN-FWD -o pvpn0"));
	assert_null(strstr(buf, "-A PROXYVPN-FWD -d 9.9.9.9"));
	assert_non_null(strstr(buf, "-A PROXYVPN-FWD -d 10.0.0.0/8 -j ACCEPT\n"
				    "-A PROXYVPN-FWD -j DROP\n"));
	assert_null(strstr(buf, "! -i lo"));
}

static void test_small_buffers(void **state)
{
	struct fw_net px[2], ex[2], dns[2];
	struct fw_cfg c;
	size_t need = strlen(golden4) + 1, len;

	(void)state;
	cfg(&c, px, ex, dns);
	assert_int_equal(fw_ipt_render(&c, AF_INET, NULL, 0), -ENOSPC);
	for (len = 1; len <= need; len++) {
		char *buf = malloc(len);
		int ret;

		assert_non_null(buf);
		ret = fw_ipt_render(&c, AF_INET, buf, len);
		if (len < need) {
			assert_int_equal(ret, -ENOSPC);
			assert_true(strlen(buf) < len);
		} else {
			assert_int_equal(ret, (int)need - 1);
			assert_string_equal(buf, golden4);
		}
		free(buf);
	}
}

static void test_bad(void **state)
{
	struct fw_net px[2], ex[2], dns[2];
	struct fw_cfg c;
	char buf[256];

	(void)state;
	cfg(&c, px, ex, dns);
	assert_int_equal(fw_ipt_render(&c, AF_UNIX, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(fw_ipt_render(&c, AF_INET, NULL, 10), -EINVAL);
	c.tun = "bad name";
	assert_int_equal(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)), -EINVAL);
	c.tun = "-j ACCEPT";
	assert_int_equal(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)), -EINVAL);
	c.tun = "pvpn0";
	c.mark = 0;
	assert_int_equal(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)), -EINVAL);
	c.mark = 1;
	c.proxy_port = 0;
	assert_int_equal(fw_ipt_render(&c, AF_INET, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(fw_ipt_render(NULL, AF_INET, buf, sizeof(buf)), -EINVAL);
}

/* The watcher's check of the fallback, in a namespace of its own (root). */
static void test_check(void **state)
{
	struct fw_net px[1] = { n4("192.0.2.10", 32) };
	struct fw_cfg c = { .tun = "pvpn0",
			    .mark = 0x7076,
			    .killswitch = true,
			    .proxy = px,
			    .nproxy = 1,
			    .proxy_port = 1080 };
	char err[256] = "", what[256];
	int saved;

	(void)state;
	if (geteuid() != 0 || access("/usr/sbin/iptables-restore", X_OK) != 0)
		skip();
	saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(saved >= 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	if (fw_ipt_apply(&c, false, err, sizeof(err)) != 0)
		fail_msg("fw_ipt_apply: %s", err);
	assert_int_equal(fw_ipt_check(&c, false, what, sizeof(what)), 0);
	assert_string_equal(what, "");
	assert_int_equal(system("iptables -w -t filter -D OUTPUT -m comment --comment proxyvpn "
				"-j PROXYVPN-KS"),
			 0);
	assert_int_equal(fw_ipt_check(&c, false, what, sizeof(what)), 1);
	assert_string_equal(what, "jump to PROXYVPN-KS removed (IPv4)");
	assert_int_equal(system("iptables -w -t mangle -F PROXYVPN-MARK && "
				"iptables -w -t mangle -D OUTPUT -m comment --comment proxyvpn "
				"-j PROXYVPN-MARK && iptables -w -t mangle -X PROXYVPN-MARK"),
			 0);
	assert_int_equal(fw_ipt_check(&c, false, what, sizeof(what)), 1);
	assert_string_equal(
		what, "chain PROXYVPN-MARK removed (IPv4), jump to PROXYVPN-KS removed (IPv4)");
	if (fw_ipt_apply(&c, false, err, sizeof(err)) != 0)
		fail_msg("fw_ipt_apply: %s", err);
	assert_int_equal(fw_ipt_check(&c, false, what, sizeof(what)), 0);
	assert_int_equal(fw_ipt_remove(err, sizeof(err)), 0);
	assert_int_equal(setns(saved, CLONE_NEWNET), 0);
	close(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),	cmocka_unit_test(test_v6_killswitch),
		cmocka_unit_test(test_udp),	cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_bad),	cmocka_unit_test(test_owners),
		cmocka_unit_test(test_forward), cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
