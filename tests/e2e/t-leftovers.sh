#!/bin/bash
# k. No leftovers: while `proxyvpn exec` runs, its network namespace is
#    visible (positive control for the count); once it is over, no proxyvpn
#    process, no process of the run, and the same network namespaces as before.
#    (run.sh also checks this after every test.)
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
base_lsns=$(count_netns)
base_named=$(ip netns list)
base_pv=$(count_pv)
ready=$T_OUT/ready go=$T_OUT/go
pv exec --proxy "$(proxy_url socks5)" -- sh -c \
	"curl --noproxy '*' -sS --max-time 30 -o '$T_OUT/small' http://$DST4:$HTTP_PORT/small && echo up > '$ready' &&
	 timeout 60 sh -c 'until [ -e \"$go\" ]; do sleep 0.05; done'" </dev/null >"$T_OUT/out" 2>&1 &
app=$!
track_pid "$app"
wait_file "$ready" 60 || { cat "$T_OUT/out"; fail "command did not start or its download failed"; }
during=$(count_netns)
[ "$during" -gt "$base_lsns" ] || fail "lsns shows no extra network namespace while proxyvpn runs ($during vs $base_lsns)"
[ "$(count_pv)" -gt "$base_pv" ] || fail "pgrep does not see proxyvpn while it runs"
touch "$go"
wait_pid_exit "$app" 30 || fail "proxyvpn did not exit after its command did"
assert_eq "$WAIT_RC" 0 "exit status"
assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "download"
deadline=$(($(now_ms) + 5000))
while :; do
	problems=""
	[ "$(count_netns)" -le "$base_lsns" ] || problems+="network namespaces $(count_netns) > $base_lsns; "
	[ "$(ip netns list)" = "$base_named" ] || problems+="named network namespaces changed; "
	[ "$(count_pv)" -le "$base_pv" ] || problems+="proxyvpn still running; "
	[ -z "$(tagged_pids)" ] || problems+="processes of the run remain; "
	[ -z "$problems" ] && break
	[ "$(now_ms)" -lt "$deadline" ] || fail "5 s after exit: $problems"
	sleep 0.1
done
echo "netns during run: $during (baseline $base_lsns); after: back to baseline"
