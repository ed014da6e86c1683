/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket's file: `ctl` in the state directory (mode 0600), a
 * unix stream socket with the protocol of ctl-proto.h. Made here, on the
 * privileged side that holds the state dir, so the engine never touches
 * the directory; each connection is accepted and its peer checked here
 * (ctl_accept), then served by the engine (ctl.h); and asked from here by
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
 * Parent side: one connection from the listening socket lfd, answered only
 * if its peer is root or owner. The peer's uid comes from SO_PEERCRED,
 * which the kernel gives in the reader's user namespace: the parent's, the
 * host's. (The engine of a capability-only `up` runs in a user namespace
 * of its own, where every uid but its own reads as 65534: it cannot do
 * this check.) Returns the connection (O_NONBLOCK|O_CLOEXEC); -EACCES
 * after closing it, *uid the peer's; -EAGAIN when none is waiting;
 * another -errno.
 */
int ctl_accept(int lfd, uid_t owner, uid_t *uid);

/*
 * Client: sends req ("status\n" ...) to dir/ctl and reads the reply into
 * out (NUL-terminated, at most cap - 1 bytes), waiting at most timeout_ms
 * in all. Returns the length, or -errno: -ENOENT / -ECONNREFUSED when no
 * server is there, -EACCES, -ETIMEDOUT, -EMSGSIZE (reply too long),
 * -ECONNRESET (closed without a reply: refused).
 */
ssize_t ctl_query(int dirfd, const char *req, char *out, size_t cap, int timeout_ms);

#endif
