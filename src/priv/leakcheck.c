// SPDX-License-Identifier: GPL-2.0-only
/*
 * exec --check-leaks (leakcheck.h). A host service can only be reached
 * from the namespace through a Unix socket in the file system (abstract
 * sockets belong to the network namespace, which is ours): so the check is
 * a connect() to each socket the command could find. Known services first,
 * by name; then a bounded walk of the directories where services put their
 * sockets, for the ones nobody listed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

#include "hostconf.h"
#include "leakcheck.h"
#include "log.h"
#include "num.h"

enum {
	SEEN_MAX = 512,	    /* sockets reported once, by inode */
	SAID_MAX = 64,	    /* and by name (absent ones have no inode) */
	WALK_DEPTH = 4,	    /* below each walked directory */
	WALK_MAX = 20000,   /* directory entries looked at, all walks together */
	LINE_MAX_CHK = 256, /* nsswitch.conf and resolv.conf lines shown */
};

/*
 * Paths starting with "R/" are below $XDG_RUNTIME_DIR. What each service
 * could do for a command is said in docs/security.md.
 */
static const struct probe {
	const char *what;
	const char *path;
} probes[] = {
	{ "nscd: name lookups", "/run/nscd/socket" },
	{ "nscd: name lookups", "/var/run/nscd/socket" },
	{ "avahi: mDNS name lookups", "/run/avahi-daemon/socket" },
	{ "avahi: mDNS name lookups", "/var/run/avahi-daemon/socket" },
	{ "systemd-resolved: name lookups", "/run/systemd/resolve/io.systemd.Resolve" },
	{ "system D-Bus: resolve1, NetworkManager...", "/run/dbus/system_bus_socket" },
	{ "system D-Bus: resolve1, NetworkManager...", "/var/run/dbus/system_bus_socket" },
	{ "session D-Bus: portals, xdg-open, apps", "R/bus" },
	{ "Wayland display", "R/wayland-0" },
	{ "PulseAudio", "R/pulse/native" },
	{ "PipeWire", "R/pipewire-0" },
	{ "gpg dirmngr: fetches keys", "R/gnupg/S.dirmngr" },
	{ "Docker: starts containers", "/run/docker.sock" },
	{ "Docker: starts containers", "/var/run/docker.sock" },
	{ "containerd", "/run/containerd/containerd.sock" },
	{ "Podman", "/run/podman/podman.sock" },
	{ "Podman (rootless)", "R/podman/podman.sock" },
	{ "libvirt: starts VMs", "/run/libvirt/libvirt-sock" },
	{ "libvirt: starts VMs", "/run/libvirt/virtqemud-sock" },
	{ "libvirt (session)", "R/libvirt/libvirt-sock" },
	{ "LXD", "/var/lib/lxd/unix.socket" },
	{ "LXD", "/var/snap/lxd/common/lxd/unix.socket" },
	{ "Incus", "/var/lib/incus/unix.socket" },
	{ "CRI-O", "/run/crio/crio.sock" },
	{ "snapd: store downloads", "/run/snapd.socket" },
	{ "CUPS: network printers", "/run/cups/cups.sock" },
	{ "nslcd: LDAP lookups", "/run/nslcd/socket" },
	{ "sssd: directory lookups", "/var/lib/sss/pipes/nss" },
	{ "winbindd: AD lookups", "/run/samba/winbindd/pipe" },
	{ "systemd: starts units", "/run/systemd/private" },
	{ "journald: may forward logs", "/run/systemd/journal/socket" },
	{ "syslog: may forward logs", "/dev/log" },
};

struct check {
	struct {
		dev_t dev;
		ino_t ino;
	} seen[SEEN_MAX];
	int nseen;
	char *said[SAID_MAX];
	int nsaid;
	int walked;
	int reachable;
};

/* 1 reachable (connected, or a full backlog), 0 not; errno says why not. */
static int try_connect(const char *path, bool abstract)
{
	static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path), i;
	socklen_t sl;
	int fd, ret, err = ENOENT;

	if (len + (abstract ? 1 : 0) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return 0;
	}
	memcpy(sa.sun_path + (abstract ? 1 : 0), path, len);
	/* A path with its NUL; an abstract name after its leading NUL: both len + 1. */
	sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		fd = socket(AF_UNIX, types[i] | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return 0;
		ret = connect(fd, (struct sockaddr *)&sa, sl);
		err = errno;
		close(fd);
		if (ret == 0 || err == EINPROGRESS || err == EAGAIN)
			return 1;
		if (err != EPROTOTYPE)
			break;
	}
	errno = err;
	return 0;
}

static bool seen(struct check *c, const struct stat *st)
{
	int i;

	for (i = 0; i < c->nseen; i++)
		if (c->seen[i].dev == st->st_dev && c->seen[i].ino == st->st_ino)
			return true;
	if (c->nseen < SEEN_MAX) {
		c->seen[c->nseen].dev = st->st_dev;
		c->seen[c->nseen].ino = st->st_ino;
		c->nseen++;
	}
	return false;
}

static const char *state(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return "absent";
	case ECONNREFUSED:
		return "refused";
	case EACCES:
	case EPERM:
		return "denied";
	default:
		return "failed";
	}
}

static bool said(struct check *c, const char *path, bool abstract)
{
	int i;

	for (i = 0; i < c->nsaid; i++)
		if (c->said[i][0] == (abstract ? '@' : '/') && !strcmp(c->said[i] + 1, path))
			return true;
	if (c->nsaid < SAID_MAX && (c->said[c->nsaid] = malloc(strlen(path) + 2))) {
		c->said[c->nsaid][0] = abstract ? '@' : '/';
		strcpy(c->said[c->nsaid] + 1, path);
		c->nsaid++;
	}
	return false;
}

/* One line for a socket path; counts it if reachable. */
static void report(struct check *c, const char *what, const char *path, bool abstract,
		   bool quiet_absent)
{
	struct stat st;
	int ok;

	if (said(c, path, abstract) || (!abstract && stat(path, &st) == 0 && seen(c, &st)))
		return;
	ok = try_connect(path, abstract);
	/* Absent known sockets only at -v: the list is long on any host. */
	if (!ok && (errno == ENOENT || errno == ENOTDIR) &&
	    (quiet_absent || log_level < LOG_LVL_INFO))
		return;
	if (ok)
		c->reachable++;
	printf("  %-10s %-42s %s%s\n", ok ? "REACHABLE" : state(errno), what, abstract ? "@" : "",
	       path);
}

static const char *runtime_dir(void)
{
	const char *r = getenv("XDG_RUNTIME_DIR");

	return r && r[0] == '/' ? r : NULL;
}

static void known(struct check *c)
{
	const char *rt = runtime_dir();
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const char *p = probes[i].path;

		if (!strncmp(p, "R/", 2)) {
			if (!rt)
				continue;
			if ((size_t)snprintf(path, sizeof(path), "%s/%s", rt, p + 2) >=
			    sizeof(path))
				continue;
			p = path;
		}
		report(c, probes[i].what, p, false, false);
	}
}

/* The sockets the caller's environment points programs at. */
static void from_env(struct check *c)
{
	static const char *const buses[] = { "DBUS_SYSTEM_BUS_ADDRESS",
					     "DBUS_SESSION_BUS_ADDRESS" };
	const char *s, *rt = runtime_dir();
	char path[PATH_MAX];
	uint64_t n;
	size_t i, pos;

	for (i = 0; i < sizeof(buses) / sizeof(buses[0]); i++) {
		s = getenv(buses[i]);
		pos = 0;
		while (s && dbus_addr_next_path(s, &pos, path, sizeof(path)) == 1)
			report(c, buses[i], path, false, false);
	}
	/* X11: ":N", ":N.S" or "unix:N" name a socket; "host:N" is TCP (through the proxy). */
	s = getenv("DISPLAY");
	if (s && (s[0] == ':' || !strncmp(s, "unix:", 5))) {
		s = strchr(s, ':') + 1;
		if (num_parse(s, strcspn(s, "."), 0, 0, 99999, &n) == 0) {
			snprintf(path, sizeof(path), "/tmp/.X11-unix/X%" PRIu64, n);
			report(c, "X11 display ($DISPLAY)", path, false, false);
			report(c, "X11 display ($DISPLAY)", path, true, false);
		}
	}
	s = getenv("WAYLAND_DISPLAY");
	if (s && (s[0] == '/' || rt) &&
	    (size_t)snprintf(path, sizeof(path), "%s%s%s", s[0] == '/' ? "" : rt,
			     s[0] == '/' ? "" : "/", s) < sizeof(path))
		report(c, "Wayland display ($WAYLAND_DISPLAY)", path, false, false);
	snprintf(path, sizeof(path), "/tmp/tmux-%u/default", (unsigned int)getuid());
	report(c, "tmux: runs commands", path, false, false);
	s = getenv("SSH_AUTH_SOCK");
	if (s && s[0] == '/')
		report(c, "ssh-agent: signs, opens nothing", s, false, false);
}

/*
 * gvfs and the document portal mount FUSE file systems in the runtime dir:
 * walking them asks their daemons, which may be slow, and holds no socket.
 */
static bool on_fuse(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
}

/* Every socket below dir (depth-limited, links not followed), not yet reported. */
static void walk(struct check *c, const char *dir, int depth)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (depth > WALK_DEPTH || c->walked >= WALK_MAX)
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) && c->walked < WALK_MAX) {
		c->walked++;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "",
				     de->d_name) >= sizeof(path))
			continue;
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISSOCK(st.st_mode))
			report(c, "(other)", path, false, true);
		else if (S_ISDIR(st.st_mode) && !on_fuse(path))
			walk(c, path, depth + 1);
	}
	closedir(d);
}

/* The first line of path starting with key, shown as the command sees it. */
static void show_line(const char *path, const char *key)
{
	char line[LINE_MAX_CHK];
	size_t k = strlen(key), n;
	FILE *f = fopen(path, "re");
	const char *l;

	if (!f) {
		printf("  %s: %s\n", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		l = line + strspn(line, " \t");
		if (strncmp(l, key, k))
			continue;
		n = strcspn(l, "\n");
		printf("  %s: %.*s\n", path, (int)n, l);
		fclose(f);
		return;
	}
	printf("  %s: no %s line\n", path, key);
	fclose(f);
}

int leakcheck_run(void)
{
	static const char *const roots[] = { "/run", "/var/run", "/tmp", "/var/tmp" };
	struct check *c = calloc(1, sizeof(*c));
	char rp[PATH_MAX], gnupg[PATH_MAX];
	const char *home = getenv("HOME");
	size_t i;
	int ret;

	if (!c) {
		printf("proxyvpn exec --check-leaks: out of memory\n");
		fflush(stdout);
		return 1;
	}
	printf("Host services a command in this namespace can reach (besides the proxy):\n");
	known(c);
	from_env(c);
	printf("Other Unix sockets found:\n");
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		/* /var/run is usually a link to /run: walked once. */
		if (i == 1 && realpath("/var/run", rp) && !strcmp(rp, "/run"))
			continue;
		walk(c, roots[i], 0);
	}
	if (runtime_dir())
		walk(c, runtime_dir(), 0);
	if (home && home[0] == '/' &&
	    (size_t)snprintf(gnupg, sizeof(gnupg), "%s/.gnupg", home) < sizeof(gnupg))
		walk(c, gnupg, WALK_DEPTH);
	printf("Name lookups:\n");
	show_line("/etc/nsswitch.conf", "hosts:");
	show_line("/etc/resolv.conf", "nameserver");
	if (c->reachable)
		printf("%d reachable: a program can ask these services to act outside the "
		       "proxy (see proxyvpn(8), --isolate)\n",
		       c->reachable);
	else
		printf("none reachable\n");
	ret = c->reachable ? 1 : 0;
	while (c->nsaid)
		free(c->said[--c->nsaid]);
	free(c);
	fflush(stdout);
	return ret;
}
