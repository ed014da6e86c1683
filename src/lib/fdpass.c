// SPDX-License-Identifier: GPL-2.0-only
/*
 * SCM_RIGHTS over a Unix socket (see fdpass.h). Received fds are always
 * O_CLOEXEC, and none is ever leaked: past the caller's count they are
 * closed, and on any error all of them are.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdpass.h"

/* Room for the most fds a record may bring, aligned for cmsghdr. */
union fdpass_ctl {
	char buf[CMSG_SPACE((FDPASS_MAX_FDS + FDPASS_SPARE) * sizeof(int))];
	struct cmsghdr align;
};

int fd_sendmsg(int sock, const struct iovec *iov, size_t niov, const int *fds, unsigned int nfds)
{
	union fdpass_ctl ctl;
	struct msghdr mh = { .msg_iov = (struct iovec *)(uintptr_t)iov, .msg_iovlen = niov };
	struct cmsghdr *cm;
	size_t len = 0, i;
	ssize_t n;

	if (nfds > FDPASS_MAX_FDS)
		return -EINVAL;
	for (i = 0; i < niov; i++)
		len += iov[i].iov_len;
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Keeps the first maxfds fds of every SCM_RIGHTS in fds, closes the rest; returns how many came. */
static unsigned int take_fds(struct msghdr *mh, int *fds, unsigned int maxfds)
{
	struct cmsghdr *cm;
	unsigned int got = 0;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t i, n;
		int f;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++, got++) {
			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (got < maxfds)
				fds[got] = f;
			else
				close(f);
		}
	}
	return got;
}

ssize_t fd_recvmsg(int sock, const struct iovec *iov, size_t niov, int *fds, unsigned int maxfds,
		   unsigned int *nfds)
{
	union fdpass_ctl ctl;
	struct msghdr mh = {
		.msg_iov = (struct iovec *)(uintptr_t)iov,
		.msg_iovlen = niov,
		.msg_control = ctl.buf,
	};
	unsigned int got, i;
	ssize_t n;

	*nfds = 0;
	if (maxfds > FDPASS_MAX_FDS)
		return -EINVAL;
	/*
	 * Room for exactly FDPASS_SPARE more than wanted (CMSG_LEN: no padding
	 * the kernel would fill): a peer sending more gets MSG_CTRUNC.
	 */
	mh.msg_controllen = CMSG_LEN((maxfds + FDPASS_SPARE) * sizeof(int));
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	got = take_fds(&mh, fds, maxfds);
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (i = 0; i < got && i < maxfds; i++) {
			close(fds[i]);
			fds[i] = -1;
		}
		return -EBADMSG;
	}
	*nfds = got;
	return n;
}

int fd_send(int sock, const void *msg, size_t len, int fd)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)msg, .iov_len = len };

	if (len == 0)
		return -EINVAL;
	return fd_sendmsg(sock, &iov, 1, &fd, fd >= 0 ? 1 : 0);
}

int fd_recv(int sock, void *msg, size_t len, int *fd)
{
	struct iovec iov = { .iov_base = msg, .iov_len = len };
	unsigned int nfds;
	ssize_t n;

	*fd = -1;
	if (len == 0)
		return -EINVAL;
	n = fd_recvmsg(sock, &iov, 1, fd, 1, &nfds);
	if (n < 0) {
		*fd = -1;
		return (int)n;
	}
	if ((size_t)n == len)
		return 0;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	/* fd_send() never sends an empty message: 0 bytes is the peer's EOF. */
	return n == 0 ? -EPIPE : -EBADMSG;
}
