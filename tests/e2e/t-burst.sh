#!/bin/bash
# burst MODE (up | exec | workers): E2E_BURST_N (2,000) connections opened at
#   once (stress.py many --inflight N: every connect started together)
#   through dante, with default limits, each echoing once at once and again
#   after E2E_BURST_HOLD s (2): all must be held and echo, none refused or
#   reset (the client fails on any error: a waiting connection's SYN is
#   never answered with an RST). So that flows wait for the handshake window
#   whatever the machine's pace, dante takes no SYN (nftables in PRX) from
#   the go until the engine logs that connections wait for their proxy
#   handshake (its once-a-minute line at the default level: the first flow
#   held), then takes them again: the engine counts the flows that waited
#   (waited-for-proxy / engine.sessions_held > 0).
#   MODE up: `proxyvpn up` (defaults), the client as an app in CLI; then
#   `status --json` shows the limits (from the open-files limit and memory),
#   the held flows, no RST sent (tcp.rst_out 0); then two proxies that do
#   not keep up, made from dante with nftables in PRX:
#   - slow: SYNs to dante dropped for 2.5 s (a listener that stops
#     accepting) while 600 connections open: the window loses (losses up,
#     its size halved), and all 600 still open and echo once SYNs pass;
#   - refusing: connects to dante reset while 40 connections are tried one
#     after another: each is refused (ECONNREFUSED), the window falls to
#     its floor (4); then, with dante back, 300 connections opened at once
#     all work and the window grows from 4.
#   MODE exec: `proxyvpn exec` (defaults); MODE workers: exec --workers 2:
#   the burst only, the counters from the stats lines.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
mode=$1
N=${E2E_BURST_N:-2000}
HOLD=${E2E_BURST_HOLD:-2}
raise_nofile $((2 * N + 1000))
sync=$T_OUT/sync
mkdir -m 0777 "$sync"
start_stress_server "$sync"
URL=$(proxy_url socks5-dante)

n_prx nft -f - <<EOF || fail "cannot add the table in PRX"
table inet pve2eburst {
	chain in {
		type filter hook input priority -10; policy accept;
	}
}
EOF
on_exit "n_prx nft delete table inet pve2eburst"
block_syn() { n_prx nft add rule inet pve2eburst in tcp dport "$DANTE_PORT" "tcp flags & (syn | ack) == syn" drop; }
unblock() { n_prx nft flush chain inet pve2eburst in; }
WAITING='proxy: [0-9]* connection(s) wait for their proxy handshake'
# wait_line PATTERN FILE SECONDS PID: bounded wait for a log line while PID runs
wait_line() {
	local deadline=$(($(now_ms) + $3 * 1000))
	until grep -q "$1" "$2" 2>/dev/null; do
		kill -0 "$4" 2>/dev/null || return 1
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# burst_args N: stress.py many, N connects at once
burst_args() { echo "$E2E_DIR/stress.py many $DST4 $STRESS_ECHO_PORT -n $1 --inflight $1 --sync $sync --finish-timeout 120"; }
client_failed() {
	cat "$T_OUT/client.out" "$T_OUT/pv.err" 2>/dev/null | tail -n 40 >&2
	fail "$*"
}

# ---- exec, workers ----
if [ "$mode" != up ]; then
	extra=()
	[ "$mode" = workers ] && extra=(--workers 2)
	# shellcheck disable=SC2046 # burst_args is split on purpose
	pv exec -v "${extra[@]}" --proxy "$URL" -- "$PY" $(burst_args "$N") \
		>"$T_OUT/client.out" 2>"$T_OUT/pv.err" &
	run=$!
	track_pid "$run"
	wait_sync "$sync/ready" 30 "$run" || client_failed "the client did not start"
	t0=$(now_ms)
	block_syn
	touch "$sync/go"
	wait_line "$WAITING" "$T_OUT/pv.err" 30 "$run" || client_failed "no connection waited for its proxy handshake"
	unblock
	wait_sync "$sync/open" 120 "$run" || client_failed "the $N connections did not all open"
	echo "$mode: $N connections opened at once: all open and echoed after $(($(now_ms) - t0)) ms"
	sleep "$HOLD" # the hold itself (what is awaited is the client's own marks)
	touch "$sync/finish"
	wait_pid_exit "$run" 120 || client_failed "the run did not end"
	cat "$T_OUT/client.out"
	grep 'stats:' "$T_OUT/pv.err" || true
	assert_eq "$WAIT_RC" 0 "exit status of proxyvpn exec (the burst client)"
	held=$(grep -ho 'waited-for-proxy [0-9]*' "$T_OUT/pv.err" | awk '{ print $2 }' | head -n 1)
	refused=$(grep -ho 'refused-at-limit [0-9]*' "$T_OUT/pv.err" | awk '{ print $2 }' | head -n 1)
	[ -n "$held" ] || fail "no stats line with waited-for-proxy"
	[ "$held" -gt 0 ] || fail "no flow waited for the handshake window in a burst of $N"
	assert_eq "$refused" 0 "stats: refused-at-limit"
	echo "$mode: $held of $N flows waited for their proxy handshake; none refused"
	exit 0
fi

# ---- up ----
SD=$T_OUT/state
UP_PID=""
up_start "$T_OUT/up.log"
status_json() { n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" >"$T_OUT/status.json"; }
# jq-less: one python expression over the live part, printed
live() { status_json && "$PY" -c 'import json, sys; l = json.load(open(sys.argv[1]))["live"]; print(eval(sys.argv[2]))' "$T_OUT/status.json" "$1"; }

# shellcheck disable=SC2046 # burst_args is split on purpose
n_cli env "PVE2E_TAG=$E2E_TAG" "$PY" $(burst_args "$N") >"$T_OUT/client.out" 2>&1 &
run=$!
track_pid "$run"
wait_sync "$sync/ready" 30 "$run" || client_failed "the client did not start"
epid=$(pgrep -P "$UP_PID" -x proxyvpn | head -n 1)
rss0=$(proc_kib "$epid" VmRSS)
t0=$(now_ms)
block_syn
touch "$sync/go"
wait_line "$WAITING" "$T_OUT/up.log" 30 "$run" || client_failed "no connection waited for its proxy handshake"
unblock
wait_sync "$sync/open" 120 "$run" || client_failed "the $N connections did not all open"
topen=$(($(now_ms) - t0))
rss1=$(proc_kib "$epid" VmRSS)
echo "up: $N connections opened at once: all open and echoed after $topen ms;" \
	"engine VmRSS $rss0 -> $rss1 KiB ($(((rss1 - rss0) * 1024 / N)) bytes per connection)"
# every connect answered, none with an RST: no waiting flow was reset
assert_eq "$(live 'l["tcp"]["rst_out"]')" 0 "status --json: tcp.rst_out (RSTs sent to apps) with all $N open"
held=$(live 'l["engine"]["sessions_held"]')
sleep "$HOLD"
touch "$sync/finish"
wait_pid_exit "$run" 120 || client_failed "the run did not end"
cat "$T_OUT/client.out"
assert_eq "$WAIT_RC" 0 "exit status of the burst client"
live 'l["limits"]' || fail "status --json"
[ "$(live 'l["limits"]["max_conns"] > 0 and l["limits"]["max_pending"] > 0 and l["limits"]["open_files"] > 0')" = True ] ||
	fail "status --json: limits missing: $(live 'l["limits"]')"
[ "$held" -gt 0 ] || fail "status --json: engine.sessions_held $held after a burst of $N"
echo "up: $held of $N flows waited for their proxy handshake, no RST sent; window $(live 'l["window"]')"

# ---- a proxy that stops accepting for 2.5 s ----
rm -f "$sync"/{ready,go,open,finish}
block_syn
# shellcheck disable=SC2046 # burst_args is split on purpose
n_cli env "PVE2E_TAG=$E2E_TAG" "$PY" $(burst_args 600) >"$T_OUT/client.out" 2>&1 &
run=$!
track_pid "$run"
wait_sync "$sync/ready" 30 "$run" || client_failed "the client did not start"
lost0=$(live 'l["window"]["losses"]')
size0=$(live 'l["window"]["size"]')
touch "$sync/go"
sleep 2.5 # how long the proxy does not accept: the condition itself, not a wait for one
unblock
wait_sync "$sync/open" 60 "$run" || client_failed "the 600 connections did not all open after the proxy took SYNs again"
touch "$sync/finish"
wait_pid_exit "$run" 60 || client_failed "the run did not end"
assert_eq "$WAIT_RC" 0 "exit status of the client (slow proxy)"
w=$(live 'l["window"]')
echo "slow proxy: all 600 open and echoed; window $w"
[ "$(live "l['window']['losses'] > $lost0 and l['window']['size'] < $size0")" = True ] ||
	fail "the window ($size0 before) did not shrink while the proxy took no SYNs: $w"

# ---- a proxy that refuses connects ----
n_prx nft add rule inet pve2eburst in tcp dport "$DANTE_PORT" reject with tcp reset
# one after another: each refusal is of a handshake started after the last halving
n_cli timeout 60 "$PY" - "$DST4" "$STRESS_ECHO_PORT" 40 <<'PYEOF' || fail "refusing proxy: the apps were not refused"
import socket, sys
kinds = {}
for _ in range(int(sys.argv[3])):
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), 30).close()
        k = "accepted"
    except ConnectionRefusedError:
        k = "refused"
    except OSError as e:
        k = str(e)
    kinds[k] = kinds.get(k, 0) + 1
print("refusing proxy: %s" % kinds)
sys.exit(0 if list(kinds) == ["refused"] else 1)
PYEOF
w=$(live 'l["window"]')
[ "$(live 'l["window"]["size"] == 4 and l["window"]["lowest"] == 4')" = True ] ||
	fail "the window is not at its floor (4) after the proxy refused 40 connects: $w"
unblock
rm -f "$sync"/{ready,go,open,finish}
# shellcheck disable=SC2046 # burst_args is split on purpose
n_cli env "PVE2E_TAG=$E2E_TAG" "$PY" $(burst_args 300) >"$T_OUT/client.out" 2>&1 &
run=$!
track_pid "$run"
wait_sync "$sync/ready" 30 "$run" || client_failed "the client did not start"
touch "$sync/go"
wait_sync "$sync/open" 60 "$run" || client_failed "the 300 connections did not all open with the proxy back"
touch "$sync/finish"
wait_pid_exit "$run" 60 || client_failed "the run did not end"
assert_eq "$WAIT_RC" 0 "exit status of the client (proxy back)"
w2=$(live 'l["window"]')
[ "$(live 'l["window"]["size"] > 4')" = True ] || fail "the window did not grow from its floor: $w2"
echo "refusing proxy: 40 refused, window at its floor $w; proxy back: 300 open, window $w2"
kill -TERM "$UP_PID"
wait_pid_exit "$UP_PID" 10 || fail "up did not exit within 10 s of SIGTERM"
assert_eq "$WAIT_RC" 0 "up exit status after SIGTERM"
grep 'stats:' "$T_OUT/up.log" || true
