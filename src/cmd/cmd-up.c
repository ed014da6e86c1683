// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host mode: `proxyvpn up` sends the whole host's TCP through the proxy
 * (TUN + policy routing + nftables killswitch) until SIGINT/SIGTERM/SIGHUP;
 * `proxyvpn down` removes what a dead `up` left (`status`: cmd-status.c,
 * the options: up-opts.c). Every object is recorded in the state file
 * before it is created, so a SIGKILL at any point leaves a record `down`
 * can undo.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "cli.h"
#include "ctl-sock.h"
#include "engine.h"
#include "fd.h"
#include "fw-ipt.h"
#include "fw.h"
#include "log.h"
#include "localproxy.h"
#include "nl.h"
#include "privsep.h"
#include "proxyopt.h"
#include "resolv.h"
#include "route.h"
#include "state.h"
#include "tun.h"
#include "up-owner.h"
#include "up.h"
#include "url.h"
#include "watch.h"

enum { UP_FIND_MAX = 16 }; /* dead runs cleared by `down` without a state file */

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

/* Without --allow-dns: the host's resolvers (resolv.c) get through the killswitch. */
static void pick_dns(struct up_opts *o)
{
	const char *from;

	if (o->dns_given)
		return;
	from = resolv_allowed(o->dns, UP_MAX_DNS, &o->ndns);
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
		       bool killswitch, enum fw_forward fwd, const struct sockaddr_storage *pa)
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
	s->forward = fwd == FW_FWD_PROXY   ? STATE_FWD_PROXY
		     : fwd == FW_FWD_BLOCK ? STATE_FWD_BLOCK
					   : STATE_FWD_DIRECT;
	s->fw = STATE_FW_NFTABLES;
	snprintf(s->fw_table, sizeof(s->fw_table), "%s", FW_TABLE);
	snprintf(s->fw_chain, sizeof(s->fw_chain), "%s", FW_CHAIN_MARK);
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

/*
 * The routes and rule of rc removed (route_remove), logged either way; pid:
 * the dead run's, from its record (0: found by our tags). 0 or -errno.
 */
static int routes_down(struct route_cfg *rc, pid_t pid)
{
	char err[256];
	int ret;

	rc->ifindex = 0; /* a dead run's TUN is gone with it */
	ret = route_remove(rc, err, sizeof(err));
	if (ret < 0 && pid) {
		log_error("removing the routes of pid %d: %s", (int)pid, err);
	} else if (ret < 0) {
		log_error("removing our routes (table %u, %u): %s", rc->table, rc->catch_table,
			  err);
	} else if (pid) {
		log_info("removed tables %u and %u, the fwmark 0x%x rule (priority %u) and the "
			 "catch-all rule (priority %u)",
			 rc->table, rc->catch_table, rc->mark, rc->prio, rc->catch_prio);
	} else {
		/* found by tags: either part may be all that was left */
		if (rc->table)
			log_info("removed table %u and the fwmark 0x%x rule (priority %u)",
				 rc->table, rc->mark, rc->prio);
		if (rc->catch_table)
			log_info("removed table %u and the catch-all rule (priority %u)",
				 rc->catch_table, rc->catch_prio);
	}
	return ret;
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

/* Our iptables chains removed, logged either way. 0 or -errno. */
static int ipt_down(void)
{
	char err[256];
	int ret = fw_ipt_remove(err, sizeof(err));

	if (ret < 0)
		log_error("removing our iptables chains: %s", err);
	else
		log_info("removed our iptables chains (%s-*)", FW_IPT_CHAIN_PREFIX);
	return ret;
}

/* Keeps the first error of a sequence of steps that all run. */
static void first_error(int *first, int ret)
{
	if (ret < 0 && !*first)
		*first = ret;
}

/*
 * Undo a dead run from its record: routes and rules, then its iptables
 * chains (its nftables table: nft_down, by the owner it names). Its TUN was not persistent: it went with the
 * process; a link of that name still present is someone else's and is left
 * alone. Returns 0 or the first -errno.
 */
static int undo_record(const struct state *s)
{
	struct route_cfg rc = { .table = s->table,
				.mark = s->fwmark,
				.prio = s->priority,
				.catch_table = s->catch_table,
				.catch_prio = s->catch_priority,
				.ipv6 = s->ipv6 };
	int first = 0;

	if (state_has(s, STATE_OBJ_ROUTE) || state_has(s, STATE_OBJ_RULE))
		first_error(&first, routes_down(&rc, s->pid));
	if (state_has(s, STATE_OBJ_IPT_CHAIN))
		first_error(&first, ipt_down());
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
	int i, ret, first = 0;

	for (i = 0; i < UP_FIND_MAX; i++) {
		memset(&rc, 0, sizeof(rc));
		ret = route_find_ours(&rc);
		if (ret > 0) {
			*found = true;
			ret = routes_down(&rc, 0);
			if (ret == 0)
				continue;
		}
		first_error(&first, ret);
		break;
	}
	/* the iptables fallback is root only: so is finding its leftovers */
	if (fw_ipt_present() == 1) {
		*found = true;
		first_error(&first, ipt_down());
	}
	return first;
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
	int ret;

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
	first_error(&ret, nft_down(own, found));
	if (ret == 0)
		state_remove(dirfd);
	ctl_unlink(dirfd);
	watch_record_remove(dirfd); /* a killed up's watcher could not */
	return ret;
}

/* ---- the state dir and its lock ---- */

int up_dir_open(const char *given)
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
	int nq = (int)o->workers, i, ret = 0;
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

/*
 * Root's sockets, and those of systemd-networkd's system user (it renews
 * its leases as that user), may send DHCP from port 68 (see fw.c).
 */
static void dhcp_uids(struct fw_cfg *fc)
{
	const struct passwd *pw = getpwnam("systemd-network");

	if (pw && pw->pw_uid != 0)
		fc->dhcp_uids[fc->ndhcp_uids++] = (uint32_t)pw->pw_uid;
}

static bool sysctl_on(const char *path)
{
	FILE *f = fopen(path, "re");
	int v = 0;

	if (!f)
		return false;
	if (fscanf(f, "%d", &v) != 1)
		v = 0;
	fclose(f);
	return v != 0;
}

/*
 * The one line, at the default level, that says what happens to traffic
 * this host forwards (containers, VMs, namespaces): which interfaces carry
 * it now (for the reader; the rules match any) and where it goes.
 */
static void forward_line(const struct up_opts *o, const struct fw_cfg *fc, const char *tun,
			 char *out, size_t len)
{
	char names[160] = "", what[192];
	struct nl *nl = nl_open();
	int more = 0;
	bool fwd = sysctl_on("/proc/sys/net/ipv4/ip_forward") ||
		   sysctl_on("/proc/sys/net/ipv6/conf/all/forwarding");

	if (nl) {
		more = nl_link_names_local(nl, tun, names, sizeof(names));
		nl_close(nl);
	}
	if (fc->forward == FW_FWD_DIRECT) {
		snprintf(what, sizeof(what), "direct, not through the proxy (--forward direct)");
	} else if (fc->forward == FW_FWD_BLOCK) {
		snprintf(what, sizeof(what), "dropped, except to the proxy%s (--forward block)",
			 fc->nexclude ? " and --exclude" : "");
	} else {
		/* as put_classify() and forward_filter decide (fw.c) */
		const char *dns = fc->dns_steer		   ? "answered by proxyvpn"
				  : o->udp == UP_UDP_PROXY ? "direct to the allowed resolvers, "
							     "else through the proxy"
				  : o->killswitch && o->udp != UP_UDP_BYPASS
					  ? "to the allowed resolvers only"
					  : "direct";
		const char *udp = o->udp == UP_UDP_PROXY    ? "through the proxy"
				  : o->udp == UP_UDP_BYPASS ? "direct"
				  : o->killswitch	    ? "dropped"
							    : "refused";
		const char *rest = o->killswitch ? "dropped" : "direct";

		if (!strcmp(udp, rest))
			snprintf(what, sizeof(what),
				 "TCP through the proxy, DNS %s, UDP and the rest %s", dns, rest);
		else
			snprintf(what, sizeof(what),
				 "TCP through the proxy, DNS %s, UDP %s, the rest %s", dns, udp,
				 rest);
	}
	snprintf(out, len, "up: forwarded traffic (containers, VMs) from %s%s%s: %s%s",
		 names[0] ? names : "any interface", more > 0 ? " and more" : "",
		 names[0] ? " and any interface added later" : "", what,
		 fwd ? "" : " (forwarding is off now: nothing is forwarded)");
}

static void forward_say(const struct up_opts *o, const struct fw_cfg *fc, const char *tun)
{
	char line[512];

	forward_line(o, fc, tun, line, sizeof(line));
	log_notice("%s", line);
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
		.forward = o->forward,
	};
	dhcp_uids(fc);
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

/* The uid that ran `up` (read before anything could change it): ctl answers it and root. */
static uid_t up_uid;

/* Our firewall: the iptables chains, or the nftables table that names us. */
static int fw_down(enum state_fw fw, const struct up_owner *own, char *err, size_t errlen)
{
	return fw == STATE_FW_IPTABLES ? fw_ipt_remove(err, errlen)
				       : fw_remove(own->rec, err, errlen);
}

/* The iptables fallback's chains, recorded (4 or 6, table, chain) as fw_ipt_apply makes them. */
static int record_ipt(struct state *s, bool killswitch, enum fw_forward fwd, bool ipv6)
{
	const char *fam[2] = { "4", "6" };
	int i, ret = 0;

	s->fw = STATE_FW_IPTABLES;
	snprintf(s->fw_table, sizeof(s->fw_table), "%s", "filter");
	snprintf(s->fw_chain, sizeof(s->fw_chain), "%s", FW_IPT_CHAIN_PREFIX);
	for (i = 0; i < (ipv6 ? 2 : 1) && ret == 0; i++) {
		ret = state_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "filter", FW_IPT_CHAIN_FF, NULL);
		if (!ret)
			ret = state_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "filter", FW_IPT_CHAIN_TUNG,
					NULL);
		if (!ret)
			ret = state_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "mangle",
					FW_IPT_CHAIN_GUARD, NULL);
		if (!ret && killswitch)
			ret = state_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "filter", FW_IPT_CHAIN_KS,
					NULL);
		if (!ret)
			ret = state_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "mangle", FW_IPT_CHAIN_MARK,
					NULL);
		if (!ret && fwd == FW_FWD_PROXY)
			ret = state_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "mangle",
					FW_IPT_CHAIN_FWDMARK, NULL);
		if (!ret && ((fwd == FW_FWD_PROXY && killswitch) || fwd == FW_FWD_BLOCK))
			ret = state_add(s, STATE_OBJ_IPT_CHAIN, fam[i], "filter", FW_IPT_CHAIN_FWD,
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
static int firewall_up(int dirfd, struct state *s, const struct up_opts *o, struct fw_cfg *fc,
		       bool ipv6, enum state_fw *on)
{
	char err[256];
	int ret;

	if (o->firewall != UP_FW_IPT) {
		if (state_add(s, STATE_OBJ_NFT_TABLE, "inet", FW_TABLE, NULL) < 0 ||
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
				/* what is in the kernel now: the watcher checks against it */
				*fc = nocap;
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
		state_drop_last(s, STATE_OBJ_NFT_TABLE); /* saved again with the chains below */
	}
	if (record_ipt(s, o->killswitch, o->forward, ipv6) < 0 || !save(dirfd, s))
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

#ifdef PROXYVPN_FAULT
/*
 * Test builds: PROXYVPN_FAULT_HOLD=FIFO holds up right after the TUN is
 * made until a line is written to FIFO (e2e watch: status while starting).
 */
static void fault_hold(void)
{
	const char *fifo = getenv("PROXYVPN_FAULT_HOLD");
	char c;
	int fd;

	if (!fifo)
		return;
	log_info("PROXYVPN_FAULT_HOLD: waiting for a line on %s", fifo);
	fd = open(fifo, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		while (read(fd, &c, 1) == 1 && c != '\n')
			;
		close(fd);
	}
}
#else
static void fault_hold(void)
{
}
#endif

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
	struct watch *watch = NULL;
	struct watch_cfg wc;

	for (ret = 0; ret < UP_MAX_QUEUES; ret++)
		tun_fds[ret] = -1; /* teardown closes only what was opened */
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
	fault_hold();
	rc.ifindex = ifindex;
	state_fill(&s, name, ifindex, &rc, o->killswitch, o->forward, &ecfg->proxy_addr);
	snprintf(ifx, sizeof(ifx), "%d", ifindex);
	if (state_add(&s, STATE_OBJ_LINK, name, ifx, NULL) < 0 ||
	    state_add(&s, STATE_OBJ_ADDR, ifx, UP_TUN_ADDR4 "/32", NULL) < 0 ||
	    (rc.ipv6 && state_add(&s, STATE_OBJ_ADDR, ifx, UP_TUN_ADDR6 "/128", NULL) < 0)) {
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
	if (state_add_routes(&s) < 0 || !save(dirfd, &s))
		goto undo;
	ret = route_install(&rc, err, sizeof(err));
	if (ret < 0) {
		log_error("up: %s", err);
		goto undo;
	}
	routes_on = true;
	forward_say(o, &fc, name);
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
	fd_raise_limit();
	/* From here on what goes missing is put back (in the parent's loop: privsep.c). */
	wc = (struct watch_cfg){ .dirfd = dirfd,
				 .fw = &fc,
				 .ipt = fw_on == STATE_FW_IPTABLES,
				 .rc = rc,
				 .tun = name,
				 .ready_fd = o->ready_fd };
	inet_pton(AF_INET, UP_TUN_ADDR4, wc.addr4);
	inet_pton(AF_INET6, UP_TUN_ADDR6, wc.addr6);
	watch = watch_new(&wc);
	if (!watch)
		goto undo;
	o->ready_fd = -1; /* the watcher's now */
	ret = privsep_run(&(struct privsep_cfg){ .ecfg = ecfg,
						 .tun_fds = tun_fds,
						 .nqueues = (int)o->workers,
						 .ctl_fd = ctl_fd,
						 .ctl_uid = up_uid,
						 .tun_name = name,
						 .sandbox = o->sandbox,
						 .watch = watch });
	status = ret < 0 ? EXIT_SETUP : 0;
undo:
	watch_free(watch); /* nothing is put back while we take it down */
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
	struct engine_cfg ecfg = { 0 };
	struct up_owner own;
	struct up_opts o;
	struct proxy_url url;
	sigset_t mask, oldmask;
	int dirfd, lockfd, ret, status;
	bool found;

	up_uid = getuid();
	dnspool_cfg_default(&ecfg.pool); /* --dns bypass (the default) leaves it unused */
	ret = up_opts_parse(argc, argv, &o, &ecfg);
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
	dirfd = up_dir_open(o.state_dir);
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

/* ---- down ---- */

int cmd_down(int argc, char **argv)
{
	struct up_owner own;
	const char *dir = NULL;
	int dirfd, lockfd, ret;
	bool found;

	ret = up_small_opts_parse(argc, argv, &dir, NULL, "down");
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	if (access_check("down") < 0)
		return EXIT_ENV;
	if (!have_net_admin())
		return EXIT_ENV;
	dirfd = up_dir_open(dir);
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
