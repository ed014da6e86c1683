/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host's name-service files as exec's namespace sees them: pure
 * functions over bytes already read (the caller opens nothing here).
 * resolv.conf is rewritten to name only our resolver, nsswitch.conf's
 * hosts: line loses the services that need a daemon of the host, and a
 * D-Bus address list gives up the socket paths it names.
 */
#ifndef PROXYVPN_HOSTCONF_H
#define PROXYVPN_HOSTCONF_H

#include <stddef.h>
#include <sys/types.h>

enum {
	HOSTCONF_FILE_MAX = 64 * 1024, /* larger host files are not read past this */
	RESOLV_LINE_MAX = 512,	       /* longer resolv.conf lines are dropped */
	NSSWITCH_LINE_MAX = 1024,      /* longer nsswitch.conf lines make the file refused */
};

/*
 * The namespace's resolv.conf: a comment, "nameserver NS", then the host's
 * search, domain and options lines from in[0..len) (complete lines of at
 * most RESOLV_LINE_MAX bytes, no NUL, in their order; a last line without
 * '\n' gets one). Lines that no longer fit in cap are dropped. Returns the
 * length written (out NUL-terminated), or -ENOSPC if not even the first two
 * lines fit, -EINVAL if ns is empty or holds a space or control character.
 */
ssize_t resolv_rewrite(const char *in, size_t len, const char *ns, char *out, size_t cap);

/*
 * nsswitch.conf with every hosts: line (database name in any case) keeping
 * only the services that answer without a daemon of the host: files, dns
 * and myhostname, each with the [STATUS=action] groups that follow it, and
 * dns appended if it is not among them (a dropped resolve or mdns module
 * was how names got resolved). Comments on a rewritten line go.
 * Returns 0 if no hosts: line names another service (out untouched), 1
 * with the new file in out (NUL-terminated) and the dropped services,
 * space-separated, in dropped (truncated to dcap, NUL-terminated; may be
 * NULL), -ENOSPC if it does not fit in cap, -EINVAL if a line is longer
 * than NSSWITCH_LINE_MAX, holds a NUL or has an unclosed '['.
 */
int nsswitch_rewrite(const char *in, size_t len, char *out, size_t cap, char *dropped, size_t dcap);

/*
 * The next unix:path= socket path of a D-Bus address list ("unix:path=
 * /run/dbus/system_bus_socket;tcp:host=..."), percent-decoded into path.
 * *pos starts at 0 and is advanced. Returns 1 with a path (absolute,
 * NUL-free), 0 when no address is left, -EINVAL for a malformed address
 * (bad escape, a key without '=', a relative or NUL-holding path), or
 * -ENAMETOOLONG. Other transports and unix:abstract= are skipped: an
 * abstract socket belongs to the network namespace, out of reach anyway.
 */
int dbus_addr_next_path(const char *addr, size_t *pos, char *path, size_t cap);

#endif
