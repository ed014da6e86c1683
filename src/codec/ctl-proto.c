// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control protocol (see ctl-proto.h): the request parser and the status
 * reply, JSON or text, built into a bounded buffer (json.h) that never
 * holds half a connection entry. No I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl-proto.h"

int ctl_parse_request(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len < CTL_REQ_MAX ? len : CTL_REQ_MAX);
	size_t n;

	if (!nl)
		return len < CTL_REQ_MAX && !memchr(buf, '\0', len) ? -EAGAIN : -EINVAL;
	n = (size_t)(nl - buf);
	if (n && buf[n - 1] == '\r')
		n--;
	if (n == 6 && !memcmp(buf, "status", 6))
		return CTL_REQ_STATUS;
	if (n == 11 && !memcmp(buf, "status text", 11))
		return CTL_REQ_STATUS_TEXT;
	return -EINVAL;
}

/* In enum order, one per counter: a counter added without a name fails the build. */
const char *const ctl_eng_names[] = {
	"pkts_in",	    "pkts_out",	     "pkts_bad",
	"pkts_unsupported", "tun_write_err", "sessions_total",
	"sessions_failed",  "sessions_held", "sessions_hold_expired",
};
const char *const ctl_tcp_names[] = {
	"segs_in",	  "segs_out",	   "bad_csum",	  "bad_hdr",	   "rst_out",
	"rst_in",	  "retrans",	   "syn_refused", "conns_open",	   "ooo_dropped",
	"beyond_window",  "dup_segs",	   "ooo_queued",  "sack_rexmit",   "paws_dropped",
	"challenge_acks", "limit_refused", "ka_timeouts", "idle_timeouts", "handshakes",
	"rto_fired",	  "lost_rexmit",   "tlp",	  "undo",	   "syn_deferred",
};
_Static_assert(sizeof(ctl_eng_names) / sizeof(ctl_eng_names[0]) == CTL_E_MAX, "a name each");
_Static_assert(sizeof(ctl_tcp_names) / sizeof(ctl_tcp_names[0]) == CTL_T_MAX, "a name each");

static void counters_json(struct jbuf *b, const char *key, const uint64_t *v,
			  const char *const *names, size_t n)
{
	size_t i;

	jb_key(b, key);
	jb_raw(b, "{");
	for (i = 0; i < n; i++) {
		if (i)
			jb_raw(b, ",");
		jb_kv_u64(b, names[i], v[i]);
	}
	jb_raw(b, "}");
}

/* "1.2.3.4:80" or "[2001:db8::1]:80"; "-" without an address. */
static void endpoint(char *out, size_t len, int family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	if ((family != AF_INET && family != AF_INET6) || !inet_ntop(family, addr, a, sizeof(a))) {
		snprintf(out, len, "-");
		return;
	}
	snprintf(out, len, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

/* Room kept back while listing connections, for what closes the reply. */
enum {
	CTL_TAIL_ROOM = 512,
	CTL_NAME_MAX = 255, /* a DNS name's text; longer is cut */
};

static size_t conns_json(struct jbuf *b, const struct ctl_conn *conns, size_t n)
{
	char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
	size_t i;

	jb_raw(b, ",\"connections\":[");
	for (i = 0; i < n; i++) {
		const struct ctl_conn *c = &conns[i];
		size_t mark = b->len;

		if (jb_room(b) < CTL_TAIL_ROOM + 2 * sizeof(src) + 256 + 2 * CTL_NAME_MAX)
			break;
		endpoint(src, sizeof(src), c->family, c->src, c->sport);
		endpoint(dst, sizeof(dst), c->family, c->dst, c->dport);
		jb_printf(b, "%s{\"id\":%u,", i ? "," : "", c->id);
		jb_kv_str(b, "src", src);
		jb_raw(b, ",");
		jb_kv_str(b, "dst", dst);
		jb_raw(b, ",");
		if (c->name) {
			jb_kv_str(b, "name", c->name);
			jb_raw(b, ",");
		}
		jb_kv_str(b, "state", c->tcp_state);
		jb_raw(b, ",");
		jb_kv_str(b, "phase", c->phase);
		jb_printf(b, ",\"bytes_up\":%llu,\"bytes_down\":%llu,\"age_ms\":%llu}",
			  (unsigned long long)c->bytes_up, (unsigned long long)c->bytes_down,
			  (unsigned long long)c->age_ms);
		if (b->full) { /* cannot happen with the room check; never emit half an entry */
			b->full = false;
			b->len = mark;
			b->p[mark] = '\0';
			break;
		}
	}
	jb_raw(b, "]");
	return i;
}

static void reply_json(struct jbuf *b, const struct ctl_live *l, const struct ctl_conn *conns,
		       size_t n, size_t total)
{
	size_t listed;

	jb_raw(b, "{");
	jb_kv_str(b, "version", l->version);
	jb_printf(b, ",\"pid\":%d,\"engine_pid\":%d,\"uptime_ms\":%llu,", (int)l->pid,
		  (int)l->engine_pid, (unsigned long long)l->uptime_ms);
	counters_json(b, "engine", l->eng, ctl_eng_names, CTL_E_MAX);
	jb_raw(b, ",");
	counters_json(b, "tcp", l->tcp, ctl_tcp_names, CTL_T_MAX);
	jb_printf(b, ",\"flows\":%zu,\"handshaking\":%zu,\"buffer_bytes\":%zu,\"sessions\":%zu",
		  l->conns, l->pending, l->mem, l->sessions);
	jb_printf(b,
		  ",\"window\":{\"size\":%llu,\"cap\":%llu,\"in_flight\":%llu,\"waiting\":%llu,"
		  "\"lowest\":%llu,\"highest\":%llu,\"losses\":%llu}",
		  (unsigned long long)l->win.size, (unsigned long long)l->win.cap,
		  (unsigned long long)l->win.in_flight, (unsigned long long)l->win.waiting,
		  (unsigned long long)l->win.lowest, (unsigned long long)l->win.highest,
		  (unsigned long long)l->win.losses);
	jb_printf(b,
		  ",\"limits\":{\"max_conns\":%llu,\"max_pending\":%llu,\"mem_limit\":%llu,"
		  "\"buffer\":%llu,\"open_files\":%llu,\"idle_timeout_ms\":%llu,"
		  "\"keepalive_ms\":%llu,",
		  (unsigned long long)l->lim.max_conns, (unsigned long long)l->lim.max_pending,
		  (unsigned long long)l->lim.mem_limit, (unsigned long long)l->lim.buffer,
		  (unsigned long long)l->lim.nofile, (unsigned long long)l->lim.idle_timeout_ms,
		  (unsigned long long)l->lim.keepalive_ms);
	jb_kv_str(b, "max_conns_from", l->lim.max_conns_from ? l->lim.max_conns_from : "option");
	jb_raw(b, "}");
	listed = conns_json(b, conns, n);
	jb_printf(b, ",\"connections_listed\":%zu,", listed);
	jb_kv_bool(b, "connections_truncated", listed < total);
	jb_raw(b, "}\n");
}

static void reply_text(struct jbuf *b, const struct ctl_live *l, const struct ctl_conn *conns,
		       size_t n, size_t total)
{
	const uint64_t *e = l->eng, *t = l->tcp;
	char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
	size_t i;

	jb_printf(b, "live: pid %d (engine %d, up %llu s), version %s\n", (int)l->pid,
		  (int)l->engine_pid, (unsigned long long)(l->uptime_ms / 1000), l->version);
	jb_printf(b, "packets: in %llu, out %llu, bad %llu, not TCP %llu, TUN write errors %llu\n",
		  (unsigned long long)e[CTL_E_PKTS_IN], (unsigned long long)e[CTL_E_PKTS_OUT],
		  (unsigned long long)e[CTL_E_PKTS_BAD],
		  (unsigned long long)e[CTL_E_PKTS_UNSUPPORTED],
		  (unsigned long long)e[CTL_E_TUN_WRITE_ERR]);
	jb_printf(b, "sessions: %zu open, %llu in all, %llu failed\n", l->sessions,
		  (unsigned long long)e[CTL_E_SESSIONS_TOTAL],
		  (unsigned long long)e[CTL_E_SESSIONS_FAILED]);
	jb_printf(
		b,
		"tcp: %zu flows (%zu handshaking), %zu buffer bytes; segments in %llu, "
		"out %llu, retransmitted %llu; resets in %llu, out %llu; refused at limits %llu\n",
		l->conns, l->pending, l->mem, (unsigned long long)t[CTL_T_SEGS_IN],
		(unsigned long long)t[CTL_T_SEGS_OUT], (unsigned long long)t[CTL_T_RETRANS],
		(unsigned long long)t[CTL_T_RST_IN], (unsigned long long)t[CTL_T_RST_OUT],
		(unsigned long long)t[CTL_T_LIMIT_REFUSED]);
	jb_printf(b,
		  "waiting: %llu SYNs deferred at limits, %llu flows waited for the proxy "
		  "(%llu given up); now %llu waiting, %llu handshakes in flight of a window of "
		  "%llu (cap %llu; lowest %llu, highest %llu; %llu losses)\n",
		  (unsigned long long)t[CTL_T_SYN_DEFERRED],
		  (unsigned long long)e[CTL_E_SESSIONS_HELD],
		  (unsigned long long)e[CTL_E_SESSIONS_HOLD_EXPIRED],
		  (unsigned long long)l->win.waiting, (unsigned long long)l->win.in_flight,
		  (unsigned long long)l->win.size, (unsigned long long)l->win.cap,
		  (unsigned long long)l->win.lowest, (unsigned long long)l->win.highest,
		  (unsigned long long)l->win.losses);
	jb_printf(b,
		  "limits: max-conns %llu (from %s), max-pending %llu, mem-limit %llu MiB, "
		  "buffer %llu KiB, open files %llu, idle-timeout %llu s, keepalive %llu s\n",
		  (unsigned long long)l->lim.max_conns,
		  l->lim.max_conns_from ? l->lim.max_conns_from : "option",
		  (unsigned long long)l->lim.max_pending,
		  (unsigned long long)(l->lim.mem_limit >> 20),
		  (unsigned long long)(l->lim.buffer >> 10), (unsigned long long)l->lim.nofile,
		  (unsigned long long)(l->lim.idle_timeout_ms / 1000),
		  (unsigned long long)(l->lim.keepalive_ms / 1000));
	for (i = 0; i < n && jb_room(b) >= CTL_TAIL_ROOM; i++) {
		const struct ctl_conn *c = &conns[i];

		endpoint(src, sizeof(src), c->family, c->src, c->sport);
		endpoint(dst, sizeof(dst), c->family, c->dst, c->dport);
		jb_printf(b,
			  "conn %u: %s -> %s%s%.*s %s (%s), up %llu, down %llu bytes, age %llu s\n",
			  c->id, src, dst, c->name ? " = " : "", c->name ? (int)CTL_NAME_MAX : 0,
			  c->name ? c->name : "", c->tcp_state, c->phase,
			  (unsigned long long)c->bytes_up, (unsigned long long)c->bytes_down,
			  (unsigned long long)(c->age_ms / 1000));
	}
	if (i < total)
		jb_printf(b, "(%zu more connections not listed)\n", total - i);
}

int ctl_reply_status(struct jbuf *b, enum ctl_req req, const struct ctl_live *l,
		     const struct ctl_conn *conns, size_t n, size_t total)
{
	if (n > total)
		total = n;
	if (req == CTL_REQ_STATUS_TEXT)
		reply_text(b, l, conns, n, total);
	else
		reply_json(b, l, conns, n, total);
	return b->full ? -ENOSPC : 0;
}
