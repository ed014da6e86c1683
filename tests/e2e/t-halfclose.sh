#!/bin/bash
# e. Half-close both directions through the proxy of kind $1 (the
#    half-close-preserving hcproxy: microsocks/tinyproxy close the whole
#    tunnel on the first FIN).
#    hc1: app sends 1 MiB + SHUT_WR, then must receive the server's 1 MiB.
#    hc2: server sends 1 MiB + SHUT_WR; app reads EOF, then sends 1 MiB; the
#         server logs the sha256 of what it got after its own shutdown.
. "$(dirname "$0")/lib.sh"
test_init
kind=$1
out=$T_OUT/client.out
rc=0
app_run "$kind" -- "$PY" "$E2E_DIR/client.py" halfclose "$DST4" "$HC1_PORT" "$HC2_PORT" >"$out" || rc=$?
cat "$out"
[ "$rc" = 0 ] || fail "half-close client exited $rc"
read -r _ n sha < <(grep '^hc2-sent ' "$out") || fail "client did not report what it sent"
# the server appends its line once it has read EOF: bounded wait for it
deadline=$(($(now_ms) + 10000))
until grep -q " $sha " "$E2E_TMP/srv/hc2.log"; do
	[ "$(now_ms)" -lt "$deadline" ] || {
		cat "$E2E_TMP/srv/hc2.log" >&2
		fail "hc2 server never received the app's $n bytes (sha256 $sha)"
	}
	sleep 0.05
done
line=$(grep " $sha " "$E2E_TMP/srv/hc2.log")
assert_eq "$line" "hc2 $n $sha ok" "hc2 server record"
echo "half-close via $kind: both directions byte-exact"
