// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy routing for `up`: our table (default dev TUN; behind it a local
 * default via lo, then an unreachable default) and the fwmark rule, and the
 * catch-all after main (its own table: default dev TUN, unreachable
 * default), IPv4 and IPv6, over rtnetlink (nl.c's socket and transact).
 * Also picks free ids and finds a dead run's rules.
 */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nl.h"
#include "route.h"

enum {
	REQ_SIZE = 512,
	PICK_TRIES = 4096, /* values tried per id before -ENOSPC */
	PRIO_MAX = ROUTE_PRIO_MAX,
};

static void put_table(struct nlmsghdr *nlh, unsigned char *hdr_table, uint32_t table)
{
	/* Ids past 255 only fit in the attribute; the kernel prefers it. */
	*hdr_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
}

/* Our three defaults, from last resort to first choice. */
enum route_kind { ROUTE_UNREACH, ROUTE_FALLBACK, ROUTE_DEV };

/*
 * RTM_NEWROUTE / RTM_DELROUTE for one of our defaults: `unreachable default
 * metric ROUTE_METRIC_UNREACH`, `local default dev lo metric
 * ROUTE_METRIC_FALLBACK`, or `default dev TUN` (ifindex; 0 on delete: any).
 */
static int route_msg(struct nl *nl, uint16_t type, int family, uint32_t table, enum route_kind kind,
		     int ifindex, bool replace)
{
	_Alignas(struct nlmsghdr) char buf[REQ_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = type;
	/* A repair replaces whatever took our route's place (same key). */
	if (type == RTM_NEWROUTE)
		nlh->nlmsg_flags = NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)family;
	rtm->rtm_protocol = ROUTE_PROTO;
	put_table(nlh, &rtm->rtm_table, table);
	if (kind == ROUTE_UNREACH) {
		rtm->rtm_type = RTN_UNREACHABLE;
		rtm->rtm_scope = RT_SCOPE_UNIVERSE;
		mnl_attr_put_u32(nlh, RTA_PRIORITY, ROUTE_METRIC_UNREACH);
	} else if (kind == ROUTE_FALLBACK) {
		int lo = nl_link_index(nl, "lo");

		if (lo < 0)
			return lo;
		rtm->rtm_type = RTN_LOCAL;
		rtm->rtm_scope = type == RTM_DELROUTE ? RT_SCOPE_NOWHERE : RT_SCOPE_HOST;
		mnl_attr_put_u32(nlh, RTA_PRIORITY, ROUTE_METRIC_FALLBACK);
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)lo);
	} else {
		rtm->rtm_type = RTN_UNICAST;
		/* IPv6 has no scopes; a delete matches any scope with NOWHERE. */
		if (type == RTM_DELROUTE)
			rtm->rtm_scope = RT_SCOPE_NOWHERE;
		else
			rtm->rtm_scope = family == AF_INET ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
		if (ifindex > 0)
			mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	}
	return nl_transact(nl, nlh, NULL, NULL);
}

/*
 * RTM_NEWRULE / RTM_DELRULE: `fwmark mark/0xffffffff lookup table` at prio,
 * or with mark 0 (the catch-all) `lookup table` with no selector.
 */
static int rule_msg(struct nl *nl, uint16_t type, int family, uint32_t table, uint32_t prio,
		    uint32_t mark)
{
	_Alignas(struct nlmsghdr) char buf[REQ_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;

	nlh->nlmsg_type = type;
	if (type == RTM_NEWRULE)
		nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (unsigned char)family;
	frh->action = FR_ACT_TO_TBL;
	put_table(nlh, &frh->table, table);
	mnl_attr_put_u32(nlh, FRA_PRIORITY, prio);
	if (mark) {
		mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffffu);
	}
	mnl_attr_put_u8(nlh, FRA_PROTOCOL, ROUTE_PROTO);
	return nl_transact(nl, nlh, NULL, NULL);
}

/* One object route_install() adds, in install order. */
enum step_kind {
	STEP_UNREACH,
	STEP_FALLBACK,
	STEP_DEV,
	STEP_RULE,
	STEP_CATCH_UNREACH,
	STEP_CATCH_DEV,
	STEP_CATCH_RULE,
};

struct step {
	int family;
	enum step_kind kind;
	const char *name;
};

static const struct step steps[] = {
	{ AF_INET, STEP_UNREACH, "IPv4 unreachable default route" },
	{ AF_INET, STEP_FALLBACK, "IPv4 local fallback default route" },
	{ AF_INET, STEP_DEV, "IPv4 default route via the TUN" },
	{ AF_INET, STEP_RULE, "IPv4 fwmark rule" },
	{ AF_INET, STEP_CATCH_UNREACH, "IPv4 catch-all unreachable default route" },
	{ AF_INET, STEP_CATCH_DEV, "IPv4 catch-all default route via the TUN" },
	{ AF_INET, STEP_CATCH_RULE, "IPv4 catch-all rule" },
	{ AF_INET6, STEP_UNREACH, "IPv6 unreachable default route" },
	{ AF_INET6, STEP_FALLBACK, "IPv6 local fallback default route" },
	{ AF_INET6, STEP_DEV, "IPv6 default route via the TUN" },
	{ AF_INET6, STEP_RULE, "IPv6 fwmark rule" },
	{ AF_INET6, STEP_CATCH_UNREACH, "IPv6 catch-all unreachable default route" },
	{ AF_INET6, STEP_CATCH_DEV, "IPv6 catch-all default route via the TUN" },
	{ AF_INET6, STEP_CATCH_RULE, "IPv6 catch-all rule" },
};
#define NSTEPS_FAMILY 7 /* steps per family, IPv4's first */

static bool step_is_rule(const struct step *s)
{
	return s->kind == STEP_RULE || s->kind == STEP_CATCH_RULE;
}

static bool step_is_catch(const struct step *s)
{
	return s->kind >= STEP_CATCH_UNREACH;
}

/* What step_run() does with a step. */
enum step_op { OP_DEL, OP_ADD, OP_REPAIR };

static int step_run(struct nl *nl, const struct step *s, const struct route_cfg *c, enum step_op op)
{
	uint16_t rt = op == OP_DEL ? RTM_DELROUTE : RTM_NEWROUTE;
	uint16_t ru = op == OP_DEL ? RTM_DELRULE : RTM_NEWRULE;
	bool rep = op == OP_REPAIR;

	switch (s->kind) {
	case STEP_UNREACH:
		return route_msg(nl, rt, s->family, c->table, ROUTE_UNREACH, 0, rep);
	case STEP_FALLBACK:
		return route_msg(nl, rt, s->family, c->table, ROUTE_FALLBACK, 0, rep);
	case STEP_DEV:
		return route_msg(nl, rt, s->family, c->table, ROUTE_DEV, c->ifindex, rep);
	case STEP_RULE:
		return rule_msg(nl, ru, s->family, c->table, c->prio, c->mark);
	case STEP_CATCH_UNREACH:
		return route_msg(nl, rt, s->family, c->catch_table, ROUTE_UNREACH, 0, rep);
	case STEP_CATCH_DEV:
		return route_msg(nl, rt, s->family, c->catch_table, ROUTE_DEV, c->ifindex, rep);
	case STEP_CATCH_RULE:
		return rule_msg(nl, ru, s->family, c->catch_table, c->catch_prio, 0);
	}
	return -EINVAL;
}

static size_t nsteps(const struct route_cfg *c)
{
	return c->ipv6 ? 2 * NSTEPS_FAMILY : NSTEPS_FAMILY;
}

/* Is step s part of what c describes (route_remove() of a half-found dead run)? */
static bool step_wanted(const struct step *s, const struct route_cfg *c)
{
	return step_is_catch(s) ? c->catch_table != 0 : c->table != 0;
}

static bool reserved_table(uint32_t t)
{
	return t == RT_TABLE_UNSPEC || (t >= RT_TABLE_COMPAT && t <= RT_TABLE_LOCAL);
}

bool route_table_ok(uint32_t table)
{
	return !reserved_table(table);
}

bool route_prio_ok(uint32_t prio)
{
	return prio >= 1 && prio <= PRIO_MAX;
}

static void seterr(char *err, size_t errlen, const char *what, const char *step, int ret)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s: %s", what, step, strerror(-ret));
}

static bool mark_valid(const struct route_cfg *c)
{
	return !reserved_table(c->table) && c->mark != 0 && c->prio != 0 && c->prio <= PRIO_MAX;
}

static bool catch_valid(const struct route_cfg *c)
{
	return !reserved_table(c->catch_table) && c->catch_table != c->table &&
	       c->catch_prio >= ROUTE_CATCH_PRIO_MIN;
}

static bool cfg_valid(const struct route_cfg *c)
{
	return mark_valid(c) && catch_valid(c);
}

/* For removal: each part present is valid, and one at least is. */
static bool cfg_valid_remove(const struct route_cfg *c)
{
	if (!c->table && !c->catch_table)
		return false;
	return (!c->table || mark_valid(c)) && (!c->catch_table || catch_valid(c));
}

int route_install(const struct route_cfg *c, char *err, size_t errlen)
{
	struct nl *nl;
	size_t i, n = nsteps(c);
	int ret = 0;

	if (c->ifindex <= 0 || !cfg_valid(c)) {
		seterr(err, errlen, "routes", "configuration", -EINVAL);
		return -EINVAL;
	}
	nl = nl_open();
	if (!nl) {
		ret = -errno;
		seterr(err, errlen, "routes", "netlink socket", ret);
		return ret;
	}
	for (i = 0; i < n; i++) {
		ret = step_run(nl, &steps[i], c, OP_ADD);
		if (ret < 0)
			break;
	}
	if (ret < 0) {
		seterr(err, errlen, "routes", steps[i].name, ret);
		/* Only what this call added: steps before i, newest first. */
		while (i-- > 0)
			step_run(nl, &steps[i], c, OP_DEL);
	}
	nl_close(nl);
	return ret;
}

int route_remove(const struct route_cfg *c, char *err, size_t errlen)
{
	struct nl *nl;
	size_t i, n = nsteps(c);
	int ret, first = 0;

	if (!cfg_valid_remove(c) || c->ifindex < 0) {
		seterr(err, errlen, "routes", "configuration", -EINVAL);
		return -EINVAL;
	}
	nl = nl_open();
	if (!nl) {
		ret = -errno;
		seterr(err, errlen, "routes", "netlink socket", ret);
		return ret;
	}
	/* Rules first, so marked traffic never meets a half-emptied table. */
	for (int pass = 0; pass < 2; pass++) {
		for (i = n; i-- > 0;) {
			if (step_is_rule(&steps[i]) != (pass == 0) || !step_wanted(&steps[i], c))
				continue;
			ret = step_run(nl, &steps[i], c, OP_DEL);
			/* Gone already: rules say ENOENT, routes ESRCH. */
			if (ret == -ENOENT || ret == -ESRCH)
				ret = 0;
			if (ret < 0 && !first) {
				first = ret;
				seterr(err, errlen, "routes", steps[i].name, ret);
			}
		}
	}
	nl_close(nl);
	return first;
}

/* Dump every family's rules (RTM_GETRULE) or routes (RTM_GETROUTE). */
static int dump(struct nl *nl, uint16_t type, int (*cb)(const struct nlmsghdr *, void *),
		void *data)
{
	_Alignas(struct nlmsghdr) char buf[REQ_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_DUMP;
	if (type == RTM_GETRULE) {
		struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));

		frh->family = AF_UNSPEC;
	} else {
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = AF_UNSPEC;
	}
	return nl_transact(nl, nlh, cb, data);
}

/* One rule from a dump, reduced to what we look at. */
struct rule {
	int family;
	uint32_t prio, table, mark, mask;
	uint8_t proto, action;
	bool other; /* any selector besides fwmark */
};

static int rule_parse(const struct nlmsghdr *nlh, struct rule *r)
{
	const struct fib_rule_hdr *frh;
	struct nlattr *a; /* non-const: mnl_attr_for_each casts it */
	int ret;

	frh = nl_body(nlh, RTM_NEWRULE, sizeof(*frh), &ret);
	if (!frh)
		return ret == MNL_CB_OK ? 0 : -1;
	memset(r, 0, sizeof(*r));
	r->family = frh->family;
	r->table = frh->table;
	r->action = frh->action;
	r->other = frh->src_len || frh->dst_len || frh->tos || (frh->flags & FIB_RULE_INVERT);
	mnl_attr_for_each(a, nlh, sizeof(*frh))
	{
		uint16_t t = mnl_attr_get_type(a);

		switch (t) {
		case FRA_PRIORITY:
		case FRA_TABLE:
		case FRA_FWMARK:
		case FRA_FWMASK:
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				return -1;
			break;
		case FRA_PROTOCOL:
			if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
				return -1;
			break;
		}
		switch (t) {
		case FRA_PRIORITY:
			r->prio = mnl_attr_get_u32(a);
			break;
		case FRA_TABLE:
			r->table = mnl_attr_get_u32(a);
			break;
		case FRA_FWMARK:
			r->mark = mnl_attr_get_u32(a);
			break;
		case FRA_FWMASK:
			r->mask = mnl_attr_get_u32(a);
			break;
		case FRA_PROTOCOL:
			r->proto = mnl_attr_get_u8(a);
			break;
		case FRA_SUPPRESS_PREFIXLEN:
			/* The kernel always reports it; -1 means unset. */
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				return -1;
			if (mnl_attr_get_u32(a) != 0xffffffffu)
				r->other = true;
			break;
		case FRA_UNSPEC:
			break;
		default:
			/* src/dst, iif/oif, goto, uidrange, ports, l3mdev... */
			r->other = true;
			break;
		}
	}
	return 1;
}

/* Everything route_pick() must stay clear of. */
struct used {
	const struct route_cfg *want; /* candidates */
	bool table, mark, prio, catch_table, catch_prio;
};

static int pick_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct used *u = data;
	struct rule r;
	int ret = rule_parse(nlh, &r);

	if (ret <= 0)
		return ret < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	if (r.prio == u->want->prio)
		u->prio = true;
	if (r.prio == u->want->catch_prio)
		u->catch_prio = true;
	if (r.action == FR_ACT_TO_TBL && r.table == u->want->table)
		u->table = true;
	if (r.action == FR_ACT_TO_TBL && r.table == u->want->catch_table)
		u->catch_table = true;
	/* Would this rule (mask 0 = matches any mark) catch our packets? */
	if ((r.mark || r.mask) && (u->want->mark & r.mask) == (r.mark & r.mask))
		u->mark = true;
	if (r.mark == u->want->mark)
		u->mark = true;
	return MNL_CB_OK;
}

static int pick_route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct used *u = data;
	const struct rtmsg *rtm;
	struct nlattr *a; /* non-const: mnl_attr_for_each casts it */
	uint32_t table;
	int ret;

	rtm = nl_body(nlh, RTM_NEWROUTE, sizeof(*rtm), &ret);
	if (!rtm)
		return ret;
	table = rtm->rtm_table;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) != RTA_TABLE)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		table = mnl_attr_get_u32(a);
	}
	if (table == u->want->table)
		u->table = true;
	if (table == u->want->catch_table)
		u->catch_table = true;
	return MNL_CB_OK;
}

/* Which of c's ids are taken. Two dumps per call: ids are few and tries short. */
static int probe(struct nl *nl, const struct route_cfg *c, struct used *u)
{
	int ret;

	*u = (struct used){ .want = c };
	ret = dump(nl, RTM_GETRULE, pick_rule_cb, u);
	if (ret == 0)
		ret = dump(nl, RTM_GETROUTE, pick_route_cb, u);
	u->table = u->table || reserved_table(c->table);
	u->mark = u->mark || c->mark == 0;
	u->prio = u->prio || c->prio == 0 || c->prio > PRIO_MAX;
	u->catch_table =
		u->catch_table || reserved_table(c->catch_table) || c->catch_table == c->table;
	u->catch_prio = u->catch_prio || c->catch_prio < ROUTE_CATCH_PRIO_MIN;
	return ret;
}

int route_pick(struct route_cfg *c, const char **busy)
{
	bool pick_t = !c->table, pick_m = !c->mark, pick_p = !c->prio;
	struct route_cfg try = *c;
	struct used u;
	struct nl *nl;
	int ret, i;

	if (pick_t)
		try.table = ROUTE_TABLE_DEFAULT;
	if (pick_m)
		try.mark = ROUTE_MARK_DEFAULT;
	if (pick_p)
		try.prio = ROUTE_PRIO_DEFAULT;
	try.catch_table = ROUTE_CATCH_TABLE_DEFAULT;
	try.catch_prio = ROUTE_CATCH_PRIO_MIN;
	nl = nl_open();
	if (!nl)
		return -errno;
	for (i = 0;; i++) {
		ret = probe(nl, &try, &u);
		if (ret < 0)
			break;
		if ((u.table && !pick_t) || (u.mark && !pick_m) || (u.prio && !pick_p)) {
			if (busy)
				*busy = u.table && !pick_t  ? "table"
					: u.mark && !pick_m ? "fwmark"
							    : "priority";
			ret = -EBUSY;
			break;
		}
		if (!u.table && !u.mark && !u.prio && !u.catch_table && !u.catch_prio)
			break;
		if (i == PICK_TRIES) {
			ret = -ENOSPC;
			break;
		}
		/* Advance only what collides; the others keep their value. */
		try.table += u.table;
		try.mark += u.mark;
		try.prio += u.prio;
		try.catch_table += u.catch_table;
		try.catch_prio += u.catch_prio;
	}
	nl_close(nl);
	if (ret == 0)
		*c = try;
	return ret;
}

static bool rule_base_ours(const struct rule *r)
{
	return r->proto == ROUTE_PROTO && r->action == FR_ACT_TO_TBL && !reserved_table(r->table) &&
	       !r->other && (r->family == AF_INET || r->family == AF_INET6);
}

static bool rule_ours(const struct rule *r)
{
	return rule_base_ours(r) && r->mask == 0xffffffffu && r->mark != 0;
}

static bool rule_catch_ours(const struct rule *r)
{
	return rule_base_ours(r) && r->mask == 0 && r->mark == 0 && r->prio >= ROUTE_CATCH_PRIO_MIN;
}

struct find {
	struct route_cfg *c;
	bool v4, v6;   /* fwmark rules found */
	bool cv4, cv6; /* catch-all rules found */
};

static int find_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct find *f = data;
	struct rule r;
	int ret = rule_parse(nlh, &r);
	bool *v4, *v6;

	if (ret <= 0)
		return ret < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	if (rule_ours(&r)) {
		v4 = &f->v4;
		v6 = &f->v6;
		if (!*v4 && !*v6) {
			f->c->table = r.table;
			f->c->mark = r.mark;
			f->c->prio = r.prio;
		} else if (r.table != f->c->table || r.mark != f->c->mark || r.prio != f->c->prio) {
			return MNL_CB_OK;
		}
	} else if (rule_catch_ours(&r)) {
		v4 = &f->cv4;
		v6 = &f->cv6;
		if (!*v4 && !*v6) {
			f->c->catch_table = r.table;
			f->c->catch_prio = r.prio;
		} else if (r.table != f->c->catch_table || r.prio != f->c->catch_prio) {
			return MNL_CB_OK;
		}
	} else {
		return MNL_CB_OK;
	}
	if (r.family == AF_INET)
		*v4 = true;
	else
		*v6 = true;
	return MNL_CB_OK;
}

static int find_route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_cfg *c = data;
	const struct rtmsg *rtm;
	struct nlattr *a; /* non-const: mnl_attr_for_each casts it */
	uint32_t table, oif = 0;
	int ret;

	rtm = nl_body(nlh, RTM_NEWROUTE, sizeof(*rtm), &ret);
	if (!rtm)
		return ret;
	table = rtm->rtm_table;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		uint16_t t = mnl_attr_get_type(a);

		if (t != RTA_TABLE && t != RTA_OIF)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		if (t == RTA_TABLE)
			table = mnl_attr_get_u32(a);
		else
			oif = mnl_attr_get_u32(a);
	}
	if (table && (table == c->table || table == c->catch_table) && rtm->rtm_dst_len == 0 &&
	    rtm->rtm_type == RTN_UNICAST && rtm->rtm_protocol == ROUTE_PROTO && oif && !c->ifindex)
		c->ifindex = (int)oif;
	return MNL_CB_OK;
}

int route_find_ours(struct route_cfg *c)
{
	struct route_cfg found = { 0 };
	struct find f = { .c = &found };
	struct nl *nl;
	int ret;

	nl = nl_open();
	if (!nl)
		return -errno;
	ret = dump(nl, RTM_GETRULE, find_rule_cb, &f);
	if (ret == 0 && (f.v4 || f.v6 || f.cv4 || f.cv6))
		ret = dump(nl, RTM_GETROUTE, find_route_cb, &found);
	nl_close(nl);
	if (ret < 0)
		return ret;
	if (!f.v4 && !f.v6 && !f.cv4 && !f.cv6)
		return 0;
	found.ipv6 = f.v6 || f.cv6;
	*c = found;
	return 1;
}

/* ---- the watcher and `status`: what of ours is in the kernel now ---- */

const char *route_step_name(unsigned int i)
{
	return i < sizeof(steps) / sizeof(steps[0]) ? steps[i].name : NULL;
}

static unsigned int step_index(int family, enum step_kind kind)
{
	return (family == AF_INET6 ? NSTEPS_FAMILY : 0U) + (unsigned int)kind;
}

/* A route in our table that route_install() did not add: enough to delete it. */
struct foreign {
	uint32_t table;
	uint8_t family, dst_len, tos, type, proto;
	bool has_dst, has_prio;
	uint8_t dst[16];
	uint32_t prio, oif;
};

struct seen {
	const struct route_cfg *c;
	int lo;
	uint32_t present; /* bit per step */
	unsigned int nforeign;
	struct foreign foreign[ROUTE_FOREIGN_MAX];
};

static int seen_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	struct rule r;
	int ret = rule_parse(nlh, &r);

	if (ret <= 0)
		return ret < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	/*
	 * Ours by what it does, whoever tagged it: one the kernel takes for
	 * the same rule refuses our add with EEXIST anyway.
	 */
	if ((r.family != AF_INET && r.family != AF_INET6) || r.action != FR_ACT_TO_TBL || r.other)
		return MNL_CB_OK;
	if (r.prio == s->c->prio && r.table == s->c->table && r.mark == s->c->mark &&
	    r.mask == 0xffffffffu)
		s->present |= 1U << step_index(r.family, STEP_RULE);
	else if (r.prio == s->c->catch_prio && r.table == s->c->catch_table && !r.mark && !r.mask)
		s->present |= 1U << step_index(r.family, STEP_CATCH_RULE);
	return MNL_CB_OK;
}

static int seen_route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	const struct rtmsg *rtm;
	struct nlattr *a; /* non-const: mnl_attr_for_each casts it */
	struct foreign f = { 0 };
	uint32_t table, oif = 0;
	bool gw = false;
	int kind = -1; /* the step of ours it is, if any */
	int ret;

	rtm = nl_body(nlh, RTM_NEWROUTE, sizeof(*rtm), &ret);
	if (!rtm)
		return ret;
	table = rtm->rtm_table;
	mnl_attr_for_each(a, nlh, sizeof(*rtm))
	{
		uint16_t t = mnl_attr_get_type(a);

		switch (t) {
		case RTA_TABLE:
		case RTA_PRIORITY:
		case RTA_OIF:
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				return MNL_CB_ERROR;
			if (t == RTA_TABLE)
				table = mnl_attr_get_u32(a);
			else if (t == RTA_PRIORITY) {
				f.has_prio = true;
				f.prio = mnl_attr_get_u32(a);
			} else {
				oif = mnl_attr_get_u32(a);
			}
			break;
		case RTA_DST:
			if (mnl_attr_get_payload_len(a) > sizeof(f.dst)) {
				errno = EBADMSG;
				return MNL_CB_ERROR;
			}
			f.has_dst = true;
			memcpy(f.dst, mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
			break;
		case RTA_GATEWAY:
		case RTA_MULTIPATH:
		case RTA_VIA:
			gw = true;
			break;
		}
	}
	if (table != s->c->table && table != s->c->catch_table)
		return MNL_CB_OK;
	if (rtm->rtm_family == AF_INET || (rtm->rtm_family == AF_INET6 && s->c->ipv6)) {
		bool base = rtm->rtm_dst_len == 0 && rtm->rtm_protocol == ROUTE_PROTO && !gw;
		bool catch = table == s->c->catch_table;

		if (base && rtm->rtm_type == RTN_UNREACHABLE && f.prio == ROUTE_METRIC_UNREACH)
			kind = catch ? STEP_CATCH_UNREACH : STEP_UNREACH;
		else if (base && !catch && rtm->rtm_type == RTN_LOCAL &&
			 f.prio == ROUTE_METRIC_FALLBACK && s->lo > 0 && oif == (uint32_t)s->lo)
			kind = STEP_FALLBACK;
		else if (base && rtm->rtm_type == RTN_UNICAST && s->c->ifindex > 0 &&
			 oif == (uint32_t)s->c->ifindex)
			kind = catch ? STEP_CATCH_DEV
				     : STEP_DEV; /* IPv6: metric 1024, not compared */
		if (kind >= 0) {
			s->present |= 1U << step_index(rtm->rtm_family, (enum step_kind)kind);
			return MNL_CB_OK;
		}
	}
	/* in our tables, not ours: it steers traffic somewhere we did not choose */
	if (s->nforeign < ROUTE_FOREIGN_MAX) {
		f.family = rtm->rtm_family;
		f.dst_len = rtm->rtm_dst_len;
		f.tos = rtm->rtm_tos;
		f.type = rtm->rtm_type;
		f.proto = rtm->rtm_protocol;
		f.oif = oif;
		f.table = table;
		s->foreign[s->nforeign] = f;
	}
	s->nforeign++;
	return MNL_CB_OK;
}

static int look(struct nl *nl, const struct route_cfg *c, struct seen *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->c = c;
	s->lo = nl_link_index(nl, "lo");
	ret = dump(nl, RTM_GETRULE, seen_rule_cb, s);
	if (ret == 0)
		ret = dump(nl, RTM_GETROUTE, seen_route_cb, s);
	return ret;
}

static uint32_t all_steps(const struct route_cfg *c)
{
	return (1U << nsteps(c)) - 1;
}

int route_check(const struct route_cfg *c, struct route_state *out)
{
	struct seen *s;
	struct nl *nl;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!cfg_valid(c))
		return -EINVAL;
	s = malloc(sizeof(*s));
	nl = nl_open();
	if (!s || !nl) {
		ret = -(errno ? errno : ENOMEM);
		goto out;
	}
	ret = look(nl, c, s);
	if (ret == 0) {
		out->missing = all_steps(c) & ~s->present;
		out->foreign = s->nforeign;
	}
out:
	nl_close(nl);
	free(s);
	return ret;
}

/* RTM_DELROUTE for a route found in our table, by its key. */
static int foreign_del(struct nl *nl, const struct foreign *f)
{
	_Alignas(struct nlmsghdr) char buf[REQ_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_DELROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = f->family;
	rtm->rtm_dst_len = f->dst_len;
	rtm->rtm_tos = f->tos;
	rtm->rtm_type = f->type;
	rtm->rtm_protocol = f->proto;
	rtm->rtm_scope = RT_SCOPE_NOWHERE;
	put_table(nlh, &rtm->rtm_table, f->table);
	if (f->has_dst)
		mnl_attr_put(nlh, RTA_DST, f->family == AF_INET ? 4 : 16, f->dst);
	if (f->has_prio)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, f->prio);
	if (f->oif)
		mnl_attr_put_u32(nlh, RTA_OIF, f->oif);
	return nl_transact(nl, nlh, NULL, NULL);
}

int route_repair(const struct route_cfg *c, uint32_t skip, struct route_state *done, char *err,
		 size_t errlen)
{
	struct seen *s;
	struct nl *nl;
	unsigned int i;
	uint32_t missing;
	int ret, first = 0;

	memset(done, 0, sizeof(*done));
	if (!cfg_valid(c)) {
		seterr(err, errlen, "routes", "configuration", -EINVAL);
		return -EINVAL;
	}
	s = malloc(sizeof(*s));
	nl = nl_open();
	if (!s || !nl) {
		ret = -(errno ? errno : ENOMEM);
		seterr(err, errlen, "routes", "netlink socket", ret);
		goto out;
	}
	ret = look(nl, c, s);
	if (ret < 0) {
		seterr(err, errlen, "routes", "dump", ret);
		goto out;
	}
	/* Foreign routes first: a replaced dev route is put back below. */
	for (i = 0; i < s->nforeign && i < ROUTE_FOREIGN_MAX; i++) {
		ret = foreign_del(nl, &s->foreign[i]);
		if (ret == 0 || ret == -ESRCH || ret == -ENOENT)
			done->foreign++;
		else if (!first) {
			first = ret;
			seterr(err, errlen, "routes", "deleting a route not ours from our tables",
			       ret);
		}
	}
	/* In install order: the table filled before the rule sends anything to it. */
	missing = all_steps(c) & ~s->present & ~skip;
	for (i = 0; i < nsteps(c); i++) {
		if (!(missing & (1U << i)))
			continue;
		ret = step_run(nl, &steps[i], c, OP_REPAIR);
		if (ret == -EEXIST)
			ret = 0; /* the kernel holds one it takes for ours */
		if (ret == 0)
			done->missing |= 1U << i;
		else if (!first) {
			first = ret;
			seterr(err, errlen, "routes", steps[i].name, ret);
		}
	}
	ret = first;
out:
	nl_close(nl);
	free(s);
	return ret;
}
