// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allowed-resolver discovery for `up' (see resolv.h). The files are written
 * by root, but their nameserver lines come from DHCP and the like: the
 * parser bounds every line and word and takes only address literals.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolv.h"

enum { WORD_MAX = 63 }; /* an address word longer than this is not an address */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_loopback(const struct fw_net *x)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (x->family == AF_INET)
		return x->addr[0] == 127;
	return memcmp(x->addr, lo6, 16) == 0;
}

/* The next word of line[*i..len): its start and length (0 at the end). */
static size_t word(const char *line, size_t len, size_t *i, const char **w)
{
	size_t start;

	while (*i < len && is_space(line[*i]))
		(*i)++;
	start = *i;
	while (*i < len && !is_space(line[*i]))
		(*i)++;
	*w = line + start;
	return *i - start;
}

/* One line (without its newline): 1 if it names a nameserver, stored in out if usable. */
static int one_line(const char *line, size_t len, struct fw_net *out, size_t max, size_t *n)
{
	char addr[WORD_MAX + 1];
	const char *w, *pct;
	struct fw_net x;
	size_t i = 0, wl;

	wl = word(line, len, &i, &w);
	if (wl != strlen("nameserver") || memcmp(w, "nameserver", wl) != 0)
		return 0;
	wl = word(line, len, &i, &w);
	if (wl == 0)
		return 0;
	pct = memchr(w, '%', wl); /* a scoped IPv6 literal is kept without its scope */
	if (pct)
		wl = (size_t)(pct - w);
	if (wl > WORD_MAX || memchr(w, '\0', wl))
		return 1;
	memcpy(addr, w, wl);
	addr[wl] = '\0';
	if (fw_net_parse(addr, false, &x) == 0 && !is_loopback(&x) && *n < max)
		out[(*n)++] = x;
	return 1;
}

int resolv_parse(const char *buf, size_t len, struct fw_net *out, size_t max, size_t *n)
{
	size_t off = 0;
	int seen = 0;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - (buf + off)) : len - off;

		seen += one_line(buf + off, ll, out, max, n);
		off += ll + 1;
	}
	return seen;
}

int resolv_read(const char *path, struct fw_net *out, size_t max, size_t *n)
{
	char *buf = malloc(RESOLV_FILE_MAX);
	size_t len = 0;
	ssize_t got;
	int fd, ret = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		free(buf);
		return ret;
	}
	while (len < RESOLV_FILE_MAX) {
		got = read(fd, buf + len, RESOLV_FILE_MAX - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			ret = -errno;
		if (got <= 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	if (ret == 0) {
		/* a file longer than we read: its cut last line is not a line */
		if (len == RESOLV_FILE_MAX) {
			const char *nl = memrchr(buf, '\n', len);

			len = nl ? (size_t)(nl - buf) : 0;
		}
		ret = resolv_parse(buf, len, out, max, n);
	}
	free(buf);
	return ret;
}

const char *resolv_allowed(struct fw_net *out, size_t max, size_t *n)
{
	int seen;

	*n = 0;
	seen = resolv_read(RESOLV_CONF, out, max, n);
	if (*n == 0 && seen > 0) {
		/* only loopback stubs (systemd-resolved): allow its upstreams */
		resolv_read(RESOLV_SYSTEMD, out, max, n);
		return RESOLV_SYSTEMD;
	}
	return RESOLV_CONF;
}
