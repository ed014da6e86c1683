/* SPDX-License-Identifier: GPL-2.0-only */
/* One fd plus a small fixed message over a Unix socket (SCM_RIGHTS). */
#ifndef PROXYVPN_FDPASS_H
#define PROXYVPN_FDPASS_H

#include <stddef.h>

/* Sends len bytes of msg (len >= 1) and fd (-1: none). 0 or -errno. */
int fd_send(int sock, const void *msg, size_t len, int fd);
/*
 * Receives exactly len bytes and at most one fd (*fd = -1 if none; extra fds
 * are closed). 0, -EPIPE on EOF, -EBADMSG on a short or oversized message.
 */
int fd_recv(int sock, void *msg, size_t len, int *fd);

#endif
