// SPDX-License-Identifier: GPL-2.0-only
/*
 * Local-proxy detection for `up` (see localproxy.h for the policy): the
 * proxy's address checked against this host's, its listening socket and the
 * sockets of the process holding it read through sock_diag (libmnl socket,
 * sockdiag.c parser), the process found by its fds in /proc, its cgroup from
 * /proc/PID/cgroup, and --exclude-cgroup paths resolved for nft.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "localproxy.h"
#include "num.h"
#include "sockdiag.h"

#define CGROUP_FS "/sys/fs/cgroup" /* where nft resolves `socket cgroupv2` paths */

enum {
	DUMP_BUF = 32768,	      /* the kernel fills dump reads up to this */
	DUMP_READS_MAX = 1 << 16,     /* reads per dump before giving up */
	PROC_LINKS_MAX = 1 << 20,     /* fd links read in /proc, all processes together */
	MOUNTINFO_LINES_MAX = 1 << 14 /* lines of /proc/self/mountinfo read */
};

/* ---- the policy (pure) ---- */

bool localproxy_system_uid(uint32_t uid)
{
	/* not root; nobody (65534) is shared by unrelated daemons and above the range */
	return uid >= 1 && uid <= LP_SYS_UID_MAX;
}

bool localproxy_service_cgroup(const char *cg)
{
	static const char pfx[] = "/system.slice/";
	const char *last;
	size_t n;

	if (!cg || strncmp(cg, pfx, sizeof(pfx) - 1) != 0)
		return false;
	last = strrchr(cg, '/') + 1;
	n = strlen(last);
	/* a unit's own cgroup: system.slice/NAME.service (or a nested slice's) */
	return n > 8 && !strcmp(last + n - 8, ".service") && fw_cgroup_depth(cg + 1) >= 2;
}

enum lp_how localproxy_decide(uint32_t uid, const char *cgroup, size_t npeer)
{
	if (localproxy_system_uid(uid))
		return LP_UID;
	if (localproxy_service_cgroup(cgroup))
		return LP_CGROUP;
	return npeer ? LP_PEERS : LP_UNSAFE;
}

/* ---- addresses ---- */

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool loopback(int family, const uint8_t *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (family == AF_INET)
		return a[0] == 127;
	return !memcmp(a, lo6, 16) || (!memcmp(a, v4mapped, 12) && a[12] == 127);
}

/* Is family/a one of this host's addresses (loopback included)? */
static bool host_addr(int family, const uint8_t *a)
{
	struct ifaddrs *ifs, *i;
	bool found = false;

	if (loopback(family, a))
		return true;
	if (getifaddrs(&ifs) < 0)
		return false;
	for (i = ifs; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != family)
			continue;
		if (family == AF_INET)
			found = !memcmp(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a,
					4);
		else
			found = !memcmp(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, a,
					16);
	}
	freeifaddrs(ifs);
	return found;
}

static bool all_zero(const uint8_t *a, size_t n)
{
	while (n--)
		if (*a++)
			return false;
	return true;
}

/* ---- sock_diag ---- */

static int dump(int family, uint32_t states, int (*cb)(const struct sockdiag_sock *, void *),
		void *arg)
{
	static uint32_t seq;
	uint8_t req[SOCKDIAG_REQ_LEN];
	struct mnl_socket *nl;
	char *buf;
	int ret = -E2BIG, i;

	buf = malloc(DUMP_BUF);
	if (!buf)
		return -ENOMEM;
	nl = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	seq++;
	if (sockdiag_request(req, sizeof(req), family, states, seq) < 0 ||
	    mnl_socket_sendto(nl, req, sizeof(req)) < 0) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < DUMP_READS_MAX; i++) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, DUMP_BUF);

		if (n < 0) {
			ret = -errno;
			break;
		}
		ret = sockdiag_parse(buf, (size_t)n, seq, cb, arg);
		if (ret)
			break;
		ret = -E2BIG;
	}
out:
	if (nl)
		mnl_socket_close(nl);
	free(buf);
	return ret < 0 ? ret : 0;
}

/* What listens at the proxy's address and port. */
struct listen_scan {
	int family;
	uint8_t addr[16];
	uint16_t port;
	uint32_t inode[LP_MAX_PIDS];
	size_t ninode;
	uint32_t uid;
	bool found;
};

static int listen_cb(const struct sockdiag_sock *s, void *arg)
{
	struct listen_scan *l = arg;
	bool match;

	if (s->state != TCP_LISTEN || s->sport != l->port)
		return 0;
	if (s->family == l->family)
		match = !memcmp(s->src, l->addr, 16) || all_zero(s->src, 16);
	else /* an IPv6 socket on :: or ::ffff:A takes IPv4 connections too */
		match = l->family == AF_INET &&
			(all_zero(s->src, 16) ||
			 (!memcmp(s->src, v4mapped, 12) && !memcmp(s->src + 12, l->addr, 4)));
	if (!match)
		return 0;
	if (!l->found)
		l->uid = s->uid;
	l->found = true;
	if (s->inode && l->ninode < LP_MAX_PIDS)
		l->inode[l->ninode++] = s->inode;
	return 0;
}

/* ---- /proc ---- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The socket inode an fd link names ("socket:[123]"), or 0. */
static uint32_t link_inode(int dirfd, const char *name)
{
	char l[64];
	uint64_t v;
	ssize_t n = readlinkat(dirfd, name, l, sizeof(l) - 1);

	if (n < 10 || memcmp(l, "socket:[", 8) != 0 || l[n - 1] != ']')
		return 0;
	if (num_parse(l + 8, (size_t)n - 9, 0, 0, UINT32_MAX, &v) < 0)
		return 0;
	return (uint32_t)v;
}

/*
 * Calls fn for each socket fd of pid (at most LP_MAX_SOCKS); *budget bounds
 * the links read over all calls. Returns false if the fds cannot be read.
 */
static bool each_socket(pid_t pid, size_t *budget, bool (*fn)(uint32_t ino, void *arg), void *arg)
{
	char path[32];
	struct dirent *e;
	size_t n = 0;
	DIR *d;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	while ((e = readdir(d)) && *budget > 0 && n < LP_MAX_SOCKS) {
		uint32_t ino;

		if (e->d_name[0] == '.')
			continue;
		(*budget)--;
		ino = link_inode(fd, e->d_name);
		if (!ino)
			continue;
		n++;
		if (!fn(ino, arg))
			break;
	}
	closedir(d);
	return true;
}

struct holder {
	const uint32_t *inode;
	size_t ninode;
	bool hit;
};

static bool holds_cb(uint32_t ino, void *arg)
{
	struct holder *h = arg;

	for (size_t i = 0; i < h->ninode; i++)
		if (h->inode[i] == ino)
			h->hit = true;
	return !h->hit;
}

/* Processes holding one of the listener's inodes (at most max). */
static size_t find_holders(const uint32_t *inode, size_t ninode, pid_t *pids, size_t max)
{
	size_t n = 0, budget = PROC_LINKS_MAX;
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max && budget > 0) {
		struct holder h = { inode, ninode, false };
		uint32_t pid;

		if (num_u32(e->d_name, 0, 1, INT32_MAX, &pid) < 0 || (pid_t)pid == getpid())
			continue;
		if (each_socket((pid_t)pid, &budget, holds_cb, &h) && h.hit)
			pids[n++] = (pid_t)pid;
	}
	closedir(d);
	return n;
}

static void read_comm(pid_t pid, char *out, size_t len)
{
	char path[32];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
	/* a name is the process's choice: keep it printable */
	for (char *c = out; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
}

/* The process's cgroup v2 path (the "0::PATH" line), "" if none. */
static void read_cgroup(pid_t pid, char *out, size_t len)
{
	char path[32], line[FW_CGROUP_MAX + 8];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\n");

		if (line[n] != '\n' || strncmp(line, "0::", 3) != 0)
			continue;
		line[n] = '\0';
		if (n - 3 < len)
			memcpy(out, line + 3, n - 2);
		break;
	}
	fclose(f);
}

/* ---- peers ---- */

struct peer_scan {
	uint32_t *inode; /* sorted */
	size_t ninode, cap;
	uint16_t port; /* the proxy's: its accepted connections have it as source port */
	struct localproxy *lp;
	bool overflow;
};

static bool add_inode(uint32_t ino, void *arg)
{
	struct peer_scan *p = arg;

	if (p->ninode < p->cap)
		p->inode[p->ninode++] = ino;
	return true;
}

static int peer_cb(const struct sockdiag_sock *s, void *arg)
{
	struct peer_scan *p = arg;
	struct fw_peer x = { .family = s->family, .port = s->dport };
	struct localproxy *lp = p->lp;
	size_t i;

	if (!s->inode || s->sport == p->port || s->dport == 0 ||
	    !bsearch(&s->inode, p->inode, p->ninode, sizeof(uint32_t), cmp_u32))
		return 0;
	if (s->family == AF_INET6 && !memcmp(s->dst, v4mapped, 12)) {
		x.family = AF_INET;
		memcpy(x.addr, s->dst + 12, 4);
	} else {
		memcpy(x.addr, s->dst, 16);
	}
	/* to this host: routed by lo, never marked anyway */
	if (host_addr(x.family, x.addr))
		return 0;
	for (i = 0; i < lp->npeer; i++)
		if (lp->peer[i].family == x.family && lp->peer[i].port == x.port &&
		    !memcmp(lp->peer[i].addr, x.addr, 16))
			return 0;
	if (lp->npeer == LP_MAX_PEERS) {
		p->overflow = true;
		return 0;
	}
	lp->peer[lp->npeer++] = x;
	return 0;
}

/*
 * The current connections out of the processes holding the listener. More
 * than LP_MAX_PEERS distinct ones is a server's traffic, not one upstream:
 * none is returned then.
 */
static int find_peers(const pid_t *pids, size_t npids, uint16_t port, struct localproxy *lp)
{
	struct peer_scan p = { .port = port, .lp = lp, .cap = LP_MAX_SOCKS * LP_MAX_PIDS };
	size_t budget = PROC_LINKS_MAX, i;
	int ret;

	p.inode = calloc(p.cap, sizeof(uint32_t));
	if (!p.inode)
		return -ENOMEM;
	for (i = 0; i < npids; i++)
		each_socket(pids[i], &budget, add_inode, &p);
	qsort(p.inode, p.ninode, sizeof(uint32_t), cmp_u32);
	ret = dump(AF_INET, 1u << TCP_ESTABLISHED | 1u << TCP_SYN_SENT, peer_cb, &p);
	/* as above: no IPv6 on the host, no IPv6 connection to find */
	if (ret == 0)
		dump(AF_INET6, 1u << TCP_ESTABLISHED | 1u << TCP_SYN_SENT, peer_cb, &p);
	free(p.inode);
	if (p.overflow)
		lp->npeer = 0;
	return ret;
}

int localproxy_detect(const struct sockaddr *sa, struct localproxy *lp)
{
	struct listen_scan l = { .family = sa->sa_family };
	pid_t pids[LP_MAX_PIDS];
	size_t npids;
	const char *why;
	int ret;

	memset(lp, 0, sizeof(*lp));
	lp->how = LP_REMOTE;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;

		memcpy(l.addr, &a->sin_addr, 4);
		l.port = ntohs(a->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(l.addr, &a->sin6_addr, 16);
		l.port = ntohs(a->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	if (!host_addr(l.family, l.addr))
		return 0;
	ret = dump(l.family, 1u << TCP_LISTEN, listen_cb, &l);
	if (ret < 0)
		return ret;
	/* dual-stack listeners; a host without IPv6 has none (its error is no news) */
	if (l.family == AF_INET)
		dump(AF_INET6, 1u << TCP_LISTEN, listen_cb, &l);
	if (!l.found) {
		lp->how = LP_NOT_LISTENING;
		return 0;
	}
	lp->uid = l.uid;
	npids = find_holders(l.inode, l.ninode, pids, LP_MAX_PIDS);
	if (npids) {
		lp->pid = pids[0];
		read_comm(pids[0], lp->comm, sizeof(lp->comm));
		read_cgroup(pids[0], lp->cgroup, sizeof(lp->cgroup));
	}
	/* a service cgroup counts only if nft can be given it */
	if (localproxy_service_cgroup(lp->cgroup) &&
	    localproxy_cgroup(lp->cgroup, &lp->fw_cgroup, &why) < 0)
		lp->cgroup[0] = '\0';
	lp->how = localproxy_decide(lp->uid, lp->cgroup, 0);
	if (lp->how != LP_UNSAFE || !npids)
		return 0;
	ret = find_peers(pids, npids, l.port, lp);
	if (ret < 0)
		return ret;
	lp->how = localproxy_decide(lp->uid, lp->cgroup, lp->npeer);
	return 0;
}

/* ---- cgroup paths ---- */

/* The cgroup2 mount at or below CGROUP_FS: its path below it ("" for CGROUP_FS itself). */
static int v2_mount(char *under, size_t len)
{
	char *line = NULL;
	size_t cap = 0;
	int n = 0, ret = -ENOENT;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (n++ < MOUNTINFO_LINES_MAX && getline(&line, &cap, f) > 0) {
		char *f_root, *f_mnt, *dash, *fstype, *save = NULL;

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE ... */
		dash = strstr(line, " - ");
		if (!dash)
			continue;
		*dash = '\0';
		fstype = strtok_r(dash + 3, " ", &save);
		if (!fstype || strcmp(fstype, "cgroup2") != 0)
			continue;
		save = NULL;
		if (!strtok_r(line, " ", &save) || !strtok_r(NULL, " ", &save) ||
		    !strtok_r(NULL, " ", &save))
			continue;
		f_root = strtok_r(NULL, " ", &save);
		f_mnt = strtok_r(NULL, " ", &save);
		/* the whole hierarchy (a bind of a subtree would shift every level) */
		if (!f_root || !f_mnt || strcmp(f_root, "/") != 0)
			continue;
		if (!strcmp(f_mnt, CGROUP_FS))
			f_mnt = "";
		else if (!strncmp(f_mnt, CGROUP_FS "/", sizeof(CGROUP_FS)))
			f_mnt += sizeof(CGROUP_FS);
		else
			continue;
		if (fw_cgroup_depth(f_mnt) < 0 || strlen(f_mnt) >= len)
			continue;
		memcpy(under, f_mnt, strlen(f_mnt) + 1);
		ret = 0;
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

int localproxy_cgroup(const char *path, struct fw_cgroup *out, const char **why)
{
	char full[2 * FW_CGROUP_MAX + sizeof(CGROUP_FS) + 2];
	struct stat st;
	int depth, ret;

	memset(out, 0, sizeof(*out));
	if (path[0] == '/')
		path++;
	depth = fw_cgroup_depth(path);
	if (depth < 0) {
		*why = "not a cgroup path (components of [A-Za-z0-9._@:+-] separated by /)";
		return -EINVAL;
	}
	if (depth == 0) {
		*why = "the root cgroup holds every process";
		return -EINVAL;
	}
	if (depth > 255) {
		*why = "deeper than 255 levels";
		return -EINVAL;
	}
	ret = v2_mount(out->under, sizeof(out->under));
	if (ret < 0) {
		*why = "no cgroup v2 hierarchy mounted at or under " CGROUP_FS
		       " (where nftables looks for it)";
		return ret;
	}
	if (strlen(out->under) + 1 + strlen(path) >= FW_CGROUP_MAX) {
		*why = "path too long";
		return -ENAMETOOLONG;
	}
	snprintf(full, sizeof(full), CGROUP_FS "/%s%s%s", out->under, out->under[0] ? "/" : "",
		 path);
	if (stat(full, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*why = "no such cgroup";
		return -ENOENT;
	}
	snprintf(out->path, sizeof(out->path), "%s", path);
	out->level = (unsigned int)depth;
	return 0;
}

/* ---- the log line ---- */

static void peer_str(const struct fw_peer *p, char *out, size_t len)
{
	char a[64];
	struct fw_net n = { .family = p->family, .prefix = p->family == AF_INET ? 32 : 128 };

	memcpy(n.addr, p->addr, 16);
	if (fw_net_str(&n, a, sizeof(a)) < 0)
		snprintf(a, sizeof(a), "?");
	snprintf(out, len, p->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, (unsigned int)p->port);
}

void localproxy_describe(const struct localproxy *lp, const char *proxy, char *buf, size_t len)
{
	char who[64], peers[LP_MAX_PEERS * 56] = "";
	size_t i, off = 0;

	if (lp->pid)
		snprintf(who, sizeof(who), "%s, pid %d, uid %u", lp->comm[0] ? lp->comm : "?",
			 (int)lp->pid, lp->uid);
	else
		snprintf(who, sizeof(who), "uid %u", lp->uid);
	for (i = 0; i < lp->npeer && off < sizeof(peers); i++) {
		char p[56];

		peer_str(&lp->peer[i], p, sizeof(p));
		off += (size_t)snprintf(peers + off, sizeof(peers) - off, "%s%s", i ? ", " : "", p);
	}
	switch (lp->how) {
	case LP_REMOTE:
		snprintf(buf, len, "the proxy %s is not on this host", proxy);
		break;
	case LP_NOT_LISTENING:
		snprintf(buf, len,
			 "nothing listens at the proxy %s on this host yet: a proxy started "
			 "later is not looked at, and its own connections go into the tunnel "
			 "unless kept out with --exclude-uid or --exclude-cgroup (or start it "
			 "before up)",
			 proxy);
		break;
	case LP_UID:
		snprintf(buf, len,
			 "the proxy %s runs on this host (%s): traffic of uid %u (a system "
			 "user) is kept out of the tunnel",
			 proxy, who, lp->uid);
		break;
	case LP_CGROUP:
		snprintf(buf, len,
			 "the proxy %s runs on this host (%s): its cgroup %s (a system service) "
			 "is kept out of the tunnel",
			 proxy, who, lp->cgroup);
		break;
	case LP_PEERS:
		snprintf(buf, len,
			 "the proxy %s runs on this host (%s): its connections to %s are kept "
			 "out of the tunnel (new ones it makes are not)",
			 proxy, who, peers);
		break;
	case LP_UNSAFE:
		snprintf(
			buf, len,
			"the proxy %s runs on this host (%s) with no connection out that could "
			"be told from its clients' traffic, and excluding uid %u would send all "
			"its other traffic around the proxy: name what to keep out with "
			"--exclude-uid USER (a user only the proxy runs as), --exclude-cgroup PATH "
			"or --exclude ADDR (its upstream)",
			proxy, who, lp->uid);
		break;
	}
}
