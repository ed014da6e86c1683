// SPDX-License-Identifier: GPL-2.0-only
/*
 * watchrec.c: a full record round-trips byte for byte; every kind of bad
 * record (truncated, reordered, out of range, non-canonical, trailing
 * bytes) is refused with the record zeroed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "watchrec.h"

static const char good[] = "proxyvpn-watch 1\n"
			   "pid 4242\n"
			   "phase ready\n"
			   "nft-digest 00c0ffee12345678\n"
			   "repairs nftables 3\n"
			   "repairs iptables 0\n"
			   "repairs rule 2\n"
			   "repairs route 6\n"
			   "repairs link 1\n"
			   "repairs address 1\n"
			   "limited 1\n"
			   "window-last-us 1234\n"
			   "window-max-us 18446744073709551615\n"
			   "end\n";

static void test_round_trip(void **state)
{
	struct watchrec r;
	const char *why = "x";
	char out[WATCHREC_MAX];

	(void)state;
	assert_int_equal(watchrec_parse(good, strlen(good), &r, &why), 0);
	assert_null(why);
	assert_int_equal(r.pid, 4242);
	assert_true(r.ready);
	assert_true(r.nft_digest == 0x00c0ffee12345678ULL);
	assert_int_equal(r.repairs[WATCH_NFT], 3);
	assert_int_equal(r.repairs[WATCH_ROUTE], 6);
	assert_int_equal(r.repairs[WATCH_ADDR], 1);
	assert_int_equal(r.limited, 1);
	assert_true(r.window_max_us == UINT64_MAX);
	assert_int_equal(watchrec_format(&r, out, sizeof(out)), (int)strlen(good));
	assert_string_equal(out, good);
	/* every short buffer: -ENOSPC */
	for (size_t n = 0; n < strlen(good) + 1; n++)
		assert_int_equal(watchrec_format(&r, out, n), -ENOSPC);
	r.pid = 0;
	assert_int_equal(watchrec_format(&r, out, sizeof(out)), -EINVAL);
	assert_string_equal(watchrec_kind_name(WATCH_IPT), "iptables");
	assert_null(watchrec_kind_name(WATCH_KINDS));
}

/* good with line `from` replaced by `to` (NULL: removed). */
static void edited(char *out, size_t len, const char *from, const char *to)
{
	const char *at = strstr(good, from);

	assert_non_null(at);
	snprintf(out, len, "%.*s%s%s", (int)(at - good), good, to ? to : "", at + strlen(from));
}

static void refused(const char *buf, size_t len)
{
	struct watchrec r, zero = { 0 };
	const char *why = NULL;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(watchrec_parse(buf, len, &r, &why), -EINVAL);
	assert_non_null(why);
	assert_memory_equal(&r, &zero, sizeof(r));
}

static void test_bad(void **state)
{
	static const char *const edits[][2] = {
		{ "proxyvpn-watch 1\n", "proxyvpn-watch 2\n" },
		{ "pid 4242\n", "pid 0\n" },
		{ "pid 4242\n", "pid 04242\n" },
		{ "pid 4242\n", "pid 4194305\n" },
		{ "pid 4242\n", "pid  4242\n" },
		{ "pid 4242\n", "pid -1\n" },
		{ "phase ready\n", "phase up\n" },
		{ "nft-digest 00c0ffee12345678\n", "nft-digest C0FFEE1234567800\n" },
		{ "nft-digest 00c0ffee12345678\n", "nft-digest c0ffee\n" },
		{ "repairs iptables 0\n", NULL },
		{ "repairs rule 2\n", "repairs route 2\n" },
		{ "repairs link 1\n", "repairs link 18446744073709551616\n" },
		{ "repairs address 1\n", "repairs address\n" },
		{ "limited 1\n", "limited 1 \n" },
		{ "window-last-us 1234\n", NULL },
		{ "end\n", "end" },
		{ "end\n", NULL },
		{ "end\n", "end\nmore\n" },
	};
	char buf[WATCHREC_MAX + 64];

	(void)state;
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		edited(buf, sizeof(buf), edits[i][0], edits[i][1]);
		refused(buf, strlen(buf));
	}
	/* a NUL inside, truncated anywhere, too long */
	memcpy(buf, good, sizeof(good));
	buf[10] = '\0';
	refused(buf, strlen(good));
	for (size_t n = 0; n < strlen(good); n++)
		refused(good, n);
	memset(buf, '\n', sizeof(buf));
	refused(buf, WATCHREC_MAX + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
