// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for the control protocol's request parser and the JSON
 * writer: ctl-proto.c and json.c, pure, so nothing else is needed. The
 * parser's result must not depend on bytes past the first newline, and a
 * request fed in two pieces must parse the same. The input, used as an
 * escaped string in a reply built into a small buffer, must never overflow
 * it and must escape to printable ASCII without a raw quote.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/ctl-proto.c"
#include "../../src/codec/json.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char mem[512];
	const char *s = (const char *)data;
	struct ctl_conn c = { .phase = "relay", .tcp_state = "ESTABLISHED" };
	struct ctl_live l = { 0 };
	struct jbuf b;
	char *v;
	int r, r2;
	size_t i, cut;

	r = ctl_parse_request(s, len);
	if (r != -EAGAIN && r != -EINVAL && r != CTL_REQ_STATUS && r != CTL_REQ_STATUS_TEXT)
		abort();
	if (r > 0) {
		/* a whole line: feeding any shorter prefix first is incomplete or the same */
		cut = (size_t)((const char *)memchr(s, '\n', len) - s);
		for (i = 0; i <= cut; i++) {
			r2 = ctl_parse_request(s, i);
			if (r2 != -EAGAIN)
				abort();
		}
		if (ctl_parse_request(s, cut + 1) != r)
			abort();
	}

	v = malloc(len + 1);
	if (!v)
		return 0;
	memcpy(v, data, len);
	v[len] = '\0';
	l.version = v;
	c.phase = v;
	jb_init(&b, mem, sizeof(mem));
	r = ctl_reply_status(&b, CTL_REQ_STATUS, &l, &c, 1, 1);
	if (b.len >= sizeof(mem) || mem[b.len] != '\0' || strlen(mem) != b.len)
		abort();
	if (r == 0 && (b.full || mem[b.len - 1] != '\n'))
		abort();
	for (i = 0; i < b.len; i++)
		if ((unsigned char)mem[i] < 0x20 && mem[i] != '\n')
			abort();
	/* the escaped form of the input alone: ASCII, no unescaped quote */
	jb_init(&b, mem, sizeof(mem));
	jb_str(&b, v, strlen(v));
	for (i = 1; !b.full && i + 1 < b.len; i++)
		if ((unsigned char)mem[i] >= 0x7f || (mem[i] == '"' && mem[i - 1] != '\\'))
			abort();
	free(v);
	return 0;
}
