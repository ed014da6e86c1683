/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Telling a service manager or a script that `up` is ready (every rule,
 * route and the TUN verified in the kernel) or stopping: systemd's
 * sd_notify protocol (one datagram to $NOTIFY_SOCKET, written here: no
 * libsystemd) and `up --ready-fd N` (one line, then the fd is closed).
 */
#ifndef PROXYVPN_NOTIFY_H
#define PROXYVPN_NOTIFY_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/*
 * $NOTIFY_SOCKET as a socket address: an absolute path, or "@name" for the
 * abstract namespace (its NUL is added here). Pure. Returns the address
 * length to pass to sendto(), -ENOENT when s is NULL or empty, -EINVAL for
 * anything else (relative, too long, "@" alone).
 */
int notify_addr(const char *s, struct sockaddr_un *sa, socklen_t *len);

/*
 * Sends state ("READY=1", "STOPPING=1"...) to $NOTIFY_SOCKET if it is set.
 * 0 (also when unset), or -errno; never blocks.
 */
int notify_send(const char *state);

/*
 * `--ready-fd N`: checks that fd is open and sets FD_CLOEXEC on it (nothing
 * we exec inherits it). 0 or -errno (-EBADF: not open).
 */
int notify_fd_check(int fd);

/* Writes "ready\n" to fd and closes it (fds 0-2 are left open). 0 or -errno. */
int notify_fd_ready(int fd);

#endif
