// SPDX-License-Identifier: GPL-2.0-only
/*
 * localproxy.c: the policy (which owner is safe to exclude), the log line,
 * cgroup path resolution, and detection against real sockets: an address
 * that is not this host's, a local port nobody listens on, and a listener
 * held by a child process (as this uid: found with its pid and name; as a
 * system uid when root: excluded by uid). Peers need a second network
 * namespace: e2e uplocal covers them (ssh -D).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "localproxy.h"

static void test_policy(void **state)
{
	(void)state;
	assert_false(localproxy_system_uid(0));
	assert_true(localproxy_system_uid(1));
	assert_true(localproxy_system_uid(LP_SYS_UID_MAX));
	assert_false(localproxy_system_uid(LP_SYS_UID_MAX + 1));
	assert_false(localproxy_system_uid(65534));

	assert_true(localproxy_service_cgroup("/system.slice/tor@default.service"));
	assert_true(
		localproxy_service_cgroup("/system.slice/system-autossh.slice/autossh@b.service"));
	assert_false(localproxy_service_cgroup("/system.slice"));
	assert_false(localproxy_service_cgroup("/system.slice/"));
	assert_false(localproxy_service_cgroup("/system.slice/.service"));
	assert_false(localproxy_service_cgroup("/system.slice/cron.scope"));
	assert_false(localproxy_service_cgroup("/user.slice/user-1000.slice/user@1000.service/"
					       "app.slice/ssh.service"));
	assert_false(localproxy_service_cgroup("/user.slice/user-1000.slice/session-3.scope"));
	assert_false(localproxy_service_cgroup("/system.slice/../user.slice/x.service"));
	assert_false(localproxy_service_cgroup("system.slice/tor.service"));
	assert_false(localproxy_service_cgroup("/"));
	assert_false(localproxy_service_cgroup(""));
	assert_false(localproxy_service_cgroup(NULL));

	/* a system user first, then a service, then peers; a login user or root alone: unsafe */
	assert_int_equal(localproxy_decide(105, "/", 0), LP_UID);
	assert_int_equal(localproxy_decide(105, "/system.slice/tor.service", 3), LP_UID);
	assert_int_equal(localproxy_decide(0, "/system.slice/autossh.service", 1), LP_CGROUP);
	assert_int_equal(localproxy_decide(1000, "/user.slice/user-1000.slice/session-2.scope", 1),
			 LP_PEERS);
	assert_int_equal(localproxy_decide(0, NULL, 1), LP_PEERS);
	assert_int_equal(localproxy_decide(0, "", 0), LP_UNSAFE);
	assert_int_equal(localproxy_decide(1000, "/user.slice", 0), LP_UNSAFE);
	assert_int_equal(localproxy_decide(65534, NULL, 0), LP_UNSAFE);
}

static void test_describe(void **state)
{
	struct localproxy lp = { .how = LP_PEERS, .uid = 0, .pid = 42, .comm = "ssh", .npeer = 2 };
	char buf[1024];

	(void)state;
	lp.peer[0].family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", lp.peer[0].addr);
	lp.peer[0].port = 22;
	lp.peer[1].family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", lp.peer[1].addr);
	lp.peer[1].port = 2222;
	localproxy_describe(&lp, "127.0.0.1:1080", buf, sizeof(buf));
	assert_string_equal(buf, "the proxy 127.0.0.1:1080 runs on this host (ssh, pid 42, uid 0): "
				 "its connections to 192.0.2.1:22, [2001:db8::1]:2222 are kept out "
				 "of the tunnel (new ones it makes are not)");
	lp.how = LP_UID;
	lp.uid = 105;
	localproxy_describe(&lp, "127.0.0.1:9050", buf, sizeof(buf));
	assert_non_null(
		strstr(buf, "traffic of uid 105 (a system user) is kept out of the tunnel"));
	lp.how = LP_CGROUP;
	strcpy(lp.cgroup, "/system.slice/tor.service");
	localproxy_describe(&lp, "127.0.0.1:9050", buf, sizeof(buf));
	assert_non_null(strstr(buf, "its cgroup /system.slice/tor.service (a system service)"));
	lp.how = LP_UNSAFE;
	lp.pid = 0;
	lp.uid = 1000;
	localproxy_describe(&lp, "[::1]:1080", buf, sizeof(buf));
	assert_non_null(strstr(buf, "the proxy [::1]:1080 runs on this host (uid 1000)"));
	assert_non_null(strstr(buf, "--exclude-uid"));
	assert_non_null(strstr(buf, "--exclude-cgroup"));
	lp.how = LP_NOT_LISTENING;
	localproxy_describe(&lp, "127.0.0.1:1080", buf, sizeof(buf));
	assert_non_null(strstr(buf, "nothing listens at the proxy 127.0.0.1:1080"));
	/* a short buffer is cut, never overrun */
	localproxy_describe(&lp, "127.0.0.1:1080", buf, 8);
	assert_int_equal(strlen(buf), 7);
}

static void test_cgroup(void **state)
{
	static const char *const bad[] = { "",	  "/",	  "a//b",    "../x", "a/./b",
					   "a b", "a\"b", "a\\x2db", "a/" };
	struct fw_cgroup g;
	const char *why = NULL;
	char dir[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		assert_int_equal(localproxy_cgroup(bad[i], &g, &why), -EINVAL);
		assert_non_null(why);
	}
	why = NULL;
	assert_true(localproxy_cgroup("pvtest-no-such-cgroup", &g, &why) == -ENOENT);
	assert_non_null(why);
	/* a real one, when a v2 hierarchy is mounted where nft looks and we may make one */
	for (int i = 0; i < 2; i++) {
		const char *under = i ? "unified" : "";

		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%scgroup.controllers", under,
			 i ? "/" : "");
		if (access(dir, F_OK) != 0)
			continue;
		snprintf(dir, sizeof(dir), "/sys/fs/cgroup/%s%spvtest-lp-%d", under, i ? "/" : "",
			 (int)getpid());
		if (mkdir(dir, 0755) != 0)
			skip();
		snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/sub");
		assert_int_equal(mkdir(dir, 0755), 0);
		{
			char p[64];

			snprintf(p, sizeof(p), "/pvtest-lp-%d/sub", (int)getpid());
			assert_int_equal(localproxy_cgroup(p, &g, &why), 0);
			assert_string_equal(g.path, p + 1);
			assert_string_equal(g.under, under);
			assert_int_equal(g.level, 2);
		}
		rmdir(dir);
		*strrchr(dir, '/') = '\0';
		rmdir(dir);
		return;
	}
	skip();
}

/* A child listening on 127.0.0.1 (port in *port) as uid, until killed. */
static pid_t listener(uid_t uid, uint16_t *port)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t alen = sizeof(a);
		int l;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, "pvtestlisten");
		if (uid != getuid() && (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
					setresuid(uid, uid, uid) < 0))
			_exit(1);
		l = socket(AF_INET, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 1) < 0 ||
		    getsockname(l, (struct sockaddr *)&a, &alen) < 0)
			_exit(1);
		if (write(p[1], &a.sin_port, 2) != 2)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], port, 2), 2);
	close(p[0]);
	*port = ntohs(*port);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_detect(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct localproxy lp;
	uint16_t port;
	pid_t pid;

	(void)state;
	/* not this host's address */
	inet_pton(AF_INET, "192.0.2.99", &a.sin_addr);
	a.sin_port = htons(1080);
	assert_int_equal(localproxy_detect((struct sockaddr *)&a, &lp), 0);
	assert_int_equal(lp.how, LP_REMOTE);

	/* this host, nothing listening (the child's port once it is gone) */
	pid = listener(getuid(), &port);
	stop(pid);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	a.sin_port = htons(port);
	assert_int_equal(localproxy_detect((struct sockaddr *)&a, &lp), 0);
	assert_int_equal(lp.how, LP_NOT_LISTENING);

	/* a listener of ours: found with its process; no connection out */
	pid = listener(getuid(), &port);
	a.sin_port = htons(port);
	assert_int_equal(localproxy_detect((struct sockaddr *)&a, &lp), 0);
	assert_int_equal(lp.uid, getuid());
	assert_int_equal(lp.pid, pid);
	assert_string_equal(lp.comm, "pvtestlisten");
	assert_int_equal(lp.npeer, 0);
	assert_int_equal(lp.how, localproxy_system_uid(getuid()) ? LP_UID : LP_UNSAFE);
	stop(pid);

	/* as a system uid (root only): its uid is excluded */
	if (geteuid() != 0)
		skip();
	pid = listener(150, &port);
	a.sin_port = htons(port);
	assert_int_equal(localproxy_detect((struct sockaddr *)&a, &lp), 0);
	assert_int_equal(lp.how, LP_UID);
	assert_int_equal(lp.uid, 150);
	assert_int_equal(lp.pid, pid);
	stop(pid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_cgroup),
		cmocka_unit_test(test_detect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
