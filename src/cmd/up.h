/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host mode's commands: `up' (cmd-up.c, options in up-opts.c), `down'
 * (cmd-up.c) and `status' (cmd-status.c). What they share.
 */
#ifndef PROXYVPN_UP_H
#define PROXYVPN_UP_H

#include <stdbool.h>
#include <stdint.h>

#include "fw.h"
#include "ipc.h"
#include "sandbox.h"

struct engine_cfg;

#define UP_TUN_DEFAULT "pvpn0"
#define UP_TUN_ADDR4   "198.18.0.1"
#define UP_TUN_ADDR6   "fd70:7678::1"

enum {
	UP_MAX_DNS = 16,
	UP_MAX_EXCLUDE = 256,
	UP_MAX_QUEUES = IPC_MAX_QUEUES, /* --workers */
};

enum up_fw { UP_FW_AUTO, UP_FW_NFT, UP_FW_IPT }; /* --firewall */

/* --udp; UNSET: block with the killswitch, else bypass */
enum up_udp { UP_UDP_UNSET, UP_UDP_BLOCK, UP_UDP_BYPASS, UP_UDP_PROXY, UP_UDP_MAX };

extern const char *const up_udp_names[UP_UDP_MAX];

struct up_opts {
	const char *proxy;
	const char *tun;
	const char *state_dir;
	bool killswitch;
	bool no_offload; /* plain TUN: no virtio-net header (tun_open) */
	uint32_t mtu;
	struct fw_net dns[UP_MAX_DNS];
	size_t ndns;
	bool dns_given;
	struct fw_net exclude[UP_MAX_EXCLUDE];
	size_t nexclude;
	const char *user; /* --user: the engine's, when run as root */
	uint32_t workers; /* --workers: TUN queues, one engine each */
	struct sandbox_cfg sandbox;
	uint32_t table, mark, prio; /* --table, --mark, --priority; 0 = pick a free one */
	enum up_fw firewall;
	enum up_udp udp;
};

/*
 * up's options into *o (defaults first) and the engine's into *ecfg (whose
 * dnspool defaults the caller set). 0: go on; 1: --help printed (exit 0);
 * -1: a usage error, logged.
 */
int up_opts_parse(int argc, char **argv, struct up_opts *o, struct engine_cfg *ecfg);

/* down's and status's options (json NULL for down, which has no --json); returns as above. */
int up_small_opts_parse(int argc, char **argv, const char **dir, bool *json, const char *cmd);

/* The state directory (given, else state_dir()'s) opened; the dirfd or -errno after logging. */
int up_dir_open(const char *given);

#endif
