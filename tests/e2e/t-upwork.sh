#!/bin/bash
# upwork: host mode with several engines (`up --workers 2`, SOCKS5). The
# parent holds both TUN queues and the engine child gets both (two
# /dev/net/tun fds in each, two threads in the engine); 200 concurrent TCP
# flows (each a unique 16 KiB echo, checked by client.py) go through while
# direct TCP and UDP probes leak nothing (counted at PRX, with a positive
# control before up); `status --json` sums both engines' counters (sessions
# >= 200: one engine alone cannot have them all but with chance 2^-199);
# SIGKILL of the engine child: a new one serves within 2 s with both queues,
# 200 more flows, zero leaks; SIGTERM: each engine logs its sessions, both
# non-zero (the flows spread over both queues), the summed stats line says
# their sum; no link and no nft table left.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

URL=$(proxy_url socks5)
SD=$T_OUT/state
UDP_PORT=9999
UP_PID=""
LOGF=$T_OUT/up.log

n_prx nft -f - <<EOF || fail "cannot add the counter table in PRX"
table inet pve2eupw {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "r0" tcp dport $HTTP_PORT counter
		iifname "r0" udp dport $UDP_PORT counter
	}
}
EOF
on_exit "n_prx nft delete table inet pve2eupw"
leak_count() {
	n_prx nft list chain inet pve2eupw pre | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' |
		awk '{ n += $1 } END { print n + 0 }'
}
# one direct TCP attempt and one UDP datagram to DST (not via any proxy)
probe() {
	n_cli timeout 5 curl -sS --noproxy '*' --max-time 1 -o /dev/null "$SMALL" 2>/dev/null || true
	n_cli timeout 5 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"leak?", (sys.argv[1], int(sys.argv[2])))
except OSError:
    pass
' "$DST4" "$UDP_PORT"
}
wait_log() { # PATTERN SECONDS: bounded wait for a line in the log while up runs
	local deadline=$(($(now_ms) + $2 * 1000))
	until grep -q "$1" "$LOGF" 2>/dev/null; do
		kill -0 "$UP_PID" 2>/dev/null || return 1
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}
engine_of() { pgrep -P "$UP_PID" -x proxyvpn | head -n 1; }
tun_fds() { # PID: how many /dev/net/tun fds it holds
	local n=0 f
	for f in /proc/"$1"/fd/*; do
		[ "$(readlink "$f" 2>/dev/null)" = /dev/net/tun ] && n=$((n + 1))
	done
	echo "$n"
}
flows() { # WHAT
	n_cli timeout 120 "$PY" "$E2E_DIR/client.py" concurrent "$DST4" "$ECHO_PORT" -n 200 \
		>"$T_OUT/flows.out" 2>&1 || fail "$1: 200 concurrent flows: $(tail -n 3 "$T_OUT/flows.out")"
}
# "TUN queue Q: sessions N" of each engine, N one per line (queue order)
sessions() { grep -o 'TUN queue [0-9]*: sessions [0-9]*' "$LOGF" | sort -k3n | sed 's/.* sessions //'; }

SMALL="http://$DST4:$HTTP_PORT/small"
l0=$(leak_count)
probe
sleep 0.2
[ "$(($(leak_count) - l0))" -ge 2 ] || fail "control: direct probes before up are not counted at PRX"

ip netns exec "$E2E_NS_CLI" env "PVE2E_TAG=$E2E_TAG" "$E2E_PROXYVPN" up --workers 2 \
	--proxy "$URL" --tun pvpn0 --state-dir "$SD" -v >"$LOGF" 2>&1 &
UP_PID=$!
track_pid "$UP_PID"
wait_log "up: ready: " 10 || fail "up --workers 2 not ready: $(tail -n 5 "$LOGF")"
eng=$(engine_of)
[ -n "$eng" ] || fail "no engine child of up pid $UP_PID"
assert_eq "$(tun_fds "$UP_PID")" 2 "TUN queue fds the parent holds"
assert_eq "$(tun_fds "$eng")" 2 "TUN queue fds the engine got"
nth=$(ls /proc/"$eng"/task | wc -l)
if [ -n "${E2E_TSAN:-}" ]; then
	# ThreadSanitizer runs threads of its own in a child of fork()
	[ "$nth" -ge 2 ] || fail "engine threads (queue 0 + one worker + TSan's): $nth"
else
	assert_eq "$nth" 2 "engine threads (queue 0 + one worker)"
fi

# (1) 200 flows over both queues; probes meanwhile leak nothing
l0=$(leak_count)
flows "up --workers 2"
probe
sleep 0.2
assert_eq "$(($(leak_count) - l0))" 0 "packets counted at PRX with up --workers 2"
# status sums both engines: the worker publishes its counters every 500 ms
deadline=$(($(now_ms) + 3000))
while :; do
	n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" >"$T_OUT/status.json" ||
		fail "status --json exit $?"
	total=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["live"]["engine"]["sessions_total"])' \
		"$T_OUT/status.json") || fail "status --json: $(head -c 2000 "$T_OUT/status.json")"
	[ "$total" -ge 200 ] && break
	[ "$(now_ms)" -lt "$deadline" ] || fail "status --json: sessions_total $total < 200 (not summed?)"
	sleep 0.1
done
log "status --json: sessions_total $total over both engines"

# (2) SIGKILL of the engine child: a new one, both queues again, 200 flows
kill -KILL "$eng"
wait_log "engine restarted" 2 || fail "no new engine within 2 s: $(tail -n 5 "$LOGF")"
neng=$(engine_of)
[ -n "$neng" ] && [ "$neng" != "$eng" ] || fail "no new engine pid (old $eng, now '$neng')"
assert_eq "$(tun_fds "$neng")" 2 "TUN queue fds the restarted engine got"
assert_eq "$(tun_fds "$UP_PID")" 2 "TUN queue fds the parent holds after the restart"
l0=$(leak_count)
flows "up --workers 2 after an engine SIGKILL"
probe
sleep 0.2
assert_eq "$(($(leak_count) - l0))" 0 "packets counted at PRX after the engine's restart"

# (3) SIGTERM: the workers stop first, each engine logs its sessions
kill -TERM "$UP_PID"
wait_pid_exit "$UP_PID" 10 || fail "up did not exit on SIGTERM"
assert_eq "$WAIT_RC" 0 "up --workers 2 exit status after SIGTERM"
n_cli ip link show pvpn0 >/dev/null 2>&1 && fail "pvpn0 left after teardown"
n_cli nft list table inet proxyvpn >/dev/null 2>&1 && fail "nft table left after teardown"
s=$(sessions | paste -sd' ')
log "restarted engine: sessions per queue: $s"
[[ $s =~ ^[1-9][0-9]*\ [1-9][0-9]*$ ]] || fail "flows not on both queues (sessions: '$s')"
assert_eq "$(grep -o 'stats: packets .* sessions [0-9]*' "$LOGF" | tail -n 1 | sed 's/.* sessions //')" \
	"$(($(sessions | paste -sd+)))" "sessions in the summed stats line"
log "up --workers 2: 2x200 flows over both queues, restart after SIGKILL, 0 leaks, clean teardown"
