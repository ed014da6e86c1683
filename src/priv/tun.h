/* SPDX-License-Identifier: GPL-2.0-only */
/* /dev/net/tun: create or attach a TUN interface (IFF_TUN | IFF_NO_PI [| IFF_VNET_HDR]). */
#ifndef PROXYVPN_TUN_H
#define PROXYVPN_TUN_H

#include <net/if.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * Opens /dev/net/tun and attaches to or creates name (IFNAMSIZ-1 chars max).
 * Returns the fd (O_CLOEXEC, blocking) and writes the kernel's name into
 * out (IFNAMSIZ), or -errno. With offload, tries IFF_VNET_HDR + TSO and
 * checksum offload first; *vnet says whether the fd carries virtio-net
 * headers (vnet.h), false after a clean fallback to the plain TUN.
 */
int tun_open(const char *name, char out[IFNAMSIZ], bool offload, bool *vnet);
/*
 * The same with n queues (n > 1: IFF_MULTI_QUEUE, one fd per queue; the
 * kernel keeps each flow on one queue). Fills fds[0..n-1] and returns 0, or
 * -errno with none left open.
 */
int tun_open_queues(const char *name, char out[IFNAMSIZ], bool offload, bool *vnet, int *fds,
		    int n);

/*
 * TUNSETOWNER: only uid (and holders of CAP_NET_ADMIN) may attach to the
 * interface of fd. Without an owner or a group, anyone who can open
 * /dev/net/tun (mode 0666 on Debian) may attach a queue to a multi-queue
 * TUN by name and receive its share of the flows. 0 or -errno.
 */
int tun_set_owner(int fd, uid_t uid);

#endif
