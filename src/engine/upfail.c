// SPDX-License-Identifier: GPL-2.0-only
/*
 * Failed proxy tunnels in words, as an errno, and as rate-limited lines
 * (see upfail.h). Every word here may reach a user who has only the log to
 * go by: each line names the proxy, what it said, and for a destination
 * the name the app asked for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "upfail.h"

/* "192.0.2.1:1080", "[2001:db8::1]:1080". */
static void sa_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa && sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, cap, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else if (sa && sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, cap, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		snprintf(buf, cap, "?");
	}
}

/*
 * Where the tunnel was to go: "www.example.com:443", "198.51.100.20:80",
 * "[2001:db8::20]:80". A name is one the app asked our resolver for (only
 * letters, digits, '-' and '.' get a fake address) or --dns-server's: no
 * byte in it needs escaping, but a name is printed only if that holds.
 */
static void dest_str(const struct proxy_dest *d, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	size_t i;

	if (d->family == AF_INET6 || d->family == AF_INET) {
		inet_ntop(d->family, d->addr, a, sizeof(a));
		snprintf(buf, cap, d->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, d->port);
		return;
	}
	for (i = 0; d->name[i] && i < sizeof(d->name); i++) {
		char c = d->name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_')) {
			snprintf(buf, cap, "(a name with unusual bytes):%u", d->port);
			return;
		}
	}
	snprintf(buf, cap, "%.*s:%u", (int)i, d->name, d->port);
}

/* RFC 1928 6, in words, for REP 1-8. */
static const char *socks5_rep_name(int rep)
{
	static const char *const names[] = {
		"succeeded",	       "general failure",	"not allowed by ruleset",
		"network unreachable", "host unreachable",	"connection refused",
		"TTL expired",	       "command not supported", "address type not supported",
	};

	return rep >= 0 && rep < (int)(sizeof(names) / sizeof(names[0])) ? names[rep] : NULL;
}

/* RFC 9110 15's reason phrases, ours (never the proxy's bytes). */
static const char *http_phrase(int st)
{
	static const struct {
		int st;
		const char *p;
	} t[] = {
		{ 101, "Switching Protocols" },
		{ 300, "Multiple Choices" },
		{ 301, "Moved Permanently" },
		{ 302, "Found" },
		{ 303, "See Other" },
		{ 307, "Temporary Redirect" },
		{ 308, "Permanent Redirect" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 407, "Proxy Authentication Required" },
		{ 408, "Request Timeout" },
		{ 429, "Too Many Requests" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].st == st)
			return t[i].p;
	return NULL;
}

/* The handshake step under way, as the log names it. */
static const char *step_words(const struct upstream_fail *w)
{
	switch (w->during) {
	case UPSTREAM_CONNECT:
		return "before the connection was up";
	case UPSTREAM_SOCKS5_METHOD:
		return "at the SOCKS5 greeting";
	case UPSTREAM_SOCKS5_AUTH:
		return "at the SOCKS5 login";
	case UPSTREAM_SOCKS5_REPLY:
		return w->udp ? "before its SOCKS5 UDP ASSOCIATE reply"
			      : "before its SOCKS5 CONNECT reply";
	default:
		return "before its HTTP CONNECT reply";
	}
}

static void socks5_reply_words(const struct upstream_fail *w, const char *p, const char *d,
			       char *buf, size_t len)
{
	const char *rn = socks5_rep_name(w->code);
	bool name = w->dest.family == 0;

	if (w->udp) {
		if (rn)
			snprintf(buf, len, "proxy %s refused a UDP association (SOCKS5 %s)", p, rn);
		else
			snprintf(buf, len,
				 "proxy %s refused a UDP association (SOCKS5 reply code %d, "
				 "unassigned)",
				 p, w->code);
		return;
	}
	switch (w->code) {
	case 1:
		snprintf(buf, len, "proxy %s failed to connect to %s (SOCKS5 general failure)", p,
			 d);
		break;
	case 2:
		snprintf(
			buf, len,
			"proxy %s does not allow a connection to %s (SOCKS5 not allowed by ruleset)",
			p, d);
		break;
	case 3:
		snprintf(buf, len,
			 "proxy %s cannot reach the network of %s (SOCKS5 network unreachable)", p,
			 d);
		break;
	case 4:
		snprintf(buf, len, "proxy %s could not %s %s (SOCKS5 host unreachable)", p,
			 name ? "resolve or reach" : "reach", d);
		break;
	case 5:
		snprintf(buf, len,
			 "proxy %s: %s refused the connection (SOCKS5 connection refused)", p, d);
		break;
	case 6:
		snprintf(buf, len, "proxy %s: %s did not answer in time (SOCKS5 TTL expired)", p,
			 d);
		break;
	case 7:
		snprintf(buf, len,
			 "proxy %s does not support CONNECT (SOCKS5 command not supported)", p);
		break;
	case 8:
		snprintf(buf, len,
			 "proxy %s cannot connect to %s %s (SOCKS5 address type not supported)", p,
			 name			      ? "a host name like"
			 : w->dest.family == AF_INET6 ? "an IPv6 address like"
						      : "an IPv4 address like",
			 d);
		break;
	default:
		snprintf(buf, len, "proxy %s refused %s with SOCKS5 reply code %d (unassigned)", p,
			 d, w->code);
		break;
	}
}

static void http_reply_words(const struct upstream_fail *w, const char *p, const char *d, char *buf,
			     size_t len)
{
	const char *ph = http_phrase(w->code);
	char st[64];

	snprintf(st, sizeof(st), ph ? "%d %s" : "%d", w->code, ph);
	if (w->code == 407)
		snprintf(buf, len, "HTTP proxy %s answered %s (%s)", p, st,
			 w->auth ? "it refused our credentials"
				 : "it wants a login: put user:pass in the proxy URL");
	else if (w->code == 401)
		snprintf(buf, len, "HTTP proxy %s answered %s to CONNECT %s (%s)", p, st, d,
			 w->auth ? "some proxies say so for wrong credentials"
				 : "some proxies say so when they want a login");
	else
		snprintf(buf, len, "HTTP proxy %s answered %s to CONNECT %s", p, st, d);
}

static void malformed_words(const struct upstream_fail *w, const char *p, char *buf, size_t len)
{
	bool http = w->type == PROXY_HTTP;

	if (!http && w->during == UPSTREAM_SOCKS5_METHOD && w->code >= 0)
		snprintf(buf, len, "proxy %s chose SOCKS5 method 0x%02x, which we did not offer", p,
			 w->code);
	else if (!http && w->first == 'H')
		snprintf(buf, len,
			 "proxy %s answered in HTTP, not SOCKS5: is it an HTTP proxy (http://)?",
			 p);
	else if (http && w->first == 5)
		snprintf(buf, len,
			 "HTTP proxy %s answered in SOCKS5, not HTTP: is it a SOCKS5 proxy "
			 "(socks5://)?",
			 p);
	else if (http && w->err == EMSGSIZE)
		snprintf(buf, len, "HTTP proxy %s sent a reply header over %d KiB", p,
			 HTTP_MAX_HDR / 1024);
	else
		snprintf(buf, len, "%sproxy %s sent a reply we cannot read %s", http ? "HTTP " : "",
			 p, step_words(w));
}

const char *upfail_describe(const struct upstream_fail *w, char *buf, size_t len)
{
	char p[INET6_ADDRSTRLEN + 8], d[URL_HOST_MAX + 16];

	sa_str(w->proxy, w->proxy_len, p, sizeof(p));
	dest_str(&w->dest, d, sizeof(d));
	switch (w->stage) {
	case UPSTREAM_CONNECT:
		if (w->err == ECONNREFUSED)
			snprintf(buf, len, "nothing listens at the proxy %s (connection refused)",
				 p);
		else
			snprintf(buf, len, "cannot connect to the proxy %s: %s", p,
				 strerror(w->err));
		break;
	case UPSTREAM_SOCKS5_METHOD:
		if (w->auth)
			snprintf(buf, len,
				 "proxy %s takes no username/password login (SOCKS5: no "
				 "acceptable method)",
				 p);
		else
			snprintf(buf, len,
				 "proxy %s wants a login: put user:pass in the proxy URL (SOCKS5: "
				 "no acceptable method)",
				 p);
		break;
	case UPSTREAM_SOCKS5_AUTH:
		snprintf(buf, len, "proxy %s refused our credentials (SOCKS5 auth)", p);
		break;
	case UPSTREAM_SOCKS5_REPLY:
		socks5_reply_words(w, p, d, buf, len);
		break;
	case UPSTREAM_HTTP_REPLY:
		http_reply_words(w, p, d, buf, len);
		break;
	case UPSTREAM_TIMEOUT:
		if (w->during == UPSTREAM_CONNECT)
			snprintf(buf, len, "the proxy %s did not accept a connection within %u s",
				 p, (w->timeout_ms + 999) / 1000);
		else
			snprintf(buf, len, "%sproxy %s did not answer within %u s %s",
				 w->type == PROXY_HTTP ? "HTTP " : "", p,
				 (w->timeout_ms + 999) / 1000, step_words(w));
		break;
	case UPSTREAM_CLOSED:
		snprintf(buf, len, "%sproxy %s closed the connection %s",
			 w->type == PROXY_HTTP ? "HTTP " : "", p, step_words(w));
		break;
	case UPSTREAM_MALFORMED:
		malformed_words(w, p, buf, len);
		break;
	case UPSTREAM_LOCAL:
	default:
		snprintf(buf, len, "cannot open a tunnel through the proxy %s: %s", p,
			 w->err == ENOBUFS  ? "our request did not fit the socket"
			 : w->err == EINVAL ? "the proxy's protocol cannot carry this destination"
					    : strerror(w->err));
		break;
	}
	return buf;
}

int upfail_app_errno(const struct upstream_fail *w)
{
	if (w->stage == UPSTREAM_SOCKS5_REPLY && !w->udp) {
		switch (w->code) {
		case 3: /* network unreachable */
		case 8: /* address type not supported: e.g. no IPv6 at the proxy */
			return ENETUNREACH;
		case 4: /* host unreachable: also a name the proxy cannot resolve */
		case 6: /* TTL expired */
			return EHOSTUNREACH;
		}
	}
	if (w->stage == UPSTREAM_HTTP_REPLY && w->code == 504)
		return EHOSTUNREACH;
	return ECONNREFUSED;
}

/* ---- the rate limiter ---- */

/* What makes two failures the same cause (the destination does not). */
struct cause {
	enum upstream_stage stage, during;
	int code, err;
	bool udp;
	struct sockaddr_storage proxy;
};

struct entry {
	bool used;
	struct cause c;
	uint64_t start;		    /* the window's */
	uint32_t repeats;	    /* in the window, after its first line */
	char last[UPFAIL_TEXT_MAX]; /* the latest repeat's words */
};

struct upfail_log {
	pthread_mutex_t mu;
	uint32_t window_ms;
	struct entry e[UPFAIL_CAUSES_MAX];
	uint32_t other; /* failures of causes past UPFAIL_CAUSES_MAX, this window */
	uint64_t other_start;
};

static void cause_of(const struct upstream_fail *w, struct cause *c)
{
	memset(c, 0, sizeof(*c));
	c->stage = w->stage;
	c->during = w->during;
	c->code = w->code;
	c->err = w->err;
	c->udp = w->udp;
	if (w->proxy && w->proxy_len <= sizeof(c->proxy))
		memcpy(&c->proxy, w->proxy, w->proxy_len);
}

struct upfail_log *upfail_log_new(uint32_t window_ms)
{
	struct upfail_log *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	pthread_mutex_init(&l->mu, NULL);
	l->window_ms = window_ms ? window_ms : UPFAIL_WINDOW_MS;
	return l;
}

/* "in the last minute", or the time since the window began when it ended early. */
static void span(const struct upfail_log *l, uint64_t start, uint64_t now, char *buf, size_t cap)
{
	uint64_t ms = now > start ? now - start : 0;

	if (ms >= l->window_ms && l->window_ms == 60000)
		snprintf(buf, cap, "in the last minute");
	else
		snprintf(buf, cap, "in %llu.%llu s", (unsigned long long)(ms / 1000),
			 (unsigned long long)(ms % 1000 / 100));
}

/* Under mu: the count lines of windows ended by now (all of them if force). */
static uint64_t flush_locked(struct upfail_log *l, uint64_t now, bool force)
{
	uint64_t next = 0, end;
	char sp[48];
	size_t i;

	for (i = 0; i < UPFAIL_CAUSES_MAX; i++) {
		struct entry *e = &l->e[i];

		if (!e->used)
			continue;
		end = e->start + l->window_ms;
		if (now < end && !force) {
			if (!next || end < next)
				next = end;
			continue;
		}
		if (!e->repeats) {
			e->used = false; /* quiet for a window: its next failure logs in full */
			continue;
		}
		span(l, e->start, now, sp, sizeof(sp));
		log_warnx("%s (%u more time%s %s)", e->last, e->repeats, e->repeats == 1 ? "" : "s",
			  sp);
		e->repeats = 0;
		e->start = now;
		if (!next || now + l->window_ms < next)
			next = now + l->window_ms;
	}
	if (l->other) {
		end = l->other_start + l->window_ms;
		if (now >= end || force) {
			span(l, l->other_start, now, sp, sizeof(sp));
			log_warnx("%u more proxy failure%s of other kinds %s", l->other,
				  l->other == 1 ? "" : "s", sp);
			l->other = 0;
		} else if (!next || end < next) {
			next = end;
		}
	}
	return next;
}

uint64_t upfail_log_add(struct upfail_log *l, const struct upstream_fail *why, uint64_t now)
{
	char text[UPFAIL_TEXT_MAX];
	struct entry *e = NULL, *free_e = NULL;
	struct cause c;
	uint64_t next;
	size_t i;

	cause_of(why, &c);
	upfail_describe(why, text, sizeof(text));
	pthread_mutex_lock(&l->mu);
	flush_locked(l, now, false); /* a window that ended makes room first */
	for (i = 0; i < UPFAIL_CAUSES_MAX; i++) {
		if (l->e[i].used && !memcmp(&l->e[i].c, &c, sizeof(c))) {
			e = &l->e[i];
			break;
		}
		if (!l->e[i].used && !free_e)
			free_e = &l->e[i];
	}
	if (e) {
		e->repeats++;
		memcpy(e->last, text, sizeof(text));
	} else if (free_e) {
		free_e->used = true;
		free_e->c = c;
		free_e->start = now;
		free_e->repeats = 0;
		memcpy(free_e->last, text, sizeof(text));
		log_warnx("%s", text);
	} else {
		if (!l->other)
			l->other_start = now;
		l->other++;
	}
	next = flush_locked(l, now, false);
	pthread_mutex_unlock(&l->mu);
	return next;
}

uint64_t upfail_log_flush(struct upfail_log *l, uint64_t now)
{
	uint64_t next;

	pthread_mutex_lock(&l->mu);
	next = flush_locked(l, now, false);
	pthread_mutex_unlock(&l->mu);
	return next;
}

void upfail_log_free(struct upfail_log *l, uint64_t now)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	flush_locked(l, now, true);
	pthread_mutex_unlock(&l->mu);
	pthread_mutex_destroy(&l->mu);
	free(l);
}
