/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sock_diag (inet_diag) for host mode's local-proxy detection: the dump
 * request for TCP sockets and a strict parser of the kernel's replies. Pure:
 * the socket and the reads are localproxy.c's; the parser takes whatever one
 * recv() returned and is fuzzed (tests/fuzz/fuzz-sockdiag.c).
 */
#ifndef PROXYVPN_SOCKDIAG_H
#define PROXYVPN_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>

/* One TCP socket of a dump, as the kernel reported it. */
struct sockdiag_sock {
	int family;		  /* AF_INET or AF_INET6 */
	uint8_t state;		  /* TCP_ESTABLISHED, TCP_LISTEN, ... */
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 bytes, the rest 0 */
	uint16_t sport, dport;	  /* host order */
	uint32_t uid;		  /* the socket's owner (its creator's fsuid) */
	uint32_t inode;		  /* its file's inode; 0 for a socket without a file */
	uint64_t cgroup;	  /* cgroup v2 id (INET_DIAG_CGROUP_ID); 0 if not reported */
};

/* Bytes sockdiag_request() writes: nlmsghdr + inet_diag_req_v2. */
#define SOCKDIAG_REQ_LEN 72

/*
 * A SOCK_DIAG_BY_FAMILY dump request (NLM_F_REQUEST | NLM_F_DUMP) for the
 * TCP sockets of family (AF_INET or AF_INET6) whose state is in states (a
 * mask of 1 << TCP_*), with sequence number seq. Returns SOCKDIAG_REQ_LEN,
 * -EINVAL (family, states 0) or -ENOSPC (len too small).
 */
int sockdiag_request(void *buf, size_t len, int family, uint32_t states, uint32_t seq);

/*
 * Parses one read of a dump's reply: a run of netlink messages, each checked
 * against the bytes held (length, alignment, sequence number seq, type) and
 * every attribute against its message. Calls cb for each socket; cb returns
 * 0 to go on, or a -errno that stops the parse and is returned. Returns 1
 * once NLMSG_DONE
 * is seen (nothing after it is read), 0 if the dump goes on in the next
 * read, the kernel's -errno from an NLMSG_ERROR, or -EBADMSG for anything
 * malformed (a wrong sequence number, an unknown message type or family
 * included).
 */
int sockdiag_parse(const void *buf, size_t len, uint32_t seq,
		   int (*cb)(const struct sockdiag_sock *s, void *arg), void *arg);

#endif
