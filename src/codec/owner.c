// SPDX-License-Identifier: GPL-2.0-only
/*
 * The owner record of the host's objects (owner.h): build, strict parse, and
 * the start time out of a /proc/PID/stat line. The record is read back from
 * kernel objects that anyone holding CAP_NET_ADMIN may have written, so it
 * is parsed as untrusted input.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "num.h"
#include "owner.h"

int owner_format(const struct owner *o, char *buf, size_t len)
{
	int n;

	if (o->uid == UINT32_MAX || o->pid == 0 || o->pid > OWNER_PID_MAX)
		return -EINVAL;
	n = snprintf(buf, len, OWNER_TAG " uid=%" PRIu32 " pid=%" PRIu32 " start=%" PRIu64, o->uid,
		     o->pid, o->start);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

/* "KEY=" then a number up to the next space (or the end); advances *p. */
static int field(const char **p, const char *end, const char *key, uint64_t max, uint64_t *out)
{
	size_t k = strlen(key);
	const char *v, *sp;

	if ((size_t)(end - *p) < k || memcmp(*p, key, k))
		return -EINVAL;
	v = *p + k;
	sp = memchr(v, ' ', (size_t)(end - v));
	if (!sp)
		sp = end;
	if (num_parse(v, (size_t)(sp - v), NUM_CANON, 0, max, out) < 0)
		return -EINVAL;
	*p = sp;
	return 0;
}

int owner_parse(const char *s, size_t len, struct owner *o)
{
	const char *p = s, *end = s + len;
	uint64_t uid, pid, start;

	memset(o, 0, sizeof(*o));
	if (len == strlen(OWNER_TAG) && !memcmp(s, OWNER_TAG, len))
		return -ENODATA;
	if (len > OWNER_STR_MAX)
		return -EINVAL;
	if (field(&p, end, OWNER_TAG " uid=", UINT32_MAX - 1, &uid) < 0 ||
	    field(&p, end, " pid=", OWNER_PID_MAX, &pid) < 0 || pid == 0 ||
	    field(&p, end, " start=", UINT64_MAX, &start) < 0 || p != end)
		return -EINVAL;
	o->uid = (uint32_t)uid;
	o->pid = (uint32_t)pid;
	o->start = start;
	return 0;
}

bool owner_eq(const struct owner *a, const struct owner *b)
{
	return a->uid == b->uid && a->pid == b->pid && a->start == b->start;
}

int owner_stat_start(const char *buf, size_t len, uint64_t *start)
{
	const char *p = NULL, *end = buf + len, *sp;
	unsigned int f;
	size_t i;

	for (i = len; i > 0; i--) {
		if (buf[i - 1] == ')') {
			p = buf + i;
			break;
		}
	}
	/* field 2 ends at p; fields 3 .. 21 (state .. itrealvalue), then 22 */
	if (!p || p == buf + 1)
		return -EINVAL;
	for (f = 3; f <= 22; f++) {
		if (p >= end || *p != ' ')
			return -EINVAL;
		p++;
		for (sp = p; sp < end && *sp != ' ' && *sp != '\n'; sp++)
			;
		if (sp == p)
			return -EINVAL;
		if (f == 22)
			return num_parse(p, (size_t)(sp - p), NUM_CANON, 0, UINT64_MAX, start) < 0
				       ? -EINVAL
				       : 0;
		p = sp;
	}
	return -EINVAL;
}
