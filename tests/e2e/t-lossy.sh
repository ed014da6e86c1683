#!/bin/bash
# l. 100 MiB each way through a lossy link: the fault-injection build
#    (build/fault/proxyvpn, PROXYVPN_FAULT) drops, corrupts, duplicates and
#    reorders packets between the TUN and our stack in both directions, and
#    the transfer through dante (SOCKS5) must still arrive intact (sha256)
#    and in bounded time. $1 = DIRECTION-PROFILE:
#      down-* curl GET of the 100 MiB file; up-* curl PUT of it to the sink
#      *-a  seed=1,loss=1
#      *-b  seed=2,loss=5,reorder=25,dup=1,corrupt=0.1
#    Prints the elapsed time and the engine's stats lines (retransmissions,
#    checksum failures, fault counters).
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
dir=${1%-*}
case ${1##*-} in
a) spec="seed=1,loss=1" ;;
b) spec="seed=2,loss=5,reorder=25,dup=1,corrupt=0.1" ;;
*) fail "unknown profile in '$1'" ;;
esac
[ -x "$E2E_PROXYVPN_FAULT" ] || fail "no fault build at $E2E_PROXYVPN_FAULT (run: make fault)"
# curl gets the test's time limit (run.sh's table) less 15 s, so a slow run
# still ends with the stats lines; a finished run must be well within it
max=$((${E2E_LIMIT:-180} - 15))
url=$(proxy_url socks5-dante)
err=$T_OUT/pv.err
out=$T_OUT/huge

pvf() { # like pv, with the fault build and PROXYVPN_FAULT=$spec (and E2E_PV_EXTRA)
	# shellcheck disable=SC2086 # word splitting of E2E_PV_EXTRA wanted
	n_cli timeout -k 5 "$((max + 10))" env "PVE2E_TAG=$E2E_TAG" "PROXYVPN_FAULT=$spec" \
		"$E2E_PROXYVPN_FAULT" exec -v ${E2E_PV_EXTRA:-} --proxy "$url" -- "$@"
}

t0=$(now_ms)
rc=0
case $dir in
down)
	pvf curl --noproxy '*' -sS --max-time "$max" -o "$out" \
		"http://$DST4:$HTTP_PORT/huge" 2>"$err" || rc=$?
	;;
up)
	pvf curl --noproxy '*' -sS --max-time "$max" -H 'Expect:' -T "$E2E_TMP/www/huge" \
		-o "$out" "http://$DST4:$HTTP_PORT/sink" 2>"$err" || rc=$?
	;;
*) fail "unknown direction in '$1'" ;;
esac
dt=$(($(now_ms) - t0))
grep -E 'fault injection|stats:' "$err" | sed 's/^/  /'
if [ "$rc" != 0 ]; then
	grep -vE 'fault injection|stats:' "$err" | tail -n 20 >&2
	fail "$dir 100 MiB with PROXYVPN_FAULT=$spec: exit $rc after $((dt / 1000)).$((dt % 1000 / 100)) s"
fi
grep -q 'fault stats: in: packets [1-9]' "$err" || fail "no fault stats: not the fault build?"
if [ "$dir" = down ]; then
	assert_file_sha "$out" "$E2E_HUGE_SHA" "100 MiB download with PROXYVPN_FAULT=$spec"
else
	assert_eq "$(cat "$out")" "$E2E_HUGE_SHA" "sha256 the sink received with PROXYVPN_FAULT=$spec"
fi
echo "100 MiB $dir via dante with PROXYVPN_FAULT=$spec: sha256 ok in" \
	"$((dt / 1000)).$((dt % 1000 / 100)) s ($((104857600 / (dt > 0 ? dt : 1) / 1000)) MB/s)"
