// SPDX-License-Identifier: GPL-2.0-only
/* proxyvpn: subcommand table and the top-level options. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "url.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "exec", cmd_exec, "run one command with all its TCP through the proxy" },
};

void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: proxyvpn COMMAND [OPTIONS]\n"
		   "       proxyvpn --help | --version\n\n"
		   "Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"proxyvpn exec [--proxy URL] [--mtu N] [-v|-q] -- COMMAND [ARG...]\n"
		"  Runs COMMAND in private user, network and mount namespaces whose only\n"
		"  route is a TUN device; every TCP connection it makes is opened through\n"
		"  the proxy. Needs no privilege where /dev/net/tun is usable (mode 0666).\n"
		"  UDP, ICMP and DNS are not carried in this version: use IP addresses.\n\n"
		"  -p, --proxy URL  socks5://[user[:pass]@]host:port  (socks5h:// is the same)\n"
		"                   http://[user[:pass]@]host:port    (HTTP CONNECT)\n"
		"                   IPv6 hosts in brackets; percent-encode special characters\n"
		"                   in credentials. Default: %s\n"
		"  -m, --mtu N      TUN MTU, 1280-65535 (default 1500)\n"
		"  -v, --verbose    more logging (twice for debug)\n"
		"  -q, --quiet      errors only\n\n"
		"Exit status:\n"
		"  the command's own status, or 128+N if it was killed by signal N;\n"
		"  2    usage error (bad option, malformed URL, missing -- or command)\n"
		"  125  proxyvpn failed (namespace or TUN setup, proxy not resolvable)\n"
		"  126  the command was found but could not be executed\n"
		"  127  the command was not found\n",
		PROXY_URL_DEFAULT);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("proxyvpn %s\n", PROXYVPN_VERSION);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	log_error("unknown command `%s' (see proxyvpn --help)", argv[1]);
	return EXIT_USAGE;
}
