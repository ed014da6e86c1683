#!/bin/bash
# malformed. Thousands of malformed packets written straight into tun0
#   while 4 downloads of the 50 MiB file (2 over IPv4, 2 over IPv6, curl
#   --limit-rate 3M so they last ~17 s) run through proxyvpn exec -v via the
#   proxy of kind $1. The injector (malformed.py) runs in the command's
#   network namespace, entered from outside with nsenter: the command has no
#   capabilities at all (exec.c empties every set and the bounding set), so
#   it cannot open the AF_PACKET socket itself, not even as root of its user
#   namespace; root of the init namespace can. It aims RSTs, SYNs and broken
#   headers at the live flows (ports from /proc/net/tcp{,6}, sequence numbers
#   sniffed on tun0) and puts an RST at the exact sequence number inside
#   every packet a correct IP/TCP parser must reject (see malformed.py):
#   40 rounds of ~420 packets (~2 s), cut short after 8 s (but at least 5
#   rounds) so that the barrage ends well before the downloads on a busy
#   machine.
#   Asserts: the engine keeps running; the 4 downloads finish intact
#   (sha256); the flows were still established when the barrage ended; a
#   connection made after the barrage works; and the stats line proxyvpn -v
#   logs at exit counts them: bad >= ip-bad sent, unsupported + udp in
#   (UDP is answered, not unsupported) >= non-tcp sent, bad-csum >= tcp-bad-csum sent, each minus what tun0 dropped
#   before the engine could read it (its tx_dropped over the barrage).
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
kind=$1
command -v nsenter >/dev/null || fail "nsenter (util-linux) is missing"
sync=$T_OUT/sync
mkdir -m 0777 "$sync"
big=http://$DST4:$HTTP_PORT/big big6="http://[$DST6]:$HTTP_PORT/big"
# the command: 4 rate-limited downloads, then (after the barrage) one more
app='
echo $$ >"$0/app.pid"
u4=$1 u6=$2 small=$3
set --
for u in "$u4" "$u4" "$u6" "$u6"; do
	curl --noproxy "*" -gsS --max-time 100 --limit-rate 3M -o "$0/d$(($# + 1))" "$u" &
	set -- "$@" $!
done
rc=0
for p in "$@"; do wait "$p" || rc=1; done
i=0
until [ -e "$0/after" ]; do
	i=$((i + 1))
	[ "$i" -le 1200 ] || exit 3
	sleep 0.05
done
curl --noproxy "*" -sS --max-time 30 -o "$0/small" "$small" || rc=1
exit "$rc"'
PV_TIMEOUT=180 pv exec -v --proxy "$(proxy_url "$kind")" -- sh -c "$app" "$sync" "$big" "$big6" \
	"http://$DST4:$HTTP_PORT/small" >"$T_OUT/app.out" 2>"$T_OUT/pv.err" &
run=$!
track_pid "$run"
run_failed() {
	cat "$T_OUT/app.out" "$T_OUT/pv.err" >&2
	fail "$*"
}
wait_sync "$sync/app.pid" 30 "$run" || run_failed "the command did not start"
apppid=$(cat "$sync/app.pid")
epid=$(engine_pid) || run_failed "cannot find the engine's pid"
t0=$(now_ms)
rc=0
nsenter -t "$apppid" -n env "PVE2E_TAG=$E2E_TAG" timeout 90 \
	"$PY" "$E2E_DIR/malformed.py" --port "$HTTP_PORT" --flows 4 --rounds 40 \
	--seconds 8 --min-rounds 5 >"$T_OUT/inject.out" 2>&1 || rc=$?
cat "$T_OUT/inject.out"
if [ "$rc" != 0 ]; then
	# let the downloads end to see what they report
	touch "$sync/after"
	wait_pid_exit "$run" 60 || true
	run_failed "the injector exited $rc"
fi
echo "barrage took $(($(now_ms) - t0)) ms"
[ "$(cat "/proc/$epid/comm" 2>/dev/null)" = proxyvpn ] || run_failed "the engine is gone after the barrage"
touch "$sync/after"
wait_pid_exit "$run" 120 || run_failed "the run did not end"
[ "$WAIT_RC" = 0 ] || run_failed "proxyvpn exec (4 downloads, then one more) exited $WAIT_RC"
for i in 1 2 3 4; do
	assert_file_sha "$sync/d$i" "$E2E_BIG_SHA" "download $i during the barrage"
done
assert_file_sha "$sync/small" "$E2E_SMALL_SHA" "download after the barrage"
grep 'stats:' "$T_OUT/pv.err" || fail "proxyvpn -v logged no stats line"
# counter NAME: the number after the word NAME in the stats lines
counter() { grep -ho 'stats:.*' "$T_OUT/pv.err" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { v = $(i + 1); gsub(/[^0-9]/, "", v); print v } }' | head -n 1; }
sent() { awk -v k="$1" '$1 == "sent" && $2 == k { print $3 }' "$T_OUT/inject.out"; }
drops=$(awk '$1 == "tun-tx-dropped" { print $2 }' "$T_OUT/inject.out")
for pair in bad:ip-bad unsupported:non-tcp bad-csum:tcp-bad-csum; do
	got=$(counter "${pair%%:*}") want=$(sent "${pair#*:}")
	[ -n "$got" ] || fail "no '${pair%%:*}' counter in the stats line"
	[ -n "$want" ] && [ "$want" -gt 0 ] || fail "the injector sent no ${pair#*:} packets"
	if [ "${pair%%:*}" = unsupported ]; then
		udp=$(grep -ho 'stats: udp in [0-9]*' "$T_OUT/pv.err" | awk '{ print $4 }' | head -n 1)
		got=$((got + ${udp:-0}))
	fi
	echo "counter ${pair%%:*} $got; sent ${pair#*:} $want (tun0 dropped $drops)"
	[ "$got" -ge $((want - drops)) ] || fail "counter ${pair%%:*} is $got after $want ${pair#*:} packets ($drops dropped)"
done
echo "engine survived, 4 downloads intact, new connection after the barrage ok"
