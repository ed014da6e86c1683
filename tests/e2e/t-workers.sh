#!/bin/bash
# w. Multi-queue workers (exec --workers 2): 200 connections at once (each
#    a unique 16 KiB echo, checked by client.py) and 50 MiB each way (sha256),
#    first with the shipping build, then the 200 connections and the download
#    again with the fault build under loss and reordering. The flows must
#    spread over both TUN queues: each queue's engine had sessions (200 flows
#    all hashed to one queue: chance 2^-199), and the one stats line sums them.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
url=$(proxy_url socks5)
err=$T_OUT/pv.err

# "TUN queue Q: sessions N" of each engine, N one per line (queue order)
sessions() { grep -o 'TUN queue [0-9]*: sessions [0-9]*' "$1" | sort -k3n | sed 's/.* sessions //'; }
spread() { # LOG WHAT
	local s
	s=$(sessions "$1" | paste -sd' ')
	echo "$2: sessions per engine: $s"
	[[ $s =~ ^[1-9][0-9]*\ [1-9][0-9]*$ ]] || fail "$2: flows not on both queues (sessions: '$s')"
	# the stats line sums both engines
	assert_eq "$(grep -o 'stats: packets .* sessions [0-9]*' "$1" | sed 's/.* sessions //')" \
		"$(($(sessions "$1" | paste -sd+)))" "$2: sessions in the summed stats line"
}

pv exec -v --workers 2 --proxy "$url" -- "$PY" "$E2E_DIR/client.py" concurrent "$DST4" \
	"$ECHO_PORT" -n 200 2>"$err" || fail "concurrent client with --workers 2 exited $?"
spread "$err" "200 concurrent"

pv exec -v --workers 2 --proxy "$url" -- curl --noproxy '*' -sS --max-time 60 \
	-o "$T_OUT/big" "http://$DST4:$HTTP_PORT/big" 2>"$err" || fail "download with --workers 2: exit $?"
assert_file_sha "$T_OUT/big" "$E2E_BIG_SHA" "50 MiB download with --workers 2"
reply=$(pv exec -v --workers 2 --proxy "$url" -- curl --noproxy '*' -sS --max-time 60 \
	-H 'Expect:' -T "$E2E_TMP/www/big" "http://$DST4:$HTTP_PORT/sink" 2>"$err") ||
	fail "upload with --workers 2: exit $?"
assert_eq "$reply" "$E2E_BIG_SHA" "sha256 the sink received with --workers 2"

[ -x "$E2E_PROXYVPN_FAULT" ] || fail "no fault build at $E2E_PROXYVPN_FAULT (run: make fault)"
spec="seed=3,loss=2,reorder=10,dup=1"
pvf() {
	n_cli timeout -k 5 "$PV_TIMEOUT" env "PVE2E_TAG=$E2E_TAG" "PROXYVPN_FAULT=$spec" \
		"$E2E_PROXYVPN_FAULT" exec -v --workers 2 --proxy "$url" -- "$@"
}
pvf "$PY" "$E2E_DIR/client.py" concurrent "$DST4" "$ECHO_PORT" -n 200 2>"$err" ||
	fail "concurrent client with --workers 2 and PROXYVPN_FAULT=$spec exited $?"
spread "$err" "200 concurrent under faults"
grep -q 'fault stats: in: packets [1-9]' "$err" || fail "no fault stats: not the fault build?"
pvf curl --noproxy '*' -sS --max-time 60 -o "$T_OUT/big2" "http://$DST4:$HTTP_PORT/big" \
	2>"$err" || fail "download with --workers 2 and PROXYVPN_FAULT=$spec: exit $?"
assert_file_sha "$T_OUT/big2" "$E2E_BIG_SHA" "50 MiB download with --workers 2 under faults"
echo "--workers 2: 200 concurrent and 50 MiB each way ok, also under $spec"
