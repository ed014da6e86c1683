// SPDX-License-Identifier: GPL-2.0-only
/*
 * iptables fallback for host mode's firewall (see fw-ipt.h). The ruleset is
 * rendered as iptables-restore input (pure) and applied with --noflush, so
 * nothing but our chains and our tagged jumps is touched; removal deletes
 * the jumps by their full spec, then our chains. The binaries run with an
 * empty environment, from fixed paths, and only when we are root.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fw-ipt.h"
#include "log.h"
#include "json.h"

enum {
	IPT_SCRIPT_MAX = 1 << 20,
	IPT_ERR_MAX = 512, /* of a binary's stderr kept for the message */
	IPT_DEL_MAX = 16,  /* duplicate jumps deleted at most */
};

static const char *const ipt_dirs[] = { "/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/" };

/* ---- rendering (pure) ---- */

static void rule_nets(struct jbuf *b, const char *chain, const struct fw_net *v, size_t n,
		      int family, const char *what)
{
	char s[FW_NET_STRLEN];
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i].family != family)
			continue;
		if (fw_net_str(&v[i], s, sizeof(s)) < 0) {
			b->full = true;
			return;
		}
		jb_printf(b, "-A %s -d %s %s\n", chain, s, what);
	}
}

/* Excluded owners and peers (fw.h), one rule each ending in what. */
static void rule_owners(struct jbuf *b, const char *chain, const struct fw_cfg *c, int family,
			const char *what)
{
	char s[FW_NET_STRLEN];
	size_t i;

	for (i = 0; i < c->nexclude_uid; i++)
		jb_printf(b, "-A %s -m owner --uid-owner %" PRIu32 " %s\n", chain,
			  c->exclude_uid[i], what);
	/* xt_cgroup resolves the path in the v2 hierarchy itself */
	for (i = 0; i < c->nexclude_cgroup; i++)
		jb_printf(b, "-A %s -m cgroup --path %s %s\n", chain, c->exclude_cgroup[i].path,
			  what);
	for (i = 0; i < c->nexclude_peer; i++) {
		const struct fw_peer *p = &c->exclude_peer[i];
		struct fw_net n = { .family = p->family,
				    .prefix = p->family == AF_INET ? 32 : 128 };

		if (p->family != family)
			continue;
		memcpy(n.addr, p->addr, sizeof(n.addr));
		if (fw_net_str(&n, s, sizeof(s)) < 0) {
			b->full = true;
			return;
		}
		jb_printf(b, "-A %s -d %s -p tcp --dport %u %s\n", chain, s, (unsigned int)p->port,
			  what);
	}
}

/* "-m owner --uid-owner U" rules for DHCP from port 68: root, then cfg's uids. */
static void rule_dhcp(struct jbuf *b, const char *chain, const struct fw_cfg *c, const char *what)
{
	size_t i;

	jb_printf(b, "-A %s -p udp --sport 68 --dport 67 -m owner --uid-owner 0 %s\n", chain, what);
	for (i = 0; i < c->ndhcp_uids; i++)
		jb_printf(b,
			  "-A %s -p udp --sport 68 --dport 67 -m owner --uid-owner %" PRIu32
			  " %s\n",
			  chain, c->dhcp_uids[i], what);
}

static bool fwd_filter(const struct fw_cfg *c)
{
	return (c->forward == FW_FWD_PROXY && c->killswitch) || c->forward == FW_FWD_BLOCK;
}

/*
 * fw.c's forward_filter. Bridged frames (br_netfilter) are told apart by
 * physdev here: iptables has no `fib daddr . iif`, so traffic routed back
 * out of the interface it came in by (a container reaching another on its
 * own bridge through a published port of the host) is dropped, which the
 * nftables ruleset lets through.
 */
static void render_fwd_filter(struct jbuf *b, const struct fw_cfg *c, int family)
{
	bool px = c->forward == FW_FWD_PROXY;
	char port[48];

	if (px)
		jb_printf(b,
			  "-A " FW_IPT_CHAIN_FWD " -o %s -m mark --mark 0x%" PRIx32
			  "/0xffffffff -j ACCEPT\n",
			  c->tun, c->mark);
	jb_raw(b, "-A " FW_IPT_CHAIN_FWD " -m physdev --physdev-is-bridged -j ACCEPT\n");
	jb_raw(b, "-A " FW_IPT_CHAIN_FWD " -m conntrack --ctdir REPLY -j ACCEPT\n");
	snprintf(port, sizeof(port), "-p tcp --dport %u -j ACCEPT", (unsigned int)c->proxy_port);
	rule_nets(b, FW_IPT_CHAIN_FWD, c->proxy, c->nproxy, family, port);
	if (px && c->udp_mark)
		rule_nets(b, FW_IPT_CHAIN_FWD, c->proxy, c->nproxy, family, "-p udp -j ACCEPT");
	rule_nets(b, FW_IPT_CHAIN_FWD, c->exclude, c->nexclude, family, "-j ACCEPT");
	if (px && c->udp_bypass)
		jb_raw(b, "-A " FW_IPT_CHAIN_FWD " -p udp -j ACCEPT\n");
	if (px) {
		rule_nets(b, FW_IPT_CHAIN_FWD, c->dns, c->ndns, family,
			  "-p udp --dport 53 -j ACCEPT");
		rule_nets(b, FW_IPT_CHAIN_FWD, c->dns, c->ndns, family,
			  "-p tcp --dport 53 -j ACCEPT");
	}
	/* dropped, not rejected: see fw.c */
	jb_raw(b, "-A " FW_IPT_CHAIN_FWD " -j DROP\n");
}

static void render_filter(struct jbuf *b, const struct fw_cfg *c, int family)
{
	bool v6 = family == AF_INET6;
	char port[48];

	jb_raw(b, "*filter\n");
	jb_raw(b, ":" FW_IPT_CHAIN_FF " - [0:0]\n");
	jb_raw(b, ":" FW_IPT_CHAIN_TUNG " - [0:0]\n");
	if (c->killswitch)
		jb_raw(b, ":" FW_IPT_CHAIN_KS " - [0:0]\n");
	if (fwd_filter(c))
		jb_raw(b, ":" FW_IPT_CHAIN_FWD " - [0:0]\n");
	/* after a crash: marked TCP routed to lo by route.c's fallback gets a reset */
	jb_printf(b,
		  "-A " FW_IPT_CHAIN_FF " -i lo -p tcp -m mark --mark 0x%" PRIx32
		  "/0xffffffff -j REJECT --reject-with tcp-reset\n",
		  c->mark);
	/* and forwarded traffic marked for the TUN that fell back to local delivery */
	if (c->forward == FW_FWD_PROXY) {
		jb_printf(b,
			  "-A " FW_IPT_CHAIN_FF " ! -i lo -p tcp -m mark --mark 0x%" PRIx32
			  "/0xffffffff -j REJECT --reject-with tcp-reset\n",
			  c->mark);
		jb_printf(b,
			  "-A " FW_IPT_CHAIN_FF " ! -i lo -m mark --mark 0x%" PRIx32
			  "/0xffffffff -j DROP\n",
			  c->mark);
	}
	/* nothing unmarked into the TUN (route.c's catch-all; see fw.c) */
	jb_printf(b,
		  "-A " FW_IPT_CHAIN_TUNG " -o %s -p tcp -m mark ! --mark 0x%" PRIx32
		  "/0xffffffff -j REJECT --reject-with tcp-reset\n",
		  c->tun, c->mark);
	jb_printf(b,
		  "-A " FW_IPT_CHAIN_TUNG " -o %s -m mark ! --mark 0x%" PRIx32
		  "/0xffffffff -j DROP\n",
		  c->tun, c->mark);
	if (c->killswitch) {
		jb_raw(b, "-A " FW_IPT_CHAIN_KS " -o lo -j ACCEPT\n");
		jb_printf(b, "-A " FW_IPT_CHAIN_KS " -o %s -j ACCEPT\n", c->tun);
		jb_printf(b,
			  "-A " FW_IPT_CHAIN_KS " -p tcp -m mark --mark 0x%" PRIx32
			  "/0xffffffff -j ACCEPT\n",
			  c->mark);
		if (c->udp_mark)
			jb_printf(b,
				  "-A " FW_IPT_CHAIN_KS " -p udp -m mark --mark 0x%" PRIx32
				  "/0xffffffff -j ACCEPT\n",
				  c->mark);
		snprintf(port, sizeof(port), "-p tcp --dport %u -j ACCEPT",
			 (unsigned int)c->proxy_port);
		rule_nets(b, FW_IPT_CHAIN_KS, c->proxy, c->nproxy, family, port);
		/* the UDP ASSOCIATE relay: the proxy's address, a port it picks */
		if (c->udp_mark)
			rule_nets(b, FW_IPT_CHAIN_KS, c->proxy, c->nproxy, family,
				  "-p udp -j ACCEPT");
		rule_owners(b, FW_IPT_CHAIN_KS, c, family, "-j ACCEPT");
		rule_nets(b, FW_IPT_CHAIN_KS, c->exclude, c->nexclude, family, "-j ACCEPT");
		if (c->udp_bypass)
			jb_raw(b, "-A " FW_IPT_CHAIN_KS " -p udp -j ACCEPT\n");
		rule_nets(b, FW_IPT_CHAIN_KS, c->dns, c->ndns, family,
			  "-p udp --dport 53 -j ACCEPT");
		rule_nets(b, FW_IPT_CHAIN_KS, c->dns, c->ndns, family,
			  "-p tcp --dport 53 -j ACCEPT");
		/* link-local control, as in fw.c (DHCP renewals by root and dhcp_uids, ND/RS, MLD) */
		if (!v6) {
			rule_dhcp(b, FW_IPT_CHAIN_KS, c, "-j ACCEPT");
		} else {
			jb_raw(b, "-A " FW_IPT_CHAIN_KS " -d ff02::1:2/128 -p udp --sport 546 "
				  "--dport 547 -j ACCEPT\n");
			jb_raw(b, "-A " FW_IPT_CHAIN_KS " -p ipv6-icmp --icmpv6-type 133 -m hl "
				  "--hl-eq 255 -j ACCEPT\n");
			jb_raw(b, "-A " FW_IPT_CHAIN_KS " -p ipv6-icmp --icmpv6-type 135 -m hl "
				  "--hl-eq 255 -j ACCEPT\n");
			jb_raw(b, "-A " FW_IPT_CHAIN_KS " -p ipv6-icmp --icmpv6-type 136 -m hl "
				  "--hl-eq 255 -j ACCEPT\n");
			jb_raw(b, "-A " FW_IPT_CHAIN_KS " -p ipv6-icmp --icmpv6-type 131 -m hl "
				  "--hl-eq 1 -j ACCEPT\n");
			jb_raw(b, "-A " FW_IPT_CHAIN_KS " -p ipv6-icmp --icmpv6-type 143 -m hl "
				  "--hl-eq 1 -j ACCEPT\n");
		}
		jb_raw(b, "-A " FW_IPT_CHAIN_KS " -p tcp -j REJECT --reject-with tcp-reset\n");
		jb_printf(b, "-A " FW_IPT_CHAIN_KS " -j REJECT --reject-with %s\n",
			  v6 ? "adm-prohibited" : "icmp-admin-prohibited");
	}
	if (fwd_filter(c))
		render_fwd_filter(b, c, family);
	jb_raw(b, "-I INPUT 1 -m comment --comment " FW_TAG " -j " FW_IPT_CHAIN_FF "\n");
	if (c->killswitch)
		jb_raw(b, "-I OUTPUT 1 -m comment --comment " FW_TAG " -j " FW_IPT_CHAIN_KS "\n");
	if (fwd_filter(c))
		jb_raw(b, "-I FORWARD 1 -m comment --comment " FW_TAG " -j " FW_IPT_CHAIN_FWD "\n");
	/* inserted last, so first: the killswitch's ACCEPT of -o TUN would end OUTPUT */
	jb_raw(b, "-I OUTPUT 1 -m comment --comment " FW_TAG " -j " FW_IPT_CHAIN_TUNG "\n");
	jb_raw(b, "COMMIT\n");
}

/*
 * fw.c's put_classify(): what the TUN carries, the same for the host's own
 * packets (PROXYVPN-MARK, OUTPUT) and forwarded ones (PROXYVPN-FWDMARK,
 * PREROUTING); socket owners, peers and DHCP are the host's only (and
 * -m owner works in OUTPUT only).
 */
static void render_classify(struct jbuf *b, const char *chain, const struct fw_cfg *c, int family,
			    bool output)
{
	char port[48];

	if (!c->udp_mark)
		jb_printf(b, "-A %s ! -p tcp -j RETURN\n", chain);
	jb_printf(b, "-A %s -m conntrack --ctdir REPLY -j RETURN\n", chain);
	/* only the proxy's own port stays direct (and its UDP relay), as in fw.c */
	snprintf(port, sizeof(port), "-p tcp --dport %u -j RETURN", (unsigned int)c->proxy_port);
	rule_nets(b, chain, c->proxy, c->nproxy, family, port);
	if (c->udp_mark)
		rule_nets(b, chain, c->proxy, c->nproxy, family, "-p udp -j RETURN");
	if (output)
		rule_owners(b, chain, c, family, "-j RETURN");
	rule_nets(b, chain, c->exclude, c->nexclude, family, "-j RETURN");
	if (c->udp_mark) {
		/* as fw.c: DHCP(v6), and DNS to the allowed resolvers with --dns bypass */
		if (output && family == AF_INET6)
			jb_printf(
				b,
				"-A %s -d ff02::1:2/128 -p udp --sport 546 --dport 547 -j RETURN\n",
				chain);
		else if (output)
			rule_dhcp(b, chain, c, "-j RETURN");
		if (!c->dns_steer)
			rule_nets(b, chain, c->dns, c->ndns, family, "-p udp --dport 53 -j RETURN");
		jb_printf(b, "-A %s -p tcp -j MARK --set-xmark 0x%" PRIx32 "/0xffffffff\n", chain,
			  c->mark);
		jb_printf(b, "-A %s -p udp -j MARK --set-xmark 0x%" PRIx32 "/0xffffffff\n", chain,
			  c->mark);
	} else {
		jb_printf(b, "-A %s -j MARK --set-xmark 0x%" PRIx32 "/0xffffffff\n", chain,
			  c->mark);
	}
}

static void render_mangle(struct jbuf *b, const struct fw_cfg *c, int family)
{
	bool fwd = c->forward == FW_FWD_PROXY;

	jb_raw(b, "*mangle\n");
	jb_raw(b, ":" FW_IPT_CHAIN_MARK " - [0:0]\n");
	jb_raw(b, ":" FW_IPT_CHAIN_GUARD " - [0:0]\n");
	if (fwd)
		jb_raw(b, ":" FW_IPT_CHAIN_FWDMARK " - [0:0]\n");
	jb_raw(b, "-A " FW_IPT_CHAIN_MARK " -o lo -j RETURN\n");
	render_classify(b, FW_IPT_CHAIN_MARK, c, family, true);
	if (fwd) {
		/* fw.c's forward_mark; bridged frames are let through by the guard and the filter */
		jb_printf(b, "-A " FW_IPT_CHAIN_FWDMARK " -i %s -j RETURN\n", c->tun);
		jb_raw(b, "-A " FW_IPT_CHAIN_FWDMARK " -i lo -j RETURN\n");
		jb_raw(b, "-A " FW_IPT_CHAIN_FWDMARK " -m addrtype --dst-type LOCAL -j RETURN\n");
		if (family == AF_INET)
			jb_raw(b, "-A " FW_IPT_CHAIN_FWDMARK
				  " -m addrtype --dst-type BROADCAST -j RETURN\n");
		jb_raw(b,
		       "-A " FW_IPT_CHAIN_FWDMARK " -m addrtype --dst-type MULTICAST -j RETURN\n");
		render_classify(b, FW_IPT_CHAIN_FWDMARK, c, family, false);
	}
	/* marked TCP leaves by the TUN or goes to lo, never elsewhere (see fw.c) */
	/* --udp proxy after a crash: marked UDP routed to lo fails at once (EPERM), see fw.c */
	if (c->udp_mark)
		jb_printf(b,
			  "-A " FW_IPT_CHAIN_GUARD " -o lo -p udp -m mark --mark 0x%" PRIx32
			  "/0xffffffff -j DROP\n",
			  c->mark);
	jb_raw(b, "-A " FW_IPT_CHAIN_GUARD " -o lo -j RETURN\n");
	jb_printf(b, "-A " FW_IPT_CHAIN_GUARD " -o %s -j RETURN\n", c->tun);
	/* a bridged frame marked by PROXYVPN-FWDMARK stays on its bridge */
	if (fwd)
		jb_raw(b, "-A " FW_IPT_CHAIN_GUARD " -m physdev --physdev-is-bridged -j RETURN\n");
	jb_printf(b,
		  "-A " FW_IPT_CHAIN_GUARD " -p tcp -m mark --mark 0x%" PRIx32
		  "/0xffffffff -j DROP\n",
		  c->mark);
	if (c->udp_mark)
		jb_printf(b,
			  "-A " FW_IPT_CHAIN_GUARD " -p udp -m mark --mark 0x%" PRIx32
			  "/0xffffffff -j DROP\n",
			  c->mark);
	/* mangle OUTPUT routes a packet again when its mark changed */
	jb_raw(b, "-I OUTPUT 1 -m comment --comment " FW_TAG " -j " FW_IPT_CHAIN_MARK "\n");
	jb_raw(b, "-I POSTROUTING 1 -m comment --comment " FW_TAG " -j " FW_IPT_CHAIN_GUARD "\n");
	if (fwd)
		jb_raw(b, "-I PREROUTING 1 -m comment --comment " FW_TAG " -j " FW_IPT_CHAIN_FWDMARK
			  "\n");
	jb_raw(b, "COMMIT\n");
}

int fw_ipt_render(const struct fw_cfg *c, int family, char *buf, size_t len)
{
	struct jbuf b;

	if (fw_cfg_check(c) < 0 || (family != AF_INET && family != AF_INET6) || (!buf && len))
		return -EINVAL;
	if (!len)
		return -ENOSPC;
	jb_init(&b, buf, len);
	/* the killswitch before the marks */
	render_filter(&b, c, family);
	render_mangle(&b, c, family);
	return b.full ? -ENOSPC : (int)b.len;
}

/* ---- running the binaries (root only) ---- */

static int find_bin(const char *name, char *out, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(ipt_dirs) / sizeof(ipt_dirs[0]); i++) {
		snprintf(out, len, "%s%s", ipt_dirs[i], name);
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/*
 * Runs /usr/sbin/NAME ARGS... with input (may be NULL) on stdin and an empty
 * environment. 0 if it exits 0; -EIO with its first stderr line in err; -ENOENT.
 */
static int run_bin(const char *name, const char *const *args, const char *input, char *err,
		   size_t errlen)
{
	static char *const envp[] = { NULL };
	char path[64], out[IPT_ERR_MAX];
	const char *argv[16];
	int in = -1, errfd = -1, st, ret, n = 0;
	ssize_t got;
	pid_t pid;

	if (find_bin(name, path, sizeof(path)) < 0) {
		errbuf_set(err, errlen, "%s not found (install iptables)", name);
		return -ENOENT;
	}
	argv[n++] = name;
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	in = memfd_create("proxyvpn-ipt-in", MFD_CLOEXEC);
	errfd = memfd_create("proxyvpn-ipt-err", MFD_CLOEXEC);
	if (in < 0 || errfd < 0) {
		ret = -errno;
		goto out;
	}
	if (input && write(in, input, strlen(input)) != (ssize_t)strlen(input)) {
		ret = -EIO;
		goto out;
	}
	lseek(in, 0, SEEK_SET);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY), i;
		char *av[16];

		/* execve wants non-const strings: copies, in the child only */
		for (i = 0; i <= n; i++)
			av[i] = argv[i] ? strdup(argv[i]) : NULL;
		if (dup2(in, 0) < 0 || dup2(devnull >= 0 ? devnull : errfd, 1) < 0 ||
		    dup2(errfd, 2) < 0)
			_exit(126);
		execve(path, av, envp);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			ret = -errno;
			goto out;
		}
	ret = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
	if (ret < 0) {
		got = pread(errfd, out, sizeof(out) - 1, 0);
		out[got > 0 ? got : 0] = '\0';
		out[strcspn(out, "\n")] = '\0';
		errbuf_set(err, errlen, "%s: %s", name,
			   out[0]	   ? out
			   : WIFEXITED(st) ? "failed"
					   : "killed by a signal");
	}
out:
	if (in >= 0)
		close(in);
	if (errfd >= 0)
		close(errfd);
	if (ret < 0 && ret != -EIO)
		errbuf_set(err, errlen, "running %s: %s", name, strerror(-ret));
	return ret;
}

static const char *tool(bool v6)
{
	return v6 ? "ip6tables" : "iptables";
}

/* Does chain exist in table? (iptables -n -L exits 1 for a missing chain.) */
static bool chain_exists(bool v6, const char *table, const char *chain)
{
	const char *const args[] = { "-w", "-t", table, "-n", "-L", chain, NULL };

	return run_bin(tool(v6), args, NULL, NULL, 0) == 0;
}

static const struct ours {
	const char *table, *builtin, *chain;
} ours[] = {
	{ "mangle", "OUTPUT", FW_IPT_CHAIN_MARK },
	{ "filter", "OUTPUT", FW_IPT_CHAIN_KS },
	{ "mangle", "POSTROUTING", FW_IPT_CHAIN_GUARD },
	{ "filter", "INPUT", FW_IPT_CHAIN_FF },
	{ "filter", "OUTPUT", FW_IPT_CHAIN_TUNG },
	{ "mangle", "PREROUTING", FW_IPT_CHAIN_FWDMARK },
	{ "filter", "FORWARD", FW_IPT_CHAIN_FWD },
};

static int remove_family(bool v6, char *err, size_t errlen)
{
	size_t i;
	int k, ret, first = 0;

	/* the jumps (by their full spec, so only tagged ones), killswitch last */
	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		const char *const del[] = {
			"-w",	   "-t",	ours[i].table, "-D", ours[i].builtin, "-m",
			"comment", "--comment", FW_TAG,	       "-j", ours[i].chain,   NULL
		};

		if (!chain_exists(v6, ours[i].table, ours[i].chain))
			continue;
		for (k = 0; k < IPT_DEL_MAX; k++)
			if (run_bin(tool(v6), del, NULL, NULL, 0) < 0)
				break;
	}
	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		const char *const flush[] = {
			"-w", "-t", ours[i].table, "-F", ours[i].chain, NULL
		};
		const char *const xdel[] = { "-w", "-t", ours[i].table, "-X", ours[i].chain, NULL };

		if (!chain_exists(v6, ours[i].table, ours[i].chain))
			continue;
		ret = run_bin(tool(v6), flush, NULL, err, errlen);
		if (ret == 0)
			ret = run_bin(tool(v6), xdel, NULL, err, errlen);
		if (ret < 0 && !first)
			first = ret;
	}
	return first;
}

int fw_ipt_remove(char *err, size_t errlen)
{
	char e6[256] = "";
	int r4, r6;

	if (geteuid() != 0) {
		errbuf_set(err, errlen, "the iptables fallback needs root");
		return -EPERM;
	}
	r4 = remove_family(false, err, errlen);
	r6 = remove_family(true, e6, sizeof(e6));
	if (!r4 && r6)
		errbuf_set(err, errlen, "%s", e6);
	return r4 ? r4 : r6 == -ENOENT ? 0 : r6; /* no ip6tables: nothing of ours there */
}

int fw_ipt_present(void)
{
	size_t i;
	int v;

	if (geteuid() != 0)
		return -EPERM;
	for (v = 0; v < 2; v++)
		for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
			if (chain_exists(v, ours[i].table, ours[i].chain))
				return 1;
	return 0;
}

static int apply_family(const struct fw_cfg *c, int family, char *err, size_t errlen)
{
	static const char *const args[] = { "-w", "--noflush", NULL };
	size_t len = 16384;
	char *buf;
	int ret;

	for (;;) {
		buf = malloc(len);
		if (!buf)
			return -ENOMEM;
		ret = fw_ipt_render(c, family, buf, len);
		if (ret != -ENOSPC || len >= IPT_SCRIPT_MAX)
			break;
		free(buf);
		len *= 2;
	}
	if (ret < 0)
		errbuf_set(err, errlen, "iptables ruleset: %s",
			   ret == -EINVAL ? "invalid configuration" : strerror(-ret));
	else
		ret = run_bin(family == AF_INET6 ? "ip6tables-restore" : "iptables-restore", args,
			      buf, err, errlen);
	free(buf);
	return ret;
}

int fw_ipt_apply(const struct fw_cfg *c, bool ipv6, char *err, size_t errlen)
{
	int ret;

	if (geteuid() != 0) {
		errbuf_set(err, errlen, "the iptables fallback needs root");
		return -EPERM;
	}
	ret = fw_ipt_remove(err, errlen);
	if (ret == 0)
		ret = apply_family(c, AF_INET, err, errlen);
	if (ret == 0 && ipv6)
		ret = apply_family(c, AF_INET6, err, errlen);
	if (ret < 0)
		fw_ipt_remove(NULL, 0);
	return ret;
}

int fw_ipt_check(const struct fw_cfg *c, bool ipv6, char *what, size_t len)
{
	size_t i, off = 0;
	int v;

	if (len)
		what[0] = '\0';
	if (geteuid() != 0)
		return -EPERM;
	for (v = 0; v < (ipv6 ? 2 : 1); v++) {
		for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
			const char *const jump[] = {
				"-w",	   "-t",	ours[i].table, "-C", ours[i].builtin, "-m",
				"comment", "--comment", FW_TAG,	       "-j", ours[i].chain,   NULL
			};
			const char *gone;
			int n;

			/* only what fw_ipt_apply(c) makes */
			if ((!c->killswitch && !strcmp(ours[i].chain, FW_IPT_CHAIN_KS)) ||
			    (c->forward != FW_FWD_PROXY &&
			     !strcmp(ours[i].chain, FW_IPT_CHAIN_FWDMARK)) ||
			    (!fwd_filter(c) && !strcmp(ours[i].chain, FW_IPT_CHAIN_FWD)))
				continue;
			if (!chain_exists(v, ours[i].table, ours[i].chain))
				gone = "chain";
			else if (run_bin(tool(v), jump, NULL, NULL, 0) < 0)
				gone = "jump to";
			else
				continue;
			n = snprintf(what + off, len - off, "%s%s %s removed (%s)", off ? ", " : "",
				     gone, ours[i].chain, v ? "IPv6" : "IPv4");
			if (n < 0 || (size_t)n >= len - off)
				return 1;
			off += (size_t)n;
		}
	}
	return off ? 1 : 0;
}
