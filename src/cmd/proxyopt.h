/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where `exec` and `up` take the proxy URL from, and how its password is
 * kept out of sight: --proxy-file FILE (ours or root's, no access for
 * group or others, no symlink, one line), --proxy URL (the password is
 * overwritten in argv at once, with a warning that says why the file is
 * better), or the environment's PROXYVPN_PROXY (wiped and unset, so a
 * command run by exec does not inherit it); else PROXY_URL_DEFAULT. Error
 * messages never quote the URL. A process holding a password is made
 * non-dumpable: no core dump, and no /proc/PID/{mem,environ} for processes
 * of the same uid (the command under exec).
 */
#ifndef PROXYVPN_PROXYOPT_H
#define PROXYVPN_PROXYOPT_H

#include "url.h"

#define PROXY_ENV "PROXYVPN_PROXY"

enum { OPT_PROXY_FILE = 0x280 }; /* getopt value of --proxy-file in exec and up */

/*
 * Fills *u from file (--proxy-file; NULL if not given) or arg (--proxy, a
 * string of argv, rewritten in place; NULL if not given), else from the
 * environment, else the default. 0, or -1 after logging one line (a usage
 * error: both options, a refused or unreadable file, a bad URL).
 */
int proxy_opt_load(const char *file, char *arg, struct proxy_url *u);

/*
 * Reads a proxy file into buf (cap bytes at most): a regular file (not a
 * symlink: O_NOFOLLOW), owned by the real uid or root, with no permission
 * for group or others, of at most cap bytes. Returns the length, or -errno
 * with *why naming the refusal.
 */
long proxy_file_read(const char *path, char *buf, size_t cap, const char **why);

#endif
