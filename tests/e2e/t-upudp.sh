#!/bin/bash
# upudp: host mode's UDP policy (`proxyvpn up --udp block|bypass|proxy`),
# with dante (SOCKS5 UDP ASSOCIATE) as the proxy and a UDP echo server in DST.
# UDP from CLI to DST's echo port is counted as it reaches PRX's uplink
# (positive control: the same probe before up is counted).
#   --udp proxy (killswitch on): datagrams from root and from uid 65534
#     round-trip through dante to DST (IPv4 and IPv6), TCP still proxied, and
#     zero UDP packets to DST are counted at PRX; after SIGKILL of up a UDP
#     socket fails fast (dropped on its way to lo: EPERM) and nothing
#     leaks; `down` restores CLI exactly.
#   --udp bypass (killswitch on): UDP reaches DST directly (counted) while
#     TCP is still proxied (DST's HTTP port never counted at PRX).
#   --udp block (the default with the killswitch): the first send fails;
#     with --no-killswitch the engine refuses it (ICMP port unreachable).
#   With --udp proxy and --dns bypass, DNS to the --allow-dns resolver is
#     counted at PRX (direct), DNS to another address is not (proxied).
#   --udp proxy with an http:// proxy: usage error (exit 2), nothing changed.
#   --udp proxy --firewall iptables: the same round trip, zero counted, and
#     after SIGKILL the same fail-fast with zero counted; down restores.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

UDP_PORT=7101
SD=$T_OUT/state
URL=$(proxy_url socks5-dante)
UP_PID=""
UP_ARGS=()
NOBODY=(setpriv --reuid 65534 --regid 65534 --clear-groups)

n_prx nft -f - <<EOF || fail "cannot add the counter table in PRX"
table inet pve2eupudp {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "r0" udp dport $UDP_PORT counter
		iifname "r0" tcp dport $HTTP_PORT counter
		iifname "r0" udp dport 53 counter
	}
}
EOF
on_exit "n_prx nft delete table inet pve2eupudp"
count() { # udp|tcp|dns
	local m="$1 dport $UDP_PORT "
	[ "$1" = tcp ] && m="tcp dport "
	[ "$1" = dns ] && m="udp dport 53 "
	n_prx nft list chain inet pve2eupudp pre | grep "$m" |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

[ -z "$(n_dst ss -Hlun "sport = :$UDP_PORT" 2>/dev/null)" ] || fail "something listens on DST udp :$UDP_PORT"
ready=$T_OUT/udp.ready
ip netns exec "$E2E_NS_DST" "$PY" "$E2E_DIR/udp.py" echo --port "$UDP_PORT" --ready "$ready" \
	>"$T_OUT/echo.log" 2>&1 &
track_pid $!
wait_file "$ready" 10 || { cat "$T_OUT/echo.log" >&2; fail "UDP echo server did not start"; }

# udp_probe [setpriv args...]: 3 datagrams on a connected socket to DST's echo
# port, 50 ms apart; "sent" if every send succeeded, else the first error.
udp_probe() {
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

# udp_to HOST PORT: one datagram on a connected socket; "sent" or "error:..."
udp_to() {
	n_cli timeout 10 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.send(b"q?")
    print("sent")
except OSError as e:
    print("error:" + (e.strerror or str(e)))
' "$1" "$2"
}

# echo_ok WHO [setpriv args...]: 4 datagrams from 2 sockets each to DST4 and DST6, all echoed
echo_ok() {
	local who=$1
	shift
	n_cli timeout 30 "$@" "$PY" "$E2E_DIR/udp.py" client --port "$UDP_PORT" --count 4 --sockets 2 \
		"$DST4" "$DST6" >"$T_OUT/app.out" 2>"$T_OUT/app.err" ||
		{ cat "$T_OUT/app.out" "$T_OUT/app.err" >&2; fail "$who: UDP echo client failed"; }
	grep -qx "ok $DST4 sockets 2 datagrams 8" "$T_OUT/app.out" || fail "$who: IPv4 echoes incomplete"
	grep -qx "ok $DST6 sockets 2 datagrams 8" "$T_OUT/app.out" || fail "$who: IPv6 echoes incomplete"
}

snapshot() { # FILE
	{
		n_cli ip rule; n_cli ip -6 rule
		n_cli ip route show table all; n_cli ip -6 route show table all
		n_cli ip link
		{ n_cli iptables-save; n_cli ip6tables-save; } 2>/dev/null | { grep -v '^#' || true; }
		n_cli nft list ruleset
	} 2>&1 | sed 's/\[[0-9]*:[0-9]*\]//' >"$1"
}
same_as_before() { # WHAT
	snapshot "$T_OUT/after"
	diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "$1: CLI's namespace differs from before up (diff above)"
}

start_up() { up_start "$1" "${UP_ARGS[@]}"; } # LOGFILE
stop_up() { # WHAT
	kill -TERM "$UP_PID"
	wait_pid_exit "$UP_PID" 10 || fail "$1: up did not exit within 10 s of SIGTERM"
	assert_eq "$WAIT_RC" 0 "$1: up exit status after SIGTERM"
	same_as_before "$1 + SIGTERM"
}

fetch() { # WHAT
	rm -f "$T_OUT/small"
	n_cli timeout 30 curl -sS --noproxy '*' --max-time 20 -o "$T_OUT/small" "http://$DST4:$HTTP_PORT/small" ||
		fail "$1: curl failed"
	assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "$1"
}

snapshot "$T_OUT/before"

# positive control: without proxyvpn the probe reaches PRX on its way to DST
c0=$(count udp)
assert_eq "$(udp_probe)" sent "control: UDP probe before up"
sleep 0.2
assert_eq "$(($(count udp) - c0))" 3 "control: UDP probe packets counted at PRX before up"

# (1) --udp proxy with an http:// proxy: a usage error, nothing changes
rc=0
n_cli "$E2E_PROXYVPN" up --udp proxy --proxy "$(proxy_url http)" --state-dir "$SD" \
	>"$T_OUT/usage.log" 2>&1 || rc=$?
assert_eq "$rc" 2 "up --udp proxy with an http proxy: $(cat "$T_OUT/usage.log")"
grep -q 'needs a socks5' "$T_OUT/usage.log" || fail "usage error does not say why: $(cat "$T_OUT/usage.log")"
rc=0
n_cli "$E2E_PROXYVPN" up --udp quic --state-dir "$SD" >"$T_OUT/usage2.log" 2>&1 || rc=$?
assert_eq "$rc" 2 "up --udp quic: $(cat "$T_OUT/usage2.log")"
same_as_before "usage errors"

# (2) --udp proxy, killswitch on: round trips through dante, 0 UDP to DST at
# PRX; DNS to the allowed resolver (--dns bypass, the default) stays direct
UP_ARGS=(--udp proxy --allow-dns "$PRX4")
start_up "$T_OUT/up1.log"
grep -q "udp proxy" "$T_OUT/up1.log" || fail "up does not log its UDP mode: $(cat "$T_OUT/up1.log")"
c0=$(count udp)
t0=$(count tcp)
echo_ok "root"
echo_ok "uid 65534" "${NOBODY[@]}"
fetch "TCP next to --udp proxy"
d0=$(count dns)
assert_eq "$(udp_to "$PRX4" 53)" sent "--udp proxy: DNS to the allowed resolver"
assert_eq "$(udp_to "$DST4" 53)" sent "--udp proxy: DNS to another resolver (proxied)"
sleep 0.2
assert_eq "$(($(count dns) - d0))" 1 "--udp proxy: DNS datagrams counted at PRX (the allowed one only)"
assert_eq "$(($(count udp) - c0))" 0 "--udp proxy: UDP packets to DST counted at PRX"
assert_eq "$(($(count tcp) - t0))" 0 "--udp proxy: TCP packets to DST's HTTP port counted at PRX"
log "--udp proxy: root and uid 65534 datagrams echoed via dante (IPv4, IPv6), 0 leaked"

# (3) SIGKILL: marked UDP now goes to lo and is refused at once; nothing leaks
kill -KILL "$UP_PID"
wait_pid_exit "$UP_PID" 5 || fail "up did not die on SIGKILL"
c0=$(count udp)
r=$(udp_probe)
case $r in error:*) ;; *) fail "after SIGKILL: the UDP probe was not refused ($r)" ;; esac
r=$(udp_probe "${NOBODY[@]}")
case $r in error:*) ;; *) fail "after SIGKILL: the uid 65534 UDP probe was not refused ($r)" ;; esac
sleep 0.2
assert_eq "$(($(count udp) - c0))" 0 "after SIGKILL: UDP packets counted at PRX"
log "--udp proxy after SIGKILL: UDP refused ($r), 0 leaked"
rc=0
n_cli "$E2E_PROXYVPN" down --state-dir "$SD" -v >"$T_OUT/down1.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "down after SIGKILL: $(cat "$T_OUT/down1.log")"
same_as_before "down after SIGKILL (--udp proxy)"

# (4) --udp bypass, killswitch on: UDP leaves directly, TCP still proxied
UP_ARGS=(--udp bypass)
start_up "$T_OUT/up2.log"
c0=$(count udp)
t0=$(count tcp)
assert_eq "$(udp_probe)" sent "--udp bypass: UDP probe"
fetch "TCP next to --udp bypass"
sleep 0.2
assert_eq "$(($(count udp) - c0))" 3 "--udp bypass: UDP packets counted at PRX (direct)"
assert_eq "$(($(count tcp) - t0))" 0 "--udp bypass: TCP packets to DST's HTTP port counted at PRX"
stop_up "up --udp bypass"

# (5) --udp block (the killswitch's default, here explicit): the send fails
UP_ARGS=(--udp block)
start_up "$T_OUT/up3.log"
c0=$(count udp)
r=$(udp_probe)
case $r in error:*) ;; *) fail "--udp block: the UDP probe was not refused ($r)" ;; esac
sleep 0.2
assert_eq "$(($(count udp) - c0))" 0 "--udp block: UDP packets counted at PRX"
stop_up "up --udp block"
log "--udp bypass: UDP direct (counted), TCP proxied; --udp block: refused ($r), 0 leaked"
# without the killswitch, --udp block marks UDP and the engine answers ICMP
# port unreachable (ECONNREFUSED)
UP_ARGS=(--no-killswitch --udp block)
start_up "$T_OUT/up3b.log"
c0=$(count udp)
r=$(udp_probe)
case $r in error:*) ;; *) fail "--no-killswitch --udp block: the UDP probe was not refused ($r)" ;; esac
sleep 0.2
assert_eq "$(($(count udp) - c0))" 0 "--no-killswitch --udp block: UDP packets counted at PRX"
stop_up "up --no-killswitch --udp block"
log "--no-killswitch --udp block: refused by the engine ($r), 0 leaked"

# (6) the iptables fallback: the same round trip, nothing counted
if command -v iptables-restore >/dev/null; then
	ipt_baseline
	snapshot "$T_OUT/before"
	UP_ARGS=(--udp proxy --firewall iptables)
	start_up "$T_OUT/up4.log"
	grep -q "iptables" "$T_OUT/up4.log" || fail "up --firewall iptables does not say so"
	c0=$(count udp)
	echo_ok "root (iptables)"
	echo_ok "uid 65534 (iptables)" "${NOBODY[@]}"
	sleep 0.2
	assert_eq "$(($(count udp) - c0))" 0 "--udp proxy (iptables): UDP packets counted at PRX"
	kill -KILL "$UP_PID"
	wait_pid_exit "$UP_PID" 5 || fail "up (iptables) did not die on SIGKILL"
	r=$(udp_probe)
	case $r in error:*) ;; *) fail "iptables, after SIGKILL: the UDP probe was not refused ($r)" ;; esac
	sleep 0.2
	assert_eq "$(($(count udp) - c0))" 0 "--udp proxy (iptables) after SIGKILL: UDP packets counted at PRX"
	rc=0
	n_cli "$E2E_PROXYVPN" down --state-dir "$SD" -v >"$T_OUT/down2.log" 2>&1 || rc=$?
	assert_eq "$rc" 0 "down after SIGKILL (iptables): $(cat "$T_OUT/down2.log")"
	same_as_before "down after SIGKILL (--udp proxy, iptables)"
	log "--udp proxy with the iptables fallback: echoed via dante, 0 leaked"
else
	log "(iptables not installed: the iptables part is skipped)"
fi
log "upudp: --udp proxy round-trips via dante with 0 leaks (also after SIGKILL, and with iptables); bypass goes direct; block refuses; http:// is a usage error"
