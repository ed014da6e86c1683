// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/net/tun: one open + TUNSETIFF. The fd is the interface: it lives as
 * long as the fd does (no TUNSETPERSIST), so a crashed owner leaves nothing.
 *
 * With offloads the fd carries a virtio-net header (vnet.h) in front of
 * every packet, and the kernel may hand us TCP segments of up to 64 KiB with
 * the checksum left to us (TSO, checksum offload). Anything the kernel
 * refuses falls back: no TSO, then no offload at all (a plain TUN again).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "tun.h"
#include "vnet.h"

static int open_iff(const char *name, short flags, char out[IFNAMSIZ])
{
	struct ifreq ifr = { 0 };
	int fd, ret;

	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = flags;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	memcpy(out, ifr.ifr_name, IFNAMSIZ);
	out[IFNAMSIZ - 1] = '\0';
	return fd;
}

/* The header size, then what the kernel may hand us. false: no vnet header usable. */
static bool vnet_setup(int fd)
{
	int sz = VNET_HDR_LEN;

	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0) {
		log_debug("tun: TUNSETVNETHDRSZ: %s", strerror(errno));
		return false;
	}
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) == 0)
		return true;
	log_debug("tun: TSO offload refused (%s), trying checksum offload only", strerror(errno));
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) < 0)
		log_debug("tun: checksum offload refused: %s", strerror(errno));
	/* Still useful: what we write may ask for GSO and checksum completion. */
	return true;
}

static void close_all(int *fds, int n)
{
	while (n-- > 0) {
		close(fds[n]);
		fds[n] = -1;
	}
}

/* n queues of one interface (n > 1: IFF_MULTI_QUEUE). 0, or -errno with none left open. */
static int open_queues(const char *name, short flags, char out[IFNAMSIZ], int *fds, int n,
		       bool vnet)
{
	int i;

	if (n > 1)
		flags |= IFF_MULTI_QUEUE;
	for (i = 0; i < n; i++) {
		/* Later queues attach by the kernel's name (the first may have picked it). */
		fds[i] = open_iff(i ? out : name, flags, out);
		if (fds[i] >= 0 && vnet && !vnet_setup(fds[i])) {
			close(fds[i]);
			fds[i] = -EOPNOTSUPP;
		}
		if (fds[i] < 0) {
			int ret = fds[i];

			close_all(fds, i);
			return ret;
		}
	}
	return 0;
}

int tun_open_queues(const char *name, char out[IFNAMSIZ], bool offload, bool *vnet, int *fds, int n)
{
	size_t len = strlen(name);
	int ret;

	*vnet = false;
	if (len == 0 || len >= IFNAMSIZ || n < 1)
		return -EINVAL;
	if (offload) {
		ret = open_queues(name, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, out, fds, n, true);
		if (ret == 0) {
			*vnet = true;
			return 0;
		}
		/* Not persistent: closing every queue removed the interface. */
		log_debug("tun: IFF_VNET_HDR refused: %s", strerror(-ret));
	}
	return open_queues(name, IFF_TUN | IFF_NO_PI, out, fds, n, false);
}

int tun_open(const char *name, char out[IFNAMSIZ], bool offload, bool *vnet)
{
	int fd, ret;

	ret = tun_open_queues(name, out, offload, vnet, &fd, 1);
	return ret < 0 ? ret : fd;
}

int tun_set_owner(int fd, uid_t uid)
{
	return ioctl(fd, TUNSETOWNER, (unsigned long)uid) < 0 ? -errno : 0;
}
