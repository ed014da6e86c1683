#!/bin/bash
# k. No leftovers: while `proxyvpn exec` runs, its network namespace and its
#    proxyvpn process exist (positive controls); once it is over, no process
#    of the run (proxyvpn or the command's) and no holder of that network
#    namespace is left anywhere on the machine, and no name in /run/netns
#    refers to it. Everything is checked by identity (the namespace's inode,
#    the run's environment tag), never by machine-wide counts or lists, so
#    other work on the machine (other suites adding and removing their own
#    named namespaces) cannot make it flaky. (run.sh also checks processes
#    after every test.)
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
ready=$T_OUT/ready go=$T_OUT/go
pv exec --proxy "$(proxy_url socks5)" -- sh -c \
	"curl --noproxy '*' -sS --max-time 30 -o '$T_OUT/small' http://$DST4:$HTTP_PORT/small && echo \$\$ > '$ready.tmp' && mv '$ready.tmp' '$ready' &&
	 timeout 60 sh -c 'until [ -e \"$go\" ]; do sleep 0.05; done'" </dev/null >"$T_OUT/out" 2>&1 &
app=$!
track_pid "$app"
wait_file "$ready" 60 || { cat "$T_OUT/out"; fail "command did not start or its download failed"; }
cmd_pid=$(cat "$ready")
ns=$(readlink "/proc/$cmd_pid/ns/net") || fail "cannot read the command's network namespace"
[ "$ns" != "$(readlink /proc/self/ns/net)" ] || fail "the command runs in our own network namespace"
lsns -n -t net -o NS | grep -qx "${ns//[^0-9]/}" || fail "lsns does not list the run's namespace $ns"
ours_pv() { # pids of proxyvpn processes of this run
	local p
	for p in $(pgrep -x proxyvpn); do
		grep -qzxF "PVE2E_TAG=$E2E_TAG" "/proc/$p/environ" 2>/dev/null && echo "$p"
	done
}
[ -n "$(ours_pv)" ] || fail "no proxyvpn process of this run while it runs"
touch "$go"
wait_pid_exit "$app" 30 || fail "proxyvpn did not exit after its command did"
assert_eq "$WAIT_RC" 0 "exit status"
assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "download"
deadline=$(($(now_ms) + 5000))
while :; do
	problems=""
	! lsns -n -t net -o NS | grep -qx "${ns//[^0-9]/}" || problems+="namespace $ns still held; "
	for f in /run/netns/*; do
		[ "$(stat -L -c %i "$f" 2>/dev/null)" != "${ns//[^0-9]/}" ] ||
			problems+="the run's namespace is named ${f##*/}; "
	done
	[ -z "$(ours_pv)" ] || problems+="proxyvpn still running; "
	[ -z "$(tagged_pids)" ] || problems+="processes of the run remain; "
	[ -z "$problems" ] && break
	[ "$(now_ms)" -lt "$deadline" ] || fail "5 s after exit: $problems"
	sleep 0.1
done
echo "namespace $ns existed during the run and is gone after it; no process left"
