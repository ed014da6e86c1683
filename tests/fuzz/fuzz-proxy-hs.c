// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the handshake driver. data[0] picks SOCKS5 or HTTP,
 * auth or not, the destination kind and CONNECT or UDP ASSOCIATE (SOCKS5
 * only; the kept reply must then parse with its BND address); data[1] the
 * read size; the rest is
 * what the proxy sends. It is fed in chunks and again in one piece, and both
 * runs must agree on verdict, bytes consumed and bytes sent.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../../src/proxy.c"
#include "../../src/proxy-http.c"
#include "../../src/proxy-socks5.c"
#include "../../src/proxy-udp.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

struct result {
	int ret;
	size_t consumed;
	uint8_t tx[PROXY_REQ_MAX * 2];
	size_t tx_len;
};

static void drain(struct proxy_hs *hs, struct result *res, size_t max)
{
	const uint8_t *p;
	size_t n = proxy_hs_pending(hs, &p);

	assert(n <= PROXY_REQ_MAX);
	if (n > max)
		n = max; /* a short write now and then */
	assert(res->tx_len + n <= sizeof(res->tx));
	memcpy(res->tx + res->tx_len, p, n);
	res->tx_len += n;
	proxy_hs_sent(hs, n);
}

static void run(const struct proxy_url *u, const struct proxy_dest *d, bool udp, const uint8_t *p,
		size_t len, size_t chunk, struct result *res)
{
	struct proxy_hs hs;
	size_t off = 0, used, n;
	const uint8_t *q;
	int r = 0;

	memset(res, 0, sizeof(*res));
	if (udp)
		assert(proxy_hs_init_udp(&hs, u, d) == 0);
	else
		assert(proxy_hs_init(&hs, u, d) == 0);
	while (off < len) {
		n = len - off < chunk ? len - off : chunk;
		drain(&hs, res, chunk);
		used = (size_t)-1;
		r = proxy_hs_input(&hs, p + off, n, &used);
		assert(used <= n);
		if (r == 0) {
			assert(used == n);
			assert(hs.state != HS_DONE && hs.state != HS_FAILED);
			off += n;
			continue;
		}
		res->consumed = off + used;
		break;
	}
	if (r == 0)
		res->consumed = len;
	res->ret = r;
	if (r == 1 && udp) {
		struct proxy_dest bnd;
		uint8_t rep = 0xff;

		assert(socks5_parse_reply_bnd(hs.in, hs.in_len, &rep, &bnd) == (int)hs.in_len);
		assert(rep == 0);
	}
	if (r == 1) {
		assert(hs.state == HS_DONE);
		assert(proxy_hs_input(&hs, p, len, &used) == 1 && used == 0);
	} else if (r < 0) {
		assert(hs.state == HS_FAILED);
		assert(proxy_hs_pending(&hs, &q) == 0);
		assert(proxy_hs_input(&hs, p, len, &used) == r && used == 0);
	}
	while (proxy_hs_pending(&hs, &q))
		drain(&hs, res, PROXY_REQ_MAX);
	/* What SOCKS5 holds in in[] never exceeds the longest reply. */
	assert(hs.in_len <= (u->type == PROXY_HTTP ? HTTP_MAX_HDR : SOCKS5_REPLY_MAX));
	proxy_hs_free(&hs);
	assert(hs.in == NULL && proxy_hs_pending(&hs, &q) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct result a, b;
	struct proxy_url u;
	struct proxy_dest d;
	size_t chunk;
	bool udp;

	if (len < 2)
		return 0;
	memset(&u, 0, sizeof(u));
	u.type = data[0] & 1 ? PROXY_HTTP : PROXY_SOCKS5;
	if (data[0] & 2) {
		u.has_auth = true;
		strcpy(u.user, "user");
		strcpy(u.pass, "pa:ss");
	}
	memset(&d, 0, sizeof(d));
	switch ((data[0] >> 2) & 3) {
	case 0:
		d.family = AF_INET;
		memcpy(d.addr, "\xc0\x00\x02\x07", 4);
		break;
	case 1:
		d.family = AF_INET6;
		memcpy(d.addr, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		break;
	default:
		strcpy(d.name, "example.com");
		break;
	}
	d.port = 443;
	udp = u.type == PROXY_SOCKS5 && (data[0] & 0x10);
	chunk = data[1] % 64 + 1;
	data += 2;
	len -= 2;

	run(&u, &d, udp, data, len, chunk, &a);
	run(&u, &d, udp, data, len, len ? len : 1, &b);
	assert(a.ret == b.ret);
	if (a.ret >= 0)
		assert(a.consumed == b.consumed);
	/* Unless it failed, the same requests went out however the reads fell. */
	if (a.ret >= 0)
		assert(a.tx_len == b.tx_len && memcmp(a.tx, b.tx, a.tx_len) == 0);
	return 0;
}
