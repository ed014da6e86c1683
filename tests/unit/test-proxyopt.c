// SPDX-License-Identifier: GPL-2.0-only
/*
 * proxyopt.c, the proxy URL's sources: every way a URL can be refused
 * (malformed in --proxy, in PROXYVPN_PROXY, in a --proxy-file; the file's
 * own refusals: symlink, mode, owner, type, size; both options) logs one
 * line with no trace of the password; an accepted --proxy has its password
 * overwritten in argv, with the warning; the environment's copy is wiped
 * and unset; a password held makes the process non-dumpable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "proxyopt.h"

#define PW "S3cretPW"

/* URLs url_parse refuses, each carrying the password somewhere. */
static const char *const bad_urls[] = {
	"alice:" PW "@proxy:1080",		  /* no scheme */
	"socks5://alice:" PW,			  /* no '@': read as host:port */
	"socks5://alice:" PW "@",		  /* no host */
	"socks5://alice:" PW "@host",		  /* no port */
	"socks5://alice:" PW "@host:0",		  /* port out of range */
	"socks5://alice:" PW "@host:99999",	  /* port out of range */
	"ftp://alice:" PW "@host:21",		  /* unknown scheme */
	"socks5://alice:" PW "@ho_st!:1",	  /* bad host character */
	"socks5://alice:" PW "%zz@host:1",	  /* bad percent-encoding */
	"socks5://alice:" PW "%00@host:1",	  /* encoded NUL */
	"socks5://alice:" PW "@[::1:1",		  /* unbalanced brackets */
	"socks5://alice:" PW "@[zz]:1",		  /* not an IPv6 address */
	"socks5://alice:" PW "@host:1:2",	  /* IPv6 without brackets */
	"socks5://alice:" PW "/x@host:1",	  /* raw '/' in the password */
	"socks5://alice:" PW "@host:1/path",	  /* a path */
	"socks5://alice:" PW "@host:1?q",	  /* a query */
	"socks5://:" PW "@host:1",		  /* empty user name */
	"socks5://alice:" PW " @host:1",	  /* a space */
	"socks5://alice:" PW "@host:1\x7f",	  /* a control character */
	"socks5://alice:" PW "@[2001:db8::1]x:1", /* junk after ']' */
};

static char logbuf[8192];

/* Runs proxy_opt_load with stderr into logbuf. */
static int load_captured(const char *file, char *arg, struct proxy_url *u)
{
	FILE *f = tmpfile();
	int saved, ret;
	size_t n;

	assert_non_null(f);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), 2) == 2);
	ret = proxy_opt_load(file, arg, u);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(logbuf, 1, sizeof(logbuf) - 1, f);
	logbuf[n] = '\0';
	fclose(f);
	return ret;
}

/* One line logged, naming the source, and nothing of the password in it. */
static void assert_refused(int ret, const struct proxy_url *u, const char *what)
{
	if (ret != -1)
		fail_msg("%s: accepted", what);
	if (strstr(logbuf, PW) || strstr(logbuf, "S3cret") || strstr(logbuf, "cretPW"))
		fail_msg("%s: the password is in the message: %s", what, logbuf);
	if (!strchr(logbuf, '\n') || strchr(logbuf, '\n')[1] != '\0')
		fail_msg("%s: want one line, got: %s", what, logbuf);
	assert_false(u->has_auth);
	assert_int_equal(u->pass[0], 0);
}

static char dir[] = "/tmp/test-proxyopt.XXXXXX";

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	log_level = LOG_LVL_WARN;
	unsetenv(PROXY_ENV);
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_bad_url_every_source(void **state)
{
	char arg[256], path[64], what[300];
	struct proxy_url u;
	size_t i;

	(void)state;
	snprintf(path, sizeof(path), "%s/url", dir);
	for (i = 0; i < sizeof(bad_urls) / sizeof(bad_urls[0]); i++) {
		snprintf(arg, sizeof(arg), "%s", bad_urls[i]);
		snprintf(what, sizeof(what), "--proxy %s", bad_urls[i]);
		assert_refused(load_captured(NULL, arg, &u), &u, what);
		assert_non_null(strstr(logbuf, "invalid proxy URL (--proxy)"));

		setenv(PROXY_ENV, bad_urls[i], 1);
		snprintf(what, sizeof(what), "%s=%s", PROXY_ENV, bad_urls[i]);
		assert_refused(load_captured(NULL, NULL, &u), &u, what);
		assert_non_null(strstr(logbuf, "(" PROXY_ENV ")"));
		assert_null(getenv(PROXY_ENV)); /* unset even when refused */

		write_file(path, bad_urls[i], strlen(bad_urls[i]), 0600);
		snprintf(what, sizeof(what), "--proxy-file with %s", bad_urls[i]);
		assert_refused(load_captured(path, NULL, &u), &u, what);
		assert_non_null(strstr(logbuf, "(--proxy-file)"));
	}
	/* the length limits: a password over 255 bytes, a URL over 2048 */
	{
		char lng[URL_MAX + 64];

		memset(lng, 'p', sizeof(lng));
		memcpy(lng, "socks5://u:" PW, strlen("socks5://u:" PW));
		memcpy(lng + 280, "@h:1", 5);
		assert_refused(load_captured(NULL, lng, &u), &u, "--proxy, password too long");
		lng[280] = 'p';
		memcpy(lng + URL_MAX + 10, "@h:1", 5);
		assert_refused(load_captured(NULL, lng, &u), &u, "--proxy, URL too long");
	}
}

static void test_file_refusals(void **state)
{
	static const char url[] = "socks5://alice:" PW "@127.0.0.1:1080\n";
	char path[64], link[64], big[URL_FILE_MAX + 8];
	struct proxy_url u;

	(void)state;
	snprintf(path, sizeof(path), "%s/p", dir);
	snprintf(link, sizeof(link), "%s/l", dir);
	write_file(path, url, strlen(url), 0600);
	assert_int_equal(load_captured(path, NULL, &u), 0);
	assert_string_equal(u.pass, PW);
	url_clear(&u);
	/* readable, or only writable, by group or others */
	write_file(path, url, strlen(url), 0640);
	assert_refused(load_captured(path, NULL, &u), &u, "mode 0640");
	assert_non_null(strstr(logbuf, "open to group or others"));
	write_file(path, url, strlen(url), 0604);
	assert_refused(load_captured(path, NULL, &u), &u, "mode 0604");
	write_file(path, url, strlen(url), 0620);
	assert_refused(load_captured(path, NULL, &u), &u, "mode 0620");
	/* a symlink to a good file */
	write_file(path, url, strlen(url), 0600);
	unlink(link);
	assert_int_equal(symlink(path, link), 0);
	assert_refused(load_captured(link, NULL, &u), &u, "symlink");
	assert_non_null(strstr(logbuf, "symbolic link"));
	/* not a regular file */
	assert_refused(load_captured(dir, NULL, &u), &u, "directory");
	assert_refused(load_captured("/dev/null", NULL, &u), &u, "/dev/null");
	/* longer than any URL */
	memset(big, 'a', sizeof(big));
	write_file(path, big, sizeof(big), 0600);
	assert_refused(load_captured(path, NULL, &u), &u, "large file");
	/* missing */
	assert_refused(load_captured("/nonexistent/proxy", NULL, &u), &u, "missing file");
	/* owned by someone else (root only: chown) */
	if (geteuid() == 0) {
		write_file(path, url, strlen(url), 0600);
		assert_int_equal(chown(path, 12345, 12345), 0);
		assert_refused(load_captured(path, NULL, &u), &u, "another owner");
		assert_non_null(strstr(logbuf, "owned by another user"));
		/* and not followed by root's real uid either: ours or root's only */
		assert_int_equal(chown(path, 0, 0), 0);
		assert_int_equal(load_captured(path, NULL, &u), 0);
		url_clear(&u);
	}
	/* both sources */
	assert_refused(load_captured(path, (char[]){ "socks5://h:1" }, &u), &u, "both");
}

static void test_argv_hidden(void **state)
{
	char arg[] = "socks5://alice:" PW "@127.0.0.1:1080";
	struct proxy_url u;

	(void)state;
	prctl(PR_SET_DUMPABLE, 1UL, 0UL, 0UL, 0UL);
	assert_int_equal(load_captured(NULL, arg, &u), 0);
	assert_string_equal(u.pass, PW);
	assert_string_equal(arg, "socks5://alice:********@127.0.0.1:1080");
	assert_non_null(strstr(logbuf, "--proxy-file FILE or " PROXY_ENV));
	assert_null(strstr(logbuf, PW));
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL), 0);
	url_clear(&u);
	/* a user name alone: nothing to hide, no warning */
	assert_int_equal(load_captured(NULL, (char[]){ "socks5://alice@h:1" }, &u), 0);
	assert_string_equal(logbuf, "");
	/* no credentials: dumpable as before */
	prctl(PR_SET_DUMPABLE, 1UL, 0UL, 0UL, 0UL);
	assert_int_equal(load_captured(NULL, (char[]){ "socks5://h:1" }, &u), 0);
	assert_string_equal(logbuf, "");
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL), 1);
}

static void test_env(void **state)
{
	char *v;
	struct proxy_url u;

	(void)state;
	prctl(PR_SET_DUMPABLE, 1UL, 0UL, 0UL, 0UL);
	setenv(PROXY_ENV, "http://bob:" PW "@[2001:db8::1]:3128", 1);
	v = getenv(PROXY_ENV);
	assert_int_equal(load_captured(NULL, NULL, &u), 0);
	assert_string_equal(u.pass, PW);
	assert_string_equal(u.host, "2001:db8::1");
	assert_int_equal(u.port, 3128);
	assert_null(getenv(PROXY_ENV));
	assert_int_equal(v[0], '\0'); /* the environment's bytes wiped too */
	assert_string_equal(logbuf, "");
	assert_int_equal(prctl(PR_GET_DUMPABLE, 0UL, 0UL, 0UL, 0UL), 0);
	url_clear(&u);
	/* --proxy wins over the environment, which is still wiped */
	setenv(PROXY_ENV, "socks5://e:" PW "@h:1", 1);
	assert_int_equal(load_captured(NULL, (char[]){ "socks5://127.0.0.1:9" }, &u), 0);
	assert_int_equal(u.port, 9);
	assert_null(getenv(PROXY_ENV));
	/* none at all: the default */
	assert_int_equal(load_captured(NULL, NULL, &u), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 1080);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_url_every_source),
		cmocka_unit_test(test_file_refusals),
		cmocka_unit_test(test_argv_hidden),
		cmocka_unit_test(test_env),
	};

	return cmocka_run_group_tests_name("proxyopt", tests, setup, teardown);
}
