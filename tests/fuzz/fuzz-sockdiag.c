// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for sockdiag_parse(): the input is one read of a sock_diag
 * dump (the first 4 bytes are the sequence number expected). Whatever parses
 * must be an IPv4 or IPv6 socket whose IPv4 addresses leave the rest of
 * their 16 bytes zero; the result is one of the documented returns; the
 * same input parses to the same sockets again (no hidden state).
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/sockdiag.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

struct seen {
	unsigned int n;
	uint64_t sum;
};

static int check(const struct sockdiag_sock *s, void *arg)
{
	static const uint8_t zero[12];
	struct seen *v = arg;

	if (s->family != AF_INET && s->family != AF_INET6)
		abort();
	if (s->family == AF_INET && (memcmp(s->src + 4, zero, 12) || memcmp(s->dst + 4, zero, 12)))
		abort();
	v->n++;
	v->sum += s->uid + s->inode + s->cgroup + s->sport + s->dport + s->state;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct seen a = { 0 }, b = { 0 };
	uint32_t seq;
	int r1, r2;

	if (len < 4)
		return 0;
	memcpy(&seq, data, 4);
	r1 = sockdiag_parse(data + 4, len - 4, seq, check, &a);
	if (r1 != 0 && r1 != 1 && (r1 >= 0 || r1 < -4095))
		abort();
	r2 = sockdiag_parse(data + 4, len - 4, seq, check, &b);
	if (r1 != r2 || a.n != b.n || a.sum != b.sum)
		abort();
	return 0;
}
