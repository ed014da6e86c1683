/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host-mode state: what `proxyvpn up` installed, so that `down` (or the next
 * `up`, after a crash) can undo exactly that, in reverse order. One text file
 * `state` in a private directory, replaced atomically; a `lock` file beside it
 * held with flock() by the running `up`. The file is untrusted input on read.
 */
#ifndef PROXYVPN_STATE_H
#define PROXYVPN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	STATE_VERSION = 3,	    /* 2: catch-table, catch-priority; 3: forward */
	STATE_FILE_MAX = 64 * 1024, /* bigger files are refused unread */
	STATE_LINE_MAX = 512,	    /* longest line, newline excluded */
	STATE_OBJ_MAX = 64,	    /* objects recorded */
	STATE_OBJ_ARGS = 4,	    /* identifying fields per object */
	STATE_ARG_MAX = 63,	    /* bytes per field */
	STATE_NAME_MAX = 31,	    /* firewall table / chain names */
	STATE_IFNAME_MAX = 15,	    /* IFNAMSIZ - 1 */
	STATE_PID_MAX = 4194304,    /* PID_MAX_LIMIT */
};

#define STATE_DIR_ROOT "/run/proxyvpn"
#define STATE_DIR_USER "proxyvpn" /* under $XDG_RUNTIME_DIR */

enum state_fw {
	STATE_FW_NFTABLES = 1,
	STATE_FW_IPTABLES,
};

/* What `up --forward` did with forwarded traffic (fw.h's enum fw_forward). */
enum state_fwd {
	STATE_FWD_PROXY = 1,
	STATE_FWD_BLOCK,
	STATE_FWD_DIRECT,
};

/* Kinds of installed objects; names in the file are in parentheses. */
enum state_kind {
	STATE_OBJ_LINK = 1,  /* (link) the TUN */
	STATE_OBJ_ADDR,	     /* (addr) an address on a link */
	STATE_OBJ_ROUTE,     /* (route) a route in our table */
	STATE_OBJ_RULE,	     /* (rule) an ip rule */
	STATE_OBJ_NFT_TABLE, /* (nft-table) */
	STATE_OBJ_IPT_CHAIN, /* (ipt-chain) */
	STATE_OBJ_IPT_RULE,  /* (ipt-rule) a jump into our chain */
};

/*
 * One created object. What the fields mean is up to the module that made it
 * (route.c, fw.c); here they are 1-4 non-empty strings of at most
 * STATE_ARG_MAX bytes from [A-Za-z0-9._:/=,+-], e.g. {"4", "51820", "default"}.
 */
struct state_obj {
	enum state_kind kind;
	unsigned int nargs;
	char arg[STATE_OBJ_ARGS][STATE_ARG_MAX + 1];
};

struct state_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port; /* host order, 1-65535 */
};

/*
 * Every field is required in the file. Names are [A-Za-z0-9._-], non-empty.
 * Numbers: pid 1-STATE_PID_MAX, start >= 0 (unix seconds), ifindex >= 1,
 * table 1-2^32-1 except 253-255, fwmark >= 1, priority 1-2^32-1 except
 * 32766-32767 (main, default); catch-table as table and not equal to it,
 * catch-priority above 32767 (route.h's catch-all).
 */
struct state {
	unsigned int version; /* set by state_parse(); state_format() writes STATE_VERSION */
	pid_t pid;	      /* of the `up` that wrote it */
	int64_t start;	      /* time(NULL) when it started */
	char tun[STATE_IFNAME_MAX + 1];
	uint32_t ifindex;
	uint32_t table;
	uint32_t fwmark;
	uint32_t priority;
	uint32_t catch_table;	 /* route.h's catch-all: its table */
	uint32_t catch_priority; /* and its rule's priority */
	bool ipv6;
	bool killswitch;
	enum state_fwd forward;
	enum state_fw fw;
	char fw_table[STATE_NAME_MAX + 1]; /* nft table name, or iptables table */
	char fw_chain[STATE_NAME_MAX + 1]; /* prefix of our chain names */
	struct state_addr proxy;
	unsigned int nobj;
	struct state_obj obj[STATE_OBJ_MAX]; /* in creation order */
};

/*
 * The default state directory: STATE_DIR_ROOT when euid is 0, else
 * $XDG_RUNTIME_DIR/proxyvpn, where XDG_RUNTIME_DIR must be absolute, a
 * directory owned by us and not group/world-writable. Writes the path to out.
 * Returns 0, -ENAMETOOLONG, -ENOENT (unset), -EINVAL (relative), -EPERM (bad
 * owner/mode) or another -errno, with *why a static phrase.
 */
int state_dir(char *out, size_t len, const char **why);

/*
 * Creates path (mode 0700) if missing, and opens it O_DIRECTORY|O_NOFOLLOW.
 * It must be a real directory (-ELOOP if a symlink, -ENOTDIR if something
 * else), owned by our euid, mode exactly 0700 (-EPERM). The parent must not
 * be writable by others unless sticky (-EPERM). Returns the O_CLOEXEC dirfd,
 * or -errno with *why set. Everything else works relative to that fd.
 */
int state_dir_open(const char *path, const char **why);

/*
 * Takes the `up` lock: dir/lock (0600, created if missing, never followed),
 * flock(LOCK_EX|LOCK_NB), and writes our pid into it. Returns the fd (keep it
 * open for the life of `up`; the lock dies with the process), -EBUSY with
 * *holder the pid recorded in the lock file (0 if none) when another process
 * holds it, or another -errno. holder may be NULL.
 */
int state_lock(int dirfd, pid_t *holder);

/*
 * Checks every field of s as state_parse() would. Returns 0, or -EINVAL with
 * *why a static phrase.
 */
int state_check(const struct state *s, const char **why);

/*
 * Appends an object (nargs 1-STATE_OBJ_ARGS strings). Returns 0, -ENOSPC when
 * STATE_OBJ_MAX are recorded, or -EINVAL (bad kind or field).
 */
int state_obj_add(struct state *s, enum state_kind kind, unsigned int nargs,
		  const char *const *args);

/*
 * The same with the fields as arguments, NULL after the last: 0, -ENOSPC,
 * or -EINVAL (also for more than STATE_OBJ_ARGS fields).
 */
int state_add(struct state *s, enum state_kind kind, const char *arg, ...)
	__attribute__((sentinel));

/*
 * Removes the last object if it is of kind: a step recorded, then given up
 * before it created anything (up's nftables attempt before the iptables
 * fallback). 0, or -ENOENT if the last object is of another kind.
 */
int state_drop_last(struct state *s, enum state_kind kind);

/* Whether an object of kind is recorded. */
bool state_has(const struct state *s, enum state_kind kind);

/*
 * The objects route_install() makes for the record's own table, fwmark,
 * priority, catch_table and catch_priority, in the order it makes them, per
 * family (IPv4, then IPv6 if s->ipv6): routes `default unreachable`,
 * `default local`, `default dev` in table, the rule
 * `fwmark=0xMARK/0xffffffff` at priority; routes `default unreachable`,
 * `default dev` in catch_table, the rule `lookup=CATCH` at catch_priority.
 * 0 or the first error of state_add (objects added before it stay).
 */
int state_add_routes(struct state *s);

/* "link", "nft-table", ...; NULL for an unknown kind. */
const char *state_kind_name(enum state_kind kind);

/* "proxy", "block", "direct"; NULL for an unknown mode. */
const char *state_fwd_name(enum state_fwd fwd);

/*
 * Serializes s (checked first) into buf. Returns the length (< len; buf is
 * NUL-terminated), -EINVAL (invalid record, *why set) or -ENOSPC.
 */
int state_format(const struct state *s, char *buf, size_t len, const char **why);

/*
 * Strict parser, pure: buf[0..len) must be one complete file. Fills *s (all
 * of it zeroed first, also on failure). Returns 0 or -EINVAL with *why a
 * static phrase that never quotes the input.
 */
int state_parse(const char *buf, size_t len, struct state *s, const char **why);

/*
 * Writes dir/state atomically: state.tmp (O_EXCL|O_NOFOLLOW, 0600; a stale
 * one is removed first), fsync, renameat over state, fsync the dir. A crash
 * leaves the old or the new file. Returns 0 or -errno (*why set).
 */
int state_write(int dirfd, const struct state *s, const char **why);

/*
 * Reads and parses dir/state. Returns 0, -ENOENT (no file), -ELOOP (a
 * symlink), -EPERM (not a regular file owned by us with mode 0600), -EINVAL
 * (corrupt or over STATE_FILE_MAX) or another -errno, with *why set.
 */
int state_read(int dirfd, struct state *s, const char **why);

/* Removes dir/state and any stale state.tmp; 0 also when there was none. */
int state_remove(int dirfd);

#endif
