// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the handshake driver. data[0] picks SOCKS5 or HTTP,
 * auth or not, the destination kind and CONNECT or UDP ASSOCIATE (SOCKS5
 * only, bit 4; the kept reply must then parse with its BND address);
 * data[1] the read sizes: below 0x80 one size for every read
 * (data[1] % 64 + 1), else a schedule of
 * (data[1] & 0x1f) + 1 sizes that follow (each byte + 1, used in turn, so
 * the fuzzer chooses where every read ends); the rest is what the proxy
 * sends. It is fed in those reads (each preceded by a write of at most the
 * same size: short writes), again in one piece and, when short, a byte at
 * a time; all runs must agree on verdict, why it failed (step, refused,
 * code), bytes consumed (the payload left for the tunnel) and bytes sent.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../../src/codec/proxy.c"
#include "../../src/codec/proxy-http.c"
#include "../../src/codec/proxy-socks5.c"
#include "../../src/codec/proxy-udp.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

struct result {
	int ret;
	struct proxy_hs_fail fail; /* when ret < 0 */
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

/* Read sizes: sizes[i % n] + 1 (or fixed) for the i-th read. */
struct sched {
	const uint8_t *sizes; /* NULL: fixed */
	size_t n, fixed;
};

static size_t chunk_at(const struct sched *sc, size_t i)
{
	return sc->sizes ? (size_t)sc->sizes[i % sc->n] + 1 : sc->fixed;
}

static void run(const struct proxy_url *u, const struct proxy_dest *d, bool udp, const uint8_t *p,
		size_t len, const struct sched *sc, struct result *res)
{
	struct proxy_hs hs;
	size_t off = 0, used, n, chunk, i;
	const uint8_t *q;
	int r = 0;

	memset(res, 0, sizeof(*res));
	if (udp)
		assert(proxy_hs_init_udp(&hs, u, d) == 0);
	else
		assert(proxy_hs_init(&hs, u, d) == 0);
	for (i = 0; off < len; i++) {
		chunk = chunk_at(sc, i);
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
		/* Why: a step, and a refusal only with the proxy's answer. */
		assert(hs.fail.err == r);
		assert(hs.fail.step >= HS_SOCKS5_METHOD && hs.fail.step <= HS_HTTP_REPLY);
		assert(!hs.fail.refused || hs.fail.code >= 0);
		assert(u->type != PROXY_HTTP || hs.fail.step == HS_HTTP_REPLY);
		res->fail = hs.fail;
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

static void same(const struct result *a, const struct result *b)
{
	assert(a->ret == b->ret);
	/* Why it failed does not depend on how the reads fell either. */
	if (a->ret < 0)
		assert(a->fail.step == b->fail.step && a->fail.refused == b->fail.refused &&
		       a->fail.code == b->fail.code);
	if (a->ret >= 0)
		assert(a->consumed == b->consumed);
	/* Unless it failed, the same requests went out however the reads fell. */
	if (a->ret >= 0)
		assert(a->tx_len == b->tx_len && memcmp(a->tx, b->tx, a->tx_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct result a, b;
	struct proxy_url u;
	struct proxy_dest d;
	struct sched sc = { 0 }, whole = { 0 };
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
	if (data[1] < 0x80) {
		sc.fixed = data[1] % 64 + 1;
		data += 2;
		len -= 2;
	} else {
		sc.n = (size_t)(data[1] & 0x1f) + 1;
		if (len < 2 + sc.n)
			return 0;
		sc.sizes = data + 2;
		data += 2 + sc.n;
		len -= 2 + sc.n;
	}

	run(&u, &d, udp, data, len, &sc, &a);
	whole.fixed = len ? len : 1;
	run(&u, &d, udp, data, len, &whole, &b);
	same(&a, &b);
	if (len <= 600) {
		/* A byte at a time (HTTP rescans the block per read: short inputs only). */
		whole.fixed = 1;
		run(&u, &d, udp, data, len, &whole, &b);
		same(&a, &b);
	}
	return 0;
}
