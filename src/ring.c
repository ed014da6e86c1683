// SPDX-License-Identifier: GPL-2.0-only
/* Byte ring (see ring.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

static int ring_alloc(struct ring *r)
{
	if (r->buf)
		return 0;
	r->buf = malloc(r->cap);
	if (!r->buf)
		return -ENOMEM;
	if (r->mem)
		*r->mem += r->cap;
	return 0;
}

void ring_fini(struct ring *r)
{
	if (r->buf && r->mem)
		*r->mem -= r->cap;
	free(r->buf);
	r->buf = NULL;
	r->head = r->len = 0;
}

int ring_peek(const struct ring *r, size_t off, size_t n, struct iovec iov[2])
{
	size_t start, first;

	if (off >= r->len || n == 0)
		return 0;
	if (n > r->len - off)
		n = r->len - off;
	start = (r->head + off) % r->cap;
	first = r->cap - start;
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
	size_t tail, space = r->cap - r->len;

	if (!space)
		return 0;
	if (ring_alloc(r) < 0)
		return -ENOMEM;
	tail = (r->head + r->len) % r->cap;
	iov[0].iov_base = r->buf + tail;
	if (tail + space <= r->cap) {
		iov[0].iov_len = space;
		return 1;
	}
	iov[0].iov_len = r->cap - tail;
	iov[1].iov_base = r->buf;
	iov[1].iov_len = space - (r->cap - tail);
	return 2;
}

void ring_commit(struct ring *r, size_t n)
{
	r->len += n;
}

void ring_consume(struct ring *r, size_t n)
{
	r->len -= n;
	r->head = r->len ? (r->head + n) % r->cap : 0;
}

void ring_drop(struct ring *r, size_t n)
{
	r->len -= n;
	if (r->cap)
		r->head = (r->head + n) % r->cap;
}

int ring_write_at(struct ring *r, size_t off, const void *p, size_t n)
{
	size_t pos, first;

	if (off < r->len || off > r->cap || n > r->cap - off)
		return -EINVAL;
	if (!n)
		return 0;
	if (ring_alloc(r) < 0)
		return -ENOMEM;
	pos = (r->head + off) % r->cap;
	first = r->cap - pos < n ? r->cap - pos : n;
	memcpy(r->buf + pos, p, first);
	memcpy(r->buf, (const uint8_t *)p + first, n - first);
	return 0;
}

long ring_write(struct ring *r, const void *p, size_t n)
{
	struct iovec iov[2];
	size_t done = 0;
	int i, cnt = ring_reserve(r, iov);

	if (cnt < 0)
		return cnt;
	for (i = 0; i < cnt && done < n; i++) {
		size_t k = iov[i].iov_len < n - done ? iov[i].iov_len : n - done;

		memcpy(iov[i].iov_base, (const uint8_t *)p + done, k);
		done += k;
	}
	ring_commit(r, done);
	return (long)done;
}
