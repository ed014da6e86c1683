// SPDX-License-Identifier: GPL-2.0-only
/*
 * url.c: every accepted --proxy form, every rejection with its reason, the
 * length limits at the boundary, credential wiping, a --proxy-file's
 * contents (one line, strict), the password hidden in a URL string, and
 * url_resolve() on literals and localhost.
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
#include <string.h>

#include "url.h"

#define SECRET "s3cr3t"

static void parse_ok(const char *s, struct proxy_url *u)
{
	const char *why = "unset";
	int ret = url_parse(s, u, &why);

	if (ret != 0)
		fail_msg("url_parse(\"%s\") = %d (%s), want 0", s, ret, why ? why : "(null)");
	assert_int_not_equal(u->host[0], 0);
	assert_int_not_equal(u->port, 0);
}

static void parse_bad(const char *s, const char *want_why)
{
	struct proxy_url u;
	const char *why = NULL;
	int ret = url_parse(s, &u, &why);

	if (ret != -EINVAL)
		fail_msg("url_parse(\"%s\") = %d, want -EINVAL", s, ret);
	assert_non_null(why);
	if (!strstr(why, want_why))
		fail_msg("url_parse(\"%s\"): why \"%s\", want \"%s\"", s, why, want_why);
	assert_null(strstr(why, SECRET));
	/* Nothing half-parsed (least of all a password) survives a failure. */
	assert_int_equal(u.user[0], 0);
	assert_int_equal(u.pass[0], 0);
	assert_int_equal(u.host[0], 0);
	assert_false(u.has_auth);
}

static void test_socks5_plain(void **state)
{
	struct proxy_url u;

	(void)state;
	parse_ok("socks5://127.0.0.1:1080", &u);
	assert_int_equal(u.type, PROXY_SOCKS5);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 1080);
	assert_false(u.has_auth);
	assert_string_equal(u.user, "");
	assert_string_equal(u.pass, "");

	parse_ok(PROXY_URL_DEFAULT, &u);
	assert_int_equal(u.type, PROXY_SOCKS5);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 1080);
}

static void test_schemes(void **state)
{
	struct proxy_url u;

	(void)state;
	parse_ok("socks5h://proxy.example:1080", &u);
	assert_int_equal(u.type, PROXY_SOCKS5);
	assert_string_equal(u.host, "proxy.example");

	parse_ok("http://proxy.example:3128", &u);
	assert_int_equal(u.type, PROXY_HTTP);
	assert_int_equal(u.port, 3128);

	parse_ok("SOCKS5://h:1", &u);
	assert_int_equal(u.type, PROXY_SOCKS5);
	parse_ok("Socks5H://h:1", &u);
	assert_int_equal(u.type, PROXY_SOCKS5);
	parse_ok("HtTp://h:1", &u);
	assert_int_equal(u.type, PROXY_HTTP);
}

static void test_trailing_slash(void **state)
{
	struct proxy_url u;

	(void)state;
	parse_ok("socks5://h:1080/", &u);
	assert_string_equal(u.host, "h");
	assert_int_equal(u.port, 1080);
	parse_ok("http://u:p@[::1]:8080/", &u);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.pass, "p");
}

static void test_host_names(void **state)
{
	struct proxy_url u;

	(void)state;
	parse_ok("socks5://my-proxy_1.corp.example:1080", &u);
	assert_string_equal(u.host, "my-proxy_1.corp.example");
	parse_ok("socks5://localhost:9050", &u);
	assert_string_equal(u.host, "localhost");
	parse_ok("socks5://PROXY.Example.COM:1", &u);
	assert_string_equal(u.host, "PROXY.Example.COM"); /* host case kept */
}

static void test_ipv6(void **state)
{
	struct proxy_url u;

	(void)state;
	parse_ok("socks5://[2001:db8::1]:1080", &u);
	assert_string_equal(u.host, "2001:db8::1");
	assert_int_equal(u.port, 1080);
	parse_ok("socks5://[::1]:1", &u);
	assert_string_equal(u.host, "::1");
	parse_ok("http://[::ffff:192.0.2.1]:8080", &u);
	assert_string_equal(u.host, "::ffff:192.0.2.1");
	parse_ok("socks5://alice:pw@[fd00:1:2:3:4:5:6:7]:65535", &u);
	assert_string_equal(u.host, "fd00:1:2:3:4:5:6:7");
	assert_int_equal(u.port, 65535);
	assert_string_equal(u.user, "alice");
}

static void test_ports(void **state)
{
	struct proxy_url u;

	(void)state;
	parse_ok("socks5://h:1", &u);
	assert_int_equal(u.port, 1);
	parse_ok("socks5://h:65535", &u);
	assert_int_equal(u.port, 65535);
	parse_ok("socks5://h:01080", &u); /* leading zeros, as strtoul */
	assert_int_equal(u.port, 1080);
}

static void test_credentials(void **state)
{
	struct proxy_url u;

	(void)state;
	parse_ok("socks5://alice:" SECRET "@h:1080", &u);
	assert_true(u.has_auth);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.pass, SECRET);
	assert_string_equal(u.host, "h");

	/* user only, and user with an empty password */
	parse_ok("socks5://alice@h:1080", &u);
	assert_true(u.has_auth);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.pass, "");
	parse_ok("http://alice:@h:1080", &u);
	assert_true(u.has_auth);
	assert_string_equal(u.pass, "");

	/* the password runs to the '@' and may hold ':' */
	parse_ok("socks5://alice:a:b:c@h:1080", &u);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.pass, "a:b:c");
}

static void test_percent_decoding(void **state)
{
	struct proxy_url u;

	(void)state;
	parse_ok("socks5://us%40er:p%3Aw%2f%3f%23%25%20x@h:1080", &u);
	assert_string_equal(u.user, "us@er");
	assert_string_equal(u.pass, "p:w/?#% x");
	parse_ok("socks5://%61%62%63:%ff%0a@h:1", &u);
	assert_string_equal(u.user, "abc");
	assert_string_equal(u.pass, "\xff\n");
	parse_ok("socks5://%3a:%40@h:1", &u); /* ':' in the user name, encoded */
	assert_string_equal(u.user, ":");
	assert_string_equal(u.pass, "@");
}

static void test_url_clear(void **state)
{
	struct proxy_url u;
	char zero[URL_CRED_MAX + 1];

	(void)state;
	memset(zero, 0, sizeof(zero));
	parse_ok("socks5://alice:" SECRET "@h:1080", &u);
	url_clear(&u);
	assert_false(u.has_auth);
	assert_memory_equal(u.user, zero, sizeof(u.user));
	assert_memory_equal(u.pass, zero, sizeof(u.pass));
	/* the endpoint is not a secret and stays usable */
	assert_string_equal(u.host, "h");
	assert_int_equal(u.port, 1080);
	url_clear(NULL);
}

static void test_rejects(void **state)
{
	static const struct {
		const char *url;
		const char *why;
	} cases[] = {
		/* scheme */
		{ "", "missing \"://\"" },
		{ "127.0.0.1:1080", "missing \"://\"" },
		{ "localhost:1080", "missing \"://\"" },
		{ "socks5:/h:1080", "missing \"://\"" },
		{ "socks5//h:1080", "missing \"://\"" },
		{ "socks5:h:1080", "missing \"://\"" },
		{ "://h:1080", "missing \"://\"" },
		{ "socks4://h:1080", "unknown scheme (want socks5, socks5h or http)" },
		{ "https://h:1080", "unknown scheme" },
		{ "socks://h:1080", "unknown scheme" },
		{ "socks5x://h:1080", "unknown scheme" },
		{ "sock%35://h:1080", "missing \"://\"" },
		/* host */
		{ "socks5://", "missing host" },
		{ "socks5:///", "missing host" },
		{ "socks5://:1080", "missing host" },
		{ "socks5://alice:" SECRET "@:1080", "missing host" },
		{ "socks5://alice@", "missing host" },
		{ "socks5://[]:1080", "missing host" },
		{ "socks5://h!:1080", "invalid character in host name" },
		{ "socks5://h%41:1080", "invalid character in host name" },
		{ "socks5://h,i:1080", "invalid character in host name" },
		{ "socks5://h\xc3\xa9:1080", "invalid character in host name" },
		/* brackets */
		{ "socks5://[::1:1080", "unbalanced brackets" },
		{ "socks5://::1]:1080", "unbalanced brackets" },
		{ "socks5://[[::1]]:1080", "unbalanced brackets" },
		{ "socks5://[::1]]:1080", "unbalanced brackets" },
		{ "socks5://[::1]:1080]", "unbalanced brackets" },
		{ "socks5://h[:1080", "unbalanced brackets" },
		{ "socks5://[1.2.3.4]:1080", "brackets must hold an IPv6 address" },
		{ "socks5://[example.com]:1080", "brackets must hold an IPv6 address" },
		{ "socks5://[fe80::1%25eth0]:1080", "brackets must hold an IPv6 address" },
		{ "socks5://[0000:0000:0000:0000:0000:0000:0000:0000:1]:1080",
		  "brackets must hold an IPv6 address" },
		{ "socks5://[000000000000000000000000000000000000000000000000001]:1080",
		  "brackets must hold an IPv6 address" },
		{ "socks5://[::1]", "missing port" },
		{ "socks5://[::1]1080", "expected ':' and a port after ']'" },
		{ "socks5://2001:db8::1:1080", "IPv6 address must be in brackets" },
		{ "socks5://::1", "IPv6 address must be in brackets" },
		/* port */
		{ "socks5://h", "missing port" },
		{ "socks5://h/", "missing port" },
		{ "socks5://h:", "missing port" },
		{ "socks5://h:/", "missing port" },
		{ "socks5://[::1]:", "missing port" },
		{ "socks5://h:0", "port must be 1-65535" },
		{ "socks5://h:00000", "port must be 1-65535" },
		{ "socks5://h:65536", "port must be 1-65535" },
		{ "socks5://h:99999", "port must be 1-65535" },
		{ "socks5://h:18446744073709551617", "port must be 1-65535" },
		{ "socks5://h:+80", "port must be 1-65535" },
		{ "socks5://h:-1", "port must be 1-65535" },
		{ "socks5://h:80a", "port must be 1-65535" },
		{ "socks5://h:0x50", "port must be 1-65535" },
		{ "socks5://h:socks", "port must be 1-65535" },
		{ "socks5://[::1]:1x", "port must be 1-65535" },
		/* path, query, fragment */
		{ "socks5://h:1080/x", "path not allowed" },
		{ "socks5://h:1080//", "path not allowed" },
		{ "socks5://h:1080/x/", "path not allowed" },
		{ "socks5://h:1080?", "query or fragment not allowed" },
		{ "socks5://h:1080?a=b", "query or fragment not allowed" },
		{ "socks5://h:1080/?a", "query or fragment not allowed" },
		{ "socks5://h:1080#", "query or fragment not allowed" },
		{ "socks5://h:1080#frag", "query or fragment not allowed" },
		/* whitespace and control characters anywhere */
		{ " socks5://h:1080", "whitespace or control character" },
		{ "socks5://h:1080 ", "whitespace or control character" },
		{ "socks5:// h:1080", "whitespace or control character" },
		{ "socks5://h :1080", "whitespace or control character" },
		{ "socks5://h:1080\n", "whitespace or control character" },
		{ "\tsocks5://h:1080", "whitespace or control character" },
		{ "socks5://h\r:1080", "whitespace or control character" },
		{ "socks5://h\x7f:1080", "whitespace or control character" },
		{ "socks5://a\x01:" SECRET "@h:1080", "whitespace or control character" },
		{ "socks5://alice:" SECRET " @h:1080", "whitespace or control character" },
		/* credentials */
		{ "socks5://@h:1080", "empty user name" },
		{ "socks5://:" SECRET "@h:1080", "empty user name" },
		{ "socks5://a%00:" SECRET "@h:1080", "%00 not allowed" },
		{ "socks5://alice:" SECRET "%00@h:1080", "%00 not allowed" },
		{ "socks5://alice:" SECRET "%@h:1080", "bad percent-encoding" },
		{ "socks5://alice:" SECRET "%4@h:1080", "bad percent-encoding" },
		{ "socks5://alice:" SECRET "%zz@h:1080", "bad percent-encoding" },
		{ "socks5://alice:" SECRET "%4g@h:1080", "bad percent-encoding" },
		{ "socks5://al%4:" SECRET "@h:1080", "bad percent-encoding" },
		{ "socks5://alice:" SECRET "%+1@h:1080", "bad percent-encoding" },
		{ "socks5://alice:" SECRET "@x@h:1080", "'@' in credentials must be written %40" },
		{ "socks5://al@ice@h:1080", "'@' in credentials must be written %40" },
		{ "socks5://alice:" SECRET "/x@h:1080", "must be percent-encoded" },
		{ "socks5://alice:" SECRET "?x@h:1080", "must be percent-encoded" },
		{ "socks5://alice:" SECRET "#x@h:1080", "must be percent-encoded" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		parse_bad(cases[i].url, cases[i].why);
}

static void test_null_and_why(void **state)
{
	struct proxy_url u;
	const char *why = "stale";

	(void)state;
	assert_int_equal(url_parse(NULL, &u, &why), -EINVAL);
	assert_non_null(why);
	/* why may be NULL; success resets it */
	assert_int_equal(url_parse("socks5://h:0", &u, NULL), -EINVAL);
	assert_int_equal(url_parse("socks5://h:1", &u, NULL), 0);
	why = "stale";
	assert_int_equal(url_parse("socks5://h:1", &u, &why), 0);
	assert_null(why);
}

/* Builds "scheme://" + user_part + host_part + ":port" into buf. */
static void build(char *buf, size_t size, const char *pre, char fill, size_t n, const char *post)
{
	size_t pl = strlen(pre), ql = strlen(post);

	assert_true(pl + n + ql < size);
	memcpy(buf, pre, pl);
	memset(buf + pl, fill, n);
	memcpy(buf + pl + n, post, ql + 1);
}

static void test_host_length(void **state)
{
	char buf[URL_MAX + 64];
	struct proxy_url u;

	(void)state;
	build(buf, sizeof(buf), "socks5://", 'a', URL_HOST_MAX, ":1080");
	parse_ok(buf, &u);
	assert_int_equal(strlen(u.host), URL_HOST_MAX);
	build(buf, sizeof(buf), "socks5://", 'a', URL_HOST_MAX + 1, ":1080");
	parse_bad(buf, "host name longer than 255 bytes");
}

static void test_cred_length(void **state)
{
	char buf[URL_MAX + 64];
	char mid[3 * (URL_CRED_MAX + 1) + 1];
	struct proxy_url u;
	size_t i;

	(void)state;
	build(buf, sizeof(buf), "socks5://", 'u', URL_CRED_MAX, ":p@h:1080");
	parse_ok(buf, &u);
	assert_int_equal(strlen(u.user), URL_CRED_MAX);
	build(buf, sizeof(buf), "socks5://", 'u', URL_CRED_MAX + 1, ":p@h:1080");
	parse_bad(buf, "user name longer than 255 bytes");

	build(buf, sizeof(buf), "socks5://u:", 'p', URL_CRED_MAX, "@h:1080");
	parse_ok(buf, &u);
	assert_int_equal(strlen(u.pass), URL_CRED_MAX);
	build(buf, sizeof(buf), "socks5://u:", 'p', URL_CRED_MAX + 1, "@h:1080");
	parse_bad(buf, "password longer than 255 bytes");

	/* The limit is on decoded bytes: 255 x "%41" (765 chars) is fine. */
	for (i = 0; i < URL_CRED_MAX; i++)
		memcpy(mid + 3 * i, "%41", 3);
	mid[3 * URL_CRED_MAX] = '\0';
	snprintf(buf, sizeof(buf), "socks5://%s:%s@h:1080", mid, mid);
	parse_ok(buf, &u);
	assert_int_equal(strlen(u.user), URL_CRED_MAX);
	assert_int_equal(strlen(u.pass), URL_CRED_MAX);
	assert_int_equal(u.user[0], 'A');
	memcpy(mid + 3 * URL_CRED_MAX, "%41", 4);
	snprintf(buf, sizeof(buf), "socks5://u:%s@h:1080", mid);
	parse_bad(buf, "password longer than 255 bytes");
}

static void test_url_length(void **state)
{
	char buf[URL_MAX + 64];
	const char *pre = "socks5://h:";
	struct proxy_url u;
	size_t pl = strlen(pre);

	(void)state;
	/* exactly URL_MAX: valid thanks to leading zeros in the port */
	build(buf, sizeof(buf), pre, '0', URL_MAX - pl - 4, "1080");
	assert_int_equal(strlen(buf), URL_MAX);
	parse_ok(buf, &u);
	assert_int_equal(u.port, 1080);
	build(buf, sizeof(buf), pre, '0', URL_MAX - pl - 4 + 1, "1080");
	assert_int_equal(strlen(buf), URL_MAX + 1);
	parse_bad(buf, "URL longer than 2048 bytes");
}

static void file_bad(const char *s, size_t len, const char *want_why)
{
	struct proxy_url u;
	const char *why = NULL;

	if (url_parse_file(s, len, &u, &why) != -EINVAL)
		fail_msg("url_parse_file(\"%.*s\") accepted", (int)len, s);
	if (!why || !strstr(why, want_why))
		fail_msg("url_parse_file(\"%.*s\"): why \"%s\", want \"%s\"", (int)len, s,
			 why ? why : "(null)", want_why);
	assert_null(strstr(why, SECRET));
	assert_false(u.has_auth);
	assert_int_equal(u.pass[0], 0);
}

/* a string literal, NULs included */
#define FILE_BAD(lit, why) file_bad(lit, sizeof(lit) - 1, why)

static void test_parse_file(void **state)
{
	static const char *const ok[] = {
		"socks5://u:" SECRET "@h:1080",
		"socks5://u:" SECRET "@h:1080\n",
		"socks5://u:" SECRET "@h:1080\r\n",
	};
	char big[URL_FILE_MAX + 2];
	struct proxy_url u;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		why = "unset";
		assert_int_equal(url_parse_file(ok[i], strlen(ok[i]), &u, &why), 0);
		assert_string_equal(u.pass, SECRET);
		assert_string_equal(u.host, "h");
		url_clear(&u);
	}
	FILE_BAD("", "empty file");
	FILE_BAD("\n", "empty file");
	FILE_BAD("socks5://u:" SECRET "@h:1080\n\n", "more than one line");
	FILE_BAD("socks5://u:" SECRET "@h:1080\nsocks5://h:1", "more than one line");
	FILE_BAD("# comment\nsocks5://h:1", "more than one line");
	FILE_BAD("socks5://u:" SECRET "\0@h:1080", "NUL byte");
	FILE_BAD(" socks5://u:" SECRET "@h:1080", "control character");
	FILE_BAD("socks5://u:" SECRET "@h:1080 \n", "control character");
	FILE_BAD("socks5://u:" SECRET "@h\n", "missing port");
	/* at the bound: a URL of URL_MAX bytes and a line end fit, one more does not */
	memset(big, '0', sizeof(big));
	memcpy(big, "socks5://h:", 11);
	memcpy(big + URL_MAX - 4, "1080\r\n", 6);
	assert_int_equal(url_parse_file(big, URL_FILE_MAX, &u, &why), 0);
	assert_int_equal(u.port, 1080);
	file_bad(big, URL_FILE_MAX + 1, "file longer than");
}

static void hide(const char *in, const char *want, bool hidden)
{
	char buf[256];
	struct proxy_url u;

	snprintf(buf, sizeof(buf), "%s", in);
	parse_ok(buf, &u);
	assert_int_equal(url_hide_password(buf), hidden);
	assert_string_equal(buf, want);
	assert_null(strstr(buf, SECRET));
	url_clear(&u);
}

static void test_hide_password(void **state)
{
	(void)state;
	hide("socks5://alice:" SECRET "@h:1080", "socks5://alice:******@h:1080", true);
	hide("http://alice:" SECRET "@[2001:db8::1]:8080/",
	     "http://alice:******@[2001:db8::1]:8080/", true);
	/* the password may hold ':' and an encoded '@'; the last raw '@' ends it */
	hide("socks5://a:" SECRET ":x%40y@h:1", "socks5://a:************@h:1", true);
	hide("socks5://a%3Ab:" SECRET "@h:1", "socks5://a%3Ab:******@h:1", true);
	hide("socks5://alice@h:1080", "socks5://alice@h:1080", false);
	hide("socks5://alice:@h:1080", "socks5://alice:@h:1080", false);
	hide("socks5://h:1080", "socks5://h:1080", false);
}

static void test_scheme_name(void **state)
{
	(void)state;
	assert_string_equal(url_scheme_name(PROXY_SOCKS5), "socks5");
	assert_string_equal(url_scheme_name(PROXY_HTTP), "http");
}

static void test_resolve_v4(void **state)
{
	struct proxy_url u;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	socklen_t len = 0;

	(void)state;
	parse_ok("socks5://192.0.2.7:1080", &u);
	assert_int_equal(url_resolve(&u, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(sin->sin_port), 1080);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000207);
}

static void test_resolve_v6(void **state)
{
	struct proxy_url u;
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct in6_addr want;
	socklen_t len = 0;

	(void)state;
	parse_ok("http://[2001:db8::1]:8080", &u);
	assert_int_equal(url_resolve(&u, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(sin6->sin6_port), 8080);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &want), 1);
	assert_memory_equal(&sin6->sin6_addr, &want, sizeof(want));
}

static void test_resolve_localhost(void **state)
{
	struct proxy_url u;
	struct sockaddr_storage ss;
	socklen_t len = 0;

	(void)state;
	parse_ok("socks5://localhost:9050", &u);
	assert_int_equal(url_resolve(&u, &ss, &len), 0);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		assert_int_equal(len, sizeof(*sin));
		assert_int_equal(ntohs(sin->sin_port), 9050);
		assert_int_equal(ntohl(sin->sin_addr.s_addr) >> 24, 127);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		assert_int_equal(ss.ss_family, AF_INET6);
		assert_int_equal(len, sizeof(*sin6));
		assert_int_equal(ntohs(sin6->sin6_port), 9050);
		assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	}
}

static void test_resolve_missing(void **state)
{
	struct proxy_url u;
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int ret;

	(void)state;
	/* RFC 6761: .invalid never resolves; offline boxes may say EAGAIN. */
	parse_ok("socks5://no-such-host.invalid:1080", &u);
	ret = url_resolve(&u, &ss, &len);
	assert_true(ret == -ENOENT || ret == -EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socks5_plain),
		cmocka_unit_test(test_schemes),
		cmocka_unit_test(test_trailing_slash),
		cmocka_unit_test(test_host_names),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_percent_decoding),
		cmocka_unit_test(test_url_clear),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_null_and_why),
		cmocka_unit_test(test_host_length),
		cmocka_unit_test(test_cred_length),
		cmocka_unit_test(test_url_length),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_hide_password),
		cmocka_unit_test(test_scheme_name),
		cmocka_unit_test(test_resolve_v4),
		cmocka_unit_test(test_resolve_v6),
		cmocka_unit_test(test_resolve_localhost),
		cmocka_unit_test(test_resolve_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
