// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket's file in the state directory (see ctl-sock.h): made
 * by `up` before the engine starts, listened on by `up`'s parent (which
 * hands the engine each connection it lets through), removed at teardown,
 * and asked by `status`. Every path goes through the
 * directory's fd, so nothing outside it is followed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl-proto.h"
#include "ctl-sock.h"
#include "loop.h"

static int dir_path(int dirfd, char *out, size_t len)
{
	/* the dir's own path could be long or changed: go through its fd */
	int n = snprintf(out, len, "/proc/self/fd/%d/%s", dirfd, CTL_SOCK);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void ctl_unlink(int dirfd)
{
	struct stat st;

	if (fstatat(dirfd, CTL_SOCK, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode))
		unlinkat(dirfd, CTL_SOCK, 0);
}

int ctl_listen(int dirfd, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *step = "socket";
	mode_t old;
	int fd, ret;

	ret = dir_path(dirfd, sa.sun_path, sizeof(sa.sun_path));
	if (ret < 0) {
		snprintf(err, errlen, "control socket path: %s", strerror(-ret));
		return ret;
	}
	/* the lock is ours: anything named ctl is a dead run's */
	if (unlinkat(dirfd, CTL_SOCK, 0) < 0 && errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "removing a stale control socket: %s", strerror(-ret));
		return ret;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	step = "bind";
	old = umask(0177); /* the socket file is made 0600 */
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0)
		goto fail;
	step = "listen";
	if (listen(fd, CTL_MAX_CLIENTS) < 0)
		goto fail_unlink;
	return fd;
fail_unlink:
	ret = -errno;
	unlinkat(dirfd, CTL_SOCK, 0);
	errno = -ret;
fail:
	ret = -errno;
	if (fd >= 0)
		close(fd);
	snprintf(err, errlen, "control socket: %s: %s", step, strerror(-ret));
	return ret;
}

/* ---- the client ---- */

static int wait_fd(int fd, short ev, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = ev };
	uint64_t now = loop_clock_ms();
	int ret;

	if (now >= deadline)
		return -ETIMEDOUT;
	ret = poll(&p, 1, (int)(deadline - now));
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	return ret == 0 ? -ETIMEDOUT : 0;
}

int ctl_accept(int lfd, uid_t owner, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	*uid = (uid_t)-1;
	if (fd < 0)
		return errno == EINTR || errno == ECONNABORTED ? -EAGAIN : -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof(cr)) {
		close(fd);
		return -EACCES;
	}
	*uid = cr.uid;
	if (cr.uid != 0 && cr.uid != owner) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

ssize_t ctl_query(int dirfd, const char *req, char *out, size_t cap, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t deadline = loop_clock_ms() + (uint64_t)timeout_ms;
	size_t len = 0, reqlen = strlen(req), sent = 0;
	int fd, ret;

	if (cap < 1)
		return -EINVAL;
	ret = dir_path(dirfd, sa.sun_path, sizeof(sa.sun_path));
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a unix connect never waits for the server's accept */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	while (sent < reqlen) {
		ssize_t n;

		ret = wait_fd(fd, POLLOUT, deadline);
		if (ret < 0)
			goto out;
		n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ret = errno == EPIPE ? -ECONNRESET : -errno;
			goto out;
		}
		sent += (size_t)n;
	}
	for (;;) {
		ssize_t n;

		ret = wait_fd(fd, POLLIN, deadline);
		if (ret < 0)
			goto out;
		n = recv(fd, out + len, cap - 1 - len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap - 1) {
			ret = -EMSGSIZE;
			goto out;
		}
	}
	ret = len ? 0 : -ECONNRESET;
out:
	close(fd);
	out[ret < 0 ? 0 : len] = '\0';
	return ret < 0 ? ret : (ssize_t)len;
}
