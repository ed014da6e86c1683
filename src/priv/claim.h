/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One host, one owner (issue 13 item 2). The host's objects (the nftables
 * table, the ip rules and routing tables, the TUN) belong to exactly one
 * live `up`, whoever started it. Its owner record (owner.h) is written into
 * the kernel objects themselves, so that every `up` and `down` finds it
 * whatever state directory it was given:
 *
 *  - the comment of table `inet proxyvpn`, created empty with that comment
 *    before anything else (fw_claim: the kernel lets exactly one `create`
 *    win) and kept by every later replacement of the table;
 *  - the ifalias of the TUN, which lives exactly as long as the `up` that
 *    holds it (it is not persistent), and which stays when someone removes
 *    the table (`nft flush ruleset`).
 *
 * What one may do about a claim (claim_verdict): nothing while its owner
 * lives; after it died, its leftovers are removed only by root or by the
 * uid that made them.
 */
#ifndef PROXYVPN_CLAIM_H
#define PROXYVPN_CLAIM_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "owner.h"

struct claim {
	int nft;	/* 1: a table of ours, 0: none, -EEXIST: a look-alike, -errno */
	bool nft_owner; /* the table names its owner (else the bare tag of old runs) */
	char comment[OWNER_STR_MAX + 1]; /* the table's comment when ours (nft 1) */
	struct owner o;			 /* the owner, from the table, else from a live TUN */
	bool live;			 /* that owner runs */
	bool tun;			 /* a TUN names a live owner (tun_name) */
	char tun_name[IFNAMSIZ];
};

enum claim_verdict {
	CLAIM_FREE = 0,	   /* nothing of ours on the host: go on */
	CLAIM_MINE_DEAD,   /* a dead up's leftovers the caller may remove */
	CLAIM_LIVE,	   /* a live up owns the host: hands off */
	CLAIM_OTHERS_DEAD, /* a dead up's leftovers that are not the caller's */
	CLAIM_LOOKALIKE,   /* a table inet proxyvpn that is not ours */
	CLAIM_UNKNOWN,	   /* nftables could not be read (root: CLAIM_FREE, for iptables) */
};

/* The calling process: real uid, pid, start time. 0 or -errno. */
int claim_self(struct owner *o);

/*
 * 1 if o's process runs (its pid exists with the same start time), else 0.
 * A process /proc does not show (hidepid=2) counts as gone: the verdicts
 * below still keep another uid's objects safe, and a live owner's TUN is
 * found without /proc.
 */
int claim_alive(const struct owner *o);

/* Reads the table's comment and every link's alias into *c. 0 or -errno. */
int claim_probe(struct claim *c);

/* What the calling uid (getuid()) may do about *c. */
enum claim_verdict claim_verdict(const struct claim *c);

/*
 * "pid P of user NAME (uid U)" into buf, for messages; the name comes from
 * the passwd database when it has one.
 */
void claim_describe(const struct owner *o, char *buf, size_t len);

#endif
