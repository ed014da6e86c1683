// SPDX-License-Identifier: GPL-2.0-only
/*
 * The host's name-service configuration, rewritten for exec's namespace:
 * resolv.conf (our resolver only), nsswitch.conf (no hosts: service that
 * needs a daemon of the host) and D-Bus addresses (which socket paths a bus
 * variable names). Bytes in, bytes out: the namespace child reads and
 * mounts, nothing here touches a file.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "hostconf.h"

/* glibc's isspace() in the C locale: what its nsswitch.conf parser skips. */
static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The next line of in[*pos..len): start and length without its '\n'. */
static const char *next_line(const char *in, size_t len, size_t *pos, size_t *n)
{
	const char *l = in + *pos, *e;

	if (*pos >= len)
		return NULL;
	e = memchr(l, '\n', len - *pos);
	*n = e ? (size_t)(e - l) : len - *pos;
	*pos += *n + (e != NULL);
	return l;
}

static bool resolv_keep(const char *l, size_t n)
{
	static const char *const keep[] = { "search", "domain", "options" };
	size_t i, k;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		k = strlen(keep[i]);
		if (n > k && !memcmp(l, keep[i], k) && (l[k] == ' ' || l[k] == '\t'))
			return true;
	}
	return false;
}

ssize_t resolv_rewrite(const char *in, size_t len, const char *ns, char *out, size_t cap)
{
	static const char head[] = "# written by proxyvpn exec: DNS is answered by proxyvpn\n"
				   "nameserver ";
	size_t nl = strlen(ns), o, pos = 0, n, i;
	const char *l;

	if (!nl)
		return -EINVAL;
	for (i = 0; i < nl; i++)
		if ((unsigned char)ns[i] <= ' ' || ns[i] == 0x7f)
			return -EINVAL;
	if (cap < sizeof(head) - 1 + nl + 2)
		return -ENOSPC;
	memcpy(out, head, sizeof(head) - 1);
	o = sizeof(head) - 1;
	memcpy(out + o, ns, nl);
	o += nl;
	out[o++] = '\n';
	while ((l = next_line(in, len, &pos, &n))) {
		if (n > RESOLV_LINE_MAX || memchr(l, 0, n) || !resolv_keep(l, n))
			continue;
		if (cap - o < n + 2)
			continue; /* a later, shorter line may still fit */
		memcpy(out + o, l, n);
		o += n;
		out[o++] = '\n';
	}
	out[o] = 0;
	return (ssize_t)o;
}

/* Services of the hosts database that need no daemon of the host. */
static bool nss_local(const char *s, size_t n)
{
	static const char *const local[] = { "files", "dns", "myhostname" };
	size_t i;

	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (n == strlen(local[i]) && !memcmp(s, local[i], n))
			return true;
	return false;
}

struct wr {
	char *p;
	size_t cap, len;
	bool full;
};

static void put(struct wr *w, const char *s, size_t n)
{
	if (w->full || w->cap - w->len <= n) {
		w->full = true;
		return;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = 0;
}

/* Appends s to the dropped list, space-separated, silently truncated. */
static void note(struct wr *d, const char *s, size_t n)
{
	size_t room;

	if (!d || !d->p || !d->cap)
		return;
	if (d->len && d->len + 1 < d->cap)
		d->p[d->len++] = ' ';
	room = d->cap - 1 - d->len;
	if (n > room)
		n = room;
	memcpy(d->p + d->len, s, n);
	d->len += n;
	d->p[d->len] = 0;
}

/*
 * The services of one hosts: line (after the colon), glibc's grammar:
 * a name runs to whitespace or '['; a '[' group runs to ']' and belongs to
 * the service before it. Writes the kept ones to w (when w is not NULL).
 * Returns 1 if a service was dropped, 0 if none, -EINVAL.
 */
static int hosts_services(const char *l, size_t n, struct wr *w, struct wr *d)
{
	size_t i = 0, s, e;
	bool keep = false, any = false, dns = false;
	int dropped = 0;

	while (i < n) {
		while (i < n && is_ws(l[i]))
			i++;
		if (i == n)
			break;
		s = i;
		if (l[i] == '[') {
			e = i;
			while (e < n && l[e] != ']')
				e++;
			if (e == n)
				return -EINVAL;
			i = e + 1;
			if (keep && w) {
				put(w, " ", 1);
				put(w, l + s, i - s);
			}
			continue;
		}
		while (i < n && !is_ws(l[i]) && l[i] != '[')
			i++;
		keep = nss_local(l + s, i - s);
		if (!keep) {
			dropped = 1;
			note(d, l + s, i - s);
			continue;
		}
		if (i - s == 3 && !memcmp(l + s, "dns", 3))
			dns = true;
		if (w) {
			if (any)
				put(w, " ", 1);
			put(w, l + s, i - s);
		}
		any = true;
	}
	if (w && !dns)
		put(w, any ? " dns" : "dns", any ? 4 : 3);
	return dropped;
}

/* The hosts database's line: where its services start, or NULL. */
static const char *hosts_line(const char *l, size_t n, size_t *off)
{
	size_t i = 0, s;

	while (i < n && is_ws(l[i]))
		i++;
	s = i;
	while (i < n && !is_ws(l[i]) && l[i] != ':')
		i++;
	if (i - s != 5 || memcmp(l + s, "hosts", 5))
		return NULL;
	/* glibc takes any run of blanks and colons as the separator. */
	if (i == n || (l[i] != ':' && !is_ws(l[i])))
		return NULL;
	while (i < n && (is_ws(l[i]) || l[i] == ':'))
		i++;
	*off = i;
	return l;
}

int nsswitch_rewrite(const char *in, size_t len, char *out, size_t cap, char *dropped, size_t dcap)
{
	struct wr w = { .p = out, .cap = cap }, d = { .p = dropped, .cap = dcap };
	size_t pos = 0, n, off;
	const char *l;
	int ret, change = 0;

	if (dropped && dcap)
		dropped[0] = 0;
	/* First pass: is there anything to drop, and is every line sane? */
	while ((l = next_line(in, len, &pos, &n))) {
		if (n > NSSWITCH_LINE_MAX || memchr(l, 0, n))
			return -EINVAL;
		if (!hosts_line(l, n, &off))
			continue;
		ret = hosts_services(l + off, n - off, NULL, &d);
		if (ret < 0)
			return ret;
		change |= ret;
	}
	if (!change)
		return 0;
	if (!cap)
		return -ENOSPC;
	out[0] = 0;
	pos = 0;
	while ((l = next_line(in, len, &pos, &n))) {
		if (hosts_line(l, n, &off)) {
			put(&w, "hosts: ", 7);
			hosts_services(l + off, n - off, &w, NULL);
		} else {
			put(&w, l, n);
		}
		put(&w, "\n", 1);
	}
	return w.full ? -ENOSPC : 1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes v[0..n) into path. 0, -EINVAL or -ENAMETOOLONG. */
static int dbus_unescape(const char *v, size_t n, char *path, size_t cap)
{
	size_t i, o = 0;
	int hi, lo;
	char c;

	for (i = 0; i < n; i++) {
		c = v[i];
		if (c == '%') {
			if (n - i < 3 || (hi = hexval(v[i + 1])) < 0 || (lo = hexval(v[i + 2])) < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (!c)
			return -EINVAL;
		if (o + 1 >= cap)
			return -ENAMETOOLONG;
		path[o++] = c;
	}
	if (!o || path[0] != '/')
		return -EINVAL;
	path[o] = 0;
	return 0;
}

int dbus_addr_next_path(const char *addr, size_t *pos, char *path, size_t cap)
{
	size_t len = strlen(addr), i, e, k, kv, v;
	const char *a;
	bool unix_t;
	int ret;

	while (*pos < len) {
		i = *pos;
		a = addr + i;
		e = i;
		while (e < len && addr[e] != ';')
			e++;
		*pos = e < len ? e + 1 : e;
		if (e == i)
			continue; /* an empty address between two ';' */
		k = i;
		while (k < e && addr[k] != ':')
			k++;
		if (k == e)
			return -EINVAL;
		unix_t = k - i == 4 && !memcmp(a, "unix", 4);
		/* key=value pairs, ',' separated; the first path= of a unix: address counts. */
		for (kv = k + 1; kv < e; kv = v + 1) {
			size_t eq = kv;

			v = kv;
			while (v < e && addr[v] != ',')
				v++;
			while (eq < v && addr[eq] != '=')
				eq++;
			if (eq == v)
				return -EINVAL;
			if (unix_t && eq - kv == 4 && !memcmp(addr + kv, "path", 4)) {
				ret = dbus_unescape(addr + eq + 1, v - eq - 1, path, cap);
				return ret < 0 ? ret : 1;
			}
		}
	}
	return 0;
}
