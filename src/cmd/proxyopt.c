// SPDX-License-Identifier: GPL-2.0-only
/*
 * The proxy URL's sources (see proxyopt.h). The file is checked on the fd
 * we read (fstat), so a rename between the check and the read changes
 * nothing; it is opened without following a final symlink and without
 * blocking (a FIFO is refused, not waited on).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "proxyopt.h"

long proxy_file_read(const char *path, char *buf, size_t cap, const char **why)
{
	struct stat st;
	size_t len = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		*why = ret == -ELOOP ? "a symbolic link (give the file itself)" : strerror(-ret);
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		*why = strerror(-ret);
		goto out;
	}
	ret = -EPERM;
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		goto out;
	}
	if (st.st_uid != getuid() && st.st_uid != 0) {
		*why = "owned by another user (it must be yours or root's)";
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		*why = "open to group or others (chmod 600 it)";
		goto out;
	}
	ret = -EFBIG;
	if ((unsigned long long)st.st_size > cap) {
		*why = "longer than a URL can be";
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			*why = strerror(-ret);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			char c;

			if (read(fd, &c, 1) != 0) { /* it grew since fstat */
				ret = -EFBIG;
				*why = "longer than a URL can be";
				goto out;
			}
			break;
		}
	}
	ret = 0;
out:
	close(fd);
	if (ret < 0)
		explicit_bzero(buf, cap);
	return ret < 0 ? ret : (long)len;
}

/* The environment's copy of the URL: gone from /proc/PID/environ and from what exec passes on. */
static void env_wipe(char *v)
{
	explicit_bzero(v, strlen(v));
	unsetenv(PROXY_ENV);
}

int proxy_opt_load(const char *file, char *arg, struct proxy_url *u)
{
	char buf[URL_FILE_MAX];
	const char *why = NULL, *from;
	char *env = getenv(PROXY_ENV);
	int ret;

	memset(u, 0, sizeof(*u));
	if (file && arg) {
		log_error("--proxy and --proxy-file: give one of them");
		return -1;
	}
	if (file) {
		long n = proxy_file_read(file, buf, sizeof(buf), &why);

		if (n < 0) {
			log_error("--proxy-file `%s': %s", file, why);
			return -1;
		}
		from = "--proxy-file";
		ret = url_parse_file(buf, (size_t)n, u, &why);
		explicit_bzero(buf, sizeof(buf));
	} else if (arg) {
		from = "--proxy";
		ret = url_parse(arg, u, &why);
	} else if (env && *env) {
		from = PROXY_ENV;
		ret = url_parse(env, u, &why);
	} else {
		from = "the default";
		ret = url_parse(PROXY_URL_DEFAULT, u, &why);
	}
	if (env)
		env_wipe(env);
	if (ret < 0) {
		/* The URL itself is never echoed: it may hold a password. */
		log_error("invalid proxy URL (%s): %s", from, why);
		return -1;
	}
	if (!u->has_auth)
		return 0;
	if (arg && url_hide_password(arg))
		log_warnx("the proxy password was on the command line, where every local user "
			  "can read it (ps): now hidden, but use --proxy-file FILE or %s",
			  PROXY_ENV);
	/*
	 * No core dump, and no /proc/PID/mem or environ for other processes
	 * of our uid (exec's command): the password is in our memory.
	 */
	if (prctl(PR_SET_DUMPABLE, 0UL, 0UL, 0UL, 0UL) < 0)
		log_warn("cannot make the process non-dumpable");
	return 0;
}
