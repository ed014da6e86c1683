#!/bin/bash
# o. TUN offloads (IFF_VNET_HDR, TSO, checksum offload), $1 = on | off | up:
#    50 MiB down and 50 MiB up, over IPv4 and IPv6, through socks5 with proxyvpn -v (on) or
#    -v --no-offload (off); sha256 must match both ways. on: the stats must
#    show large segments both ways (gso-in from the app's TSO, gso-out cut by
#    the kernel); off: the plain TUN path, no large segment either way (the
#    positive control for the counters); up: the same IPv4 transfers through
#    host mode (`proxyvpn up`), large segments both ways.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
mode=$1
url=$(proxy_url socks5)
# "offload on gso-in N gso-out N" from the engine's stats line
counters() { grep -o 'offload [a-z]* gso-in [0-9]* gso-out [0-9]*' "$1" | tail -n 1; }

if [ "$mode" = up ]; then
	# Host mode: the TUN tun_setup() makes gets the offloads too.
	sd=$T_OUT/state
	ip netns exec "$E2E_NS_CLI" env "PVE2E_TAG=$E2E_TAG" "$E2E_PROXYVPN" up --proxy "$url" \
		--tun pvpn7 --state-dir "$sd" -v >"$T_OUT/up.log" 2>&1 &
	up_pid=$!
	track_pid "$up_pid"
	deadline=$(($(now_ms) + 10000))
	until grep -q "the host's TCP goes through" "$T_OUT/up.log"; do
		kill -0 "$up_pid" 2>/dev/null || { cat "$T_OUT/up.log" >&2; fail "up exited during setup"; }
		[ "$(now_ms)" -lt "$deadline" ] || fail "up not ready after 10 s"
		sleep 0.05
	done
	n_cli curl --noproxy '*' -sS --max-time 60 -o "$T_OUT/big" "http://$DST4:$HTTP_PORT/big" ||
		fail "download through up: curl exited $?"
	assert_file_sha "$T_OUT/big" "$E2E_BIG_SHA" "50 MiB download through up"
	reply=$(n_cli curl --noproxy '*' -sS --max-time 60 -H 'Expect:' -T "$E2E_TMP/www/big" \
		"http://$DST4:$HTTP_PORT/sink") || fail "upload through up: curl exited $?"
	assert_eq "$reply" "$E2E_BIG_SHA" "sha256 the sink received through up"
	kill -TERM "$up_pid"
	wait "$up_pid" || fail "up exited $? after SIGTERM ($(tail -n 5 "$T_OUT/up.log"))"
	c=$(counters "$T_OUT/up.log")
	echo "up: $c"
	[[ $c =~ ^offload\ on\ gso-in\ [1-9][0-9]*\ gso-out\ [1-9][0-9]*$ ]] ||
		fail "up with offloads moved no large segment both ways: '$c'"
	echo "50 MiB each way through up, offloads on: sha256 ok"
	exit 0
fi
case $mode in
on) opt=() ;;
off) opt=(--no-offload) ;;
*) fail "unknown mode '$mode'" ;;
esac

pv exec -v "${opt[@]}" --proxy "$url" -- curl --noproxy '*' -sS --max-time 60 \
	-o "$T_OUT/big" "http://$DST4:$HTTP_PORT/big" 2>"$T_OUT/down.err" ||
	fail "download with offload $mode: exit $? ($(tail -n 3 "$T_OUT/down.err"))"
assert_file_sha "$T_OUT/big" "$E2E_BIG_SHA" "50 MiB download, offload $mode"
reply=$(pv exec -v "${opt[@]}" --proxy "$url" -- curl --noproxy '*' -sS --max-time 60 \
	-H 'Expect:' -T "$E2E_TMP/www/big" "http://$DST4:$HTTP_PORT/sink" 2>"$T_OUT/up.err") ||
	fail "upload with offload $mode: exit $? ($(tail -n 3 "$T_OUT/up.err"))"
assert_eq "$reply" "$E2E_BIG_SHA" "sha256 the sink received, offload $mode"

# IPv6 both ways too (TCPV6 GSO, the 40-byte header in csum_start)
pv exec -v "${opt[@]}" --proxy "$url" -- curl --noproxy '*' -sS -g --max-time 60 \
	-o "$T_OUT/big6" "http://[$DST6]:$HTTP_PORT/big" 2>"$T_OUT/down6.err" ||
	fail "IPv6 download with offload $mode: exit $? ($(tail -n 3 "$T_OUT/down6.err"))"
assert_file_sha "$T_OUT/big6" "$E2E_BIG_SHA" "50 MiB IPv6 download, offload $mode"
reply=$(pv exec -v "${opt[@]}" --proxy "$url" -- curl --noproxy '*' -sS -g --max-time 60 \
	-H 'Expect:' -T "$E2E_TMP/www/big" "http://[$DST6]:$HTTP_PORT/sink" 2>"$T_OUT/up6.err") ||
	fail "IPv6 upload with offload $mode: exit $? ($(tail -n 3 "$T_OUT/up6.err"))"
assert_eq "$reply" "$E2E_BIG_SHA" "sha256 the sink received over IPv6, offload $mode"

for v in "" 6; do
	down=$(counters "$T_OUT/down$v.err")
	up=$(counters "$T_OUT/up$v.err")
	echo "IPv${v:-4} download: $down; upload: $up"
	if [ "$mode" = on ]; then
		[[ $down =~ ^offload\ on\ gso-in\ [0-9]+\ gso-out\ [1-9][0-9]*$ ]] ||
			fail "IPv${v:-4} download with offloads sent no large segment: '$down'"
		[[ $up =~ ^offload\ on\ gso-in\ [1-9][0-9]*\ gso-out\ [0-9]+$ ]] ||
			fail "IPv${v:-4} upload with offloads got no large segment from the app: '$up'"
	else
		assert_eq "$down" "offload off gso-in 0 gso-out 0" "IPv${v:-4} download counters, --no-offload"
		assert_eq "$up" "offload off gso-in 0 gso-out 0" "IPv${v:-4} upload counters, --no-offload"
	fi
done
echo "50 MiB each way over IPv4 and IPv6, offload $mode: sha256 ok"
