// SPDX-License-Identifier: GPL-2.0-only
/*
 * status's look at the kernel (upcheck.h): the same checks the watcher
 * makes (nl.c, route.c, fw.c, fw-ipt.c), from the state record's ids.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fw-ipt.h"
#include "fw.h"
#include "json.h"
#include "nl.h"
#include "num.h"
#include "route.h"
#include "upcheck.h"
#include "watch.h"

static void __attribute__((format(printf, 2, 3))) missing(struct upcheck *u, const char *fmt, ...)
{
	va_list ap;

	if (u->nmissing < UPCHECK_MAX) {
		va_start(ap, fmt);
		vsnprintf(u->missing[u->nmissing], UPCHECK_NAME_MAX, fmt, ap);
		va_end(ap);
	}
	u->nmissing++;
}

static void __attribute__((format(printf, 2, 3))) unchecked(struct upcheck *u, const char *fmt, ...)
{
	va_list ap;

	if (u->nunchecked >= sizeof(u->unchecked) / sizeof(u->unchecked[0]))
		return;
	va_start(ap, fmt);
	vsnprintf(u->unchecked[u->nunchecked++], UPCHECK_NAME_MAX, fmt, ap);
	va_end(ap);
}

static bool has(const struct state *s, enum state_kind k)
{
	for (unsigned int i = 0; i < s->nobj; i++)
		if (s->obj[i].kind == k)
			return true;
	return false;
}

/* An addr object: "IFINDEX" "ADDR/PLEN". */
static bool addr_of(const struct state_obj *o, int *family, uint8_t a[16], int *plen)
{
	char buf[STATE_ARG_MAX + 1], *slash;
	uint32_t p;

	if (o->nargs != 2)
		return false;
	snprintf(buf, sizeof(buf), "%s", o->arg[1]);
	slash = strchr(buf, '/');
	if (!slash)
		return false;
	*slash++ = '\0';
	if (num_u32(slash, 0, 0, 128, &p) < 0)
		return false;
	*plen = (int)p;
	if (inet_pton(AF_INET, buf, a) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		*family = AF_INET6;
	else
		return false;
	return true;
}

static void link_check(const struct state *s, struct upcheck *u)
{
	struct nl *nl;
	int ret;

	if (!has(s, STATE_OBJ_LINK))
		return;
	nl = nl_open();
	if (!nl) {
		unchecked(u, "the TUN %s (netlink: %s)", s->tun, strerror(errno));
		return;
	}
	ret = nl_link_state(nl, (int)s->ifindex, s->tun);
	if (ret == -ENODEV)
		missing(u, "the TUN %s", s->tun);
	else if (ret == 0)
		missing(u, "the TUN %s is down", s->tun);
	else if (ret < 0)
		unchecked(u, "the TUN %s (%s)", s->tun, strerror(-ret));
	for (unsigned int i = 0; ret > 0 && i < s->nobj; i++) {
		uint8_t a[16];
		int fam, plen, r;

		if (s->obj[i].kind != STATE_OBJ_ADDR || !addr_of(&s->obj[i], &fam, a, &plen))
			continue;
		r = nl_addr_has(nl, (int)s->ifindex, fam, a, plen);
		if (r == 0)
			missing(u, "address %s on %s", s->obj[i].arg[1], s->tun);
		else if (r < 0)
			unchecked(u, "address %s (%s)", s->obj[i].arg[1], strerror(-r));
	}
	nl_close(nl);
}

static void routes_check(const struct state *s, struct upcheck *u)
{
	struct route_cfg rc = { .ifindex = (int)s->ifindex,
				.table = s->table,
				.mark = s->fwmark,
				.prio = s->priority,
				.catch_table = s->catch_table,
				.catch_prio = s->catch_priority,
				.ipv6 = s->ipv6 };
	struct route_state st;
	int ret;

	if (!has(s, STATE_OBJ_ROUTE) && !has(s, STATE_OBJ_RULE))
		return;
	ret = route_check(&rc, &st);
	if (ret < 0) {
		unchecked(u, "the routes and rules (%s)", strerror(-ret));
		return;
	}
	for (unsigned int i = 0; i < ROUTE_STEPS; i++)
		if (st.missing & (1U << i))
			missing(u, "%s", route_step_name(i));
	if (st.foreign)
		missing(u, "our tables as installed (%u route%s not ours in them)", st.foreign,
			st.foreign == 1 ? "" : "s");
}

static void nft_check(const struct state *s, const struct watchrec *rec, struct upcheck *u)
{
	static const enum fw_chain always[] = { FW_CH_MARK, FW_CH_FF, FW_CH_GUARD, FW_CH_TUNG };
	struct fw_seen have;
	char err[256];
	int ret;

	unsigned int before = u->nmissing;

	ret = fw_inspect(&have, err, sizeof(err));
	if (ret == -EPERM) {
		unchecked(u, "the nftables table inet %s (needs CAP_NET_ADMIN)", FW_TABLE);
		return;
	}
	if (ret < 0) {
		unchecked(u, "the nftables table inet %s (%s)", FW_TABLE, err);
		return;
	}
	u->fw = 0;
	if (have.state != 1) {
		missing(u, "the nftables table inet %s%s", FW_TABLE,
			have.state ? " (a table of that name that is not ours)" : "");
		return;
	}
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		if (have.rules[always[i]] <= 0)
			missing(u, "nftables chain %s", fw_chain_name(always[i]));
	if (s->killswitch && have.rules[FW_CH_KS] <= 0)
		missing(u, "nftables chain %s", fw_chain_name(FW_CH_KS));
	if (rec && rec->nft_digest && have.digest != rec->nft_digest)
		missing(u, "the nftables table inet %s as verified (it changed since)", FW_TABLE);
	u->fw = u->nmissing == before;
}

static void ipt_check(const struct state *s, struct upcheck *u)
{
	struct fw_cfg c = {
		.killswitch = s->killswitch,
		/* what fw_ipt_apply() made: the forward chains too */
		.forward = s->forward == STATE_FWD_PROXY   ? FW_FWD_PROXY
			   : s->forward == STATE_FWD_BLOCK ? FW_FWD_BLOCK
							   : FW_FWD_DIRECT,
	};
	char what[256];
	int ret = fw_ipt_check(&c, s->ipv6, what, sizeof(what));

	if (ret == -EPERM)
		unchecked(u, "the iptables chains (needs root)");
	else if (ret < 0)
		unchecked(u, "the iptables chains (%s)", strerror(-ret));
	else if (ret)
		missing(u, "iptables: %s", what);
	if (ret >= 0)
		u->fw = ret == 0;
}

void upcheck_run(const struct state *s, const struct watchrec *rec, struct upcheck *u)
{
	memset(u, 0, sizeof(*u));
	u->fw = -1;
	/* the killswitch first, as everywhere */
	if (has(s, STATE_OBJ_NFT_TABLE))
		nft_check(s, rec, u);
	if (has(s, STATE_OBJ_IPT_CHAIN))
		ipt_check(s, u);
	link_check(s, u);
	routes_check(s, u);
}

int uphealth_get(int dirfd, pid_t holder, const struct state *s, struct uphealth *h)
{
	const char *why = NULL;

	memset(h, 0, sizeof(*h));
	h->chk.fw = -1;
	h->have_rec = watch_record_read(dirfd, &h->rec, &why) == 0 && holder > 0 &&
		      h->rec.pid == (uint32_t)holder;
	if (s)
		upcheck_run(s, h->have_rec ? &h->rec : NULL, &h->chk);
	if (!h->have_rec || !h->rec.ready || !s) {
		h->phase = UP_PHASE_STARTING;
		return EXIT_STARTING;
	}
	h->phase = h->chk.nmissing ? UP_PHASE_DEGRADED : UP_PHASE_RUNNING;
	return h->chk.nmissing ? EXIT_DEGRADED : EXIT_OK_UP;
}

static void print_list(const char (*v)[UPCHECK_NAME_MAX], unsigned int n, unsigned int total)
{
	for (unsigned int i = 0; i < n && i < UPCHECK_MAX; i++)
		printf("%s%s", i ? ", " : "", v[i]);
	if (total > n)
		printf(" and %u more", total - n);
}

void uphealth_print(const struct uphealth *h, pid_t holder)
{
	const struct upcheck *c = &h->chk;
	unsigned int shown = c->nmissing < UPCHECK_MAX ? c->nmissing : UPCHECK_MAX;

	switch (h->phase) {
	case UP_PHASE_STARTING:
		printf("up: starting, pid %d", (int)holder);
		if (c->nmissing) {
			printf(" (not in place yet: ");
			print_list(c->missing, shown, c->nmissing);
			printf(")");
		}
		printf("\n");
		break;
	case UP_PHASE_RUNNING:
		printf("up: running, pid %d: the killswitch, every route and rule and the TUN are "
		       "in the kernel%s\n",
		       (int)holder, c->nunchecked ? " (but see: not checked)" : "");
		break;
	case UP_PHASE_DEGRADED:
		printf("up: running, pid %d, but NOT in place: ", (int)holder);
		print_list(c->missing, shown, c->nmissing);
		printf("\n");
		break;
	}
	if (c->nunchecked) {
		printf("not checked: ");
		print_list(c->unchecked, c->nunchecked, c->nunchecked);
		printf("\n");
	}
	if (h->have_rec) {
		const struct watchrec *r = &h->rec;
		uint64_t total = 0;

		for (unsigned int k = 0; k < WATCH_KINDS; k++)
			total += r->repairs[k];
		printf("watch: %llu repair%s", (unsigned long long)total, total == 1 ? "" : "s");
		for (unsigned int k = 0; k < WATCH_KINDS && total; k++)
			if (r->repairs[k])
				printf("%s %s %llu", k ? "," : ":", watchrec_kind_name(k),
				       (unsigned long long)r->repairs[k]);
		if (total)
			printf("; the last took %llu.%03llu ms, the longest %llu.%03llu ms",
			       (unsigned long long)(r->window_last_us / 1000),
			       (unsigned long long)(r->window_last_us % 1000),
			       (unsigned long long)(r->window_max_us / 1000),
			       (unsigned long long)(r->window_max_us % 1000));
		if (r->limited)
			printf("; the repair bound (%d a second) was hit %llu time%s",
			       WATCH_REPAIRS_PER_SEC, (unsigned long long)r->limited,
			       r->limited == 1 ? "" : "s");
		printf("\n");
	}
}

static void json_list(struct jbuf *b, const char *key, const char (*v)[UPCHECK_NAME_MAX],
		      unsigned int n)
{
	jb_raw(b, ",");
	jb_key(b, key);
	jb_raw(b, "[");
	for (unsigned int i = 0; i < n && i < UPCHECK_MAX; i++) {
		if (i)
			jb_raw(b, ",");
		jb_str(b, v[i], strlen(v[i]));
	}
	jb_raw(b, "]");
}

void uphealth_json(struct jbuf *b, const struct uphealth *h)
{
	static const char *const phases[] = { "starting", "running", "degraded" };

	jb_raw(b, ",");
	jb_kv_str(b, "phase", phases[h->phase]);
	json_list(b, "missing", h->chk.missing, h->chk.nmissing);
	json_list(b, "unchecked", h->chk.unchecked, h->chk.nunchecked);
	jb_raw(b, ",");
	jb_key(b, "watch");
	if (!h->have_rec) {
		jb_raw(b, "null");
		return;
	}
	jb_raw(b, "{\"repairs\":{");
	for (unsigned int k = 0; k < WATCH_KINDS; k++) {
		if (k)
			jb_raw(b, ",");
		jb_kv_u64(b, watchrec_kind_name(k), h->rec.repairs[k]);
	}
	jb_raw(b, "},");
	jb_kv_u64(b, "limited", h->rec.limited);
	jb_raw(b, ",");
	jb_kv_u64(b, "window_last_us", h->rec.window_last_us);
	jb_raw(b, ",");
	jb_kv_u64(b, "window_max_us", h->rec.window_max_us);
	jb_raw(b, "}");
}
