/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one parser of unsigned integers, for options, the state file and
 * every other number given as text. Strict: the whole span is the number,
 * in decimal (a leading 0 does not mean octal) or, with NUM_HEX, 0x/0X and
 * hex digits; no sign, no space, no empty string, nothing after it.
 * NUM_CANON also refuses leading zeros (one spelling per value, as the
 * state file writes them).
 */
#ifndef PROXYVPN_NUM_H
#define PROXYVPN_NUM_H

#include <stddef.h>
#include <stdint.h>

enum {
	NUM_HEX = 1 << 0,   /* 0x / 0X then hex digits, or decimal */
	NUM_CANON = 1 << 1, /* no leading zero (but "0" itself) */
};

/*
 * s[0..len) as one number in [min, max]. 0 with *out set; -EINVAL (not a
 * number of that form) or -ERANGE (a number outside the range, however
 * long); *out untouched on error. Pure.
 */
int num_parse(const char *s, size_t len, unsigned int flags, uint64_t min, uint64_t max,
	      uint64_t *out);

/* The same for a NUL-terminated string and a 32-bit result. */
int num_u32(const char *s, unsigned int flags, uint32_t min, uint32_t max, uint32_t *out);

#endif
