// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for json_reencode() and sanitize_text(): whatever is
 * accepted comes out as printable ASCII only and is a fixed point (it
 * re-encodes to itself); a refusal is -EINVAL (the buffer is large enough
 * never to run full); the escaped text holds no control byte and measures
 * what it writes.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/json.c"
#include "../../src/codec/sanitize.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	/* at most 12 output bytes per input byte (a 4-byte UTF-8 sequence: 12) */
	size_t cap = 12 * len + 16, i, n;
	char *in = malloc(len ? len : 1), *out = malloc(cap), *again = malloc(cap);
	struct jbuf b, b2;
	int ret;

	if (!in || !out || !again)
		abort();
	memcpy(in, data, len); /* exactly len bytes: an overread is caught */
	jb_init(&b, out, cap);
	ret = json_reencode(in, len, &b);
	if (ret == 0) {
		for (i = 0; i < b.len; i++)
			if (out[i] < 0x20 || out[i] > 0x7e)
				abort();
		jb_init(&b2, again, cap);
		if (json_reencode(out, b.len, &b2) != 0 || b2.len != b.len ||
		    memcmp(out, again, b.len))
			abort();
	} else if (ret != -EINVAL) {
		abort();
	}
	n = sanitize_text(out, cap, in, len);
	if (n > 4 * len || n != sanitize_text(NULL, 0, in, len))
		abort();
	for (i = 0; i < n; i++)
		if ((out[i] < 0x20 && out[i] != '\n' && out[i] != '\t') || out[i] > 0x7e)
			abort();
	free(in);
	free(out);
	free(again);
	return 0;
}
