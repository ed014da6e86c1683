// SPDX-License-Identifier: GPL-2.0-only
/*
 * The watcher's record (watchrec.h): a formatter and a strict parser. Every
 * line is `key value`, keys in a fixed order, numbers in decimal without
 * leading zeros (the digest: exactly 16 lowercase hex digits).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "num.h"
#include "watchrec.h"

enum { PID_MAX = 4194304 }; /* PID_MAX_LIMIT */

static const char *const kind_names[WATCH_KINDS] = {
	[WATCH_NFT] = "nftables", [WATCH_IPT] = "iptables", [WATCH_RULE] = "rule",
	[WATCH_ROUTE] = "route",  [WATCH_LINK] = "link",    [WATCH_ADDR] = "address",
};
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == WATCH_KINDS, "a name per kind");

const char *watchrec_kind_name(unsigned int kind)
{
	return kind < WATCH_KINDS ? kind_names[kind] : NULL;
}

int watchrec_format(const struct watchrec *r, char *buf, size_t len)
{
	size_t off = 0;
	unsigned int k;
	int n;

	if (r->pid == 0 || r->pid > PID_MAX)
		return -EINVAL;
	n = snprintf(buf, len,
		     "proxyvpn-watch %d\npid %" PRIu32 "\nphase %s\nnft-digest %016" PRIx64 "\n",
		     WATCHREC_VERSION, r->pid, r->ready ? "ready" : "starting", r->nft_digest);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	off = (size_t)n;
	for (k = 0; k < WATCH_KINDS; k++) {
		n = snprintf(buf + off, len - off, "repairs %s %" PRIu64 "\n", kind_names[k],
			     r->repairs[k]);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += (size_t)n;
	}
	n = snprintf(buf + off, len - off,
		     "limited %" PRIu64 "\nwindow-last-us %" PRIu64 "\nwindow-max-us %" PRIu64
		     "\nend\n",
		     r->limited, r->window_last_us, r->window_max_us);
	if (n < 0 || (size_t)n >= len - off)
		return -ENOSPC;
	return (int)(off + (size_t)n);
}

/* ---- parser ---- */

struct cur {
	const char *p;
	size_t left;
};

/* The next line (without its newline) into *line, *n; false at the end or without a newline. */
static bool next_line(struct cur *c, const char **line, size_t *n)
{
	const char *nl;

	if (!c->left)
		return false;
	nl = memchr(c->p, '\n', c->left);
	if (!nl)
		return false;
	*line = c->p;
	*n = (size_t)(nl - c->p);
	c->left -= *n + 1;
	c->p = nl + 1;
	return true;
}

/* line is exactly "key " + the rest; the rest in *v, *vn. */
static bool key(const char *line, size_t n, const char *k, const char **v, size_t *vn)
{
	size_t kl = strlen(k);

	if (n <= kl + 1 || memcmp(line, k, kl) || line[kl] != ' ')
		return false;
	*v = line + kl + 1;
	*vn = n - kl - 1;
	return true;
}

/* Decimal, one spelling per value (num.c, NUM_CANON: no leading zero). */
static bool dec(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	return num_parse(p, n, NUM_CANON, 0, max, out) == 0;
}

static bool hex16(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n != 16)
		return false;
	for (i = 0; i < n; i++) {
		unsigned int d;

		if (p[i] >= '0' && p[i] <= '9')
			d = (unsigned int)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = (unsigned int)(p[i] - 'a' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static bool is(const char *p, size_t n, const char *s)
{
	return n == strlen(s) && !memcmp(p, s, n);
}

/* "key N": the next line must be it. */
static bool num_line(struct cur *c, const char *k, uint64_t max, uint64_t *out)
{
	const char *line, *v;
	size_t n, vn;

	return next_line(c, &line, &n) && key(line, n, k, &v, &vn) && dec(v, vn, max, out);
}

static int bad(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

static int parse(const char *buf, size_t len, struct watchrec *r, const char **why)
{
	struct cur c = { buf, len };
	const char *line, *v;
	uint64_t x;
	size_t n, vn;
	unsigned int k;

	if (len > WATCHREC_MAX)
		return bad(why, "too long");
	if (memchr(buf, '\0', len))
		return bad(why, "a NUL byte");
	if (!next_line(&c, &line, &n) || !is(line, n, "proxyvpn-watch 1"))
		return bad(why, "not a version 1 watch record");
	if (!num_line(&c, "pid", PID_MAX, &x) || x == 0)
		return bad(why, "bad pid line");
	r->pid = (uint32_t)x;
	if (!next_line(&c, &line, &n) || !key(line, n, "phase", &v, &vn) ||
	    !(is(v, vn, "ready") || is(v, vn, "starting")))
		return bad(why, "bad phase line");
	r->ready = is(v, vn, "ready");
	if (!next_line(&c, &line, &n) || !key(line, n, "nft-digest", &v, &vn) ||
	    !hex16(v, vn, &r->nft_digest))
		return bad(why, "bad nft-digest line");
	for (k = 0; k < WATCH_KINDS; k++) {
		if (!next_line(&c, &line, &n) || !key(line, n, "repairs", &v, &vn))
			return bad(why, "bad repairs line");
		n = strlen(kind_names[k]);
		if (vn <= n + 1 || memcmp(v, kind_names[k], n) || v[n] != ' ' ||
		    !dec(v + n + 1, vn - n - 1, UINT64_MAX, &r->repairs[k]))
			return bad(why, "bad repairs line");
	}
	if (!num_line(&c, "limited", UINT64_MAX, &r->limited))
		return bad(why, "bad limited line");
	if (!num_line(&c, "window-last-us", UINT64_MAX, &r->window_last_us) ||
	    !num_line(&c, "window-max-us", UINT64_MAX, &r->window_max_us))
		return bad(why, "bad window line");
	if (!next_line(&c, &line, &n) || !is(line, n, "end"))
		return bad(why, "no end line (truncated?)");
	if (c.left)
		return bad(why, "bytes after the end line");
	return 0;
}

int watchrec_parse(const char *buf, size_t len, struct watchrec *r, const char **why)
{
	int ret;

	memset(r, 0, sizeof(*r));
	*why = NULL;
	ret = parse(buf, len, r, why);
	if (ret < 0)
		memset(r, 0, sizeof(*r));
	return ret;
}
