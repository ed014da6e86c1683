// SPDX-License-Identifier: GPL-2.0-only
/*
 * Netlink notifications, reduced to "this touches something of ours" for
 * the watcher (nlwatch.h). Attributes are validated (mnl_attr_validate)
 * before use; a name attribute must be NUL-terminated within its length.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "nlwatch.h"

/* The table a nf_tables object message names, by message type. */
static int nft_table_attr(uint8_t msg)
{
	switch (msg) {
	case NFT_MSG_NEWTABLE:
	case NFT_MSG_DELTABLE:
		return NFTA_TABLE_NAME;
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		return NFTA_CHAIN_TABLE;
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
		return NFTA_RULE_TABLE;
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
		return NFTA_SET_TABLE;
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		return NFTA_SET_ELEM_LIST_TABLE;
	case NFT_MSG_NEWOBJ:
	case NFT_MSG_DELOBJ:
		return NFTA_OBJ_TABLE;
	case NFT_MSG_NEWFLOWTABLE:
	case NFT_MSG_DELFLOWTABLE:
		return NFTA_FLOWTABLE_TABLE;
	}
	return -1; /* NEWGEN, TRACE, GET*: no table */
}

/*
 * The string attribute of type want, validated; NULL if absent or (*bad
 * set) malformed.
 */
static const char *str_attr(const struct nlmsghdr *nlh, size_t off, int want, bool *bad)
{
	struct nlattr *a; /* non-const: mnl_attr_for_each casts it */

	mnl_attr_for_each(a, nlh, off)
	{
		if (mnl_attr_get_type(a) != want)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0) {
			*bad = true;
			return NULL;
		}
		return mnl_attr_get_str(a);
	}
	return NULL;
}

static int nft_msg(const struct nlmsghdr *nlh, const struct nlw_ids *ids, struct nlw_seen *s)
{
	uint8_t msg = (uint8_t)(nlh->nlmsg_type & 0xff);
	const struct nfgenmsg *g;
	struct nlattr *a; /* non-const: mnl_attr_for_each casts it */
	const char *table;
	bool bad = false;
	int attr;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return -EBADMSG;
	g = mnl_nlmsg_get_payload(nlh);
	if (msg == NFT_MSG_NEWGEN) {
		/* the end of a transaction: whose, if it touched ours */
		uint32_t pending = s->pending;

		if (!pending)
			return 0;
		s->pending = 0;
		s->pid = 0;
		s->comm[0] = '\0';
		mnl_attr_for_each(a, nlh, sizeof(*g))
		{
			uint16_t t = mnl_attr_get_type(a);

			if (t == NFTA_GEN_PROC_PID) {
				if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
					return -EBADMSG;
				s->pid = load_be32(
					mnl_attr_get_payload(a)); /* nf_tables: big-endian */
			} else if (t == NFTA_GEN_PROC_NAME) {
				if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
					return -EBADMSG;
				snprintf(s->comm, sizeof(s->comm), "%s", mnl_attr_get_str(a));
			}
		}
		if ((pending & NLW_NFT_GONE) && s->pid != ids->self)
			s->bits |= NLW_NFT_GONE;
		return 0;
	}
	attr = nft_table_attr(msg);
	if (attr < 0)
		return 0;
	table = str_attr(nlh, sizeof(*g), attr, &bad);
	if (bad)
		return -EBADMSG;
	if (!table)
		return 0;
	if (g->nfgen_family == NFPROTO_INET && ids->nft_table && !strcmp(table, ids->nft_table)) {
		s->bits |= NLW_NFT;
		s->pending |= NLW_NFT | (msg == NFT_MSG_DELTABLE ? NLW_NFT_GONE : 0);
	} else if (ids->ipt &&
		   (g->nfgen_family == NFPROTO_IPV4 || g->nfgen_family == NFPROTO_IPV6) &&
		   (!strcmp(table, "filter") || !strcmp(table, "mangle"))) {
		s->bits |= NLW_IPT;
		s->pending |= NLW_IPT;
	}
	return 0;
}

static int rule_msg(const struct nlmsghdr *nlh, const struct nlw_ids *ids, struct nlw_seen *s)
{
	const struct fib_rule_hdr *frh;
	struct nlattr *a; /* non-const: mnl_attr_for_each casts it */
	uint32_t table, prio = 0, mark = 0;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*frh))
		return -EBADMSG;
	frh = mnl_nlmsg_get_payload(nlh);
	table = frh->table;
	mnl_attr_for_each(a, nlh, sizeof(*frh))
	{
		uint16_t t = mnl_attr_get_type(a);

		if (t != FRA_PRIORITY && t != FRA_TABLE && t != FRA_FWMARK)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return -EBADMSG;
		if (t == FRA_PRIORITY)
			prio = mnl_attr_get_u32(a);
		else if (t == FRA_TABLE)
			table = mnl_attr_get_u32(a);
		else
			mark = mnl_attr_get_u32(a);
	}
	if (prio == ids->prio || table == ids->table || (mark && mark == ids->mark) ||
	    (ids->catch_table && (prio == ids->catch_prio || table == ids->catch_table)))
		s->bits |= NLW_RULE;
	return 0;
}

static int route_msg(const struct nlmsghdr *nlh, const struct nlw_ids *ids, struct nlw_seen *s)
{
	const struct rtmsg *rtm;
	struct nlattr *a; /* non-const: mnl_attr_for_each casts it */
	uint32_t table;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*rtm))
		return -EBADMSG;
	rtm = mnl_nlmsg_get_payload(nlh);
	table = rtm->rtm_table;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) != RTA_TABLE)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return -EBADMSG;
		table = mnl_attr_get_u32(a);
	}
	if (table == ids->table || (ids->catch_table && table == ids->catch_table))
		s->bits |= NLW_ROUTE;
	return 0;
}

static int link_msg(const struct nlmsghdr *nlh, const struct nlw_ids *ids, struct nlw_seen *s)
{
	const struct ifinfomsg *ifi;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return -EBADMSG;
	ifi = mnl_nlmsg_get_payload(nlh);
	/* a NEWLINK of ours: only a change that matters (down) needs a look */
	if (ids->ifindex > 0 && ifi->ifi_index == ids->ifindex &&
	    (nlh->nlmsg_type == RTM_DELLINK || !(ifi->ifi_flags & IFF_UP)))
		s->bits |= NLW_LINK;
	return 0;
}

static int addr_msg(const struct nlmsghdr *nlh, const struct nlw_ids *ids, struct nlw_seen *s)
{
	const struct ifaddrmsg *ifa;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return -EBADMSG;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ids->ifindex > 0 && (int)ifa->ifa_index == ids->ifindex &&
	    nlh->nlmsg_type == RTM_DELADDR)
		s->bits |= NLW_ADDR;
	return 0;
}

static int one(const struct nlmsghdr *nlh, const struct nlw_ids *ids, struct nlw_seen *s)
{
	uint16_t type = nlh->nlmsg_type;

	if (type >> 8 == NFNL_SUBSYS_NFTABLES)
		return nft_msg(nlh, ids, s);
	switch (type) {
	case RTM_NEWRULE:
	case RTM_DELRULE:
		return rule_msg(nlh, ids, s);
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		return route_msg(nlh, ids, s);
	case RTM_NEWLINK:
	case RTM_DELLINK:
		return link_msg(nlh, ids, s);
	case RTM_NEWADDR:
	case RTM_DELADDR:
		return addr_msg(nlh, ids, s);
	}
	return 0; /* NLMSG_NOOP, NLMSG_DONE, other families */
}

/*
 * mnl_nlmsg_ok() compares (int)nlmsg_len with what is left, so a length
 * of 2^31 or more passes it as negative (found by fuzz-nlwatch): compare
 * unsigned, here.
 */
static bool msg_ok(const struct nlmsghdr *nlh, size_t left)
{
	return left >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= left;
}

int nlw_parse(const void *buf, size_t len, const struct nlw_ids *ids, struct nlw_seen *s)
{
	const uint8_t *p = buf;
	size_t left = len;

	while (msg_ok((const struct nlmsghdr *)(const void *)p, left)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(const void *)p;
		size_t step = MNL_ALIGN(nlh->nlmsg_len);
		int ret = one(nlh, ids, s);

		if (ret < 0)
			return ret;
		if (step >= left)
			return 0; /* the last one (its padding may be missing) */
		p += step;
		left -= step;
	}
	/* trailing bytes too short for a header, or a header claiming more than is left */
	return left > 0 ? -EBADMSG : 0;
}
