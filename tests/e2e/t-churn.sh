#!/bin/bash
# churn. Short connections through ONE proxyvpn exec via the proxy of kind
#   $1 for E2E_CHURN_SECS s (default 60): 64 asyncio workers (stress.py
#   churn) loop connect / one small framed exchange / read the server's EOF /
#   close, as fast as the machine allows; every connection must succeed.
#   Prints the connection rate. The server closes first, so neither the
#   app's kernel nor the proxy's outgoing side piles up 60 s TIME_WAITs
#   (ephemeral ports); the engine's own TIME-WAIT lasts 2 s.
#   Afterwards, measured from outside (/proc/<engine>/):
#   - fds: back to the baseline (before the first connection) within 5 s;
#   - RSS settles: unchanged for 1 s, and at least 3 s (TIME-WAIT 2 s + 1 s)
#     after the last connection; waited for at most 15 s. Then
#     settled VmRSS <= VmHWM (the peak), and
#     settled VmRSS - baseline <= max(32 MiB, rate * 2 s * 8 KiB).
#     Not zero: the flow hash table and the timer heap grow while thousands
#     of flows sit in TIME-WAIT, are allocated late and pin the heap, so
#     malloc keeps freed pages below them resident. That residue is at most
#     what the flows alive at once took: 64 active ones plus rate * 2 s in
#     TIME-WAIT. Measured on 2 busy cores, 1,350-2,500 connections/s
#     (80,000-150,000 connections): peak 8-9 MiB, residue 4-6 MiB with
#     TIME-WAIT holding no buffers; 22-24 MiB of a 52-60 MiB peak (~4 KiB
#     per TIME-WAIT flow) with an earlier build that kept them. A leak of
#     ~400 bytes per connection exceeds the bound within 60 s at the rates
#     measured here (more at lower rates: 32 MiB / connections made).
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
kind=$1
SECS=${E2E_CHURN_SECS:-60}
raise_nofile 1024
sync=$T_OUT/sync
mkdir -m 0777 "$sync"
start_stress_server "$sync"

PV_TIMEOUT=$((SECS + 120)) pv exec -v --proxy "$(proxy_url "$kind")" -- \
	"$PY" "$E2E_DIR/stress.py" churn "$DST4" "$STRESS_REQ_PORT" --seconds "$SECS" --parallel 64 \
	--phases 1 --sync "$sync" >"$T_OUT/client.out" 2>"$T_OUT/pv.err" &
run=$!
track_pid "$run"
client_failed() {
	cat "$T_OUT/client.out" "$T_OUT/pv.err" >&2
	fail "$*"
}
wait_sync "$sync/ready" 30 "$run" || client_failed "the client did not start"
epid=$(engine_pid) || client_failed "cannot find the engine's pid"
rss0=$(proc_kib "$epid" VmRSS)
fd0=$(fd_count "$epid")
echo "engine pid $epid: baseline VmRSS ${rss0} KiB, $fd0 fds"

touch "$sync/go1"
wait_sync "$sync/done1" $((SECS + 30)) "$run" || client_failed "the churn did not finish"
tdone=$(now_ms)
read -r conns secs <"$sync/done1"
rate=$(awk -v c="$conns" -v s="$secs" 'BEGIN { printf "%.0f", c / s }')
# fds back to the baseline
deadline=$((tdone + 5000))
until [ "$(fd_count "$epid")" = "$fd0" ]; do
	[ "$(now_ms)" -lt "$deadline" ] ||
		fail "engine has $(fd_count "$epid") fds 5 s after the last connection (baseline $fd0)"
	sleep 0.05
done
tfd=$(($(now_ms) - tdone))
# RSS settled: unchanged for 1 s, no earlier than 3 s after the last connection
deadline=$((tdone + 15000))
last=$(proc_kib "$epid" VmRSS) since=$(now_ms)
while :; do
	sleep 0.1
	r=$(proc_kib "$epid" VmRSS)
	[ -n "$r" ] || client_failed "the engine is gone"
	if [ "$r" != "$last" ]; then
		last=$r since=$(now_ms)
	elif [ $(($(now_ms) - since)) -ge 1000 ] && [ $(($(now_ms) - tdone)) -ge 3000 ]; then
		break
	fi
	[ "$(now_ms)" -lt "$deadline" ] || fail "engine VmRSS still changing 15 s after the churn (now ${r} KiB)"
done
tset=$(($(now_ms) - tdone))
peak=$(proc_kib "$epid" VmHWM)
bound=$((rate * 2 * 8))
[ "$bound" -ge $((32 * 1024)) ] || bound=$((32 * 1024))
echo "churn: $conns connections in $secs s = $rate connections/s (64 in parallel)"
echo "engine: fds back to $fd0 after ${tfd} ms; VmHWM ${peak} KiB; VmRSS settled after ${tset} ms at" \
	"${last} KiB: $(((last - rss0) / 1024)) MiB above the baseline (bound $((bound / 1024)) MiB)"
[ "$last" -le "$peak" ] || fail "settled VmRSS ${last} KiB > peak ${peak} KiB"
[ $((last - rss0)) -le "$bound" ] ||
	fail "settled VmRSS ${last} KiB is more than $((bound / 1024)) MiB above the baseline ${rss0} KiB"
touch "$sync/exit"
wait_pid_exit "$run" 30 || client_failed "the run did not end"
cat "$T_OUT/client.out"
grep 'stats:' "$T_OUT/pv.err" || true
assert_eq "$WAIT_RC" 0 "exit status of proxyvpn exec (the churn client)"
