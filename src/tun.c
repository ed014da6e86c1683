// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/net/tun: one open + TUNSETIFF. The fd is the interface: it lives as
 * long as the fd does (no TUNSETPERSIST), so a crashed owner leaves nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tun.h"

int tun_open(const char *name, char out[IFNAMSIZ])
{
	struct ifreq ifr = {0};
	size_t len = strlen(name);
	int fd, ret;

	if (len == 0 || len >= IFNAMSIZ)
		return -EINVAL;
	memcpy(ifr.ifr_name, name, len);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;

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
