/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The watcher's record, `watch` in the state directory: written by `up`'s
 * privileged parent (the watcher) whenever it repairs something and once
 * everything is verified in place; read by `status`. Text, one `key value`
 * line each, every key once and in this order:
 *
 *   proxyvpn-watch 1
 *   pid 1234                      the up that wrote it
 *   phase starting|ready          ready: every rule, route and the TUN verified
 *   nft-digest 0123456789abcdef   fw.c's digest of our nft table as verified (0: none)
 *   repairs nftables N            one line per kind, in watchrec_kind_name() order
 *   ...
 *   limited N                     times the repair bound was hit
 *   window-last-us N              event to repair done, the last repair (µs)
 *   window-max-us N               the longest so far
 *   end
 *
 * The file is input like any other on read: the parser is strict and pure.
 */
#ifndef PROXYVPN_WATCHREC_H
#define PROXYVPN_WATCHREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum watch_kind {
	WATCH_NFT,   /* the nftables table (or a chain, a rule, a set in it) */
	WATCH_IPT,   /* the iptables fallback's chains or jumps */
	WATCH_RULE,  /* an ip rule */
	WATCH_ROUTE, /* a route of our table (or a foreign one removed from it) */
	WATCH_LINK,  /* the TUN set up again */
	WATCH_ADDR,  /* an address of the TUN */
	WATCH_KINDS,
};

enum {
	WATCHREC_VERSION = 1,
	WATCHREC_MAX = 1024, /* bytes; a longer file is refused */
};

struct watchrec {
	uint32_t pid; /* 1..4194304 */
	bool ready;
	uint64_t nft_digest;
	uint64_t repairs[WATCH_KINDS];
	uint64_t limited;
	uint64_t window_last_us, window_max_us;
};

/* "nftables", "iptables", "rule", "route", "link", "address"; NULL past the last. */
const char *watchrec_kind_name(unsigned int kind);

/* Writes r into buf. Returns the length (< len, NUL-terminated) or -ENOSPC / -EINVAL. */
int watchrec_format(const struct watchrec *r, char *buf, size_t len);

/*
 * buf[0..len) must be one whole record. 0, or -EINVAL with *why a static
 * phrase (never quoting the input); *r is zeroed on failure.
 */
int watchrec_parse(const char *buf, size_t len, struct watchrec *r, const char **why);

#endif
