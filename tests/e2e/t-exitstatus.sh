#!/bin/bash
# i. Exit status of `proxyvpn exec`: the command's status, 128+N if it was
#    killed by signal N, 127 not found, 126 not executable.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
url=$(proxy_url socks5)
expect() { # WANT ARGS...
	local want=$1 rc=0
	shift
	pv exec --proxy "$url" -- "$@" </dev/null >"$T_OUT/out" 2>"$T_OUT/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		cat "$T_OUT/err" >&2
		fail "proxyvpn exec -- $*: exit $rc, want $want"
	fi
	echo "ok: exec -- $* -> $rc"
}
expect 0 true
expect 7 sh -c 'exit 7'
expect 143 sh -c 'kill -TERM $$'
expect 137 sh -c 'kill -KILL $$'
expect 127 /nonexistent
expect 127 no-such-command-pve2e
printf '#!/bin/sh\nexit 0\n' >"$T_OUT/notexec"
chmod 0644 "$T_OUT/notexec"
expect 126 "$T_OUT/notexec"
# stdout of the command reaches proxyvpn's stdout
pv exec --proxy "$url" -- sh -c 'echo hello-from-inside' </dev/null >"$T_OUT/out" 2>"$T_OUT/err" ||
	fail "echo command failed"
assert_eq "$(cat "$T_OUT/out")" hello-from-inside "command stdout"
