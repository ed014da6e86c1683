// SPDX-License-Identifier: GPL-2.0-only
/*
 * exec's file-system view (nsview.h). Three tools, all mounts in the
 * child's own mount namespace:
 *  - hide: an empty tmpfs over a directory, an empty read-only file over
 *    anything else (a socket); a path that does not exist is left alone,
 *    there is nothing to connect to;
 *  - place: one of our files (resolv.conf, nsswitch.conf) over a path,
 *    never following a symbolic link: a link, dangling or not, is covered
 *    itself, so no write can land where it points;
 *  - rebuild: a directory that lacks a file we must place (no
 *    /etc/resolv.conf) becomes a tmpfs holding a bind mount of each of its
 *    entries plus our file.
 * Our files live on a detached tmpfs (fsopen/fsmount) that is never
 * mounted anywhere the host can see.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostconf.h"
#include "log.h"
#include "nsview.h"

#define RESOLV_CONF   "/etc/resolv.conf"
#define NSSWITCH_CONF "/etc/nsswitch.conf"

enum {
	VIEW_MAX_OURS = 64, /* tmpfs instances we mount: far more than the lists below */
	RESOLV_OUT_MAX = 4096,
};

/*
 * Host services that resolve names for their clients, over a socket in
 * these directories. Hidden in every mode: each is a DNS leak.
 */
static const char *const resolver_dirs[] = {
	"/run/nscd",		/* nscd and unscd: glibc asks it before any NSS module */
	"/run/avahi-daemon",	/* nss-mdns: .local names asked on the host's LAN */
	"/run/systemd/resolve", /* systemd-resolved's varlink socket (nss-resolve) */
	/* The same where /var/run is a directory, not a link to /run. */
	"/var/run/nscd",
	"/var/run/avahi-daemon",
	"/var/run/systemd/resolve",
};

/* The system D-Bus: resolve1, NetworkManager, avahi and more act for callers. */
static const char *const system_bus_dirs[] = { "/run/dbus", "/var/run/dbus" };

/* --isolate: container and VM managers outside /run (which it empties). */
static const char *const isolate_sockets[] = {
	"/var/lib/lxd/unix.socket",
	"/var/snap/lxd/common/lxd/unix.socket",
	"/var/lib/incus/unix.socket",
};

struct view {
	int files; /* detached tmpfs: "hidden", "resolv.conf", "nsswitch.conf" */
	dev_t ours[VIEW_MAX_OURS];
	int nours;
};

/*
 * A regular host file of at most cap bytes (else -EFBIG: a cut file would be
 * read as if whole). 0 or -errno.
 */
static int read_host_file(const char *path, char *buf, size_t cap, size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	*len = 0;
	/* O_NONBLOCK: a FIFO planted there must not hang the setup. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if (!S_ISREG(st.st_mode))
		ret = -EINVAL;
	else if (st.st_size > (off_t)cap)
		ret = -EFBIG;
	if (ret < 0) {
		close(fd);
		return ret;
	}
	while (*len < cap) {
		n = read(fd, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return ret;
}

/* A detached tmpfs with its root at mode (octal string). fd or -errno. */
static int new_tmpfs(struct view *v, const char *mode, const char *size)
{
	struct stat st;
	int fsfd, mfd = -1, err;

	fsfd = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return -errno;
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "mode", mode, 0) < 0 ||
	    (size && fsconfig(fsfd, FSCONFIG_SET_STRING, "size", size, 0) < 0) ||
	    fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		goto err;
	mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	if (mfd < 0)
		goto err;
	if (fstat(mfd, &st) < 0)
		goto err;
	if (v->nours < VIEW_MAX_OURS)
		v->ours[v->nours++] = st.st_dev;
	close(fsfd);
	return mfd;
err:
	err = errno;
	if (mfd >= 0)
		close(mfd);
	close(fsfd);
	return -err;
}

static bool is_ours(const struct view *v, dev_t dev)
{
	int i;

	for (i = 0; i < v->nours; i++)
		if (v->ours[i] == dev)
			return true;
	return false;
}

static int write_file_at(int dfd, const char *name, const char *s, size_t len, mode_t mode)
{
	ssize_t n;
	int fd, ret = 0;

	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	while (len) {
		n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		s += n;
		len -= (size_t)n;
	}
	/* Through the umask: the command reads these whatever its uid. */
	if (ret == 0 && fchmod(fd, mode) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Mounts a clone of our file name over path (no link followed). 0 or -errno. */
static int bind_ours(struct view *v, const char *name, const char *path, unsigned int flags)
{
	int tree, ret = 0;

	tree = open_tree(v->files, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return -errno;
	if (move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH | flags) < 0)
		ret = -errno;
	close(tree);
	return ret;
}

/*
 * Hides path: an empty tmpfs (root at mode, read-only unless writable) over
 * a directory, our empty read-only file over anything else. Links are
 * followed: what they lead to is what a client would reach. A path that does
 * not exist (or that the caller cannot reach) is left alone. 0 or -errno.
 */
static int hide(struct view *v, const char *path, const char *mode, bool writable)
{
	struct stat st;
	int mfd, ret = 0;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES || errno == ELOOP)
			return 0;
		ret = -errno;
		goto out;
	}
	if (is_ours(v, st.st_dev))
		return 0; /* under something hidden already, or hidden by another name */
	if (!S_ISDIR(st.st_mode)) {
		ret = bind_ours(v, "hidden", path, MOVE_MOUNT_T_SYMLINKS);
		goto out;
	}
	mfd = new_tmpfs(v, mode, writable ? NULL : "4k");
	if (mfd < 0) {
		ret = mfd;
		goto out;
	}
	if (!writable)
		mount_setattr(mfd, "", AT_EMPTY_PATH,
			      &(struct mount_attr){ .attr_set = MOUNT_ATTR_RDONLY },
			      sizeof(struct mount_attr));
	if (move_mount(mfd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) <
	    0)
		ret = -errno;
	close(mfd);
out:
	if (ret < 0)
		log_error("exec: cannot hide %s from the command: %s", path, strerror(-ret));
	else
		log_debug("exec: %s hidden from the command", path);
	return ret;
}

/* Clones the host's entry name of dfd (recursively) onto the same name in mfd. */
static int rebind_entry(int dfd, int mfd, const char *name)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd, tree, ret = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno; /* gone meanwhile */
	if (S_ISLNK(st.st_mode)) {
		n = readlinkat(dfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = 0;
		return symlinkat(target, mfd, name) < 0 ? -errno : 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(mfd, name, 0755) < 0)
			return -errno;
	} else {
		fd = openat(mfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		close(fd);
	}
	/* Recursive: a non-recursive bind of a tree holding locked mounts fails. */
	tree = open_tree(dfd, name,
			 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
	if (tree < 0)
		return -errno;
	if (move_mount(tree, "", mfd, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		ret = -errno;
	close(tree);
	return ret;
}

/*
 * dir becomes a tmpfs holding a bind mount of each host entry (links copied)
 * and our file name, where the host has none: the only way to add a name to
 * a directory without writing to it. Entries the host adds later are not
 * seen. 0 or -errno.
 */
static int rebuild_with(struct view *v, const char *dir, const char *name)
{
	char mode[8];
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int dfd, mfd = -1, fd, ret = 0;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fstat(dfd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	snprintf(mode, sizeof(mode), "%o", (unsigned int)(st.st_mode & 07777));
	mfd = new_tmpfs(v, mode, "1m");
	if (mfd < 0) {
		ret = mfd;
		goto out;
	}
	/* Mounted first: mounts can only be attached below an attached tree. */
	if (move_mount(mfd, "", AT_FDCWD, dir, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) <
	    0) {
		ret = -errno;
		goto out;
	}
	fd = dup(dfd);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, name))
			continue;
		ret = rebind_entry(dfd, mfd, de->d_name);
		if (ret < 0) {
			log_error("exec: cannot show %s/%s in the command's copy of %s: %s", dir,
				  de->d_name, dir, strerror(-ret));
			goto out;
		}
	}
	if (errno) {
		ret = -errno;
		goto out;
	}
	fd = openat(mfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	close(fd);
	ret = -EINVAL;
	{
		char path[PATH_MAX];

		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path))
			ret = bind_ours(v, name, path, 0);
	}
out:
	if (d)
		closedir(d);
	if (mfd >= 0)
		close(mfd);
	close(dfd);
	return ret;
}

/*
 * Our file name over path, whatever path is: a regular file, a link
 * (dangling or not: the link itself is covered), or nothing (then its
 * directory is rebuilt). 0 or -errno after logging.
 */
static int place(struct view *v, const char *name, const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	int ret;

	if (lstat(path, &st) == 0) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : bind_ours(v, name, path, 0);
	} else if (errno == ENOENT) {
		const char *slash = strrchr(path, '/');

		ret = -EINVAL;
		if (slash && slash > path && (size_t)(slash - path) < sizeof(dir)) {
			memcpy(dir, path, (size_t)(slash - path));
			dir[slash - path] = 0;
			ret = rebuild_with(v, dir, slash + 1);
		}
	} else {
		ret = -errno;
	}
	if (ret < 0)
		log_error("exec: cannot put the command's own %s in place: %s", path,
			  strerror(-ret));
	return ret;
}

/* The detached tmpfs with our files, read-only once written. 0 or -errno. */
static int make_files(struct view *v, const char *resolv, size_t rlen, const char *nss, size_t nlen)
{
	int ret;

	v->files = new_tmpfs(v, "0755", "1m");
	if (v->files < 0)
		return v->files;
	ret = write_file_at(v->files, "hidden", "", 0, 0444);
	if (ret == 0 && resolv)
		ret = write_file_at(v->files, "resolv.conf", resolv, rlen, 0644);
	if (ret == 0 && nss)
		ret = write_file_at(v->files, "nsswitch.conf", nss, nlen, 0644);
	if (ret < 0)
		return ret;
	/* Best effort (kernel 5.12): the command cannot rewrite them either way in effect. */
	if (mount_setattr(v->files, "", AT_EMPTY_PATH,
			  &(struct mount_attr){ .attr_set = MOUNT_ATTR_RDONLY },
			  sizeof(struct mount_attr)) < 0)
		log_debug("exec: our files stay writable: mount_setattr: %s", strerror(errno));
	return 0;
}

/* Every unix:path= socket of the D-Bus address in variable var. */
static int hide_bus_env(struct view *v, const char *var)
{
	const char *addr = getenv(var);
	char path[PATH_MAX];
	size_t pos = 0;
	int ret;

	if (!addr)
		return 0;
	while ((ret = dbus_addr_next_path(addr, &pos, path, sizeof(path))) == 1) {
		ret = hide(v, path, "0755", false);
		if (ret < 0)
			return ret;
	}
	if (ret < 0)
		log_warnx("exec: $%s is not a D-Bus address the command could use; ignored", var);
	return 0;
}

/* A copy of the host's top-level links of dir in the tmpfs mfd (best effort). */
static void copy_links(int dfd, int mfd)
{
	char target[PATH_MAX];
	struct dirent *de;
	struct stat st;
	ssize_t n;
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
			continue;
		n = readlinkat(dfd, de->d_name, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (symlinkat(target, mfd, de->d_name) < 0)
			log_debug("exec: link /run/%s not copied: %s", de->d_name, strerror(errno));
	}
	closedir(d);
}

/*
 * --isolate's /run: empty but for the host's top-level links (/run/shm,
 * NixOS's /run/current-system), an empty /run/user/UID, /run/lock, and
 * the system bus if allowed. An allow-list: a service that appears in the
 * host's /run later is not seen either.
 */
static int isolate_run(struct view *v, const struct nsview_cfg *c)
{
	char uid[16];
	int rfd, mfd, ufd = -1, ret = 0;

	rfd = open("/run", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return errno == ENOENT ? 0 : -errno;
	mfd = new_tmpfs(v, "0755", NULL);
	if (mfd < 0) {
		ret = mfd;
		goto out;
	}
	if (move_mount(mfd, "", AT_FDCWD, "/run", MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		ret = -errno;
		goto out;
	}
	snprintf(uid, sizeof(uid), "%u", (unsigned int)c->uid);
	if (mkdirat(mfd, "user", 0755) < 0 || fchmodat(mfd, "user", 0755, 0) < 0 ||
	    (ufd = openat(mfd, "user", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    mkdirat(ufd, uid, 0700) < 0 || mkdirat(mfd, "lock", 0755) < 0 ||
	    fchmodat(mfd, "lock", 01777, 0) < 0) {
		ret = -errno;
		goto out;
	}
	copy_links(rfd, mfd); /* after our names: a host link called user or lock loses */
	if (c->allow_system_bus && faccessat(rfd, "dbus", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		ret = rebind_entry(rfd, mfd, "dbus");
out:
	if (ret < 0)
		log_error("exec: cannot give the command an empty /run: %s", strerror(-ret));
	if (ufd >= 0)
		close(ufd);
	if (mfd >= 0)
		close(mfd);
	close(rfd);
	return ret;
}

/* --isolate: desktop sessions (buses, X11, Wayland) and container managers. */
static int isolate(struct view *v, const struct nsview_cfg *c)
{
	char path[PATH_MAX], rp[PATH_MAX];
	const char *s;
	size_t i;
	int ret;

	ret = isolate_run(v, c);
	if (ret < 0)
		return ret;
	/* Where /var/run is a directory of its own, it gets the same treatment. */
	if (realpath("/var/run", rp) && strcmp(rp, "/run") != 0) {
		ret = hide(v, "/var/run", "0755", true);
		if (ret < 0)
			return ret;
	}
	/* The runtime dir and the sockets in it: an empty one the command can use. */
	s = getenv("XDG_RUNTIME_DIR");
	if (s && s[0] == '/') {
		ret = hide(v, s, "0700", true);
		if (ret < 0)
			return ret;
	}
	/* X11 and ICE sockets (their abstract twins are per network namespace). */
	ret = hide(v, "/tmp/.X11-unix", "1777", true);
	if (ret == 0)
		ret = hide(v, "/tmp/.ICE-unix", "1777", true);
	if (ret < 0)
		return ret;
	/* tmux's server runs commands outside the namespace for any client. */
	snprintf(path, sizeof(path), "/tmp/tmux-%u", (unsigned int)c->uid);
	ret = hide(v, path, "0700", true);
	if (ret < 0)
		return ret;
	ret = hide_bus_env(v, "DBUS_SESSION_BUS_ADDRESS");
	if (ret < 0)
		return ret;
	s = getenv("WAYLAND_DISPLAY");
	if (s && s[0] == '/') {
		ret = hide(v, s, "0755", false);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < sizeof(isolate_sockets) / sizeof(isolate_sockets[0]); i++) {
		ret = hide(v, isolate_sockets[i], "0755", false);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Whether the host has a system bus socket where clients look for one. */
static bool have_system_bus(void)
{
	const char *addr = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	char path[PATH_MAX];
	size_t pos = 0;

	if (addr && dbus_addr_next_path(addr, &pos, path, sizeof(path)) == 1)
		return access(path, F_OK) == 0;
	return access("/run/dbus/system_bus_socket", F_OK) == 0 ||
	       access("/var/run/dbus/system_bus_socket", F_OK) == 0;
}

static int hide_services(struct view *v, const struct nsview_cfg *c)
{
	size_t i;
	int ret;

	for (i = 0; i < sizeof(resolver_dirs) / sizeof(resolver_dirs[0]); i++) {
		ret = hide(v, resolver_dirs[i], "0755", false);
		if (ret < 0)
			return ret;
	}
	if (c->allow_system_bus)
		return 0;
	if (have_system_bus())
		log_info("exec: the command gets no system D-Bus (--allow-system-bus gives it "
			 "back)");
	for (i = 0; i < sizeof(system_bus_dirs) / sizeof(system_bus_dirs[0]); i++) {
		ret = hide(v, system_bus_dirs[i], "0755", false);
		if (ret < 0)
			return ret;
	}
	return hide_bus_env(v, "DBUS_SYSTEM_BUS_ADDRESS");
}

int nsview_setup(const struct nsview_cfg *c)
{
	struct view v = { .files = -1 };
	char *host = NULL, *nss = NULL, resolv[RESOLV_OUT_MAX], dropped[128];
	size_t hlen = 0, rlen = 0, nsslen = 0;
	bool resolv_link, have_resolv;
	struct stat st;
	ssize_t n;
	int ret = -ENOMEM;

	host = malloc(HOSTCONF_FILE_MAX);
	nss = malloc(2 * HOSTCONF_FILE_MAX);
	if (!host || !nss) {
		log_error("exec: out of memory while building the command's view");
		goto out;
	}

	/* What the host's files say, read before anything is covered. */
	resolv_link = lstat(RESOLV_CONF, &st) == 0 && S_ISLNK(st.st_mode);
	have_resolv = read_host_file(RESOLV_CONF, host, HOSTCONF_FILE_MAX, &hlen) == 0;
	if (c->nameserver) {
		n = resolv_rewrite(have_resolv ? host : "", hlen, c->nameserver, resolv,
				   sizeof(resolv));
		if (n < 0) {
			ret = (int)n;
			log_error("exec: cannot write the command's resolv.conf: %s",
				  strerror(-ret));
			goto out;
		}
		rlen = (size_t)n;
	} else if (resolv_link && have_resolv) {
		/* bypass: the host's resolv.conf as it is, even if its target gets hidden */
		rlen = hlen < sizeof(resolv) ? hlen : sizeof(resolv);
		memcpy(resolv, host, rlen);
	}
	if (read_host_file(NSSWITCH_CONF, host, HOSTCONF_FILE_MAX, &hlen) == 0) {
		ret = nsswitch_rewrite(host, hlen, nss, 2 * HOSTCONF_FILE_MAX, dropped,
				       sizeof(dropped));
		if (ret == 1) {
			nsslen = strlen(nss);
			log_info(
				"exec: nsswitch.conf's hosts: line names %s, which ask%s a service "
				"of the host: the command's keeps only files, dns and myhostname",
				dropped, strchr(dropped, ' ') ? "" : "s");
		} else if (ret < 0) {
			log_warnx(
				"exec: cannot parse nsswitch.conf (%s): left as it is; the services it "
				"names are hidden",
				strerror(-ret));
		}
	}

	ret = make_files(&v, rlen || c->nameserver ? resolv : NULL, rlen, nsslen ? nss : NULL,
			 nsslen);
	if (ret < 0) {
		log_error("exec: cannot make the command's files: %s", strerror(-ret));
		goto out;
	}
	if (c->isolate) {
		ret = isolate(&v, c);
		if (ret < 0)
			goto out;
	}
	ret = hide_services(&v, c);
	if (ret < 0)
		goto out;
	if (c->nameserver || (resolv_link && rlen)) {
		ret = place(&v, "resolv.conf", RESOLV_CONF);
		if (ret < 0)
			goto out;
	}
	if (nsslen)
		ret = place(&v, "nsswitch.conf", NSSWITCH_CONF);
out:
	if (v.files >= 0)
		close(v.files);
	free(host);
	free(nss);
	return ret < 0 ? ret : 0;
}
