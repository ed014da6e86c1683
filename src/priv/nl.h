/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rtnetlink over libmnl: one socket, one transact helper, caller-side
 * buffers. Used by exec mode's namespace child now and by `up` later.
 */
#ifndef PROXYVPN_NL_H
#define PROXYVPN_NL_H

#include <stdint.h>
#include <sys/socket.h>

struct nl;
struct nlmsghdr;

/* NULL with errno set on failure. */
struct nl *nl_open(void);
void nl_close(struct nl *nl);

/*
 * Sends nlh (built by the caller in its own buffer; nl_transact sets
 * nlmsg_seq and NLM_F_ACK) and reads until the kernel's ACK or NLMSG_DONE,
 * handing every other reply to cb (may be NULL). 0 or the kernel's -errno;
 * a cb returning MNL_CB_ERROR makes it return -errno (-EPROTO if unset) once
 * the ACK has been read, so the socket stays in step.
 */
int nl_transact(struct nl *nl, struct nlmsghdr *nlh,
		int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);

/*
 * In a callback of nl_transact: the fixed header (ifinfomsg, rtmsg, ...) of
 * nlh if nlh is of type and its payload holds size bytes. Otherwise NULL,
 * with *ret what the callback returns: MNL_CB_OK for another type (skipped),
 * MNL_CB_ERROR with errno EBADMSG for a message too short for its header.
 */
const void *nl_body(const struct nlmsghdr *nlh, uint16_t type, size_t size, int *ret);

/* Each returns 0 or the kernel's -errno. */
int nl_link_index(struct nl *nl, const char *ifname);	 /* > 0 ifindex, or -errno */
int nl_link_set_up(struct nl *nl, int ifindex, int mtu); /* mtu 0 = leave as is */
/*
 * The TUN's queue toward the engine: the kernel's default 500 packets is less
 * than three flows' windows, and a burst past it is dropped at the TUN.
 */
enum { NL_TUN_TXQLEN = 4096 };
int nl_link_set_txqlen(struct nl *nl, int ifindex, uint32_t qlen);
/*
 * Renames link ifindex to name (NULL: keeps its name) and sets its ifalias
 * (NULL: leaves it). A rename is atomic: -EEXIST if name is taken; the link
 * must be down. 0 or -errno.
 */
int nl_link_set_names(struct nl *nl, int ifindex, const char *name, const char *alias);
/*
 * Calls cb for every link of the namespace with its index, name and alias
 * ("" when it has none); cb returns 0 to go on, 1 to stop. 0 or -errno.
 */
int nl_link_walk(struct nl *nl,
		 int (*cb)(int ifindex, const char *name, const char *alias, void *arg), void *arg);
/*
 * No IPv6 link-local address (addr_gen_mode none) on ifindex, set before it
 * is up: it would add fe80::/64 to the main table, and a TUN needs none.
 */
int nl_link_set_no_linklocal(struct nl *nl, int ifindex);
/*
 * family AF_INET or AF_INET6; addr 4 or 16 bytes; IPv6 gets IFA_F_NODAD, and
 * a /128 IFA_F_NOPREFIXROUTE (no route in main for it).
 */
int nl_addr_add(struct nl *nl, int ifindex, int family, const void *addr, int prefixlen);
/*
 * The interfaces whose traffic this host would forward from local guests:
 * bridges, veths and TUN/TAP devices that are not a bridge's port, except
 * skip (may be NULL), as "a, b, c" in out (NUL-terminated, what fits).
 * Returns how many did not fit, or -errno. Informational only: nothing is
 * matched by these names.
 */
int nl_link_names_local(struct nl *nl, const char *skip, char *out, size_t len);
/* Default route out of ifindex in table (RT_TABLE_MAIN = 254), scope link. */
int nl_route_add_default(struct nl *nl, int ifindex, int family, uint32_t table);

/*
 * The link ifindex as the kernel has it now (the watcher, `status`): 1 if it
 * exists, is named ifname and is up; 0 if it exists with that name but is
 * down; -ENODEV if it is gone (or the index now names another link); -errno.
 */
int nl_link_state(struct nl *nl, int ifindex, const char *ifname);
/* 1 if ifindex has the address addr/prefixlen (4 or 16 bytes), 0 if not, -errno. */
int nl_addr_has(struct nl *nl, int ifindex, int family, const void *addr, int prefixlen);

#endif
