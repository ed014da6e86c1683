/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The owner of the host's objects (issue 13, "one host, one owner"): the one
 * live `up`, named in the kernel objects themselves (the nftables table's
 * comment, the TUN's ifalias) as
 *
 *     proxyvpn uid=U pid=P start=S
 *
 * U is the real uid that ran `up`, P its pid and S its start time
 * (/proc/P/stat field 22, clock ticks after boot): pid and start time name
 * one process of this boot, so a pid the kernel has given to another
 * process since is not taken for the owner. The kernel objects do not
 * survive a reboot, and neither does what the record means. Pure.
 */
#ifndef PROXYVPN_OWNER_H
#define PROXYVPN_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OWNER_TAG "proxyvpn" /* also the whole comment of tables made before owners */

enum {
	OWNER_STR_MAX = 80,	 /* "proxyvpn uid=4294967294 pid=4194304 start=<20 digits>" */
	OWNER_PID_MAX = 4194304, /* PID_MAX_LIMIT */
	OWNER_STAT_MAX = 4096,	 /* /proc/PID/stat is read up to this */
};

struct owner {
	uint32_t uid;	/* 0 .. 2^32-2 (-1 is no uid) */
	uint32_t pid;	/* 1 .. OWNER_PID_MAX */
	uint64_t start; /* clock ticks after boot */
};

/*
 * The record, NUL-terminated, into buf. Returns its length (< len), -EINVAL
 * for fields out of range, -ENOSPC if buf is too small.
 */
int owner_format(const struct owner *o, char *buf, size_t len);

/*
 * Strict: s[0..len) must be exactly what owner_format() writes (decimal
 * without leading zeros, single spaces, nothing after). 0 with *o set;
 * -ENODATA for the bare OWNER_TAG (a table of ours from before owners were
 * recorded: ours, owner unknown); -EINVAL for anything else. *o is zeroed
 * on failure.
 */
int owner_parse(const char *s, size_t len, struct owner *o);

bool owner_eq(const struct owner *a, const struct owner *b);

/*
 * The start time (field 22) of a /proc/PID/stat line in buf[0..len). The
 * command name (field 2) may hold spaces and parentheses: the fields are
 * counted from the last ')'. 0, or -EINVAL if the line is not of that form.
 */
int owner_stat_start(const char *buf, size_t len, uint64_t *start);

#endif
