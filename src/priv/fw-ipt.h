/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The iptables fallback of host mode's firewall, for hosts whose kernel has
 * no nf_tables (or when asked with --firewall iptables): the same marking,
 * killswitch and fail-fast rules as fw.c's nftables table, in chains of our
 * own (FW_IPT_CHAIN_*) reached by one jump per built-in chain, each jump
 * tagged with the comment FW_TAG. Applied with iptables-restore and
 * ip6tables-restore --noflush (fork + exec, root only: the binaries are
 * a fallback, never run with a borrowed capability).
 */
#ifndef PROXYVPN_FW_IPT_H
#define PROXYVPN_FW_IPT_H

#include <stdbool.h>
#include <stddef.h>

#include "fw.h"

/* Our chains; the state file records FW_IPT_CHAIN_PREFIX as the chain name. */
#define FW_IPT_CHAIN_PREFIX "PROXYVPN"
#define FW_IPT_CHAIN_MARK   FW_IPT_CHAIN_PREFIX "-MARK"	 /* mangle OUTPUT: marks TCP */
#define FW_IPT_CHAIN_KS	    FW_IPT_CHAIN_PREFIX "-KS"	 /* filter OUTPUT: the killswitch */
#define FW_IPT_CHAIN_FF	    FW_IPT_CHAIN_PREFIX "-FF"	 /* filter INPUT: fail fast after a crash */
#define FW_IPT_CHAIN_GUARD  FW_IPT_CHAIN_PREFIX "-GUARD" /* mangle POSTROUTING: TUN or lo only */
#define FW_IPT_CHAIN_TUNG \
	FW_IPT_CHAIN_PREFIX "-TUNG" /* filter OUTPUT: nothing unmarked to the TUN */
#define FW_IPT_CHAIN_FWDMARK \
	FW_IPT_CHAIN_PREFIX "-FWDMARK"		    /* mangle PREROUTING: marks forwarded traffic */
#define FW_IPT_CHAIN_FWD FW_IPT_CHAIN_PREFIX "-FWD" /* filter FORWARD: forwarded only by the TUN */

/*
 * The iptables-restore input (NUL-terminated) for one family (AF_INET or
 * AF_INET6; only that family's addresses are used); no I/O. Returns its
 * length, -EINVAL for a bad cfg or family, -ENOSPC if buf is too small.
 */
int fw_ipt_render(const struct fw_cfg *c, int family, char *buf, size_t len);

/*
 * Removes any earlier chains of ours, then applies the ruleset for IPv4 and,
 * if ipv6, IPv6 (the filter table before mangle: killswitch before marks).
 * On failure, removes what it added. -EPERM when not root. 0 or -errno,
 * with a one-line reason in err.
 */
int fw_ipt_apply(const struct fw_cfg *c, bool ipv6, char *err, size_t errlen);

/*
 * Deletes our tagged jumps, then flushes and deletes our chains, in both
 * families (absent ones are not an error). 0 or the first -errno.
 */
int fw_ipt_remove(char *err, size_t errlen);

/* 1 if any chain of ours exists (either family), 0 if none, -errno (-EPERM: not root). */
int fw_ipt_present(void);

/*
 * The watcher's check: every chain fw_ipt_apply(c, ipv6) creates exists and
 * its tagged jump is in place. The rules inside the chains are not compared.
 * 0 if so; 1 with what is missing named in what ("chain PROXYVPN-KS removed
 * (IPv4)"...); -EPERM when not root.
 */
int fw_ipt_check(const struct fw_cfg *c, bool ipv6, char *what, size_t len);

#endif
