// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for hostconf.c: the same bytes as a host resolv.conf,
 * nsswitch.conf and D-Bus address list. The first byte picks the output
 * room, so the no-room paths run too. A rewritten resolv.conf holds only
 * our header and kept lines; a rewritten nsswitch.conf needs no second
 * rewrite and is no longer than the room; every D-Bus path is absolute.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/hostconf.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static void check_resolv(const char *in, size_t len, size_t cap)
{
	static const char head[] = "# written by proxyvpn exec: DNS is answered by proxyvpn\n"
				   "nameserver 198.18.0.2\n";
	char *out = malloc(cap ? cap : 1);
	ssize_t n;
	size_t pos, l;
	const char *line;

	if (!out)
		return;
	n = resolv_rewrite(in, len, "198.18.0.2", out, cap);
	if (n == -ENOSPC) {
		if (cap >= sizeof(head))
			abort();
		free(out);
		return;
	}
	if (n < 0 || (size_t)n >= cap || strlen(out) != (size_t)n ||
	    strncmp(out, head, sizeof(head) - 1))
		abort();
	/* Only kept lines after the header, each no longer than the limit. */
	pos = sizeof(head) - 1;
	while ((line = next_line(out, (size_t)n, &pos, &l)))
		if (l > RESOLV_LINE_MAX || !resolv_keep(line, l))
			abort();
	/* Nothing invented: at most one '\n' added (to a last line). */
	if ((size_t)n > sizeof(head) - 1 + len + 1)
		abort();
	free(out);
}

static void check_nsswitch(const char *in, size_t len, size_t cap)
{
	char *out = malloc(cap ? cap : 1), again[64], dropped[32];
	int ret;

	if (!out)
		return;
	ret = nsswitch_rewrite(in, len, out, cap, dropped, sizeof(dropped));
	if (ret != 0 && ret != 1 && ret != -ENOSPC && ret != -EINVAL)
		abort();
	if (strlen(dropped) >= sizeof(dropped))
		abort();
	if (ret == 1) {
		size_t n = strlen(out);

		if (n >= cap || !dropped[0])
			abort();
		/* The result drops nothing more (a fixed point). */
		if (nsswitch_rewrite(out, n, again, sizeof(again), NULL, 0) != 0)
			abort();
	}
	free(out);
}

static void check_dbus(const char *in)
{
	char path[32];
	size_t pos = 0, last = 0;
	int ret, n = 0;

	while ((ret = dbus_addr_next_path(in, &pos, path, sizeof(path))) == 1) {
		if (path[0] != '/' || strlen(path) >= sizeof(path) || pos <= last ||
		    pos > strlen(in))
			abort();
		last = pos;
		if (++n > 10000)
			abort();
	}
	if (ret != 0 && ret != -EINVAL && ret != -ENAMETOOLONG)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	size_t cap;
	char *s;

	if (len < 1 || len > HOSTCONF_FILE_MAX)
		return 0;
	cap = (size_t)data[0] * 8;
	data++;
	len--;
	s = malloc(len + 1);
	if (!s)
		return 0;
	memcpy(s, data, len);
	s[len] = 0;
	check_resolv(s, len, cap);
	check_nsswitch(s, len, cap);
	check_dbus(s);
	free(s);
	return 0;
}
