/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Our TCP: the terminating end of every connection an app opens through the
 * TUN. Passive open only; the SYN-ACK is held back until the session says
 * the proxy tunnel is up (tcp_accept) or refused (tcp_reject).
 *
 * Ownership: the stack owns every struct tcp_conn. A session attaches as
 * conn->user when ops->on_syn returns it, and the stack frees a conn only
 * once it is CLOSED and the session has let go with tcp_detach() (or
 * tcp_abort()/tcp_reject(), which detach). Callbacks never free anything;
 * frees happen in tcp_flush(), outside every callback.
 *
 * Sequence space: tx holds bytes from tx_seq on (acked bytes are consumed),
 * rx holds in-order bytes from the app that the session has not yet written
 * to the proxy; the window we advertise is rx's free space.
 */
#ifndef PROXYVPN_TCP_H
#define PROXYVPN_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ip.h"
#include "loop.h"
#include "ring.h"

enum {
	TCP_HDR_LEN = 20,
	TCP_MAX_OPT = 40,
	TCP_BUF_DEFAULT = 256 * 1024, /* per connection, each way */
	TCP_RTO_INIT_MS = 1000,	      /* RFC 6298 2.1 */
	TCP_RTO_MIN_MS = 50, /* the peer is a local kernel: sub-ms RTT, 40 ms delayed ACKs */
	TCP_RTO_MAX_MS = 60000,
	TCP_SYNACK_RETRIES = 5,
	TCP_DATA_RETRIES = 10,	       /* then reset: ~ 2 min with back-off */
	TCP_TIME_WAIT_MS = 2000,       /* bounded: we are the far end of a virtual link */
	TCP_INIT_CWND_SEGS = 10,       /* RFC 6928 */
	TCP_DELACK_MS = 40,	       /* the longest the app's Linux kernel delays an ACK */
	TCP_OOO_MAX = 32,	       /* out-of-order ranges held per connection */
	TCP_SB_MAX = 8,		       /* SACKed ranges remembered per connection */
	TCP_MAX_CONNS_DEFAULT = 16384, /* when no one set it (engine.c sets it from the host) */
	/*
	 * A new SYN past --max-conns or --mem-limit is dropped (the app's
	 * kernel sends it again, 1 s later, then 2, 4 ...), unless the table
	 * has stayed full this long with no flow leaving it: then it gets an
	 * RST, so an app does not wait for its own connect timeout (about
	 * 2 min) behind connections that are not going away. Equal to the
	 * proxy handshake timeout: no connection waits longer for a verdict.
	 */
	TCP_FULL_RESET_MS = 10000,
	TCP_LIMIT_LOG_MS = 60000,	 /* at most one line per minute about deferred SYNs */
	TCP_KA_IDLE_MS_DEFAULT = 120000, /* keepalive toward the app after this idle time */
	TCP_KA_INTVL_MS_DEFAULT = 30000,
	TCP_KA_CNT_DEFAULT = 4, /* unanswered probes, then reset */
	/* Largest packet we build with offload: the IP length fields are 16 bits. */
	TCP_GSO_MAX = 65535 - IP_MAX_HDR - TCP_HDR_LEN - TCP_MAX_OPT,
};
#define TCP_MEM_BUDGET_DEFAULT ((size_t)1 << 30)  /* buffer bytes, all connections */
#define TCP_MEM_BUDGET_MIN     ((size_t)16 << 20) /* --mem-limit's floor */

enum tcp_state {
	TCPS_SYN_PENDING, /* SYN seen, proxy tunnel not up yet: nothing sent */
	TCPS_SYN_RCVD,
	TCPS_ESTABLISHED,
	TCPS_CLOSE_WAIT,
	TCPS_FIN_WAIT_1,
	TCPS_FIN_WAIT_2,
	TCPS_CLOSING,
	TCPS_LAST_ACK,
	TCPS_TIME_WAIT,
	TCPS_CLOSED,
	TCPS_STATE_MAX,
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

/* A parsed segment; data points into the packet. */
struct tcp_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint16_t mss;	/* 0: option absent */
	int wscale;	/* -1: option absent */
	bool sack_perm; /* SACK-permitted (RFC 2018) */
	bool ts;	/* timestamps (RFC 7323) present */
	uint32_t tsval, tsecr;
	uint8_t nsack;	     /* SACK blocks (at most 4) */
	uint32_t sack[4][2]; /* [left, right) */
	const uint8_t *data;
	size_t len;
};

/*
 * Validates the TCP header of l4 (data offset, option lengths) and, unless
 * FUZZING, the checksum over the pseudo-header. 0, -EINVAL, -EPROTO (checksum).
 */
int tcp_parse(const struct ip_view *ip, struct tcp_seg *s);

struct tcp_stack;

struct tcp_range {
	uint32_t start, end; /* [start, end) in sequence space */
};

struct tcp_conn {
	struct tcp_conn *hnext; /* flow hash chain */
	struct tcp_conn *pnext; /* pending-output list */
	struct tcp_conn *dnext; /* dead list */
	struct tcp_stack *stack;
	void *user;  /* the session, NULL once detached */
	uint32_t id; /* for log lines */
	int family;
	uint8_t laddr[16], raddr[16]; /* l = the app's destination (us), r = the app */
	uint16_t lport, rport;
	enum tcp_state state;
	uint32_t flags; /* TF_* in tcp.c */

	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
	uint32_t tx_seq;		/* sequence number of tx's first byte */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge we advertised */
	uint8_t snd_ws, rcv_ws;
	uint16_t mss; /* largest segment we send */

	uint32_t cwnd, ssthresh, recover;
	uint8_t dupacks, retries;
	uint32_t srtt, rttvar, rto; /* ms; srtt 0 = no sample yet */
	uint32_t rtt_seq;
	uint64_t rtt_ts;
	uint32_t ts_recent, last_ack_sent, ts_off; /* RFC 7323 */

	struct tcp_range ooo[TCP_OOO_MAX]; /* received past rcv_nxt, parked in rx */
	uint8_t nooo, ka_probes;
	struct tcp_range sb[TCP_SB_MAX]; /* what the app SACKed above snd_una */
	uint8_t nsb;
	uint32_t high_rxt; /* recovery: holes below it were resent */
	uint32_t fin_seq;  /* the app's FIN, seen out of order */
	uint32_t rxt_mark; /* snd_max when the last hole was resent */
	uint32_t prior_cwnd, prior_ssthresh, undo_una, rxt_tsval; /* undo (RFC 3522) */
	uint8_t reordering;	     /* dup ACK threshold, raised by spurious recoveries */
	uint64_t last_rcv, last_act; /* ms: last segment from the app, last data either way */

	struct timer timer; /* retransmit / persist / TIME_WAIT */
	struct ring rx, tx;
};

/*
 * How an output packet leaves its checksum, for the TUN's virtio-net header
 * (tcp_cfg.offload only; NULL otherwise: the packet is complete).
 */
struct tcp_out {
	uint16_t gso_size; /* 0: one segment; else payload bytes per segment the kernel cuts */
	uint8_t l3_len;	   /* IP header bytes: the TCP header (csum_start) follows */
	uint8_t hdr_len;   /* IP + TCP header bytes */
};

struct tcp_ops {
	/* New flow (c is SYN_PENDING): return the session, or NULL to refuse with RST. */
	void *(*on_syn)(void *ctx, struct tcp_conn *c);
	void (*on_data)(void *user); /* rx gained bytes */
	void (*on_sent)(void *user); /* tx gained space */
	void (*on_fin)(void *user);  /* app half-closed: rx holds all it will send */
	/*
	 * The connection is over as far as the app is concerned: 0 when both
	 * FINs are through, -ECONNRESET on the app's RST, -ETIMEDOUT when
	 * retransmissions gave up. rx may still hold data to write to the proxy;
	 * call tcp_detach() when done with it.
	 */
	void (*on_close)(void *user, int err);
	/*
	 * Writes one IP packet to the TUN. With o (offload), the TCP checksum
	 * holds only the pseudo-header sum and the packet may be a large
	 * segment for the kernel to cut (o->gso_size).
	 */
	void (*output)(void *ctx, const struct iovec *iov, int iovcnt, const struct tcp_out *o);
};

struct tcp_stats { /* uint64_t counters only: summed as an array (engine_stats_add) */
	uint64_t segs_in, segs_out, bad_csum, bad_hdr, rst_out, rst_in, retrans, syn_refused,
		conns_open, ooo_dropped, beyond_window, dup_segs;
	uint64_t ooo_queued, sack_rexmit, paws_dropped, challenge_acks, limit_refused, ka_timeouts,
		idle_timeouts, handshakes, rto_fired, lost_rexmit, tlp, undo;
	uint64_t gso_out;      /* large segments handed to the kernel to cut */
	uint64_t unreach_out;  /* SYNs answered with an ICMP error (tcp_unreach) */
	uint64_t syn_deferred; /* new SYNs dropped at --max-conns / --mem-limit, to come back */
};

/*
 * Limits shared by several stacks (engine workers, one thread each): flows
 * are counted exactly (atomics, touched on SYN and close only); buffer
 * memory is each stack's figure as of its last flush; full_since is when
 * the table last turned away a SYN with no flow leaving since (loop ms, 0:
 * not full), for TCP_FULL_RESET_MS.
 */
enum { TCP_SHARED_MAX = 64 };
struct tcp_shared {
	_Atomic size_t conns;
	_Atomic size_t mem[TCP_SHARED_MAX]; /* one per stack: cfg.shared_idx */
	_Atomic uint64_t full_since;
	int nstacks;
};

/* What set max_conns, for the line that says how to raise it. */
enum tcp_conns_bound {
	TCP_BOUND_OPTION, /* --max-conns (or a caller's number) */
	TCP_BOUND_FILES,  /* the open-files limit (nofile) */
	TCP_BOUND_MEMORY, /* the buffer budget (mem_budget) */
};

struct tcp_cfg {
	uint32_t mtu;
	size_t buf_size;    /* each direction */
	uint32_t max_conns; /* flows in the table (SYN-PENDING, TIME-WAIT included); 0 = default */
	size_t mem_budget;  /* buffer bytes allocated, all flows; 0 = default */
	enum tcp_conns_bound conns_bound;
	uint32_t nofile; /* the open-files limit, when conns_bound is TCP_BOUND_FILES */
	uint32_t ka_idle_ms, ka_intvl_ms, ka_cnt; /* 0 = default; ka_idle_ms UINT32_MAX = off */
	uint32_t idle_ms;	   /* reset flows with no data either way this long; 0 = never */
	bool offload;		   /* checksums and segmentation left to the kernel (tcp_out) */
	struct tcp_shared *shared; /* NULL: the limits are this stack's alone */
	int shared_idx;		   /* this stack's slot in shared->mem */
};

/* NULL with errno set. */
struct tcp_stack *tcp_stack_new(struct loop *loop, const struct tcp_cfg *cfg,
				const struct tcp_ops *ops, void *ctx);
/* Frees every conn without sending anything (process exit). */
void tcp_stack_free(struct tcp_stack *st);
const struct tcp_stats *tcp_stack_stats(const struct tcp_stack *st);

/* Feeds one parsed IP packet whose protocol is TCP. */
void tcp_input(struct tcp_stack *st, const struct ip_view *ip);
/* Sends everything marked pending (coalesced ACKs, new data) and frees dead conns. */
void tcp_flush(struct tcp_stack *st);

/* Session -> stack. */
void tcp_accept(struct tcp_conn *c); /* tunnel up: send SYN-ACK */
void tcp_reject(struct tcp_conn *c); /* tunnel failed: RST (app: connection refused); detaches */
/*
 * Tunnel failed, the destination unreachable: an ICMP destination
 * unreachable quoting the app's SYN, so its connect() fails at once with
 * ENETUNREACH (ICMP_UNREACH_NET) or EHOSTUNREACH (_HOST); the RST where no
 * ICMP error may be sent, an abort past the handshake. Detaches.
 */
void tcp_unreach(struct tcp_conn *c, enum icmp_unreach why);
void tcp_abort(struct tcp_conn *c);		   /* RST now; detaches */
void tcp_shutdown(struct tcp_conn *c);		   /* proxy EOF: FIN after tx drains */
void tcp_kick(struct tcp_conn *c);		   /* tx gained data: send at next flush */
void tcp_rx_consume(struct tcp_conn *c, size_t n); /* n rx bytes went to the proxy */
void tcp_detach(struct tcp_conn *c); /* session lets go; conn lingers only for TIME_WAIT */
bool tcp_fin_received(const struct tcp_conn *c);
/* Flows in the table, and of those, handshakes in progress (SYN-PENDING, SYN-RECEIVED). */
size_t tcp_stack_conns(const struct tcp_stack *st);
size_t tcp_stack_pending(const struct tcp_stack *st);
size_t tcp_stack_mem(const struct tcp_stack *st);
const char *tcp_state_name(enum tcp_state s);

#endif
