// SPDX-License-Identifier: GPL-2.0-only
/*
 * Readiness for service managers and scripts (notify.h). The sd_notify
 * protocol is one datagram of newline-separated KEY=VALUE lines to the unix
 * socket named by $NOTIFY_SOCKET (sd_notify(3)); writing it ourselves keeps
 * libsystemd out of a privileged process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

int notify_addr(const char *s, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n;

	if (!s || !*s)
		return -ENOENT;
	n = strlen(s);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (s[0] == '@') {
		/* abstract: a leading NUL instead of the @, no trailing NUL */
		if (n < 2 || n > sizeof(sa->sun_path))
			return -EINVAL;
		memcpy(sa->sun_path + 1, s + 1, n - 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
		return 0;
	}
	if (s[0] != '/' || n >= sizeof(sa->sun_path))
		return -EINVAL;
	memcpy(sa->sun_path, s, n);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

int notify_send(const char *state)
{
	struct sockaddr_un sa;
	socklen_t len;
	ssize_t n;
	int fd, ret;

	ret = notify_addr(getenv("NOTIFY_SOCKET"), &sa, &len);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, len);
	ret = n < 0 ? -errno : 0;
	close(fd);
	return ret;
}

int notify_fd_check(int fd)
{
	int fl;

	if (fd < 0)
		return -EBADF;
	fl = fcntl(fd, F_GETFD);
	if (fl < 0)
		return -errno;
	if (fd > 2 && fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

int notify_fd_ready(int fd)
{
	static const char line[] = "ready\n";
	ssize_t n;
	int ret;

	do
		n = write(fd, line, sizeof(line) - 1);
	while (n < 0 && errno == EINTR);
	ret = n == (ssize_t)sizeof(line) - 1 ? 0 : n < 0 ? -errno : -EIO;
	if (fd > 2)
		close(fd);
	return ret;
}
