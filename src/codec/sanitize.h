/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the engine says, made safe to show (issue 13 item 10). The engine
 * is the process an attacker would own first: the text and JSON it sends
 * for `status` are untrusted input to the client. Text is shown with every
 * control byte escaped (no terminal escape sequence gets through); JSON is
 * parsed strictly and written again by the client, never passed through,
 * so a reply cannot close the object it is embedded in and add fields of
 * its own. Pure.
 */
#ifndef PROXYVPN_SANITIZE_H
#define PROXYVPN_SANITIZE_H

#include <stddef.h>

#include "json.h"

enum {
	JSONIN_DEPTH = 16,     /* nested arrays and objects */
	JSONIN_KEYS = 256,     /* keys per object (each checked against the others) */
	JSONIN_NUMBER = 40,    /* bytes of one number */
	JSONIN_STRING = 65536, /* bytes of one string as sent */
};

/*
 * s[0..n) for a terminal: printable ASCII, newline and tab as they are,
 * every other byte (controls, DEL, anything >= 0x80) as \xHH, a backslash
 * as \\. Writes at most cap bytes (no NUL) to dst (NULL with cap 0 to
 * measure) and returns the full length, which may exceed cap.
 */
size_t sanitize_text(char *dst, size_t cap, const char *s, size_t n);

/*
 * Parses in[0..len) as exactly one JSON value (RFC 8259; whitespace around
 * it allowed, nothing else; strings valid UTF-8, surrogates paired; no
 * repeated key in an object; within the JSONIN_* limits) and appends it to
 * b, compact and in ASCII: every code point outside 0x20-0x7e, and `"` and
 * `\`, escaped. The output parses back to the same value and is a fixed
 * point. Returns 0, -EINVAL (not such a value; b may hold a partial
 * append), -ENOSPC (b ran full) or -ENOMEM.
 */
int json_reencode(const char *in, size_t len, struct jbuf *b);

#endif
