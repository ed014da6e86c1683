// SPDX-License-Identifier: GPL-2.0-only
/*
 * HTTP CONNECT codec: builds the CONNECT request (with optional Basic
 * Proxy-Authorization) and parses the proxy's reply header block under a
 * total budget of HTTP_MAX_HDR bytes. Also base64 (RFC 4648). No I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy.h"

int base64_encode(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t groups = n / 3 + (n % 3 != 0), i, o = 0;
	uint32_t v;

	if (cap == 0 || groups > (cap - 1) / 4 || groups > (size_t)INT32_MAX / 4)
		return -ENOSPC;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
		dst[o++] = tab[v >> 18];
		dst[o++] = tab[(v >> 12) & 0x3f];
		dst[o++] = tab[(v >> 6) & 0x3f];
		dst[o++] = tab[v & 0x3f];
	}
	if (n - i == 1) {
		v = (uint32_t)src[i] << 16;
		dst[o++] = tab[v >> 18];
		dst[o++] = tab[(v >> 12) & 0x3f];
		dst[o++] = '=';
		dst[o++] = '=';
	} else if (n - i == 2) {
		v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
		dst[o++] = tab[v >> 18];
		dst[o++] = tab[(v >> 12) & 0x3f];
		dst[o++] = tab[(v >> 6) & 0x3f];
		dst[o++] = '=';
	}
	dst[o] = '\0';
	return (int)o;
}

/* RFC 3986 reg-name without pct-encoding: nothing that could end the line or the authority. */
static bool name_ok(const char *s, size_t len)
{
	static const char extra[] = "-._~!$&'()*+,;=";
	size_t i;

	if (len == 0 || len > URL_HOST_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (!strchr(extra, c))
			return false;
	}
	return true;
}

/* "host:port" for the request line and Host header. Returns 0 or -EINVAL. */
static int format_authority(char *dst, size_t cap, const struct proxy_dest *d)
{
	char ip[INET6_ADDRSTRLEN];
	size_t len;
	int n;

	switch (d->family) {
	case AF_INET:
		if (!inet_ntop(AF_INET, d->addr, ip, sizeof(ip)))
			return -EINVAL;
		n = snprintf(dst, cap, "%s:%u", ip, d->port);
		break;
	case AF_INET6:
		if (!inet_ntop(AF_INET6, d->addr, ip, sizeof(ip)))
			return -EINVAL;
		n = snprintf(dst, cap, "[%s]:%u", ip, d->port);
		break;
	case 0:
		len = strnlen(d->name, sizeof(d->name));
		if (!name_ok(d->name, len))
			return -EINVAL;
		n = snprintf(dst, cap, "%.*s:%u", (int)len, d->name, d->port);
		break;
	default:
		return -EINVAL;
	}
	if (n < 0 || (size_t)n >= cap)
		return -EINVAL;
	return 0;
}

int http_build_connect(char *buf, size_t cap, const struct proxy_dest *d, const char *user,
		       const char *pass)
{
	char auth[URL_CRED_MAX * 2 + 2]; /* user:pass */
	char b64[((sizeof(auth) + 2) / 3) * 4 + 1];
	char host[URL_HOST_MAX + 8]; /* name + ":65535" + NUL */
	size_t ulen, plen;
	int r, n;

	r = format_authority(host, sizeof(host), d);
	if (r < 0)
		return r;
	if (!user) {
		n = snprintf(buf, cap, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host);
		if (n < 0 || (size_t)n >= cap)
			return -ENOSPC;
		return n;
	}

	ulen = strnlen(user, URL_CRED_MAX + 1);
	plen = strnlen(pass, URL_CRED_MAX + 1);
	/* RFC 7617: a user-id containing ':' cannot be represented. */
	if (ulen > URL_CRED_MAX || plen > URL_CRED_MAX || memchr(user, ':', ulen))
		return -EINVAL;
	memcpy(auth, user, ulen);
	auth[ulen] = ':';
	memcpy(auth + ulen + 1, pass, plen);
	r = base64_encode(b64, sizeof(b64), (const uint8_t *)auth, ulen + 1 + plen);
	explicit_bzero(auth, sizeof(auth));
	if (r < 0)
		return r;
	n = snprintf(buf, cap,
		     "CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: Basic %s\r\n\r\n",
		     host, host, b64);
	explicit_bzero(b64, sizeof(b64));
	if (n < 0 || (size_t)n >= cap) {
		if (cap)
			explicit_bzero(buf, cap); /* no half-written secret */
		return -ENOSPC;
	}
	return n;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/*
 * Checks the first len bytes of a status line (len may stop short of the
 * line's end; eol says whether it is the whole line, CR stripped):
 * "HTTP/1.[01] [1-5]DD" then end of line or SP reason. Checking a partial line
 * lets a non-HTTP peer fail fast instead of running into the timeout.
 */
static int check_status_line(const uint8_t *s, size_t len, bool eol, int *status)
{
	static const char proto[] = "HTTP/1.";
	size_t i;

	for (i = 0; i < len && i < 7; i++)
		if (s[i] != (uint8_t)proto[i])
			return -EPROTO;
	if (len > 7 && s[7] != '0' && s[7] != '1')
		return -EPROTO;
	if (len > 8 && s[8] != ' ')
		return -EPROTO;
	if (len > 9 && (s[9] < '1' || s[9] > '5'))
		return -EPROTO; /* RFC 9110 §15: classes 1xx-5xx only */
	for (i = 10; i < len && i < 12; i++)
		if (!is_digit(s[i]))
			return -EPROTO;
	if (len > 12 && s[12] != ' ')
		return -EPROTO;
	if (!eol)
		return -EAGAIN;
	if (len < 12)
		return -EPROTO;
	*status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	return 0;
}

/*
 * One left-to-right pass, so the verdict on a prefix is either -EAGAIN or
 * the verdict on the whole input. Interim 1xx blocks (except 101, which is
 * a final answer we did not ask for) are skipped: the returned length runs
 * through the final block and *status is the final status.
 */
int http_parse_reply(const uint8_t *buf, size_t len, int *status)
{
	size_t lim = len < HTTP_MAX_HDR ? len : HTTP_MAX_HDR;
	size_t i, line = 0, nline = 0, ll;
	int st = 0, r;

	for (i = 0; i < lim; i++) {
		if (buf[i] > '\n')
			continue;
		if (buf[i] == '\0')
			return -EPROTO;
		if (buf[i] != '\n')
			continue;
		ll = i - line;
		if (ll > 0 && buf[i - 1] == '\r')
			ll--;
		if (nline == 0) {
			r = check_status_line(buf + line, ll, true, &st);
			if (r < 0)
				return r;
		} else if (ll == 0) {
			if (st >= 200 || st == 101) {
				*status = st;
				return (int)(i + 1);
			}
			nline = 0; /* interim response: next block */
			line = i + 1;
			continue;
		}
		nline++;
		line = i + 1;
	}
	if (nline == 0) {
		ll = lim - line;
		if (ll > 0 && buf[lim - 1] == '\r')
			ll--; /* may be half of a CRLF */
		r = check_status_line(buf + line, ll, false, &st);
		if (r != -EAGAIN)
			return r;
	}
	return len >= HTTP_MAX_HDR ? -EMSGSIZE : -EAGAIN;
}

int http_status_errno(int status)
{
	if (status >= 200 && status <= 299)
		return 0;
	switch (status) {
	case 401:
	case 407:
		return EACCES;
	case 504:
		return ETIMEDOUT;
	default: /* 403, other 4xx, 502, 503, anything else */
		return ECONNREFUSED;
	}
}
