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
#   $1 = fake:    --dns virtual (the default) + --udp proxy: the app resolves
#                 a name only the proxy side knows (dnsmasq in PRX, a second
#                 dante using it) to a fake address; datagrams go to dante by
#                 name and every echo comes back from the fake address (the
#                 app checks the source), IPv4 and IPv6 fake addresses (the
#                 name has an IPv4 address only, see below).
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
fake)
	# A name only PRX resolves, IPv4 only: dante 1.4.2 picks its external
	# IPv4 address for a UDP target named by a name with an AAAA record and
	# fails (EINVAL), so the IPv6 fake address is checked against the IPv4
	# destination (the reply maps back to the fake address by port).
	name=udpname.example
	command -v dnsmasq >/dev/null || { echo "SKIPPED: no dnsmasq (dnsmasq-base)"; exit 77; }
	port_closed n_prx 53 || fail "something listens on PRX :53"
	ip netns exec "$E2E_NS_PRX" dnsmasq -k --no-resolv --no-hosts --bind-interfaces \
		--listen-address=127.0.0.1 --port=53 --user=root --pid-file= \
		--address="/$name/$DST4" --log-facility=- --log-queries >"$T_OUT/dnsmasq.log" 2>&1 &
	track_pid $!
	wait_port n_prx 53 || fail "dnsmasq did not listen in PRX"
	mkdir -p "/etc/netns/$E2E_NS_PRX"
	on_exit "rm -rf /etc/netns/$E2E_NS_PRX"
	echo "nameserver 127.0.0.1" >"/etc/netns/$E2E_NS_PRX/resolv.conf"
	fport=1098
	sed "s/port = $DANTE_PORT\$/port = $fport/" "$E2E_TMP/srv/danted.conf" >"$T_OUT/danted.conf"
	grep -q "port = $fport" "$T_OUT/danted.conf" || fail "could not derive a dante config"
	# (ip netns exec binds /etc/netns/PRX/resolv.conf: this dante resolves via dnsmasq)
	ip netns exec "$E2E_NS_PRX" danted -f "$T_OUT/danted.conf" -N 1 -p "$T_OUT/danted.pid" \
		>"$T_OUT/danted.log" 2>&1 &
	track_pid $!
	wait_port n_prx "$fport" || { cat "$T_OUT/danted.log" >&2; fail "second dante did not listen"; }
	rc=0
	pv exec -v --udp proxy --proxy "socks5://$PRX4:$fport" -- sh -c "
		$(printf '%q ' "${client[@]}") --count 4 $name &&
		$(printf '%q ' "${client[@]}") --count 4 --family 6 $name" \
		>"$T_OUT/app.out" 2>"$T_OUT/pv.err" || rc=$?
	cat "$T_OUT/app.out"
	grep 'stats: udp' "$T_OUT/pv.err" || true
	[ "$rc" = 0 ] || { cat "$T_OUT/pv.err" "$T_OUT/danted.log" >&2; fail "fake-name UDP client exited $rc"; }
	grep -qE "^$name is 198\.1[89]\." "$T_OUT/app.out" || fail "the name did not resolve to a fake IPv4 address"
	grep -qE "^$name is fd70:7678:" "$T_OUT/app.out" || fail "the name did not resolve to a fake IPv6 address"
	[ "$(grep -c "^ok $name sockets 1 datagrams 4" "$T_OUT/app.out")" = 2 ] || fail "echoes incomplete"
	grep -q "$name" "$T_OUT/dnsmasq.log" || fail "the proxy side never resolved $name (positive control)"
	want_eq stale-fake 0
	want_eq foreign 0
	want_ge in 8
	echo "udp: datagrams to fake addresses went to dante by name; replies came from the fake addresses"
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
