// SPDX-License-Identifier: GPL-2.0-only
/* The option parsing `exec' and `up' share (see opts.h). */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "log.h"
#include "num.h"
#include "opts.h"

int opt_common(int c, char **argv)
{
	switch (c) {
	case 'v':
		log_level = log_level < LOG_LVL_INFO ? LOG_LVL_INFO : LOG_LVL_DEBUG;
		return 0;
	case 'q':
		log_level = LOG_LVL_QUIET;
		return 0;
	case 'h':
		usage_command(stdout, argv[0]); /* argv[0]: the command's name */
		return 1;
	case ':':
		log_error("option `%s' needs a value", argv[optind - 1]);
		return -1;
	default:
		log_error("unknown option `%s' (see proxyvpn %s --help)", argv[optind - 1],
			  argv[0]);
		return -1;
	}
}

int opt_no_operands(int argc, char **argv, const char *cmd)
{
	if (optind >= argc)
		return 0;
	log_error("%s: unexpected argument `%s'", cmd, argv[optind]);
	return -1;
}

bool opt_u32(const char *opt, const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	if (num_u32(v, 0, min, max, out) == 0)
		return true;
	log_error("%s must be %u-%u: `%s'", opt, min, max, v);
	return false;
}

bool limit_opt_parse(int c, const char *v, struct engine_cfg *ec)
{
	uint32_t n;

	switch (c) {
	case OPT_MAX_CONNS:
		return opt_u32("--max-conns", v, 1, 1048576, &ec->tcp.max_conns);
	case OPT_MAX_PENDING:
		return opt_u32("--max-pending", v, 1, 1048576, &ec->max_pending);
	case OPT_BUFFER:
		if (!opt_u32("--buffer (KiB)", v, 16, 65536, &n))
			return false;
		ec->buf_size = (size_t)n * 1024;
		return true;
	case OPT_MEM_LIMIT:
		if (!opt_u32("--mem-limit (MiB)", v, 16, 1048576, &n))
			return false;
		ec->tcp.mem_budget = (size_t)n << 20;
		return true;
	case OPT_IDLE_TIMEOUT:
		if (!opt_u32("--idle-timeout (s)", v, 0, 4000000, &n))
			return false;
		ec->tcp.idle_ms = n * 1000;
		return true;
	case OPT_KEEPALIVE:
		if (!opt_u32("--keepalive (s)", v, 0, 4000000, &n))
			return false;
		ec->tcp.ka_idle_ms = n ? n * 1000 : UINT32_MAX;
		return true;
	case OPT_UDP_TIMEOUT:
		if (!opt_u32("--udp-timeout (s)", v, 1, 4000000, &n))
			return false;
		ec->udp_timeout_ms = n * 1000;
		return true;
	case OPT_MAX_UDP:
		return opt_u32("--max-udp", v, 1, 65536, &ec->udp_max);
	}
	return false;
}

bool dns_opt_parse(int c, const char *v, struct engine_cfg *ec)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ec->dns_server;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ec->dns_server;

	switch (c) {
	case OPT_DNS:
		if (!strcmp(v, "virtual"))
			ec->dns = ENGINE_DNS_VIRTUAL;
		else if (!strcmp(v, "tcp"))
			ec->dns = ENGINE_DNS_TCP;
		else if (!strcmp(v, "bypass"))
			ec->dns = ENGINE_DNS_BYPASS;
		else
			break;
		return true;
	case OPT_UDP:
		if (!strcmp(v, "block")) {
			ec->udp = ENGINE_UDP_BLOCK;
			return true;
		}
		if (!strcmp(v, "proxy")) {
			ec->udp = ENGINE_UDP_PROXY; /* socks5:// only: checked with the URL */
			return true;
		}
		break;
	case OPT_DNS_SERVER:
		memset(&ec->dns_server, 0, sizeof(ec->dns_server));
		if (inet_pton(AF_INET, v, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(53);
			ec->dns_server_len = sizeof(*s4);
			return true;
		}
		if (inet_pton(AF_INET6, v, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(53);
			ec->dns_server_len = sizeof(*s6);
			return true;
		}
		log_error("--dns-server must be an IPv4 or IPv6 address: `%s'", v);
		return false;
	case OPT_FAKE_NET4:
		if (dnspool_parse_cidr(v, AF_INET, ec->pool.net4, &ec->pool.plen4) == 0)
			return true;
		log_error("--fake-net4 must be an IPv4 CIDR, /8 to /30, host bits zero: `%s'", v);
		return false;
	case OPT_FAKE_NET6:
		if (dnspool_parse_cidr(v, AF_INET6, ec->pool.net6, &ec->pool.plen6) == 0)
			return true;
		log_error("--fake-net6 must be an IPv6 CIDR, /64 to /120, host bits zero: `%s'", v);
		return false;
	case OPT_FAKE_MAX:
		return opt_u32("--fake-max", v, 16, 1048576, &ec->pool.max);
	}
	log_error("%s: unknown mode `%s'",
		  c == OPT_DNS ? "--dns (virtual|tcp|bypass)" : "--udp (block|proxy)", v);
	return false;
}

bool dns_opt_finish(struct engine_cfg *ec, const char *tun4, const char *tun6)
{
	if (ec->dns == ENGINE_DNS_TCP && !ec->dns_server.ss_family) {
		log_error("--dns tcp needs --dns-server IP (the resolver the proxy reaches)");
		return false;
	}
	if (ec->dns == ENGINE_DNS_BYPASS && ec->dns_server.ss_family) {
		log_error("--dns-server needs --dns tcp or --dns virtual");
		return false;
	}
	if (ec->dns == ENGINE_DNS_BYPASS)
		return true;
	inet_pton(AF_INET, ENGINE_RESOLVER4, ec->resolver4);
	inet_pton(AF_INET6, ENGINE_RESOLVER6, ec->resolver6);
	/* The TUN's own addresses are never handed out (the resolver's: engine). */
	inet_pton(AF_INET, tun4, ec->pool.excl4[ec->pool.nexcl4++]);
	inet_pton(AF_INET6, tun6, ec->pool.excl6[ec->pool.nexcl6++]);
	return true;
}
