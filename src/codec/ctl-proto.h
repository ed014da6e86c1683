/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control protocol of host mode, pure: `proxyvpn status` sends one line
 * over the control socket `ctl` in the state directory, "status\n" (JSON
 * reply) or "status text\n" (human-readable reply); the engine answers with
 * at most CTL_REPLY_MAX bytes and closes. This file parses the request and
 * builds the reply; the server is the engine's (ctl.h), the socket file the
 * privileged side's (ctl-sock.h).
 */
#ifndef PROXYVPN_CTL_PROTO_H
#define PROXYVPN_CTL_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "json.h"

#define CTL_SOCK "ctl" /* in the state directory */

enum {
	CTL_MAX_CLIENTS = 4,	    /* answered at once; more are closed unanswered */
	CTL_REQ_MAX = 64,	    /* request line, newline included */
	CTL_CONNS_MAX = 1000,	    /* connections listed in a reply */
	CTL_REPLY_MAX = 384 * 1024, /* 1000 IPv6 flows fit */
};

enum ctl_req {
	CTL_REQ_STATUS = 1, /* JSON */
	CTL_REQ_STATUS_TEXT,
};

/* The engine's counters a reply carries, in the order the JSON lists them. */
enum ctl_eng_counter {
	CTL_E_PKTS_IN,
	CTL_E_PKTS_OUT,
	CTL_E_PKTS_BAD,
	CTL_E_PKTS_UNSUPPORTED,
	CTL_E_TUN_WRITE_ERR,
	CTL_E_SESSIONS_TOTAL,
	CTL_E_SESSIONS_FAILED,
	CTL_E_SESSIONS_HELD,
	CTL_E_SESSIONS_HOLD_EXPIRED,
	CTL_E_MAX,
};

/* The TCP stack's (struct tcp_stats), likewise. */
enum ctl_tcp_counter {
	CTL_T_SEGS_IN,
	CTL_T_SEGS_OUT,
	CTL_T_BAD_CSUM,
	CTL_T_BAD_HDR,
	CTL_T_RST_OUT,
	CTL_T_RST_IN,
	CTL_T_RETRANS,
	CTL_T_SYN_REFUSED,
	CTL_T_CONNS_OPEN,
	CTL_T_OOO_DROPPED,
	CTL_T_BEYOND_WINDOW,
	CTL_T_DUP_SEGS,
	CTL_T_OOO_QUEUED,
	CTL_T_SACK_REXMIT,
	CTL_T_PAWS_DROPPED,
	CTL_T_CHALLENGE_ACKS,
	CTL_T_LIMIT_REFUSED,
	CTL_T_KA_TIMEOUTS,
	CTL_T_IDLE_TIMEOUTS,
	CTL_T_HANDSHAKES,
	CTL_T_RTO_FIRED,
	CTL_T_LOST_REXMIT,
	CTL_T_TLP,
	CTL_T_UNDO,
	CTL_T_SYN_DEFERRED,
	CTL_T_MAX,
};

/* Each counter's JSON key ("pkts_in", "segs_in", ...). */
extern const char *const ctl_eng_names[];
extern const char *const ctl_tcp_names[];

/* One connection as a reply lists it. */
struct ctl_conn {
	uint32_t id;
	int family;		  /* 0 if the flow is already detached */
	uint8_t src[16], dst[16]; /* the app's address, the destination it dialled */
	uint16_t sport, dport;
	const char *name;	       /* the name behind a fake dst (--dns virtual); else NULL */
	const char *phase;	       /* waiting, connecting, handshake, relay, local, closed */
	const char *tcp_state;	       /* tcp_state_name() */
	uint64_t bytes_up, bytes_down; /* relayed app -> proxy, proxy -> app */
	uint64_t age_ms;
};

/*
 * The handshake windows (hswin.h) and the flows waiting for them, summed
 * over the engines: uint64_t only (added as an array).
 */
struct ctl_window {
	uint64_t size, cap, in_flight, waiting, lowest, highest, losses;
};

/* The limits in force (the options', or the defaults the host gave). */
struct ctl_limits {
	uint64_t max_conns, max_pending, mem_limit, buffer, nofile;
	uint64_t idle_timeout_ms, keepalive_ms; /* 0: off */
	const char *max_conns_from;		/* "option", "open-files", "memory" */
};

/* What a status reply carries besides the connections. */
struct ctl_live {
	const char *version;
	pid_t pid;	    /* `up' */
	pid_t engine_pid;   /* the engine answering (restarts change it) */
	uint64_t uptime_ms; /* of this engine */
	uint64_t eng[CTL_E_MAX];
	uint64_t tcp[CTL_T_MAX];
	size_t conns, pending, mem; /* flows, handshakes in progress, buffer bytes */
	size_t sessions;	    /* live sessions (all of them, listed or not) */
	struct ctl_window win;
	struct ctl_limits lim;
};

/*
 * One request line in buf[0..len): returns the ctl_req (> 0) once a whole
 * line is there, -EAGAIN while the line is incomplete and shorter than
 * CTL_REQ_MAX, -EINVAL for anything else (unknown word, NUL, too long).
 */
int ctl_parse_request(const char *buf, size_t len);

/*
 * The reply to a status request into b: the JSON object (one line) or the
 * text form. conns[0..n) are listed; total is how many there are in all
 * (the reply says when it lists fewer, also when b runs short). 0, or
 * -ENOSPC if even the counters did not fit.
 */
int ctl_reply_status(struct jbuf *b, enum ctl_req req, const struct ctl_live *l,
		     const struct ctl_conn *conns, size_t n, size_t total);

#endif
