// SPDX-License-Identifier: GPL-2.0-only
/*
 * stderr logging with levels, every message made inert for a terminal.
 * fatal()/fatalx() are for broken invariants only, never for bad network
 * input (that closes a session instead).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int log_level = LOG_LVL_WARN;

/*
 * Messages quote what others sent (names from DNS queries, a proxy's
 * reply, a peer's address) and end up on a terminal: every byte that is not
 * printable ASCII is written as \xHH, so none can be a terminal escape or
 * forge a line of its own.
 */
static void inert(char *out, size_t cap, const char *in)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *in && o + 5 < cap; in++) {
		unsigned char c = (unsigned char)*in;

		if (c >= 0x20 && c < 0x7f) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	out[o] = '\0';
}

__attribute__((format(printf, 2, 0))) static void vlog(int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[1024], safe[sizeof(msg) * 4];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	inert(safe, sizeof(safe), msg);
	if (with_errno)
		fprintf(stderr, "proxyvpn: %s: %s\n", safe, strerror(saved));
	else
		fprintf(stderr, "proxyvpn: %s\n", safe);
	errno = saved;
}

#define LOGFN(name, lvl, with_errno)       \
	void name(const char *fmt, ...)    \
	{                                  \
		va_list ap;                \
		if (log_level < (lvl))     \
			return;            \
		va_start(ap, fmt);         \
		vlog(with_errno, fmt, ap); \
		va_end(ap);                \
	}

LOGFN(log_warn, LOG_LVL_WARN, 1)
LOGFN(log_warnx, LOG_LVL_WARN, 0)
LOGFN(log_notice, LOG_LVL_WARN, 0)
LOGFN(log_info, LOG_LVL_INFO, 0)
LOGFN(log_debug, LOG_LVL_DEBUG, 0)
LOGFN(log_error, LOG_LVL_QUIET, 0)

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(1, fmt, ap);
	va_end(ap);
	exit(125);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(0, fmt, ap);
	va_end(ap);
	exit(125);
}

void errbuf_set(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}
