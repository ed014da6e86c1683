// SPDX-License-Identifier: GPL-2.0-only
/*
 * SOCKS5 codec (RFC 1928 CONNECT, RFC 1929 username/password). Builders write
 * into caller buffers, parsers read (buf, len) through struct rd and return
 * -EAGAIN until a message is complete. No I/O, no allocation.
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
	SOCKS5_VER = 5,
	SOCKS5_AUTH_VER = 1,
	SOCKS5_CMD_CONNECT = 1,
	SOCKS5_ATYP_IPV4 = 1,
	SOCKS5_ATYP_NAME = 3,
	SOCKS5_ATYP_IPV6 = 4,
	SOCKS5_METHOD_NONE = 0x00,
	SOCKS5_METHOD_USERPASS = 0x02,
};

int socks5_build_greeting(uint8_t *buf, size_t cap, bool auth)
{
	if (cap < 3)
		return -ENOSPC;
	buf[0] = SOCKS5_VER;
	buf[1] = 1;
	/* With credentials, offering no-auth too would let a proxy skip them. */
	buf[2] = auth ? SOCKS5_METHOD_USERPASS : SOCKS5_METHOD_NONE;
	return 3;
}

int socks5_parse_method(const uint8_t *buf, size_t len, uint8_t *method)
{
	struct rd r = { buf, len };
	uint8_t ver;

	if (rd_u8(&r, &ver) < 0)
		return -EAGAIN;
	if (ver != SOCKS5_VER)
		return -EPROTO;
	if (rd_u8(&r, method) < 0)
		return -EAGAIN;
	return 2;
}

int socks5_build_auth(uint8_t *buf, size_t cap, const char *user, const char *pass)
{
	size_t ulen = strnlen(user, 256), plen = strnlen(pass, 256);

	/*
	 * RFC 1929 says PLEN is 1-255, but an empty password is common in
	 * URLs ("socks5://user@host") and curl sends PLEN 0 for it: let the
	 * proxy decide.
	 */
	if (ulen == 0 || ulen > 255 || plen > 255)
		return -EINVAL;
	if (cap < 3 + ulen + plen)
		return -ENOSPC;
	buf[0] = SOCKS5_AUTH_VER;
	buf[1] = (uint8_t)ulen;
	memcpy(buf + 2, user, ulen);
	buf[2 + ulen] = (uint8_t)plen;
	memcpy(buf + 3 + ulen, pass, plen);
	return (int)(3 + ulen + plen);
}

int socks5_parse_auth(const uint8_t *buf, size_t len, uint8_t *status)
{
	struct rd r = { buf, len };
	uint8_t ver;

	if (rd_u8(&r, &ver) < 0)
		return -EAGAIN;
	if (ver != SOCKS5_AUTH_VER)
		return -EPROTO;
	if (rd_u8(&r, status) < 0)
		return -EAGAIN;
	return 2;
}

int socks5_build_connect(uint8_t *buf, size_t cap, const struct proxy_dest *d)
{
	size_t alen, n;

	switch (d->family) {
	case AF_INET:
		alen = 4;
		break;
	case AF_INET6:
		alen = 16;
		break;
	case 0:
		alen = strnlen(d->name, sizeof(d->name));
		if (alen == 0 || alen > 255)
			return -EINVAL;
		alen++; /* length octet */
		break;
	default:
		return -EINVAL;
	}
	n = 4 + alen + 2;
	if (cap < n)
		return -ENOSPC;
	buf[0] = SOCKS5_VER;
	buf[1] = SOCKS5_CMD_CONNECT;
	buf[2] = 0;
	if (d->family == AF_INET) {
		buf[3] = SOCKS5_ATYP_IPV4;
		memcpy(buf + 4, d->addr, 4);
	} else if (d->family == AF_INET6) {
		buf[3] = SOCKS5_ATYP_IPV6;
		memcpy(buf + 4, d->addr, 16);
	} else {
		buf[3] = SOCKS5_ATYP_NAME;
		buf[4] = (uint8_t)(alen - 1);
		memcpy(buf + 5, d->name, alen - 1);
	}
	store_be16(buf + 4 + alen, d->port);
	return (int)n;
}

/*
 * Each field is checked as soon as it is visible, so a bad VER fails after
 * one byte and a result on a prefix never contradicts the result on the
 * whole reply.
 */
int socks5_parse_reply(const uint8_t *buf, size_t len, uint8_t *rep)
{
	struct rd r = { buf, len };
	uint8_t ver, code, rsv, atyp, nlen;
	size_t alen;

	if (rd_u8(&r, &ver) < 0)
		return -EAGAIN;
	if (ver != SOCKS5_VER)
		return -EPROTO;
	if (rd_u8(&r, &code) < 0 || rd_u8(&r, &rsv) < 0)
		return -EAGAIN;
	if (rsv != 0)
		return -EPROTO;
	if (rd_u8(&r, &atyp) < 0)
		return -EAGAIN;
	switch (atyp) {
	case SOCKS5_ATYP_IPV4:
		alen = 4;
		break;
	case SOCKS5_ATYP_IPV6:
		alen = 16;
		break;
	case SOCKS5_ATYP_NAME:
		if (rd_u8(&r, &nlen) < 0)
			return -EAGAIN;
		if (nlen == 0)
			return -EPROTO;
		alen = nlen;
		break;
	default:
		return -EPROTO;
	}
	if (rd_skip(&r, alen + 2) < 0) /* BND.ADDR, BND.PORT */
		return -EAGAIN;
	*rep = code;
	return (int)(len - r.left);
}

int socks5_rep_errno(uint8_t rep)
{
	switch (rep) {
	case 0x00:
		return 0;
	case 0x02: /* connection not allowed by ruleset */
		return EACCES;
	case 0x03:
		return ENETUNREACH;
	case 0x04:
		return EHOSTUNREACH;
	case 0x05:
		return ECONNREFUSED;
	case 0x06: /* TTL expired */
		return ETIMEDOUT;
	case 0x07:
		return EOPNOTSUPP;
	case 0x08:
		return EAFNOSUPPORT;
	default: /* 0x01 general failure and unassigned codes */
		return ECONNREFUSED;
	}
}
