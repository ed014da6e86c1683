/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bounded readers and big-endian helpers. Every wire decoder reads through
 * struct rd, so "read past the end" is a -EBADMSG, never a stray load.
 */
#ifndef PROXYVPN_BUF_H
#define PROXYVPN_BUF_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t *p;
	size_t left;
};

static inline uint16_t load_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline int rd_u8(struct rd *r, uint8_t *v)
{
	if (r->left < 1)
		return -EBADMSG;
	*v = *r->p++;
	r->left--;
	return 0;
}

static inline int rd_be16(struct rd *r, uint16_t *v)
{
	if (r->left < 2)
		return -EBADMSG;
	*v = load_be16(r->p);
	r->p += 2;
	r->left -= 2;
	return 0;
}

static inline int rd_be32(struct rd *r, uint32_t *v)
{
	if (r->left < 4)
		return -EBADMSG;
	*v = load_be32(r->p);
	r->p += 4;
	r->left -= 4;
	return 0;
}

static inline int rd_bytes(struct rd *r, void *dst, size_t n)
{
	if (r->left < n)
		return -EBADMSG;
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

static inline int rd_skip(struct rd *r, size_t n)
{
	if (r->left < n)
		return -EBADMSG;
	r->p += n;
	r->left -= n;
	return 0;
}

#endif
