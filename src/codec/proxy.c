// SPDX-License-Identifier: GPL-2.0-only
/*
 * Proxy handshake driver, sans I/O: owns the request bytes still to send and
 * the reply bytes read so far for one tunnel, steps SOCKS5 (method, auth,
 * CONNECT) or HTTP CONNECT, and never consumes a byte past the final reply so
 * tunnel payload that arrives with it stays with the caller.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

static size_t in_cap(const struct proxy_hs *hs)
{
	return hs->url->type == PROXY_HTTP ? HTTP_MAX_HDR : SOCKS5_REPLY_MAX;
}

/* A well-formed no from the proxy at this step: code is its answer. */
static int refuse(struct proxy_hs *hs, int code, int err)
{
	hs->fail.refused = true;
	hs->fail.code = code;
	return err;
}

/* hs->fail.refused and .code are set by the step that saw the answer. */
static int fail(struct proxy_hs *hs, int err)
{
	hs->fail.step = hs->state;
	hs->fail.err = err;
	hs->state = HS_FAILED;
	explicit_bzero(hs->out, sizeof(hs->out));
	hs->out_len = hs->out_off = 0;
	return err;
}

/* Drops what was sent, so the next request can go after anything unsent. */
static void out_compact(struct proxy_hs *hs)
{
	size_t left = hs->out_len - hs->out_off;

	memmove(hs->out, hs->out + hs->out_off, left);
	explicit_bzero(hs->out + left, sizeof(hs->out) - left);
	hs->out_len = left;
	hs->out_off = 0;
}

static int queue_auth(struct proxy_hs *hs)
{
	int n;

	out_compact(hs);
	n = socks5_build_auth(hs->out + hs->out_len, sizeof(hs->out) - hs->out_len, hs->url->user,
			      hs->url->pass);
	if (n < 0)
		return n;
	hs->out_len += (size_t)n;
	return 0;
}

static int queue_connect(struct proxy_hs *hs)
{
	int n;

	out_compact(hs);
	if (hs->udp_assoc)
		n = socks5_build_udp_associate(hs->out + hs->out_len, sizeof(hs->out) - hs->out_len,
					       &hs->dest);
	else
		n = socks5_build_connect(hs->out + hs->out_len, sizeof(hs->out) - hs->out_len,
					 &hs->dest);
	if (n < 0)
		return n;
	hs->out_len += (size_t)n;
	return 0;
}

int proxy_hs_init(struct proxy_hs *hs, const struct proxy_url *url, const struct proxy_dest *d)
{
	uint8_t scratch[SOCKS5_REPLY_MAX];
	int n;

	memset(hs, 0, sizeof(*hs));
	hs->fail.code = -1;
	hs->url = url;
	hs->dest = *d;
	switch (url->type) {
	case PROXY_SOCKS5:
		/* Catch a bad destination or credentials now, not mid-handshake. */
		n = socks5_build_connect(scratch, sizeof(scratch), d);
		if (n < 0)
			return n;
		if (url->has_auth &&
		    (url->user[0] == '\0' || strnlen(url->user, sizeof(url->user)) > 255 ||
		     strnlen(url->pass, sizeof(url->pass)) > 255))
			return -EINVAL;
		n = socks5_build_greeting(hs->out, sizeof(hs->out), url->has_auth);
		hs->state = HS_SOCKS5_METHOD;
		break;
	case PROXY_HTTP:
		n = http_build_connect((char *)hs->out, sizeof(hs->out), d,
				       url->has_auth ? url->user : NULL, url->pass);
		hs->state = HS_HTTP_REPLY;
		break;
	default:
		return -EINVAL;
	}
	if (n < 0)
		return n;
	hs->out_len = (size_t)n;
	hs->in = malloc(in_cap(hs));
	if (!hs->in) {
		explicit_bzero(hs->out, sizeof(hs->out));
		hs->out_len = 0;
		return -ENOMEM;
	}
	return 0;
}

int proxy_hs_init_udp(struct proxy_hs *hs, const struct proxy_url *url, const struct proxy_dest *d)
{
	int ret;

	if (url->type != PROXY_SOCKS5)
		return -EPROTONOSUPPORT;
	ret = proxy_hs_init(hs, url, d);
	if (ret == 0)
		hs->udp_assoc = true;
	return ret;
}

void proxy_hs_free(struct proxy_hs *hs)
{
	free(hs->in);
	hs->in = NULL;
	hs->in_len = 0;
	explicit_bzero(hs->out, sizeof(hs->out));
	hs->out_len = hs->out_off = 0;
}

size_t proxy_hs_pending(const struct proxy_hs *hs, const uint8_t **p)
{
	*p = hs->out + hs->out_off;
	return hs->out_len - hs->out_off;
}

void proxy_hs_sent(struct proxy_hs *hs, size_t n)
{
	size_t left = hs->out_len - hs->out_off;

	hs->out_off += n < left ? n : left;
	if (hs->out_off == hs->out_len) {
		explicit_bzero(hs->out, hs->out_len); /* the auth request held a password */
		hs->out_len = hs->out_off = 0;
	}
}

/* Copies up to want - in_len bytes into hs->in. Returns how many. */
static size_t take(struct proxy_hs *hs, size_t want, const uint8_t *p, size_t n)
{
	size_t k = want - hs->in_len;

	if (k > n)
		k = n;
	memcpy(hs->in + hs->in_len, p, k);
	hs->in_len += k;
	return k;
}

/* One SOCKS5 step on p[0..n). Returns bytes consumed (>= 0) or -errno; sets *done. */
static int socks5_step(struct proxy_hs *hs, const uint8_t *p, size_t n, bool *done)
{
	uint8_t v;
	size_t k;
	int r;

	switch (hs->state) {
	case HS_SOCKS5_METHOD:
		k = take(hs, 2, p, n);
		r = socks5_parse_method(hs->in, hs->in_len, &v);
		if (r == -EAGAIN)
			return (int)k;
		if (r < 0)
			return r;
		hs->in_len = 0;
		if (v == 0xff)
			return refuse(hs, v, -EACCES); /* no acceptable method */
		if (v != (hs->url->has_auth ? 0x02 : 0x00)) {
			hs->fail.code = v;
			return -EPROTO; /* a method we did not offer */
		}
		if (v == 0x02) {
			r = queue_auth(hs);
			hs->state = HS_SOCKS5_AUTH;
		} else {
			r = queue_connect(hs);
			hs->state = HS_SOCKS5_REPLY;
		}
		return r < 0 ? r : (int)k;
	case HS_SOCKS5_AUTH:
		k = take(hs, 2, p, n);
		r = socks5_parse_auth(hs->in, hs->in_len, &v);
		if (r == -EAGAIN)
			return (int)k;
		if (r < 0)
			return r;
		hs->in_len = 0;
		if (v != 0)
			return refuse(hs, v, -EACCES);
		r = queue_connect(hs);
		hs->state = HS_SOCKS5_REPLY;
		return r < 0 ? r : (int)k;
	case HS_SOCKS5_REPLY:
		/*
		 * The reply's length shows only after ATYP (and the name
		 * length), so feed it a byte at a time: parse_reply is O(1)
		 * and this can never take a payload byte.
		 */
		for (k = 0; k < n; k++) {
			hs->in[hs->in_len++] = p[k];
			if (hs->in[0] != 5)
				return -EPROTO;
			/* Fail on REP at once: some servers close right after it. */
			if (hs->in_len >= 2 && hs->in[1] != 0)
				return refuse(hs, hs->in[1], -socks5_rep_errno(hs->in[1]));
			r = socks5_parse_reply(hs->in, hs->in_len, &v);
			if (r == -EAGAIN)
				continue;
			if (r < 0)
				return r;
			*done = true;
			return (int)(k + 1);
		}
		return (int)k;
	default:
		return -EINVAL;
	}
}

static int http_step(struct proxy_hs *hs, const uint8_t *p, size_t n, size_t *used)
{
	size_t old = hs->in_len;
	int r, status;

	*used = take(hs, HTTP_MAX_HDR, p, n);
	/*
	 * The whole block is rescanned on every read: O(HTTP_MAX_HDR) at
	 * worst, and the verdict stays a function of the bytes alone, never
	 * of how the reads fell.
	 */
	r = http_parse_reply(hs->in, hs->in_len, &status);
	if (r == -EAGAIN)
		return 0;
	if (r < 0)
		return r;
	if ((size_t)r <= old)
		return -EPROTO; /* cannot happen: the block ended in an earlier read */
	*used = (size_t)r - old;
	if (http_status_errno(status))
		return refuse(hs, status, -http_status_errno(status));
	return 1;
}

int proxy_hs_input(struct proxy_hs *hs, const uint8_t *p, size_t n, size_t *used)
{
	size_t off = 0;
	bool done = false;
	int r;

	*used = 0;
	if (hs->state == HS_DONE)
		return 1;
	if (hs->state == HS_FAILED)
		return hs->fail.err;
	if (!hs->in)
		return fail(hs, -EINVAL);

	if (hs->state == HS_HTTP_REPLY) {
		r = http_step(hs, p, n, used);
		if (r < 0)
			return fail(hs, r);
		if (r == 1)
			hs->state = HS_DONE;
		return r;
	}

	/* A read may hold several SOCKS5 replies: take them in turn. */
	while (off < n && !done) {
		r = socks5_step(hs, p + off, n - off, &done);
		if (r < 0) {
			*used = off;
			return fail(hs, r);
		}
		off += (size_t)r;
	}
	*used = off;
	if (!done)
		return 0;
	hs->state = HS_DONE;
	return 1;
}
