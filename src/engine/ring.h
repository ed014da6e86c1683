/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Byte ring with a fixed capacity. Storage is allocated on first use and
 * grows by doubling from RING_MIN_ALLOC toward the capacity as it fills, so
 * idle connections cost no buffer memory and quiet ones little. Reads and writes hand out up to two
 * iovecs so the socket and TUN paths never copy through a bounce buffer.
 */
#ifndef PROXYVPN_RING_H
#define PROXYVPN_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

enum { RING_MIN_ALLOC = 16 * 1024 };

struct ring {
	uint8_t *buf;
	size_t size; /* storage allocated: 0, or RING_MIN_ALLOC doubling up to cap */
	size_t cap;  /* fixed at init: what the ring may hold */
	size_t head; /* offset of the first byte held */
	size_t len;  /* bytes held */
	size_t *mem; /* if set, storage allocated is added here (and taken off at fini) */
};

static inline void ring_init(struct ring *r, size_t cap)
{
	*r = (struct ring){ .cap = cap };
}

void ring_fini(struct ring *r);

static inline size_t ring_space(const struct ring *r)
{
	return r->cap - r->len;
}

/* Up to two iovecs covering bytes [off, off + n) of what is held; returns count. */
int ring_peek(const struct ring *r, size_t off, size_t n, struct iovec iov[2]);
/* Up to two iovecs covering the free space; allocates storage. -ENOMEM or count (0 if full). */
int ring_reserve(struct ring *r, struct iovec iov[2]);
/* Marks n bytes of reserved space as held. */
void ring_commit(struct ring *r, size_t n);
/* Drops n bytes from the front. */
void ring_consume(struct ring *r, size_t n);
/* Copies in at most n bytes; returns bytes copied, -ENOMEM. */
long ring_write(struct ring *r, const void *p, size_t n);
/*
 * Parks n bytes in the free space, off bytes past the start of what is held
 * (off >= len, off + n <= cap), without holding them: a later ring_commit
 * over that range makes them held. 0, -ENOMEM, -EINVAL.
 */
int ring_write_at(struct ring *r, size_t off, const void *p, size_t n);
/* Like ring_consume, but keeps the position of parked bytes. */
void ring_drop(struct ring *r, size_t n);

#endif
