// SPDX-License-Identifier: GPL-2.0-only
/* The help text: keep it true to what the commands accept. */
#include <stdio.h>

#include "cli.h"
#include "url.h"

void usage(FILE *f)
{
	fprintf(f,
		"Usage: proxyvpn COMMAND [OPTIONS]\n"
		"       proxyvpn --help | --version\n\n"
		"Commands:\n"
		"  exec     run one command with all its TCP through the proxy\n\n"
		"proxyvpn exec [--proxy URL] [--mtu N] [LIMITS] [-v|-q] -- COMMAND [ARG...]\n"
		"  Runs COMMAND in private user, network and mount namespaces whose only\n"
		"  route is a TUN device; every TCP connection it makes is opened through\n"
		"  the proxy. Needs no privilege where /dev/net/tun is usable (mode 0666).\n"
		"  UDP, ICMP and DNS are not carried in this version: use IP addresses.\n\n"
		"  -p, --proxy URL  socks5://[user[:pass]@]host:port  (socks5h:// is the same)\n"
		"                   http://[user[:pass]@]host:port    (HTTP CONNECT)\n"
		"                   IPv6 hosts in brackets; percent-encode special characters\n"
		"                   in credentials. Default: %s\n"
		"  -m, --mtu N      TUN MTU, 1280-65535 (default 1500)\n"
		"  Limits (past one, new connections are refused with a reset):\n"
		"  --max-conns N    connections at once, TIME-WAIT included (default 16384)\n"
		"  --max-pending N  connections waiting for their proxy tunnel (default 1024)\n"
		"  --buffer KIB     buffer per connection and direction (default 256)\n"
		"  --mem-limit MIB  buffer memory of all connections (default 1024)\n"
		"  --idle-timeout S reset connections idle S seconds both ways (default 0: never)\n"
		"  --keepalive S    probe silent connections after S seconds, then every 30 s;\n"
		"                   reset after 4 unanswered (default 120; 0: off)\n"
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

