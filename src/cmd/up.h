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
#include "localproxy.h"
#include "sandbox.h"
#include "tcp.h"
#include "udp.h"

struct engine_cfg;

#define UP_TUN_DEFAULT "pvpn0"
#define UP_TUN_ADDR4   "198.18.0.1"
#define UP_TUN_ADDR6   "fd70:7678::1"

enum {
	UP_MAX_DNS = 16,
	UP_MAX_EXCLUDE = 256,
	UP_MAX_QUEUES = IPC_MAX_QUEUES, /* --workers */
	UP_MAX_OWNERS = 8,		/* --exclude-uid, --exclude-cgroup (one more is detected) */
	/*
	 * Per-user caps (fw_cfg.user_tcp/udp): half the engine's connections
	 * (--max-conns, set or from the host: up_opts_parse) and half its UDP
	 * associations, so one user can take at most half of either. TCP's
	 * counts every connection the user has open (conntrack), not only
	 * handshakes: a cap on handshakes alone would turn a burst away.
	 */
	UP_USER_UNSET = UINT32_MAX,
	UP_USER_UDP_DEFAULT = UDP_MAX_ASSOC_DEFAULT / 2,
};

enum up_fw { UP_FW_AUTO, UP_FW_NFT, UP_FW_IPT }; /* --firewall */

/* --udp; UNSET: block with the killswitch, else bypass */
enum up_udp { UP_UDP_UNSET, UP_UDP_BLOCK, UP_UDP_BYPASS, UP_UDP_PROXY, UP_UDP_MAX };

extern const char *const up_udp_names[UP_UDP_MAX];

struct up_opts {
	char *proxy;		/* --proxy (in argv: its password is hidden there) */
	const char *proxy_file; /* --proxy-file */
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
	/* --exclude-uid, --exclude-cgroup, and what a local proxy needs (localproxy.h) */
	uint32_t xuid[UP_MAX_OWNERS + 1];
	size_t nxuid;
	struct fw_cgroup xcgroup[UP_MAX_OWNERS + 1];
	size_t nxcgroup;
	struct fw_peer xpeer[LP_MAX_PEERS];
	size_t nxpeer;
	const char *user;	     /* --user: the engine's, when run as root */
	uint32_t workers;	     /* --workers: TUN queues, one engine each */
	uint32_t user_tcp, user_udp; /* --max-conns-per-user, --max-udp-per-user; 0 = none */
	struct sandbox_cfg sandbox;
	uint32_t table, mark, prio; /* --table, --mark, --priority; 0 = pick a free one */
	enum up_fw firewall;
	enum up_udp udp;
	enum fw_forward forward; /* --forward */
	int ready_fd; /* --ready-fd: "ready\n" once all is in the kernel (notify.h); -1 = none */
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
