// SPDX-License-Identifier: GPL-2.0-only
/*
 * Failed proxy tunnels in words, as the app's errno, and the rate limit of
 * their default-level lines. The lines are read back from stderr (a
 * temporary file in its place), so what is checked is what a user sees.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "upfail.h"

static struct sockaddr_in proxy4;

static struct upstream_fail fail_of(enum proxy_type type, enum upstream_stage stage, int err,
				    int code)
{
	struct upstream_fail w = {
		.stage = stage,
		.during = stage,
		.err = err,
		.code = code,
		.type = type,
		.proxy = (const struct sockaddr *)&proxy4,
		.proxy_len = sizeof(proxy4),
		.first = -1,
		.timeout_ms = 10000,
	};

	snprintf(w.dest.name, sizeof(w.dest.name), "www.exmaple.com");
	w.dest.port = 443;
	return w;
}

static const char *words(const struct upstream_fail *w)
{
	static char buf[UPFAIL_TEXT_MAX];

	return upfail_describe(w, buf, sizeof(buf));
}

static int setup(void **state)
{
	(void)state;
	proxy4.sin_family = AF_INET;
	proxy4.sin_port = htons(1080);
	inet_pton(AF_INET, "10.0.0.1", &proxy4.sin_addr);
	return 0;
}

static void test_words(void **state)
{
	struct upstream_fail w;

	(void)state;
	w = fail_of(PROXY_SOCKS5, UPSTREAM_SOCKS5_AUTH, EACCES, 1);
	assert_string_equal(words(&w), "proxy 10.0.0.1:1080 refused our credentials (SOCKS5 auth)");
	w = fail_of(PROXY_HTTP, UPSTREAM_HTTP_REPLY, EACCES, 407);
	w.auth = true;
	assert_non_null(strstr(words(&w), "HTTP proxy 10.0.0.1:1080 answered 407 Proxy "
					  "Authentication Required"));
	w = fail_of(PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, EHOSTUNREACH, 4);
	assert_string_equal(words(&w), "proxy 10.0.0.1:1080 could not resolve or reach "
				       "www.exmaple.com:443 (SOCKS5 host unreachable)");
	w = fail_of(PROXY_HTTP, UPSTREAM_CONNECT, ECONNREFUSED, -1);
	assert_string_equal(words(&w),
			    "nothing listens at the proxy 10.0.0.1:1080 (connection refused)");
	w = fail_of(PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, ECONNREFUSED, 5);
	assert_non_null(strstr(words(&w), "www.exmaple.com:443 refused the connection"));
	w = fail_of(PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, EPROTO, 200);
	assert_non_null(strstr(words(&w), "SOCKS5 reply code 200 (unassigned)"));
	w = fail_of(PROXY_SOCKS5, UPSTREAM_CLOSED, ECONNRESET, -1);
	w.during = UPSTREAM_SOCKS5_REPLY;
	assert_non_null(strstr(words(&w), "closed the connection before its SOCKS5 CONNECT reply"));
	w = fail_of(PROXY_SOCKS5, UPSTREAM_TIMEOUT, ETIMEDOUT, -1);
	w.during = UPSTREAM_SOCKS5_METHOD;
	assert_non_null(strstr(words(&w), "did not answer within 10 s at the SOCKS5 greeting"));
	w = fail_of(PROXY_SOCKS5, UPSTREAM_MALFORMED, EPROTO, -1);
	w.during = UPSTREAM_SOCKS5_METHOD;
	w.first = 'H';
	assert_non_null(strstr(words(&w), "answered in HTTP, not SOCKS5"));
	/* A name with bytes a terminal could act on is never printed. */
	w = fail_of(PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, EHOSTUNREACH, 4);
	snprintf(w.dest.name, sizeof(w.dest.name), "a\033[2Jb");
	assert_null(strchr(words(&w), '\033'));
	/* Never the SOCKS5 and HTTP auth failures in the same words. */
	w = fail_of(PROXY_HTTP, UPSTREAM_HTTP_REPLY, EACCES, 407);
	assert_null(strstr(words(&w), "Permission denied"));
}

static void test_errno(void **state)
{
	static const struct {
		enum proxy_type type;
		enum upstream_stage stage;
		int code, want;
	} t[] = {
		{ PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, 1, ECONNREFUSED },
		{ PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, 2, ECONNREFUSED },
		{ PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, 3, ENETUNREACH },
		{ PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, 4, EHOSTUNREACH },
		{ PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, 5, ECONNREFUSED },
		{ PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, 6, EHOSTUNREACH },
		{ PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, 7, ECONNREFUSED },
		{ PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, 8, ENETUNREACH },
		{ PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, 9, ECONNREFUSED },
		{ PROXY_SOCKS5, UPSTREAM_SOCKS5_AUTH, 1, ECONNREFUSED },
		{ PROXY_HTTP, UPSTREAM_HTTP_REPLY, 504, EHOSTUNREACH },
		{ PROXY_HTTP, UPSTREAM_HTTP_REPLY, 502, ECONNREFUSED },
		{ PROXY_HTTP, UPSTREAM_HTTP_REPLY, 407, ECONNREFUSED },
		{ PROXY_HTTP, UPSTREAM_CONNECT, -1, ECONNREFUSED },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct upstream_fail w = fail_of(t[i].type, t[i].stage, EPROTO, t[i].code);

		assert_int_equal(upfail_app_errno(&w), t[i].want);
	}
}

/* stderr into a file while fn runs; returns what was written (static). */
static char captured[8192];

static void capture_start(FILE **f, int *saved)
{
	fflush(stderr);
	*f = tmpfile();
	assert_non_null(*f);
	*saved = dup(2);
	assert_true(*saved >= 0);
	assert_int_equal(dup2(fileno(*f), 2), 2);
}

static const char *capture_end(FILE *f, int saved)
{
	size_t n;

	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	rewind(f);
	n = fread(captured, 1, sizeof(captured) - 1, f);
	captured[n] = '\0';
	fclose(f);
	return captured;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void test_rate_limit(void **state)
{
	struct upfail_log *l = upfail_log_new(60000);
	struct upstream_fail a = fail_of(PROXY_SOCKS5, UPSTREAM_SOCKS5_AUTH, EACCES, 1);
	struct upstream_fail b = fail_of(PROXY_SOCKS5, UPSTREAM_CONNECT, ECONNREFUSED, -1);
	const char *out;
	FILE *f;
	int saved, i, lvl = log_level;

	(void)state;
	assert_non_null(l);
	log_level = LOG_LVL_WARN; /* the default level */
	capture_start(&f, &saved);
	assert_int_equal(upfail_log_add(l, &a, 1000), 61000);
	for (i = 0; i < 4; i++)
		upfail_log_add(l, &a, 2000 + i);
	upfail_log_add(l, &b, 3000); /* another cause: its own line at once */
	assert_int_equal(upfail_log_flush(l, 60999), 61000); /* not yet */
	out = capture_end(f, saved);
	assert_int_equal(count(out, "refused our credentials"), 1);
	assert_int_equal(count(out, "nothing listens at the proxy"), 1);
	assert_null(strstr(out, "more time"));

	capture_start(&f, &saved);
	/* a's window ends: its count; b had no repeats: its entry ends quietly */
	assert_int_equal(upfail_log_flush(l, 61000), 63000);
	assert_int_equal(upfail_log_flush(l, 63000), 121000);
	upfail_log_add(l, &b, 63001); /* b's window had ended: a line of its own again */
	out = capture_end(f, saved);
	assert_int_equal(count(out, "refused our credentials (SOCKS5 auth) (4 more times in the "
				    "last minute)"),
			 1);
	assert_int_equal(count(out, "nothing listens at the proxy"), 1);

	capture_start(&f, &saved);
	upfail_log_add(l, &a, 70000); /* in a's second window: counted */
	upfail_log_free(l, 80000);    /* at exit: the count since 61000 */
	out = capture_end(f, saved);
	assert_int_equal(count(out, "(1 more time in 19.0 s)"), 1);
	log_level = lvl;
}

/* More causes than slots: the rest are counted together, never lost. */
static void test_overflow(void **state)
{
	struct upfail_log *l = upfail_log_new(1000);
	const char *out;
	FILE *f;
	int saved, i, lvl = log_level;

	(void)state;
	log_level = LOG_LVL_WARN;
	capture_start(&f, &saved);
	for (i = 0; i < UPFAIL_CAUSES_MAX + 3; i++) {
		struct upstream_fail w =
			fail_of(PROXY_SOCKS5, UPSTREAM_SOCKS5_REPLY, EPROTO, 10 + i);

		upfail_log_add(l, &w, 5);
	}
	upfail_log_flush(l, 1005);
	out = capture_end(f, saved);
	assert_int_equal(count(out, "(unassigned)"), UPFAIL_CAUSES_MAX);
	assert_int_equal(count(out, "3 more proxy failures of other kinds"), 1);
	upfail_log_free(l, 1005);
	log_level = lvl;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_errno),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_overflow),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
