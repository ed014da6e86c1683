// SPDX-License-Identifier: GPL-2.0-only
/*
 * cli_u32 (the number parser behind up's --table, --mark, --priority) and
 * the table/priority ranges route.c allows a user to choose.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "cli.h"
#include "route.h"

static void test_u32(void **state)
{
	uint32_t v = 7;

	(void)state;
	assert_int_equal(cli_u32("100", false, 1, 200, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(cli_u32("0100", false, 1, 200, &v), 0); /* not octal */
	assert_int_equal(v, 100);
	assert_int_equal(cli_u32("4294967295", false, 1, UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(cli_u32("0x7076", true, 1, UINT32_MAX, &v), 0);
	assert_int_equal(v, 0x7076);
	assert_int_equal(cli_u32("0XfFfFfFfF", true, 1, UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	v = 7;
	assert_int_equal(cli_u32("0x10", false, 1, 200, &v), -EINVAL);
	assert_int_equal(cli_u32("4294967296", false, 1, UINT32_MAX, &v), -ERANGE);
	assert_int_equal(cli_u32("0x100000000", true, 1, UINT32_MAX, &v), -ERANGE);
	assert_int_equal(cli_u32("99999999999999999999999", false, 1, UINT32_MAX, &v), -ERANGE);
	assert_int_equal(cli_u32("0", false, 1, 200, &v), -ERANGE);
	assert_int_equal(cli_u32("201", false, 1, 200, &v), -ERANGE);
	assert_int_equal(cli_u32("", false, 1, 200, &v), -EINVAL);
	assert_int_equal(cli_u32("0x", true, 1, 200, &v), -EINVAL);
	assert_int_equal(cli_u32("-1", false, 0, UINT32_MAX, &v), -EINVAL);
	assert_int_equal(cli_u32("+1", false, 0, 200, &v), -EINVAL);
	assert_int_equal(cli_u32(" 1", false, 0, 200, &v), -EINVAL);
	assert_int_equal(cli_u32("1 ", false, 0, 200, &v), -EINVAL);
	assert_int_equal(cli_u32("12abc", false, 0, 200, &v), -EINVAL);
	assert_int_equal(cli_u32("0x-1", true, 0, 200, &v), -EINVAL);
	assert_int_equal(cli_u32("0x 1", true, 0, 200, &v), -EINVAL);
	assert_int_equal(v, 7); /* untouched on error */
}

static void test_route_ranges(void **state)
{
	(void)state;
	assert_false(route_table_ok(0));
	assert_true(route_table_ok(1));
	assert_true(route_table_ok(251));
	assert_false(route_table_ok(252));
	assert_false(route_table_ok(253));
	assert_false(route_table_ok(254));
	assert_false(route_table_ok(255));
	assert_true(route_table_ok(256));
	assert_true(route_table_ok(UINT32_MAX));
	assert_false(route_prio_ok(0));
	assert_true(route_prio_ok(1));
	assert_true(route_prio_ok(ROUTE_PRIO_MAX));
	assert_false(route_prio_ok(ROUTE_PRIO_MAX + 1));
	assert_false(route_prio_ok(32766));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u32),
		cmocka_unit_test(test_route_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
