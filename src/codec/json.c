// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bounded JSON output for `proxyvpn status --json` and the control socket:
 * a string escaper and an append-only writer into a fixed buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

size_t json_escape(char *dst, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, out = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char e[6];
		size_t k, elen = 2;

		e[0] = '\\';
		switch (c) {
		case '"':
			e[1] = '"';
			break;
		case '\\':
			e[1] = '\\';
			break;
		case '\b':
			e[1] = 'b';
			break;
		case '\f':
			e[1] = 'f';
			break;
		case '\n':
			e[1] = 'n';
			break;
		case '\r':
			e[1] = 'r';
			break;
		case '\t':
			e[1] = 't';
			break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				e[0] = (char)c;
				elen = 1;
			} else {
				memcpy(e + 1, "u00", 3);
				e[4] = hex[c >> 4];
				e[5] = hex[c & 15];
				elen = 6;
			}
			break;
		}
		for (k = 0; k < elen; k++, out++)
			if (out < cap)
				dst[out] = e[k];
	}
	return out;
}

void jb_init(struct jbuf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->cap = cap;
	b->len = 0;
	b->full = false;
	b->p[0] = '\0';
}

size_t jb_room(const struct jbuf *b)
{
	return b->full ? 0 : b->cap - 1 - b->len;
}

static void append(struct jbuf *b, const char *s, size_t n)
{
	if (b->full || n > jb_room(b)) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void jb_raw(struct jbuf *b, const char *s)
{
	append(b, s, strlen(s));
}

void jb_printf(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n > jb_room(b)) {
		b->p[b->len] = '\0'; /* drop the partial append */
		b->full = true;
		return;
	}
	b->len += (size_t)n;
}

void jb_str(struct jbuf *b, const char *s, size_t n)
{
	size_t need = json_escape(NULL, 0, s, n);

	if (b->full || need + 2 > jb_room(b)) {
		b->full = true;
		return;
	}
	b->p[b->len++] = '"';
	json_escape(b->p + b->len, need, s, n);
	b->len += need;
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

void jb_key(struct jbuf *b, const char *key)
{
	jb_printf(b, "\"%s\":", key);
}

void jb_kv_u64(struct jbuf *b, const char *key, uint64_t v)
{
	jb_printf(b, "\"%s\":%llu", key, (unsigned long long)v);
}

void jb_kv_str(struct jbuf *b, const char *key, const char *s)
{
	jb_key(b, key);
	jb_str(b, s, strlen(s));
}

void jb_kv_bool(struct jbuf *b, const char *key, bool v)
{
	jb_printf(b, "\"%s\":%s", key, v ? "true" : "false");
}
