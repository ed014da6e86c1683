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
	struct ifreq ifr = {0};
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
	log_debug("tun: TSO offload refused (%s), trying checksum offload only",
		  strerror(errno));
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) < 0)
		log_debug("tun: checksum offload refused: %s", strerror(errno));
	/* Still useful: what we write may ask for GSO and checksum completion. */
	return true;
}

int tun_open(const char *name, char out[IFNAMSIZ], bool offload, bool *vnet)
{
	size_t len = strlen(name);
	int fd;

	*vnet = false;
	if (len == 0 || len >= IFNAMSIZ)
		return -EINVAL;
	if (offload) {
		fd = open_iff(name, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, out);
		if (fd >= 0 && vnet_setup(fd)) {
			*vnet = true;
			return fd;
		}
		if (fd >= 0)
			close(fd);	/* not persistent: the interface goes with it */
		else
			log_debug("tun: IFF_VNET_HDR refused: %s", strerror(-fd));
	}
	return open_iff(name, IFF_TUN | IFF_NO_PI, out);
}
