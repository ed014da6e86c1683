// SPDX-License-Identifier: GPL-2.0-only
/*
 * Framed IPC over a SOCK_SEQPACKET socketpair (see ipc.h): one header and a
 * fixed-size payload per record, fds by SCM_RIGHTS. The decoder is pure and
 * fuzzed (tests/fuzz/fuzz-ipc.c); received fds are always O_CLOEXEC and
 * closed on any error.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ipc.h"

int ipc_type_size(uint16_t type)
{
	switch (type) {
	case IPC_HELLO:
		return (int)sizeof(struct ipc_hello);
	case IPC_READY:
		return (int)sizeof(struct ipc_ready);
	}
	return -1;
}

int ipc_parse(const uint8_t *buf, size_t n, struct ipc_msg *m)
{
	struct ipc_hdr h;
	int want;

	if (n < sizeof(h))
		return -EBADMSG;
	memcpy(&h, buf, sizeof(h));
	if (h.zero != 0 || (size_t)h.len != n - sizeof(h))
		return -EBADMSG;
	want = ipc_type_size(h.type);
	if (want < 0 || h.len != (uint16_t)want || h.len > IPC_MAX_PAYLOAD)
		return -EBADMSG;
	m->type = h.type;
	m->len = h.len;
	memcpy(m->data, buf + sizeof(h), h.len);
	return 0;
}

int ipc_send(int sock, uint16_t type, const void *data, size_t len, const int *fds,
	     unsigned int nfds)
{
	union {
		char buf[CMSG_SPACE(IPC_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct ipc_hdr h = { .type = type, .len = (uint16_t)len };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)(uintptr_t)data, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	struct cmsghdr *cm;
	ssize_t n;

	if (len > IPC_MAX_PAYLOAD || nfds > IPC_MAX_FDS)
		return -EINVAL;
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
	return (size_t)n == sizeof(h) + len ? 0 : -EIO;
}

void ipc_msg_close(struct ipc_msg *m)
{
	unsigned int i;

	for (i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

/* Takes every fd of every SCM_RIGHTS; false if there were too many (all closed). */
static int take_fds(struct msghdr *mh, struct ipc_msg *m)
{
	struct cmsghdr *cm;
	int ret = 0;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t i, nfds;
		int f;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (m->nfds < IPC_MAX_FDS) {
				m->fds[m->nfds++] = f;
			} else {
				close(f);
				ret = -EBADMSG;
			}
		}
	}
	return ret;
}

int ipc_recv(int sock, struct ipc_msg *m)
{
	union {
		char buf[CMSG_SPACE((IPC_MAX_FDS + 4) * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint8_t buf[sizeof(struct ipc_hdr) + IPC_MAX_PAYLOAD + 1];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	unsigned int i;
	ssize_t n;
	int ret;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < IPC_MAX_FDS; i++)
		m->fds[i] = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	ret = take_fds(&mh, m);
	if (n == 0 && m->nfds == 0)
		return -EPIPE;
	if (ret == 0 && (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		ret = -EBADMSG;
	if (ret == 0)
		ret = ipc_parse(buf, (size_t)n, m);
	if (ret < 0)
		ipc_msg_close(m);
	return ret;
}

int ipc_get_data(const struct ipc_msg *m, void *out, size_t len)
{
	if (m->len != len)
		return -EBADMSG;
	memcpy(out, m->data, len);
	return 0;
}

int ipc_hello_check(const struct ipc_msg *m, struct ipc_hello *h)
{
	if (m->type != IPC_HELLO || ipc_get_data(m, h, sizeof(*h)) < 0)
		return -EBADMSG;
	if (!(h->fds & IPC_FD_TUN) || (h->fds & ~(uint32_t)IPC_FD_ALL) || h->zero != 0 ||
	    h->queues < 1 || h->queues > IPC_MAX_QUEUES)
		return -EBADMSG;
	if (m->nfds != h->queues + !!(h->fds & IPC_FD_CTL))
		return -EBADMSG;
	return 0;
}
