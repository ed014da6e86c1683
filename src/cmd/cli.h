/* SPDX-License-Identifier: GPL-2.0-only */
/* Subcommands and the exit statuses every one of them shares. */
#ifndef PROXYVPN_CLI_H
#define PROXYVPN_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum exit_status {
	EXIT_OK_UP = 0,	     /* status: an `up` runs, everything verified in the kernel */
	EXIT_ENV = 1,	     /* up/down/status: no privilege, state dir or lock unusable */
	EXIT_NOT_UP = 3,     /* status: no `up` is running */
	EXIT_STARTING = 4,   /* status: an `up` runs but has not yet verified everything in place */
	EXIT_DEGRADED = 5,   /* status: an `up` runs but something of it is missing in the kernel */
	EXIT_USAGE = 2,	     /* bad option, malformed URL, missing -- or command */
	EXIT_SETUP = 125,    /* proxyvpn itself failed before or while running the command */
	EXIT_NOEXEC = 126,   /* command found but could not be executed */
	EXIT_NOTFOUND = 127, /* command not found */
};

int cmd_exec(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_down(int argc, char **argv);
int cmd_status(int argc, char **argv);
void usage(FILE *f);

/*
 * The DNS and UDP options `exec' and `up' share (parsed in cmd-exec.c):
 * --dns MODE, --dns-server IP, --udp MODE (exec only), --fake-net4 CIDR,
 * --fake-net6 CIDR, --fake-max N. Each returns false after logging.
 */
enum {
	OPT_DNS = 0x200,
	OPT_DNS_SERVER,
	OPT_UDP,
	OPT_FAKE_NET4,
	OPT_FAKE_NET6,
	OPT_FAKE_MAX,
};
/* One option per line, as in the tables it is spliced into. */
/* clang-format off */
#define DNS_LONG_OPTIONS                                                   \
	{ "dns", required_argument, NULL, OPT_DNS },                       \
	{ "dns-server", required_argument, NULL, OPT_DNS_SERVER },         \
	{ "fake-net4", required_argument, NULL, OPT_FAKE_NET4 },           \
	{ "fake-net6", required_argument, NULL, OPT_FAKE_NET6 },           \
	{ "fake-max", required_argument, NULL, OPT_FAKE_MAX }
/* clang-format on */

struct engine_cfg;
bool dns_opt_parse(int c, const char *v, struct engine_cfg *ec);
/* Cross-checks; sets the resolver's addresses and keeps the TUN's out of the pool. */
bool dns_opt_finish(struct engine_cfg *ec, const char *tun4, const char *tun6);

/*
 * A whole-string unsigned number in [min, max]: decimal (a leading 0 does
 * not mean octal), or with hex_ok also 0x-prefixed hex; no sign, no spaces.
 * 0, -EINVAL (not a number) or -ERANGE (outside the range).
 */
int cli_u32(const char *s, bool hex_ok, uint32_t min, uint32_t max, uint32_t *out);

#endif
