// SPDX-License-Identifier: GPL-2.0-only
/*
 * SOCKS5 UDP ASSOCIATE codec (RFC 1928 §4, §6, §7): the request, its reply
 * with the relay's address, and the header every relayed datagram carries
 * (RSV RSV FRAG ATYP DST.ADDR DST.PORT DATA). Builders write into caller
 * buffers; parsers read (buf, len) through struct rd. No I/O, no allocation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "buf.h"
#include "proxy.h"

enum {
	ATYP_IPV4 = 1,
	ATYP_NAME = 3,
	ATYP_IPV6 = 4,
};

int socks5_build_udp_associate(uint8_t *buf, size_t cap, const struct proxy_dest *d)
{
	int n = socks5_build_connect(buf, cap, d);

	/* The same layout as CONNECT (§4); only CMD differs. */
	if (n > 0)
		buf[1] = SOCKS5_CMD_UDP_ASSOCIATE;
	return n;
}

/*
 * ATYP + address + port into *d. -EAGAIN when truncated, -EPROTO for an
 * unknown ATYP or an empty name, and for a NUL in a name when strict (a
 * reply's BND name is never used, so there it is only cut short).
 */
static int rd_addr(struct rd *r, struct proxy_dest *d, bool strict)
{
	uint8_t atyp, nlen;

	memset(d, 0, sizeof(*d));
	if (rd_u8(r, &atyp) < 0)
		return -EAGAIN;
	switch (atyp) {
	case ATYP_IPV4:
		d->family = AF_INET;
		if (rd_bytes(r, d->addr, 4) < 0)
			return -EAGAIN;
		break;
	case ATYP_IPV6:
		d->family = AF_INET6;
		if (rd_bytes(r, d->addr, 16) < 0)
			return -EAGAIN;
		break;
	case ATYP_NAME:
		if (rd_u8(r, &nlen) < 0)
			return -EAGAIN;
		if (nlen == 0)
			return -EPROTO;
		if (rd_bytes(r, d->name, nlen) < 0)
			return -EAGAIN;
		d->name[nlen] = '\0';
		if (strict && strlen(d->name) != nlen)
			return -EPROTO;
		break;
	default:
		return -EPROTO;
	}
	if (rd_be16(r, &d->port) < 0)
		return -EAGAIN;
	return 0;
}

int socks5_parse_reply_bnd(const uint8_t *buf, size_t len, uint8_t *rep, struct proxy_dest *bnd)
{
	struct rd r = { buf, len };
	uint8_t ver, code, rsv;
	int ret;

	if (rd_u8(&r, &ver) < 0)
		return -EAGAIN;
	if (ver != 5)
		return -EPROTO;
	if (rd_u8(&r, &code) < 0 || rd_u8(&r, &rsv) < 0)
		return -EAGAIN;
	if (rsv != 0)
		return -EPROTO;
	ret = rd_addr(&r, bnd, false);
	if (ret < 0)
		return ret;
	*rep = code;
	return (int)(len - r.left);
}

int socks5_build_udp_hdr(uint8_t *buf, size_t cap, const struct proxy_dest *d)
{
	/* A CONNECT request minus its VER and CMD, with FRAG in place of RSV: 2 bytes more. */
	uint8_t tmp[SOCKS5_UDP_HDR_MAX + 2];
	int n;

	n = socks5_build_connect(tmp, sizeof(tmp), d);
	if (n < 0)
		return n;
	if (cap < (size_t)n)
		return -ENOSPC;
	buf[0] = 0; /* RSV */
	buf[1] = 0;
	buf[2] = 0; /* FRAG: we never fragment */
	memcpy(buf + 3, tmp + 3, (size_t)n - 3);
	return n;
}

int socks5_parse_udp_hdr(const uint8_t *buf, size_t len, struct proxy_dest *from)
{
	struct rd r = { buf, len };
	uint16_t rsv;
	uint8_t frag;
	int ret;

	if (rd_be16(&r, &rsv) < 0 || rd_u8(&r, &frag) < 0)
		return -EBADMSG;
	if (rsv != 0)
		return -EBADMSG;
	/* Reassembly (§7) is optional; without it, any fragment is dropped. */
	if (frag != 0)
		return -EOPNOTSUPP;
	ret = rd_addr(&r, from, true);
	if (ret < 0)
		return -EBADMSG;
	return (int)(len - r.left);
}
