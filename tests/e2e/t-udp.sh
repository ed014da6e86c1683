#!/bin/bash
# udp. proxyvpn exec --udp proxy: UDP through SOCKS5 UDP ASSOCIATE.
#   $1 = dante:   datagrams of 0-1400 bytes from 2 sockets to a UDP echo
#                 server in DST, IPv4 and IPv6, all echoed byte-exact
#                 through dante's UDP relay; stats count 4 associations, none
#                 failed, and every datagram out and in.
#   $1 = idle:    --udp-timeout 1: one socket, an exchange, 3 s of silence,
#                 another exchange: the association was closed idle and a
#                 new one opened (stats: idle-closed >= 1, associations 2).
#   $1 = limit:   --max-udp 1: a first socket's exchange works (positive
#                 control); a second (connected) socket's first datagram is
#                 refused at once (ICMP port unreachable: ECONNREFUSED) while
#                 the first association lives (stats: refused-at-limit 1).
#   $1 = refused: microsocks refuses UDP ASSOCIATE: a connected socket gets
#                 ECONNREFUSED (after the failed setup), never a reply; the
#                 failure is counted, and TCP through the same proxy still
#                 works; an HTTP proxy with --udp proxy is a usage error (2).
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
scn=$1
UDP_PORT=7100
ready=$T_OUT/udp.ready
port_closed_udp() { [ -z "$(n_dst ss -Hlun "sport = :$UDP_PORT" 2>/dev/null)" ]; }
port_closed_udp || fail "something already listens on DST udp :$UDP_PORT"
ip netns exec "$E2E_NS_DST" "$PY" "$E2E_DIR/udp.py" echo --port "$UDP_PORT" --ready "$ready" \
	>"$T_OUT/echo.log" 2>&1 &
track_pid $!
wait_file "$ready" 10 || { cat "$T_OUT/echo.log" >&2; fail "UDP echo server did not start"; }

# udp_stat NAME: the number after NAME in proxyvpn's udp-proxy stats line
# (unreachable-sent: in the engine's UDP line).
udp_stat() {
	local line="stats: udp-proxy .*"
	[ "$1" = unreachable-sent ] && line="stats: udp in .*"
	grep -o "$line" "$T_OUT/pv.err" | grep -oE " $1 [0-9]+" | awk '{ print $NF }' | head -n 1
}
run() { # PROXY-KIND PV-OPTS... -- APP...
	local kind=$1 rc=0
	shift
	pv exec -v --udp proxy --proxy "$(proxy_url "$kind")" "$@" >"$T_OUT/app.out" 2>"$T_OUT/pv.err" || rc=$?
	cat "$T_OUT/app.out"
	grep 'stats: udp' "$T_OUT/pv.err" || true
	[ "$rc" = 0 ] || { cat "$T_OUT/pv.err" >&2; fail "proxyvpn exec --udp proxy $* exited $rc"; }
}
want_ge() { # NAME MIN
	local v
	v=$(udp_stat "$1")
	[ -n "$v" ] || fail "stats: no '$1' counter"
	[ "$v" -ge "$2" ] || fail "stats: $1 $v, want >= $2"
}
want_eq() { # NAME VALUE
	assert_eq "$(udp_stat "$1")" "$2" "stats: $1"
}
client=("$PY" "$E2E_DIR/udp.py" client --port "$UDP_PORT")

case $scn in
dante)
	run socks5-dante -- "${client[@]}" --count 8 --sockets 2 "$DST4" "$DST6"
	grep -qx "ok $DST4 sockets 2 datagrams 16" "$T_OUT/app.out" || fail "IPv4 echoes incomplete"
	grep -qx "ok $DST6 sockets 2 datagrams 16" "$T_OUT/app.out" || fail "IPv6 echoes incomplete"
	want_eq associations 4
	want_eq failed 0
	want_ge out 32
	want_ge in 32
	want_eq bad-from-relay 0
	echo "udp: 32 datagrams each way via dante, IPv4 and IPv6, byte-exact"
	;;
idle)
	run socks5-dante --udp-timeout 1 -- "${client[@]}" --count 2 --pause 3 "$DST4"
	grep -qx "ok $DST4 sockets 1 datagrams 3" "$T_OUT/app.out" || fail "echoes incomplete"
	want_ge idle-closed 1
	want_eq associations 2
	echo "udp: an idle association was closed after --udp-timeout; the socket got a new one"
	;;
limit)
	run socks5-dante --max-udp 1 -- sh -c "$(printf '%q ' "${client[@]}") --count 2 $DST4 &&
		$PY $E2E_DIR/udp.py refused --port $UDP_PORT $DST4"
	grep -qx "ok $DST4 sockets 1 datagrams 2" "$T_OUT/app.out" || fail "positive control: no echo"
	grep -qx "refused after 1" "$T_OUT/app.out" || fail "a socket past --max-udp 1 was not refused at once"
	want_eq associations 1
	want_eq refused-at-limit 1
	want_ge unreachable-sent 1
	echo "udp: past --max-udp the datagram is refused at once (ICMP) and counted; the first association worked"
	;;
refused)
	run socks5 -- sh -c "$PY $E2E_DIR/udp.py refused --port $UDP_PORT $DST4 &&
		curl -sS --noproxy '*' --max-time 30 -o $T_OUT/small http://$DST4:$HTTP_PORT/small"
	grep -q "^refused after" "$T_OUT/app.out" || fail "a proxy without UDP ASSOCIATE: not refused"
	assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "TCP through microsocks next to a refused association"
	want_ge failed 1
	want_ge unreachable-sent 1
	want_eq out 0
	rc=0
	pv exec --udp proxy --proxy "$(proxy_url http)" -- true 2>"$T_OUT/usage.err" || rc=$?
	[ "$rc" = 2 ] || fail "--udp proxy with an HTTP proxy: exit $rc, want 2"
	grep -q 'needs a socks5' "$T_OUT/usage.err" || fail "usage error does not say why: $(cat "$T_OUT/usage.err")"
	echo "udp: microsocks' refusal reaches the app (ECONNREFUSED), counted; TCP unaffected; --udp proxy with http:// is a usage error"
	;;
*) fail "unknown scenario $scn" ;;
esac
