// SPDX-License-Identifier: GPL-2.0-only
/*
 * hostconf.c: the namespace's resolv.conf (which host lines survive, limits,
 * no room), nsswitch.conf's hosts: line as Debian, Ubuntu, Fedora and Arch
 * ship it (services with their [STATUS=action] groups, dns kept or added,
 * other lines untouched, glibc's separators) and D-Bus address lists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hostconf.h"

#define HEAD "# written by proxyvpn exec: DNS is answered by proxyvpn\nnameserver 198.18.0.2\n"

static void resolv_is(const char *in, const char *want)
{
	char out[1024];
	ssize_t n = resolv_rewrite(in, strlen(in), "198.18.0.2", out, sizeof(out));

	assert_int_equal(n, (ssize_t)strlen(want));
	assert_string_equal(out, want);
}

static void test_resolv_keeps_search_options(void **state)
{
	(void)state;
	resolv_is("", HEAD);
	resolv_is("nameserver 10.0.0.1\nnameserver 127.0.0.53\nsearch a.example b.example\n"
		  "options edns0 trust-ad\nsortlist 10.0.0.0/8\n# comment\ndomain corp\n",
		  HEAD "search a.example b.example\noptions edns0 trust-ad\ndomain corp\n");
	/* Tabs separate too; a keyword must be followed by a blank. */
	resolv_is("search\tx.example\nsearchy.example\noptions\n", HEAD "search\tx.example\n");
	/* A last line without '\n' is complete: it gets one. */
	resolv_is("nameserver 1.1.1.1\noptions ndots:2", HEAD "options ndots:2\n");
	/* CRLF files keep their '\r' (glibc reads it as a blank). */
	resolv_is("search a\r\n", HEAD "search a\r\n");
}

static void test_resolv_drops_bad_lines(void **state)
{
	char in[2048], want[1024];
	const char nul[] = "search a\0b\noptions x\n";
	char out[512];
	ssize_t n;

	(void)state;
	/* Longer than RESOLV_LINE_MAX: dropped, the next line kept. */
	memset(in, 0, sizeof(in));
	memcpy(in, "search ", 7);
	memset(in + 7, 'a', RESOLV_LINE_MAX);
	strcat(in, "\noptions rotate\n");
	resolv_is(in, HEAD "options rotate\n");
	/* Exactly RESOLV_LINE_MAX: kept. */
	memset(in, 0, sizeof(in));
	memcpy(in, "search ", 7);
	memset(in + 7, 'b', RESOLV_LINE_MAX - 7);
	strcat(in, "\n");
	snprintf(want, sizeof(want), HEAD "%s", in);
	resolv_is(in, want);
	/* A NUL inside a line drops that line only. */
	n = resolv_rewrite(nul, sizeof(nul) - 1, "198.18.0.2", out, sizeof(out));
	assert_true(n > 0);
	assert_string_equal(out, HEAD "options x\n");
}

static void test_resolv_room(void **state)
{
	char out[sizeof(HEAD) + 12];
	ssize_t n;

	(void)state;
	/* Exactly the header and its NUL. */
	n = resolv_rewrite("search a\n", 9, "198.18.0.2", out, sizeof(HEAD));
	assert_int_equal(n, (ssize_t)strlen(HEAD));
	assert_string_equal(out, HEAD);
	assert_int_equal(resolv_rewrite("", 0, "198.18.0.2", out, sizeof(HEAD) - 1), -ENOSPC);
	/* A line that does not fit is dropped; a shorter one after it is kept. */
	n = resolv_rewrite("search aaaaaaaaaaaaaaaa\nsearch b\n", 33, "198.18.0.2", out,
			   sizeof(out));
	assert_true(n > 0);
	assert_string_equal(out, HEAD "search b\n");
	assert_int_equal(resolv_rewrite("", 0, "", out, sizeof(out)), -EINVAL);
	assert_int_equal(resolv_rewrite("", 0, "1.2.3.4\nnameserver 5.6.7.8", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(resolv_rewrite("", 0, "1.2.3.4 x", out, sizeof(out)), -EINVAL);
}

static void nss_is(const char *in, int want_ret, const char *want, const char *want_dropped)
{
	char out[2048] = "untouched", dropped[128];
	int ret = nsswitch_rewrite(in, strlen(in), out, sizeof(out), dropped, sizeof(dropped));

	if (ret != want_ret)
		fail_msg("nsswitch_rewrite(\"%s\") = %d, want %d", in, ret, want_ret);
	if (want_ret == 1) {
		assert_string_equal(out, want);
		assert_string_equal(dropped, want_dropped);
	} else {
		assert_string_equal(out, "untouched");
	}
}

static void test_nsswitch_distributions(void **state)
{
	(void)state;
	/* Debian's default needs nothing. */
	nss_is("passwd: files systemd\nhosts:          files dns\nnetworks: files\n", 0, NULL,
	       NULL);
	nss_is("hosts: files myhostname dns\n", 0, NULL, NULL);
	/* Ubuntu with nss-mdns: the action group goes with mdns4_minimal. */
	nss_is("passwd: files\nhosts:          files mdns4_minimal [NOTFOUND=return] dns myhostname\n"
	       "networks: files\n",
	       1, "passwd: files\nhosts: files dns myhostname\nnetworks: files\n", "mdns4_minimal");
	/* Fedora with nss-resolve. */
	nss_is("hosts:      files myhostname resolve [!UNAVAIL=return] dns\n", 1,
	       "hosts: files myhostname dns\n", "resolve");
	/* Arch with mymachines; no blank before '['. */
	nss_is("hosts: mymachines resolve[!UNAVAIL=return] files myhostname dns\n", 1,
	       "hosts: files myhostname dns\n", "mymachines resolve");
	/* Without dns, which the dropped resolver stood for: appended. */
	nss_is("hosts: files resolve\n", 1, "hosts: files dns\n", "resolve");
	nss_is("hosts: mdns4 wins\n", 1, "hosts: dns\n", "mdns4 wins");
	/* A kept service's group is kept, spaces inside it too. */
	nss_is("hosts: files [ SUCCESS = return ] sss dns [NOTFOUND=return]\n", 1,
	       "hosts: files [ SUCCESS = return ] dns [NOTFOUND=return]\n", "sss");
}

static void test_nsswitch_grammar(void **state)
{
	(void)state;
	/* glibc: any run of blanks and colons after the name; a leading blank. */
	nss_is("  hosts :: files ldap\n", 1, "hosts: files dns\n", "ldap");
	nss_is("\thosts:\tfiles\tmdns\n", 1, "hosts: files dns\n", "mdns");
	/* Every hosts: line is rewritten (glibc >= 2.33 takes the last one). */
	nss_is("hosts: files dns\nhosts: mdns files\n", 1, "hosts: files dns\nhosts: files dns\n",
	       "mdns");
	/* Only '#' at the start is a comment to glibc: mid-line it is a service. */
	nss_is("#hosts: mdns\nhosts: files dns\n", 0, NULL, NULL);
	nss_is("hosts: files dns # mdns\n", 1, "hosts: files dns\n", "# mdns");
	/* Names are case-sensitive in glibc: HOSTS is another database. */
	nss_is("HOSTS: mdns\nhostsx: mdns\nhost: mdns\n", 0, NULL, NULL);
	/* A group before any service belongs to nothing and goes. */
	nss_is("hosts: [NOTFOUND=return] files mdns\n", 1, "hosts: files dns\n", "mdns");
	/* No trailing newline: one is added to the rewritten file. */
	nss_is("hosts: files mdns", 1, "hosts: files dns\n", "mdns");
	/* Refused: an unclosed group, a NUL, a line too long. */
	nss_is("hosts: files mdns [NOTFOUND=return\n", -EINVAL, NULL, NULL);
	{
		const char nul[] = "passwd: files\0\nhosts: mdns\n";
		char out[64] = "untouched";

		assert_int_equal(nsswitch_rewrite(nul, sizeof(nul) - 1, out, sizeof(out), NULL, 0),
				 -EINVAL);
		assert_string_equal(out, "untouched");
	}
	{
		char in[NSSWITCH_LINE_MAX + 32], out[64];

		memset(in, ' ', sizeof(in));
		memcpy(in, "hosts: mdns", 11);
		in[NSSWITCH_LINE_MAX + 1] = '\n';
		assert_int_equal(
			nsswitch_rewrite(in, NSSWITCH_LINE_MAX + 2, out, sizeof(out), NULL, 0),
			-EINVAL);
		in[NSSWITCH_LINE_MAX] = '\n';
		assert_int_equal(
			nsswitch_rewrite(in, NSSWITCH_LINE_MAX + 1, out, sizeof(out), NULL, 0), 1);
		assert_string_equal(out, "hosts: dns\n");
	}
}

static void test_nsswitch_room(void **state)
{
	const char *in = "passwd: files\nhosts: mdns files\n";
	char out[64], dropped[4];

	(void)state;
	/* Exactly enough: the rewritten file and its NUL. */
	assert_int_equal(nsswitch_rewrite(in, strlen(in), out, 32, NULL, 0), 1);
	assert_string_equal(out, "passwd: files\nhosts: files dns\n");
	assert_int_equal(nsswitch_rewrite(in, strlen(in), out, 31, NULL, 0), -ENOSPC);
	assert_int_equal(nsswitch_rewrite(in, strlen(in), out, 0, NULL, 0), -ENOSPC);
	/* The dropped list is truncated, never overrun. */
	in = "hosts: mdns4_minimal resolve files\n";
	assert_int_equal(
		nsswitch_rewrite(in, strlen(in), out, sizeof(out), dropped, sizeof(dropped)), 1);
	assert_string_equal(dropped, "mdn");
}

static void dbus_paths_are(const char *addr, int want_end, const char *p1, const char *p2)
{
	char path[64];
	size_t pos = 0;

	if (p1) {
		assert_int_equal(dbus_addr_next_path(addr, &pos, path, sizeof(path)), 1);
		assert_string_equal(path, p1);
	}
	if (p2) {
		assert_int_equal(dbus_addr_next_path(addr, &pos, path, sizeof(path)), 1);
		assert_string_equal(path, p2);
	}
	assert_int_equal(dbus_addr_next_path(addr, &pos, path, sizeof(path)), want_end);
}

static void test_dbus_addresses(void **state)
{
	(void)state;
	dbus_paths_are("unix:path=/run/dbus/system_bus_socket", 0, "/run/dbus/system_bus_socket",
		       NULL);
	dbus_paths_are("unix:path=/run/user/1000/bus", 0, "/run/user/1000/bus", NULL);
	/* Abstract sockets and TCP are skipped; lists; the guid key. */
	dbus_paths_are("unix:abstract=/tmp/dbus-x,guid=12;tcp:host=a,port=1;"
		       "unix:guid=3,path=/tmp/b%20c;;unix:path=/d",
		       0, "/tmp/b c", "/d");
	dbus_paths_are("", 0, NULL, NULL);
	dbus_paths_are("unix:", 0, NULL, NULL);
	/* Malformed: no transport, a key without '=', bad escapes, relative, NUL. */
	dbus_paths_are("path=/x", -EINVAL, NULL, NULL);
	dbus_paths_are("unix:path", -EINVAL, NULL, NULL);
	dbus_paths_are("unix:path=/x%2", -EINVAL, NULL, NULL);
	dbus_paths_are("unix:path=/x%zz", -EINVAL, NULL, NULL);
	dbus_paths_are("unix:path=x", -EINVAL, NULL, NULL);
	dbus_paths_are("unix:path=", -EINVAL, NULL, NULL);
	dbus_paths_are("unix:path=/a%00b", -EINVAL, NULL, NULL);
	{
		char path[8];
		size_t pos = 0;

		assert_int_equal(
			dbus_addr_next_path("unix:path=/1234567", &pos, path, sizeof(path)),
			-ENAMETOOLONG);
		pos = 0;
		assert_int_equal(dbus_addr_next_path("unix:path=/123456", &pos, path, sizeof(path)),
				 1);
		assert_string_equal(path, "/123456");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolv_keeps_search_options),
		cmocka_unit_test(test_resolv_drops_bad_lines),
		cmocka_unit_test(test_resolv_room),
		cmocka_unit_test(test_nsswitch_distributions),
		cmocka_unit_test(test_nsswitch_grammar),
		cmocka_unit_test(test_nsswitch_room),
		cmocka_unit_test(test_dbus_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
