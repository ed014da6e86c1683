/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SCM_RIGHTS over a Unix socket: one record (SOCK_SEQPACKET or SOCK_DGRAM,
 * where a record arrives whole or is flagged truncated) with its fds. The
 * one place that builds and reads the control message: exec's child replies
 * (fd_send, fd_recv) and up's framed IPC (ipc.c) both go through it.
 */
#ifndef PROXYVPN_FDPASS_H
#define PROXYVPN_FDPASS_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

enum {
	FDPASS_MAX_FDS = 66, /* most fds one record may carry (up's hello: 64 queues + 2) */
	FDPASS_SPARE = 4,    /* fds past maxfds still read (and closed) before MSG_CTRUNC */
};

/*
 * Sends iov[0..niov) as one record with fds[0..nfds) (nfds 0..FDPASS_MAX_FDS),
 * never raising SIGPIPE. 0, -EINVAL, -EIO (sent in part: a stream socket) or
 * -errno.
 */
int fd_sendmsg(int sock, const struct iovec *iov, size_t niov, const int *fds, unsigned int nfds);

/*
 * Receives one record into iov[0..niov) and keeps its first maxfds fds
 * (0..FDPASS_MAX_FDS) in fds, all O_CLOEXEC. *nfds is how many fds came:
 * those past maxfds are closed (the caller decides whether that is an
 * error). Returns the bytes received (0: EOF or an empty record), -EBADMSG
 * if the record or its control data did not fit (MSG_TRUNC, MSG_CTRUNC:
 * more than maxfds + FDPASS_SPARE fds), -EINVAL or -errno; on error every
 * fd that came is closed and *nfds is 0.
 */
ssize_t fd_recvmsg(int sock, const struct iovec *iov, size_t niov, int *fds, unsigned int maxfds,
		   unsigned int *nfds);

/* Sends len bytes of msg (len >= 1) and fd (-1: none). 0 or -errno. */
int fd_send(int sock, const void *msg, size_t len, int fd);
/*
 * Receives exactly len bytes and at most one fd (*fd = -1 if none; extra fds
 * are closed). 0, -EPIPE on EOF, -EBADMSG on a short or oversized message.
 */
int fd_recv(int sock, void *msg, size_t len, int *fd);

#endif
