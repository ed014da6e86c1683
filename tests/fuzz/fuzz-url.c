// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for url_parse() and url_parse_file() (the same input as
 * a --proxy-file's contents): the parser is included, so static helpers are
 * covered too. Checks the success invariants, that a failure leaves no
 * partial state (credentials included) behind, that a file parses as its
 * line does, and that url_hide_password() leaves a URL that parses to the
 * same proxy with a password of '*' only.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/codec/url.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct proxy_url u;
	const char *why = NULL;
	char *s;
	int ret;

	if (len > URL_MAX + 16)
		return 0;
	s = malloc(len + 1);
	if (!s)
		return 0;
	memcpy(s, data, len);
	s[len] = '\0';

	ret = url_parse(s, &u, &why);
	if (ret == 0) {
		size_t hl = strnlen(u.host, sizeof(u.host));

		if (why || u.port == 0 || hl == 0 || hl > URL_HOST_MAX)
			abort();
		if (u.type != PROXY_SOCKS5 && u.type != PROXY_HTTP)
			abort();
		if (strnlen(u.user, sizeof(u.user)) > URL_CRED_MAX ||
		    strnlen(u.pass, sizeof(u.pass)) > URL_CRED_MAX)
			abort();
		if (u.has_auth != (u.user[0] != '\0'))
			abort();
		if (!u.has_auth && u.pass[0])
			abort();
		for (size_t i = 0; i < hl; i++)
			if (!host_char(u.host[i]) && u.host[i] != ':')
				abort();
		/* Only what came in can come out: no more than the input length. */
		if (hl > len || strlen(u.user) > len || strlen(u.pass) > len)
			abort();
		{
			struct proxy_url h;
			char *c = strdup(s);
			size_t i;

			if (!c)
				abort();
			/* a non-empty password decodes from a non-empty one */
			if (url_hide_password(c) != (u.pass[0] != '\0'))
				abort();
			/* only password bytes changed, each to a '*' */
			for (i = 0; s[i]; i++)
				if (c[i] != s[i] && c[i] != '*')
					abort();
			/* same proxy, unless the raw password (%XX) is over the decoded limit */
			if (url_parse(c, &h, &why) != 0) {
				if (strcmp(why, "password longer than 255 bytes"))
					abort();
			} else if (h.port != u.port || h.type != u.type || strcmp(h.host, u.host) ||
				   strcmp(h.user, u.user) || h.has_auth != u.has_auth) {
				abort();
			}
			for (i = 0; h.pass[i]; i++)
				if (h.pass[i] != '*')
					abort();
			url_clear(&h);
			free(c);
		}
		url_clear(&u);
		if (u.user[0] || u.pass[0] || u.has_auth)
			abort();
	} else {
		if (ret != -EINVAL || !why || u.host[0] || u.user[0] || u.pass[0] || u.port)
			abort();
	}
	{
		struct proxy_url f, l;
		int fr = url_parse_file((const char *)data, len, &f, &why), lr;
		size_t n = len;

		if (fr == 0 && (why || !f.port || !f.host[0]))
			abort();
		if (fr < 0 && (fr != -EINVAL || !why || f.host[0] || f.pass[0] || f.has_auth))
			abort();
		/* a file is its one line: the same verdict and proxy */
		if (n && data[n - 1] == '\n')
			n--;
		if (n && data[n - 1] == '\r')
			n--;
		if (!memchr(data, '\0', n) && !memchr(data, '\n', n)) {
			s[n] = '\0';
			lr = url_parse(s, &l, NULL);
			if ((lr == 0) != (fr == 0 && n > 0))
				abort();
			if (lr == 0 && (l.port != f.port || strcmp(l.host, f.host) ||
					strcmp(l.pass, f.pass) || strcmp(l.user, f.user)))
				abort();
			url_clear(&l);
		}
		url_clear(&f);
	}
	free(s);
	return 0;
}
