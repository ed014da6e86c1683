// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host mode firewall: one nftables table, `inet proxyvpn`, whose comment
 * names the `up` that owns it (owner.h). fw_render() turns a validated cfg into nft script
 * text (pure); fw_apply() runs it through libnftables as one transaction and
 * reads the table back. Only names we write and numbers we format reach the
 * script, so no cfg string can inject nft syntax.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <nftables/libnftables.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fw.h"
#include "log.h"
#include "num.h"
#include "owner.h"

enum { TUNG_RULES = 2 }; /* rules in FW_CHAIN_TUNG */

/* Rules in FW_CHAIN_FF: two more for forwarded traffic that fell back to local delivery. */
static int ff_rules(const struct fw_cfg *c)
{
	return c->forward == FW_FWD_PROXY ? 3 : 1;
}

/* Rules in FW_CHAIN_GUARD: one more for marked UDP going to lo (after a crash). */
static int guard_rules(const struct fw_cfg *c)
{
	return c->udp_mark || c->dns_steer ? 2 : 1;
}

/* Is there a forward_filter chain? With the killswitch, or to block. */
static bool fwd_filter(const struct fw_cfg *c)
{
	return (c->forward == FW_FWD_PROXY && c->killswitch) || c->forward == FW_FWD_BLOCK;
}

enum {
	SCRIPT_MIN = 16384,
	SCRIPT_MAX = 1 << 20,
};

struct sb {
	char *buf;
	size_t len, off;
	bool over;
	unsigned int nrules; /* rules in the chain being written */
};

static void __attribute__((format(printf, 2, 0))) vput(struct sb *b, const char *fmt, va_list ap)
{
	size_t room = b->off < b->len ? b->len - b->off : 0;
	int n;

	if (b->over)
		return;
	n = vsnprintf(room ? b->buf + b->off : NULL, room, fmt, ap);
	if (n < 0 || (size_t)n >= room) {
		b->over = true;
		return;
	}
	b->off += (size_t)n;
}

static void __attribute__((format(printf, 2, 3))) put(struct sb *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vput(b, fmt, ap);
	va_end(ap);
}

bool fw_tun_ok(const char *s)
{
	size_t i, n;

	if (!s)
		return false;
	n = strnlen(s, 16);
	if (n == 0 || n > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

static bool nets_ok(const struct fw_net *v, size_t n)
{
	size_t i;

	if (n > FW_MAX_NETS || (n && !v))
		return false;
	for (i = 0; i < n; i++) {
		if (v[i].family == AF_INET && v[i].prefix <= 32)
			continue;
		if (v[i].family == AF_INET6 && v[i].prefix <= 128)
			continue;
		return false;
	}
	return true;
}

/* Ours: the bare tag or an owner record (which is all [a-z0-9= ]). */
static bool comment_ours(const char *s, size_t n)
{
	struct owner o;

	return owner_parse(s, n, &o) != -EINVAL;
}

static bool cgroup_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '_' || ch == '@' || ch == ':' || ch == '+' || ch == '-';
}

int fw_cgroup_depth(const char *path)
{
	size_t i, start = 0, n;
	int depth = 0;

	if (!path)
		return -EINVAL;
	n = strnlen(path, FW_CGROUP_MAX);
	if (n == FW_CGROUP_MAX)
		return -EINVAL;
	if (n == 0)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i < n && path[i] != '/') {
			if (!cgroup_char(path[i]))
				return -EINVAL;
			continue;
		}
		/* a component path[start..i) */
		if (i == start || (i - start == 1 && path[start] == '.') ||
		    (i - start == 2 && path[start] == '.' && path[start + 1] == '.'))
			return -EINVAL;
		depth++;
		start = i + 1;
	}
	return depth;
}

static bool owners_ok(const struct fw_cfg *c)
{
	size_t i;

	if (c->nexclude_uid > FW_MAX_OWNERS || c->nexclude_cgroup > FW_MAX_OWNERS ||
	    c->nexclude_peer > FW_MAX_OWNERS || (c->nexclude_uid && !c->exclude_uid) ||
	    (c->nexclude_cgroup && !c->exclude_cgroup) || (c->nexclude_peer && !c->exclude_peer))
		return false;
	for (i = 0; i < c->nexclude_cgroup; i++) {
		const struct fw_cgroup *g = &c->exclude_cgroup[i];
		int d = fw_cgroup_depth(g->path);

		if (d < 1 || d > 255 || (unsigned int)d != g->level ||
		    fw_cgroup_depth(g->under) < 0)
			return false;
		/* both in one nft string of at most FW_CGROUP_MAX */
		if (strlen(g->under) + 1 + strlen(g->path) >= FW_CGROUP_MAX)
			return false;
	}
	for (i = 0; i < c->nexclude_peer; i++) {
		const struct fw_peer *p = &c->exclude_peer[i];

		if ((p->family != AF_INET && p->family != AF_INET6) || p->port == 0)
			return false;
	}
	return true;
}

int fw_cfg_check(const struct fw_cfg *c)
{
	if (!c || !fw_tun_ok(c->tun) || c->mark == 0 || !owners_ok(c))
		return -EINVAL;
	if (c->owner && (owner_parse(c->owner, strlen(c->owner), &(struct owner){ 0 }) < 0))
		return -EINVAL;
	if (!nets_ok(c->proxy, c->nproxy) || !nets_ok(c->exclude, c->nexclude) ||
	    !nets_ok(c->dns, c->ndns))
		return -EINVAL;
	if (c->nproxy && c->proxy_port == 0)
		return -EINVAL;
	if (c->udp_mark && c->udp_bypass)
		return -EINVAL;
	if (c->forward != FW_FWD_DIRECT && c->forward != FW_FWD_PROXY && c->forward != FW_FWD_BLOCK)
		return -EINVAL;
	if (c->ndhcp_uids > FW_MAX_DHCP_UIDS)
		return -EINVAL;
	return 0;
}

static size_t count_family(const struct fw_net *v, size_t n, int family)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += v[i].family == family;
	return k;
}

int fw_net_str(const struct fw_net *x, char *out, size_t len)
{
	unsigned int bits = x->family == AF_INET ? 32 : 128, i;
	uint8_t a[16] = { 0 };
	char s[INET6_ADDRSTRLEN];
	int n;

	memcpy(a, x->addr, bits / 8);
	for (i = x->prefix; i < bits; i++)
		a[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
	if (!inet_ntop(x->family, a, s, sizeof(s)))
		return -EINVAL; /* cannot happen for validated families */
	if (x->prefix == bits)
		n = snprintf(out, len, "%s", s);
	else
		n = snprintf(out, len, "%s/%u", s, x->prefix);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int fw_net_parse(const char *s, bool cidr, struct fw_net *n)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = cidr ? strchr(s, '/') : NULL;
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t p;

	if (alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->addr) == 1)
		n->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, n->addr) == 1)
		n->family = AF_INET6;
	else
		return -EINVAL;
	n->prefix = n->family == AF_INET ? 32 : 128;
	if (!slash)
		return 0;
	if (num_parse(slash + 1, strlen(slash + 1), 0, 0, n->prefix, &p) < 0) {
		memset(n, 0, sizeof(*n));
		return -EINVAL;
	}
	n->prefix = (uint8_t)p;
	return 0;
}

/* One set element: the address with its host bits cleared, "/len" unless a host. */
static void put_net(struct sb *b, const struct fw_net *x)
{
	char s[FW_NET_STRLEN];

	if (fw_net_str(x, s, sizeof(s)) < 0) {
		b->over = true;
		return;
	}
	put(b, "%s", s);
}

/*
 * A named interval set per list and family, left out when empty (nft has
 * no empty `elements`); auto-merge takes overlapping CIDRs and duplicates.
 */
static void put_set(struct sb *b, const char *name, const struct fw_net *v, size_t n, int family)
{
	bool first = true;
	size_t i;

	if (!count_family(v, n, family))
		return;
	put(b, "\tset %s%c {\n\t\ttype %s\n\t\tflags interval\n\t\tauto-merge\n\t\telements = { ",
	    name, family == AF_INET ? '4' : '6', family == AF_INET ? "ipv4_addr" : "ipv6_addr");
	for (i = 0; i < n; i++) {
		if (v[i].family != family)
			continue;
		if (!first)
			put(b, ", ");
		put_net(b, &v[i]);
		first = false;
	}
	put(b, " }\n\t}\n");
}

/* One rule line in the chain being written, counted for the read-back. */
static void __attribute__((format(printf, 2, 3))) rule(struct sb *b, const char *fmt, ...)
{
	va_list ap;

	put(b, "\t\t");
	va_start(ap, fmt);
	vput(b, fmt, ap);
	va_end(ap);
	put(b, "\n");
	b->nrules++;
}

/*
 * One rule per excluded owner (uid, cgroup), ending in what ("return",
 * "accept"). Checked by fw_cfg_check(): uids are numbers, cgroup strings of
 * cgroup_char only, so nothing here can inject nft syntax.
 */
static void rule_owners(struct sb *b, const struct fw_cfg *c, const char *what)
{
	size_t i;

	for (i = 0; i < c->nexclude_uid; i++)
		rule(b, "meta skuid %" PRIu32 " %s", c->exclude_uid[i], what);
	for (i = 0; i < c->nexclude_cgroup; i++) {
		const struct fw_cgroup *g = &c->exclude_cgroup[i];

		rule(b, "socket cgroupv2 level %u \"%s%s%s\" %s", g->level, g->under,
		     g->under[0] ? "/" : "", g->path, what);
	}
}

/* One rule per excluded peer: "ip daddr A tcp dport P WHAT". */
static void rule_peers(struct sb *b, const struct fw_cfg *c, const char *what)
{
	char s[FW_NET_STRLEN];
	size_t i;

	for (i = 0; i < c->nexclude_peer; i++) {
		const struct fw_peer *p = &c->exclude_peer[i];
		struct fw_net n = { .family = p->family,
				    .prefix = p->family == AF_INET ? 32 : 128 };

		memcpy(n.addr, p->addr, sizeof(n.addr));
		if (fw_net_str(&n, s, sizeof(s)) < 0) {
			b->over = true;
			return;
		}
		rule(b, "%s daddr %s tcp dport %u %s", p->family == AF_INET ? "ip" : "ip6", s,
		     (unsigned int)p->port, what);
	}
}

/* Rules for "ip daddr @name4 ..." and "ip6 daddr @name6 ...", where there is a set. */
static void rule_sets(struct sb *b, const char *name, const struct fw_net *v, size_t n,
		      const char *what)
{
	if (count_family(v, n, AF_INET))
		rule(b, "ip daddr @%s4 %s", name, what);
	if (count_family(v, n, AF_INET6))
		rule(b, "ip6 daddr @%s6 %s", name, what);
}

/* Rules per chain, as render() wrote them, for the read-back. */
struct counts {
	unsigned int mark, ks, fwd_mark, fwd_filter, dns;
};

/* "0" or "{ 0, UID... }": the uids whose sockets may renew a DHCP lease. */
static void dhcp_uids_str(const struct fw_cfg *c, char *out, size_t len)
{
	size_t i, off;

	if (!c->ndhcp_uids) {
		snprintf(out, len, "0");
		return;
	}
	off = (size_t)snprintf(out, len, "{ 0");
	for (i = 0; i < c->ndhcp_uids && off < len; i++)
		off += (size_t)snprintf(out + off, len - off, ", %" PRIu32, c->dhcp_uids[i]);
	if (off < len)
		snprintf(out + off, len - off, " }");
}

/*
 * What the TUN carries: the same rules for the host's own packets (output,
 * FW_CHAIN_MARK) and for forwarded ones (prerouting, FW_CHAIN_FWD_MARK), so the
 * two never disagree. Each chain first returns what is not its business;
 * whatever reaches the end here is marked, and the fwmark rule routes it
 * into the TUN.
 */
static void put_classify(struct sb *b, const struct fw_cfg *c, bool output)
{
	char uids[FW_MAX_DHCP_UIDS * 12 + 8], port[32];

	/*
	 * Before DNS steering: a local proxy resolves names where it runs.
	 * Socket owners are the host's only (a forwarded packet has none).
	 */
	if (output)
		rule_owners(b, c, "return");
	if (c->dns_steer)
		rule(b,
		     "ct direction original meta l4proto { tcp, udp } th dport 53 "
		     "meta mark set 0x%08" PRIx32 " accept",
		     c->mark);
	rule(b, c->udp_mark ? "meta l4proto != { tcp, udp } return" : "meta l4proto != tcp return");
	rule(b, "ct direction reply return");
	/*
	 * Only the proxy's own address and port stay direct: other ports of
	 * its host (its SSH, a second proxy) go through the proxy like any
	 * other destination, which the killswitch would refuse direct anyway.
	 */
	snprintf(port, sizeof(port), "tcp dport %u return", (unsigned int)c->proxy_port);
	rule_sets(b, "proxy", c->proxy, c->nproxy, port);
	/* the UDP ASSOCIATE relay: the proxy's address, a port it picks */
	if (c->udp_mark)
		rule_sets(b, "proxy", c->proxy, c->nproxy, "meta l4proto udp return");
	/* a local proxy's upstream: its own connections, the host's only */
	if (output)
		rule_peers(b, c, "return");
	rule_sets(b, "exclude", c->exclude, c->nexclude, "return");
	if (c->udp_mark) {
		/*
		 * --udp proxy: what must stay on the link (DHCP renewals by
		 * the system's client, DHCPv6 to its link-scope group) and,
		 * with --dns bypass, DNS to the allowed resolvers stay direct.
		 * The relay's own datagrams go to the proxy (returned above).
		 * DHCP is the host's business only: a forwarded one is UDP
		 * like any other.
		 */
		if (output) {
			dhcp_uids_str(c, uids, sizeof(uids));
			rule(b, "udp sport 68 udp dport 67 meta skuid %s return", uids);
			rule(b, "ip6 daddr ff02::1:2 udp sport 546 udp dport 547 return");
		}
		if (!c->dns_steer)
			rule_sets(b, "dns", c->dns, c->ndns, "udp dport 53 return");
	}
	rule(b, "meta mark set 0x%08" PRIx32, c->mark);
}

/*
 * Forwarded traffic (containers, VMs, namespaces behind a bridge or veth):
 * marked in prerouting, before the routing decision, so the fwmark rule
 * that routes the host's own packets routes these into the TUN too, and
 * the engine carries them through the proxy like the host's (whatever
 * their source address: a container's, or ours after a masquerade in
 * postrouting). Matched by what the packet is, never by interface names,
 * so an interface that appears after up is covered. A --gateway LAN is one
 * more rule here (its iifname, ahead of the same-link return), not a
 * second mechanism.
 */
static void put_fwd_mark(struct sb *b, const struct fw_cfg *c)
{
	put(b, "\tchain " FW_CHAIN_FWD_MARK " {\n\t\ttype filter hook prerouting priority mangle; "
	       "policy accept;\n");
	/* the engine's replies, and the host's own packets looping back */
	rule(b, "iifname \"%s\" return", c->tun);
	rule(b, "iif \"lo\" return");
	/* for this host: not forwarded */
	rule(b, "fib daddr type { local, broadcast, multicast } return");
	/*
	 * Routed back out of the interface it came in by: traffic that stays
	 * on its own link, such as one container to another on a bridge
	 * when br_netfilter shows bridged frames to these hooks (Docker
	 * loads it). The host is not its way out, and a mark would make
	 * mark_guard drop it.
	 */
	rule(b, "fib daddr . iif oif exists return");
	put_classify(b, c, false);
	put(b, "\t}\n");
}

/*
 * What may be forwarded (policy drop): into the TUN, on its own link, to
 * the proxy, to --exclude, and the replies; with FW_FWD_PROXY also DNS to
 * the allowed resolvers and --udp bypass, as for the host. Inbound
 * connections (a published port) are dropped, as the killswitch drops the
 * replies of the host's own servers. Dropped, not rejected: a reject is a
 * packet of this host toward the container's interface, which the output
 * killswitch drops anyway.
 */
static void put_fwd_filter(struct sb *b, const struct fw_cfg *c)
{
	bool px = c->forward == FW_FWD_PROXY;
	char port[32];

	put(b, "\tchain " FW_CHAIN_FWD_KS " {\n\t\ttype filter hook forward priority filter; "
	       "policy drop;\n");
	/* what forward_mark marked for the TUN; nothing else enters it */
	if (px)
		rule(b, "meta mark 0x%08" PRIx32 " oifname \"%s\" accept", c->mark, c->tun);
	rule(b, "fib daddr . iif oif exists accept");
	/*
	 * Replies of what this chain let out: the engine's through the TUN
	 * (and its ICMP errors, related in the reply direction), the
	 * proxy's, a resolver's. Only replies come out of the TUN: an engine
	 * taken over cannot have the host forward its own packets anywhere.
	 * An inbound connection never gets here: its first packet is dropped
	 * below, so its conntrack entry is never confirmed.
	 */
	rule(b, "ct direction reply accept");
	snprintf(port, sizeof(port), "tcp dport %u accept", (unsigned int)c->proxy_port);
	rule_sets(b, "proxy", c->proxy, c->nproxy, port);
	if (px && c->udp_mark)
		rule_sets(b, "proxy", c->proxy, c->nproxy, "meta l4proto udp accept");
	rule_sets(b, "exclude", c->exclude, c->nexclude, "accept");
	if (px && c->udp_bypass)
		rule(b, "meta l4proto udp accept");
	if (px)
		rule_sets(b, "dns", c->dns, c->ndns,
			  "meta l4proto { tcp, udp } th dport 53 accept");
	put(b, "\t}\n");
}

static int render(const struct fw_cfg *c, char *buf, size_t len, struct counts *n)
{
	struct sb b = { .buf = buf, .len = len };
	char port[32], uids[FW_MAX_DHCP_UIDS * 12 + 8];
	int ret;

	ret = fw_cfg_check(c);
	if (ret)
		return ret;
	if (len)
		buf[0] = '\0';
	memset(n, 0, sizeof(*n));

	/* create, not add: if a table of this name appeared since we looked, fail. */
	put(&b, "create table inet " FW_TABLE " { comment \"%s\"; }\n",
	    c->owner ? c->owner : FW_TAG);
	put(&b, "table inet " FW_TABLE " {\n");
	put_set(&b, "proxy", c->proxy, c->nproxy, AF_INET);
	put_set(&b, "proxy", c->proxy, c->nproxy, AF_INET6);
	put_set(&b, "exclude", c->exclude, c->nexclude, AF_INET);
	put_set(&b, "exclude", c->exclude, c->nexclude, AF_INET6);
	if (c->killswitch || (c->udp_mark && !c->dns_steer)) {
		put_set(&b, "dns", c->dns, c->ndns, AF_INET);
		put_set(&b, "dns", c->dns, c->ndns, AF_INET6);
	}
	/* per-user counts of live connections (ct count), keyed by socket uid */
	if (c->user_tcp)
		put(&b, "\tset user_tcp {\n\t\ttype uid\n\t\tsize 65535\n\t\tflags dynamic\n\t}\n");
	if (c->user_udp && c->udp_mark)
		put(&b, "\tset user_udp {\n\t\ttype uid\n\t\tsize 65535\n\t\tflags dynamic\n\t}\n");

	/*
	 * Marking runs in a route chain, so the kernel routes again after a
	 * mark change. Replies of connections that came in from outside
	 * (sshd on the uplink) are not marked: they must leave the way the
	 * request came, not through the TUN, whose stack would reset them.
	 */
	put(&b, "\tchain " FW_CHAIN_MARK " {\n\t\ttype route hook output priority mangle; "
		"policy accept;\n");
	rule(&b, "oif \"lo\" return");
	put_classify(&b, c, true);
	/*
	 * What reaches the engine, one user's share of it: the engine's
	 * limits (connections, handshakes, buffer memory, UDP associations)
	 * are for everyone together, and it cannot tell users apart (every
	 * local packet has the host's address). Root is trusted. DNS was
	 * accepted above (dns_steer) or is not marked: not counted. Output
	 * only: a forwarded packet has no socket, hence no uid.
	 */
	if (c->user_tcp)
		rule(&b,
		     "meta l4proto tcp ct state new meta skuid != 0 add @user_tcp "
		     "{ meta skuid ct count over %" PRIu32 " } reject with tcp reset",
		     c->user_tcp);
	if (c->user_udp && c->udp_mark)
		rule(&b,
		     "meta l4proto udp ct state new meta skuid != 0 add @user_udp "
		     "{ meta skuid ct count over %" PRIu32 " } reject with icmpx admin-prohibited",
		     c->user_udp);
	put(&b, "\t}\n");
	n->mark = b.nrules;
	b.nrules = 0;

	/*
	 * Once the TUN is gone (up was killed), route.c's fallback routes
	 * marked TCP to lo: it never leaves, and arrives here. Without this,
	 * an app connecting would hang until its timeout, or reach a local
	 * service listening on the same port. With it, it is reset at once.
	 * Nothing else arrives on lo with our mark: local destinations are
	 * never marked (oif lo above) and the engine's packets carry none.
	 * Forwarded traffic marked for the TUN meets the same fallback and
	 * arrives here by its own interface: dropped, or a container could
	 * reach the host's services by connecting to any address.
	 */
	put(&b, "\tchain " FW_CHAIN_FF " {\n\t\ttype filter hook input priority filter; "
		"policy accept;\n");
	rule(&b, "iif \"lo\" meta mark 0x%08" PRIx32 " meta l4proto tcp reject with tcp reset",
	     c->mark);
	if (c->forward == FW_FWD_PROXY) {
		/*
		 * The reset reaches a container behind a bridge (br_netfilter
		 * sends it straight out of the port, below the output hook);
		 * one behind a routed veth meets the killswitch, which drops it.
		 */
		rule(&b,
		     "iif != \"lo\" meta mark 0x%08" PRIx32
		     " meta l4proto tcp reject with tcp reset",
		     c->mark);
		rule(&b, "iif != \"lo\" meta mark 0x%08" PRIx32 " drop", c->mark);
	}
	put(&b, "\t}\n");
	b.nrules = 0;

	/*
	 * Marked TCP leaves by the TUN, or (after a crash) goes to lo; never
	 * elsewhere. A socket bound to the uplink (SO_BINDTODEVICE) matches
	 * neither of our dev routes, and when the lookup fails the kernel
	 * assumes its destination is on-link and sends it out of the bound
	 * device: out, if a router answers ARP for it. Drop it, with or
	 * without the killswitch (whose accept of marked TCP cannot override
	 * a drop in another base chain). In postrouting, because only there
	 * is oif the device after the route chain's reroute (in output it is
	 * still the first lookup's); reject is not allowed there.
	 */
	put(&b, "\tchain " FW_CHAIN_GUARD " {\n\t\ttype filter hook postrouting priority filter; "
		"policy accept;\n");
	rule(&b, "meta mark 0x%08" PRIx32 " oif != \"lo\" oifname != \"%s\" meta l4proto %s drop",
	     c->mark, c->tun, c->udp_mark ? "{ tcp, udp }" : "tcp");
	/*
	 * --udp proxy, and DNS steered by --dns virtual|tcp, after a crash:
	 * marked UDP routed to lo is dropped here, so the app's send fails
	 * at once (EPERM; a resolver moves on, as TCP's reset makes it)
	 * instead of waiting for an answer nobody will give. An ICMP error
	 * from FW_CHAIN_FF cannot work: its source would be the remote address
	 * (or the engine's resolver address), which is not ours, and the
	 * kernel's icmp_send() cannot route that.
	 */
	if (c->udp_mark || c->dns_steer)
		rule(&b, "meta mark 0x%08" PRIx32 " oif \"lo\" meta l4proto udp drop", c->mark);
	put(&b, "\t}\n");
	b.nrules = 0;

	/*
	 * route.c's catch-all sends what the main table cannot route (no
	 * default route) to the TUN before our mark exists; what stays
	 * unmarked (the proxy's own address and port, --exclude, replies,
	 * UDP we do not carry) must not enter it: the engine would carry
	 * its own connection to the proxy back into the TUN, a loop. Reset
	 * or drop it here (in output, oif is that first lookup's device),
	 * killswitch or not: the app fails at once, as with no route.
	 */
	put(&b, "\tchain " FW_CHAIN_TUNG " {\n\t\ttype filter hook output priority filter; "
		"policy accept;\n");
	rule(&b,
	     "oifname \"%s\" meta mark != 0x%08" PRIx32 " meta l4proto tcp reject with tcp reset",
	     c->tun, c->mark);
	rule(&b, "oifname \"%s\" meta mark != 0x%08" PRIx32 " drop", c->tun, c->mark);
	put(&b, "\t}\n");
	b.nrules = 0;

	if (c->killswitch) {
		put(&b, "\tchain " FW_CHAIN_KS " {\n\t\ttype filter hook output priority filter; "
			"policy drop;\n");
		rule(&b, "oif \"lo\" accept");
		rule(&b, "oifname \"%s\" accept", c->tun);
		/*
		 * Marked TCP is accepted whatever oifname says (the seed's
		 * note): in this hook oif is still the first lookup's device
		 * (the uplink), not the TUN the route chain rerouted it to.
		 * FW_CHAIN_GUARD checks the real device in postrouting; with the
		 * TUN gone, our table's fallback sends it to lo, where
		 * FW_CHAIN_FF resets it.
		 */
		rule(&b, "meta l4proto tcp meta mark 0x%08" PRIx32 " accept", c->mark);
		if (c->udp_mark)
			rule(&b, "meta l4proto udp meta mark 0x%08" PRIx32 " accept", c->mark);
		/* Steered DNS, the same way: marked, so the TUN's table routes it. */
		if (c->dns_steer)
			rule(&b,
			     "meta l4proto { tcp, udp } th dport 53 meta mark 0x%08" PRIx32
			     " accept",
			     c->mark);
		snprintf(port, sizeof(port), "tcp dport %u accept", (unsigned int)c->proxy_port);
		rule_sets(&b, "proxy", c->proxy, c->nproxy, port);
		/* the UDP ASSOCIATE relay: the proxy's address, a port it picks */
		if (c->udp_mark)
			rule_sets(&b, "proxy", c->proxy, c->nproxy, "meta l4proto udp accept");
		rule_owners(&b, c, "accept");
		rule_peers(&b, c, "accept");
		rule_sets(&b, "exclude", c->exclude, c->nexclude, "accept");
		/* --udp bypass: UDP leaves directly, unproxied (documented) */
		if (c->udp_bypass)
			rule(&b, "meta l4proto udp accept");
		rule_sets(&b, "dns", c->dns, c->ndns,
			  "meta l4proto { tcp, udp } th dport 53 accept");
		/*
		 * Link-local control traffic the host needs to stay on its
		 * network. DHCP: a client sends DISCOVER, REQUEST and REBIND
		 * broadcasts through a packet socket (below this hook), and
		 * renews by unicast UDP from port 68 to the server, which can
		 * be anywhere (behind a relay): allowed from root's sockets
		 * and the uids in dhcp_uids only, since a lowered
		 * ip_unprivileged_port_start or CAP_NET_BIND_SERVICE would
		 * let any process bind port 68 and send anywhere. DHCPv6 goes
		 * to its link-scope group, which no router forwards. IPv6
		 * neighbour and router discovery (without NS/NA the router
		 * cannot even deliver the proxy's replies) and MLD reports
		 * (switches that snoop MLD would otherwise drop the
		 * solicited-node multicast ND relies on): hop limits 255 and 1
		 * keep these from being routed off the link.
		 */
		dhcp_uids_str(c, uids, sizeof(uids));
		rule(&b, "meta nfproto ipv4 udp sport 68 udp dport 67 meta skuid %s accept", uids);
		rule(&b, "ip6 daddr ff02::1:2 udp sport 546 udp dport 547 accept");
		rule(&b, "icmpv6 type { nd-router-solicit, nd-neighbor-solicit, "
			 "nd-neighbor-advert } ip6 hoplimit 255 accept");
		rule(&b, "icmpv6 type { mld-listener-report, mld2-listener-report } "
			 "ip6 hoplimit 1 accept");
		/* Fail fast: a reset for TCP, an ICMP error for the rest. */
		rule(&b, "meta l4proto tcp reject with tcp reset");
		rule(&b, "reject with icmpx admin-prohibited");
		put(&b, "\t}\n");
	}
	n->ks = b.nrules;
	b.nrules = 0;
	if (c->forward == FW_FWD_PROXY) {
		put_fwd_mark(&b, c);
		n->fwd_mark = b.nrules;
		b.nrules = 0;
	}
	if (fwd_filter(c)) {
		put_fwd_filter(&b, c);
		n->fwd_filter = b.nrules;
		b.nrules = 0;
	}
	if (c->dns_steer) {
		char a4[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET, c->dns4, a4, sizeof(a4));
		inet_ntop(AF_INET6, c->dns6, a6, sizeof(a6));
		/* Marked above, so routed to the TUN once the address changes. */
		put(&b, "\tchain " FW_CHAIN_DNS " {\n\t\ttype nat hook output priority -100; "
			"policy accept;\n");
		rule(&b, "oif \"lo\" return");
		rule_owners(&b, c, "return");
		rule(&b, "meta nfproto ipv4 meta l4proto { tcp, udp } th dport 53 dnat ip to %s",
		     a4);
		rule(&b, "meta nfproto ipv6 meta l4proto { tcp, udp } th dport 53 dnat ip6 to %s",
		     a6);
		put(&b, "\t}\n");
		n->dns = b.nrules;
		b.nrules = 0;
		/*
		 * Forwarded DNS, marked by FW_CHAIN_FWD_MARK (so not for this
		 * host, not on its own link): to the engine's resolver too.
		 * A resolver on this host (a bridge's dnsmasq, aardvark-dns)
		 * keeps answering: its address is local, never marked, and its
		 * own queries upstream are the host's, steered above.
		 */
		if (c->forward == FW_FWD_PROXY) {
			put(&b, "\tchain " FW_CHAIN_FWD_DNS " {\n\t\ttype nat hook prerouting "
				"priority -100; policy accept;\n");
			rule(&b,
			     "meta mark 0x%08" PRIx32
			     " meta nfproto ipv4 meta l4proto { tcp, udp } "
			     "th dport 53 dnat ip to %s",
			     c->mark, a4);
			rule(&b,
			     "meta mark 0x%08" PRIx32
			     " meta nfproto ipv6 meta l4proto { tcp, udp } "
			     "th dport 53 dnat ip6 to %s",
			     c->mark, a6);
			put(&b, "\t}\n");
		}
	}
	put(&b, "}\n");
	if (b.over)
		return -ENOSPC;
	return (int)b.off;
}

int fw_render(const struct fw_cfg *c, char *buf, size_t len)
{
	struct counts n;

	if (!buf && len)
		return -EINVAL;
	return render(c, buf, len, &n);
}

/* ---- libnftables ---- */

/* The first "Error: ..." line of libnftables' error buffer e. */
static void nft_reason(const char *e, char *err, size_t errlen, const char *what)
{
	const char *p, *nl;
	int n;

	p = e ? strstr(e, "Error: ") : NULL;
	if (!p)
		p = e && *e ? e : "failed";
	nl = strchr(p, '\n');
	n = nl ? (int)(nl - p) : (int)strlen(p);
	errbuf_set(err, errlen, "nft %s: %.*s", what, n, p);
}

/* libnftables returns -1 with no errno; the message tells some apart. */
static int nft_errno(const char *e)
{
	if (e && strstr(e, "Operation not permitted"))
		return -EPERM;
	if (e && strstr(e, "File exists"))
		return -EEXIST;
	return -EIO;
}

static struct nft_ctx *ctx_new(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!ctx)
		return NULL;
	if (nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx)) {
		nft_ctx_free(ctx);
		return NULL;
	}
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_HANDLE);
	return ctx;
}

static int run(struct nft_ctx *ctx, const char *cmd, char *err, size_t errlen, const char *what)
{
	const char *e;

	if (nft_run_cmd_from_buffer(ctx, cmd) == 0)
		return 0;
	/* read once: each get rewinds the buffer (a second one reads nothing) */
	e = nft_ctx_get_error_buffer(ctx);
	nft_reason(e, err, errlen, what);
	return nft_errno(e);
}

struct listing {
	int state; /* 1 ours, 0 absent, -EEXIST look-alike */
	uint64_t handle;
	char comment[FW_COMMENT_MAX + 1]; /* when ours */
	/* rules per chain, -1 if the chain is missing */
	int nmark, nks, nff, nguard, ntung, nfm, nfk, ndns;
	uint64_t digest; /* of the listing without handles (fw_inspect) */
};

static bool starts(const char *line, size_t n, const char *pfx)
{
	size_t k = strlen(pfx);

	return n >= k && !memcmp(line, pfx, k);
}

/*
 * Reads `list table` text output (with handles): the tag is the table
 * comment on the line after the header; a rule is a line in a chain block
 * other than the chain's `type` line.
 */
static void parse_table(const char *out, struct listing *l)
{
	const char *line = out, *nl;
	int *cur = NULL;
	unsigned int no = 0;

	l->state = -EEXIST;
	l->nmark = l->nks = l->nff = l->nguard = l->ntung = l->nfm = l->nfk = l->ndns = -1;
	for (; *line; line = nl + 1, no++) {
		size_t n;

		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		n = (size_t)(nl - line) + (*nl != '\n');
		if (no == 0) {
			const char *h = strstr(line, "# handle ");

			if (!starts(line, n, "table inet " FW_TABLE " {") || !h || h > nl)
				return;
			l->handle = strtoull(h + 9, NULL, 10);
			continue;
		}
		if (no == 1) {
			/* \tcomment "..." : ours if what is quoted is */
			const size_t k = strlen("\tcomment \"");

			if (!starts(line, n, "\tcomment \"") || n < k + 1 || line[n - 1] != '"' ||
			    n - k - 1 > FW_COMMENT_MAX || memchr(line + k, '"', n - k - 1) ||
			    !comment_ours(line + k, n - k - 1))
				return;
			memcpy(l->comment, line + k, n - k - 1);
			l->comment[n - k - 1] = '\0';
			l->state = 1;
			continue;
		}
		if (starts(line, n, "\tchain " FW_CHAIN_MARK " {"))
			cur = &l->nmark;
		else if (starts(line, n, "\tchain " FW_CHAIN_KS " {"))
			cur = &l->nks;
		else if (starts(line, n, "\tchain " FW_CHAIN_FF " {"))
			cur = &l->nff;
		else if (starts(line, n, "\tchain " FW_CHAIN_GUARD " {"))
			cur = &l->nguard;
		else if (starts(line, n, "\tchain " FW_CHAIN_TUNG " {"))
			cur = &l->ntung;
		else if (starts(line, n, "\tchain " FW_CHAIN_FWD_MARK " {"))
			cur = &l->nfm;
		else if (starts(line, n, "\tchain " FW_CHAIN_FWD_KS " {"))
			cur = &l->nfk;
		else if (starts(line, n, "\tchain " FW_CHAIN_DNS " {"))
			cur = &l->ndns;
		else if (starts(line, n, "\tchain ") || starts(line, n, "\tset "))
			cur = NULL;
		else if (starts(line, n, "\t}"))
			cur = NULL;
		else if (cur && starts(line, n, "\t\ttype "))
			*cur = 0;
		else if (cur && *cur >= 0 && starts(line, n, "\t\t"))
			(*cur)++;
		if (!*nl)
			break;
	}
}

/*
 * FNV-1a (64 bits) of a listing without what changes on its own: the
 * " # handle N" comments (new with every apply) and the elements of dynamic
 * sets (the per-user caps: added by the packet path, without any event).
 * Whatever else changes in the table changes the digest.
 */
static uint64_t digest(const char *p)
{
	static const char tag[] = " # handle ";
	uint64_t h = 0xcbf29ce484222325ULL;
	bool dynamic = false, skip = false;

	while (p && *p) {
		const char *nl = strchr(p, '\n'), *e;
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (starts(p, n, "\tset "))
			dynamic = false;
		else if (starts(p, n, "\t\tflags ") && memmem(p, n, "dynamic", 7))
			dynamic = true;
		else if (starts(p, n, "\t}"))
			skip = dynamic = false;
		if (dynamic && starts(p, n, "\t\telements = "))
			skip = true; /* up to the set's closing brace */
		for (e = p + n; !skip && p < e;) {
			if ((size_t)(e - p) > sizeof(tag) && !strncmp(p, tag, sizeof(tag) - 1) &&
			    p[sizeof(tag) - 1] >= '0' && p[sizeof(tag) - 1] <= '9') {
				p += sizeof(tag) - 1;
				while (p < e && *p >= '0' && *p <= '9')
					p++;
				continue;
			}
			h ^= (uint8_t)*p++;
			h *= 0x100000001b3ULL;
		}
		p += skip ? n : 0;
	}
	return h;
}

/* Is there a table inet proxyvpn, and is it ours? */
static int lookup(struct nft_ctx *ctx, struct listing *l, char *err, size_t errlen)
{
	const char *out, *p;
	bool found = false;
	int ret;

	memset(l, 0, sizeof(*l));
	ret = run(ctx, "list tables inet", err, errlen, "list tables");
	if (ret)
		return ret;
	out = nft_ctx_get_output_buffer(ctx);
	for (p = out; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (starts(p, n, "table inet " FW_TABLE) &&
		    (n == strlen("table inet " FW_TABLE) ||
		     p[strlen("table inet " FW_TABLE)] == ' '))
			found = true;
		p = nl ? nl + 1 : p + n;
	}
	if (!found)
		return 0;
	ret = run(ctx, "list table inet " FW_TABLE, err, errlen, "list table");
	if (ret)
		return ret;
	out = nft_ctx_get_output_buffer(ctx);
	parse_table(out, l);
	l->digest = digest(out);
	return 0;
}

static char *render_alloc(const struct fw_cfg *c, struct counts *n, int *ret)
{
	size_t len = SCRIPT_MIN;
	char *buf;

	for (;;) {
		buf = malloc(len);
		if (!buf) {
			*ret = -ENOMEM;
			return NULL;
		}
		*ret = render(c, buf, len, n);
		if (*ret >= 0)
			return buf;
		free(buf);
		if (*ret != -ENOSPC || len >= SCRIPT_MAX)
			return NULL;
		len *= 2;
	}
}

int fw_apply(const struct fw_cfg *c, char *err, size_t errlen)
{
	struct counts n = { 0 };
	int want_ks, want_fm, want_fk;
	struct nft_ctx *ctx = NULL;
	char *script, *cmd = NULL;
	struct listing l;
	size_t cmdlen;
	int ret;

#ifdef PROXYVPN_FAULT
	/*
	 * test builds only: fail as on a kernel without nf_tables (e2e upipt),
	 * or with "ctcount" as on one without nft_connlimit (e2e fair)
	 */
	const char *fault = getenv("PROXYVPN_FAULT_NFT");

	if (fault && (strcmp(fault, "ctcount") || c->user_tcp || (c->user_udp && c->udp_mark))) {
		errbuf_set(err, errlen,
			   "nft apply: Could not process rule: No such file or directory "
			   "(PROXYVPN_FAULT_NFT)");
		return -EIO;
	}
#endif
	script = render_alloc(c, &n, &ret);
	if (!script) {
		errbuf_set(err, errlen, "firewall: %s",
			   ret == -EINVAL ? "invalid configuration" : strerror(-ret));
		return ret;
	}
	ctx = ctx_new();
	if (!ctx) {
		errbuf_set(err, errlen, "firewall: cannot create an nftables context");
		ret = -ENOMEM;
		goto out;
	}
	ret = lookup(ctx, &l, err, errlen);
	if (ret)
		goto out;
	if (l.state == -EEXIST) {
		errbuf_set(err, errlen,
			   "table inet " FW_TABLE " exists but is not ours "
			   "(no comment \"" FW_TAG "...\"); not touching it");
		ret = -EEXIST;
		goto out;
	}
	if (l.state == 1 && strcmp(l.comment, c->owner ? c->owner : FW_TAG)) {
		errbuf_set(err, errlen, "table inet " FW_TABLE " belongs to another up (\"%s\")",
			   l.comment);
		ret = -EBUSY;
		goto out;
	}

	/*
	 * By name, not by handle: nft 1.0.6 resolves the new interval sets
	 * (auto-merge) against the old table's cache when it is deleted by
	 * handle in the same batch, and fails with ENOENT. A look-alike that
	 * replaced ours between lookup() and here would be deleted: that
	 * needs CAP_NET_ADMIN racing us, and create below still refuses to
	 * merge into a table it did not make.
	 */
	cmdlen = strlen(script) + 64;
	cmd = malloc(cmdlen);
	if (!cmd) {
		ret = -ENOMEM;
		errbuf_set(err, errlen, "firewall: %s", strerror(ENOMEM));
		goto out;
	}
	if (l.state == 1)
		snprintf(cmd, cmdlen, "delete table inet " FW_TABLE "\n%s", script);
	else
		snprintf(cmd, cmdlen, "%s", script);
	ret = run(ctx, cmd, err, errlen, "apply");
	if (ret)
		goto out;

	ret = lookup(ctx, &l, err, errlen);
	if (ret)
		goto out;
	/* a chain we did not render must be absent (-1), like the killswitch when off */
	want_ks = c->killswitch ? (int)n.ks : -1;
	want_fm = c->forward == FW_FWD_PROXY ? (int)n.fwd_mark : -1;
	want_fk = fwd_filter(c) ? (int)n.fwd_filter : -1;
	if (l.state != 1 || strcmp(l.comment, c->owner ? c->owner : FW_TAG) ||
	    l.nmark != (int)n.mark || l.nks != want_ks || l.nff != ff_rules(c) ||
	    l.nguard != guard_rules(c) || l.ntung != TUNG_RULES || l.nfm != want_fm ||
	    l.nfk != want_fk) {
		errbuf_set(
			err, errlen,
			"nft read-back: table %s, %d/%u marking rules, %d/%d killswitch "
			"rules, %d/%d fail-fast rules, %d/%d guard rules, %d/%d TUN guard rules, "
			"%d/%d forward marking rules, %d/%d forward filter rules",
			l.state == 1 ? "ours"
			: l.state    ? "not ours"
				     : "missing",
			l.nmark, n.mark, l.nks, want_ks, l.nff, ff_rules(c), l.nguard,
			guard_rules(c), l.ntung, TUNG_RULES, l.nfm, want_fm, l.nfk, want_fk);
		ret = -EPROTO;
	}
out:
	free(cmd);
	free(script);
	if (ctx)
		nft_ctx_free(ctx);
	return ret;
}

int fw_claim(const char *owner, char *err, size_t errlen)
{
	struct nft_ctx *ctx;
	char cmd[FW_COMMENT_MAX + 64];
	int ret;

	if (!owner || owner_parse(owner, strlen(owner), &(struct owner){ 0 }) < 0)
		return -EINVAL;
#ifdef PROXYVPN_FAULT
	/* test builds: as on a kernel without nf_tables (e2e upipt) */
	if (getenv("PROXYVPN_FAULT_NFT")) {
		errbuf_set(err, errlen,
			   "nft create table: No such file or directory (PROXYVPN_FAULT_NFT)");
		return -EIO;
	}
#endif
	ctx = ctx_new();
	if (!ctx) {
		errbuf_set(err, errlen, "firewall: cannot create an nftables context");
		return -ENOMEM;
	}
	/* create fails if the table exists: the kernel decides who was first */
	snprintf(cmd, sizeof(cmd), "create table inet " FW_TABLE " { comment \"%s\"; }", owner);
	ret = run(ctx, cmd, err, errlen, "create table");
	nft_ctx_free(ctx);
	return ret;
}

int fw_remove(const char *owner, char *err, size_t errlen)
{
	struct nft_ctx *ctx = ctx_new();
	struct listing l;
	char cmd[64];
	int ret;

	if (!ctx) {
		errbuf_set(err, errlen, "firewall: cannot create an nftables context");
		return -ENOMEM;
	}
	ret = lookup(ctx, &l, err, errlen);
	if (ret)
		goto out;
	if (l.state == -EEXIST) {
		errbuf_set(err, errlen,
			   "table inet " FW_TABLE " is not ours (no comment \"" FW_TAG
			   "...\"); left alone");
		ret = -EEXIST;
	} else if (l.state == 1 && strcmp(l.comment, owner ? owner : FW_TAG)) {
		errbuf_set(err, errlen,
			   "table inet " FW_TABLE " belongs to another up (\"%s\"); left alone",
			   l.comment);
		ret = -EBUSY;
	} else if (l.state == 1) {
		snprintf(cmd, sizeof(cmd), "delete table inet handle %" PRIu64, l.handle);
		ret = run(ctx, cmd, err, errlen, "delete table");
	}
out:
	nft_ctx_free(ctx);
	return ret;
}

int fw_owner(char *comment)
{
	struct nft_ctx *ctx;
	struct listing l;
	int ret;

#ifdef PROXYVPN_FAULT
	if (getenv("PROXYVPN_FAULT_NFT"))
		return -EIO; /* no nf_tables: nothing to list (e2e upipt) */
#endif
	ctx = ctx_new();
	if (!ctx)
		return -ENOMEM;
	ret = lookup(ctx, &l, NULL, 0);
	nft_ctx_free(ctx);
	if (!ret && l.state == 1 && comment)
		memcpy(comment, l.comment, sizeof(l.comment));
	return ret ? ret : l.state;
}

int fw_present(void)
{
	return fw_owner(NULL);
}

/* ---- the watcher and `status` ---- */

static const char *const chain_names[FW_CHAINS] = {
	[FW_CH_MARK] = FW_CHAIN_MARK,	  [FW_CH_FF] = FW_CHAIN_FF,
	[FW_CH_GUARD] = FW_CHAIN_GUARD,	  [FW_CH_TUNG] = FW_CHAIN_TUNG,
	[FW_CH_KS] = FW_CHAIN_KS,	  [FW_CH_FWD_MARK] = FW_CHAIN_FWD_MARK,
	[FW_CH_FWD_KS] = FW_CHAIN_FWD_KS, [FW_CH_DNS] = FW_CHAIN_DNS,
};
_Static_assert(sizeof(chain_names) / sizeof(chain_names[0]) == FW_CHAINS, "a name per chain");

const char *fw_chain_name(unsigned int i)
{
	return i < FW_CHAINS ? chain_names[i] : NULL;
}

int fw_expect(const struct fw_cfg *c, struct fw_seen *want)
{
	struct counts n = { 0 };
	char *script;
	int ret;

	memset(want, 0, sizeof(*want));
	script = render_alloc(c, &n, &ret);
	if (!script)
		return ret;
	free(script);
	/* as fw_apply's read-back: a chain not rendered is absent (-1) */
	want->state = 1;
	want->rules[FW_CH_MARK] = (int)n.mark;
	want->rules[FW_CH_FF] = ff_rules(c);
	want->rules[FW_CH_GUARD] = guard_rules(c);
	want->rules[FW_CH_TUNG] = TUNG_RULES;
	want->rules[FW_CH_KS] = c->killswitch ? (int)n.ks : -1;
	want->rules[FW_CH_FWD_MARK] = c->forward == FW_FWD_PROXY ? (int)n.fwd_mark : -1;
	want->rules[FW_CH_FWD_KS] = fwd_filter(c) ? (int)n.fwd_filter : -1;
	want->rules[FW_CH_DNS] = c->dns_steer ? (int)n.dns : -1;
	return 0;
}

int fw_inspect(struct fw_seen *out, char *err, size_t errlen)
{
	struct nft_ctx *ctx = ctx_new();
	struct listing l;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!ctx) {
		errbuf_set(err, errlen, "firewall: cannot create an nftables context");
		return -ENOMEM;
	}
	ret = lookup(ctx, &l, err, errlen);
	nft_ctx_free(ctx);
	if (ret)
		return ret;
	out->state = l.state;
	out->rules[FW_CH_MARK] = l.nmark;
	out->rules[FW_CH_FF] = l.nff;
	out->rules[FW_CH_GUARD] = l.nguard;
	out->rules[FW_CH_TUNG] = l.ntung;
	out->rules[FW_CH_KS] = l.nks;
	out->rules[FW_CH_FWD_MARK] = l.nfm;
	out->rules[FW_CH_FWD_KS] = l.nfk;
	out->rules[FW_CH_DNS] = l.ndns;
	out->digest = l.state == 1 ? l.digest : 0;
	if (l.state == 0) /* absent: no chain either */
		for (unsigned int i = 0; i < FW_CHAINS; i++)
			out->rules[i] = -1;
	return 0;
}

int fw_diff(const struct fw_seen *want, const struct fw_seen *have, char *what, size_t len)
{
	size_t off = 0;
	unsigned int i;

	if (len)
		what[0] = '\0';
	if (have->state != 1) {
		snprintf(what, len, "table inet " FW_TABLE " %s",
			 have->state == 0 ? "removed" : "replaced by one not ours");
		return 1;
	}
	for (i = 0; i < FW_CHAINS; i++) {
		int n;

		if (have->rules[i] == want->rules[i])
			continue;
		if (want->rules[i] < 0)
			n = snprintf(what + off, len - off, "%schain %s added", off ? ", " : "",
				     chain_names[i]);
		else if (have->rules[i] < 0)
			n = snprintf(what + off, len - off, "%schain %s removed", off ? ", " : "",
				     chain_names[i]);
		else
			n = snprintf(what + off, len - off, "%schain %s: %d of %d rules",
				     off ? ", " : "", chain_names[i], have->rules[i],
				     want->rules[i]);
		if (n < 0 || (size_t)n >= len - off)
			return 1;
		off += (size_t)n;
	}
	if (off)
		return 1;
	if (want->digest && have->digest != want->digest) {
		snprintf(what, len, "table inet " FW_TABLE " changed");
		return 1;
	}
	return 0;
}
