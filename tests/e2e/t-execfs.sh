#!/bin/bash
# exec writes nothing to the host's files, whatever /etc/resolv.conf is
# (issue 13 item 9), and builds its view where the host makes it hard
# (issue 15): in a stand-in host (view.sh: a copy of /etc, an empty /run)
# with /etc and /run read-only and host services at /run/nscd, /run/dbus and
# /run/systemd/resolve, each resolv.conf shape in turn:
#   file, link into /run, dangling link into a directory of /run that exists
#   (the old code created the file there as root), dangling link into a
#   directory that does not, dangling relative link in /etc, absent
# As root, for every shape: a listing of /etc and /run (with sizes and
# modification times) is the same before and after; the command reads our resolv.conf (the host's
# search line kept), resolves a name through proxyvpn (fake address) and
# reaches none of the services. As uid 65534 (no privilege at all) the
# dangling and absent shapes, the dangling target's directory owned by
# 65534. --dns bypass --isolate with a link into /run: the command reads the
# host's resolv.conf, although --isolate hides its target.
. "$(dirname "$0")/lib.sh"

NAME=x.pvtest.example
SOCKS=(/run/nscd/socket /run/dbus/system_bus_socket /run/systemd/resolve/io.systemd.Resolve)

# shape NAME: /etc/resolv.conf (and what it points to) as NAME has it.
shape() {
	mount -o remount,rw /run
	mount -o remount,rw,bind /etc
	rm -rf /etc/resolv.conf /etc/resolv.conf.real /run/resolvconf /run/x
	mkdir -p /run/resolvconf /run/x
	chown 65534 /run/x
	printf 'nameserver 10.9.9.9\nsearch link.example\n' >/run/resolvconf/resolv.conf
	case $1 in
	file) printf 'nameserver 10.9.9.8\nsearch file.example\noptions ndots:2\n' >/etc/resolv.conf ;;
	link) ln -s ../run/resolvconf/resolv.conf /etc/resolv.conf ;;
	dangling) ln -s /run/x/resolv.conf /etc/resolv.conf ;;
	dangling-dir) ln -s /run/nope/resolv.conf /etc/resolv.conf ;;
	dangling-etc) ln -s resolv.conf.real /etc/resolv.conf ;;
	absent) ;;
	esac
	# Read-only, except where the old code wrote: there a write would show.
	case $1 in
	dangling | dangling-etc) ;;
	*)
		mount -o remount,ro /run
		mount -o remount,ro,bind /etc
		;;
	esac
}

# run_case SHAPE WHO [OPTIONS...]: one exec in the current shape, checked.
run_case() {
	local sh=$1 who=$2 before after out
	shift 2
	shape "$sh"
	T0=$(now_ms)
	before=$(view_snapshot)
	if [ "$who" = root ]; then
		out=$("$E2E_PROXYVPN" exec --proxy "$URL" "$@" -- sh -c \
			"cat /etc/resolv.conf; getent hosts $NAME; $PY $HOSTSVC probe ${SOCKS[*]}" \
			2>&1) || fail "$sh as $who: exec exited $?: $out"
	else
		out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/ "$BIN" exec \
			--proxy "$URL" "$@" -- sh -c \
			"cat /etc/resolv.conf; getent hosts $NAME; $PY $HOSTSVC probe ${SOCKS[*]}" \
			2>&1) || fail "$sh as $who: exec exited $?: $out"
	fi
	after=$(view_snapshot)
	echo "--- $sh as $who $* ($(($(now_ms) - T0)) ms)"
	echo "$out"
	if [ "$before" != "$after" ]; then
		diff <(echo "$before") <(echo "$after") | head -n 20
		fail "$sh as $who: the host's /etc or /run changed"
	fi
	echo "$out" | grep -q ' reachable$' && fail "$sh as $who: a host service is reachable"
	[ "$(echo "$out" | grep -c ' unreachable ENOENT$')" = "${#SOCKS[@]}" ] ||
		fail "$sh as $who: the services are not all hidden"
	case " $* " in
	*" bypass "*) return 0 ;;
	esac
	echo "$out" | grep -qx "nameserver 198.18.0.2" || fail "$sh as $who: not our resolv.conf"
	[ "$(echo "$out" | grep -c '^nameserver')" = 1 ] || fail "$sh as $who: other nameservers"
	echo "$out" | grep -Eq "^(198\.1[89]\.[0-9.]+|fd70:7678::[0-9a-f:]+) +$NAME\$" ||
		fail "$sh as $who: $NAME not resolved by proxyvpn"
	case $sh in
	file) echo "$out" | grep -qx "search file.example" || fail "file: search line lost" ;;
	link) echo "$out" | grep -qx "search link.example" || fail "link: search line lost" ;;
	esac
}

in_view() {
	local s
	# Host services, their sockets bound before /run goes read-only.
	"$PY" "$HOSTSVC" listen /run/listening "${SOCKS[@]}" &
	LISTENER=$!
	trap 'kill $LISTENER 2>/dev/null || true; wait' EXIT
	wait_exists /run/listening || fail "the stand-in services did not start"
	[ "$("$PY" "$HOSTSVC" probe "${SOCKS[@]}" | grep -c ' reachable$')" = 3 ] ||
		fail "positive control: the stand-in services do not answer"
	for s in file link dangling dangling-dir dangling-etc absent; do
		run_case "$s" root
	done
	# A TUN node 65534 may open, in this view only: the host's keeps its mode.
	mount -t tmpfs -o mode=0755 pvdevnet /dev/net
	mknod -m 0666 /dev/net/tun c 10 200
	run_case dangling 65534
	run_case absent 65534
	# bypass: the host's file as it is, though its target's directory is hidden.
	shape link
	out=$("$E2E_PROXYVPN" exec --proxy "$URL" --dns bypass --isolate -- cat /etc/resolv.conf) ||
		fail "bypass --isolate: exec exited $?"
	assert_eq "$out" "$(printf 'nameserver 10.9.9.9\nsearch link.example')" \
		"resolv.conf with --dns bypass --isolate"
	run_case link root --dns bypass --isolate
	echo "execfs: no shape changed the host's /etc or /run; services hidden as root and as 65534"
}

if [ "${1:-}" = --view ]; then
	set -euo pipefail
	URL=$2 BIN=$3 HOSTSVC=$4
	in_view
	exit 0
fi

test_init
skip_in_selftest
chmod 0711 "$E2E_TMP/app" "$T_OUT"
install -m 0755 "$E2E_PROXYVPN" "$T_OUT/proxyvpn"
install -m 0644 "$E2E_DIR/hostsvc.py" "$T_OUT/hostsvc.py"
view_run bash "$0" --view "$(proxy_url socks5)" "$T_OUT/proxyvpn" "$T_OUT/hostsvc.py"
