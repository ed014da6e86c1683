// SPDX-License-Identifier: GPL-2.0-only
/* The options of `up', `down' and `status' (see up.h). */
#include <getopt.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine.h"
#include "localproxy.h"
#include "log.h"
#include "notify.h"
#include "num.h"
#include "opts.h"
#include "proxyopt.h"
#include "route.h"
#include "up.h"
#include "url.h"

const char *const up_udp_names[UP_UDP_MAX] = { "", "block", "bypass", "proxy" };

static const char *const up_forward_names[] = {
	[FW_FWD_DIRECT] = "direct",
	[FW_FWD_PROXY] = "proxy",
	[FW_FWD_BLOCK] = "block",
};

enum {
	OPT_KILLSWITCH = 256,
	OPT_NO_KILLSWITCH,
	OPT_ALLOW_DNS,
	OPT_EXCLUDE,
	OPT_TUN,
	OPT_STATE_DIR,
	OPT_USER,
	OPT_WORKERS,
	OPT_JSON,
	OPT_TABLE,
	OPT_MARK,
	OPT_PRIORITY,
	OPT_FIREWALL,
	OPT_NO_OFFLOAD,
	OPT_EXCLUDE_UID,
	OPT_EXCLUDE_CGROUP,
	OPT_USER_TCP,
	OPT_USER_UDP,
	OPT_READY_FD,
	OPT_FORWARD,
};

/* A uid: a number (not (uid_t)-1) or a user name. */
static bool parse_uid(const char *s, uint32_t *uid)
{
	const struct passwd *pw;

	if (num_u32(s, 0, 0, UINT32_MAX - 1, uid) == 0)
		return true;
	pw = getpwnam(s);
	if (!pw)
		return false;
	*uid = pw->pw_uid;
	return true;
}

/* --ready-fd N: an open descriptor (made close-on-exec). 0, or -1 after logging. */
static int parse_ready_fd(const char *v, struct up_opts *o)
{
	uint32_t fd;
	int ret;

	if (num_u32(v, 0, 0, INT32_MAX, &fd) < 0) {
		log_error("--ready-fd must be a file descriptor number: `%s'", v);
		return -1;
	}
	ret = notify_fd_check((int)fd);
	if (ret < 0) {
		log_error("--ready-fd %u: %s", fd, strerror(-ret));
		return -1;
	}
	o->ready_fd = (int)fd;
	return 0;
}

/* --exclude-uid, --exclude-cgroup: what goes around the proxy. 0, or -1 after logging. */
static int parse_exclude_owner(int c, const char *v, struct up_opts *o)
{
	const char *why;

	if (c == OPT_EXCLUDE_UID) {
		if (o->nxuid >= UP_MAX_OWNERS || !parse_uid(v, &o->xuid[o->nxuid])) {
			log_error("--exclude-uid must be a user name or number (at most %d): `%s'",
				  UP_MAX_OWNERS, v);
			return -1;
		}
		if (!localproxy_system_uid(o->xuid[o->nxuid]))
			log_warnx("--exclude-uid %u: every program of that user goes around the "
				  "proxy, not only a proxy it runs",
				  o->xuid[o->nxuid]);
		o->nxuid++;
		return 0;
	}
	if (o->nxcgroup >= UP_MAX_OWNERS) {
		log_error("--exclude-cgroup: at most %d", UP_MAX_OWNERS);
		return -1;
	}
	if (localproxy_cgroup(v, &o->xcgroup[o->nxcgroup], &why) < 0) {
		log_error("--exclude-cgroup `%s': %s", v, why);
		return -1;
	}
	o->nxcgroup++;
	return 0;
}

/* --table, --mark, --priority, --firewall, --udp, --forward. 0, or -1 after logging. */
static int parse_routing_opt(int c, const char *v, struct up_opts *o)
{
	unsigned int i;

	switch (c) {
	case OPT_TABLE:
		if (num_u32(v, 0, 1, UINT32_MAX, &o->table) == 0 && route_table_ok(o->table))
			return 0;
		log_error("--table must be 1-4294967295 and not 252-255 (compat, default, main, "
			  "local): `%s'",
			  v);
		return -1;
	case OPT_MARK:
		if (num_u32(v, NUM_HEX, 1, UINT32_MAX, &o->mark) == 0)
			return 0;
		log_error("--mark must be 1-4294967295 (decimal or 0x hex): `%s'", v);
		return -1;
	case OPT_PRIORITY:
		if (num_u32(v, 0, 1, UINT32_MAX, &o->prio) == 0 && route_prio_ok(o->prio))
			return 0;
		log_error("--priority must be 1-%u (ahead of the main table's rule): `%s'",
			  ROUTE_PRIO_MAX, v);
		return -1;
	case OPT_FIREWALL:
		if (!strcmp(v, "auto"))
			o->firewall = UP_FW_AUTO;
		else if (!strcmp(v, "nft") || !strcmp(v, "nftables"))
			o->firewall = UP_FW_NFT;
		else if (!strcmp(v, "iptables"))
			o->firewall = UP_FW_IPT;
		else {
			log_error("--firewall must be auto, nft or iptables: `%s'", v);
			return -1;
		}
		return 0;
	case OPT_UDP:
		for (i = UP_UDP_BLOCK; i < UP_UDP_MAX; i++) {
			if (!strcmp(v, up_udp_names[i])) {
				o->udp = (enum up_udp)i;
				return 0;
			}
		}
		log_error("--udp must be block, bypass or proxy: `%s'", v);
		return -1;
	case OPT_FORWARD:
		for (i = FW_FWD_DIRECT; i <= FW_FWD_BLOCK; i++) {
			if (!strcmp(v, up_forward_names[i])) {
				o->forward = (enum fw_forward)i;
				return 0;
			}
		}
		log_error("--forward must be proxy, block or direct: `%s'", v);
		return -1;
	}
	return -1;
}

/* The rest of up's own options with a value. 0, or -1 after logging. */
static int parse_up_opt(int c, const char *v, struct up_opts *o)
{
	switch (c) {
	case OPT_ALLOW_DNS:
		if (o->ndns >= UP_MAX_DNS || fw_net_parse(v, false, &o->dns[o->ndns]) < 0) {
			log_error("--allow-dns must be an IP address (at most %d): `%s'",
				  UP_MAX_DNS, v);
			return -1;
		}
		o->ndns++;
		o->dns_given = true;
		return 0;
	case OPT_EXCLUDE:
		if (o->nexclude >= UP_MAX_EXCLUDE ||
		    fw_net_parse(v, true, &o->exclude[o->nexclude]) < 0) {
			log_error("--exclude must be ADDR[/PREFIX] (at most %d): `%s'",
				  UP_MAX_EXCLUDE, v);
			return -1;
		}
		o->nexclude++;
		return 0;
	case OPT_TUN:
		if (!fw_tun_ok(v)) {
			log_error("--tun must be 1-15 of [A-Za-z0-9_.-]: `%s'", v);
			return -1;
		}
		o->tun = v;
		return 0;
	case 'm':
		return opt_u32("--mtu", v, 1280, 65535, &o->mtu) ? 0 : -1;
	case OPT_WORKERS:
		return opt_u32("--workers", v, 1, UP_MAX_QUEUES, &o->workers) ? 0 : -1;
	case OPT_USER_TCP:
	case OPT_USER_UDP:
		if (num_u32(v, 0, 0, 1048576, c == OPT_USER_TCP ? &o->user_tcp : &o->user_udp) == 0)
			return 0;
		log_error("%s must be 0 (no cap) to 1048576: `%s'",
			  c == OPT_USER_TCP ? "--max-conns-per-user" : "--max-udp-per-user", v);
		return -1;
	case OPT_EXCLUDE_UID:
	case OPT_EXCLUDE_CGROUP:
		return parse_exclude_owner(c, v, o);
	}
	return parse_routing_opt(c, v, o);
}

/* One option of up: 0 (go on), 1 (--help printed) or -1 (logged). */
static int up_opt(int c, char *v, char **argv, struct up_opts *o, struct engine_cfg *ecfg)
{
	switch (c) {
	case 'p':
		o->proxy = v; /* argv's own string: proxy_opt_load hides its password there */
		return 0;
	case OPT_PROXY_FILE:
		o->proxy_file = v;
		return 0;
	case OPT_KILLSWITCH:
	case OPT_NO_KILLSWITCH:
		o->killswitch = c == OPT_KILLSWITCH;
		return 0;
	case OPT_STATE_DIR:
		o->state_dir = v;
		return 0;
	case OPT_USER:
		o->user = v;
		return 0;
	case OPT_NO_OFFLOAD:
		o->no_offload = true;
		return 0;
	case OPT_READY_FD:
		return parse_ready_fd(v, o);
	case OPT_DNS:
	case OPT_DNS_SERVER:
	case OPT_FAKE_NET4:
	case OPT_FAKE_NET6:
	case OPT_FAKE_MAX:
		return dns_opt_parse(c, v, ecfg) ? 0 : -1;
	case OPT_MAX_CONNS:
	case OPT_MAX_PENDING:
	case OPT_BUFFER:
	case OPT_MEM_LIMIT:
	case OPT_IDLE_TIMEOUT:
	case OPT_KEEPALIVE:
	case OPT_UDP_TIMEOUT:
	case OPT_MAX_UDP:
		return limit_opt_parse(c, v, ecfg) ? 0 : -1;
	case OPT_ALLOW_DNS:
	case OPT_EXCLUDE:
	case OPT_TUN:
	case 'm':
	case OPT_WORKERS:
	case OPT_USER_TCP:
	case OPT_USER_UDP:
	case OPT_EXCLUDE_UID:
	case OPT_EXCLUDE_CGROUP:
	case OPT_TABLE:
	case OPT_MARK:
	case OPT_PRIORITY:
	case OPT_FIREWALL:
	case OPT_UDP:
	case OPT_FORWARD:
		return parse_up_opt(c, v, o);
	}
	return opt_common(c, argv);
}

int up_opts_parse(int argc, char **argv, struct up_opts *o, struct engine_cfg *ecfg)
{
	static const struct option opts[] = {
		{ "proxy", required_argument, NULL, 'p' },
		{ "proxy-file", required_argument, NULL, OPT_PROXY_FILE },
		{ "killswitch", no_argument, NULL, OPT_KILLSWITCH },
		{ "no-killswitch", no_argument, NULL, OPT_NO_KILLSWITCH },
		{ "allow-dns", required_argument, NULL, OPT_ALLOW_DNS },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "exclude-uid", required_argument, NULL, OPT_EXCLUDE_UID },
		{ "exclude-cgroup", required_argument, NULL, OPT_EXCLUDE_CGROUP },
		{ "tun", required_argument, NULL, OPT_TUN },
		{ "mtu", required_argument, NULL, 'm' },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "user", required_argument, NULL, OPT_USER },
		{ "workers", required_argument, NULL, OPT_WORKERS },
		DNS_LONG_OPTIONS,
		{ "table", required_argument, NULL, OPT_TABLE },
		{ "mark", required_argument, NULL, OPT_MARK },
		{ "priority", required_argument, NULL, OPT_PRIORITY },
		{ "firewall", required_argument, NULL, OPT_FIREWALL },
		{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
		{ "ready-fd", required_argument, NULL, OPT_READY_FD },
		{ "udp", required_argument, NULL, OPT_UDP },
		{ "max-conns-per-user", required_argument, NULL, OPT_USER_TCP },
		{ "max-udp-per-user", required_argument, NULL, OPT_USER_UDP },
		{ "forward", required_argument, NULL, OPT_FORWARD },
		LIMIT_LONG_OPTIONS,
		COMMON_LONG_OPTIONS,
	};
	int c, ret;

	*o = (struct up_opts){ .tun = UP_TUN_DEFAULT,
			       .killswitch = true,
			       .mtu = 1500,
			       .workers = 1,
			       .user_tcp = UP_USER_UNSET,
			       .user_udp = UP_USER_UDP_DEFAULT,
			       .forward = FW_FWD_PROXY,
			       .ready_fd = -1 };
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:m:vqh", opts, NULL)) != -1) {
		ret = up_opt(c, optarg, argv, o, ecfg);
		if (ret)
			return ret;
	}
	if (opt_no_operands(argc, argv, "up") < 0 ||
	    !dns_opt_finish(ecfg, UP_TUN_ADDR4, UP_TUN_ADDR6))
		return -1;
	if (o->firewall == UP_FW_IPT && ecfg->dns != ENGINE_DNS_BYPASS) {
		log_error("up: --dns virtual|tcp needs nftables: the iptables fallback cannot "
			  "steer DNS");
		return -1;
	}
	if (o->forward == FW_FWD_DIRECT && o->killswitch) {
		log_error("up: --forward direct needs --no-killswitch: the killswitch "
			  "promises that nothing leaves but through the proxy, and forwarded "
			  "traffic (containers, VMs) leaving directly would break it");
		return -1;
	}
	if (o->udp == UP_UDP_UNSET)
		o->udp = o->killswitch ? UP_UDP_BLOCK : UP_UDP_BYPASS;
	/*
	 * proxy: UDP is marked and relayed; block without the killswitch:
	 * marked too, and the engine answers ICMP port unreachable.
	 */
	ecfg->udp = o->udp == UP_UDP_PROXY ? ENGINE_UDP_PROXY : ENGINE_UDP_BLOCK;
	/* only the proxy's address is left unmarked: a relay elsewhere would loop */
	ecfg->udp_relay_at_proxy = true;
	if (o->user_tcp == UP_USER_UNSET) {
		/* Half of what the engine will hold (its defaults follow from this host). */
		struct engine_cfg eff = *ecfg;

		engine_limits_default(&eff, (int)o->workers);
		o->user_tcp = eff.tcp.max_conns / 2 ? eff.tcp.max_conns / 2 : 1;
	}
	return 0;
}

int up_small_opts_parse(int argc, char **argv, const char **dir, bool *json, const char *cmd)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "json", no_argument, NULL, OPT_JSON },
		COMMON_LONG_OPTIONS,
	};
	int c, ret;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		if (c == OPT_STATE_DIR) {
			*dir = optarg;
			continue;
		}
		if (c == OPT_JSON && json) { /* down has no --json */
			*json = true;
			continue;
		}
		ret = opt_common(c, argv);
		if (ret)
			return ret;
	}
	return opt_no_operands(argc, argv, cmd);
}
