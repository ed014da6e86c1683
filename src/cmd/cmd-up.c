// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host mode: `proxyvpn up` sends the whole host's TCP through the proxy
 * (TUN + policy routing + nftables killswitch) until SIGINT/SIGTERM/SIGHUP;
 * `proxyvpn down` removes what a dead `up` left; `proxyvpn status` prints
 * the state record. Every object is recorded in the state file before it is
 * created, so a SIGKILL at any point leaves a record `down` can undo.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "cli.h"
#include "ctl.h"
#include "engine.h"
#include "fw.h"
#include "fw-ipt.h"
#include "log.h"
#include "loop.h"
#include "nl.h"
#include "ipc.h"
#include "localproxy.h"
#include "privsep.h"
#include "proxyopt.h"
#include "route.h"
#include "state.h"
#include "tun.h"
#include "up-owner.h"
#include "udp.h"
#include "url.h"

#define UP_TUN_DEFAULT "pvpn0"
#define UP_TUN_ADDR4   "198.18.0.1"
#define UP_TUN_ADDR6   "fd70:7678::1"
#define RESOLV_CONF    "/etc/resolv.conf"
#define RESOLV_SYSTEMD "/run/systemd/resolve/resolv.conf"

enum {
	UP_MAX_DNS = 16,
	UP_MAX_EXCLUDE = 256,
	UP_FIND_MAX = 16,		/* dead runs cleared by `down` without a state file */
	UP_MAX_QUEUES = IPC_MAX_QUEUES, /* --workers */
	UP_MAX_OWNERS = 8,		/* --exclude-uid, --exclude-cgroup (one more is detected) */
	/*
	 * Per-user caps (fw_cfg.user_tcp/udp): half the engine's handshake
	 * limit and half its UDP associations, so one user can take at most
	 * half of either, and a quarter of the buffer memory (512 x 512 KiB
	 * of 1 GiB).
	 */
	UP_USER_TCP_DEFAULT = TCP_MAX_PENDING_DEFAULT / 2,
	UP_USER_UDP_DEFAULT = UDP_MAX_ASSOC_DEFAULT / 2,
};

struct up_opts {
	char *proxy;		/* --proxy (in argv: its password is hidden there) */
	const char *proxy_file; /* --proxy-file */
	const char *tun;
	const char *state_dir;
	bool killswitch;
	bool no_offload; /* plain TUN: no virtio-net header (tun_open) */
	uint32_t mtu;
	struct fw_net dns[UP_MAX_DNS];
	size_t ndns;
	bool dns_given;
	struct fw_net exclude[UP_MAX_EXCLUDE];
	size_t nexclude;
	/* --exclude-uid, --exclude-cgroup, and what a local proxy needs (localproxy.h) */
	uint32_t xuid[UP_MAX_OWNERS + 1];
	size_t nxuid;
	struct fw_cgroup xcgroup[UP_MAX_OWNERS + 1];
	size_t nxcgroup;
	struct fw_peer xpeer[LP_MAX_PEERS];
	size_t nxpeer;
	const char *user;	     /* --user: the engine's, when run as root */
	uint32_t workers;	     /* --workers: TUN queues, one engine each */
	uint32_t user_tcp, user_udp; /* --max-conns-per-user, --max-udp-per-user; 0 = none */
	struct sandbox_cfg sandbox;
	uint32_t table, mark, prio; /* --table, --mark, --priority; 0 = pick a free one */
	enum { UP_FW_AUTO, UP_FW_NFT, UP_FW_IPT } firewall; /* --firewall */
	/* --udp; UNSET: block with the killswitch, else bypass */
	enum { UP_UDP_UNSET, UP_UDP_BLOCK, UP_UDP_BYPASS, UP_UDP_PROXY } udp;
};

static const char *const up_udp_names[] = { "", "block", "bypass", "proxy" };

static void verbosity(int c)
{
	if (c == 'v')
		log_level = log_level < LOG_LVL_INFO ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	else
		log_level = LOG_LVL_QUIET;
}

/* CAP_NET_ADMIN in the effective set; else one line with the setcap command. */
static bool have_net_admin(void)
{
	cap_flag_value_t v = CAP_CLEAR;
	char self[PATH_MAX];
	ssize_t n;
	cap_t caps;

	caps = cap_get_proc();
	if (caps) {
		cap_get_flag(caps, CAP_NET_ADMIN, CAP_EFFECTIVE, &v);
		cap_free(caps);
	}
	if (v == CAP_SET)
		return true;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		n = snprintf(self, sizeof(self), "%s", "/usr/local/bin/proxyvpn");
	self[n] = '\0';
	log_error("missing capability CAP_NET_ADMIN: run as root, or once: "
		  "sudo setcap cap_net_admin+ep %s",
		  self);
	return false;
}

/* "ADDR" or "ADDR/PREFIX", IPv4 or IPv6. */
static bool parse_net(const char *s, bool cidr, struct fw_net *n)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long p;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = cidr ? strchr(buf, '/') : NULL;
	if (slash)
		*slash++ = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->addr) == 1)
		n->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, n->addr) == 1)
		n->family = AF_INET6;
	else
		return false;
	n->prefix = n->family == AF_INET ? 32 : 128;
	if (!slash)
		return true;
	if (*slash < '0' || *slash > '9')
		return false;
	errno = 0;
	p = strtoul(slash, &end, 10);
	if (errno || *end || p > n->prefix)
		return false;
	n->prefix = (uint8_t)p;
	return true;
}

static bool is_loopback(const struct fw_net *n)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (n->family == AF_INET)
		return n->addr[0] == 127;
	return memcmp(n->addr, lo6, 16) == 0;
}

/*
 * Nameservers of a resolv.conf, loopback ones left out (loopback is always
 * allowed). Returns how many lines named a nameserver, -1 if unreadable.
 */
static int read_resolv(const char *path, struct up_opts *o)
{
	char line[512], kw[16], addr[64];
	struct fw_net n;
	int seen = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s %63s", kw, addr) != 2 || strcmp(kw, "nameserver") != 0)
			continue;
		seen++;
		/* a scoped IPv6 literal (fe80::1%eth0) is kept without its scope */
		addr[strcspn(addr, "%")] = '\0';
		if (!parse_net(addr, false, &n) || is_loopback(&n) || o->ndns >= UP_MAX_DNS)
			continue;
		o->dns[o->ndns++] = n;
	}
	fclose(f);
	return seen;
}

static void pick_dns(struct up_opts *o)
{
	const char *from = RESOLV_CONF;
	int seen;

	if (o->dns_given)
		return;
	seen = read_resolv(RESOLV_CONF, o);
	if (o->ndns == 0 && seen > 0) {
		/* only loopback stubs (systemd-resolved): allow its upstreams */
		from = RESOLV_SYSTEMD;
		read_resolv(RESOLV_SYSTEMD, o);
	}
	if (o->ndns == 0 && o->killswitch)
		log_warnx("no DNS resolver allowed through the killswitch (none in %s or %s; "
			  "see --allow-dns): name resolution will fail",
			  RESOLV_CONF, RESOLV_SYSTEMD);
	else
		log_debug("%zu DNS resolver(s) allowed, from %s", o->ndns, from);
}

static bool ipv6_enabled(void)
{
	FILE *f = fopen("/proc/sys/net/ipv6/conf/all/disable_ipv6", "re");
	int v = 1;

	if (!f)
		return false;
	if (fscanf(f, "%d", &v) != 1)
		v = 1;
	fclose(f);
	return v == 0;
}

/*
 * Strict reverse-path filtering (rp_filter 1) drops every reply the engine
 * writes to the TUN: the reverse lookup of the far address, made without our
 * mark, points at the uplink. The TUN is created after this, so `default`
 * is what it will get; the kernel uses the larger of `all` and the device's.
 * Refusing up front beats a host whose TCP silently hangs.
 */
static bool rp_filter_ok(void)
{
	static const char *const keys[] = { "all", "default" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char path[64];
		FILE *f;
		int v = 0;

		snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", keys[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fscanf(f, "%d", &v) != 1)
			v = 0;
		fclose(f);
		if (v == 1) {
			log_error(
				"up: strict reverse-path filtering (net.ipv4.conf.%s.rp_filter=1) "
				"would drop the replies from %s; use loose mode: "
				"sysctl -w net.ipv4.conf.all.rp_filter=2 "
				"net.ipv4.conf.default.rp_filter=2",
				keys[i], "the TUN");
			return false;
		}
	}
	return true;
}

/*
 * The engine's uid: as root, --user (default: the system user proxyvpn);
 * otherwise our own (we cannot switch), so --user is refused, and so is
 * nobody: the engine would run as nobody, whom every other process running
 * as nobody may stop (SIGSTOP), and with it the host's TCP.
 */
static bool engine_user(struct up_opts *o)
{
	if (geteuid() != 0) {
		if (o->user) {
			log_error("up: --user needs root (the engine already runs as uid %u)",
				  (unsigned int)geteuid());
			return false;
		}
		if (sandbox_uid_is_nobody(getuid())) {
			log_error(
				"up: the engine would run as nobody (uid %u), whose other processes "
				"could stop it and hang the host's TCP: run up as another user",
				(unsigned int)getuid());
			return false;
		}
		return true;
	}
	o->sandbox.set_ids = true;
	return sandbox_user(o->user, &o->sandbox.uid, &o->sandbox.gid) == 0;
}

/* ---- the state record ---- */

static void state_fill(struct state *s, const char *tun, int ifindex, const struct route_cfg *rc,
		       bool killswitch, const struct sockaddr_storage *pa)
{
	memset(s, 0, sizeof(*s));
	s->pid = getpid();
	s->start = (int64_t)time(NULL);
	snprintf(s->tun, sizeof(s->tun), "%s", tun);
	s->ifindex = (uint32_t)ifindex;
	s->table = rc->table;
	s->fwmark = rc->mark;
	s->priority = rc->prio;
	s->catch_table = rc->catch_table;
	s->catch_priority = rc->catch_prio;
	s->ipv6 = rc->ipv6;
	s->killswitch = killswitch;
	s->fw = STATE_FW_NFTABLES;
	snprintf(s->fw_table, sizeof(s->fw_table), "%s", FW_TABLE);
	snprintf(s->fw_chain, sizeof(s->fw_chain), "%s", "mark_tcp");
	if (pa->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)pa;

		s->proxy.family = AF_INET;
		memcpy(s->proxy.addr, &a->sin_addr, 4);
		s->proxy.port = ntohs(a->sin_port);
	} else {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)pa;

		s->proxy.family = AF_INET6;
		memcpy(s->proxy.addr, &a->sin6_addr, 16);
		s->proxy.port = ntohs(a->sin6_port);
	}
}

static int obj_add(struct state *s, enum state_kind kind, const char *a0, const char *a1,
		   const char *a2, const char *a3)
{
	const char *args[STATE_OBJ_ARGS] = { a0, a1, a2, a3 };
	unsigned int n = 0;

	while (n < STATE_OBJ_ARGS && args[n])
		n++;
	return state_obj_add(s, kind, n, args);
}

static int record_routes(struct state *s, const struct route_cfg *rc)
{
	char table[16], rule[48], prio[16], ctable[16], cprio[16], crule[32];
	const char *fam[2] = { "4", "6" };
	int i, ret = 0;

	snprintf(table, sizeof(table), "%u", rc->table);
	snprintf(prio, sizeof(prio), "%u", rc->prio);
	snprintf(rule, sizeof(rule), "fwmark=0x%x/0xffffffff", rc->mark);
	snprintf(ctable, sizeof(ctable), "%u", rc->catch_table);
	snprintf(cprio, sizeof(cprio), "%u", rc->catch_prio);
	snprintf(crule, sizeof(crule), "lookup=%u", rc->catch_table);
	for (i = 0; i < (rc->ipv6 ? 2 : 1) && ret == 0; i++) {
		ret = obj_add(s, STATE_OBJ_ROUTE, fam[i], table, "default", "unreachable");
		if (!ret)
			ret = obj_add(s, STATE_OBJ_ROUTE, fam[i], table, "default", "local");
		if (!ret)
			ret = obj_add(s, STATE_OBJ_ROUTE, fam[i], table, "default", "dev");
		if (!ret)
			ret = obj_add(s, STATE_OBJ_RULE, fam[i], prio, rule, NULL);
		if (!ret)
			ret = obj_add(s, STATE_OBJ_ROUTE, fam[i], ctable, "default", "unreachable");
		if (!ret)
			ret = obj_add(s, STATE_OBJ_ROUTE, fam[i], ctable, "default", "dev");
		if (!ret)
			ret = obj_add(s, STATE_OBJ_RULE, fam[i], cprio, crule, NULL);
	}
	return ret;
}

static bool save(int dirfd, const struct state *s)
{
	const char *why = "";
	int ret = state_write(dirfd, s, &why);

	if (ret < 0) {
		log_error("up: writing the state file: %s: %s", why, strerror(-ret));
		return false;
	}
	return true;
}

static bool state_has(const struct state *s, enum state_kind kind)
{
	unsigned int i;

	for (i = 0; i < s->nobj; i++)
		if (s->obj[i].kind == kind)
			return true;
	return false;
}

static bool link_exists(const char *name)
{
	struct nl *nl = nl_open();
	int ret;

	if (!nl)
		return false;
	ret = nl_link_index(nl, name);
	nl_close(nl);
	return ret > 0;
}

/* Our iptables chains removed, logged either way. 0 or -errno. */
static int ipt_down(void)
{
	char err[256];
	int ret = fw_ipt_remove(err, sizeof(err));

	if (ret < 0)
		log_error("removing our iptables chains: %s", err);
	else
		log_info("removed our iptables chains (PROXYVPN-*)");
	return ret;
}

/*
 * Undo a dead run from its record: routes and rules, then its iptables
 * chains (its nftables table: nft_down, by the owner it names). Its TUN was not persistent: it went with the
 * process; a link of that name still present is someone else's and is left
 * alone. Returns 0 or the first -errno.
 */
static int undo_record(const struct state *s)
{
	struct route_cfg rc = { .ifindex = 0,
				.table = s->table,
				.mark = s->fwmark,
				.prio = s->priority,
				.catch_table = s->catch_table,
				.catch_prio = s->catch_priority,
				.ipv6 = s->ipv6 };
	char err[256];
	int ret, first = 0;

	if (state_has(s, STATE_OBJ_ROUTE) || state_has(s, STATE_OBJ_RULE)) {
		ret = route_remove(&rc, err, sizeof(err));
		if (ret < 0) {
			log_error("removing the routes of pid %d: %s", (int)s->pid, err);
			first = ret;
		} else {
			log_info("removed tables %u and %u, the fwmark 0x%x rule (priority %u) "
				 "and the catch-all rule (priority %u)",
				 s->table, s->catch_table, s->fwmark, s->priority,
				 s->catch_priority);
		}
	}
	if (state_has(s, STATE_OBJ_IPT_CHAIN)) {
		ret = ipt_down();
		if (ret < 0 && !first)
			first = ret;
	}
	if (state_has(s, STATE_OBJ_LINK) && link_exists(s->tun))
		log_info("a link named %s exists: not ours any more (our TUN goes with its "
			 "process), left alone",
			 s->tun);
	return first;
}

/* No usable record: remove what carries our tags (rules, tables, iptables chains). */
static int undo_by_tag(bool *found)
{
	struct route_cfg rc;
	char err[256];
	int i, ret, first = 0;

	for (i = 0; i < UP_FIND_MAX; i++) {
		memset(&rc, 0, sizeof(rc));
		ret = route_find_ours(&rc);
		if (ret <= 0) {
			if (ret < 0 && !first)
				first = ret;
			break;
		}
		*found = true;
		rc.ifindex = 0;
		ret = route_remove(&rc, err, sizeof(err));
		if (ret < 0) {
			log_error("removing our routes (table %u, %u): %s", rc.table,
				  rc.catch_table, err);
			if (!first)
				first = ret;
			break;
		}
		if (rc.table)
			log_info("removed table %u and the fwmark 0x%x rule (priority %u)",
				 rc.table, rc.mark, rc.prio);
		if (rc.catch_table)
			log_info("removed table %u and the catch-all rule (priority %u)",
				 rc.catch_table, rc.catch_prio);
	}
	/* the iptables fallback is root only: so is finding its leftovers */
	if (fw_ipt_present() == 1) {
		*found = true;
		ret = ipt_down();
		if (ret < 0 && !first)
			first = ret;
	}
	return first;
}

/*
 * A dead up's nftables table, by the comment it had when we looked (its
 * owner, or the bare tag of old runs): if it changed since, it is not
 * removed. 0 or -errno.
 */
static int nft_down(const struct up_owner *own, bool *found)
{
	char err[256];
	int ret;

	if (own->host.nft == -EEXIST)
		log_info("nftables table inet %s is not ours: left alone", FW_TABLE);
	if (own->host.nft != 1)
		return 0;
	*found = true;
	ret = fw_remove(own->host.comment, err, sizeof(err));
	if (ret < 0)
		log_error("removing nftables table inet %s: %s", FW_TABLE, err);
	else
		log_info("removed nftables table inet %s (\"%s\")", FW_TABLE, own->host.comment);
	return ret;
}

/*
 * With the lock held and the host's owner checked (up_owner_check): undo
 * what the state file (or, without a usable one, our tags) says is
 * installed, then the dead owner's table, and remove the file. *found
 * tells whether anything was there. A caller who may not remove objects
 * no owner record names (up_owner_may_clean) gets -EPERM if there are
 * any, and has only its state file removed otherwise. 0 or -errno.
 */
static int cleanup_dead(int dirfd, bool *found, const struct up_owner *own)
{
	struct route_cfg rc = { 0 };
	struct state s;
	const char *why = "";
	int ret, nret;

	*found = false;
	ret = state_read(dirfd, &s, &why);
	if (!up_owner_may_clean(own)) {
		if (route_find_ours(&rc) == 1) {
			log_error("the host holds routes of a proxyvpn up (table %u) that no owner "
				  "record names: only root may remove them (proxyvpn down)",
				  rc.table ? rc.table : rc.catch_table);
			return -EPERM;
		}
		*found = ret != -ENOENT;
		state_remove(dirfd);
		ctl_unlink(dirfd);
		return 0;
	}
	if (ret == 0) {
		*found = true;
		log_info("cleaning up after pid %d (tun %s, table %u)", (int)s.pid, s.tun, s.table);
		ret = undo_record(&s);
	} else {
		if (ret != -ENOENT) {
			*found = true;
			log_warnx("state file unusable (%s): removing what carries our tags", why);
		}
		ret = undo_by_tag(found);
	}
	nret = nft_down(own, found);
	if (!ret)
		ret = nret;
	if (ret == 0)
		state_remove(dirfd);
	ctl_unlink(dirfd);
	return ret;
}

/* ---- the state dir and its lock ---- */

static int open_dir(const char *given)
{
	char path[PATH_MAX];
	const char *why = "";
	int ret;

	if (!given) {
		ret = state_dir(path, sizeof(path), &why);
		if (ret < 0) {
			log_error("state directory: %s: %s", why, strerror(-ret));
			return ret;
		}
		given = path;
	}
	ret = state_dir_open(given, &why);
	if (ret < 0)
		log_error("state directory `%s': %s: %s", given, why, strerror(-ret));
	return ret;
}

/* The lock fd, or -EBUSY (holder named) or another -errno (logged). */
static int take_lock(int dirfd, const char *cmd)
{
	pid_t holder = 0;
	int fd = state_lock(dirfd, &holder);

	if (fd == -EBUSY)
		log_error("%s: proxyvpn up is running (pid %d)", cmd, (int)holder);
	else if (fd < 0)
		log_error("%s: cannot take the lock in the state directory: %s", cmd,
			  strerror(-fd));
	return fd;
}

/* ---- up ---- */

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
};

/* A uid: a number (not (uid_t)-1) or a user name. */
static bool parse_uid(const char *s, uint32_t *uid)
{
	const struct passwd *pw;

	if (cli_u32(s, false, 0, UINT32_MAX - 1, uid) == 0)
		return true;
	pw = getpwnam(s);
	if (!pw)
		return false;
	*uid = pw->pw_uid;
	return true;
}

/* -v, -q, -h and the errors all three commands share: 0 goes on, 1 after --help, -1 bad. */
static int common_opt(int c, char **argv)
{
	switch (c) {
	case 'v':
	case 'q':
		verbosity(c);
		return 0;
	case 'h':
		usage(stdout);
		return 1;
	case ':':
		log_error("option `%s' needs a value", argv[optind - 1]);
		return -1;
	default:
		log_error("unknown option `%s' (see proxyvpn --help)", argv[optind - 1]);
		return -1;
	}
}

static int parse_up(int argc, char **argv, struct up_opts *o, struct engine_cfg *ecfg)
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
		{ "udp", required_argument, NULL, OPT_UDP },
		{ "max-conns-per-user", required_argument, NULL, OPT_USER_TCP },
		{ "max-udp-per-user", required_argument, NULL, OPT_USER_UDP },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	unsigned long n;
	char *end;
	int c, ret;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:m:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->proxy = optarg;
			break;
		case OPT_PROXY_FILE:
			o->proxy_file = optarg;
			break;
		case OPT_KILLSWITCH:
		case OPT_NO_KILLSWITCH:
			o->killswitch = c == OPT_KILLSWITCH;
			break;
		case OPT_ALLOW_DNS:
			if (o->ndns >= UP_MAX_DNS || !parse_net(optarg, false, &o->dns[o->ndns])) {
				log_error("--allow-dns must be an IP address (at most %d): `%s'",
					  UP_MAX_DNS, optarg);
				return -1;
			}
			o->ndns++;
			o->dns_given = true;
			break;
		case OPT_EXCLUDE:
			if (o->nexclude >= UP_MAX_EXCLUDE ||
			    !parse_net(optarg, true, &o->exclude[o->nexclude])) {
				log_error("--exclude must be ADDR[/PREFIX] (at most %d): `%s'",
					  UP_MAX_EXCLUDE, optarg);
				return -1;
			}
			o->nexclude++;
			break;
		case OPT_EXCLUDE_UID:
			if (o->nxuid >= UP_MAX_OWNERS || !parse_uid(optarg, &o->xuid[o->nxuid])) {
				log_error(
					"--exclude-uid must be a user name or number (at most %d): "
					"`%s'",
					UP_MAX_OWNERS, optarg);
				return -1;
			}
			if (!localproxy_system_uid(o->xuid[o->nxuid]))
				log_warnx(
					"--exclude-uid %u: every program of that user goes around "
					"the proxy, not only a proxy it runs",
					o->xuid[o->nxuid]);
			o->nxuid++;
			break;
		case OPT_EXCLUDE_CGROUP:
			if (o->nxcgroup >= UP_MAX_OWNERS) {
				log_error("--exclude-cgroup: at most %d", UP_MAX_OWNERS);
				return -1;
			}
			if (localproxy_cgroup(optarg, &o->xcgroup[o->nxcgroup], &why) < 0) {
				log_error("--exclude-cgroup `%s': %s", optarg, why);
				return -1;
			}
			o->nxcgroup++;
			break;
		case OPT_TUN:
			if (strlen(optarg) == 0 || strlen(optarg) >= IFNAMSIZ ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789_.-") != strlen(optarg) ||
			    !strcmp(optarg, ".") || !strcmp(optarg, "..")) {
				log_error("--tun must be 1-15 of [A-Za-z0-9_.-]: `%s'", optarg);
				return -1;
			}
			o->tun = optarg;
			break;
		case 'm':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || errno || *end || n < 1280 ||
			    n > 65535) {
				log_error("--mtu must be 1280-65535: `%s'", optarg);
				return -1;
			}
			o->mtu = (uint32_t)n;
			break;
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_WORKERS:
			if (cli_u32(optarg, false, 1, UP_MAX_QUEUES, &o->workers) < 0) {
				log_error("--workers must be 1-%d: `%s'", UP_MAX_QUEUES, optarg);
				return -1;
			}
			break;
		case OPT_DNS:
		case OPT_DNS_SERVER:
		case OPT_FAKE_NET4:
		case OPT_FAKE_NET6:
		case OPT_FAKE_MAX:
			if (!dns_opt_parse(c, optarg, ecfg))
				return -1;
			break;
		case OPT_TABLE:
			if (cli_u32(optarg, false, 1, UINT32_MAX, &o->table) < 0 ||
			    !route_table_ok(o->table)) {
				log_error("--table must be 1-4294967295 and not 252-255 (compat, "
					  "default, main, local): `%s'",
					  optarg);
				return -1;
			}
			break;
		case OPT_MARK:
			if (cli_u32(optarg, true, 1, UINT32_MAX, &o->mark) < 0) {
				log_error("--mark must be 1-4294967295 (decimal or 0x hex): `%s'",
					  optarg);
				return -1;
			}
			break;
		case OPT_FIREWALL:
			if (!strcmp(optarg, "auto")) {
				o->firewall = UP_FW_AUTO;
			} else if (!strcmp(optarg, "nft") || !strcmp(optarg, "nftables")) {
				o->firewall = UP_FW_NFT;
			} else if (!strcmp(optarg, "iptables")) {
				o->firewall = UP_FW_IPT;
			} else {
				log_error("--firewall must be auto, nft or iptables: `%s'", optarg);
				return -1;
			}
			break;
		case OPT_PRIORITY:
			if (cli_u32(optarg, false, 1, UINT32_MAX, &o->prio) < 0 ||
			    !route_prio_ok(o->prio)) {
				log_error(
					"--priority must be 1-%u (ahead of the main table's rule): "
					"`%s'",
					ROUTE_PRIO_MAX, optarg);
				return -1;
			}
			break;
		case OPT_NO_OFFLOAD:
			o->no_offload = true;
			break;
		case OPT_USER_TCP:
		case OPT_USER_UDP:
			if (cli_u32(optarg, false, 0, 1048576,
				    c == OPT_USER_TCP ? &o->user_tcp : &o->user_udp) < 0) {
				log_error("%s must be 0 (no cap) to 1048576: `%s'",
					  argv[optind - 1], optarg);
				return -1;
			}
			break;
		case OPT_UDP:
			for (n = UP_UDP_BLOCK; n <= UP_UDP_PROXY; n++)
				if (!strcmp(optarg, up_udp_names[n]))
					break;
			if (n > UP_UDP_PROXY) {
				log_error("--udp must be block, bypass or proxy: `%s'", optarg);
				return -1;
			}
			o->udp = (int)n;
			break;
		default:
			ret = common_opt(c, argv);
			if (ret)
				return ret;
			break;
		}
	}
	if (optind < argc) {
		log_error("up: unexpected argument `%s'", argv[optind]);
		return -1;
	}
	if (!dns_opt_finish(ecfg, UP_TUN_ADDR4, UP_TUN_ADDR6))
		return -1;
	if (o->firewall == UP_FW_IPT && ecfg->dns != ENGINE_DNS_BYPASS) {
		log_error("up: --dns virtual|tcp needs nftables: the iptables fallback cannot "
			  "steer DNS");
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
	return 0;
}

/* Closes the queues still open, fds[0..n). */
static void tun_close(int *fds, int n)
{
	while (n-- > 0) {
		if (fds[n] >= 0)
			close(fds[n]);
		fds[n] = -1;
	}
}

/*
 * The TUN's o->workers queues (a new interface, named after its owner:
 * up_owner_tun), addressed and up; fds non-blocking. -1 after logging.
 */
static int tun_setup(const struct up_opts *o, const struct up_owner *own, bool ipv6,
		     char name[IFNAMSIZ], int *ifindex, bool *vnet, int *fds)
{
	int nq = (int)o->workers, i, ret;
	struct in6_addr a6;
	struct in_addr a4;
	struct nl *nl;

	if (up_owner_tun(own, o->tun, !o->no_offload, vnet, fds, nq, name, ifindex) < 0)
		return -1;
	nl = nl_open();
	if (!nl) {
		log_error("up: netlink socket: %s", strerror(errno));
		tun_close(fds, nq);
		return -1;
	}
	inet_pton(AF_INET, UP_TUN_ADDR4, &a4);
	inet_pton(AF_INET6, UP_TUN_ADDR6, &a6);
	ret = 0;
	if (ipv6)
		ret = nl_link_set_no_linklocal(nl, *ifindex);
	if (ret >= 0)
		ret = nl_addr_add(nl, *ifindex, AF_INET, &a4, 32);
	if (ret >= 0 && ipv6)
		ret = nl_addr_add(nl, *ifindex, AF_INET6, &a6, 128);
	if (ret >= 0)
		ret = nl_link_set_up(nl, *ifindex, (int)o->mtu);
	if (ret >= 0)
		ret = nl_link_set_txqlen(nl, *ifindex, NL_TUN_TXQLEN);
	for (i = 0; i < nq && ret >= 0; i++)
		if (fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK) < 0)
			ret = -errno;
	nl_close(nl);
	if (ret < 0) {
		log_error("up: configuring TUN %s: %s", name, strerror(-ret));
		tun_close(fds, nq);
		return -1;
	}
	return 0;
}

static void fw_cfg_fill(struct fw_cfg *fc, const struct up_opts *o, const char *tun, uint32_t mark,
			const struct state *s, struct fw_net *proxy)
{
	memset(proxy, 0, sizeof(*proxy));
	proxy->family = s->proxy.family;
	memcpy(proxy->addr, s->proxy.addr, 16);
	proxy->prefix = s->proxy.family == AF_INET ? 32 : 128;
	*fc = (struct fw_cfg){
		.tun = tun,
		.mark = mark,
		.killswitch = o->killswitch,
		.proxy = proxy,
		.nproxy = 1,
		.proxy_port = s->proxy.port,
		.exclude = o->exclude,
		.nexclude = o->nexclude,
		.dns = o->dns,
		.ndns = o->ndns,
		.udp_mark = o->udp == UP_UDP_PROXY || (o->udp == UP_UDP_BLOCK && !o->killswitch),
		.udp_bypass = o->udp == UP_UDP_BYPASS,
		.exclude_uid = o->xuid,
		.nexclude_uid = o->nxuid,
		.exclude_cgroup = o->xcgroup,
		.nexclude_cgroup = o->nxcgroup,
		.exclude_peer = o->xpeer,
		.nexclude_peer = o->nxpeer,
		.user_tcp = o->user_tcp,
		.user_udp = o->user_udp,
	};
}

/*
 * A proxy on this host: keep its own upstream traffic out of the tunnel by
 * what localproxy.c finds safe, saying so in one line; refuse when nothing
 * is and the user named no exclusion. 0, or -1 after logging.
 */
static int local_proxy(struct up_opts *o, const struct sockaddr_storage *pa)
{
	bool named = o->nxuid || o->nxcgroup || o->nexclude;
	char line[1536], where[INET6_ADDRSTRLEN + 8], a[INET6_ADDRSTRLEN];
	struct localproxy lp;
	size_t i;
	int ret;

	ret = localproxy_detect((const struct sockaddr *)pa, &lp);
	if (ret < 0) {
		log_warnx("up: cannot read this host's sockets (sock_diag: %s): a proxy running "
			  "here is not detected; keep its own connections out of the tunnel with "
			  "--exclude-uid or --exclude-cgroup",
			  strerror(-ret));
		return 0;
	}
	if (lp.how == LP_REMOTE)
		return 0;
	if (pa->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)pa)->sin_addr, a, sizeof(a));
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)pa)->sin6_addr, a, sizeof(a));
	snprintf(where, sizeof(where), pa->ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
		 ntohs(((const struct sockaddr_in *)pa)->sin_port));
	localproxy_describe(&lp, where, line, sizeof(line));
	switch (lp.how) {
	case LP_UID:
		for (i = 0; i < o->nxuid && o->xuid[i] != lp.uid; i++)
			;
		if (i == o->nxuid)
			o->xuid[o->nxuid++] = lp.uid;
		break;
	case LP_CGROUP:
		o->xcgroup[o->nxcgroup++] = lp.fw_cgroup;
		break;
	case LP_PEERS:
		memcpy(o->xpeer, lp.peer, lp.npeer * sizeof(lp.peer[0]));
		o->nxpeer = lp.npeer;
		break;
	case LP_UNSAFE:
		if (!named) {
			log_error("up: %s", line);
			return -1;
		}
		log_warnx("up: the proxy %s runs on this host as uid %u: its own connections are "
			  "kept out of the tunnel only by your --exclude options",
			  where, lp.uid);
		return 0;
	case LP_REMOTE:
	case LP_NOT_LISTENING:
		break;
	}
	log_warnx("up: %s", line);
	return 0;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The uid that ran `up` (read before anything could change it): ctl answers it and root. */
static uid_t up_uid;

/* Our firewall: the iptables chains, or the nftables table that names us. */
static int fw_down(enum state_fw fw, const struct up_owner *own, char *err, size_t errlen)
{
	return fw == STATE_FW_IPTABLES ? fw_ipt_remove(err, errlen)
				       : fw_remove(own->rec, err, errlen);
}

/* The iptables fallback's chains, recorded (4 or 6, table, chain). */
static int record_ipt(struct state *s, bool killswitch, bool ipv6)
{
	const char *fam[2] = { "4", "6" };
	int i, ret = 0;

	s->fw = STATE_FW_IPTABLES;
	snprintf(s->fw_table, sizeof(s->fw_table), "%s", "filter");
	snprintf(s->fw_chain, sizeof(s->fw_chain), "%s", "PROXYVPN");
	for (i = 0; i < (ipv6 ? 2 : 1) && ret == 0; i++) {
		ret = obj_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "filter", FW_IPT_CHAIN_FF, NULL);
		if (!ret)
			ret = obj_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "filter", FW_IPT_CHAIN_TUNG,
				      NULL);
		if (!ret)
			ret = obj_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "mangle", FW_IPT_CHAIN_GUARD,
				      NULL);
		if (!ret && killswitch)
			ret = obj_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "filter", FW_IPT_CHAIN_KS,
				      NULL);
		if (!ret)
			ret = obj_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "mangle", FW_IPT_CHAIN_MARK,
				      NULL);
	}
	return ret;
}

/*
 * The firewall step: nftables (libnftables), or the iptables fallback when
 * asked, or (auto) when nftables fails and we are root. Each backend is
 * recorded before it is applied. *on tells teardown what to remove. 0 or
 * -1 (logged).
 */
static int firewall_up(int dirfd, struct state *s, const struct up_opts *o, const struct fw_cfg *fc,
		       bool ipv6, enum state_fw *on)
{
	char err[256];
	int ret;

	if (o->firewall != UP_FW_IPT) {
		if (obj_add(s, STATE_OBJ_NFT_TABLE, "inet", FW_TABLE, NULL, NULL) < 0 ||
		    !save(dirfd, s))
			return -1;
		*on = STATE_FW_NFTABLES;
		ret = fw_apply(fc, err, sizeof(err));
		if (ret < 0 && ret != -EEXIST && (fc->user_tcp || fc->user_udp)) {
			/* a kernel without nft_connlimit: up without the caps beats no up */
			struct fw_cfg nocap = *fc;
			char err2[256];

			nocap.user_tcp = nocap.user_udp = 0;
			if (fw_apply(&nocap, err2, sizeof(err2)) == 0) {
				log_warnx("up: nftables refused the per-user caps (%s): running "
					  "without them",
					  err);
				return 0;
			}
		}
		if (ret == 0)
			return 0;
		if (ret == -EEXIST || ret == -EBUSY)
			*on = 0; /* a look-alike table, or another owner's: not ours to remove */
		if (ret == -EEXIST || ret == -EBUSY || o->firewall == UP_FW_NFT || geteuid() != 0 ||
		    fc->dns_steer) {
			log_error("up: firewall: %s%s", err,
				  o->firewall != UP_FW_AUTO || ret == -EEXIST ? ""
				  : fc->dns_steer ? " (the iptables fallback cannot steer DNS)"
						  : " (the iptables fallback needs root)");
			return -1;
		}
		/* the failed transaction left the table as it was: our claim, kept
		 * (up_owner_release removes it) */
		log_warnx("up: nftables failed (%s): using the iptables fallback", err);
		*on = 0;
		s->nobj--; /* the nft-table record, the last one */
	}
	if (record_ipt(s, o->killswitch, ipv6) < 0 || !save(dirfd, s))
		return -1;
	if (fc->user_tcp || (fc->user_udp && fc->udp_mark))
		log_warnx("up: iptables: no per-user caps (they need nftables' ct count)");
	*on = STATE_FW_IPTABLES;
	ret = fw_ipt_apply(fc, ipv6, err, sizeof(err));
	if (ret < 0) {
		log_error("up: firewall (iptables): %s", err);
		return -1;
	}
	return 0;
}

/*
 * Everything after the lock and the dead run's cleanup, from the claim of
 * the host on. Returns the exit status.
 */
static int up_install(int dirfd, struct up_opts *o, struct engine_cfg *ecfg, struct up_owner *own)
{
	struct route_cfg rc = { .table = o->table, .mark = o->mark, .prio = o->prio };
	const char *busy = "";
	struct state s;
	struct fw_cfg fc;
	struct fw_net proxy;
	char name[IFNAMSIZ], ifx[16], err[256];
	int tun_fds[UP_MAX_QUEUES], ctl_fd = -1, ifindex = 0, ret, status = EXIT_SETUP;
	enum state_fw fw_on = 0; /* the backend to undo, 0 = none */
	bool routes_on = false, left = false;

	/*
	 * First the claim: from here on no other up gets past its own (and
	 * no ids are picked twice). Not in the state file: the claim is a
	 * kernel object that names us, which is what a later up or down reads.
	 */
	status = up_owner_take(own);
	if (status)
		return status;
	status = EXIT_SETUP;
	rc.ipv6 = ipv6_enabled();
	ret = route_pick(&rc, &busy);
	if (ret == -EBUSY) {
		char v[16];

		if (!strcmp(busy, "fwmark"))
			snprintf(v, sizeof(v), "0x%x", o->mark);
		else
			snprintf(v, sizeof(v), "%u", !strcmp(busy, "table") ? o->table : o->prio);
		log_error("up: the %s you chose (%s) is already used by a route or rule that is "
			  "not ours: choose another, or leave the option out to get a free one",
			  busy, v);
		up_owner_release(own);
		return EXIT_SETUP;
	}
	if (ret < 0) {
		log_error("up: picking a routing table, fwmark and rule priority: %s",
			  strerror(-ret));
		up_owner_release(own);
		return EXIT_SETUP;
	}
	if (tun_setup(o, own, rc.ipv6, name, &ifindex, &ecfg->vnet, tun_fds) < 0) {
		up_owner_release(own);
		return EXIT_SETUP;
	}
	rc.ifindex = ifindex;
	state_fill(&s, name, ifindex, &rc, o->killswitch, &ecfg->proxy_addr);
	snprintf(ifx, sizeof(ifx), "%d", ifindex);
	if (obj_add(&s, STATE_OBJ_LINK, name, ifx, NULL, NULL) < 0 ||
	    obj_add(&s, STATE_OBJ_ADDR, ifx, UP_TUN_ADDR4 "/32", NULL, NULL) < 0 ||
	    (rc.ipv6 && obj_add(&s, STATE_OBJ_ADDR, ifx, UP_TUN_ADDR6 "/128", NULL, NULL) < 0)) {
		log_error("up: state record: too many objects");
		goto undo;
	}
	/* Recorded before each step: a SIGKILL anywhere leaves a record. */
	fw_cfg_fill(&fc, o, name, rc.mark, &s, &proxy);
	fc.owner = own->rec;
	/* --dns virtual|tcp: the host's DNS is steered to the engine's resolver. */
	fc.dns_steer = ecfg->dns != ENGINE_DNS_BYPASS;
	memcpy(fc.dns4, ecfg->resolver4, 4);
	memcpy(fc.dns6, ecfg->resolver6, 16);
	if (firewall_up(dirfd, &s, o, &fc, rc.ipv6, &fw_on) < 0)
		goto undo;
	if (record_routes(&s, &rc) < 0 || !save(dirfd, &s))
		goto undo;
	ret = route_install(&rc, err, sizeof(err));
	if (ret < 0) {
		log_error("up: %s", err);
		goto undo;
	}
	routes_on = true;
	log_info("up: %s (table %u, fwmark 0x%x, priority %u, catch-all table %u priority %u%s), "
		 "killswitch %s (%s), udp %s",
		 name, rc.table, rc.mark, rc.prio, rc.catch_table, rc.catch_prio,
		 rc.ipv6 ? ", IPv4 and IPv6" : ", IPv4 only", o->killswitch ? "on" : "off",
		 fw_on == STATE_FW_IPTABLES ? "iptables" : "nftables", up_udp_names[o->udp]);
	ctl_fd = ctl_listen(dirfd, err, sizeof(err));
	if (ctl_fd < 0) {
		log_error("up: %s", err);
		goto undo;
	}
	raise_nofile();
	ret = privsep_run(&(struct privsep_cfg){ .ecfg = ecfg,
						 .tun_fds = tun_fds,
						 .nqueues = (int)o->workers,
						 .ctl_fd = ctl_fd,
						 .ctl_uid = up_uid,
						 .tun_name = name,
						 .sandbox = o->sandbox });
	status = ret < 0 ? EXIT_SETUP : 0;
undo:
	if (ctl_fd >= 0)
		close(ctl_fd);
	ctl_unlink(dirfd);
	/* routes before the killswitch, then the TUN */
	if (routes_on && route_remove(&rc, err, sizeof(err)) < 0) {
		log_error("up: teardown: %s", err);
		left = true;
	}
	if (fw_on && fw_down(fw_on, own, err, sizeof(err)) < 0) {
		log_error("up: teardown: firewall: %s", err);
		left = true;
	}
	tun_close(tun_fds, (int)o->workers);
	/* the claim last: while it stands, no other up starts on our leftovers */
	if (!left)
		up_owner_release(own);
	/* keep the record if something could not be removed: `down` retries */
	if (left) {
		log_error("up: leftovers recorded in the state file: run proxyvpn down");
		return EXIT_SETUP;
	}
	state_remove(dirfd);
	return status;
}

int cmd_up(int argc, char **argv)
{
	struct up_opts o = { .tun = UP_TUN_DEFAULT,
			     .killswitch = true,
			     .mtu = 1500,
			     .workers = 1,
			     .user_tcp = UP_USER_TCP_DEFAULT,
			     .user_udp = UP_USER_UDP_DEFAULT };
	struct engine_cfg ecfg = { 0 };
	struct up_owner own;
	struct proxy_url url;
	sigset_t mask, oldmask;
	int dirfd, lockfd, ret, status;
	bool found;

	up_uid = getuid();
	dnspool_cfg_default(&ecfg.pool); /* --dns bypass (the default) leaves it unused */
	ret = parse_up(argc, argv, &o, &ecfg);
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (access_check("up") < 0)
		return EXIT_ENV;
	if (proxy_opt_load(o.proxy_file, o.proxy, &url) < 0)
		return EXIT_USAGE;
	if (o.udp == UP_UDP_PROXY && url.type != PROXY_SOCKS5) {
		log_error("up: --udp proxy needs a socks5:// proxy (%s:// carries no UDP)",
			  url_scheme_name(url.type));
		url_clear(&url);
		return EXIT_USAGE;
	}
	if (!have_net_admin() || !rp_filter_ok() || !engine_user(&o)) {
		url_clear(&url);
		return EXIT_ENV;
	}
	/* Blocked from here on: a signal during setup still tears down. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	signal(SIGPIPE, SIG_IGN);
	status = EXIT_ENV;
	dirfd = open_dir(o.state_dir);
	if (dirfd < 0)
		goto out;
	lockfd = take_lock(dirfd, "up");
	if (lockfd < 0)
		goto out_dir;
	status = up_owner_check("up", &own);
	if (status)
		goto out_lock;
	status = EXIT_SETUP;
	if (cleanup_dead(dirfd, &found, &own) < 0) {
		log_error("up: a previous run's leftovers could not be removed (see above)");
		goto out_lock;
	}
	ret = url_resolve(&url, &ecfg.proxy_addr, &ecfg.proxy_addrlen);
	if (ret < 0) {
		log_error("up: cannot resolve proxy host `%s': %s", url.host,
			  ret == -EAGAIN ? "temporary failure in name resolution" : "no such host");
		goto out_lock;
	}
	if (local_proxy(&o, &ecfg.proxy_addr) < 0)
		goto out_lock;
	ecfg.proxy = &url;
	ecfg.mtu = o.mtu;
	pick_dns(&o);
	status = up_install(dirfd, &o, &ecfg, &own);
out_lock:
	close(lockfd);
out_dir:
	close(dirfd);
out:
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	url_clear(&url);
	return status;
}

/* ---- down and status ---- */

/* down and status; json is NULL for down (no --json there). */
static int parse_small(int argc, char **argv, const char **dir, bool *json, const char *cmd)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STATE_DIR:
			*dir = optarg;
			break;
		case OPT_JSON:
			if (json) {
				*json = true;
				break;
			}
			/* fall through */
		default:
			ret = common_opt(c, argv);
			if (ret)
				return ret;
			break;
		}
	}
	if (optind < argc) {
		log_error("%s: unexpected argument `%s'", cmd, argv[optind]);
		return -1;
	}
	return 0;
}

int cmd_down(int argc, char **argv)
{
	struct up_owner own;
	const char *dir = NULL;
	int dirfd, lockfd, ret;
	bool found;

	ret = parse_small(argc, argv, &dir, NULL, "down");
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (access_check("down") < 0)
		return EXIT_ENV;
	if (!have_net_admin())
		return EXIT_ENV;
	dirfd = open_dir(dir);
	if (dirfd < 0)
		return EXIT_ENV;
	lockfd = take_lock(dirfd, "down");
	if (lockfd < 0) {
		close(dirfd);
		return EXIT_ENV;
	}
	ret = up_owner_check("down", &own);
	if (ret) {
		close(lockfd);
		close(dirfd);
		return ret;
	}
	ret = cleanup_dead(dirfd, &found, &own);
	if (ret == 0 && !found)
		log_info("down: nothing is up");
	close(lockfd);
	close(dirfd);
	return ret < 0 ? EXIT_SETUP : 0;
}

static void print_state(const struct state *s)
{
	char addr[INET6_ADDRSTRLEN];
	unsigned int i, j;

	inet_ntop(s->proxy.family, s->proxy.addr, addr, sizeof(addr));
	printf("tun: %s (ifindex %u)\n", s->tun, s->ifindex);
	printf("proxy: %s%s%s:%u\n", s->proxy.family == AF_INET6 ? "[" : "", addr,
	       s->proxy.family == AF_INET6 ? "]" : "", s->proxy.port);
	printf("killswitch: %s\n", s->killswitch ? "on" : "off");
	printf("routing: table %u, fwmark 0x%x, priority %u; catch-all table %u, priority %u; "
	       "%s\n",
	       s->table, s->fwmark, s->priority, s->catch_table, s->catch_priority,
	       s->ipv6 ? "IPv4 and IPv6" : "IPv4 only");
	if (s->fw == STATE_FW_IPTABLES)
		printf("firewall: iptables chains %s-* (tagged \"%s\")\n", s->fw_chain, FW_TAG);
	else
		printf("firewall: nftables table inet %s\n", s->fw_table);
	printf("started: %lld (unix time)\n", (long long)s->start);
	for (i = 0; i < s->nobj; i++) {
		printf("object: %s", state_kind_name(s->obj[i].kind));
		for (j = 0; j < s->obj[i].nargs; j++)
			printf(" %s", s->obj[i].arg[j]);
		printf("\n");
	}
}

enum { STATUS_CTL_TIMEOUT_MS = 2000 };

static void proxy_str(const struct state *s, char *out, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	inet_ntop(s->proxy.family, s->proxy.addr, addr, sizeof(addr));
	snprintf(out, len, s->proxy.family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr, s->proxy.port);
}

static void state_json(struct jbuf *b, const struct state *s)
{
	char proxy[INET6_ADDRSTRLEN + 8];
	unsigned int i, j;

	proxy_str(s, proxy, sizeof(proxy));
	jb_raw(b, "{");
	jb_kv_u64(b, "pid", (uint64_t)s->pid);
	jb_printf(b, ",\"started\":%lld,", (long long)s->start);
	jb_kv_str(b, "tun", s->tun);
	jb_printf(b, ",\"ifindex\":%u,", s->ifindex);
	jb_kv_str(b, "proxy", proxy);
	jb_raw(b, ",");
	jb_kv_bool(b, "killswitch", s->killswitch);
	jb_printf(b, ",\"table\":%u,\"fwmark\":%u,\"priority\":%u,", s->table, s->fwmark,
		  s->priority);
	jb_printf(b, "\"catch_table\":%u,\"catch_priority\":%u,", s->catch_table,
		  s->catch_priority);
	jb_kv_bool(b, "ipv6", s->ipv6);
	jb_raw(b, ",");
	jb_kv_str(b, "firewall", s->fw == STATE_FW_IPTABLES ? "iptables" : "nftables");
	jb_raw(b, ",");
	jb_kv_str(b, "firewall_table", s->fw_table);
	jb_raw(b, ",\"objects\":[");
	for (i = 0; i < s->nobj; i++) {
		jb_raw(b, i ? ",[" : "[");
		jb_str(b, state_kind_name(s->obj[i].kind), strlen(state_kind_name(s->obj[i].kind)));
		for (j = 0; j < s->obj[i].nargs; j++) {
			jb_raw(b, ",");
			jb_str(b, s->obj[i].arg[j], strlen(s->obj[i].arg[j]));
		}
		jb_raw(b, "]");
	}
	jb_raw(b, "]}");
}

/* The live part, from the control socket; one line on failure. */
static void status_live(int dirfd, bool json, struct jbuf *b)
{
	char *reply = malloc(CTL_REPLY_MAX + 1);
	ssize_t n = -ENOMEM;

	if (reply)
		n = ctl_query(dirfd, json ? "status\n" : "status text\n", reply, CTL_REPLY_MAX + 1,
			      STATUS_CTL_TIMEOUT_MS);
	while (n > 0 && reply[n - 1] == '\n')
		reply[--n] = '\0';
	if (!json) {
		if (n > 0)
			printf("%s\n", reply);
		else
			printf("live: control socket: %s\n", n == -ECONNRESET
								     ? "closed without a "
								       "reply (not allowed?)"
								     : strerror((int)-n));
	} else if (n > 0 && reply[0] == '{' && reply[n - 1] == '}') {
		jb_raw(b, ",\"live\":");
		jb_raw(b, reply);
	} else {
		jb_raw(b, ",\"live\":null,");
		jb_kv_str(b, "live_error",
			  n > 0		     ? "malformed reply"
			  : n == -ECONNRESET ? "closed without a reply (not allowed?)"
					     : strerror((int)-n));
	}
	free(reply);
}

int cmd_status(int argc, char **argv)
{
	const char *dir = NULL, *why = "";
	struct state s;
	struct jbuf b;
	char *out = NULL;
	pid_t holder = 0;
	bool json = false;
	int dirfd, lockfd, ret, status;

	ret = parse_small(argc, argv, &dir, &json, "status");
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	dirfd = open_dir(dir);
	if (dirfd < 0)
		return EXIT_ENV;
	lockfd = state_lock(dirfd, &holder);
	if (lockfd >= 0)
		close(lockfd);
	else if (lockfd != -EBUSY) {
		log_error("status: cannot probe the lock: %s", strerror(-lockfd));
		close(dirfd);
		return EXIT_ENV;
	}
	if (json) {
		out = malloc(2 * CTL_REPLY_MAX);
		if (!out) {
			log_error("status: %s", strerror(ENOMEM));
			close(dirfd);
			return EXIT_ENV;
		}
		jb_init(&b, out, 2 * CTL_REPLY_MAX);
	}
	ret = state_read(dirfd, &s, &why);
	status = lockfd == -EBUSY ? EXIT_OK_UP : EXIT_NOT_UP;
	if (json) {
		jb_raw(&b, "{");
		jb_kv_bool(&b, "running", lockfd == -EBUSY);
		if (lockfd == -EBUSY)
			jb_printf(&b, ",\"pid\":%d", (int)holder);
		jb_raw(&b, ",");
		jb_kv_bool(&b, "leftovers", ret == 0 && lockfd != -EBUSY);
		jb_raw(&b, ",\"installed\":");
		if (ret == 0) {
			state_json(&b, &s);
		} else {
			jb_raw(&b, "null");
			if (ret != -ENOENT) {
				jb_raw(&b, ",");
				jb_kv_str(&b, "state_error", why);
			}
		}
		if (lockfd == -EBUSY)
			status_live(dirfd, true, &b);
		jb_raw(&b, "}\n");
		if (b.full)
			log_error("status: the JSON reply does not fit in %d bytes",
				  2 * CTL_REPLY_MAX);
		else
			fputs(out, stdout);
		free(out);
		close(dirfd);
		return b.full ? EXIT_ENV : status;
	}
	if (lockfd == -EBUSY)
		printf("up: running, pid %d\n", (int)holder);
	else
		printf("up: not running\n");
	if (ret == 0) {
		if (lockfd != -EBUSY)
			printf("leftovers of dead pid %d (remove them with: proxyvpn down)\n",
			       (int)s.pid);
		print_state(&s);
	} else if (ret != -ENOENT) {
		printf("state file unusable: %s\n", why);
	}
	if (lockfd == -EBUSY)
		status_live(dirfd, false, NULL);
	close(dirfd);
	return status;
}
