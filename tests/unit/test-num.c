// SPDX-License-Identifier: GPL-2.0-only
/*
 * num.c, the one integer parser: every good form (decimal with leading
 * zeros, hex only with NUM_HEX, both ends of the range) and every bad one
 * (empty, sign, spaces, overflow however long, trailing bytes, a NUL
 * inside the span, hex where not allowed, a bare 0x, leading zeros under
 * NUM_CANON), with *out untouched on every error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "num.h"

static int p64(const char *s, unsigned int flags, uint64_t min, uint64_t max, uint64_t *out)
{
	return num_parse(s, strlen(s), flags, min, max, out);
}

static void test_good(void **state)
{
	uint64_t v = 7;
	uint32_t w = 7;

	(void)state;
	assert_int_equal(p64("0", 0, 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(p64("100", 0, 1, 200, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(p64("0100", 0, 1, 200, &v), 0); /* not octal */
	assert_int_equal(v, 100);
	assert_int_equal(p64("18446744073709551615", 0, 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(p64("0x7076", NUM_HEX, 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0x7076);
	assert_int_equal(p64("0XfFfF", NUM_HEX, 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0xffff);
	assert_int_equal(p64("0xffffffffffffffff", NUM_HEX, 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(p64("42", NUM_HEX, 0, 100, &v), 0); /* decimal is still decimal */
	assert_int_equal(v, 42);
	assert_int_equal(p64("0", NUM_CANON, 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(p64("10", NUM_CANON, 0, 10, &v), 0);
	assert_int_equal(v, 10);
	/* a span inside a longer buffer: only len bytes count */
	assert_int_equal(num_parse("1234", 2, 0, 0, 100, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(num_u32("4294967295", 0, 1, UINT32_MAX, &w), 0);
	assert_true(w == UINT32_MAX);
	assert_int_equal(num_u32("0x10", NUM_HEX, 1, 200, &w), 0);
	assert_int_equal(w, 16);
}

static void bad(const char *s, unsigned int flags, uint64_t min, uint64_t max, int want)
{
	uint64_t v = 7;
	uint32_t w = 7;

	assert_int_equal(p64(s, flags, min, max, &v), want);
	assert_int_equal(v, 7);
	if (max <= UINT32_MAX) {
		assert_int_equal(num_u32(s, flags, (uint32_t)min, (uint32_t)max, &w), want);
		assert_int_equal(w, 7);
	}
}

static void test_bad_forms(void **state)
{
	uint64_t v = 7;

	(void)state;
	bad("", 0, 0, 200, -EINVAL);
	bad("", NUM_HEX, 0, 200, -EINVAL);
	bad("-1", 0, 0, UINT32_MAX, -EINVAL);
	bad("+1", 0, 0, 200, -EINVAL);
	bad("-0", 0, 0, 200, -EINVAL);
	bad(" 1", 0, 0, 200, -EINVAL);
	bad("1 ", 0, 0, 200, -EINVAL);
	bad("1 2", 0, 0, 200, -EINVAL);
	bad("\t1", 0, 0, 200, -EINVAL);
	bad("1\n", 0, 0, 200, -EINVAL);
	bad("12abc", 0, 0, 200, -EINVAL);
	bad("1.0", 0, 0, 200, -EINVAL);
	bad("1e3", 0, 0, 2000, -EINVAL);
	bad("0x10", 0, 1, 200, -EINVAL); /* hex where not allowed */
	bad("ff", 0, 0, 300, -EINVAL);
	bad("ff", NUM_HEX, 0, 300, -EINVAL); /* hex needs its prefix */
	bad("0x", NUM_HEX, 0, 200, -EINVAL);
	bad("0x-1", NUM_HEX, 0, 200, -EINVAL);
	bad("0x+1", NUM_HEX, 0, 200, -EINVAL);
	bad("0x 1", NUM_HEX, 0, 200, -EINVAL);
	bad("0x0x1", NUM_HEX, 0, 200, -EINVAL);
	bad("0xg", NUM_HEX, 0, 200, -EINVAL);
	bad("x10", NUM_HEX, 0, 200, -EINVAL);
	bad("00", NUM_CANON, 0, 200, -EINVAL);
	bad("01", NUM_CANON, 0, 200, -EINVAL);
	/* trailing bytes after an overflowing run are still a bad form */
	bad("99999999999999999999999x", 0, 0, UINT32_MAX, -EINVAL);
	/* a NUL inside the span */
	assert_int_equal(num_parse("1\0002", 3, 0, 0, 200, &v), -EINVAL);
	assert_int_equal(num_parse("1\0", 2, 0, 0, 200, &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void test_range(void **state)
{
	(void)state;
	bad("0", 0, 1, 200, -ERANGE);
	bad("201", 0, 1, 200, -ERANGE);
	bad("4294967296", 0, 1, UINT32_MAX, -ERANGE);
	bad("0x100000000", NUM_HEX, 1, UINT32_MAX, -ERANGE);
	bad("18446744073709551616", 0, 0, UINT64_MAX, -ERANGE); /* 2^64 */
	bad("99999999999999999999999", 0, 1, UINT32_MAX, -ERANGE);
	bad("0x10000000000000000", NUM_HEX, 0, UINT64_MAX, -ERANGE);
	bad("000000000000000000000000000000000000001", 0, 2, 200,
	    -ERANGE); /* zeros do not overflow */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad_forms),
		cmocka_unit_test(test_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
