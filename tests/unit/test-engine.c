// SPDX-License-Identifier: GPL-2.0-only
/*
 * Teardown is safe after a failure at any step: the engine, the group, the
 * control server and the workers, torn down untouched, after a failed
 * start and twice, close no fd they did not open (0-2 stay open) and leak
 * nothing (LeakSanitizer). engine_init's last step is made to fail by
 * handing it a TUN fd epoll refuses (a regular file).
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
#include <unistd.h>

#include "ctl.h"
#include "engine.h"
#include "group.h"
#include "loop.h"
#include "url.h"
#include "workers.h"

static struct proxy_url url;

static void std_fds_open(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		assert_true(fcntl(fd, F_GETFD) >= 0);
}

/* An fd epoll refuses (EPERM): a regular file. */
static int file_fd(void)
{
	char path[] = "/tmp/test-engine.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 3);
	unlink(path);
	return fd;
}

static void cfg(struct engine_cfg *c, enum engine_dns dns, enum engine_udp udp)
{
	const char *why;

	assert_int_equal(url_parse("socks5://127.0.0.1:9", &url, &why), 0);
	*c = (struct engine_cfg){ .proxy = &url, .mtu = 1500, .dns = dns, .udp = udp };
	assert_int_equal(url_resolve(&url, &c->proxy_addr, &c->proxy_addrlen), 0);
	dnspool_cfg_default(&c->pool);
}

static void test_untouched(void **state)
{
	struct engine e = ENGINE_INIT;
	struct ctl_server cs = { 0 };
	struct workers ws = { 0 };

	(void)state;
	engine_fini(&e);
	engine_fini(&e);
	ctl_server_fini(&cs);
	workers_stop(&ws, NULL, NULL);
	engine_group_stop(NULL, true);
	std_fds_open();
}

static void test_engine_init_fails_late(void **state)
{
	struct loop l;
	struct engine e = ENGINE_INIT;
	struct engine_cfg c;
	int fd = file_fd();

	(void)state;
	cfg(&c, ENGINE_DNS_VIRTUAL, ENGINE_UDP_PROXY); /* every part built before the TUN */
	assert_int_equal(loop_init(&l), 0);
	assert_int_equal(engine_init(&e, &l, fd, &c), -EPERM);
	assert_int_equal(fcntl(fd, F_GETFD), -1); /* taken over: closed */
	assert_int_equal(e.tun_fd, -1);
	assert_null(e.tcp);
	assert_null(l.idle);
	engine_fini(&e);
	engine_fini(&e);
	loop_fini(&l);
	std_fds_open();
}

static void test_group_start_fails(void **state)
{
	struct loop l;
	struct engine_cfg c;
	struct engine_group *g = (struct engine_group *)&l;
	int fds[3] = { file_fd(), file_fd(), file_fd() };
	struct engine_group_cfg gc = { .ecfg = &c, .tun_fds = fds, .nq = 3, .ctl = true };
	int i;

	(void)state;
	cfg(&c, ENGINE_DNS_BYPASS, ENGINE_UDP_BLOCK);
	assert_int_equal(loop_init(&l), 0);
	assert_int_equal(engine_group_start(&g, &l, &gc), -EPERM);
	assert_null(g);
	for (i = 0; i < 3; i++) /* every fd it was given is closed */
		assert_int_equal(fcntl(fds[i], F_GETFD), -1);
	engine_group_stop(g, false);
	loop_fini(&l);
	std_fds_open();
}

/* A connection the server cannot take (epoll refuses it) is closed; fini twice is safe. */
static void test_ctl_server_fails(void **state)
{
	struct loop l;
	struct engine e = ENGINE_INIT;
	struct engine_cfg c;
	struct ctl_server cs;
	int fd = file_fd();

	(void)state;
	cfg(&c, ENGINE_DNS_BYPASS, ENGINE_UDP_BLOCK);
	assert_int_equal(loop_init(&l), 0);
	ctl_server_init(&cs, &l, &e);
	ctl_server_take(&cs, fd);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(cs.refused, 1);
	ctl_server_fini(&cs);
	ctl_server_fini(&cs);
	loop_fini(&l);
	std_fds_open();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untouched),
		cmocka_unit_test(test_engine_init_fails_late),
		cmocka_unit_test(test_group_start_fails),
		cmocka_unit_test(test_ctl_server_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
