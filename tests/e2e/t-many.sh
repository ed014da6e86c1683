#!/bin/bash
# many. E2E_MANY_N (5,000) concurrent TCP connections through ONE proxyvpn
#   exec via the proxy of kind $1, held for E2E_MANY_HOLD s (default 20: the
#   scaled-down twin; make bench measures idle memory at 2,000 and 10,000
#   held, and its burst rows 5,000 and 15,000 opened at once). The
#   asyncio client (stress.py many) opens them with at most 200 connects in
#   flight; each does one echo exchange right after connecting and another
#   at the end of the hold: all must succeed. While they are open the engine
#   must hold one proxy socket per flow (fd count >= baseline + N) and stay
#   up. Prints the engine's memory per connection:
#   (VmRSS with all open - VmRSS before) / N, and asserts it is at most
#   128 KiB: each ring (256 KiB each way) is allocated on first use, and
#   only its touched pages are resident, so a flow that moved ~50 bytes
#   each way costs a few pages (about 11 KiB measured), not its 512 KiB.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
kind=$1
N=${E2E_MANY_N:-5000}
HOLD=${E2E_MANY_HOLD:-20}
# the engine and the client each hold N sockets (the server too)
raise_nofile $((N + 500))
sync=$T_OUT/sync
mkdir -m 0777 "$sync"
start_stress_server "$sync"

PV_TIMEOUT=$((HOLD + 240)) pv exec -v --proxy "$(proxy_url "$kind")" -- \
	"$PY" "$E2E_DIR/stress.py" many "$DST4" "$STRESS_ECHO_PORT" -n "$N" --inflight 200 \
	--sync "$sync" --finish-timeout $((HOLD + 120)) >"$T_OUT/client.out" 2>"$T_OUT/pv.err" &
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
t0=$(now_ms)
touch "$sync/go"
wait_sync "$sync/open" 120 "$run" || client_failed "the $N connections did not all open"
topen=$(($(now_ms) - t0))
rss1=$(proc_kib "$epid" VmRSS)
fd1=$(fd_count "$epid")
echo "engine pid $epid: before: VmRSS ${rss0} KiB, $fd0 fds; $N open after ${topen} ms:" \
	"VmRSS ${rss1} KiB, $fd1 fds"
per=$(((rss1 - rss0) * 1024 / N))
echo "engine memory per connection: $per bytes ($(((rss1 - rss0) / 1024)) MiB for $N)"
[ "$fd1" -ge $((fd0 + N)) ] || fail "engine has $fd1 fds with $N flows open (baseline $fd0)"
[ "$per" -le $((128 * 1024)) ] || fail "engine memory per connection $per bytes > 128 KiB"

# the hold: every second, the engine and the run must still be there
end=$(($(now_ms) + HOLD * 1000))
max=$rss1
while [ "$(now_ms)" -lt "$end" ]; do
	kill -0 "$run" 2>/dev/null || client_failed "the run ended during the hold"
	r=$(proc_kib "$epid" VmRSS)
	[ -n "$r" ] || client_failed "the engine is gone during the hold"
	[ "$r" -gt "$max" ] && max=$r
	sleep 1
done
fd2=$(fd_count "$epid")
[ "$fd2" -ge $((fd0 + N)) ] || fail "after the ${HOLD} s hold the engine has $fd2 fds (baseline $fd0 + $N flows)"
hwm=$(proc_kib "$epid" VmHWM)
touch "$sync/finish"
wait_pid_exit "$run" 120 || client_failed "the run did not end 120 s after the final exchanges began"
cat "$T_OUT/client.out"
grep 'stats:' "$T_OUT/pv.err" || true
assert_eq "$WAIT_RC" 0 "exit status of proxyvpn exec (the client)"
echo "held ${HOLD} s: max VmRSS ${max} KiB, VmHWM ${hwm} KiB," \
	"$fd2 fds; all $N connections alive at the end"
