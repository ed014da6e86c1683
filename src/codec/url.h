/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Proxy URL: socks5://, socks5h:// (same thing: we always send names to the
 * proxy), http:// (HTTP CONNECT). Pure parser plus a resolver used once at
 * start. Credentials are percent-decoded here and wiped by url_clear().
 */
#ifndef PROXYVPN_URL_H
#define PROXYVPN_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum proxy_type {
	PROXY_SOCKS5,
	PROXY_HTTP,
};

enum {
	URL_MAX = 2048,	    /* whole --proxy argument */
	URL_HOST_MAX = 255, /* DNS name limit; also SOCKS5 DOMAINNAME */
	URL_CRED_MAX = 255, /* RFC 1929 UNAME / PASSWD limit */
};

struct proxy_url {
	enum proxy_type type;
	char host[URL_HOST_MAX + 1]; /* IPv6 literal without brackets */
	uint16_t port;
	bool has_auth;
	char user[URL_CRED_MAX + 1]; /* decoded, NUL-free */
	char pass[URL_CRED_MAX + 1];
};

#define PROXY_URL_DEFAULT "socks5://127.0.0.1:1080"

/*
 * Parses s into *u. Returns 0, or -EINVAL with *why pointing at a static
 * English phrase (e.g. "unknown scheme", "port must be 1-65535") suitable for
 * "invalid proxy URL `%s': %s". Never echoes credentials in *why.
 */
int url_parse(const char *s, struct proxy_url *u, const char **why);

/*
 * The contents of a --proxy-file: the URL, then at most one line end ("\n"
 * or "\r\n"), nothing else (no second line, no NUL, at most URL_FILE_MAX
 * bytes). Parsed into *u as by url_parse. 0, or -EINVAL with *why static
 * (never quoting the input).
 */
enum { URL_FILE_MAX = URL_MAX + 2 };
int url_parse_file(const char *buf, size_t len, struct proxy_url *u, const char **why);

/*
 * Overwrites the password of the URL string s with '*' in place (the bytes
 * between the userinfo's first ':' and the authority's last '@', as
 * url_parse splits them), for a copy that others can see (argv). Returns
 * true if there was one. s must be one url_parse accepted.
 */
bool url_hide_password(char *s);

/*
 * Resolves u->host once (getaddrinfo, numeric literals without DNS).
 * Returns 0 and fills *ss and *len with the first address, port set;
 * -ENOENT (no such host), -EAGAIN (temporary failure) or -EINVAL (any
 * other resolver error) otherwise.
 */
int url_resolve(const struct proxy_url *u, struct sockaddr_storage *ss, socklen_t *len);

/* "socks5" / "http": for messages. */
const char *url_scheme_name(enum proxy_type t);

/* explicit_bzero() of the credentials. */
void url_clear(struct proxy_url *u);

#endif
