/* SPDX-License-Identifier: GPL-2.0-only */
/* Subcommands and the exit statuses every one of them shares. */
#ifndef PROXYVPN_CLI_H
#define PROXYVPN_CLI_H

#include <stdio.h>

enum exit_status {
	EXIT_USAGE = 2,		/* bad option, malformed URL, missing -- or command */
	EXIT_SETUP = 125,	/* proxyvpn itself failed before or while running the command */
	EXIT_NOEXEC = 126,	/* command found but could not be executed */
	EXIT_NOTFOUND = 127,	/* command not found */
};

int cmd_exec(int argc, char **argv);
void usage(FILE *f);

#endif
