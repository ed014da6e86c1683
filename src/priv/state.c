// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host-mode state file: a private directory, an flock()ed `lock` file
 * for the running `up`, and `state`, a line-based text record replaced by
 * rename. Everything after state_dir_open() is relative to the dirfd and
 * never follows a symlink. state_parse() is pure so it can be fuzzed by
 * inclusion; error phrases are static and never quote the input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "num.h"
#include "state.h"

#define STATE_MAGIC "proxyvpn-state"
#define STATE_FILE  "state"
#define STATE_TMP   "state.tmp"
#define STATE_LOCK  "lock"

static const char *const kind_names[] = {
	[STATE_OBJ_LINK] = "link",	     [STATE_OBJ_ADDR] = "addr",
	[STATE_OBJ_ROUTE] = "route",	     [STATE_OBJ_RULE] = "rule",
	[STATE_OBJ_NFT_TABLE] = "nft-table", [STATE_OBJ_IPT_CHAIN] = "ipt-chain",
	[STATE_OBJ_IPT_RULE] = "ipt-rule",
};

#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

static const char *const fw_names[] = {
	[STATE_FW_NFTABLES] = "nftables",
	[STATE_FW_IPTABLES] = "iptables",
};

#define NFWS (sizeof(fw_names) / sizeof(fw_names[0]))

static const char *const fwd_names[] = {
	[STATE_FWD_PROXY] = "proxy",
	[STATE_FWD_BLOCK] = "block",
	[STATE_FWD_DIRECT] = "direct",
};

#define NFWDS (sizeof(fwd_names) / sizeof(fwd_names[0]))

/* Scalar keys, in the order state_format() writes them. */
enum key {
	K_PID,
	K_START,
	K_TUN,
	K_IFINDEX,
	K_TABLE,
	K_FWMARK,
	K_PRIORITY,
	K_CATCH_TABLE,
	K_CATCH_PRIORITY,
	K_IPV6,
	K_FW,
	K_FW_TABLE,
	K_FW_CHAIN,
	K_KILLSWITCH,
	K_FORWARD,
	K_PROXY,
	K_COUNT,
};

static const char *const key_names[K_COUNT] = {
	[K_PID] = "pid",
	[K_START] = "start",
	[K_TUN] = "tun",
	[K_IFINDEX] = "ifindex",
	[K_TABLE] = "table",
	[K_FWMARK] = "fwmark",
	[K_PRIORITY] = "priority",
	[K_CATCH_TABLE] = "catch-table",
	[K_CATCH_PRIORITY] = "catch-priority",
	[K_IPV6] = "ipv6",
	[K_FW] = "fw",
	[K_FW_TABLE] = "fw-table",
	[K_FW_CHAIN] = "fw-chain",
	[K_KILLSWITCH] = "killswitch",
	[K_FORWARD] = "forward",
	[K_PROXY] = "proxy",
};

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool name_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

static bool arg_char(char c)
{
	return name_char(c) || c == ':' || c == '/' || c == '=' || c == ',' || c == '+';
}

static bool span_is(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(p, word, n) == 0;
}

/* Non-empty, at most max bytes, every byte passing ok(). */
static bool span_valid(const char *p, size_t n, size_t max, bool (*ok)(char))
{
	size_t i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if (!ok(p[i]))
			return false;
	return true;
}

static bool str_valid(const char *s, size_t size, size_t max, bool (*ok)(char))
{
	size_t n = strnlen(s, size);

	return n < size && span_valid(s, n, max, ok);
}

/* Copies a validated span into a NUL-terminated field of at least n + 1 bytes. */
static void span_copy(char *dst, const char *p, size_t n)
{
	memcpy(dst, p, n);
	dst[n] = '\0';
}

const char *state_kind_name(enum state_kind kind)
{
	if ((unsigned int)kind >= NKINDS)
		return NULL;
	return kind_names[kind];
}

const char *state_fwd_name(enum state_fwd fwd)
{
	if ((unsigned int)fwd >= NFWDS)
		return NULL;
	return fwd_names[fwd];
}

static bool table_ok(uint32_t t)
{
	return t != 0 && (t < 253 || t > 255); /* unspec, default, main, local */
}

static bool priority_ok(uint32_t p)
{
	return p != 0 && p != 32766 && p != 32767; /* local, main, default */
}

/* The catch-all rule comes after main and default (route.h). */
static bool catch_priority_ok(uint32_t p)
{
	return p > 32767;
}

static bool obj_valid(const struct state_obj *o, const char **why)
{
	unsigned int i;

	if (!state_kind_name(o->kind)) {
		*why = "unknown object kind";
		return false;
	}
	if (o->nargs < 1 || o->nargs > STATE_OBJ_ARGS) {
		*why = "object needs 1-4 fields";
		return false;
	}
	for (i = 0; i < o->nargs; i++) {
		if (!str_valid(o->arg[i], sizeof(o->arg[i]), STATE_ARG_MAX, arg_char)) {
			*why = "bad object field";
			return false;
		}
	}
	for (; i < STATE_OBJ_ARGS; i++) {
		if (o->arg[i][0]) {
			*why = "bad object field";
			return false;
		}
	}
	return true;
}

int state_check(const struct state *s, const char **why)
{
	unsigned int i;

	if (s->pid < 1 || s->pid > STATE_PID_MAX) {
		*why = "pid out of range";
		return -EINVAL;
	}
	if (s->start < 0) {
		*why = "start out of range";
		return -EINVAL;
	}
	if (!str_valid(s->tun, sizeof(s->tun), STATE_IFNAME_MAX, name_char)) {
		*why = "bad tun name";
		return -EINVAL;
	}
	if (s->ifindex < 1 || s->ifindex > INT32_MAX) {
		*why = "ifindex out of range";
		return -EINVAL;
	}
	if (!table_ok(s->table)) {
		*why = "table out of range";
		return -EINVAL;
	}
	if (s->fwmark == 0) {
		*why = "fwmark out of range";
		return -EINVAL;
	}
	if (!priority_ok(s->priority)) {
		*why = "priority out of range";
		return -EINVAL;
	}
	if (!table_ok(s->catch_table) || s->catch_table == s->table) {
		*why = "catch-table out of range";
		return -EINVAL;
	}
	if (!catch_priority_ok(s->catch_priority)) {
		*why = "catch-priority out of range";
		return -EINVAL;
	}
	if ((unsigned int)s->forward >= NFWDS || !fwd_names[s->forward]) {
		*why = "unknown forward mode";
		return -EINVAL;
	}
	if ((unsigned int)s->fw >= NFWS || !fw_names[s->fw]) {
		*why = "unknown firewall backend";
		return -EINVAL;
	}
	if (!str_valid(s->fw_table, sizeof(s->fw_table), STATE_NAME_MAX, name_char)) {
		*why = "bad fw-table name";
		return -EINVAL;
	}
	if (!str_valid(s->fw_chain, sizeof(s->fw_chain), STATE_NAME_MAX, name_char)) {
		*why = "bad fw-chain name";
		return -EINVAL;
	}
	if ((s->proxy.family != AF_INET && s->proxy.family != AF_INET6) || s->proxy.port == 0) {
		*why = "bad proxy address";
		return -EINVAL;
	}
	if (s->nobj > STATE_OBJ_MAX) {
		*why = "too many objects";
		return -EINVAL;
	}
	for (i = 0; i < s->nobj; i++)
		if (!obj_valid(&s->obj[i], why))
			return -EINVAL;
	return 0;
}

int state_obj_add(struct state *s, enum state_kind kind, unsigned int nargs,
		  const char *const *args)
{
	struct state_obj o;
	const char *why;
	unsigned int i;

	if (s->nobj >= STATE_OBJ_MAX)
		return -ENOSPC;
	if (nargs < 1 || nargs > STATE_OBJ_ARGS)
		return -EINVAL;
	memset(&o, 0, sizeof(o));
	o.kind = kind;
	o.nargs = nargs;
	for (i = 0; i < nargs; i++) {
		size_t n = strnlen(args[i], STATE_ARG_MAX + 1);

		if (n > STATE_ARG_MAX)
			return -EINVAL;
		span_copy(o.arg[i], args[i], n);
	}
	if (!obj_valid(&o, &why))
		return -EINVAL;
	s->obj[s->nobj++] = o;
	return 0;
}

int state_add(struct state *s, enum state_kind kind, const char *arg, ...)
{
	const char *args[STATE_OBJ_ARGS];
	unsigned int n = 0;
	const char *a;
	va_list ap;

	va_start(ap, arg);
	for (a = arg; a; a = va_arg(ap, const char *)) {
		if (n == STATE_OBJ_ARGS) {
			va_end(ap);
			return -EINVAL;
		}
		args[n++] = a;
	}
	va_end(ap);
	return state_obj_add(s, kind, n, args);
}

int state_drop_last(struct state *s, enum state_kind kind)
{
	if (s->nobj == 0 || s->obj[s->nobj - 1].kind != kind)
		return -ENOENT;
	s->nobj--;
	memset(&s->obj[s->nobj], 0, sizeof(s->obj[s->nobj]));
	return 0;
}

bool state_has(const struct state *s, enum state_kind kind)
{
	unsigned int i;

	for (i = 0; i < s->nobj; i++)
		if (s->obj[i].kind == kind)
			return true;
	return false;
}

int state_add_routes(struct state *s)
{
	static const char *const via[] = { "unreachable", "local", "dev" };
	static const char *const catch_via[] = { "unreachable", "dev" };
	const char *fam[2] = { "4", "6" };
	char t[16], rule[48], p[16], ct[16], crule[32], cp[16];
	unsigned int i, j;
	int ret;

	snprintf(t, sizeof(t), "%" PRIu32, s->table);
	snprintf(p, sizeof(p), "%" PRIu32, s->priority);
	snprintf(rule, sizeof(rule), "fwmark=0x%" PRIx32 "/0xffffffff", s->fwmark);
	snprintf(ct, sizeof(ct), "%" PRIu32, s->catch_table);
	snprintf(cp, sizeof(cp), "%" PRIu32, s->catch_priority);
	snprintf(crule, sizeof(crule), "lookup=%" PRIu32, s->catch_table);
	for (i = 0; i < (s->ipv6 ? 2u : 1u); i++) {
		for (j = 0; j < sizeof(via) / sizeof(via[0]); j++) {
			ret = state_add(s, STATE_OBJ_ROUTE, fam[i], t, "default", via[j], NULL);
			if (ret < 0)
				return ret;
		}
		ret = state_add(s, STATE_OBJ_RULE, fam[i], p, rule, NULL);
		for (j = 0; j < sizeof(catch_via) / sizeof(catch_via[0]) && ret == 0; j++)
			ret = state_add(s, STATE_OBJ_ROUTE, fam[i], ct, "default", catch_via[j],
					NULL);
		if (ret == 0)
			ret = state_add(s, STATE_OBJ_RULE, fam[i], cp, crule, NULL);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- serializer ---- */

struct wr {
	char *p;
	size_t len, off;
	bool full;
};

static void __attribute__((format(printf, 2, 3))) wr_printf(struct wr *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->p + w->off, w->len - w->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->len - w->off) {
		w->full = true;
		return;
	}
	w->off += (size_t)n;
}

int state_format(const struct state *s, char *buf, size_t len, const char **why)
{
	struct wr w = { .p = buf, .len = len };
	char addr[INET6_ADDRSTRLEN];
	unsigned int i, j;
	int ret;

	ret = state_check(s, why);
	if (ret < 0)
		return ret;
	if (len == 0 || len > INT32_MAX) {
		*why = "no room";
		return -ENOSPC;
	}
	if (!inet_ntop(s->proxy.family, s->proxy.addr, addr, sizeof(addr))) {
		*why = "bad proxy address";
		return -EINVAL;
	}
	wr_printf(&w, "%s %d\n", STATE_MAGIC, STATE_VERSION);
	wr_printf(&w, "pid %d\n", (int)s->pid);
	wr_printf(&w, "start %" PRId64 "\n", s->start);
	wr_printf(&w, "tun %s\n", s->tun);
	wr_printf(&w, "ifindex %" PRIu32 "\n", s->ifindex);
	wr_printf(&w, "table %" PRIu32 "\n", s->table);
	wr_printf(&w, "fwmark %" PRIu32 "\n", s->fwmark);
	wr_printf(&w, "priority %" PRIu32 "\n", s->priority);
	wr_printf(&w, "catch-table %" PRIu32 "\n", s->catch_table);
	wr_printf(&w, "catch-priority %" PRIu32 "\n", s->catch_priority);
	wr_printf(&w, "ipv6 %s\n", s->ipv6 ? "on" : "off");
	wr_printf(&w, "fw %s\n", fw_names[s->fw]);
	wr_printf(&w, "fw-table %s\n", s->fw_table);
	wr_printf(&w, "fw-chain %s\n", s->fw_chain);
	wr_printf(&w, "killswitch %s\n", s->killswitch ? "on" : "off");
	wr_printf(&w, "forward %s\n", fwd_names[s->forward]);
	if (s->proxy.family == AF_INET6)
		wr_printf(&w, "proxy [%s]:%u\n", addr, s->proxy.port);
	else
		wr_printf(&w, "proxy %s:%u\n", addr, s->proxy.port);
	for (i = 0; i < s->nobj; i++) {
		const struct state_obj *o = &s->obj[i];

		wr_printf(&w, "obj %s", kind_names[o->kind]);
		for (j = 0; j < o->nargs; j++)
			wr_printf(&w, " %s", o->arg[j]);
		wr_printf(&w, "\n");
	}
	wr_printf(&w, "end\n");
	if (w.full) {
		*why = "no room";
		return -ENOSPC;
	}
	return (int)w.off;
}

/* ---- parser ---- */

/* The file's numbers: canonical decimal (no sign, no leading zero), at most max. */
static bool parse_u64(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	return num_parse(p, n, NUM_CANON, 0, max, out) == 0;
}

static bool parse_u32(const char *p, size_t n, uint32_t *out)
{
	uint64_t v;

	if (!parse_u64(p, n, UINT32_MAX, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_onoff(const char *p, size_t n, bool *out)
{
	if (span_is(p, n, "on"))
		*out = true;
	else if (span_is(p, n, "off"))
		*out = false;
	else
		return false;
	return true;
}

/* "1.2.3.4:port" or "[v6]:port". */
static bool parse_proxy(const char *p, size_t n, struct state_addr *a)
{
	char tmp[INET6_ADDRSTRLEN];
	const char *host, *colon;
	size_t hlen;
	uint64_t port;

	if (n > 0 && p[0] == '[') {
		const char *rb = memchr(p, ']', n);

		if (!rb || (size_t)(rb - p) + 1 >= n || rb[1] != ':')
			return false;
		host = p + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
		a->family = AF_INET6;
	} else {
		colon = memchr(p, ':', n);
		if (!colon)
			return false;
		host = p;
		hlen = (size_t)(colon - p);
		a->family = AF_INET;
	}
	if (hlen == 0 || hlen >= sizeof(tmp))
		return false;
	span_copy(tmp, host, hlen);
	if (inet_pton(a->family, tmp, a->addr) != 1)
		return false;
	if (!parse_u64(colon + 1, n - (size_t)(colon + 1 - p), 65535, &port) || port == 0)
		return false;
	a->port = (uint16_t)port;
	return true;
}

static bool parse_obj(const char *p, size_t n, struct state_obj *o)
{
	const char *end = p + n, *sp;
	unsigned int k;

	sp = memchr(p, ' ', n);
	if (!sp)
		return false; /* a kind with no field */
	for (k = 1; k < NKINDS; k++)
		if (kind_names[k] && span_is(p, (size_t)(sp - p), kind_names[k]))
			break;
	if (k == NKINDS)
		return false;
	o->kind = (enum state_kind)k;
	p = sp + 1;
	for (;;) {
		size_t fl;

		sp = memchr(p, ' ', (size_t)(end - p));
		fl = sp ? (size_t)(sp - p) : (size_t)(end - p);
		if (o->nargs == STATE_OBJ_ARGS || !span_valid(p, fl, STATE_ARG_MAX, arg_char))
			return false;
		span_copy(o->arg[o->nargs++], p, fl);
		if (!sp)
			return true;
		p = sp + 1;
	}
}

static int parse_value(enum key k, const char *v, size_t vn, struct state *s)
{
	uint64_t u;
	unsigned int i;

	switch (k) {
	case K_PID:
		if (!parse_u64(v, vn, STATE_PID_MAX, &u) || u == 0)
			return -EINVAL;
		s->pid = (pid_t)u;
		return 0;
	case K_START:
		if (!parse_u64(v, vn, INT64_MAX, &u))
			return -EINVAL;
		s->start = (int64_t)u;
		return 0;
	case K_TUN:
		if (!span_valid(v, vn, STATE_IFNAME_MAX, name_char))
			return -EINVAL;
		span_copy(s->tun, v, vn);
		return 0;
	case K_IFINDEX:
		if (!parse_u64(v, vn, INT32_MAX, &u) || u == 0)
			return -EINVAL;
		s->ifindex = (uint32_t)u;
		return 0;
	case K_TABLE:
		return parse_u32(v, vn, &s->table) && table_ok(s->table) ? 0 : -EINVAL;
	case K_FWMARK:
		return parse_u32(v, vn, &s->fwmark) && s->fwmark ? 0 : -EINVAL;
	case K_PRIORITY:
		return parse_u32(v, vn, &s->priority) && priority_ok(s->priority) ? 0 : -EINVAL;
	case K_CATCH_TABLE:
		return parse_u32(v, vn, &s->catch_table) && table_ok(s->catch_table) ? 0 : -EINVAL;
	case K_CATCH_PRIORITY:
		return parse_u32(v, vn, &s->catch_priority) && catch_priority_ok(s->catch_priority)
			       ? 0
			       : -EINVAL;
	case K_IPV6:
		return parse_onoff(v, vn, &s->ipv6) ? 0 : -EINVAL;
	case K_KILLSWITCH:
		return parse_onoff(v, vn, &s->killswitch) ? 0 : -EINVAL;
	case K_FORWARD:
		for (i = 1; i < NFWDS; i++) {
			if (span_is(v, vn, fwd_names[i])) {
				s->forward = (enum state_fwd)i;
				return 0;
			}
		}
		return -EINVAL;
	case K_FW:
		for (i = 1; i < NFWS; i++) {
			if (span_is(v, vn, fw_names[i])) {
				s->fw = (enum state_fw)i;
				return 0;
			}
		}
		return -EINVAL;
	case K_FW_TABLE:
		if (!span_valid(v, vn, STATE_NAME_MAX, name_char))
			return -EINVAL;
		span_copy(s->fw_table, v, vn);
		return 0;
	case K_FW_CHAIN:
		if (!span_valid(v, vn, STATE_NAME_MAX, name_char))
			return -EINVAL;
		span_copy(s->fw_chain, v, vn);
		return 0;
	case K_PROXY:
		return parse_proxy(v, vn, &s->proxy) ? 0 : -EINVAL;
	case K_COUNT:
		break;
	}
	return -EINVAL;
}

static const char *const bad_value[K_COUNT] = {
	[K_PID] = "bad pid",
	[K_START] = "bad start",
	[K_TUN] = "bad tun name",
	[K_IFINDEX] = "bad ifindex",
	[K_TABLE] = "bad table",
	[K_FWMARK] = "bad fwmark",
	[K_PRIORITY] = "bad priority",
	[K_CATCH_TABLE] = "bad catch-table",
	[K_CATCH_PRIORITY] = "bad catch-priority",
	[K_IPV6] = "bad ipv6 (on|off)",
	[K_FW] = "bad fw (nftables|iptables)",
	[K_FW_TABLE] = "bad fw-table name",
	[K_FW_CHAIN] = "bad fw-chain name",
	[K_KILLSWITCH] = "bad killswitch (on|off)",
	[K_FORWARD] = "bad forward (proxy|block|direct)",
	[K_PROXY] = "bad proxy address",
};

static int parse(const char *buf, size_t len, struct state *s, const char **why)
{
	static const char header[] = STATE_MAGIC " ";
	const size_t hl = sizeof(header) - 1;
	unsigned int seen = 0;
	bool ended = false;
	size_t off = 0;
	int line;

	if (len > STATE_FILE_MAX) {
		*why = "file larger than 64 KiB";
		return -EINVAL;
	}
	if (len == 0) {
		*why = "empty file";
		return -EINVAL;
	}
	if (memchr(buf, '\0', len)) {
		*why = "NUL byte in file";
		return -EINVAL;
	}
	if (buf[len - 1] != '\n') {
		*why = "no newline at end of file (truncated?)";
		return -EINVAL;
	}
	for (line = 1; off < len; line++) {
		const char *p = buf + off, *nl, *sp, *v;
		size_t n, kn, vn;
		unsigned int k;

		nl = memchr(p, '\n', len - off);
		n = (size_t)(nl - p); /* there is one: the file ends with '\n' */
		off += n + 1;
		if (n > STATE_LINE_MAX) {
			*why = "line too long";
			return -EINVAL;
		}
		if (ended) {
			*why = "data after end";
			return -EINVAL;
		}
		if (line == 1) {
			uint64_t ver;

			if (n < hl || memcmp(p, header, hl) != 0) {
				*why = "not a proxyvpn state file";
				return -EINVAL;
			}
			if (!parse_u64(p + hl, n - hl, UINT32_MAX, &ver) || ver != STATE_VERSION) {
				*why = "unsupported state file version";
				return -EINVAL;
			}
			s->version = (unsigned int)ver;
			continue;
		}
		if (span_is(p, n, "end")) {
			ended = true;
			continue;
		}
		sp = memchr(p, ' ', n);
		if (!sp) {
			*why = "line without a value";
			return -EINVAL;
		}
		kn = (size_t)(sp - p);
		v = sp + 1;
		vn = n - kn - 1;
		if (span_is(p, kn, "obj")) {
			if (s->nobj == STATE_OBJ_MAX) {
				*why = "too many objects";
				return -EINVAL;
			}
			if (!parse_obj(v, vn, &s->obj[s->nobj])) {
				*why = "bad obj line";
				return -EINVAL;
			}
			s->nobj++;
			continue;
		}
		for (k = 0; k < K_COUNT; k++)
			if (span_is(p, kn, key_names[k]))
				break;
		if (k == K_COUNT) {
			*why = "unknown key";
			return -EINVAL;
		}
		if (seen & 1u << k) {
			*why = "duplicate key";
			return -EINVAL;
		}
		seen |= 1u << k;
		if (parse_value((enum key)k, v, vn, s) < 0) {
			*why = bad_value[k];
			return -EINVAL;
		}
	}
	if (!ended) {
		*why = "no end line (truncated?)";
		return -EINVAL;
	}
	if (seen != (1u << K_COUNT) - 1) {
		*why = "missing key";
		return -EINVAL;
	}
	/* The line checks above imply this; keep parse and format in step. */
	return state_check(s, why);
}

int state_parse(const char *buf, size_t len, struct state *s, const char **why)
{
	int ret;

	memset(s, 0, sizeof(*s));
	*why = NULL;
	ret = parse(buf, len, s, why);
	if (ret < 0)
		memset(s, 0, sizeof(*s));
	return ret;
}

/* ---- files ---- */

static int owned_private(const struct stat *st, mode_t type, mode_t mode)
{
	if ((st->st_mode & S_IFMT) != type)
		return type == S_IFDIR ? -ENOTDIR : -EPERM;
	if (st->st_uid != geteuid() || (st->st_mode & 07777) != mode)
		return -EPERM;
	return 0;
}

int state_dir(char *out, size_t len, const char **why)
{
	const char *xdg;
	struct stat st;
	int n;

	if (geteuid() == 0) {
		xdg = NULL;
		n = snprintf(out, len, "%s", STATE_DIR_ROOT);
	} else {
		xdg = getenv("XDG_RUNTIME_DIR");
		if (!xdg || !*xdg) {
			*why = "XDG_RUNTIME_DIR is not set";
			return -ENOENT;
		}
		if (xdg[0] != '/') {
			*why = "XDG_RUNTIME_DIR is not an absolute path";
			return -EINVAL;
		}
		if (lstat(xdg, &st) < 0) {
			*why = "XDG_RUNTIME_DIR cannot be read";
			return -errno;
		}
		if (!S_ISDIR(st.st_mode)) {
			*why = "XDG_RUNTIME_DIR is not a directory";
			return -ENOTDIR;
		}
		if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
			*why = "XDG_RUNTIME_DIR is not ours or is group/world-writable";
			return -EPERM;
		}
		n = snprintf(out, len, "%s/%s", xdg, STATE_DIR_USER);
	}
	if (n < 0 || (size_t)n >= len) {
		*why = "state directory path too long";
		return -ENAMETOOLONG;
	}
	return 0;
}

int state_dir_open(const char *path, const char **why)
{
	char parent[4096];
	const char *base, *slash;
	struct stat st;
	bool created = false;
	int pfd, fd, ret;
	size_t n = strlen(path);

	/* Split off the last component; trailing slashes are not accepted. */
	if (n == 0 || n >= sizeof(parent) || path[n - 1] == '/') {
		*why = "bad state directory path";
		return -EINVAL;
	}
	slash = strrchr(path, '/');
	if (slash) {
		size_t pl = slash == path ? 1 : (size_t)(slash - path);

		memcpy(parent, path, pl);
		parent[pl] = '\0';
		base = slash + 1;
	} else {
		strcpy(parent, ".");
		base = path;
	}
	if (span_is(base, strlen(base), ".") || span_is(base, strlen(base), "..")) {
		*why = "bad state directory path";
		return -EINVAL;
	}
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		*why = "cannot open the state directory's parent";
		return -errno;
	}
	/* Others may not swap our directory unless the sticky bit stops them. */
	if (fstat(pfd, &st) < 0) {
		ret = -errno;
		*why = "cannot stat the state directory's parent";
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		ret = -EPERM;
		*why = "state directory's parent is group/world-writable and not sticky";
		goto out;
	}
	if (mkdirat(pfd, base, 0700) == 0)
		created = true;
	else if (errno != EEXIST) {
		ret = -errno;
		*why = "cannot create the state directory";
		goto out;
	}
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		ret = -errno;
		*why = "cannot stat the state directory";
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		ret = -ELOOP;
		*why = "state directory is a symlink";
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		ret = -ENOTDIR;
		*why = "state directory is not a directory";
		goto out;
	}
	fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		*why = ret == -ELOOP ? "state directory is a symlink"
				     : "cannot open the state directory";
		goto out;
	}
	/* A umask may have taken bits away from what mkdirat() asked for. */
	if (created && fchmod(fd, 0700) < 0) {
		ret = -errno;
		*why = "cannot chmod the state directory";
		close(fd);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		*why = "cannot stat the state directory";
		close(fd);
		goto out;
	}
	ret = owned_private(&st, S_IFDIR, 0700);
	if (ret < 0) {
		*why = ret == -ENOTDIR ? "state directory is not a directory"
				       : "state directory is not ours with mode 0700";
		close(fd);
		goto out;
	}
	ret = fd;
out:
	close(pfd);
	return ret;
}

static int read_all(int fd, char *buf, size_t cap, size_t *got)
{
	size_t off = 0;

	while (off < cap) {
		ssize_t n = read(fd, buf + off, cap - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	*got = off;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The pid in a lock file: decimal, then a newline. 0 if none or garbled. */
static pid_t lock_holder(int fd)
{
	char buf[16];
	size_t got;
	uint64_t v;

	if (lseek(fd, 0, SEEK_SET) < 0 || read_all(fd, buf, sizeof(buf), &got) < 0)
		return 0;
	if (got < 2 || buf[got - 1] != '\n' || !parse_u64(buf, got - 1, STATE_PID_MAX, &v))
		return 0;
	return (pid_t)v;
}

int state_lock(int dirfd, pid_t *holder)
{
	char buf[16];
	struct stat st;
	int fd, ret, n;

	if (holder)
		*holder = 0;
	fd = openat(dirfd, STATE_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = owned_private(&st, S_IFREG, 0600);
	if (ret < 0)
		goto fail;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (ret == -EBUSY && holder)
			*holder = lock_holder(fd);
		goto fail;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	errno = 0;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		ret = errno ? -errno : -EIO;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

int state_write(int dirfd, const struct state *s, const char **why)
{
	char *buf;
	int fd = -1, len, ret;

	buf = malloc(STATE_FILE_MAX);
	if (!buf) {
		*why = "out of memory";
		return -ENOMEM;
	}
	len = state_format(s, buf, STATE_FILE_MAX, why);
	if (len < 0) {
		ret = len;
		goto out;
	}
	/*
	 * A stale temp file is what a crash mid-write leaves. We hold the
	 * lock, so nobody else is writing it: remove it (a symlink is removed,
	 * not followed) and create ours exclusively.
	 */
	if (unlinkat(dirfd, STATE_TMP, 0) < 0 && errno != ENOENT) {
		ret = -errno;
		*why = "cannot remove a stale state.tmp";
		goto out;
	}
	fd = openat(dirfd, STATE_TMP, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		*why = "cannot create state.tmp";
		goto out;
	}
	/* Mode 0600 whatever the umask, or state_read() would refuse it. */
	if (fchmod(fd, 0600) < 0) {
		ret = -errno;
		*why = "cannot chmod state.tmp";
		goto unlink;
	}
	ret = write_all(fd, buf, (size_t)len);
	if (ret < 0) {
		*why = "cannot write state.tmp";
		goto unlink;
	}
	if (fsync(fd) < 0) {
		ret = -errno;
		*why = "cannot fsync state.tmp";
		goto unlink;
	}
	if (close(fd) < 0) {
		fd = -1;
		ret = -errno;
		*why = "cannot close state.tmp";
		goto unlink;
	}
	fd = -1;
	if (renameat(dirfd, STATE_TMP, dirfd, STATE_FILE) < 0) {
		ret = -errno;
		*why = "cannot rename state.tmp to state";
		goto unlink;
	}
	if (fsync(dirfd) < 0) {
		ret = -errno;
		*why = "cannot fsync the state directory";
		goto out;
	}
	ret = 0;
	goto out;
unlink:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlinkat(dirfd, STATE_TMP, 0);
out:
	free(buf);
	return ret;
}

int state_read(int dirfd, struct state *s, const char **why)
{
	struct stat st;
	char *buf = NULL;
	size_t got;
	int fd, ret;

	memset(s, 0, sizeof(*s));
	/* O_NONBLOCK: a FIFO planted as `state` must not hang us before fstat. */
	fd = openat(dirfd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			*why = "no state file";
		else if (ret == -ELOOP)
			*why = "state file is a symlink";
		else
			*why = "cannot open the state file";
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		*why = "cannot stat the state file";
		goto out;
	}
	ret = owned_private(&st, S_IFREG, 0600);
	if (ret < 0) {
		ret = -EPERM;
		*why = "state file is not a regular file of ours with mode 0600";
		goto out;
	}
	if (st.st_size > STATE_FILE_MAX) {
		ret = -EINVAL;
		*why = "file larger than 64 KiB";
		goto out;
	}
	buf = malloc(STATE_FILE_MAX + 1);
	if (!buf) {
		ret = -ENOMEM;
		*why = "out of memory";
		goto out;
	}
	/* Read one byte past the cap: the file may have grown since fstat. */
	ret = read_all(fd, buf, STATE_FILE_MAX + 1, &got);
	if (ret < 0) {
		*why = "cannot read the state file";
		goto out;
	}
	ret = state_parse(buf, got, s, why);
out:
	free(buf);
	close(fd);
	return ret;
}

int state_remove(int dirfd)
{
	int ret = 0;

	if (unlinkat(dirfd, STATE_FILE, 0) < 0 && errno != ENOENT)
		ret = -errno;
	if (unlinkat(dirfd, STATE_TMP, 0) < 0 && errno != ENOENT && ret == 0)
		ret = -errno;
	if (ret == 0 && fsync(dirfd) < 0)
		ret = -errno;
	return ret;
}
