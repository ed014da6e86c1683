// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the SOCKS5 codec: the three reply parsers on raw
 * bytes, with prefix consistency checked, and the CONNECT/auth builders on
 * names and credentials cut from the input.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../../src/codec/proxy-socks5.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static void reply(const uint8_t *data, size_t len)
{
	uint8_t rep = 0xaa, rep2 = 0xbb;
	int r = socks5_parse_reply(data, len, &rep), r2;
	size_t i;

	assert(r == -EAGAIN || r == -EPROTO || (r > 0 && (size_t)r <= len));
	assert(r <= SOCKS5_REPLY_MAX);
	if (r > 0) {
		assert(rep == data[1]);
		assert(socks5_parse_reply(data, (size_t)r, &rep2) == r && rep2 == rep);
		assert(socks5_parse_reply(data, (size_t)r - 1, &rep2) == -EAGAIN);
		assert(socks5_rep_errno(rep) >= 0);
	}
	/* A prefix says "need more" or what the whole says. */
	for (i = 0; i < len && i <= SOCKS5_REPLY_MAX; i++) {
		r2 = socks5_parse_reply(data, i, &rep2);
		assert(r2 == -EAGAIN || r2 == r);
	}
}

static void builders(const uint8_t *data, size_t len)
{
	struct proxy_dest d;
	uint8_t out[PROXY_REQ_MAX], rep;
	char user[300], pass[300];
	size_t n = len < 300 ? len : 299, h = n / 2;
	int r;

	memset(&d, 0, sizeof(d));
	memcpy(d.name, data, n < sizeof(d.name) ? n : sizeof(d.name) - 1);
	d.port = 1;
	r = socks5_build_connect(out, sizeof(out), &d);
	if (r > 0) {
		/* Our own request has the reply's layout (CMD in place of REP). */
		assert(socks5_parse_reply(out, (size_t)r, &rep) == r && rep == 1);
		assert((size_t)r == 4 + 1 + strlen(d.name) + 2);
	} else {
		assert(r == -EINVAL && (d.name[0] == '\0'));
	}

	memcpy(user, data, h);
	user[h] = '\0';
	memcpy(pass, data + h, n - h);
	pass[n - h] = '\0';
	r = socks5_build_auth(out, sizeof(out), user, pass);
	if (r > 0) {
		assert(out[0] == 1 && out[1] == strlen(user));
		assert(out[2 + out[1]] == strlen(pass));
		assert((size_t)r == 3 + strlen(user) + strlen(pass));
	} else {
		assert(r == -EINVAL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	uint8_t v = 0;
	int r;

	reply(data, len);
	r = socks5_parse_method(data, len, &v);
	assert(r == 2 || r == -EAGAIN || r == -EPROTO);
	assert(r != 2 || v == data[1]);
	r = socks5_parse_auth(data, len, &v);
	assert(r == 2 || r == -EAGAIN || r == -EPROTO);
	assert(r != 2 || v == data[1]);
	builders(data, len);
	return 0;
}
