// SPDX-License-Identifier: GPL-2.0-only
/*
 * log.c: what a message quotes reaches stderr inert (terminal escapes,
 * newlines, DEL and non-ASCII bytes as \xHH); a long message is cut, not
 * overrun.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* What one log call wrote to stderr. */
static void logged(char *out, size_t cap, const char *quoted)
{
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(f), 2) == 2);
	log_level = LOG_LVL_WARN;
	log_warnx("name %s end", quoted);
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	rewind(f);
	n = fread(out, 1, cap - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void test_inert(void **state)
{
	char out[8192];

	(void)state;
	logged(out, sizeof(out), "ok.example");
	assert_string_equal(out, "proxyvpn: name ok.example end\n");
	logged(out, sizeof(out), "\x1b]0;pwned\x07\x1b[2J\nproxyvpn: forged\r\x7f\xc2\x9b");
	assert_string_equal(out, "proxyvpn: name \\x1b]0;pwned\\x07\\x1b[2J\\x0aproxyvpn: forged"
				 "\\x0d\\x7f\\xc2\\x9b end\n");
}

static void test_long(void **state)
{
	char big[3000], out[16384];

	(void)state;
	memset(big, '\x1b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	logged(out, sizeof(out), big);
	assert_int_equal(strncmp(out, "proxyvpn: name \\x1b\\x1b", 23), 0);
	assert_int_equal(out[strlen(out) - 1], '\n');
	assert_null(memchr(out, '\x1b', strlen(out)));
	assert_true(strlen(out) < 4200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inert),
		cmocka_unit_test(test_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
