/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Logging in the err(3)/ntpd shape: the *_warn forms append strerror(errno),
 * the *x forms do not. Everything goes to stderr prefixed "proxyvpn: ".
 * Proxy credentials are never passed to these functions.
 */
#ifndef PROXYVPN_LOG_H
#define PROXYVPN_LOG_H

#include <stddef.h>
#include <stdnoreturn.h>

enum log_level { LOG_LVL_QUIET = 0, LOG_LVL_WARN = 1, LOG_LVL_INFO = 2, LOG_LVL_DEBUG = 3 };

extern int log_level;

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Not a problem, but something the user must hear at the default level
 * (silenced by -q only): what `up` does to traffic it did not use to touch.
 */
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Always printed, whatever the level: the one line naming a bad input. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A message for the caller's error buffer (NULL or 0 bytes: none), not logged. */
void errbuf_set(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
