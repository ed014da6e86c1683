#!/bin/bash
# No name and no connection escapes through a host service (issue 15). In a
# stand-in host (view.sh: the services' sockets sit where a real host has
# them, in a private /run and /tmp, so the host's own paths are never
# touched, whatever it runs):
# - nscd (Debian's) caching for a resolver that logs queries (dnsmasq on
#   192.0.2.53 in PRX, answering 203.0.113.7). Positive control: from a
#   network namespace with no network at all, getent gets that answer, so
#   only nscd can have carried it, and the resolver logged CLI's query. Then
#   exec -- getent with each --dns mode: the resolver logs nothing from CLI,
#   the name resolves through proxyvpn (virtual: a fake address; tcp: the
#   proxy side's resolver; bypass --udp proxy: the same resolver, reached
#   through the SOCKS5 relay); -v says nsswitch.conf's mdns4_minimal went.
# - listeners at avahi's and systemd-resolved's socket paths: reachable from
#   the view, not from exec.
# - a dbus-daemon as the system bus with a service owning resolve1 and
#   NetworkManager: the control's ResolveHostname call reaches it; from exec
#   both calls fail and the service logs nothing; with --allow-system-bus
#   the call reaches it.
# - a session bus, an X11 socket and docker.sock: reachable from exec (GUI
#   programs keep working), none of them with --isolate, which gives an
#   empty, writable /run/user/UID.
# - exec --check-leaks reports the same, and exits 1 while something is.
. "$(dirname "$0")/lib.sh"

HOSTDNS=192.0.2.53
DOM=pvtest.example
SYSBUS=/run/dbus/system_bus_socket
SESBUS=/run/user/0/bus
X11=/tmp/.X11-unix/X99
DOCKER=/run/docker.sock

# queried NAME: did the host's resolver see NAME from CLI itself?
queried() { grep -q "query\[[A-Z]*\] $1 from $CLI4\$" "$HOSTLOG"; }

# logged PATTERN: bounded wait (3 s) for dnsmasq to log a line matching it.
logged() {
	local deadline=$(($(now_ms) + 3000))
	until grep -q "$1" "$HOSTLOG"; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

bus_conf() { # TYPE ADDRESS
	cat <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>$1</type>
  <listen>$2</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
}

# start_bus TYPE SOCKET: a dbus-daemon listening at SOCKET; pid appended to PIDS.
start_bus() {
	local out=$T_OUT/$1.addr
	mkdir -p "$(dirname "$2")"
	bus_conf "$1" "unix:path=$2" >"$T_OUT/$1.conf"
	dbus-daemon --config-file="$T_OUT/$1.conf" --nofork --nopidfile --print-address=1 \
		>"$out" 2>"$T_OUT/$1.log" &
	PIDS+=($!)
	wait_file "$out" || fail "dbus-daemon ($1) did not start: $(cat "$T_OUT/$1.log")"
}

resolve_call() { # NAME [dbus-send options]: ResolveHostname on the system bus
	local name=$1
	shift
	dbus-send --system --print-reply --reply-timeout=5000 --dest=org.freedesktop.resolve1 \
		/org/freedesktop/resolve1 org.freedesktop.resolve1.Manager.ResolveHostname \
		int32:0 "string:$name" int32:0 uint64:0
}

pve() { "$E2E_PROXYVPN" exec --proxy "$URL" "$@"; }

in_view() {
	local out
	PIDS=()
	# || true: under set -e a kill of one already gone (the fake service leaves
	# with its bus) would turn the exit status into 1.
	trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait' EXIT
	printf 'nameserver %s\n' "$HOSTDNS" >/etc/resolv.conf
	printf 'passwd: files\ngroup: files\nhosts: files mdns4_minimal [NOTFOUND=return] dns\n' \
		>/etc/nsswitch.conf
	# nscd: hosts only, nothing persistent (its files would be the host's).
	if [ -d /var/cache/nscd ]; then mount -t tmpfs pvnscd /var/cache/nscd; fi
	mkdir -p /run/nscd
	printf '%s\n' "paranoia no" "enable-cache passwd no" "enable-cache group no" \
		"enable-cache services no" "enable-cache netgroup no" "enable-cache hosts yes" \
		"persistent hosts no" "shared hosts no" "positive-time-to-live hosts 600" \
		"negative-time-to-live hosts 5" >"$T_OUT/nscd.conf"
	nscd -F -f "$T_OUT/nscd.conf" >"$T_OUT/nscd.log" 2>&1 &
	PIDS+=($!)
	local deadline=$(($(now_ms) + 10000))
	until [ -S /run/nscd/socket ]; do
		[ "$(now_ms)" -lt "$deadline" ] || fail "nscd did not start: $(cat "$T_OUT/nscd.log")"
		sleep 0.05
	done

	# Positive control: with no network at all, only nscd can answer.
	out=$(unshare -n getent hosts "c.$DOM") || fail "control: getent through nscd failed"
	assert_eq "$out" "203.0.113.7     c.$DOM" "control: the host's answer through nscd"
	logged "query\[[A-Z]*\] c.$DOM from $CLI4\$" ||
		fail "control: the host's resolver did not log CLI's query"

	# Each --dns mode: the host's resolver never hears from CLI.
	out=$(pve -v -- getent hosts "v.$DOM" 2>"$T_OUT/v.err") || fail "virtual: getent failed"
	echo "virtual: $out"
	echo "$out" | grep -Eq "^(198\.1[89]\.|fd70:7678::)" || fail "virtual: not a fake address"
	grep -q "hosts: line names mdns4_minimal" "$T_OUT/v.err" ||
		fail "-v does not say that mdns4_minimal went: $(cat "$T_OUT/v.err")"
	out=$(pve --dns tcp --dns-server "$PRX4" -- getent ahostsv4 "t.$DOM") ||
		fail "tcp: getent failed"
	echo "tcp: $out"
	echo "$out" | grep -q "^$DST4 " || fail "tcp: not the proxy side's answer"
	out=$("$E2E_PROXYVPN" exec --proxy "$(proxy_url socks5-dante)" --dns bypass --udp proxy \
		-- getent ahostsv4 "b.$DOM") || fail "bypass: getent failed"
	echo "bypass: $out"
	echo "$out" | grep -q "^203\.0\.113\.7 " || fail "bypass: not the resolver's answer"
	logged "query\[A\] b.$DOM from " || fail "bypass: the query did not reach the resolver"
	for n in v t b; do
		queried "$n.$DOM" && fail "--dns mode $n: the host's resolver got CLI's query"
	done

	# avahi's and resolved's sockets, docker's, an X11 display.
	"$PY" "$E2E_DIR/hostsvc.py" listen "$T_OUT/listening" /run/avahi-daemon/socket \
		/run/systemd/resolve/io.systemd.Resolve "$DOCKER" "$X11" &
	PIDS+=($!)
	wait_exists "$T_OUT/listening" || fail "listeners did not start"
	local socks=(/run/avahi-daemon/socket /run/systemd/resolve/io.systemd.Resolve "$DOCKER" "$X11")
	out=$("$PY" "$E2E_DIR/hostsvc.py" probe "${socks[@]}")
	[ "$(echo "$out" | grep -c ' reachable$')" = 4 ] || fail "control: listeners: $out"
	out=$(pve -- "$PY" "$E2E_DIR/hostsvc.py" probe "${socks[@]}") || fail "probe in exec"
	echo "$out"
	echo "$out" | grep -q "^/run/avahi-daemon/socket unreachable" &&
		echo "$out" | grep -q "^/run/systemd/resolve/io.systemd.Resolve unreachable" ||
		fail "a resolver socket is reachable from exec"
	echo "$out" | grep -q "^$DOCKER reachable" && echo "$out" | grep -q "^$X11 reachable" ||
		fail "without --isolate docker.sock and X11 stay reachable"

	# The system bus.
	start_bus system "$SYSBUS"
	export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$SYSBUS
	"$PY" "$E2E_DIR/hostsvc.py" bus "$T_OUT/bus.ready" "$T_OUT/bus.log" org.freedesktop.resolve1 \
		org.freedesktop.NetworkManager >"$T_OUT/fakebus.log" 2>&1 &
	PIDS+=($!)
	wait_exists "$T_OUT/bus.ready" || fail "the fake resolve1 did not start: $(cat "$T_OUT/fakebus.log")"
	resolve_call "p.$DOM" >/dev/null || fail "control: resolve1 call failed"
	grep -qx "p.$DOM" "$T_OUT/bus.log" || fail "control: resolve1 did not see the call"
	pve -- dbus-send --system --print-reply --reply-timeout=5000 --dest=org.freedesktop.resolve1 \
		/org/freedesktop/resolve1 org.freedesktop.resolve1.Manager.ResolveHostname \
		int32:0 "string:d.$DOM" int32:0 uint64:0 >"$T_OUT/d.out" 2>&1 &&
		fail "resolve1 answered a call from exec: $(cat "$T_OUT/d.out")"
	pve -- dbus-send --system --print-reply --reply-timeout=5000 \
		--dest=org.freedesktop.NetworkManager /org/freedesktop/NetworkManager \
		org.freedesktop.DBus.Peer.Ping >"$T_OUT/nm.out" 2>&1 &&
		fail "NetworkManager answered a call from exec"
	grep -q "d.$DOM" "$T_OUT/bus.log" && fail "resolve1 saw a call from exec"
	pve --allow-system-bus -- dbus-send --system --print-reply --reply-timeout=5000 \
		--dest=org.freedesktop.resolve1 /org/freedesktop/resolve1 \
		org.freedesktop.resolve1.Manager.ResolveHostname int32:0 "string:a.$DOM" int32:0 \
		uint64:0 >/dev/null || fail "--allow-system-bus: resolve1 call failed"
	grep -qx "a.$DOM" "$T_OUT/bus.log" || fail "--allow-system-bus: resolve1 did not see the call"

	# The session bus and X11: reachable, except with --isolate.
	start_bus session "$SESBUS"
	export XDG_RUNTIME_DIR=/run/user/0 DBUS_SESSION_BUS_ADDRESS=unix:path=$SESBUS DISPLAY=:99
	local getid=(dbus-send --session --print-reply --reply-timeout=5000 --dest=org.freedesktop.DBus
		/org/freedesktop/DBus org.freedesktop.DBus.GetId)
	"${getid[@]}" >/dev/null || fail "control: session bus"
	pve -- "${getid[@]}" >/dev/null || fail "without --isolate the session bus stays reachable"
	pve --isolate -- "${getid[@]}" >"$T_OUT/ses.out" 2>&1 &&
		fail "--isolate: the session bus answered"
	out=$(pve --isolate -- sh -c "$PY $E2E_DIR/hostsvc.py probe $X11 @$X11 $DOCKER $SESBUS; ls -A /run/user/0; touch /run/user/0/mine && echo writable") ||
		fail "--isolate: probe failed"
	echo "$out"
	[ "$(echo "$out" | grep -c ' unreachable')" = 4 ] || fail "--isolate: something is reachable"
	assert_eq "$(echo "$out" | tail -n 1)" writable "--isolate: /run/user/0 (empty, writable)"

	# --check-leaks says the same.
	out=$(pve -v --check-leaks 2>/dev/null) && fail "--check-leaks exited 0 with docker.sock reachable"
	echo "$out"
	for s in "session D-Bus.*$SESBUS" "X11.*$X11" "Docker.*$DOCKER"; do
		echo "$out" | grep -q "^  REACHABLE .*$s" || fail "--check-leaks misses $s"
	done
	for s in /run/nscd/socket "$SYSBUS" /run/avahi-daemon/socket \
		/run/systemd/resolve/io.systemd.Resolve; do
		echo "$out" | grep -q "^  absent .* $s\$" || fail "--check-leaks: $s not absent"
	done
	echo "$out" | grep -q "^  /etc/nsswitch.conf: hosts: files dns$" ||
		fail "--check-leaks: the namespace's hosts: line"
	out=$(pve --isolate --allow-system-bus --check-leaks 2>/dev/null) || true
	echo "$out"
	echo "$out" | grep -q "^  REACHABLE .* $SYSBUS\$" || fail "--allow-system-bus: bus not reported"
	for s in "$SESBUS" "$X11" "$DOCKER"; do
		echo "$out" | grep "^  REACHABLE" | grep -q " $s\$" && fail "--isolate: $s reported reachable"
	done
	echo "hostsvc: nscd, avahi, resolved and the system bus hidden; the desktop with --isolate"
}

if [ "${1:-}" = --view ]; then
	set -euo pipefail
	URL=$2 HOSTLOG=$3 T_OUT=$4
	in_view
	exit 0
fi

test_init
skip_in_selftest
for tool in nscd dbus-daemon dbus-send; do
	command -v "$tool" >/dev/null || { echo "SKIPPED: no $tool (scripts/deps.sh --test)"; exit 77; }
done
"$PY" -c 'import dbus, gi' 2>/dev/null || { echo "SKIPPED: no python3-dbus/python3-gi"; exit 77; }
dns_proxy_setup
# The host's resolver, on an address of PRX's of its own.
ip -n "$E2E_NS_PRX" addr add "$HOSTDNS/24" dev r0
on_exit "ip -n $E2E_NS_PRX addr del $HOSTDNS/24 dev r0"
ip netns exec "$E2E_NS_PRX" dnsmasq -k --no-resolv --no-hosts --bind-interfaces \
	--listen-address="$HOSTDNS" --port=53 --user=root --pid-file= \
	--address="/$DOM/203.0.113.7" --log-facility=- --log-queries >"$T_OUT/hostdns.log" 2>&1 &
track_pid $!
deadline=$(($(now_ms) + 10000))
until [ -n "$(n_prx ss -Hlun "src $HOSTDNS:53")" ]; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "the host's resolver did not listen"
	sleep 0.05
done
view_run bash "$0" --view "socks5://$PRX4:$DNS_SOCKS_PORT" "$T_OUT/hostdns.log" "$T_OUT"
