/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The option parsing every subcommand shares: -v/-q/-h and getopt's errors,
 * bounded numbers (num.h with the one message shape), and the DNS and UDP
 * options of `exec' and `up'. Each parser logs one line naming the option
 * and the value before it fails.
 */
#ifndef PROXYVPN_OPTS_H
#define PROXYVPN_OPTS_H

#include <stdbool.h>
#include <stdint.h>

struct engine_cfg;

/*
 * -v (twice: debug), -q, -h (usage on stdout), and getopt's ':' (a missing
 * value) and '?' (an unknown option), for a loop run with opterr = 0 and a
 * leading ':' or not. Returns 0 (handled, go on), 1 (usage printed: exit 0)
 * or -1 (logged: a usage error).
 */
int opt_common(int c, char **argv);

/* The end of every subcommand's option table: --verbose, --quiet, --help and the terminator. */
/* clang-format off */
#define COMMON_LONG_OPTIONS                                                \
	{ "verbose", no_argument, NULL, 'v' },                             \
	{ "quiet", no_argument, NULL, 'q' },                               \
	{ "help", no_argument, NULL, 'h' },                                \
	{ NULL, 0, NULL, 0 }
/* clang-format on */

/* After the options (getopt's optind): 0 if no operand follows, else -1 after logging. */
int opt_no_operands(int argc, char **argv, const char *cmd);

/* v as a decimal number in [min, max]; else logs "OPT must be MIN-MAX: `v'". */
bool opt_u32(const char *opt, const char *v, uint32_t min, uint32_t max, uint32_t *out);

/* --dns MODE, --dns-server IP, --udp MODE, --fake-net4 CIDR, --fake-net6 CIDR, --fake-max N. */
enum {
	OPT_DNS = 0x200,
	OPT_DNS_SERVER,
	OPT_UDP,
	OPT_FAKE_NET4,
	OPT_FAKE_NET6,
	OPT_FAKE_MAX,
};
/* One option per line, as in the tables it is spliced into (--udp: each command its own). */
/* clang-format off */
#define DNS_LONG_OPTIONS                                                   \
	{ "dns", required_argument, NULL, OPT_DNS },                       \
	{ "dns-server", required_argument, NULL, OPT_DNS_SERVER },         \
	{ "fake-net4", required_argument, NULL, OPT_FAKE_NET4 },           \
	{ "fake-net6", required_argument, NULL, OPT_FAKE_NET6 },           \
	{ "fake-max", required_argument, NULL, OPT_FAKE_MAX }
/* clang-format on */

/*
 * The engine's limits and timers, the same for `exec' and `up':
 * --max-conns, --max-pending, --buffer, --mem-limit, --idle-timeout,
 * --keepalive, --udp-timeout, --max-udp. Unset, they follow from the host
 * (engine_limits_default).
 */
enum {
	OPT_MAX_CONNS = 0x240,
	OPT_MAX_PENDING,
	OPT_BUFFER,
	OPT_MEM_LIMIT,
	OPT_IDLE_TIMEOUT,
	OPT_KEEPALIVE,
	OPT_UDP_TIMEOUT,
	OPT_MAX_UDP,
};
/* clang-format off */
#define LIMIT_LONG_OPTIONS                                                 \
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },           \
	{ "max-pending", required_argument, NULL, OPT_MAX_PENDING },       \
	{ "buffer", required_argument, NULL, OPT_BUFFER },                 \
	{ "mem-limit", required_argument, NULL, OPT_MEM_LIMIT },           \
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },     \
	{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },           \
	{ "udp-timeout", required_argument, NULL, OPT_UDP_TIMEOUT },       \
	{ "max-udp", required_argument, NULL, OPT_MAX_UDP }
/* clang-format on */
/* One of those into ec. false after logging. */
bool limit_opt_parse(int c, const char *v, struct engine_cfg *ec);

/* One of the options above (exec's --udp too) into ec. false after logging. */
bool dns_opt_parse(int c, const char *v, struct engine_cfg *ec);
/* Cross-checks; sets the resolver's addresses and keeps the TUN's out of the pool. */
bool dns_opt_finish(struct engine_cfg *ec, const char *tun4, const char *tun6);

#endif
