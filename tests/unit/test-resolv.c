// SPDX-License-Identifier: GPL-2.0-only
/*
 * resolv.c: nameserver lines of every shape (tabs, CRLF, comments, scoped
 * IPv6, a last line without newline, words too long, NUL bytes), loopback
 * left out but counted, the list bounded, and resolv_read on real files
 * (missing, empty, one larger than RESOLV_FILE_MAX whose cut line is dropped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolv.h"

static int parse(const char *s, struct fw_net *out, size_t max, size_t *n)
{
	*n = 0;
	return resolv_parse(s, strlen(s), out, max, n);
}

static void assert_addr(const struct fw_net *x, const char *want)
{
	char got[FW_NET_STRLEN];

	assert_int_equal(fw_net_str(x, got, sizeof(got)), 0);
	assert_string_equal(got, want);
}

static void test_lines(void **state)
{
	struct fw_net out[8];
	size_t n;

	(void)state;
	assert_int_equal(parse("nameserver 192.0.2.1\n", out, 8, &n), 1);
	assert_int_equal(n, 1);
	assert_addr(&out[0], "192.0.2.1");
	assert_int_equal(parse("# comment\n"
			       "search example.org\n"
			       "  nameserver\t192.0.2.2  # trailing comment\n"
			       "nameserver 2001:db8::53\r\n"
			       "nameserver fe80::1%eth0\n"
			       "options edns0\n"
			       "nameserver 198.51.100.7",
			       out, 8, &n),
			 4);
	assert_int_equal(n, 4);
	assert_addr(&out[0], "192.0.2.2");
	assert_addr(&out[1], "2001:db8::53");
	assert_addr(&out[2], "fe80::1");
	assert_addr(&out[3], "198.51.100.7"); /* no newline at the end */
	/* loopback is allowed anyway: counted, not listed */
	assert_int_equal(parse("nameserver 127.0.0.53\nnameserver ::1\n", out, 8, &n), 2);
	assert_int_equal(n, 0);
	/* not a nameserver line, or no address word: not counted */
	assert_int_equal(parse("nameserver\n#nameserver 192.0.2.1\nnameservers 192.0.2.1\n"
			       "NAMESERVER 192.0.2.1\nnameserver192.0.2.1\n",
			       out, 8, &n),
			 0);
	assert_int_equal(n, 0);
	/* a nameserver line whose word is no address: counted, not listed */
	assert_int_equal(parse("nameserver dns.example\nnameserver 192.0.2.1#x\n"
			       "nameserver 192.0.2.1/32\nnameserver 10.0.0\n",
			       out, 8, &n),
			 4);
	assert_int_equal(n, 0);
	/* an overlong word (here 200 bytes) is never copied */
	{
		char line[256];

		memset(line, '1', sizeof(line));
		memcpy(line, "nameserver ", 11);
		line[211] = '\0';
		assert_int_equal(parse(line, out, 8, &n), 1);
		assert_int_equal(n, 0);
	}
	/* NUL bytes: a line is cut by newlines only, an address never contains one */
	{
		static const char buf[] = "nameserver 192.0.2.1\0x\nnameserver\0 192.0.2.2\n"
					  "nameserver 192.0.2.3\n";

		n = 0;
		assert_int_equal(resolv_parse(buf, sizeof(buf) - 1, out, 8, &n), 2);
		assert_int_equal(n, 1);
		assert_addr(&out[0], "192.0.2.3");
	}
	/* bounded: the rest is counted, not stored; *n appends */
	assert_int_equal(parse("nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n",
			       out, 2, &n),
			 3);
	assert_int_equal(n, 2);
	assert_int_equal(resolv_parse("nameserver 192.0.2.9\n", 21, out, 8, &n), 1);
	assert_int_equal(n, 3);
	assert_addr(&out[2], "192.0.2.9");
	assert_int_equal(parse("", out, 8, &n), 0);
}

static void test_read(void **state)
{
	char path[] = "/tmp/test-resolv.XXXXXX";
	struct fw_net out[4];
	size_t n = 0, len;
	char *big;
	int fd;

	(void)state;
	assert_int_equal(resolv_read("/nonexistent/resolv.conf", out, 4, &n), -ENOENT);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(resolv_read(path, out, 4, &n), 0);
	assert_int_equal(n, 0);
	/* past RESOLV_FILE_MAX: the whole lines before the cut count, the cut one not */
	len = RESOLV_FILE_MAX + 100;
	big = malloc(len);
	assert_non_null(big);
	memset(big, '#', len);
	memcpy(big, "nameserver 192.0.2.1\n", 21);
	big[RESOLV_FILE_MAX - 44] = '\n';
	memcpy(big + RESOLV_FILE_MAX - 43, "nameserver 192.0.2.222\n", 23);
	/* read up to "192.0.2.3": taken as such if the cut line were not dropped */
	memcpy(big + RESOLV_FILE_MAX - 20, "nameserver 192.0.2.33", 21);
	big[len - 1] = '\n';
	assert_int_equal(write(fd, big, len), (ssize_t)len);
	n = 0;
	assert_int_equal(resolv_read(path, out, 4, &n), 2);
	assert_int_equal(n, 2);
	assert_addr(&out[0], "192.0.2.1");
	assert_addr(&out[1], "192.0.2.222");
	free(big);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
