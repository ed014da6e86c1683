/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host mode's rules of ownership (issue 13 item 2), for `up` and `down`
 * (who may use the capability at all is access.h's): whose objects the
 * host holds (claim.h), what the caller may do about them, the claim of a
 * new `up`, and its TUN, which never attaches to an interface that exists.
 */
#ifndef PROXYVPN_UP_OWNER_H
#define PROXYVPN_UP_OWNER_H

#include <net/if.h>
#include <stdbool.h>

#include "claim.h"
#include "owner.h"

struct up_owner {
	struct claim host;	    /* what the host held when we looked */
	enum claim_verdict verdict; /* what the caller may do about it */
	struct owner self;
	char rec[OWNER_STR_MAX + 1]; /* self's record */
	bool claimed;		     /* the table we made for self is there to remove */
};

/*
 * For cmd ("up", "down"): who owns the host. 0 if the caller may go on (nothing there, or
 * leftovers of a dead `up` it may remove: o->verdict), else the exit status
 * after one log line naming the owner: a live `up` (anyone's), a dead one's
 * leftovers that are not the caller's, a look-alike table (for `up`).
 */
int up_owner_check(const char *cmd, struct up_owner *o);

/*
 * May the caller remove host-wide objects that no owner record names
 * (rules and routes of ours found by their tag, a state file's record)?
 * Root may; another uid only when the host holds its own dead claim.
 */
bool up_owner_may_clean(const struct up_owner *o);

/*
 * up: claims the host for this process (an empty table inet proxyvpn whose
 * comment is o->rec, one atomic create). Root on a host whose nftables
 * cannot be used goes on unclaimed (the iptables fallback). 0 or the exit
 * status after logging (another up won the race: it is named).
 */
int up_owner_take(struct up_owner *o);

/* up's teardown: the claim removed if it is still there (after the firewall). */
void up_owner_release(struct up_owner *o);

/*
 * up's TUN: want must not exist (-EEXIST, logged). Made under a name the
 * kernel picks, then renamed to want (atomic: a link that appeared since
 * fails it), its alias set to o->rec and its owner to root, so that no
 * other uid attaches a queue. n queues into fds; *ifindex, name. 0 or
 * -errno after logging.
 */
int up_owner_tun(const struct up_owner *o, const char *want, bool offload, bool *vnet, int *fds,
		 int n, char name[IFNAMSIZ], int *ifindex);

#endif
