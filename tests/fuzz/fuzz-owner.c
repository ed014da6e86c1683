// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for owner_parse() and owner_stat_start(): an accepted
 * record formats back to exactly the same bytes; a refused one leaves a
 * zeroed owner; the stat parser never reads past len (ASan).
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/num.c"
#include "../../src/codec/owner.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const struct owner zero;
	char *copy = malloc(len ? len : 1), out[OWNER_STR_MAX + 1];
	struct owner o;
	uint64_t start;
	int ret, n;

	if (!copy)
		return 0;
	memcpy(copy, data, len); /* exactly len bytes: an overread is caught */
	ret = owner_parse(copy, len, &o);
	if (ret == 0) {
		n = owner_format(&o, out, sizeof(out));
		if (n < 0 || (size_t)n != len || memcmp(out, copy, len))
			abort();
	} else if ((ret != -EINVAL && ret != -ENODATA) || memcmp(&o, &zero, sizeof(o))) {
		abort();
	}
	(void)owner_stat_start(copy, len, &start);
	free(copy);
	return 0;
}
