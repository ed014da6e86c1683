// SPDX-License-Identifier: GPL-2.0-only
/*
 * nlwatch.c: which netlink notifications touch what `up` installed
 * (nf_tables and rtnetlink messages built here the way the kernel sends
 * them), who made an nf_tables transaction, and malformed buffers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

#include "nlwatch.h"

static const struct nlw_ids ids = {
	.nft_table = "proxyvpn",
	.ifindex = 7,
	.table = 0x7076,
	.prio = 5200,
	.mark = 0x7076,
	.catch_table = 0x7077,
	.catch_prio = 32768,
	.self = 4321,
};

static _Alignas(struct nlmsghdr) char buf[8192];
static size_t used;

static void reset(void)
{
	memset(buf, 0, sizeof(buf));
	used = 0;
}

static struct nlmsghdr *put(uint16_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf + used);

	nlh->nlmsg_type = type;
	return nlh;
}

static void done(struct nlmsghdr *nlh)
{
	used += MNL_ALIGN(nlh->nlmsg_len);
}

static void nft(uint8_t msg, uint8_t family, int attr, const char *table)
{
	struct nlmsghdr *nlh = put((uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | msg));
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	g->nfgen_family = family;
	if (table)
		mnl_attr_put_strz(nlh, (uint16_t)attr, table);
	done(nlh);
}

static void gen(uint32_t pid, const char *comm)
{
	struct nlmsghdr *nlh = put(NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN);
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	g->nfgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NFTA_GEN_ID, htonl(42));
	mnl_attr_put_u32(nlh, NFTA_GEN_PROC_PID, htonl(pid));
	mnl_attr_put_strz(nlh, NFTA_GEN_PROC_NAME, comm);
	done(nlh);
}

static void rule(uint16_t type, uint32_t prio, uint32_t table, uint32_t mark)
{
	struct nlmsghdr *nlh = put(type);
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));

	frh->family = AF_INET;
	frh->action = FR_ACT_TO_TBL;
	mnl_attr_put_u32(nlh, FRA_PRIORITY, prio);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	if (mark)
		mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
	done(nlh);
}

static void route(uint16_t type, uint32_t table)
{
	struct nlmsghdr *nlh = put(type);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = AF_INET6;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	if (table >= 256)
		mnl_attr_put_u32(nlh, RTA_TABLE, table);
	done(nlh);
}

static void link_msg(uint16_t type, int ifindex, unsigned int flags)
{
	struct nlmsghdr *nlh = put(type);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	done(nlh);
}

static void addr(uint16_t type, int ifindex)
{
	struct nlmsghdr *nlh = put(type);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_index = (uint32_t)ifindex;
	done(nlh);
}

static uint32_t bits_of(const struct nlw_ids *id)
{
	struct nlw_seen s = { 0 };

	assert_int_equal(nlw_parse(buf, used, id, &s), 0);
	return s.bits;
}

static void test_nft(void **state)
{
	struct nlw_ids ipt = ids;
	struct nlw_seen s = { 0 };

	(void)state;
	/* nft flush ruleset: every object deleted, then the generation */
	reset();
	nft(NFT_MSG_DELRULE, NFPROTO_INET, NFTA_RULE_TABLE, "proxyvpn");
	nft(NFT_MSG_DELCHAIN, NFPROTO_INET, NFTA_CHAIN_TABLE, "proxyvpn");
	nft(NFT_MSG_DELSET, NFPROTO_INET, NFTA_SET_TABLE, "proxyvpn");
	nft(NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "proxyvpn");
	gen(1234, "nft");
	assert_int_equal(nlw_parse(buf, used, &ids, &s), 0);
	assert_int_equal(s.bits, NLW_NFT | NLW_NFT_GONE);
	assert_int_equal(s.pid, 1234);
	assert_string_equal(s.comm, "nft");
	assert_int_equal(s.pending, 0);
	/* the same, by ourselves (a repair of a changed table): no hint */
	memset(&s, 0, sizeof(s));
	reset();
	nft(NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "proxyvpn");
	nft(NFT_MSG_NEWTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "proxyvpn");
	gen(4321, "proxyvpn");
	assert_int_equal(nlw_parse(buf, used, &ids, &s), 0);
	assert_int_equal(s.bits, NLW_NFT);
	/* the deletion read, its NEWGEN not yet: no hint until it comes */
	memset(&s, 0, sizeof(s));
	reset();
	nft(NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "proxyvpn");
	assert_int_equal(nlw_parse(buf, used, &ids, &s), 0);
	assert_int_equal(s.bits, NLW_NFT);
	reset();
	gen(1234, "nft");
	assert_int_equal(nlw_parse(buf, used, &ids, &s), 0);
	assert_int_equal(s.bits, NLW_NFT | NLW_NFT_GONE);
	/* a later transaction that does not touch ours keeps the culprit */
	reset();
	nft(NFT_MSG_NEWTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "firewalld");
	gen(99, "firewalld");
	assert_int_equal(nlw_parse(buf, used, &ids, &s), 0);
	assert_int_equal(s.pid, 1234);

	/* same name, other family; other name; added elements count too */
	reset();
	nft(NFT_MSG_DELTABLE, NFPROTO_IPV4, NFTA_TABLE_NAME, "proxyvpn");
	nft(NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "proxyvpn2");
	nft(NFT_MSG_NEWRULE, NFPROTO_INET, NFTA_RULE_TABLE, "filter");
	assert_int_equal(bits_of(&ids), 0);
	reset();
	nft(NFT_MSG_NEWSETELEM, NFPROTO_INET, NFTA_SET_ELEM_LIST_TABLE, "proxyvpn");
	assert_int_equal(bits_of(&ids), NLW_NFT);
	reset();
	nft(NFT_MSG_NEWRULE, NFPROTO_INET, NFTA_RULE_TABLE, NULL); /* no table: skipped */
	nft(NFT_MSG_GETRULE, NFPROTO_INET, NFTA_RULE_TABLE, "proxyvpn");
	assert_int_equal(bits_of(&ids), 0);

	/* iptables-nft's tables, only with the fallback in use */
	reset();
	nft(NFT_MSG_DELRULE, NFPROTO_IPV4, NFTA_RULE_TABLE, "filter");
	nft(NFT_MSG_DELCHAIN, NFPROTO_IPV6, NFTA_CHAIN_TABLE, "mangle");
	assert_int_equal(bits_of(&ids), 0);
	ipt.ipt = true;
	assert_int_equal(bits_of(&ipt), NLW_IPT);
	reset();
	nft(NFT_MSG_DELRULE, NFPROTO_IPV4, NFTA_RULE_TABLE, "nat");
	nft(NFT_MSG_DELRULE, NFPROTO_INET, NFTA_RULE_TABLE, "filter");
	assert_int_equal(bits_of(&ipt), 0);
}

static void test_rtnl(void **state)
{
	(void)state;
	reset();
	rule(RTM_DELRULE, 5200, 254, 0);
	assert_int_equal(bits_of(&ids), NLW_RULE);
	reset();
	rule(RTM_NEWRULE, 100, 0x7076, 0);
	assert_int_equal(bits_of(&ids), NLW_RULE);
	reset();
	rule(RTM_NEWRULE, 100, 200, 0x7076);
	assert_int_equal(bits_of(&ids), NLW_RULE);
	reset();
	rule(RTM_DELRULE, 32768, 0x7077, 0); /* the catch-all */
	assert_int_equal(bits_of(&ids), NLW_RULE);
	reset();
	route(RTM_NEWROUTE, 0x7077);
	assert_int_equal(bits_of(&ids), NLW_ROUTE);
	reset();
	rule(RTM_DELRULE, 32766, 254, 0); /* main's rule: not ours */
	rule(RTM_NEWRULE, 100, 200, 1);
	assert_int_equal(bits_of(&ids), 0);

	reset();
	route(RTM_DELROUTE, 0x7076); /* RTA_TABLE */
	assert_int_equal(bits_of(&ids), NLW_ROUTE);
	reset();
	route(RTM_NEWROUTE, 254);
	assert_int_equal(bits_of(&ids), 0);

	reset();
	link_msg(RTM_NEWLINK, 7, IFF_UP | IFF_RUNNING); /* ours, still up */
	link_msg(RTM_DELLINK, 8, 0);
	assert_int_equal(bits_of(&ids), 0);
	reset();
	link_msg(RTM_NEWLINK, 7, 0);
	assert_int_equal(bits_of(&ids), NLW_LINK);
	reset();
	link_msg(RTM_DELLINK, 7, IFF_UP);
	assert_int_equal(bits_of(&ids), NLW_LINK);

	reset();
	addr(RTM_NEWADDR, 7);
	addr(RTM_DELADDR, 8);
	assert_int_equal(bits_of(&ids), 0);
	reset();
	addr(RTM_DELADDR, 7);
	assert_int_equal(bits_of(&ids), NLW_ADDR);

	/* several kinds in one buffer */
	reset();
	rule(RTM_DELRULE, 5200, 0x7076, 0x7076);
	route(RTM_DELROUTE, 0x7076);
	addr(RTM_DELADDR, 7);
	nft(NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "proxyvpn");
	assert_int_equal(bits_of(&ids), NLW_RULE | NLW_ROUTE | NLW_ADDR | NLW_NFT);
}

static void test_malformed(void **state)
{
	struct nlw_seen s = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *a;

	(void)state;
	/* a message before the bad one still counts */
	reset();
	route(RTM_DELROUTE, 0x7076);
	nlh = put(RTM_DELRULE);
	nlh->nlmsg_len = sizeof(*nlh) + 4; /* shorter than a fib_rule_hdr */
	done(nlh);
	assert_int_equal(nlw_parse(buf, used, &ids, &s), -EBADMSG);
	assert_int_equal(s.bits, NLW_ROUTE);

	/* a header claiming more than was received */
	reset();
	route(RTM_DELROUTE, 0x7076);
	assert_int_equal(nlw_parse(buf, used - 4, &ids, &s), -EBADMSG);
	/* trailing bytes too short for a header */
	assert_int_equal(nlw_parse(buf, used + 8, &ids, &s), -EBADMSG);
	assert_int_equal(nlw_parse(buf, 0, &ids, &s), 0);

	/* a table name without its NUL */
	reset();
	nft(NFT_MSG_DELTABLE, NFPROTO_INET, NFTA_TABLE_NAME, "proxyvpn");
	nlh = (struct nlmsghdr *)buf;
	a = (struct nlattr *)((char *)mnl_nlmsg_get_payload(nlh) + sizeof(struct nfgenmsg));
	((char *)mnl_attr_get_payload(a))[8] = 'x';
	memset(&s, 0, sizeof(s));
	assert_int_equal(nlw_parse(buf, used, &ids, &s), -EBADMSG);
	assert_int_equal(s.bits, 0);

	/* a u32 attribute of the wrong size */
	reset();
	nlh = put(RTM_DELROUTE);
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg));
	mnl_attr_put_u16(nlh, RTA_TABLE, 7);
	done(nlh);
	assert_int_equal(nlw_parse(buf, used, &ids, &s), -EBADMSG);

	/* an nf_tables message without its nfgenmsg */
	reset();
	nlh = put(NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELTABLE);
	done(nlh);
	assert_int_equal(nlw_parse(buf, used, &ids, &s), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nft),
		cmocka_unit_test(test_rtnl),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
