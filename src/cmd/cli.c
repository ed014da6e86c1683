// SPDX-License-Identifier: GPL-2.0-only
/* The help text: keep it true to what the commands accept. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "url.h"

static const char overview[] =
	"Usage: proxyvpn COMMAND [OPTIONS]\n"
	"       proxyvpn --help | --version\n\n"
	"Commands:\n"
	"  exec     run one command with all its TCP through the proxy\n"
	"  up       send the whole host's TCP through the proxy (host mode)\n"
	"  down     remove what a dead `up' left installed\n"
	"  status   show what `up' installed and whether it runs\n";

/* %s: PROXY_URL_DEFAULT */
static const char exec_help[] =
	"proxyvpn exec [--proxy URL|--proxy-file FILE] [--mtu N] [--no-offload]\n"
	"              [--workers N] [DNS] [--udp MODE] [--isolate] [--allow-system-bus]\n"
	"              [LIMITS] [-v|-q] -- COMMAND [ARG...]\n"
	"proxyvpn exec [OPTIONS] --check-leaks\n"
	"  Runs COMMAND in private user, network and mount namespaces whose only\n"
	"  route is a TUN device; every TCP connection it makes is opened through\n"
	"  the proxy. Needs no privilege where /dev/net/tun is usable (mode 0666).\n"
	"  Its /etc/resolv.conf names proxyvpn's resolver, 198.18.0.2; /etc/hosts\n"
	"  is untouched. ICMP is not carried. Host services that resolve names for\n"
	"  it (nscd, avahi, systemd-resolved) and the system D-Bus are hidden.\n\n"
	"  -p, --proxy URL  socks5://[user[:pass]@]host:port  (socks5h:// is the same)\n"
	"                   http://[user[:pass]@]host:port    (HTTP CONNECT)\n"
	"                   IPv6 hosts in brackets; percent-encode special characters\n"
	"                   in credentials. Default: %s, or\n"
	"                   the URL in $PROXYVPN_PROXY. A password here can be read\n"
	"                   by other users (ps) until proxyvpn hides it; prefer:\n"
	"  --proxy-file FILE  the URL alone on one line in FILE: yours or root's,\n"
	"                   no access for group or others (chmod 600), no symlink\n"
	"  -m, --mtu N      TUN MTU, 1280-65535 (default 1500)\n"
	"  --no-offload     plain TUN: no checksum offload or 64 KiB TCP segments\n"
	"                   (used by default where the kernel allows them)\n"
	"  --workers N      engines, one per TUN queue, each in its own thread, 1-64\n"
	"                   (default 1); the limits below hold for all together\n"
	"  --dns MODE       virtual (default): names get fake addresses from the pools\n"
	"                   below and connections to them are opened at the proxy by\n"
	"                   name (the proxy resolves); no DNS packet leaves the host\n"
	"                   tcp: queries go as DNS over TCP through the proxy to\n"
	"                   --dns-server (real addresses)\n"
	"                   bypass: DNS is UDP like the rest (see --udp)\n"
	"  --dns-server IP  resolver for --dns tcp, reached through the proxy (port\n"
	"                   53; no default); with virtual, other query types than\n"
	"                   A/AAAA go there (else they get an empty answer), and a\n"
	"                   new name is asked there first: NXDOMAIN if it says so\n"
	"  --fake-net4 CIDR fake IPv4 pool, /8-/30 (default 198.18.0.0/15)\n"
	"  --fake-net6 CIDR fake IPv6 pool, /64-/120 (default fd70:7678::/64)\n"
	"  --fake-max N     names mapped at once (default 65536); a mapping lives 10\n"
	"                   minutes after its last use (answers have a 10 s TTL);\n"
	"                   when full, the least recently used one that no connection\n"
	"                   holds gives way\n"
	"  --udp MODE       block (default): UDP gets ICMP port unreachable at once\n"
	"                   proxy: through the SOCKS5 proxy's UDP ASSOCIATE, one\n"
	"                   association per app socket (socks5:// only)\n"
	"  --udp-timeout S  close a UDP association idle S seconds (default 60)\n"
	"  --max-udp N      UDP associations at once; past it datagrams of new\n"
	"                   sockets get ICMP port unreachable (default 256)\n"
	"  --isolate        also hide the desktop (session bus, X11, Wayland,\n"
	"                   $XDG_RUNTIME_DIR: /run is emptied) and container managers\n"
	"  --allow-system-bus  leave the host's system D-Bus reachable\n"
	"  --check-leaks    no command: list the host service sockets reachable in\n"
	"                   the namespace (exit 0 none, 1 some); see proxyvpn(8)\n"
	"  Limits (unset, they follow from this host: the open-files limit, raised\n"
	"  to its hard limit, and the RAM; a new connection past one waits, its\n"
	"  SYN unanswered, and the app resends it; see proxyvpn(8)):\n"
	"  --max-conns N    connections at once, waiting and TIME-WAIT included\n"
	"                   (default: the open-files limit less 192, at most one per\n"
	"                   32 KiB of --mem-limit); a reset only once it stayed full\n"
	"                   10 s with none closing\n"
	"  --max-pending N  cap of the proxy handshakes in flight, whose number\n"
	"                   follows how fast the proxy answers (default: half of\n"
	"                   --max-conns)\n"
	"  --buffer KIB     buffer per connection and direction (default 256)\n"
	"  --mem-limit MIB  buffer memory of all connections (default: a quarter of\n"
	"                   the RAM, at most 1024)\n"
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
	"  127  the command was not found\n";

static const char up_help[] =
	"proxyvpn up [--proxy URL|--proxy-file FILE] [--killswitch|--no-killswitch]\n"
	"            [--allow-dns IP]... [--max-conns-per-user N] [--max-udp-per-user N]\n"
	"            [--exclude CIDR]... [--exclude-uid USER]... [--exclude-cgroup PATH]...\n"
	"            [--tun NAME] [--mtu N] [--table N] [--mark N]\n"
	"            [--priority N] [--firewall auto|nft|iptables] [--state-dir DIR]\n"
	"            [--dns MODE] [--dns-server IP] [--fake-net4|6 CIDR] [--user NAME]\n"
	"            [--udp block|bypass|proxy] [--forward proxy|block|direct]\n"
	"            [--max-conns N] [--max-pending N] [--buffer KIB] [--mem-limit MIB]\n"
	"            [--idle-timeout S] [--keepalive S] [--udp-timeout S] [--max-udp N]\n"
	"            [--no-offload] [--workers N] [-v|-q]\n"
	"  Runs in the foreground until SIGINT, SIGTERM or SIGHUP, then tears down.\n"
	"  Needs CAP_NET_ADMIN: root, or a member of group proxyvpn running the binary\n"
	"  make install leaves (root:proxyvpn 0750, cap_net_admin+ep). One up owns\n"
	"  the host (the nft table's comment and the TUN's alias name it): another is\n"
	"  refused while it runs, and its leftovers are root's or its user's to remove.\n"
	"  Creates TUN NAME (default pvpn0; 198.18.0.1/32, fd70:7678::1/128), the\n"
	"  nftables table inet proxyvpn, then a routing table and fwmark rules that\n"
	"  send the host's TCP (except loopback, the proxy's address and port and\n"
	"  --exclude) to the TUN, and a catch-all after the main table: with no\n"
	"  default route, what main cannot route goes to the TUN too.\n"
	"  A proxy on this host (ssh -D, Tor) is detected and its own connections\n"
	"  kept out: a system user's uid, a system service's cgroup, else its current\n"
	"  connections; else up refuses, asking for --exclude-uid/--exclude-cgroup.\n"
	"  --killswitch     (default) drop all other output: loopback, the TUN, the\n"
	"                   proxy and DNS (port 53) to the allowed resolvers pass\n"
	"  --no-killswitch  only TCP (and see --udp) is redirected; the rest goes\n"
	"                   out directly\n"
	"  --allow-dns IP   resolver allowed through the killswitch (repeatable;\n"
	"                   default: nameservers of /etc/resolv.conf, or of\n"
	"                   /run/systemd/resolve/resolv.conf if only loopback stubs)\n"
	"  --exclude CIDR   never redirected, allowed out (repeatable)\n"
	"  --exclude-uid USER     the same for this user's sockets (name or number;\n"
	"                   meant for a user only a proxy runs as; repeatable)\n"
	"  --exclude-cgroup PATH  the same for sockets made in this cgroup v2 (from\n"
	"                   the hierarchy's root: system.slice/NAME.service; repeatable)\n"
	"  --tun NAME       TUN name, 1-15 of [A-Za-z0-9_.-] (default pvpn0); an\n"
	"                   interface of that name that exists is refused\n"
	"  --mtu N          TUN MTU, 1280-65535 (default 1500)\n"
	"  --table N        routing table id, not 252-255 (default: the first free from 28790)\n"
	"  --mark N         fwmark, decimal or 0x hex (default: the first free from 0x7076)\n"
	"  --priority N     ip rule priority, 1-32765 (default: the first free from 5200)\n"
	"                   A value given that a route or rule not ours uses is refused.\n"
	"  --firewall B     nft: nftables only; iptables: chains PROXYVPN-* through\n"
	"                   iptables-restore (root only); auto (default): nftables, and\n"
	"                   as root the iptables fallback if nftables fails\n"
	"  --state-dir DIR  default /run/proxyvpn (root), else $XDG_RUNTIME_DIR/proxyvpn\n"
	"  --user NAME      as root: the unprivileged user the engine (TCP stack,\n"
	"                   proxy clients) runs as (default proxyvpn; never nobody);\n"
	"                   it also drops every capability and runs under seccomp\n"
	"  --dns MODE       bypass (default): resolvers are reached directly (allowed\n"
	"                   by the killswitch); virtual or tcp (as for exec): DNS (UDP\n"
	"                   and TCP 53) to any non-loopback address is redirected to\n"
	"                   proxyvpn's resolver by nftables; resolv.conf is untouched\n"
	"  --udp MODE       block (default with the killswitch): UDP is refused;\n"
	"                   bypass (default without): UDP leaves directly, also\n"
	"                   through the killswitch (unproxied: exposes UDP);\n"
	"                   proxy: UDP (except DHCP, the proxy, --exclude, DNS to\n"
	"                   the allowed resolvers with --dns bypass) is relayed\n"
	"                   through the socks5:// proxy's UDP ASSOCIATE\n"
	"  --forward MODE   traffic the host forwards (containers, VMs, namespaces):\n"
	"                   proxy (default): like the host's own (TCP through the\n"
	"                   proxy, DNS and UDP as above; with the killswitch nothing\n"
	"                   else is forwarded); block: nothing is forwarded but to\n"
	"                   the proxy and --exclude; direct: left alone, unproxied\n"
	"                   (--no-killswitch only)\n"
	"  --no-offload     plain TUN, as for exec\n"
	"  --workers N      engines on N TUN queues, as for exec (1-64, default 1);\n"
	"                   status sums their counters, lists queue 0's connections\n"
	"  --max-conns-per-user N  TCP connections one user (uid, root exempt) may\n"
	"                   have through the proxy at once; more are refused with a\n"
	"                   reset by nftables (default: half of --max-conns; 0: no cap)\n"
	"  --max-conns N, --max-pending N, --buffer KIB, --mem-limit MIB,\n"
	"  --idle-timeout S, --keepalive S, --udp-timeout S, --max-udp N\n"
	"                   the engine's limits, as for exec (status shows them)\n"
	"  --max-udp-per-user N  the same for UDP flows with --udp proxy, DNS not\n"
	"                   counted (default 128; 0: no cap)\n"
	"  --ready-fd N     write \"ready\" to fd N, then close it, once ready (below)\n"
	"  While up runs, its table, rules, routes and TUN are watched (nftables and\n"
	"  rtnetlink events): what goes away or changes is put back at once, logged\n"
	"  and counted in status (at most 10 repairs a second; past that up says so).\n"
	"  Ready (logged; READY=1 to $NOTIFY_SOCKET; --ready-fd) once the engine\n"
	"  serves and every rule, route, the TUN and the killswitch are verified.\n"
	"  If up dies, the killswitch and rules stay (nothing leaks) and TCP and DNS\n"
	"  are refused at once until `proxyvpn down' or the next up removes them.\n"
	"  Exit: 0 after a clean teardown; 1 no CAP_NET_ADMIN, state dir unusable or\n"
	"  another up running (its pid is named); 2 usage; 125 a setup step failed\n"
	"  (named; what was done is undone).\n";

static const char down_help[] =
	"proxyvpn down [--state-dir DIR] [-v|-q]\n"
	"  Removes what a dead up installed (from the state file, else what carries\n"
	"  our tags), for root or the user who ran it. Exit 0 also when nothing is\n"
	"  up; 1 if an up is still running (named), or its leftovers are not yours.\n";

static const char status_help[] =
	"proxyvpn status [--json] [--state-dir DIR]\n"
	"  Prints the state record, whether its up runs and, from its control socket\n"
	"  (DIR/ctl, 0600; root and the user that ran up), the live counters and\n"
	"  connections. What the record lists is looked for in the kernel: what is\n"
	"  missing is named, and the watcher's repairs are counted. --json: one JSON\n"
	"  object. Exit 0 if an up runs with everything in place, 4 while it starts,\n"
	"  5 if something of it is missing, 3 if none runs.\n";

static void section(FILE *f, const char *name)
{
	if (!strcmp(name, "exec"))
		fprintf(f, exec_help, PROXY_URL_DEFAULT);
	else if (!strcmp(name, "up"))
		fputs(up_help, f);
	else if (!strcmp(name, "down"))
		fputs(down_help, f);
	else
		fputs(status_help, f);
}

void usage(FILE *f)
{
	static const char *const names[] = { "exec", "up", "down", "status" };
	size_t i;

	fputs(overview, f);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		fputc('\n', f);
		section(f, names[i]);
	}
}

void usage_command(FILE *f, const char *name)
{
	if (strcmp(name, "exec") && strcmp(name, "up") && strcmp(name, "down") &&
	    strcmp(name, "status")) {
		usage(f);
		return;
	}
	section(f, name);
	fprintf(f, "\nEvery command: proxyvpn --help; the whole manual: man proxyvpn\n");
}
