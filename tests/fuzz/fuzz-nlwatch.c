// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for nlw_parse(), the watcher's reading of netlink
 * notifications. Invariants: it never reads past the buffer, reports only
 * known bits, keeps the process name NUL-terminated, and what it reports for
 * a buffer it reports again when the same bytes come in two reads split at a
 * message boundary (the watcher reads the socket in several recv() calls).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/nlwatch.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static _Alignas(struct nlmsghdr) uint8_t buf[65536];
	struct nlw_ids ids = {
		.nft_table = "proxyvpn",
		.ifindex = 7,
		.table = 0x7076,
		.prio = 5200,
		.mark = 0x7076,
		.catch_table = 0x7077,
		.catch_prio = 32768,
	};
	struct nlw_seen a = { 0 }, b = { 0 };
	const struct nlmsghdr *nlh;
	int ra, rb;

	if (len < 1 || len > sizeof(buf))
		return 0;
	ids.ipt = data[0] & 1;
	memcpy(buf, data, len); /* netlink buffers are aligned */
	ra = nlw_parse(buf, len, &ids, &a);
	assert(ra == 0 || ra == -EBADMSG);
	assert((a.bits & ~(uint32_t)(NLW_ALL | NLW_NFT_GONE)) == 0);
	assert(!(a.bits & NLW_NFT_GONE) || (a.bits & NLW_NFT));
	assert((a.pending & ~(uint32_t)(NLW_NFT | NLW_IPT | NLW_NFT_GONE)) == 0);
	assert(memchr(a.comm, '\0', sizeof(a.comm)));

	/* the first message alone, then the rest */
	nlh = (const struct nlmsghdr *)buf;
	if (ra == 0 && msg_ok(nlh, len)) {
		size_t first = MNL_ALIGN(nlh->nlmsg_len);

		if (first > len)
			first = len;
		rb = nlw_parse(buf, first, &ids, &b);
		assert(rb == 0);
		rb = nlw_parse(buf + first, len - first, &ids, &b);
		assert(rb == 0);
		assert(a.bits == b.bits && a.pid == b.pid && !strcmp(a.comm, b.comm));
	}
	return 0;
}
