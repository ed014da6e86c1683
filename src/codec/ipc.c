// SPDX-License-Identifier: GPL-2.0-only
/*
 * Framed IPC over a SOCK_SEQPACKET socketpair (see ipc.h): one header and a
 * fixed-size payload per record, fds by SCM_RIGHTS (fdpass.c). The decoder
 * is pure and fuzzed (tests/fuzz/fuzz-ipc.c); received fds are always
 * O_CLOEXEC and closed on any error.
 */
#include <errno.h>
#include <string.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fdpass.h"
#include "ipc.h"

_Static_assert((int)IPC_MAX_FDS <= (int)FDPASS_MAX_FDS, "a hello must fit in one fdpass record");

int ipc_type_size(uint16_t type)
{
	switch (type) {
	case IPC_HELLO:
		return (int)sizeof(struct ipc_hello);
	case IPC_READY:
		return (int)sizeof(struct ipc_ready);
	case IPC_PING:
	case IPC_PONG:
		return (int)sizeof(struct ipc_ping);
	case IPC_CTL:
		return (int)sizeof(struct ipc_ctl);
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
	struct ipc_hdr h = { .type = type, .len = (uint16_t)len };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)(uintptr_t)data, .iov_len = len },
	};

	if (len > IPC_MAX_PAYLOAD || nfds > IPC_MAX_FDS)
		return -EINVAL;
	return fd_sendmsg(sock, iov, 2, fds, nfds);
}

void ipc_msg_close(struct ipc_msg *m)
{
	unsigned int i;

	for (i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

int ipc_recv(int sock, struct ipc_msg *m)
{
	uint8_t buf[sizeof(struct ipc_hdr) + IPC_MAX_PAYLOAD + 1];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	unsigned int i, got;
	ssize_t n;
	int ret;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < IPC_MAX_FDS; i++)
		m->fds[i] = -1;
	n = fd_recvmsg(sock, &iov, 1, m->fds, IPC_MAX_FDS, &got);
	if (n < 0)
		return (int)n;
	m->nfds = got < IPC_MAX_FDS ? got : IPC_MAX_FDS;
	if (n == 0 && got == 0)
		return -EPIPE;
	ret = got > IPC_MAX_FDS ? -EBADMSG : ipc_parse(buf, (size_t)n, m);
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
	if (m->nfds != h->queues)
		return -EBADMSG;
	return 0;
}

int ipc_ping_check(const struct ipc_msg *m, uint16_t type, uint32_t gen, uint32_t *seq)
{
	struct ipc_ping p;

	if ((type != IPC_PING && type != IPC_PONG) || m->type != type || m->nfds ||
	    ipc_get_data(m, &p, sizeof(p)) < 0 || p.generation != gen)
		return -EBADMSG;
	*seq = p.seq;
	return 0;
}

int ipc_ctl_check(const struct ipc_msg *m, struct ipc_ctl *c)
{
	if (m->type != IPC_CTL || m->nfds != 1 || m->fds[0] < 0 ||
	    ipc_get_data(m, c, sizeof(*c)) < 0 || c->zero != 0)
		return -EBADMSG;
	return 0;
}
