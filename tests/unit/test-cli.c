// SPDX-License-Identifier: GPL-2.0-only
/*
 * The option parsers of the subcommands (opts.c, up-opts.c): up's options
 * into struct up_opts and the engine's cfg (defaults, every kind of value,
 * the number forms num.c refuses, the cross-checks), down's and status's,
 * the DNS options exec and up share; and the table/priority ranges route.c
 * allows a user to choose.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "engine.h"
#include "log.h"
#include "opts.h"
#include "route.h"
#include "up.h"

/* up ARGS... (a NULL-terminated list) into *o and *ec; the parser's return. */
static int up_args(struct up_opts *o, struct engine_cfg *ec, ...)
{
	char *argv[64] = { "up" };
	int argc = 1;
	va_list ap;

	memset(ec, 0, sizeof(*ec));
	dnspool_cfg_default(&ec->pool);
	va_start(ap, ec);
	while (argc < 63 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	return up_opts_parse(argc, argv, o, ec);
}

static void test_up_defaults(void **state)
{
	struct engine_cfg ec;
	struct up_opts o;

	(void)state;
	assert_int_equal(up_args(&o, &ec, NULL), 0);
	assert_string_equal(o.tun, UP_TUN_DEFAULT);
	assert_true(o.killswitch);
	assert_int_equal(o.mtu, 1500);
	assert_int_equal(o.workers, 1);
	assert_int_equal(o.table, 0);
	assert_int_equal(o.firewall, UP_FW_AUTO);
	assert_int_equal(o.udp, UP_UDP_BLOCK); /* with the killswitch */
	assert_int_equal(o.user_udp, UP_USER_UDP_DEFAULT);
	assert_int_equal(o.forward, FW_FWD_PROXY);
	/* The engine's limits are left to the host (engine_limits_default, in the engine). */
	assert_int_equal(ec.tcp.max_conns, 0);
	assert_int_equal(ec.max_pending, 0);
	assert_int_equal(ec.tcp.mem_budget, 0);
	/* A user's TCP cap: half of what the engine will hold on this host. */
	{
		struct engine_cfg eff = ec;

		engine_limits_default(&eff, 1);
		assert_true(eff.tcp.max_conns > 0);
		assert_true(eff.max_pending > 0 && eff.max_pending <= eff.tcp.max_conns);
		assert_int_equal(o.user_tcp, eff.tcp.max_conns / 2);
	}
	assert_int_equal(up_args(&o, &ec, "--max-conns", "1000", NULL), 0);
	assert_int_equal(o.user_tcp, 500);
	assert_int_equal(up_args(&o, &ec, "--max-conns-per-user", "0", NULL), 0);
	assert_int_equal(o.user_tcp, 0); /* none */
	assert_null(o.proxy);		 /* proxy_opt_load picks the environment's or the default */
	assert_int_equal(ec.udp, ENGINE_UDP_BLOCK);
	assert_true(ec.udp_relay_at_proxy);
	assert_int_equal(up_args(&o, &ec, "--no-killswitch", NULL), 0);
	assert_int_equal(o.udp, UP_UDP_BYPASS);
	assert_int_equal(up_args(&o, &ec, "--help", NULL), 1);
}

static void test_up_values(void **state)
{
	struct engine_cfg ec;
	struct up_opts o;

	(void)state;
	assert_int_equal(up_args(&o, &ec, "--tun", "pv.x-1", "--mtu", "01280", "--workers", "64",
				 "--table", "300", "--mark", "0x7076", "--priority", "5000",
				 "--firewall", "nftables", "--udp", "proxy", "--allow-dns",
				 "192.0.2.53", "--allow-dns", "2001:db8::53", "--exclude",
				 "10.0.0.0/8", "--exclude", "2001:db8::1", "-p", "socks5://h:1",
				 "--state-dir", "/tmp/x", "--user", "nobody", "--no-offload",
				 "--dns", "virtual", "--fake-max", "64", "--max-conns", "5000",
				 "--max-pending", "300", "--buffer", "64", "--mem-limit", "100",
				 "--idle-timeout", "600", "--keepalive", "0", NULL),
			 0);
	/* exec's limits, for up too */
	assert_int_equal(ec.tcp.max_conns, 5000);
	assert_int_equal(ec.max_pending, 300);
	assert_int_equal(ec.buf_size, 64 * 1024);
	assert_int_equal(ec.tcp.mem_budget, (size_t)100 << 20);
	assert_int_equal(ec.tcp.idle_ms, 600000);
	assert_int_equal(ec.tcp.ka_idle_ms, UINT32_MAX);
	assert_string_equal(o.tun, "pv.x-1");
	assert_int_equal(o.mtu, 1280); /* decimal, not octal */
	assert_int_equal(o.workers, 64);
	assert_int_equal(o.table, 300);
	assert_int_equal(o.mark, 0x7076);
	assert_int_equal(o.prio, 5000);
	assert_int_equal(o.firewall, UP_FW_NFT);
	assert_int_equal(o.udp, UP_UDP_PROXY);
	assert_int_equal(ec.udp, ENGINE_UDP_PROXY);
	assert_int_equal(o.ndns, 2);
	assert_true(o.dns_given);
	assert_int_equal(o.dns[1].family, AF_INET6);
	assert_int_equal(o.nexclude, 2);
	assert_int_equal(o.exclude[0].prefix, 8);
	assert_int_equal(o.exclude[1].prefix, 128);
	assert_string_equal(o.proxy, "socks5://h:1");
	assert_string_equal(o.state_dir, "/tmp/x");
	assert_string_equal(o.user, "nobody");
	assert_true(o.no_offload);
	assert_int_equal(ec.dns, ENGINE_DNS_VIRTUAL);
	assert_int_equal(ec.pool.max, 64);
	assert_int_equal(ec.resolver4[0], 198); /* dns_opt_finish ran */
	assert_int_equal(up_args(&o, &ec, "--mark", "4294967295", NULL), 0);
	assert_int_equal(o.mark, UINT32_MAX);
	assert_int_equal(up_args(&o, &ec, "--max-conns-per-user", "0", "--max-udp-per-user",
				 "1048576", "--exclude-uid", "65534", "--exclude-uid", "root",
				 "--proxy-file", "/etc/p", NULL),
			 0);
	assert_int_equal(o.user_tcp, 0);
	assert_int_equal(o.user_udp, 1048576);
	assert_int_equal(o.nxuid, 2);
	assert_int_equal(o.xuid[0], 65534);
	assert_int_equal(o.xuid[1], 0);
	assert_string_equal(o.proxy_file, "/etc/p");
	assert_int_equal(o.ready_fd, -1); /* none unless given */
	assert_int_equal(up_args(&o, &ec, "--ready-fd", "2", NULL), 0);
	assert_int_equal(o.ready_fd, 2);
	assert_int_equal(up_args(&o, &ec, "--forward", "block", NULL), 0);
	assert_int_equal(o.forward, FW_FWD_BLOCK);
	assert_int_equal(up_args(&o, &ec, "--forward", "direct", "--no-killswitch", NULL), 0);
	assert_int_equal(o.forward, FW_FWD_DIRECT);
}

static void test_up_bad(void **state)
{
	static const char *const bad[][2] = {
		{ "--mtu", "1279" },
		{ "--mtu", "65536" },
		{ "--mtu", "" },
		{ "--mtu", "+1500" },
		{ "--mtu", " 1500" },
		{ "--mtu", "1500x" },
		{ "--mtu", "0x5dc" },
		{ "--workers", "0" },
		{ "--workers", "65" },
		{ "--workers", "-1" },
		{ "--table", "0" },
		{ "--table", "254" },
		{ "--table", "4294967296" },
		{ "--table", "0x100" },
		{ "--mark", "0" },
		{ "--mark", "0x" },
		{ "--mark", "0x100000000" },
		{ "--mark", "-0x1" },
		{ "--priority", "32766" },
		{ "--priority", "1e3" },
		{ "--firewall", "pf" },
		{ "--udp", "" },
		{ "--udp", "relay" },
		{ "--forward", "" },
		{ "--forward", "nat" },
		{ "--forward", "direct" }, /* with the killswitch */
		{ "--tun", "" },
		{ "--tun", "a/b" },
		{ "--tun", "1234567890123456" },
		{ "--tun", ".." },
		{ "--allow-dns", "10.0.0.0/8" },
		{ "--allow-dns", "dns.example" },
		{ "--exclude", "10.0.0.0/33" },
		{ "--exclude", "10.0.0.0/ 8" },
		{ "--dns", "fake" },
		{ "--fake-max", "15" },
		{ "--fake-net4", "10.0.0.1/8" },
		{ "--dns-server", "x" },
		{ "--max-conns-per-user", "1048577" },
		{ "--max-udp-per-user", "-1" },
		{ "--exclude-uid", "4294967295" },
		{ "--exclude-uid", "no-such-user-pv" },
		{ "--exclude-uid", "" },
		{ "--exclude-cgroup", "/no/such/cgroup/pv" },
		{ "--ready-fd", "-1" },
		{ "--ready-fd", "3x" },
		{ "--ready-fd", "2147483648" },
		{ "--ready-fd", "1000000" }, /* not open */
	};
	struct engine_cfg ec;
	struct up_opts o;
	size_t i;

	(void)state;
	log_level = LOG_LVL_QUIET; /* log_error still prints: one line per case */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (up_args(&o, &ec, bad[i][0], bad[i][1], NULL) != -1)
			fail_msg("up %s '%s' was accepted", bad[i][0], bad[i][1]);
	}
	assert_int_equal(up_args(&o, &ec, "stray", NULL), -1);
	assert_int_equal(up_args(&o, &ec, "--no-such-option", NULL), -1);
	assert_int_equal(up_args(&o, &ec, "--mtu", NULL), -1); /* a value is missing */
	/* cross-checks */
	assert_int_equal(up_args(&o, &ec, "--firewall", "iptables", "--dns", "virtual", NULL), -1);
	assert_int_equal(up_args(&o, &ec, "--dns", "tcp", NULL), -1);
	assert_int_equal(up_args(&o, &ec, "--dns-server", "192.0.2.1", NULL), -1);
	/* at most UP_MAX_DNS resolvers */
	{
		char *argv[2 * UP_MAX_DNS + 4] = { "up" };
		int argc = 1, k;

		for (k = 0; k <= UP_MAX_DNS; k++) {
			argv[argc++] = "--allow-dns";
			argv[argc++] = "192.0.2.1";
		}
		memset(&ec, 0, sizeof(ec));
		dnspool_cfg_default(&ec.pool);
		assert_int_equal(up_opts_parse(argc, argv, &o, &ec), -1);
		assert_int_equal(o.ndns, UP_MAX_DNS);
	}
	log_level = LOG_LVL_WARN;
}

static void test_small(void **state)
{
	char *down[] = { "down", "--state-dir", "/d", "-q", NULL };
	char *status[] = { "status", "--json", NULL };
	char *down_json[] = { "down", "--json", NULL };
	char *extra[] = { "status", "now", NULL };
	const char *dir = NULL;
	bool json = false;

	(void)state;
	assert_int_equal(up_small_opts_parse(4, down, &dir, NULL, "down"), 0);
	assert_string_equal(dir, "/d");
	assert_int_equal(up_small_opts_parse(2, status, &dir, &json, "status"), 0);
	assert_true(json);
	assert_int_equal(up_small_opts_parse(2, down_json, &dir, NULL, "down"), -1);
	assert_int_equal(up_small_opts_parse(2, extra, &dir, &json, "status"), -1);
	log_level = LOG_LVL_WARN;
}

static void test_shared(void **state)
{
	struct engine_cfg ec;
	uint32_t v = 7;

	(void)state;
	assert_true(opt_u32("--x", "10", 1, 10, &v));
	assert_int_equal(v, 10);
	assert_false(opt_u32("--x", "11", 1, 10, &v));
	assert_false(opt_u32("--x", "0x1", 0, 10, &v));
	assert_int_equal(v, 10); /* untouched on error */
	memset(&ec, 0, sizeof(ec));
	assert_true(dns_opt_parse(OPT_UDP, "proxy", &ec));
	assert_int_equal(ec.udp, ENGINE_UDP_PROXY);
	assert_true(dns_opt_parse(OPT_UDP, "block", &ec));
	assert_int_equal(ec.udp, ENGINE_UDP_BLOCK);
	assert_false(dns_opt_parse(OPT_UDP, "bypass", &ec)); /* exec's --udp has no bypass */
	assert_true(dns_opt_parse(OPT_DNS_SERVER, "2001:db8::53", &ec));
	assert_int_equal(ec.dns_server.ss_family, AF_INET6);
	assert_int_equal(ec.dns_server_len, sizeof(struct sockaddr_in6));
	assert_true(dns_opt_parse(OPT_DNS, "tcp", &ec));
	assert_true(dns_opt_finish(&ec, "198.18.0.1", "fd70:7678::1"));
	assert_int_equal(ec.pool.nexcl4, 1);
}

static void test_route_ranges(void **state)
{
	(void)state;
	assert_false(route_table_ok(0));
	assert_true(route_table_ok(1));
	assert_true(route_table_ok(251));
	assert_false(route_table_ok(252));
	assert_false(route_table_ok(253));
	assert_false(route_table_ok(254));
	assert_false(route_table_ok(255));
	assert_true(route_table_ok(256));
	assert_true(route_table_ok(UINT32_MAX));
	assert_false(route_prio_ok(0));
	assert_true(route_prio_ok(1));
	assert_true(route_prio_ok(ROUTE_PRIO_MAX));
	assert_false(route_prio_ok(ROUTE_PRIO_MAX + 1));
	assert_false(route_prio_ok(32766));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up_defaults), cmocka_unit_test(test_up_values),
		cmocka_unit_test(test_up_bad),	    cmocka_unit_test(test_small),
		cmocka_unit_test(test_shared),	    cmocka_unit_test(test_route_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
