// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target for url_parse(): the parser is included, so static helpers
 * are covered too. Checks the success invariants and that a failure leaves
 * no partial state (credentials included) behind.
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
		url_clear(&u);
		if (u.user[0] || u.pass[0] || u.has_auth)
			abort();
	} else {
		if (ret != -EINVAL || !why || u.host[0] || u.user[0] || u.pass[0] || u.port)
			abort();
	}
	free(s);
	return 0;
}
