// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the HTTP CONNECT codec: http_parse_reply on raw bytes
 * with prefix consistency checked, base64 against a reference decoder, and
 * http_build_connect on names and credentials cut from the input.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../../src/codec/proxy-http.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static void reply(const uint8_t *data, size_t len)
{
	int st = -1, st2 = -1, r, r2;
	size_t cut[3], i;

	r = http_parse_reply(data, len, &st);
	assert(r == -EAGAIN || r == -EPROTO || r == -EMSGSIZE || r > 0);
	if (r == -EAGAIN)
		assert(len < HTTP_MAX_HDR);
	if (r == -EMSGSIZE)
		assert(len >= HTTP_MAX_HDR);
	if (r > 0) {
		assert((size_t)r <= len && r <= HTTP_MAX_HDR);
		assert(st >= 100 && st <= 599 && (st >= 200 || st == 101));
		assert(data[r - 1] == '\n');
		assert(!memchr(data, '\0', (size_t)r));
		assert(http_parse_reply(data, (size_t)r, &st2) == r && st2 == st);
		assert(http_parse_reply(data, (size_t)r - 1, &st2) == -EAGAIN);
		assert(http_status_errno(st) >= 0);
		assert((http_status_errno(st) == 0) == (st >= 200 && st <= 299));
	}
	/* A prefix says "need more" or what the whole says. */
	cut[0] = len / 2;
	cut[1] = len ? len - 1 : 0;
	cut[2] = len / 3;
	for (i = 0; i < 3; i++) {
		r2 = http_parse_reply(data, cut[i], &st2);
		assert(r2 == -EAGAIN || r2 == r);
	}
}

static int unb64(char c)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(tab, c) : NULL;

	return p ? (int)(p - tab) : -1;
}

static void b64(const uint8_t *data, size_t len)
{
	char out[4 * 1024 + 8];
	uint8_t back[3 * 1024 + 8];
	size_t n = len < 3 * 1024 ? len : 3 * 1024, i, o = 0;
	int r;

	r = base64_encode(out, sizeof(out), data, n);
	assert(r >= 0 && (size_t)r == (n + 2) / 3 * 4 && out[r] == '\0');
	for (i = 0; i < (size_t)r; i += 4) {
		int a = unb64(out[i]), b = unb64(out[i + 1]), c = unb64(out[i + 2]),
		    d = unb64(out[i + 3]);

		assert(a >= 0 && b >= 0);
		back[o++] = (uint8_t)(a << 2 | b >> 4);
		if (out[i + 2] == '=') {
			assert(out[i + 3] == '=' && i + 4 == (size_t)r);
			break;
		}
		assert(c >= 0);
		back[o++] = (uint8_t)(b << 4 | c >> 2);
		if (out[i + 3] == '=') {
			assert(i + 4 == (size_t)r);
			break;
		}
		assert(d >= 0);
		back[o++] = (uint8_t)(c << 6 | d);
	}
	assert(o == n && memcmp(back, data, n) == 0);
	if (r > 0)
		assert(base64_encode(out, (size_t)r, data, n) == -ENOSPC);
}

/* Whatever the name and credentials, the request has exactly its own line breaks. */
static void build(const uint8_t *data, size_t len)
{
	struct proxy_dest d;
	char out[PROXY_REQ_MAX], user[300], pass[300];
	size_t n = len < 299 ? len : 299, h = n / 3, crlf = 0, i;
	int r;

	memset(&d, 0, sizeof(d));
	memcpy(d.name, data, n < 256 ? n : 255);
	d.port = 8080;
	memcpy(user, data, h);
	user[h] = '\0';
	memcpy(pass, data + h, n - h);
	pass[n - h] = '\0';
	r = http_build_connect(out, sizeof(out), &d, len & 1 ? user : NULL, pass);
	if (r < 0) {
		assert(r == -EINVAL);
		return;
	}
	assert((size_t)r == strlen(out));
	assert(strncmp(out, "CONNECT ", 8) == 0);
	for (i = 0; i < (size_t)r; i++) {
		if (out[i] == '\n') {
			assert(i > 0 && out[i - 1] == '\r');
			crlf++;
		} else if (out[i] == '\r') {
			assert(out[i + 1] == '\n');
		}
	}
	assert(crlf == (len & 1 ? 4u : 3u));
	assert(strcmp(out + r - 4, "\r\n\r\n") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	reply(data, len);
	b64(data, len);
	build(data, len);
	return 0;
}
