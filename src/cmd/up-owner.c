// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may touch the host's objects (up-owner.h). Every refusal names the
 * owner (pid and user) so that whoever is refused knows whom to ask; a
 * refusal changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fw.h"
#include "log.h"
#include "nl.h"
#include "route.h"
#include "tun.h"
#include "up-owner.h"

#define TUN_TEMPLATE "pvpn%d" /* the kernel picks a free name: always a new link */

int up_owner_check(const char *cmd, struct up_owner *o)
{
	char who[128];
	int ret;

	memset(o, 0, sizeof(*o));
	ret = claim_probe(&o->host);
	if (ret < 0) {
		log_error("%s: reading the host's links: %s", cmd, strerror(-ret));
		return EXIT_ENV;
	}
	o->verdict = claim_verdict(&o->host);
	claim_describe(&o->host.o, who, sizeof(who));
	switch (o->verdict) {
	case CLAIM_FREE:
	case CLAIM_MINE_DEAD:
		return 0;
	case CLAIM_LIVE:
		if (!strcmp(cmd, "down"))
			log_error(
				"down: proxyvpn up is running on this host, %s%s%s: its objects are "
				"its own to remove (stop it: kill -TERM %u)",
				who, o->host.tun ? ", TUN " : "",
				o->host.tun ? o->host.tun_name : "", o->host.o.pid);
		else
			log_error(
				"up: proxyvpn up is running on this host, %s%s%s: one up at a time",
				who, o->host.tun ? ", TUN " : "",
				o->host.tun ? o->host.tun_name : "");
		return EXIT_ENV;
	case CLAIM_OTHERS_DEAD:
		if (o->host.nft_owner)
			log_error("%s: the host holds the firewall and routes of a dead up, %s: "
				  "only root or that user may remove them (proxyvpn down)",
				  cmd, who);
		else
			log_error(
				"%s: the host holds the firewall of a dead up of an older "
				"proxyvpn, which did not record its owner: only root may remove it "
				"(proxyvpn down)",
				cmd);
		return EXIT_ENV;
	case CLAIM_LOOKALIKE:
		if (!strcmp(cmd, "down")) {
			log_info("down: nftables table inet %s is not ours: left alone", FW_TABLE);
			return 0;
		}
		log_error("up: nftables table inet %s exists but is not ours (its comment is not "
			  "\"%s ...\"): not touching it",
			  FW_TABLE, OWNER_TAG);
		return EXIT_SETUP;
	case CLAIM_UNKNOWN:
		break;
	}
	log_error("%s: cannot read the host's nftables tables (%s), so cannot tell who owns the "
		  "host",
		  cmd, strerror(o->host.nft == -EIO ? EIO : -o->host.nft));
	return EXIT_ENV;
}

bool up_owner_may_clean(const struct up_owner *o)
{
	return getuid() == 0 || o->verdict == CLAIM_MINE_DEAD;
}

int up_owner_take(struct up_owner *o)
{
	struct claim again;
	char err[256], who[128];
	int ret;

	if (claim_self(&o->self) < 0 || owner_format(&o->self, o->rec, sizeof(o->rec)) < 0) {
		log_error("up: cannot read our own start time in /proc");
		return EXIT_SETUP;
	}
	ret = fw_claim(o->rec, err, sizeof(err));
	if (ret == 0) {
		o->claimed = true;
		log_debug("up: the host is ours: table inet %s, \"%s\"", FW_TABLE, o->rec);
		return 0;
	}
	if (ret != -EEXIST) {
		if (getuid() == 0 && geteuid() == 0) {
			log_debug("up: no nftables claim (%s): the iptables fallback", err);
			return 0;
		}
		log_error("up: %s", err);
		return EXIT_SETUP;
	}
	/* someone made the table since we looked: name them */
	if (claim_probe(&again) == 0 && again.nft == 1 && again.nft_owner) {
		claim_describe(&again.o, who, sizeof(who));
		log_error("up: proxyvpn up is running on this host, %s: one up at a time", who);
	} else {
		log_error("up: nftables table inet %s appeared while we looked: not ours",
			  FW_TABLE);
	}
	return EXIT_ENV;
}

void up_owner_release(struct up_owner *o)
{
	char err[256];

	if (!o->claimed)
		return;
	if (fw_remove(o->rec, err, sizeof(err)) < 0)
		log_error("up: teardown: removing our claim: %s", err);
	o->claimed = false;
}

int up_owner_tun(const struct up_owner *o, const char *want, bool offload, bool *vnet, int *fds,
		 int n, char name[IFNAMSIZ], int *ifindex)
{
	struct nl *nl = nl_open();
	int ret, i;

	if (!nl) {
		ret = -errno;
		log_error("up: netlink socket: %s", strerror(-ret));
		return ret;
	}
	if (nl_link_index(nl, want) > 0) {
		log_error(
			"up: interface %s already exists: not taking it (choose another with --tun)",
			want);
		nl_close(nl);
		return -EEXIST;
	}
	ret = tun_open_queues(TUN_TEMPLATE, name, offload, vnet, fds, n);
	if (ret < 0) {
		log_error("up: creating TUN `%s'%s: %s", want, n > 1 ? " with several queues" : "",
			  strerror(-ret));
		nl_close(nl);
		return ret;
	}
	ret = *ifindex = nl_link_index(nl, name);
	if (ret > 0)
		ret = tun_set_owner(fds[0], 0);
	if (ret >= 0)
		ret = nl_link_set_names(nl, *ifindex, strcmp(name, want) ? want : NULL,
					o->rec[0] ? o->rec : NULL);
	nl_close(nl);
	if (ret == -EEXIST) {
		log_error(
			"up: interface %s already exists: not taking it (choose another with --tun)",
			want);
	} else if (ret < 0) {
		log_error("up: naming TUN %s: %s", want, strerror(-ret));
	} else {
		snprintf(name, IFNAMSIZ, "%s", want);
		return 0;
	}
	for (i = 0; i < n; i++) {
		close(fds[i]);
		fds[i] = -1;
	}
	return ret;
}
