/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The resolvers `up' lets through the killswitch when none are given
 * (--allow-dns): the nameservers of /etc/resolv.conf, or, when it names
 * only loopback stubs (systemd-resolved's 127.0.0.53), the upstreams in
 * systemd-resolved's own resolv.conf. Loopback is always allowed, so it is
 * never listed.
 */
#ifndef PROXYVPN_RESOLV_H
#define PROXYVPN_RESOLV_H

#include <stddef.h>

#include "fw.h"

#define RESOLV_CONF    "/etc/resolv.conf"
#define RESOLV_SYSTEMD "/run/systemd/resolve/resolv.conf"

enum { RESOLV_FILE_MAX = 64 * 1024 }; /* bytes read of one file; a cut last line is dropped */

/*
 * Pure: the nameservers in the resolv.conf text buf[0..len), in file
 * order. A line counts when its first word is "nameserver" and a second
 * word follows; an IPv6 scope (fe80::1%eth0) is cut off; an address that is
 * not an IPv4/IPv6 literal, a loopback one, or one past max is not stored.
 * Appends to out[*n..max) and returns how many lines named a nameserver.
 */
int resolv_parse(const char *buf, size_t len, struct fw_net *out, size_t max, size_t *n);

/* resolv_parse() of the file at path (its first RESOLV_FILE_MAX bytes): the count, or -errno. */
int resolv_read(const char *path, struct fw_net *out, size_t max, size_t *n);

/*
 * RESOLV_CONF's nameservers, or RESOLV_SYSTEMD's if RESOLV_CONF named some
 * but all were loopback. Sets *n and returns the path the list came from.
 */
const char *resolv_allowed(struct fw_net *out, size_t max, size_t *n);

#endif
