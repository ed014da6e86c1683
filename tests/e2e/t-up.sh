#!/bin/bash
# up: host mode in CLI (`proxyvpn up`, SOCKS5 proxy ARG kind). The host's
# TCP goes through the proxy with no proxy settings; UDP is blocked by the
# killswitch (counted at PRX: zero leaked, with a positive control before
# up); a second up is refused naming the pid; after SIGKILL the killswitch
# holds, and `down` restores CLI's rules, routes (all tables), links and
# ruleset exactly; a second down changes nothing; up + SIGTERM tears down
# cleanly. While up runs, more leak probes: TCP from a socket bound to the
# uplink device or to its address, TCP and UDP from an unprivileged uid, and
# ICMP echo: none may reach PRX except through the proxy (counted there;
# PRX sees DST's HTTP port only if something bypassed the proxy). Then:
# look-alike rules, routes and nft tables survive up + SIGKILL + down by tags
# (state file corrupt, then deleted); --no-killswitch lets UDP out directly and still
# proxies TCP; with the proxy down TCP fails within 3 s and nothing leaks;
# DNS passes only to the --allow-dns resolver, IPv6 UDP is refused; strict
# rp_filter makes up refuse; a user of group proxyvpn runs it with only
# cap_net_admin (and its status --json gets the live counters from the
# control socket).
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

KIND=${1:-socks5}
UDP_PORT=9999
SD=$T_OUT/state
URL=$(proxy_url "$KIND")
UP_PID=""
UP_ARGS=()

# Count UDP from CLI to DST's probe port as it reaches PRX (before PRX's
# routing, which would drop it: PRX does not forward).
n_prx nft -f - <<EOF || fail "cannot add the counter table in PRX"
table inet pve2eup {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "r0" udp dport $UDP_PORT counter
		iifname "r0" udp dport 53 counter
		iifname "r0" tcp dport $HTTP_PORT counter
		iifname "r0" icmp type echo-request counter
		iifname "r0" icmpv6 type echo-request counter
	}
}
EOF
on_exit "n_prx nft delete table inet pve2eup"
udp_count() { n_prx nft list chain inet pve2eup pre | grep "udp dport $UDP_PORT " | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
# every packet counted at PRX that only a leak can explain (UDP probe, DST's
# HTTP port, ICMP echo), summed
leak_count() {
	n_prx nft list chain inet pve2eup pre | grep -v "dport 53 " |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{ n += $1 } END { print n + 0 }'
}
dns_count() { n_prx nft list chain inet pve2eup pre | grep "dport 53 " | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }

# udp_to HOST PORT: one datagram on a connected socket; "sent" or "error:..."
udp_to() {
	n_cli timeout 10 "$PY" -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.send(b"q?")
    print("sent")
except OSError as e:
    print("error:" + (e.strerror or str(e)))
' "$1" "$2"
}

# udp_probe: 3 datagrams on a connected UDP socket to DST; prints "sent" if
# every send succeeded, else the first error (the killswitch: EPERM at once).
udp_probe() { # [setpriv args...]
	n_cli timeout 10 "$@" "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], int(sys.argv[2])))
try:
    for i in range(3):
        s.send(b"leak?")
        time.sleep(0.05)
    print("sent")
except OSError as e:
    print("error:" + (e.strerror or str(e)))
' "$DST4" "$UDP_PORT"
}

snapshot() { # FILE
	{
		echo "# ip rule"; n_cli ip rule
		echo "# ip -6 rule"; n_cli ip -6 rule
		echo "# ip route"; n_cli ip route show table all
		echo "# ip -6 route"; n_cli ip -6 route show table all
		echo "# ip link"; n_cli ip link
		echo "# nft"; n_cli nft list ruleset
	} >"$1" 2>&1
}

same_as_before() { # WHAT
	snapshot "$T_OUT/after"
	diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "$1: CLI's namespace differs from before up (diff above)"
}

start_up() { up_start "$1" "${UP_ARGS[@]}"; } # LOGFILE

fetch() { # WHAT URL
	rm -f "$T_OUT/small"
	n_cli timeout 30 curl -sS -g --noproxy '*' --max-time 20 -o "$T_OUT/small" "$2" ||
		fail "$1: curl $2 failed"
	assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "$1"
}

no_leak() { # WHAT
	local c0 c1 r
	c0=$(udp_count)
	r=$(udp_probe)
	case $r in error:*) ;; *) fail "$1: the UDP probe was not refused ($r)" ;; esac
	sleep 0.2
	c1=$(udp_count)
	assert_eq "$((c1 - c0))" 0 "$1: UDP packets from CLI counted at PRX"
	log "$1: UDP probe refused ($r), 0 leaked"
}

snapshot "$T_OUT/before"
n_cli "$E2E_PROXYVPN" status --state-dir "$SD" >/dev/null && fail "status exits 0 with nothing up"

# positive control: without proxyvpn the probe leaves CLI and is counted
c0=$(udp_count)
assert_eq "$(udp_probe)" sent "control: UDP probe before up"
sleep 0.2
c1=$(udp_count)
assert_eq "$((c1 - c0))" 3 "control: UDP probe packets counted at PRX before up"
# and a TCP SYN from a socket bound to the uplink is counted too (PRX does
# not forward it, so curl fails, but the counter sees it)
l0=$(leak_count)
n_cli timeout 10 curl -sS --noproxy '*' --max-time 1 --interface c0 -o /dev/null \
	"http://$DST4:$HTTP_PORT/small" 2>/dev/null || true
l1=$(leak_count)
[ "$((l1 - l0))" -gt 0 ] || fail "control: a bound TCP probe before up is not counted at PRX"

# (1) the host's TCP, no proxy options, goes through the proxy
start_up "$T_OUT/up1.log"
fetch "TCP through up (IPv4)" "http://$DST4:$HTTP_PORT/small"
fetch "TCP through up (IPv6)" "http://[$DST6]:$HTTP_PORT/small"
# (2) UDP fails fast, nothing leaks
no_leak "killswitch"

# (2b) more ways out that must not leak: sockets bound to the uplink device
# or its address, an unprivileged uid, ICMP echo (raw socket, as root)
l0=$(leak_count)
rc=0
n_cli timeout 20 curl -sS --noproxy '*' --max-time 5 --interface c0 -o /dev/null \
	"http://$DST4:$HTTP_PORT/small" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "TCP bound to the uplink device reached DST directly"
n_cli timeout 20 curl -sS --noproxy '*' --max-time 10 --interface "$CLI4" -o /dev/null \
	"http://$DST4:$HTTP_PORT/small" 2>/dev/null || true
NOBODY=(setpriv --reuid 65534 --regid 65534 --clear-groups)
n_cli timeout 30 "${NOBODY[@]}" curl -sS --noproxy '*' --max-time 20 -o /dev/null \
	"http://$DST4:$HTTP_PORT/small" || fail "TCP from uid 65534 did not go through the proxy"
r=$(udp_probe "${NOBODY[@]}")
case $r in error:*) ;; *) fail "UDP probe from uid 65534 was not refused ($r)" ;; esac
for fam in 4 6; do
	dst=$DST4
	[ "$fam" = 6 ] && dst=$DST6
	r=$(n_cli timeout 10 "$PY" -c '
import socket, sys
fam = socket.AF_INET if sys.argv[1] == "4" else socket.AF_INET6
proto = socket.IPPROTO_ICMP if fam == socket.AF_INET else socket.IPPROTO_ICMPV6
s = socket.socket(fam, socket.SOCK_RAW, proto)
pkt = bytes([8 if fam == socket.AF_INET else 128, 0, 0, 0, 0, 1, 0, 1]) + b"leak?"
if fam == socket.AF_INET:
    c = sum((pkt[i] << 8) + pkt[i + 1] for i in range(0, len(pkt) - 1, 2)) + (pkt[-1] << 8 if len(pkt) % 2 else 0)
    c = (c >> 16) + (c & 0xffff); c += c >> 16
    pkt = pkt[:2] + (~c & 0xffff).to_bytes(2, "big") + pkt[4:]
try:
    s.sendto(pkt, (sys.argv[2], 0))
    print("sent")
except OSError as e:
    print("error:" + (e.strerror or str(e)))
' "$fam" "$dst")
	case $r in error:*) ;; *) fail "ICMPv$fam echo was not refused ($r)" ;; esac
done
sleep 0.2
l1=$(leak_count)
assert_eq "$((l1 - l0))" 0 "packets counted at PRX from the bound, unprivileged and ICMP probes"
log "bound sockets, uid 65534 and ICMP echo: 0 leaked"

# (3) a second up is refused, naming the pid; nothing changes
rc=0
n_cli "$E2E_PROXYVPN" up --proxy "$URL" --tun pvpn1 --state-dir "$SD" >"$T_OUT/up2.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "second up exit status"
grep -q "pid $UP_PID" "$T_OUT/up2.log" || fail "second up does not name pid $UP_PID: $(cat "$T_OUT/up2.log")"
fetch "TCP after a refused second up" "http://$DST4:$HTTP_PORT/small"

# (4) SIGKILL: the killswitch holds, then down restores everything
kill -KILL "$UP_PID"
wait_pid_exit "$UP_PID" 5 || fail "up did not die on SIGKILL"
n_cli nft list table inet proxyvpn >/dev/null 2>&1 || fail "the nft table went away with SIGKILL"
no_leak "after SIGKILL"
rc=0
n_cli "$E2E_PROXYVPN" status --state-dir "$SD" >"$T_OUT/status" || rc=$?
assert_eq "$rc" 3 "status exit after SIGKILL"
grep -q "leftovers of dead pid $UP_PID" "$T_OUT/status" || fail "status: $(cat "$T_OUT/status")"
rc=0
n_cli "$E2E_PROXYVPN" down --state-dir "$SD" -v >"$T_OUT/down1.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "down after SIGKILL: $(cat "$T_OUT/down1.log")"
same_as_before "down after SIGKILL"
assert_eq "$(udp_probe)" sent "UDP probe after down"

# (5) down again: exit 0, says nothing is up, changes nothing
rc=0
n_cli "$E2E_PROXYVPN" down --state-dir "$SD" -v >"$T_OUT/down2.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "second down"
grep -q "nothing is up" "$T_OUT/down2.log" || fail "second down: $(cat "$T_OUT/down2.log")"
same_as_before "second down"

# (6) up, then SIGTERM: a clean teardown by up itself
start_up "$T_OUT/up3.log"
fetch "TCP through the second up" "http://$DST4:$HTTP_PORT/small"
no_leak "second up"
kill -TERM "$UP_PID"
wait_pid_exit "$UP_PID" 10 || fail "up did not exit within 10 s of SIGTERM"
assert_eq "$WAIT_RC" 0 "up exit status after SIGTERM: $(tail -n 5 "$T_OUT/up3.log")"
same_as_before "up + SIGTERM"
[ ! -e "$SD/state" ] || fail "the state file is left after a clean teardown"

# (7) look-alikes survive: a rule with our mark but without our tag, a route
# in a table of its own, a table "ip proxyvpn" of another family
n_cli ip rule add fwmark 0x7076 lookup 200 pref 5300 || fail "decoy rule"
n_cli ip route add unreachable 203.0.113.0/24 table 200 || fail "decoy route"
n_cli nft add table ip proxyvpn || fail "decoy nft table"
on_exit "n_cli ip rule del pref 5300 2>/dev/null; n_cli ip route del unreachable 203.0.113.0/24 table 200 2>/dev/null; n_cli nft delete table ip proxyvpn 2>/dev/null"
snapshot "$T_OUT/before"
start_up "$T_OUT/up4.log"
fetch "TCP with decoys around" "http://$DST4:$HTTP_PORT/small"
kill -KILL "$UP_PID"
wait_pid_exit "$UP_PID" 5 || fail "up did not die on SIGKILL"
printf 'proxyvpn-state 1\npid 1\ngarbage\n' >"$SD/state"	# corrupt: down goes by our tags
rc=0
n_cli "$E2E_PROXYVPN" down --state-dir "$SD" -v >"$T_OUT/down3.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "down by tags (corrupt record): $(cat "$T_OUT/down3.log")"
same_as_before "down by tags with decoys, corrupt record"
start_up "$T_OUT/up4b.log"
kill -KILL "$UP_PID"
wait_pid_exit "$UP_PID" 5 || fail "up did not die on SIGKILL"
rm -f "$SD/state"	# the record is gone: down goes by our tags
rc=0
n_cli "$E2E_PROXYVPN" down --state-dir "$SD" -v >"$T_OUT/down4.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "down by tags (no record): $(cat "$T_OUT/down4.log")"
same_as_before "down by tags with decoys, no record"

# (8) killswitch off: UDP goes out directly, TCP still through the proxy
UP_ARGS=(--no-killswitch)
start_up "$T_OUT/up5.log"
l0=$(leak_count)
fetch "TCP with the killswitch off" "http://$DST4:$HTTP_PORT/small"
assert_eq "$(udp_probe)" sent "UDP probe with the killswitch off"
sleep 0.2
l1=$(leak_count)
assert_eq "$((l1 - l0))" 3 "packets at PRX with the killswitch off (the 3 UDP datagrams, no TCP)"
kill -TERM "$UP_PID"
wait_pid_exit "$UP_PID" 10 || fail "up (killswitch off) did not exit on SIGTERM"
same_as_before "up --no-killswitch + SIGTERM"

# (8b) DNS: only to the allowed resolver (--allow-dns PRX), UDP and IPv6
# UDP elsewhere refused
UP_ARGS=(--allow-dns "$PRX4")
start_up "$T_OUT/up5b.log"
d0=$(dns_count)
l0=$(leak_count)
assert_eq "$(udp_to "$PRX4" 53)" sent "DNS to the allowed resolver"
case $(udp_to "$DST4" 53) in error:*) ;; *) fail "DNS to a resolver not allowed was not refused" ;; esac
case $(udp_to "$DST6" "$UDP_PORT") in error:*) ;; *) fail "IPv6 UDP was not refused" ;; esac
sleep 0.2
assert_eq "$(($(dns_count) - d0))" 1 "DNS datagrams counted at PRX (the allowed one only)"
assert_eq "$(($(leak_count) - l0))" 0 "other packets counted at PRX during the DNS probes"
kill -TERM "$UP_PID"
wait_pid_exit "$UP_PID" 10 || fail "up (--allow-dns) did not exit on SIGTERM"
same_as_before "up --allow-dns + SIGTERM"
UP_ARGS=()

# (9) the proxy is down: TCP fails fast, nothing leaks
URL=$(proxy_url socks5-dead)
UP_ARGS=()
start_up "$T_OUT/up6.log"
l0=$(leak_count)
t0=$(now_ms)
rc=0
n_cli timeout 20 curl -sS --noproxy '*' --max-time 10 -o /dev/null "http://$DST4:$HTTP_PORT/small" \
	2>/dev/null || rc=$?
dt=$(($(now_ms) - t0))
[ "$rc" != 0 ] || fail "TCP succeeded with the proxy down"
[ "$dt" -lt 3000 ] || fail "TCP took $dt ms to fail with the proxy down"
no_leak "proxy down"
l1=$(leak_count)
assert_eq "$((l1 - l0))" 0 "packets at PRX with the proxy down"
kill -TERM "$UP_PID"
wait_pid_exit "$UP_PID" 10 || fail "up (proxy down) did not exit on SIGTERM"
same_as_before "up with the proxy down + SIGTERM"

# (9b) strict reverse-path filtering would drop the replies from the TUN:
# up refuses at once, naming the sysctl, and changes nothing
rp_all=$(n_cli sysctl -n net.ipv4.conf.all.rp_filter)
on_exit "n_cli sysctl -qw net.ipv4.conf.all.rp_filter=$rp_all"
n_cli sysctl -qw net.ipv4.conf.all.rp_filter=1
rc=0
n_cli "$E2E_PROXYVPN" up --proxy "$URL" --state-dir "$SD" >"$T_OUT/rp.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "up with rp_filter=1: $(cat "$T_OUT/rp.log")"
grep -q "rp_filter=2" "$T_OUT/rp.log" || fail "up with rp_filter=1 does not say what to do: $(cat "$T_OUT/rp.log")"
n_cli sysctl -qw net.ipv4.conf.all.rp_filter="$rp_all"
same_as_before "up refused under strict rp_filter"

# (10) capability only: a user of group proxyvpn made for this run runs a
# copy of the binary made root:proxyvpn 0750 cap_net_admin+ep (what `make
# install` does), with its state in $XDG_RUNTIME_DIR/proxyvpn; a copy
# without the capability says what to do, exit 1. /dev/net/tun is 0666 for
# this, as Debian ships it, and restored after.
orig_tun=$(stat -c %a /dev/net/tun)
on_exit "chmod $orig_tun /dev/net/tun"
chmod 0666 /dev/net/tun
cdir=$T_OUT/cap
CU=pvup$$
test_user "$CU"
cap_copy "$cdir"
chmod 0711 "$T_OUT"
install -m 0755 "$E2E_PROXYVPN" "$cdir/nocap"
xdg=$cdir/xdg
mkdir -m 0700 "$xdg"
chown "$CU" "$xdg"
URL=$(proxy_url "$KIND")
as_user() { ip netns exec "$E2E_NS_CLI" setpriv --reuid "$CU" --regid nogroup --groups "$E2E_GID" \
	env "PVE2E_TAG=$E2E_TAG" "XDG_RUNTIME_DIR=$xdg" "$@"; }
rc=0
as_user "$cdir/nocap" up --proxy "$URL" >"$T_OUT/nocap.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "up without the capability: $(cat "$T_OUT/nocap.log")"
grep -q "setcap cap_net_admin+ep $cdir/nocap" "$T_OUT/nocap.log" ||
	fail "up without the capability does not give the setcap command: $(cat "$T_OUT/nocap.log")"
same_as_before "up refused without the capability"
# a simple command (ip, setpriv and env exec in turn), so $! is proxyvpn itself
ip netns exec "$E2E_NS_CLI" setpriv --reuid "$CU" --regid nogroup --groups "$E2E_GID" \
	env "PVE2E_TAG=$E2E_TAG" "XDG_RUNTIME_DIR=$xdg" "$cdir/proxyvpn" up --proxy "$URL" --tun pvpn0 -v \
	>"$T_OUT/up7.log" 2>&1 &
UP_PID=$!
track_pid "$UP_PID"
deadline=$(($(now_ms) + 10000))
until grep -q "up: ready: " "$T_OUT/up7.log"; do
	kill -0 "$UP_PID" 2>/dev/null || fail "up as $CU exited: $(cat "$T_OUT/up7.log")"
	[ "$(now_ms)" -lt "$deadline" ] || fail "up as $CU not ready after 10 s"
	sleep 0.05
done
[ "$(stat -c %U "$xdg/proxyvpn/state")" = "$CU" ] || fail "no state file of $CU in \$XDG_RUNTIME_DIR"
fetch "TCP through up run by $CU with the capability" "http://$DST4:$HTTP_PORT/small"
# the control socket answers the uid that ran up (status needs no capability)
as_user "$cdir/nocap" status --json >"$T_OUT/status7.json" || fail "status as $CU: exit $?"
"$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); assert j["live"]["pid"] == int(sys.argv[2]) and j["live"]["engine"]["pkts_in"] > 0, j' \
	"$T_OUT/status7.json" "$UP_PID" || fail "status --json as $CU: $(cat "$T_OUT/status7.json")"
no_leak "up as $CU"
kill -TERM "$UP_PID"
wait_pid_exit "$UP_PID" 10 || fail "up as $CU did not exit on SIGTERM"
assert_eq "$WAIT_RC" 0 "up as $CU: exit status after SIGTERM"
same_as_before "up as $CU + SIGTERM"
log "up/down: TCP proxied, UDP blocked with 0 leaks, SIGKILL + down and SIGTERM restore CLI exactly; decoys survive; killswitch off; proxy down fails fast; capability-only run by a user of group proxyvpn"
