#!/bin/bash
# A stand-in host file system for the tests of exec's view (t-hostsvc,
# t-execfs), run by lib.sh's view_run in CLI through `unshare -m` (a private
# mount namespace), then execs "$@":
#   /etc  a tmpfs copy of the host's, which the test may change at will
#   /run  an empty tmpfs: services the test starts put their sockets where a
#         real host has them (/run/nscd, /run/dbus, ...); the host's /run is
#         never touched, whatever services it runs
#   /tmp  a tmpfs holding a bind mount of each entry of the host's /tmp (the
#         test's files and sanitizer logs land in the real ones), but no
#         .X11-unix or .ICE-unix of the host: the test makes its own
# SCRATCH is a directory of the test's for the /etc copy's mount point.
#   view.sh SCRATCH CMD [ARG...]
set -euo pipefail
scratch=$1
shift
mkdir -p "$scratch/etc"
mount -t tmpfs pvetc "$scratch/etc"
cp -a /etc/. "$scratch/etc/"
mount --bind "$scratch/etc" /etc
mount -t tmpfs -o mode=0755 pvrun /run
# The host's /tmp stays reachable through fd 8 once the tmpfs covers it;
# --no-canonicalize: mount(8) would otherwise resolve the /proc path to
# /tmp/NAME, which is then the new, empty one.
exec 8</tmp
mount -t tmpfs -o mode=1777 pvtmp /tmp
shopt -s dotglob nullglob
for e in /proc/self/fd/8/*; do
	name=${e##*/}
	case $name in .X11-unix | .ICE-unix) continue ;; esac
	# Entries of other users of /tmp may vanish meanwhile: skipped.
	if [ -L "$e" ]; then
		ln -s "$(readlink "$e")" "/tmp/$name" || true
	elif [ -d "$e" ]; then
		mkdir "/tmp/$name"
		mount --no-canonicalize --rbind "$e" "/tmp/$name" 2>/dev/null || rmdir "/tmp/$name"
	elif [ -e "$e" ]; then
		: >"/tmp/$name"
		mount --no-canonicalize --bind "$e" "/tmp/$name" 2>/dev/null || rm -f "/tmp/$name"
	fi
done
exec 8<&-
exec "$@"
