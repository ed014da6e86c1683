// SPDX-License-Identifier: GPL-2.0-only
/*
 * The engine's replies made safe to show (sanitize.h): a text escaper and a
 * strict JSON reader that writes what it read again, in ASCII, into a
 * bounded buffer. Recursive descent, bounded by JSONIN_DEPTH; every read
 * checks the end first.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sanitize.h"

static const char hex[] = "0123456789abcdef";

size_t sanitize_text(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i, k, out = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[4];
		size_t elen = 1;

		e[0] = (char)c;
		if (c == '\\') {
			e[1] = '\\';
			elen = 2;
		} else if ((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f) {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[c >> 4];
			e[3] = hex[c & 15];
			elen = 4;
		}
		for (k = 0; k < elen; k++, out++)
			if (out < cap)
				dst[out] = e[k];
	}
	return out;
}

/* ---- JSON ---- */

struct span {
	size_t off, len; /* a key as written to the output */
};

struct jin {
	const unsigned char *p, *end;
	struct jbuf *b;
	unsigned int depth;
	struct span (*keys)[JSONIN_KEYS]; /* [JSONIN_DEPTH]: keys of the open objects */
};

static int put(struct jbuf *b, const char *s, size_t n)
{
	if (b->full || n > jb_room(b)) {
		b->full = true;
		return -ENOSPC;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void skip_ws(struct jin *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int put_u16(struct jbuf *b, unsigned int v)
{
	char e[6] = { '\\',	  'u', hex[(v >> 12) & 15], hex[(v >> 8) & 15], hex[(v >> 4) & 15],
		      hex[v & 15] };

	return put(b, e, sizeof(e));
}

/* One code point, escaped unless printable ASCII. */
static int put_cp(struct jbuf *b, uint32_t cp)
{
	char c = (char)cp;

	if (cp == '"' || cp == '\\') {
		char e[2] = { '\\', c };

		return put(b, e, 2);
	}
	if (cp >= 0x20 && cp < 0x7f)
		return put(b, &c, 1);
	if (cp < 0x10000)
		return put_u16(b, cp);
	cp -= 0x10000;
	if (put_u16(b, 0xd800 + (cp >> 10)) < 0)
		return -ENOSPC;
	return put_u16(b, 0xdc00 + (cp & 0x3ff));
}

static int hex4(struct jin *j, uint32_t *v)
{
	unsigned int i;

	if (j->end - j->p < 4)
		return -EINVAL;
	*v = 0;
	for (i = 0; i < 4; i++) {
		unsigned char c = j->p[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		*v = *v << 4 | d;
	}
	j->p += 4;
	return 0;
}

/* After a backslash: one escape, a surrogate pair as one code point. */
static int escape(struct jin *j, uint32_t *cp)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;
	uint32_t lo;

	if (j->p >= j->end)
		return -EINVAL;
	if (*j->p != 'u') {
		k = *j->p ? strchr(from, *j->p) : NULL;
		if (!k)
			return -EINVAL;
		*cp = (unsigned char)to[k - from];
		j->p++;
		return 0;
	}
	j->p++;
	if (hex4(j, cp) < 0)
		return -EINVAL;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return -EINVAL; /* a low surrogate first */
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
		return -EINVAL;
	j->p += 2;
	if (hex4(j, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
		return -EINVAL;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/* One UTF-8 sequence, strictly: no overlong form, no surrogate, <= U+10FFFF. */
static int utf8(struct jin *j, uint32_t *cp)
{
	unsigned char c = *j->p;
	unsigned int n, i;
	uint32_t min;

	if (c < 0x80) {
		*cp = c;
		j->p++;
		return 0;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1, *cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2, *cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3, *cp = c & 0x07, min = 0x10000;
	} else {
		return -EINVAL;
	}
	if ((size_t)(j->end - j->p) <= n)
		return -EINVAL;
	for (i = 1; i <= n; i++) {
		if ((j->p[i] & 0xc0) != 0x80)
			return -EINVAL;
		*cp = *cp << 6 | (j->p[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return -EINVAL;
	j->p += n + 1;
	return 0;
}

static int string(struct jin *j)
{
	const unsigned char *start = j->p;
	uint32_t cp;

	j->p++; /* the opening quote */
	if (put(j->b, "\"", 1) < 0)
		return -ENOSPC;
	for (;;) {
		if (j->p >= j->end || j->p - start > JSONIN_STRING)
			return -EINVAL;
		if (*j->p == '"')
			break;
		if (*j->p < 0x20)
			return -EINVAL;
		if (*j->p == '\\') {
			j->p++;
			if (escape(j, &cp) < 0)
				return -EINVAL;
		} else if (utf8(j, &cp) < 0) {
			return -EINVAL;
		}
		if (put_cp(j->b, cp) < 0)
			return -ENOSPC;
	}
	j->p++;
	return put(j->b, "\"", 1);
}

static bool digit(struct jin *j)
{
	return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, copied as it came. */
static int number(struct jin *j)
{
	const unsigned char *start = j->p;

	if (*j->p == '-')
		j->p++;
	if (!digit(j))
		return -EINVAL;
	if (*j->p++ != '0')
		while (digit(j))
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (!digit(j))
			return -EINVAL;
		while (digit(j))
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (!digit(j))
			return -EINVAL;
		while (digit(j))
			j->p++;
	}
	if (j->p - start > JSONIN_NUMBER)
		return -EINVAL;
	return put(j->b, (const char *)start, (size_t)(j->p - start));
}

static int literal(struct jin *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n))
		return -EINVAL;
	j->p += n;
	return put(j->b, word, n);
}

static int value(struct jin *j);

/* The members of an object or the elements of an array, after the bracket. */
static int members(struct jin *j, bool object)
{
	const char close = object ? '}' : ']';
	struct span *keys = j->keys[j->depth - 1];
	unsigned int n = 0, i;
	int ret;

	if (put(j->b, object ? "{" : "[", 1) < 0)
		return -ENOSPC;
	skip_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return put(j->b, &close, 1);
	}
	for (;;) {
		skip_ws(j);
		if (object) {
			struct span k = { .off = j->b->len };

			if (j->p >= j->end || *j->p != '"' || n >= JSONIN_KEYS)
				return -EINVAL;
			ret = string(j);
			if (ret < 0)
				return ret;
			k.len = j->b->len - k.off;
			/* one spelling per code point sequence: equal output, equal key */
			for (i = 0; i < n; i++)
				if (keys[i].len == k.len &&
				    !memcmp(j->b->p + keys[i].off, j->b->p + k.off, k.len))
					return -EINVAL;
			keys[n] = k;
			skip_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return -EINVAL;
			j->p++;
			if (put(j->b, ":", 1) < 0)
				return -ENOSPC;
		}
		n++;
		ret = value(j);
		if (ret < 0)
			return ret;
		skip_ws(j);
		if (j->p >= j->end)
			return -EINVAL;
		if (*j->p == close) {
			j->p++;
			return put(j->b, &close, 1);
		}
		if (*j->p != ',')
			return -EINVAL;
		j->p++;
		if (put(j->b, ",", 1) < 0)
			return -ENOSPC;
	}
}

static int value(struct jin *j)
{
	int ret;

	skip_ws(j);
	if (j->p >= j->end)
		return -EINVAL;
	switch (*j->p) {
	case '{':
	case '[':
		if (j->depth >= JSONIN_DEPTH)
			return -EINVAL;
		j->depth++;
		j->p++;
		ret = members(j, j->p[-1] == '{');
		j->depth--;
		return ret;
	case '"':
		return string(j);
	case 't':
		return literal(j, "true");
	case 'f':
		return literal(j, "false");
	case 'n':
		return literal(j, "null");
	default:
		return number(j);
	}
}

int json_reencode(const char *in, size_t len, struct jbuf *b)
{
	struct jin j = { .p = (const unsigned char *)in,
			 .end = (const unsigned char *)in + len,
			 .b = b };
	int ret;

	j.keys = calloc(JSONIN_DEPTH, sizeof(*j.keys));
	if (!j.keys)
		return -ENOMEM;
	ret = value(&j);
	if (ret == 0) {
		skip_ws(&j);
		if (j.p != j.end)
			ret = -EINVAL;
	}
	free(j.keys);
	if (ret == 0 && b->full)
		ret = -ENOSPC;
	return ret;
}
