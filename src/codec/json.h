/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A bounded JSON writer: text appended into a caller-owned buffer of fixed
 * capacity. Nothing ever writes past it; once something does not fit, the
 * buffer is marked full and every later append is dropped, so a caller
 * checks once at the end. No allocation.
 */
#ifndef PROXYVPN_JSON_H
#define PROXYVPN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jbuf {
	char *p; /* always NUL-terminated */
	size_t len;
	size_t cap; /* bytes at p, the NUL included */
	bool full;  /* an append did not fit: the text is cut short */
};

/* cap >= 1. */
void jb_init(struct jbuf *b, char *mem, size_t cap);
void jb_raw(struct jbuf *b, const char *s);
void jb_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A quoted, escaped string: s[0..n) as bytes (see json_escape). */
void jb_str(struct jbuf *b, const char *s, size_t n);
/* "key": (the key is trusted: written unescaped) */
void jb_key(struct jbuf *b, const char *key);
void jb_kv_u64(struct jbuf *b, const char *key, uint64_t v);
void jb_kv_str(struct jbuf *b, const char *key, const char *s);
void jb_kv_bool(struct jbuf *b, const char *key, bool v);
/* Bytes left before the buffer is full. */
size_t jb_room(const struct jbuf *b);

/*
 * Escapes s[0..n) for the inside of a JSON string: `"` and `\` get a
 * backslash, \b \f \n \r \t their short forms, other bytes below 0x20 and
 * 0x7f-0xff become \u00XX (so any input, valid UTF-8 or not, gives plain
 * ASCII JSON). Writes at most cap bytes (no NUL) to dst (NULL with cap 0 to
 * measure). Returns the full escaped length, which may exceed cap.
 */
size_t json_escape(char *dst, size_t cap, const char *s, size_t n);

#endif
