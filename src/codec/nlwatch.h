/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The watcher's reading of netlink notifications (pure, no I/O): which of
 * them touch what `up` installed. The input is what one recv() returned on
 * a socket subscribed to NFNLGRP_NFTABLES (nf_tables) or to the rtnetlink
 * groups of rules, routes, links and addresses. Only the kernel can send
 * there (the caller drops anything whose sender is not port 0), but the
 * bytes are still checked like any input: every message and attribute
 * length against what was received, a malformed message ends the buffer.
 *
 * What a notification says is only a hint of where to look: the watcher
 * then checks the objects themselves (fw.c, route.c, nl.c) and repairs
 * what is missing or changed, so a notification that is missed or
 * misread costs a check, never a wrong repair.
 */
#ifndef PROXYVPN_NLWATCH_H
#define PROXYVPN_NLWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	NLW_NFT = 1 << 0,  /* our nft table (inet, ids.nft_table): anything in it, or it, changed */
	NLW_IPT = 1 << 1,  /* iptables-nft's filter or mangle table (ip, ip6), if ids.ipt */
	NLW_RULE = 1 << 2, /* an ip rule with our priority, table or fwmark, added or deleted */
	NLW_ROUTE = 1 << 3,	/* a route in our table, added, replaced or deleted */
	NLW_LINK = 1 << 4,	/* our TUN deleted or changed (e.g. set down) */
	NLW_ADDR = 1 << 5,	/* an address of our TUN deleted */
	NLW_ALL = (1 << 6) - 1, /* every place to look */
	/*
	 * A hint, not a place: a transaction by another process than ids.self
	 * deleted our nft table itself (no need to look before putting it
	 * back). Known at the transaction's end (its NEWGEN message).
	 */
	NLW_NFT_GONE = 1 << 6,
};

enum { NLW_COMM_MAX = 15 }; /* TASK_COMM_LEN - 1 */

/* What is ours: the names and numbers `up` installed. */
struct nlw_ids {
	const char *nft_table; /* "proxyvpn": family inet */
	bool ipt;	       /* the iptables fallback is in use: watch filter and mangle */
	int ifindex;	       /* the TUN */
	uint32_t table;	       /* our routing table */
	uint32_t prio;	       /* our rule's priority */
	uint32_t mark;	       /* our fwmark */
	uint32_t catch_table;  /* the catch-all's table and its rule's priority */
	uint32_t catch_prio;
	uint32_t self; /* our pid: our own transactions delete and re-create the table */
};

/* Accumulated over the buffers read since the caller last cleared it. */
struct nlw_seen {
	uint32_t bits; /* NLW_* and NLW_NFT_GONE */
	/*
	 * The process behind the last nf_tables transaction that touched ours
	 * (from its NEWGEN message; pid 0 if unknown), for the log line.
	 */
	uint32_t pid;
	char comm[NLW_COMM_MAX + 1];
	uint32_t pending; /* NLW_NFT, NLW_IPT, NLW_NFT_GONE seen since the last NEWGEN */
};

/*
 * Reads every message of buf[0..len) and adds what touches ids to *s.
 * Messages of other families and types are skipped. 0, or -EBADMSG at the
 * first malformed message (what came before it still counts).
 */
int nlw_parse(const void *buf, size_t len, const struct nlw_ids *ids, struct nlw_seen *s);

#endif
