// SPDX-License-Identifier: GPL-2.0-only
/* Byte ring (see ring.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

void ring_fini(struct ring *r)
{
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
	if (!r->buf) {
		r->buf = malloc(r->cap);
		if (!r->buf)
			return -ENOMEM;
	}
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
