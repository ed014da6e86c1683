// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for num_parse(): the first byte picks the flags and a
 * range, the rest is the text. A plain reference (digits accumulated in 128
 * bits) must agree on every input: the verdict (0, -EINVAL, -ERANGE) and
 * the value; *out must be untouched on failure.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../../src/codec/num.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static int ref(const char *s, size_t n, unsigned int flags, uint64_t min, uint64_t max,
	       uint64_t *out)
{
	unsigned __int128 v = 0;
	unsigned int base = 10;
	bool big = false;
	size_t i;

	if ((flags & NUM_HEX) && n >= 3 && s[0] == '0' && (s[1] | 0x20) == 'x') {
		base = 16;
		s += 2;
		n -= 2;
	}
	if (n == 0 || ((flags & NUM_CANON) && n > 1 && s[0] == '0'))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = s[i];
		unsigned int d;

		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (base == 16 && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (unsigned int)((c | 0x20) - 'a' + 10);
		else
			return -EINVAL;
		if (!big) {
			v = v * base + d;
			big = v > UINT64_MAX;
		}
	}
	if (big || v < min || v > max)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const uint64_t lim[4][2] = {
		{ 0, UINT64_MAX }, { 1, UINT32_MAX }, { 1280, 65535 }, { 16, 1048576 }
	};
	uint64_t got = 0x5a5a, want = 0xa5a5;
	const char *s = (const char *)data + 1;
	unsigned int flags, r;
	int a, b;

	if (len < 1 || len > 64)
		return 0;
	flags = data[0] & (NUM_HEX | NUM_CANON);
	r = (data[0] >> 2) & 3;
	a = num_parse(s, len - 1, flags, lim[r][0], lim[r][1], &got);
	b = ref(s, len - 1, flags, lim[r][0], lim[r][1], &want);
	if (a != b || (a == 0 && got != want) || (a != 0 && got != 0x5a5a))
		abort();
	return 0;
}
