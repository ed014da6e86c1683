#!/bin/bash
# slow. Backpressure bounds the engine's memory (TCP_BUF_DEFAULT: 256 KiB
#   per connection each way, src/tcp.h). N connections through one proxyvpn
#   exec; the engine's VmRSS is sampled every 100 ms from outside and its
#   VmHWM read at the end:
#   reader: the app (stress.py slowread) reads each of N=16 connections at
#     100 KB/s for 12 s while the far side (stress.py serve, blast port,
#     via microsocks) sends as fast as it can; every byte is checked
#     against the pattern.
#   proxy: the proxy (stress.py socks in PRX, SO_RCVBUF 32 KiB) forwards
#     app -> destination at 1 MiB/s per connection while the app
#     (stress.py upload) writes 12 MiB into each of N=8 connections as fast
#     as it can; the sink's sha256 of each must match, all within 30 s
#     (12 s at the proxy's rate). 12 MiB is more than
#     the kernel buffers on the way (the engine's proxy socket send buffer,
#     at most tcp_wmem max = 4 MiB) can take, so the engine's rx ring fills
#     and its window must close.
#   Bound: max(VmHWM, sampled VmRSS) - VmRSS before <= N * 512 KiB + 8 MiB
#   (the rings, plus 8 MiB for everything else: conn and session structs,
#   malloc overhead, stack, the 64 KiB packet buffer; measured growth above
#   the rings: well under 1 MiB; twice that under ASan). Without backpressure the engine would hold
#   what the far side sends at ~100+ MB/s: gigabytes within the run.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
mode=$1
raise_nofile 1024
sync=$T_OUT/sync
mkdir -m 0777 "$sync"
start_stress_server "$sync"
case $mode in
reader)
	n=16
	url=$(proxy_url socks5)
	client=(slowread "$DST4" "$STRESS_BLAST_PORT" -n "$n" --rate 100000 --seconds 12)
	;;
proxy)
	n=8
	port_closed n_prx "$SLOW_SOCKS_PORT" || fail "something already listens on PRX :$SLOW_SOCKS_PORT"
	ip netns exec "$E2E_NS_PRX" "$PY" "$E2E_DIR/stress.py" socks --listen "$PRX4" \
		--port "$SLOW_SOCKS_PORT" --rate $((1 << 20)) --rcvbuf 32768 \
		--ready "$sync/proxy.ready" >"$sync/proxy.log" 2>&1 &
	track_pid $!
	wait_sync "$sync/proxy.ready" 10 $! || { cat "$sync/proxy.log" >&2; fail "slow proxy did not start"; }
	url=socks5://$PRX4:$SLOW_SOCKS_PORT
	# 12 s at the proxy's rate; 30 s catches a flow stalled in retransmission back-off
	client=(upload "$DST4" "$STRESS_SINK_PORT" -n "$n" --size $((12 << 20)) --within 30)
	;;
*) fail "unknown mode $mode" ;;
esac

pv exec --proxy "$url" -- "$PY" "$E2E_DIR/stress.py" "${client[@]}" --sync "$sync" \
	>"$T_OUT/client.out" 2>"$T_OUT/pv.err" &
run=$!
track_pid "$run"
client_failed() {
	cat "$T_OUT/client.out" "$T_OUT/pv.err" >&2
	fail "$*"
}
wait_sync "$sync/ready" 30 "$run" || client_failed "the client did not start"
epid=$(engine_pid) || client_failed "cannot find the engine's pid"
rss0=$(proc_kib "$epid" VmRSS)
touch "$sync/go"
wait_sync "$sync/open" 30 "$run" || client_failed "the client did not connect"
t0=$(now_ms)
max=$rss0 samples=0
# sample until the run ends (bounded: 60 s)
while kill -0 "$run" 2>/dev/null; do
	r=$(proc_kib "$epid" VmRSS)
	[ -n "$r" ] || break # the engine has exited
	hwm=$(proc_kib "$epid" VmHWM)
	[ "$r" -gt "$max" ] && max=$r
	samples=$((samples + 1))
	[ $(($(now_ms) - t0)) -lt 60000 ] || client_failed "the run did not end within 60 s"
	sleep 0.1
done
wait_pid_exit "$run" 10 || client_failed "the run did not end"
cat "$T_OUT/client.out"
assert_eq "$WAIT_RC" 0 "exit status of proxyvpn exec (the $mode client)"
[ "${hwm:-0}" -gt "$max" ] && max=$hwm
bound=$((n * 512 + 8 * 1024)) why="$n x 512 KiB + 8 MiB"
if [ -n "${ASAN_OPTIONS:-}" ]; then
	# the ASan build (run-all's e2e-asan): every allocation carries redzones
	# and shadow, and freed blocks wait in the quarantine, so RSS grows with
	# the allocator's churn too (12.8-16.9 MiB seen for the 12 MiB bound);
	# twice the bound still tells backpressure (MiB) from none (GiB)
	bound=$((bound * 2)) why="2 x ($why) under ASan"
fi
echo "engine VmRSS before ${rss0} KiB, peak ${max} KiB (VmHWM ${hwm} KiB, $samples samples):" \
	"grew $((max - rss0)) KiB for $n connections; bound $bound KiB ($why)"
[ $((max - rss0)) -le "$bound" ] || fail "engine VmRSS grew $((max - rss0)) KiB > $bound KiB"
