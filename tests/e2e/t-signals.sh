#!/bin/bash
# i. SIGTERM/SIGINT/SIGHUP sent to proxyvpn while the command runs are
#    forwarded: proxyvpn exits 128+N within 5 s and nothing of the run remains.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
# Background jobs of a non-interactive shell start with SIGINT ignored; reset
# it so proxyvpn starts as it would from a terminal (exec keeps the pid).
reset_sigint='import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])'
for spec in TERM:143 INT:130 HUP:129; do
	sig=${spec%:*} want=${spec#*:}
	dur="31.$$${RANDOM}"
	ip netns exec "$E2E_NS_CLI" env "PVE2E_TAG=$E2E_TAG" "$PY" -c "$reset_sigint" \
		"$E2E_PROXYVPN" exec --proxy "$(proxy_url socks5)" -- sleep "$dur" </dev/null >"$T_OUT/out" 2>"$T_OUT/err" &
	pid=$!
	track_pid "$pid"
	deadline=$(($(now_ms) + 20000))
	until pgrep -f "^sleep $dur\$" >/dev/null; do
		if [ "$(now_ms)" -ge "$deadline" ] || ! kill -0 "$pid" 2>/dev/null; then
			cat "$T_OUT/err" >&2
			fail "the command (sleep $dur) never started"
		fi
		sleep 0.05
	done
	assert_eq "$(cat "/proc/$pid/comm")" proxyvpn "process signalled"
	t0=$(now_ms)
	kill "-$sig" "$pid"
	wait_pid_exit "$pid" 10 || fail "proxyvpn still running 10 s after SIG$sig"
	dt=$(($(now_ms) - t0))
	assert_eq "$WAIT_RC" "$want" "exit status after SIG$sig"
	[ "$dt" -le 5000 ] || fail "proxyvpn took ${dt} ms to exit after SIG$sig"
	deadline=$(($(now_ms) + 5000))
	while left=$(tagged_pids) && [ -n "$left" ]; do
		[ "$(now_ms)" -lt "$deadline" ] ||
			fail "after SIG$sig, still running: $(ps -o pid=,args= -p "$(paste -sd, <<<"$left")")"
		sleep 0.05
	done
	pgrep -f "^sleep $dur\$" >/dev/null && fail "sleep $dur survived SIG$sig"
	echo "SIG$sig: exit $WAIT_RC after ${dt} ms, nothing left"
done
