#!/bin/bash
# limits. proxyvpn exec --max-conns 100 via the proxy of kind $1: the app
#   (stress.py limits) opens 100 connections to the echo server and holds
#   them (each does one exchange); the 101st..150th, opened at once, must
#   wait, neither refused nor accepted after 2 s (the engine drops their
#   SYNs, as a full accept queue does, and counts them deferred); the 100
#   held ones still complete an echo exchange; once the app closes 50 of
#   them, the 50 waiting ones open on their next resent SYN and echo; then
#   new connections work again (retried for at most 10 s). The stats line
#   must count >= 50 SYNs deferred at the limit and none refused (the table
#   never stayed full for TCP_FULL_RESET_MS).
#   Exits 77 (skip) if this proxyvpn has no --max-conns option.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
kind=$1
help=$({ "$E2E_PROXYVPN" exec --help 2>&1 || true; "$E2E_PROXYVPN" --help 2>&1 || true; })
if ! grep -q -- --max-conns <<<"$help"; then
	echo "SKIPPED: proxyvpn --help does not mention --max-conns"
	exit 77
fi
raise_nofile 1024
sync=$T_OUT/sync
mkdir -m 0777 "$sync"
start_stress_server "$sync"
touch "$sync/go"
rc=0
pv exec -v --max-conns 100 --proxy "$(proxy_url "$kind")" -- "$PY" "$E2E_DIR/stress.py" limits \
	"$DST4" "$STRESS_ECHO_PORT" --hold 100 --extra 50 --sync "$sync" \
	>"$T_OUT/client.out" 2>"$T_OUT/pv.err" || rc=$?
cat "$T_OUT/client.out"
grep 'stats:' "$T_OUT/pv.err" || true
[ "$rc" = 0 ] || { cat "$T_OUT/pv.err" >&2; fail "proxyvpn exec --max-conns 100 (the limits client) exited $rc"; }
refused=$(grep -ho 'refused-at-limit [0-9]*' "$T_OUT/pv.err" | awk '{ print $2 }' | head -n 1)
deferred=$(grep -ho 'deferred-at-limit [0-9]*' "$T_OUT/pv.err" | awk '{ print $2 }' | head -n 1)
[ -n "$deferred" ] || fail "no stats line with deferred-at-limit"
[ "$deferred" -ge 50 ] || fail "stats: deferred-at-limit $deferred, want >= 50"
assert_eq "$refused" 0 "stats: refused-at-limit"
grep -q 'tcp: new connections wait (.*--max-conns' "$T_OUT/pv.err" ||
	fail "no log line naming --max-conns as what new connections wait for"
echo "limits: 50 connections past --max-conns 100 waited (SYNs deferred: $deferred, none reset); the 100 carried on; the 50 opened once 50 closed"
