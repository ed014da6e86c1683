#!/bin/bash
# e2. Fire and forget: the command writes 50 MiB into a socket and exits at
#     once (socat -u closes after its last write; the app's kernel still
#     holds megabytes unsent). proxyvpn must keep relaying until that data
#     and the FIN have reached the proxy before it tears the namespace down:
#     the sink's sha256 of what it received must equal the file's.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
kind=$1
rc=0
app_run "$kind" -- socat -u "OPEN:$E2E_TMP/www/big" "TCP:$DST4:$SINK_PORT" || rc=$?
assert_eq "$rc" 0 "exit status of the fire-and-forget command"
deadline=$(($(now_ms) + 20000))
until grep -q " $E2E_BIG_SHA " "$E2E_TMP/srv/sink.log"; do
	[ "$(now_ms)" -lt "$deadline" ] || {
		cat "$E2E_TMP/srv/sink.log" >&2
		fail "the sink never received the 50 MiB the command wrote before exiting"
	}
	sleep 0.05
done
line=$(grep " $E2E_BIG_SHA " "$E2E_TMP/srv/sink.log" | head -n 1)
assert_eq "$line" "sink 52428800 $E2E_BIG_SHA ok" "sink record"
echo "fire-and-forget via $kind: all 50 MiB delivered after the command exited"
