/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket's file: `ctl` in the state directory (mode 0600), a
 * unix stream socket the engine serves (ctl.h) with the protocol of
 * ctl-proto.h. Made here, on the privileged side that holds the state dir,
 * so the engine never touches the directory; and asked from here by
 * `proxyvpn status`.
 */
#ifndef PROXYVPN_CTL_SOCK_H
#define PROXYVPN_CTL_SOCK_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Creates dir/ctl (a stale one is removed first) with mode 0600, bound
 * through the dirfd (no path outside it is followed), and listens. Returns
 * the O_CLOEXEC|O_NONBLOCK fd or -errno (err says which step).
 */
int ctl_listen(int dirfd, char *err, size_t errlen);
/* Removes dir/ctl if it is a socket. */
void ctl_unlink(int dirfd);

/*
 * Client: sends req ("status\n" ...) to dir/ctl and reads the reply into
 * out (NUL-terminated, at most cap - 1 bytes), waiting at most timeout_ms
 * in all. Returns the length, or -errno: -ENOENT / -ECONNREFUSED when no
 * server is there, -EACCES, -ETIMEDOUT, -EMSGSIZE (reply too long),
 * -ECONNRESET (closed without a reply: refused).
 */
ssize_t ctl_query(int dirfd, const char *req, char *out, size_t cap, int timeout_ms);

#endif
