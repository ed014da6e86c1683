/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef PROXYVPN_FW_H
#define PROXYVPN_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Host mode's nftables ruleset: one table `inet proxyvpn`, applied through
 * libnftables as one transaction. Its comment names its owner, the `up`
 * that made it (owner.h: "proxyvpn uid=U pid=P start=S"); a table whose
 * comment is the bare FW_TAG was made before owners were recorded. Any
 * other comment, or none, is a look-alike that is never touched. Needs
 * CAP_NET_ADMIN in the caller's network namespace.
 */
#define FW_TABLE	 "proxyvpn"
#define FW_TAG		 "proxyvpn"
#define FW_MAX_NETS	 1024 /* per list (proxy, exclude, dns) */
#define FW_MAX_OWNERS	 16   /* per list (exclude_uid, exclude_cgroup, exclude_peer) */
#define FW_CGROUP_MAX	 256
#define FW_MAX_DHCP_UIDS 4 /* besides root: see fw_cfg.dhcp_uids */

/*
 * Traffic this host forwards (containers, VMs, network namespaces behind a
 * bridge or veth; later a LAN, --gateway). Zero is the old behaviour, so a
 * cfg that does not say is unchanged.
 */
enum fw_forward {
	FW_FWD_DIRECT = 0, /* untouched: the main table routes it out */
	FW_FWD_PROXY,	   /* marked like the host's own, so routed into the TUN */
	FW_FWD_BLOCK,	   /* dropped, except to the proxy, --exclude and on its own link */
};

/* The table's chains (the state file records FW_CHAIN_MARK as the table's chain). */
#define FW_CHAIN_MARK	  "mark_tcp"	 /* route output: marks TCP (and UDP with udp_mark) */
#define FW_CHAIN_KS	  "killswitch"	 /* filter output, policy drop */
#define FW_CHAIN_DNS	  "dns_nat"	 /* nat output: DNS to the engine's resolver (dns_steer) */
#define FW_CHAIN_FF	  "fail_fast"	 /* filter input: resets marked TCP that reaches lo */
#define FW_CHAIN_GUARD	  "mark_guard"	 /* filter postrouting: marked only via the TUN or lo */
#define FW_CHAIN_TUNG	  "tun_guard"	 /* filter output: nothing unmarked into the TUN */
#define FW_CHAIN_FWD_MARK "forward_mark" /* filter prerouting: marks forwarded traffic */
#define FW_CHAIN_FWD_KS	  "forward_filter"  /* filter forward, policy drop (fwd_filter) */
#define FW_CHAIN_FWD_DNS  "forward_dns_nat" /* nat prerouting: forwarded DNS to the resolver */

struct fw_net {
	int family;	  /* AF_INET (addr[0..3]) or AF_INET6 */
	uint8_t addr[16]; /* network byte order; host bits are masked off when rendered */
	uint8_t prefix;	  /* 0..32 or 0..128 */
};

/*
 * A cgroup v2 whose sockets stay out of the tunnel. nft resolves a path below
 * /sys/fs/cgroup to the cgroup's id when the ruleset is loaded; the kernel
 * then matches the socket's cgroup (or its ancestor at level).
 */
struct fw_cgroup {
	char path[FW_CGROUP_MAX]; /* from the v2 root, no leading '/': "system.slice/tor.service" */
	char under[FW_CGROUP_MAX]; /* the v2 mount below /sys/fs/cgroup: "" or e.g. "unified" */
	unsigned int level;	   /* path's depth (its number of components), 1-255 */
};

/* One TCP destination that stays out of the tunnel (a local proxy's upstream). */
struct fw_peer {
	int family;	  /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order */
	uint16_t port;	  /* host order, not 0 */
};

/*
 * A cgroup path fw.c and fw-ipt.c accept (also for `under`, where "" is
 * fine): components of [A-Za-z0-9._@:+-] separated by single '/', none "."
 * or "..", no leading or trailing '/'. Returns its number of components
 * (0 for ""), or -EINVAL.
 */
int fw_cgroup_depth(const char *path);

struct fw_cfg {
	const char *owner; /* the table's comment: an owner record (owner.h); NULL: FW_TAG */
	const char *tun;   /* TUN name: 1..15 of [A-Za-z0-9_.-], not "." or ".." */
	uint32_t mark;	   /* fwmark that routes TCP to the TUN's table; not 0 */
	bool killswitch;
	const struct fw_net *proxy; /* the upstream proxy's addresses: with */
	size_t nproxy;
	uint16_t proxy_port; /* its port (not 0 when nproxy > 0), the only thing unmarked */
	const struct fw_net *exclude; /* --exclude: never marked, allowed out */
	size_t nexclude;
	const struct fw_net *dns; /* allowed resolvers (UDP and TCP 53) */
	size_t ndns;
	/*
	 * --dns virtual|tcp: DNS (UDP and TCP 53) to any non-loopback
	 * address is marked (routed to the TUN) and DNATed to the engine's
	 * resolver, dns4 / dns6, in chain dns_nat (nat, output).
	 */
	bool dns_steer;
	uint8_t dns4[4], dns6[16];
	/*
	 * --udp: udp_mark marks UDP like TCP (routed to the TUN, where the
	 * engine relays it or answers port unreachable), except loopback,
	 * replies, the proxy's addresses (its UDP relay), the exclude set,
	 * the excluded owners below, DHCP / DHCPv6 client traffic
	 * and, without dns_steer, DNS (UDP 53) to the dns set; the killswitch
	 * then accepts marked UDP and UDP to the proxy's addresses (its
	 * UDP ASSOCIATE relay). udp_bypass: the killswitch accepts all UDP.
	 */
	bool udp_mark, udp_bypass;
	/*
	 * A proxy on this host (localproxy.c) and --exclude-uid,
	 * --exclude-cgroup: traffic of these socket owners, of sockets in
	 * these cgroups and TCP to these peers is never marked, never
	 * DNS-steered, and the killswitch lets it through (like --exclude).
	 */
	const uint32_t *exclude_uid;
	size_t nexclude_uid;
	const struct fw_cgroup *exclude_cgroup;
	size_t nexclude_cgroup;
	const struct fw_peer *exclude_peer;
	size_t nexclude_peer;
	/*
	 * Per-user caps (0: none): a uid other than root may hold at most
	 * user_tcp marked TCP connections, and with udp_mark user_udp marked
	 * UDP flows (conntrack entries; DNS not counted), at once. Past that,
	 * its new ones are refused (TCP reset, ICMP admin-prohibited) before
	 * they reach the engine, whose limits every user shares. nftables
	 * only (ct count per socket uid); fw-ipt.c ignores them.
	 */
	uint32_t user_tcp, user_udp;
	/*
	 * Forwarded traffic. PROXY: chain forward_mark (prerouting) marks
	 * what is routed through this host by the same rules as the host's
	 * own output (so the fwmark rule sends it to the TUN; socket owners,
	 * peers and DHCP are the host's only), and with the killswitch chain
	 * forward_filter (forward, policy drop) lets it out by the TUN only,
	 * to the proxy, to --exclude, DNS as for the host. BLOCK:
	 * forward_filter alone, with the proxy and --exclude only.
	 */
	enum fw_forward forward;
	/*
	 * DHCP renewals (UDP from port 68 to 67, unicast to the server) pass
	 * the killswitch only from sockets of root and of these uids (the
	 * system user of systemd-networkd, which renews as that user): a
	 * process that can merely bind port 68 gets no way out.
	 */
	uint32_t dhcp_uids[FW_MAX_DHCP_UIDS];
	size_t ndhcp_uids;
};

/* 0 if c is valid for fw_render() (and fw-ipt.c), else -EINVAL. */
int fw_cfg_check(const struct fw_cfg *c);

/* A TUN name the rulesets may quote: 1..15 of [A-Za-z0-9_.-], not "." or "..". */
bool fw_tun_ok(const char *name);

/* "ADDR" or "ADDR/PREFIX", host bits cleared. 0, -EINVAL or -ENOSPC. */
#define FW_NET_STRLEN 64
int fw_net_str(const struct fw_net *x, char *out, size_t len);

/*
 * Parses an IPv4 or IPv6 address, with cidr also "ADDR/PREFIX" (prefix in
 * decimal, at most the family's width; host bits are kept, fw_net_str
 * clears them). 0, or -EINVAL with *n zeroed. Pure.
 */
int fw_net_parse(const char *s, bool cidr, struct fw_net *n);

/*
 * The nft script (NUL-terminated) that creates our table; no I/O. Returns
 * its length without the NUL, -EINVAL for a bad cfg, -ENOSPC if buf is too
 * small (buf then holds a truncated, NUL-terminated prefix when len > 0).
 */
int fw_render(const struct fw_cfg *c, char *buf, size_t len);

/*
 * One transaction: delete our table if present, create the new one; then
 * list it back and check the comment and the number of rules per chain.
 * Refuses a table `inet proxyvpn` with another comment: -EBUSY if it names
 * another owner (or the bare tag when c->owner is set), -EEXIST for a
 * look-alike. A failed read-back leaves the table in place (fail closed)
 * and returns -EPROTO. 0 or -errno, with a one-line reason in err (may be
 * NULL).
 */
int fw_apply(const struct fw_cfg *c, char *err, size_t errlen);

/*
 * Claims the table name for owner (an owner record): creates an empty
 * `inet proxyvpn` with that comment, atomically. -EEXIST if any table of
 * that name exists (whoever made it), 0 or another -errno.
 */
int fw_claim(const char *owner, char *err, size_t errlen);

/*
 * Deletes table inet proxyvpn (by handle) only if its comment is owner
 * (NULL: FW_TAG). 0 also when absent; -EBUSY if it is ours with another
 * owner, -EEXIST for a look-alike: both left untouched.
 */
int fw_remove(const char *owner, char *err, size_t errlen);

/*
 * 1 if a table of ours exists (comment FW_TAG or an owner record, copied
 * into comment, which holds FW_COMMENT_MAX + 1 bytes; may be NULL), 0 if
 * absent, -EEXIST for a look-alike, or -errno.
 */
#define FW_COMMENT_MAX 127
int fw_owner(char *comment);

/* fw_owner(NULL). */
int fw_present(void);

/*
 * What the watcher and `status` see of our table: whether it is there, the
 * rules in each of its base chains, and a digest of the whole listing
 * (without handles), so that a change that keeps the counts is seen too.
 */
enum fw_chain {
	FW_CH_MARK,
	FW_CH_FF,
	FW_CH_GUARD,
	FW_CH_TUNG,
	FW_CH_KS,
	FW_CH_FWD_MARK,
	FW_CH_FWD_KS,
	FW_CH_DNS,
	FW_CHAINS,
};
struct fw_seen {
	int state;	      /* 1 ours, 0 absent, -EEXIST a look-alike */
	int rules[FW_CHAINS]; /* rules per chain, -1 where the chain is absent */
	uint64_t digest;      /* FNV-1a of `list table` without handles; 0 unless ours */
};

/* "mark_tcp", ...; NULL for i >= FW_CHAINS. */
const char *fw_chain_name(unsigned int i);

/* What fw_apply(c) installs (state 1, rules per chain; digest 0). 0 or -EINVAL. */
int fw_expect(const struct fw_cfg *c, struct fw_seen *want);

/* Lists our table now (needs CAP_NET_ADMIN: -EPERM). 0 or -errno (reason in err). */
int fw_inspect(struct fw_seen *out, char *err, size_t errlen);

/*
 * 0 if have is what want describes (and has want->digest, unless that is
 * 0); else 1 with what differs, for a log line ("chain killswitch removed",
 * "table inet proxyvpn removed"...), in what.
 */
int fw_diff(const struct fw_seen *want, const struct fw_seen *have, char *what, size_t len);

#endif
