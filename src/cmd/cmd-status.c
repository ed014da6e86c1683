// SPDX-License-Identifier: GPL-2.0-only
/*
 * `proxyvpn status': the state record (what `up' installed), whether its
 * `up' still runs (the lock) and what of the record is in the kernel
 * (upcheck.c), and the live counters and connections from its control
 * socket, as text or one JSON object (--json).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli.h"
#include "ctl-proto.h"
#include "ctl-sock.h"
#include "fw.h"
#include "json.h"
#include "log.h"
#include "sanitize.h"
#include "state.h"
#include "up.h"
#include "upcheck.h"

enum { STATUS_CTL_TIMEOUT_MS = 2000 };

static void proxy_str(const struct state *s, char *out, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "?";

	inet_ntop(s->proxy.family, s->proxy.addr, addr, sizeof(addr));
	snprintf(out, len, s->proxy.family == AF_INET6 ? "[%s]:%u" : "%s:%u", addr, s->proxy.port);
}

/* The record; chk (NULL for a dead run's leftovers) says what of it is in the kernel. */
static void print_state(const struct state *s, const struct upcheck *chk)
{
	char proxy[INET6_ADDRSTRLEN + 8];
	unsigned int i, j;

	proxy_str(s, proxy, sizeof(proxy));
	printf("tun: %s (ifindex %u)\n", s->tun, s->ifindex);
	printf("proxy: %s\n", proxy);
	printf("killswitch: %s%s\n", s->killswitch ? "on" : "off",
	       !chk || !s->killswitch ? ""
	       : chk->fw > 0	      ? " (in the kernel)"
	       : chk->fw == 0	      ? " (recorded, but NOT in the kernel)"
				      : " (recorded; not checked)");
	printf("forwarded traffic: %s\n", s->forward == STATE_FWD_PROXY ? "through the proxy"
					  : s->forward == STATE_FWD_BLOCK
						  ? "dropped (--forward block)"
						  : "direct (--forward direct)");
	printf("routing: table %u, fwmark 0x%x, priority %u; catch-all table %u, priority %u; "
	       "%s\n",
	       s->table, s->fwmark, s->priority, s->catch_table, s->catch_priority,
	       s->ipv6 ? "IPv4 and IPv6" : "IPv4 only");
	if (s->fw == STATE_FW_IPTABLES)
		printf("firewall: iptables chains %s-* (tagged \"%s\")\n", s->fw_chain, FW_TAG);
	else
		printf("firewall: nftables table inet %s\n", s->fw_table);
	printf("started: %lld (unix time)\n", (long long)s->start);
	for (i = 0; i < s->nobj; i++) {
		printf("object: %s", state_kind_name(s->obj[i].kind));
		for (j = 0; j < s->obj[i].nargs; j++)
			printf(" %s", s->obj[i].arg[j]);
		printf("\n");
	}
}

static void state_json(struct jbuf *b, const struct state *s)
{
	char proxy[INET6_ADDRSTRLEN + 8];
	unsigned int i, j;

	proxy_str(s, proxy, sizeof(proxy));
	jb_raw(b, "{");
	jb_kv_u64(b, "pid", (uint64_t)s->pid);
	jb_printf(b, ",\"started\":%lld,", (long long)s->start);
	jb_kv_str(b, "tun", s->tun);
	jb_printf(b, ",\"ifindex\":%u,", s->ifindex);
	jb_kv_str(b, "proxy", proxy);
	jb_raw(b, ",");
	jb_kv_bool(b, "killswitch", s->killswitch);
	jb_raw(b, ",");
	jb_kv_str(b, "forward", state_fwd_name(s->forward));
	jb_printf(b, ",\"table\":%u,\"fwmark\":%u,\"priority\":%u,", s->table, s->fwmark,
		  s->priority);
	jb_printf(b, "\"catch_table\":%u,\"catch_priority\":%u,", s->catch_table,
		  s->catch_priority);
	jb_kv_bool(b, "ipv6", s->ipv6);
	jb_raw(b, ",");
	jb_kv_str(b, "firewall", s->fw == STATE_FW_IPTABLES ? "iptables" : "nftables");
	jb_raw(b, ",");
	jb_kv_str(b, "firewall_table", s->fw_table);
	jb_raw(b, ",\"objects\":[");
	for (i = 0; i < s->nobj; i++) {
		jb_raw(b, i ? ",[" : "[");
		jb_str(b, state_kind_name(s->obj[i].kind), strlen(state_kind_name(s->obj[i].kind)));
		for (j = 0; j < s->obj[i].nargs; j++) {
			jb_raw(b, ",");
			jb_str(b, s->obj[i].arg[j], strlen(s->obj[i].arg[j]));
		}
		jb_raw(b, "]");
	}
	jb_raw(b, "]}");
}

/* The live part, from the control socket; one line on failure. */
/* The engine's text for a terminal: every control byte escaped (sanitize.h). */
static void print_inert(const char *s, size_t n)
{
	size_t len = sanitize_text(NULL, 0, s, n);
	char *out = malloc(len + 1);

	if (!out) {
		printf("live: %s\n", strerror(ENOMEM));
		return;
	}
	sanitize_text(out, len, s, n);
	out[len] = '\0';
	printf("%s\n", out);
	free(out);
}

/*
 * The live part, from the control socket; one line on failure. The reply
 * comes from the engine, the process an attacker would own first: text is
 * shown inert, JSON parsed strictly and written again (json_reencode), an
 * object or nothing, never passed through.
 */
static void status_live(int dirfd, bool json, struct jbuf *b)
{
	char *reply = malloc(CTL_REPLY_MAX + 1);
	ssize_t n = -ENOMEM;
	size_t mark;
	int ret = -EINVAL;

	if (reply)
		n = ctl_query(dirfd, json ? "status\n" : "status text\n", reply, CTL_REPLY_MAX + 1,
			      STATUS_CTL_TIMEOUT_MS);
	while (n > 0 && reply[n - 1] == '\n')
		reply[--n] = '\0';
	if (!json) {
		if (n > 0)
			print_inert(reply, (size_t)n);
		else
			printf("live: control socket: %s\n", n == -ECONNRESET
								     ? "closed without a "
								       "reply (not allowed?)"
								     : strerror((int)-n));
		free(reply);
		return;
	}
	jb_raw(b, ",\"live\":");
	mark = b->len;
	if (n > 0)
		ret = json_reencode(reply, (size_t)n, b);
	if (ret == 0 && b->p[mark] != '{')
		ret = -EINVAL; /* a value, but not the object a reply is */
	if (ret < 0 && ret != -ENOSPC) {
		b->len = mark; /* drop what was written of it */
		b->p[mark] = '\0';
		jb_raw(b, "null,");
		jb_kv_str(b, "live_error",
			  n > 0		     ? "malformed reply"
			  : n == -ECONNRESET ? "closed without a reply (not allowed?)"
					     : strerror((int)-n));
	}
	free(reply);
}

int cmd_status(int argc, char **argv)
{
	const char *dir = NULL, *why = "";
	struct uphealth health;
	struct state s;
	struct jbuf b;
	char *out = NULL;
	pid_t holder = 0;
	bool json = false;
	int dirfd, lockfd, ret, status;

	ret = up_small_opts_parse(argc, argv, &dir, &json, "status");
	if (ret)
		return ret > 0 ? 0 : EXIT_USAGE;
	dirfd = up_dir_open(dir);
	if (dirfd < 0)
		return EXIT_ENV;
	lockfd = state_lock(dirfd, &holder);
	if (lockfd >= 0)
		close(lockfd);
	else if (lockfd != -EBUSY) {
		log_error("status: cannot probe the lock: %s", strerror(-lockfd));
		close(dirfd);
		return EXIT_ENV;
	}
	if (json) {
		out = malloc(2 * CTL_REPLY_MAX);
		if (!out) {
			log_error("status: %s", strerror(ENOMEM));
			close(dirfd);
			return EXIT_ENV;
		}
		jb_init(&b, out, 2 * CTL_REPLY_MAX);
	}
	ret = state_read(dirfd, &s, &why);
	status = EXIT_NOT_UP;
	/* what is in the kernel, not what the state file says (upcheck.c) */
	if (lockfd == -EBUSY)
		status = uphealth_get(dirfd, holder, ret == 0 ? &s : NULL, &health);
	if (json) {
		jb_raw(&b, "{");
		jb_kv_bool(&b, "running", lockfd == -EBUSY);
		if (lockfd == -EBUSY) {
			jb_printf(&b, ",\"pid\":%d", (int)holder);
			uphealth_json(&b, &health);
		}
		jb_raw(&b, ",");
		jb_kv_bool(&b, "leftovers", ret == 0 && lockfd != -EBUSY);
		jb_raw(&b, ",\"installed\":");
		if (ret == 0) {
			state_json(&b, &s);
		} else {
			jb_raw(&b, "null");
			if (ret != -ENOENT) {
				jb_raw(&b, ",");
				jb_kv_str(&b, "state_error", why);
			}
		}
		if (lockfd == -EBUSY)
			status_live(dirfd, true, &b);
		jb_raw(&b, "}\n");
		if (b.full)
			log_error("status: the JSON reply does not fit in %d bytes",
				  2 * CTL_REPLY_MAX);
		else
			fputs(out, stdout);
		free(out);
		close(dirfd);
		return b.full ? EXIT_ENV : status;
	}
	if (lockfd == -EBUSY)
		uphealth_print(&health, holder);
	else
		printf("up: not running\n");
	if (ret == 0) {
		if (lockfd != -EBUSY)
			printf("leftovers of dead pid %d (remove them with: proxyvpn down)\n",
			       (int)s.pid);
		print_state(&s, lockfd == -EBUSY ? &health.chk : NULL);
	} else if (ret != -ENOENT) {
		printf("state file unusable: %s\n", why);
	}
	if (lockfd == -EBUSY)
		status_live(dirfd, false, NULL);
	close(dirfd);
	return status;
}
