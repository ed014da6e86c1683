// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for resolv_parse() (resolv.c, with fw.c's address
 * parser, num.c and log.c): never more stored than room, every stored address a
 * whole non-loopback IPv4/IPv6 host, never more stored than counted, and
 * parsing the text twice in two halves (split at a newline) gives the same.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/priv/resolv.c"
#include "../../src/priv/fw.c"
#include "../../src/codec/num.c"
#include "../../src/codec/owner.c"
#include "../../src/lib/log.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

enum { ROOM = 4 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *buf = (const char *)data;
	struct fw_net a[ROOM], b[ROOM];
	size_t na = 0, nb = 0, i, cut;
	const char *nl;
	int seen, s1, s2;

	if (len > 4096)
		return 0;
	seen = resolv_parse(buf, len, a, ROOM, &na);
	if (seen < 0 || na > ROOM || na > (size_t)seen)
		abort();
	for (i = 0; i < na; i++) {
		if ((a[i].family == AF_INET && a[i].prefix != 32) ||
		    (a[i].family == AF_INET6 && a[i].prefix != 128) ||
		    (a[i].family != AF_INET && a[i].family != AF_INET6) || is_loopback(&a[i]))
			abort();
	}
	nl = memchr(buf, '\n', len);
	cut = nl ? (size_t)(nl - buf) + 1 : len;
	s1 = resolv_parse(buf, cut, b, ROOM, &nb);
	s2 = resolv_parse(buf + cut, len - cut, b, ROOM, &nb);
	if (s1 + s2 != seen || nb != na || memcmp(a, b, na * sizeof(a[0])))
		abort();
	return 0;
}
