#!/bin/bash
# Upstream failures a person can act on (issue 14, item 5): each one gives,
# at the default log level, one line naming the proxy and what it said, the
# second time within the minute only a count (at exit), and the app the
# errno proxyvpn(8) documents: curl -v says "Connection refused" for
# credentials SOCKS5 and HTTP refused, a dead proxy and a closed port, "No
# route to host" for a name the proxy cannot resolve (virtual DNS; hcproxy
# resolving through dnsmasq in PRX, host unreachable like dante), "Network
# is unreachable" for a network the proxy has no route to (IPv4 and IPv6).
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
RES_SOCKS_PORT=1099 RES_HTTP_PORT=3199
dns_proxy_setup # PRX's resolv.conf: dnsmasq, which knows $DNS_NAME only
ip netns exec "$E2E_NS_PRX" "$PY" "$E2E_DIR/hcproxy.py" --listen "$PRX4" --socks "$RES_SOCKS_PORT" \
	--http "$RES_HTTP_PORT" --user "$HTTP_USER" --password "$HTTP_PASS" >"$T_OUT/hcproxy.log" 2>&1 &
track_pid $!
wait_port n_prx "$RES_SOCKS_PORT" || fail "hcproxy did not listen in PRX"

# check URL DEST WANT-ERR LINE [-6]: two curls to DEST in one exec through URL;
# each fails with curl's 7 and WANT-ERR; LINE is logged once, then counted.
check() {
	local url=$1 dest=$2 want=$3 line=$4 fam=${5:--4} out=$T_OUT/out n
	pv exec --proxy "$url" -- sh -c 'for i in 1 2; do
		curl "$2" -v --noproxy "*" -sS --max-time 10 -o /dev/null "$1"; echo "curl exit $?"
	done' sh "$dest" "$fam" >"$out" 2>&1
	n=$(grep -c "^curl exit 7$" "$out")
	assert_eq "$n" 2 "curl exit 7 twice ($url -> $dest): $(cat "$out")"
	n=$(grep -c "$want" "$out")
	[ "$n" -ge 2 ] || fail "curl did not say '$want' twice ($url -> $dest): $(cat "$out")"
	n=$(grep -cxF "proxyvpn: $line" "$out")
	assert_eq "$n" 1 "'$line' logged once: $(cat "$out")"
	n=$(grep -cF "proxyvpn: $line (1 more time in " "$out")
	assert_eq "$n" 1 "'$line' counted once at exit: $(cat "$out")"
	echo "ok: $line; curl: $want"
}

P=$PRX4
check "$(proxy_url socks5-badpass)" "http://$DST4:$HTTP_PORT/" "Connection refused" \
	"proxy $P:$SOCKS_AUTH_PORT refused our credentials (SOCKS5 auth)"
check "$(proxy_url http-nocreds)" "http://$DST4:$HTTP_PORT/" "Connection refused" \
	"HTTP proxy $P:$HTTP_PROXY_PORT answered 407 Proxy Authentication Required (it wants a login: put user:pass in the proxy URL)"
port_closed n_prx "$DEAD_SOCKS_PORT" || fail "something listens on PRX :$DEAD_SOCKS_PORT"
check "$(proxy_url socks5-dead)" "http://$DST4:$HTTP_PORT/" "Connection refused" \
	"nothing listens at the proxy $P:$DEAD_SOCKS_PORT (connection refused)"
port_closed n_dst "$CLOSED_PORT" || fail "something listens on DST :$CLOSED_PORT"
check "socks5://$P:$RES_SOCKS_PORT" "http://$DST4:$CLOSED_PORT/" "Connection refused" \
	"proxy $P:$RES_SOCKS_PORT: $DST4:$CLOSED_PORT refused the connection (SOCKS5 connection refused)"
check "socks5://$P:$RES_SOCKS_PORT" "http://nosuch.example:$HTTP_PORT/" "No route to host" \
	"proxy $P:$RES_SOCKS_PORT could not resolve or reach nosuch.example:$HTTP_PORT (SOCKS5 host unreachable)"
# PRX has no route to TEST-NET-3 or 2001:db8:99::/64: hcproxy says network
# unreachable (REP 3), the app gets ENETUNREACH (ICMP, ICMPv6 no route).
check "socks5://$P:$RES_SOCKS_PORT" "http://203.0.113.1:$HTTP_PORT/" "Network is unreachable" \
	"proxy $P:$RES_SOCKS_PORT cannot reach the network of 203.0.113.1:$HTTP_PORT (SOCKS5 network unreachable)"
check "socks5://$P:$RES_SOCKS_PORT" "http://[2001:db8:99::1]:$HTTP_PORT/" "Network is unreachable" \
	"proxy $P:$RES_SOCKS_PORT cannot reach the network of [2001:db8:99::1]:$HTTP_PORT (SOCKS5 network unreachable)" -6
# The positive control: the same proxy resolves the name it knows.
pv exec --proxy "socks5://$P:$RES_SOCKS_PORT" -- curl -4 --noproxy '*' -sS --max-time 10 \
	-o "$T_OUT/small" "http://$DNS_NAME:$HTTP_PORT/small" || fail "curl by name through hcproxy"
assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "download by name through hcproxy"

# --dns virtual with --dns-server (item 6): a name the server says does not
# exist gets NXDOMAIN (getent: exit 2; curl: exit 6, not a fake address and
# a failed connect); one it knows gets a fake address and works.
U="socks5://$P:$DNS_SOCKS_PORT"
rc=0
pv exec --dns-server "$P" --proxy "$U" -- getent ahostsv4 "$DNS_NXNAME" >"$T_OUT/out" 2>&1 || rc=$?
assert_eq "$rc" 2 "getent $DNS_NXNAME with --dns-server (2: not found): $(cat "$T_OUT/out")"
rc=0
pv exec --dns-server "$P" --proxy "$U" -- curl -sS --noproxy '*' --max-time 10 \
	"http://$DNS_NXNAME:$HTTP_PORT/" >"$T_OUT/out" 2>&1 || rc=$?
assert_eq "$rc" 6 "curl $DNS_NXNAME with --dns-server (6: could not resolve): $(cat "$T_OUT/out")"
grep -q "query\[A\] $DNS_NXNAME from" "$T_OUT/dnsmasq.log" || fail "the server was not asked"
out=$(pv exec --dns-server "$P" --proxy "$U" -- getent ahostsv4 "$DNS_NAME") ||
	fail "getent $DNS_NAME with --dns-server: $out"
case $out in
198.1[89].*) ;;
*) fail "getent $DNS_NAME with --dns-server gave '$out', want a fake address" ;;
esac
echo "ok: --dns virtual --dns-server: NXDOMAIN for $DNS_NXNAME, a fake address for $DNS_NAME"
