// SPDX-License-Identifier: GPL-2.0-only
/* Byte ring (see ring.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

/*
 * Makes the storage at least need bytes (at most cap), doubling from
 * RING_MIN_ALLOC. Growing copies the whole old storage in ring order, parked
 * bytes past len included, so every offset from head keeps its meaning.
 */
static int ring_grow(struct ring *r, size_t need)
{
	size_t size = r->size ? r->size : (r->cap < RING_MIN_ALLOC ? r->cap : RING_MIN_ALLOC);
	uint8_t *nb;

	if (need > r->cap)
		need = r->cap;
	while (size < need)
		size = size * 2 < r->cap ? size * 2 : r->cap;
	if (r->buf && size == r->size)
		return 0;
	nb = malloc(size);
	if (!nb)
		return -ENOMEM;
	if (r->buf) {
		size_t first = r->size - r->head;

		memcpy(nb, r->buf + r->head, first);
		memcpy(nb + first, r->buf, r->head);
		free(r->buf);
	}
	if (r->mem)
		*r->mem += size - r->size;
	r->buf = nb;
	r->size = size;
	r->head = 0;
	return 0;
}

void ring_fini(struct ring *r)
{
	if (r->buf && r->mem)
		*r->mem -= r->size;
	free(r->buf);
	r->buf = NULL;
	r->size = 0;
	r->head = r->len = 0;
}

int ring_peek(const struct ring *r, size_t off, size_t n, struct iovec iov[2])
{
	size_t start, first;

	if (off >= r->len || n == 0)
		return 0;
	if (n > r->len - off)
		n = r->len - off;
	start = (r->head + off) % r->size;
	first = r->size - start;
	iov[0].iov_base = r->buf + start;
	if (n <= first) {
		iov[0].iov_len = n;
		return 1;
	}
	iov[0].iov_len = first;
	iov[1].iov_base = r->buf;
	iov[1].iov_len = n - first;
	return 2;
}

int ring_reserve(struct ring *r, struct iovec iov[2])
{
	size_t tail, space;

	if (r->len == r->cap)
		return 0;
	/* Less than half the storage free: grow it (toward cap) first. */
	if ((!r->buf || r->size - r->len < r->size / 2) && ring_grow(r, r->size * 2) < 0)
		return -ENOMEM;
	space = r->size - r->len;
	if (!space)
		return 0;
	tail = (r->head + r->len) % r->size;
	iov[0].iov_base = r->buf + tail;
	if (tail + space <= r->size) {
		iov[0].iov_len = space;
		return 1;
	}
	iov[0].iov_len = r->size - tail;
	iov[1].iov_base = r->buf;
	iov[1].iov_len = space - (r->size - tail);
	return 2;
}

void ring_commit(struct ring *r, size_t n)
{
	r->len += n;
}

void ring_consume(struct ring *r, size_t n)
{
	r->len -= n;
	r->head = r->len ? (r->head + n) % r->size : 0;
}

void ring_drop(struct ring *r, size_t n)
{
	r->len -= n;
	if (r->size)
		r->head = (r->head + n) % r->size;
}

int ring_write_at(struct ring *r, size_t off, const void *p, size_t n)
{
	size_t pos, first;

	if (off < r->len || off > r->cap || n > r->cap - off)
		return -EINVAL;
	if (!n)
		return 0;
	if (ring_grow(r, off + n) < 0)
		return -ENOMEM;
	pos = (r->head + off) % r->size;
	first = r->size - pos < n ? r->size - pos : n;
	memcpy(r->buf + pos, p, first);
	memcpy(r->buf, (const uint8_t *)p + first, n - first);
	return 0;
}

long ring_write(struct ring *r, const void *p, size_t n)
{
	size_t done = 0, pos, k;

	if (n > r->cap - r->len)
		n = r->cap - r->len;
	if (!n)
		return 0;
	if (ring_grow(r, r->len + n) < 0)
		return -ENOMEM;
	while (done < n) {
		pos = (r->head + r->len + done) % r->size;
		k = r->size - pos < n - done ? r->size - pos : n - done;
		memcpy(r->buf + pos, (const uint8_t *)p + done, k);
		done += k;
	}
	ring_commit(r, done);
	return (long)done;
}
