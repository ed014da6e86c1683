/* SPDX-License-Identifier: GPL-2.0-only */
/* Subcommands and the exit statuses every one of them shares. */
#ifndef PROXYVPN_CLI_H
#define PROXYVPN_CLI_H

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
/* Every command's help. */
void usage(FILE *f);
/* NAME's help alone (`proxyvpn NAME --help`); an unknown NAME: usage(). */
void usage_command(FILE *f, const char *name);

#endif
