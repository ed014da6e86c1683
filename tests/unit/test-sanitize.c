// SPDX-License-Identifier: GPL-2.0-only
/*
 * sanitize.c: text with terminal escapes comes out inert; JSON is re-encoded
 * (compact, ASCII, same value), and everything that is not exactly one
 * valid value within the limits is refused: a reply that closes its object
 * and adds fields, repeated keys, bad UTF-8 and surrogates, depth, numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

static void text_is(const char *in, size_t n, const char *want)
{
	char out[256];
	size_t len = sanitize_text(out, sizeof(out), in, n);

	assert_true(len < sizeof(out));
	out[len] = '\0';
	assert_string_equal(out, want);
	assert_int_equal(sanitize_text(NULL, 0, in, n), len);
}

static void test_text(void **state)
{
	(void)state;
	text_is("up: running\n\tok", 15, "up: running\n\tok");
	/* a colour, a title change, a cursor move, BEL, CR, DEL, C1 CSI, UTF-8 */
	text_is("\x1b[31mred\x1b]0;pwned\x07\r\x7f\xc2\x9b\xe2\x82\xac", 25,
		"\\x1b[31mred\\x1b]0;pwned\\x07\\x0d\\x7f\\xc2\\x9b\\xe2\\x82\\xac");
	text_is("a\\x1b", 5, "a\\\\x1b"); /* an escape cannot be forged */
	text_is("\0z", 2, "\\x00z");
	/* a short buffer gets a prefix, the length says what was needed */
	{
		char out[3];

		assert_int_equal(sanitize_text(out, sizeof(out), "\x1b", 1), 4);
		assert_memory_equal(out, "\\x1", 3);
	}
}

/* json_reencode into a fresh buffer; its return code. */
static int re(const char *in, size_t n, char *out, size_t cap)
{
	struct jbuf b;

	jb_init(&b, out, cap);
	return json_reencode(in, n, &b);
}

static void json_is(const char *in, const char *want)
{
	char out[4096], again[4096];
	int ret = re(in, strlen(in), out, sizeof(out));

	if (ret != 0)
		fail_msg("json_reencode(%s) = %d", in, ret);
	assert_string_equal(out, want);
	/* a fixed point */
	assert_int_equal(re(out, strlen(out), again, sizeof(again)), 0);
	assert_string_equal(again, out);
}

static void json_bad(const char *in, size_t n)
{
	char out[4096];

	if (re(in, n, out, sizeof(out)) != -EINVAL)
		fail_msg("accepted: %.*s", (int)n, in);
}

#define BAD(s) json_bad(s, sizeof(s) - 1)

static void test_json(void **state)
{
	(void)state;
	json_is(" { \"a\" : [1, -0.5e+3, true,false ,null], \"b\":{} ,\"c\":[]}\n",
		"{\"a\":[1,-0.5e+3,true,false,null],\"b\":{},\"c\":[]}");
	json_is("\"x\"", "\"x\"");
	json_is("0", "0");
	/* escapes: control characters, quote, backslash, slash, non-ASCII, astral */
	json_is("\"\\u001b[31m\\n\\\"\\\\\\/\xc3\xa9\\u00e9\xf0\x9f\x98\x80\\ud83d\\ude00\"",
		"\"\\u001b[31m\\u000a\\\"\\\\/\\u00e9\\u00e9\\ud83d\\ude00\\ud83d\\ude00\"");
	json_is("\"\\u0000\"", "\"\\u0000\"");
	/* the same key spelt two ways is the same key */
	BAD("{\"a\":1,\"\\u0061\":2}");
	BAD("{\"a\":1,\"a\":2}");
	json_is("{\"a\":{\"a\":1},\"b\":{\"a\":2}}", "{\"a\":{\"a\":1},\"b\":{\"a\":2}}");
}

static void test_json_rejects(void **state)
{
	char deep[64], out[64];
	int i;

	(void)state;
	/* what a hostile engine would send to add fields beside "live" */
	BAD("{\"a\":1},\"running\":false,\"installed\":{\"b\":2}");
	BAD("{} {}");
	BAD("");
	BAD("   ");
	BAD("{");
	BAD("[1,]");
	BAD("{\"a\":1,}");
	BAD("{\"a\"}");
	BAD("{a:1}");
	BAD("[01]");
	BAD("[1.]");
	BAD("[.5]");
	BAD("[1e]");
	BAD("[-]");
	BAD("[+1]");
	BAD("[0x10]");
	BAD("[NaN]");
	BAD("[tru]");
	BAD("[True]");
	BAD("\"\x1b\"");  /* a raw control character */
	BAD("\"\\x1b\""); /* not a JSON escape */
	BAD("\"\\u12\"");
	BAD("\"\\ud800\"");	     /* a lone high surrogate */
	BAD("\"\\udc00\"");	     /* a lone low one */
	BAD("\"\\ud800\\u0041\"");   /* high then not low */
	BAD("\"\xc0\xaf\"");	     /* overlong */
	BAD("\"\xed\xa0\x80\"");     /* a surrogate in UTF-8 */
	BAD("\"\xf4\x90\x80\x80\""); /* past U+10FFFF */
	BAD("\"\xe2\x82\"");	     /* cut short */
	BAD("\"\x80\"");
	BAD("\"abc");
	json_bad("[1]\0", 4); /* a NUL after the value */
	json_bad("[\0]", 3);
	/* a number longer than the limit */
	BAD("[1234567890123456789012345678901234567890123]");
	/* depth: JSONIN_DEPTH is fine, one more is not */
	for (i = 0; i < JSONIN_DEPTH; i++)
		deep[i] = '[';
	for (i = 0; i < JSONIN_DEPTH; i++)
		deep[JSONIN_DEPTH + i] = ']';
	assert_int_equal(re(deep, 2 * JSONIN_DEPTH, out, sizeof(out)), 0);
	deep[0] = '[';
	memmove(deep + 1, deep, 2 * JSONIN_DEPTH);
	deep[2 * JSONIN_DEPTH + 1] = ']';
	assert_int_equal(re(deep, 2 * JSONIN_DEPTH + 2, out, sizeof(out)), -EINVAL);
}

static void test_json_limits(void **state)
{
	char *in, *out;
	size_t n = 0;
	int i;

	(void)state;
	/* JSONIN_KEYS keys in one object, then one more */
	in = malloc(16 * (JSONIN_KEYS + 2));
	out = malloc(16 * (JSONIN_KEYS + 2));
	assert_non_null(in);
	assert_non_null(out);
	in[n++] = '{';
	for (i = 0; i < JSONIN_KEYS; i++)
		n += (size_t)sprintf(in + n, "%s\"k%d\":0", i ? "," : "", i);
	in[n++] = '}';
	assert_int_equal(re(in, n, out, 16 * (JSONIN_KEYS + 2)), 0);
	n--;
	n += (size_t)sprintf(in + n, ",\"k%d\":0}", JSONIN_KEYS);
	assert_int_equal(re(in, n, out, 16 * (JSONIN_KEYS + 2)), -EINVAL);
	/* an output buffer too small */
	assert_int_equal(re("[1,2,3]", 7, out, 4), -ENOSPC);
	assert_int_equal(re("\"\\u001b\"", 8, out, 8), -ENOSPC);
	free(in);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_rejects),
		cmocka_unit_test(test_json_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
