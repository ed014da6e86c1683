// SPDX-License-Identifier: GPL-2.0-only
/*
 * stderr logging with levels. fatal()/fatalx() are for broken invariants only,
 * never for bad network input (that closes a session instead).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int log_level = LOG_LVL_WARN;

__attribute__((format(printf, 2, 0))) static void vlog(int with_errno, const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno)
		fprintf(stderr, "proxyvpn: %s: %s\n", msg, strerror(saved));
	else
		fprintf(stderr, "proxyvpn: %s\n", msg);
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
