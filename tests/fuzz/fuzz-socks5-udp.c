// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the SOCKS5 UDP codec: the relayed datagram header
 * parser (what the relay sends us) and the UDP ASSOCIATE reply parser on
 * raw bytes. Invariants: results stay in range and inside the input, a
 * parsed header rebuilds to exactly its bytes, the reply parser agrees with
 * socks5_parse_reply and a prefix never contradicts the whole.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "../../src/codec/proxy-socks5.c"
#include "../../src/codec/proxy-udp.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static void hdr(const uint8_t *data, size_t len)
{
	struct proxy_dest f;
	uint8_t out[SOCKS5_UDP_HDR_MAX];
	int r = socks5_parse_udp_hdr(data, len, &f), b;

	assert(r == -EBADMSG || r == -EOPNOTSUPP || (r > 0 && (size_t)r <= len));
	if (r <= 0)
		return;
	assert(r <= SOCKS5_UDP_HDR_MAX);
	assert(data[0] == 0 && data[1] == 0 && data[2] == 0);
	assert(f.family == AF_INET || f.family == AF_INET6 ||
	       (f.family == 0 && f.name[0] != '\0' && strlen(f.name) <= 255));
	b = socks5_build_udp_hdr(out, sizeof(out), &f);
	assert(b == r);
	assert(memcmp(out, data, (size_t)r) == 0);
	/* Any shorter input is "truncated". */
	assert(socks5_parse_udp_hdr(data, (size_t)r - 1, &f) == -EBADMSG);
}

static void reply(const uint8_t *data, size_t len)
{
	struct proxy_dest bnd;
	uint8_t rep = 0xaa, rep2 = 0xbb;
	int r = socks5_parse_reply_bnd(data, len, &rep, &bnd), r2;
	size_t i;

	assert(r == -EAGAIN || r == -EPROTO || (r > 0 && (size_t)r <= len));
	assert(r <= SOCKS5_REPLY_MAX);
	/* The same verdict as the CONNECT reply parser, but on REP != 0 (we stop there). */
	r2 = socks5_parse_reply(data, len, &rep2);
	assert(r2 == r);
	if (r > 0) {
		assert(rep == rep2 && rep == data[1]);
		assert(bnd.family == AF_INET || bnd.family == AF_INET6 || bnd.family == 0);
		assert(bnd.family != 0 || strlen(bnd.name) <= 255);
	}
	for (i = 0; i < len && i <= SOCKS5_REPLY_MAX; i++) {
		r2 = socks5_parse_reply_bnd(data, i, &rep2, &bnd);
		assert(r2 == -EAGAIN || r2 == r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	hdr(data, len);
	reply(data, len);
	return 0;
}
