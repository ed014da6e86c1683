// SPDX-License-Identifier: GPL-2.0-only
/* Strict unsigned integers (see num.h): strtoul's sign, space and base rules are all wrong here. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "num.h"

static int digit(char c, unsigned int base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (base == 16 && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int num_parse(const char *s, size_t len, unsigned int flags, uint64_t min, uint64_t max,
	      uint64_t *out)
{
	unsigned int base = 10;
	bool over = false;
	uint64_t v = 0;
	size_t i;

	if ((flags & NUM_HEX) && len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0 || ((flags & NUM_CANON) && len > 1 && s[0] == '0'))
		return -EINVAL;
	/* Every byte is checked before the range: "99999999999999999999x" is not a number. */
	for (i = 0; i < len; i++) {
		int d = digit(s[i], base);

		if (d < 0)
			return -EINVAL;
		if (v > (UINT64_MAX - (unsigned int)d) / base)
			over = true;
		else
			v = v * base + (unsigned int)d;
	}
	if (over || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int num_u32(const char *s, unsigned int flags, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int ret = num_parse(s, strlen(s), flags, min, max, &v);

	if (ret == 0)
		*out = (uint32_t)v;
	return ret;
}
