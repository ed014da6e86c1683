// SPDX-License-Identifier: GPL-2.0-only
/*
 * --proxy URL parsing and the one-shot resolve of the proxy host. The parser
 * is pure (no I/O, no allocation) so it can be fuzzed by inclusion. Error
 * phrases are static and never quote the input: it may hold a password.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "url.h"

static const struct {
	const char *name;
	enum proxy_type type;
} schemes[] = {
	{ "socks5", PROXY_SOCKS5 },
	{ "socks5h", PROXY_SOCKS5 }, /* we always hand names to the proxy */
	{ "http", PROXY_HTTP },
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool host_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_';
}

static int unhex(char c)
{
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Case-insensitive, ASCII only: setlocale() must not change what we accept. */
static bool span_eq_nocase(const char *p, size_t n, const char *word)
{
	size_t i;

	if (strlen(word) != n)
		return false;
	for (i = 0; i < n; i++)
		if (lower(p[i]) != word[i])
			return false;
	return true;
}

static const char *span_find(const char *p, size_t n, char c)
{
	return memchr(p, c, n);
}

/* Decodes p[0..n) into out (NUL-terminated, at most URL_CRED_MAX bytes). */
static int pct_decode(const char *p, size_t n, char *out, const char **why, const char *too_long)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '%') {
			int hi, lo;

			if (n - i < 3) {
				*why = "bad percent-encoding in credentials";
				return -EINVAL;
			}
			hi = unhex(p[i + 1]);
			lo = unhex(p[i + 2]);
			if (hi < 0 || lo < 0) {
				*why = "bad percent-encoding in credentials";
				return -EINVAL;
			}
			c = (char)(hi << 4 | lo);
			if (c == '\0') {
				*why = "%00 not allowed in credentials";
				return -EINVAL;
			}
			i += 2;
		}
		if (o >= URL_CRED_MAX) {
			*why = too_long;
			return -EINVAL;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

static int parse_userinfo(const char *p, size_t n, struct proxy_url *u, const char **why)
{
	const char *colon;
	size_t ulen;
	int ret;

	if (span_find(p, n, '@')) {
		*why = "'@' in credentials must be written %40";
		return -EINVAL;
	}
	/* The password runs to the end and may itself contain ':'. */
	colon = span_find(p, n, ':');
	ulen = colon ? (size_t)(colon - p) : n;
	if (ulen == 0) {
		*why = "empty user name before '@'";
		return -EINVAL;
	}
	ret = pct_decode(p, ulen, u->user, why, "user name longer than 255 bytes");
	if (ret < 0)
		return ret;
	if (colon) {
		ret = pct_decode(colon + 1, n - ulen - 1, u->pass, why,
				 "password longer than 255 bytes");
		if (ret < 0)
			return ret;
	}
	u->has_auth = true;
	return 0;
}

/* Decimal 1-65535. Leading zeros are fine (as strtoul), signs are not. */
static int parse_port(const char *p, size_t n, uint16_t *out, const char **why)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0) {
		*why = "missing port after ':'";
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			goto bad;
		v = v * 10 + (unsigned long)(p[i] - '0');
		if (v > 65535)
			goto bad;
	}
	if (v == 0)
		goto bad;
	*out = (uint16_t)v;
	return 0;
bad:
	*why = "port must be 1-65535";
	return -EINVAL;
}

static int parse_hostport(const char *p, size_t n, struct proxy_url *u, const char **why)
{
	const char *host, *rest;
	size_t hlen, rlen, i;

	if (n > 0 && p[0] == '[') {
		char tmp[INET6_ADDRSTRLEN];
		struct in6_addr a6;
		const char *rb = span_find(p, n, ']');

		if (!rb || span_find(p + 1, (size_t)(rb - p - 1), '[')) {
			*why = "unbalanced brackets";
			return -EINVAL;
		}
		host = p + 1;
		hlen = (size_t)(rb - host);
		rest = rb + 1;
		rlen = n - (size_t)(rest - p);
		if (span_find(rest, rlen, '[') || span_find(rest, rlen, ']')) {
			*why = "unbalanced brackets";
			return -EINVAL;
		}
		if (hlen == 0) {
			*why = "missing host";
			return -EINVAL;
		}
		if (hlen >= sizeof(tmp))
			goto not_v6;
		memcpy(tmp, host, hlen);
		tmp[hlen] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1)
			goto not_v6;
		if (rlen == 0) {
			*why = "missing port (host:port)";
			return -EINVAL;
		}
		if (rest[0] != ':') {
			*why = "expected ':' and a port after ']'";
			return -EINVAL;
		}
	} else {
		const char *colon;

		if (span_find(p, n, '[') || span_find(p, n, ']')) {
			*why = "unbalanced brackets";
			return -EINVAL;
		}
		colon = span_find(p, n, ':');
		if (!colon) {
			*why = n ? "missing port (host:port)" : "missing host";
			return -EINVAL;
		}
		if (span_find(colon + 1, n - (size_t)(colon + 1 - p), ':')) {
			*why = "IPv6 address must be in brackets";
			return -EINVAL;
		}
		host = p;
		hlen = (size_t)(colon - p);
		rest = colon;
		rlen = n - hlen;
		if (hlen == 0) {
			*why = "missing host";
			return -EINVAL;
		}
		if (hlen > URL_HOST_MAX) {
			*why = "host name longer than 255 bytes";
			return -EINVAL;
		}
		for (i = 0; i < hlen; i++) {
			if (!host_char(host[i])) {
				*why = "invalid character in host name";
				return -EINVAL;
			}
		}
	}
	/* rest is ":port" here. */
	if (parse_port(rest + 1, rlen - 1, &u->port, why) < 0)
		return -EINVAL;
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	return 0;

not_v6:
	*why = "brackets must hold an IPv6 address";
	return -EINVAL;
}

static int parse(const char *s, struct proxy_url *u, const char **why)
{
	const char *p, *auth, *tail, *at;
	size_t len, i, alen;
	bool found = false;

	len = strnlen(s, URL_MAX + 1);
	if (len > URL_MAX) {
		*why = "URL longer than 2048 bytes";
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f) {
			*why = "whitespace or control character in URL";
			return -EINVAL;
		}
	}

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), RFC 3986 */
	p = s;
	if (is_alpha(*p)) {
		do
			p++;
		while (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-' || *p == '.');
	}
	if (p == s || strncmp(p, "://", 3) != 0) {
		*why = "missing \"://\" after scheme";
		return -EINVAL;
	}
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		if (span_eq_nocase(s, (size_t)(p - s), schemes[i].name)) {
			u->type = schemes[i].type;
			found = true;
			break;
		}
	}
	if (!found) {
		*why = "unknown scheme (want socks5, socks5h or http)";
		return -EINVAL;
	}

	auth = p + 3;
	alen = strcspn(auth, "/?#");
	tail = auth + alen;
	if (*tail && strcmp(tail, "/") != 0) {
		if (strchr(tail, '@'))
			*why = "'/', '?' and '#' in credentials must be percent-encoded";
		else if (strpbrk(tail, "?#"))
			*why = "query or fragment not allowed";
		else
			*why = "path not allowed (only a trailing '/')";
		return -EINVAL;
	}

	/* Last '@': a stray raw '@' in the password gets a precise message. */
	at = NULL;
	for (i = alen; i > 0; i--) {
		if (auth[i - 1] == '@') {
			at = auth + i - 1;
			break;
		}
	}
	if (at) {
		int ret = parse_userinfo(auth, (size_t)(at - auth), u, why);

		if (ret < 0)
			return ret;
		alen -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	return parse_hostport(auth, alen, u, why);
}

int url_parse(const char *s, struct proxy_url *u, const char **why)
{
	const char *dummy;
	int ret;

	if (!why)
		why = &dummy;
	*why = NULL;
	memset(u, 0, sizeof(*u));
	if (!s) {
		*why = "missing URL";
		return -EINVAL;
	}
	ret = parse(s, u, why);
	if (ret < 0) {
		url_clear(u);
		memset(u, 0, sizeof(*u));
		if (!*why)
			*why = "malformed URL";
	}
	return ret;
}

int url_parse_file(const char *buf, size_t len, struct proxy_url *u, const char **why)
{
	char tmp[URL_FILE_MAX + 1];
	const char *dummy;
	int ret;

	if (!why)
		why = &dummy;
	*why = NULL;
	memset(u, 0, sizeof(*u));
	if (len > URL_FILE_MAX) {
		*why = "file longer than a URL can be";
		return -EINVAL;
	}
	memcpy(tmp, buf, len);
	tmp[len] = '\0';
	if (len && tmp[len - 1] == '\n')
		tmp[--len] = '\0';
	if (len && tmp[len - 1] == '\r')
		tmp[--len] = '\0';
	if (strlen(tmp) != len) {
		*why = "NUL byte in file";
		ret = -EINVAL;
	} else if (len == 0) {
		*why = "empty file (want the URL on one line)";
		ret = -EINVAL;
	} else if (memchr(tmp, '\n', len)) {
		*why = "more than one line (want the URL alone)";
		ret = -EINVAL;
	} else {
		ret = url_parse(tmp, u, why);
	}
	explicit_bzero(tmp, sizeof(tmp));
	return ret;
}

bool url_hide_password(char *s)
{
	char *auth = strstr(s, "://"), *at = NULL, *colon;
	size_t alen, i;

	if (!auth)
		return false;
	auth += 3;
	alen = strcspn(auth, "/?#");
	for (i = alen; i > 0 && !at; i--)
		if (auth[i - 1] == '@')
			at = auth + i - 1;
	if (!at)
		return false;
	colon = memchr(auth, ':', (size_t)(at - auth));
	if (!colon || colon + 1 == at)
		return false;
	memset(colon + 1, '*', (size_t)(at - colon - 1));
	return true;
}

static int gai_errno(int rc)
{
	switch (rc) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
		return -ENOENT;
	case EAI_AGAIN:
		return -EAGAIN;
	default:
		return -EINVAL;
	}
}

int url_resolve(const struct proxy_url *u, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *res = NULL, *ai;
	int rc, ret = -ENOENT;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	rc = getaddrinfo(u->host, NULL, &hints, &res);
	if (rc == EAI_NONAME) {
		/*
		 * Not a literal. No AI_ADDRCONFIG: inside test namespaces with
		 * only loopback it would hide perfectly usable addresses.
		 */
		hints.ai_flags = 0;
		rc = getaddrinfo(u->host, NULL, &hints, &res);
	}
	if (rc != 0)
		return gai_errno(rc);

	for (ai = res; ai; ai = ai->ai_next) {
		if (!ai->ai_addr || ai->ai_addrlen > sizeof(*ss))
			continue;
		if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in)) {
			memset(ss, 0, sizeof(*ss));
			memcpy(ss, ai->ai_addr, sizeof(struct sockaddr_in));
			((struct sockaddr_in *)ss)->sin_port = htons(u->port);
			*len = sizeof(struct sockaddr_in);
			ret = 0;
			break;
		}
		if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(struct sockaddr_in6)) {
			memset(ss, 0, sizeof(*ss));
			memcpy(ss, ai->ai_addr, sizeof(struct sockaddr_in6));
			((struct sockaddr_in6 *)ss)->sin6_port = htons(u->port);
			*len = sizeof(struct sockaddr_in6);
			ret = 0;
			break;
		}
	}
	freeaddrinfo(res);
	return ret;
}

const char *url_scheme_name(enum proxy_type t)
{
	switch (t) {
	case PROXY_SOCKS5:
		return "socks5";
	case PROXY_HTTP:
		return "http";
	}
	return "unknown";
}

void url_clear(struct proxy_url *u)
{
	if (!u)
		return;
	explicit_bzero(u->user, sizeof(u->user));
	explicit_bzero(u->pass, sizeof(u->pass));
	u->has_auth = false;
}
