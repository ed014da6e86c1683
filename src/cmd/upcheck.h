/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `status` never takes the state file's word for a protection: for every
 * object an `up` recorded, it looks in the kernel (the TUN and its state,
 * its addresses, the routes and rules, the firewall table or chains) and
 * names what is missing or changed. The nftables table is compared with
 * the digest the watcher recorded once it verified it (watchrec.h).
 */
#ifndef PROXYVPN_UPCHECK_H
#define PROXYVPN_UPCHECK_H

#include <stdbool.h>

#include <sys/types.h>

#include "state.h"
#include "watchrec.h"

struct jbuf;

enum {
	UPCHECK_MAX = 32, /* names kept; more are counted */
	UPCHECK_NAME_MAX = 96,
};

struct upcheck {
	int fw; /* the firewall (killswitch) as a whole: 1 in place, 0 not, -1 not checked */
	unsigned int nmissing, nunchecked;
	char missing[UPCHECK_MAX][UPCHECK_NAME_MAX]; /* "the TUN pvpn0", "IPv4 fwmark rule"... */
	char unchecked[4][UPCHECK_NAME_MAX];	     /* what could not be looked at, and why */
};

/*
 * Looks for s's objects in the kernel. rec (may be NULL) is the watcher's
 * record of the same up: its nft digest, if any, must match. Never fails:
 * what cannot be looked at is listed in unchecked.
 */
void upcheck_run(const struct state *s, const struct watchrec *rec, struct upcheck *out);

/*
 * A running up's phase: starting until its watcher has recorded that
 * everything is verified in place (then running), degraded when that was
 * so but something is missing now.
 */
enum up_phase { UP_PHASE_STARTING, UP_PHASE_RUNNING, UP_PHASE_DEGRADED };

struct uphealth {
	enum up_phase phase;
	bool have_rec; /* the watcher's record of this up (its pid) */
	struct watchrec rec;
	struct upcheck chk;
};

/*
 * For the up holding the lock (holder): its record, the kernel check of s
 * (NULL: no state file yet) and the phase. Returns the exit status:
 * EXIT_OK_UP, EXIT_STARTING or EXIT_DEGRADED (cli.h).
 */
int uphealth_get(int dirfd, pid_t holder, const struct state *s, struct uphealth *h);

/* The "up: ..." line and what follows it, for `status`. */
void uphealth_print(const struct uphealth *h, pid_t holder);

/* ,"phase":...,"missing":[...],"unchecked":[...],"watch":{...}|null for `status --json`. */
void uphealth_json(struct jbuf *b, const struct uphealth *h);

#endif
