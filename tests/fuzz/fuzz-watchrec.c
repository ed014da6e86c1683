// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for watchrec_parse(), status's reader of the watcher's
 * record. Invariants: a refusal zeroes the record and gives a reason; an
 * accepted record formats back to exactly the input (one spelling per
 * record) and parses again to the same fields.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/watchrec.c"
#include "../../src/codec/num.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const struct watchrec zero;
	struct watchrec a, b;
	char out[WATCHREC_MAX + 1];
	const char *why = NULL;
	int n;

	if (watchrec_parse((const char *)data, len, &a, &why) != 0) {
		if (!why || memcmp(&a, &zero, sizeof(a)))
			abort();
		return 0;
	}
	n = watchrec_format(&a, out, sizeof(out));
	if (n < 0 || (size_t)n != len || memcmp(out, data, len))
		abort();
	if (watchrec_parse(out, (size_t)n, &b, &why) != 0 || memcmp(&a, &b, sizeof(a)))
		abort();
	return 0;
}
