#!/bin/bash
# i. Usage errors exit 2, print exactly one line on stderr that names the bad
#    value (for a proxy URL, what is wrong with it), and never run the command.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
ran=$T_OUT/ran
usage() { # WHAT-MUST-BE-NAMED ARGS...
	local name=$1 rc=0 lines
	shift
	pv "$@" </dev/null >"$T_OUT/out" 2>"$T_OUT/err" || rc=$?
	lines=$(wc -l <"$T_OUT/err")
	[ "$rc" = 2 ] || { cat "$T_OUT/err" >&2; fail "proxyvpn $*: exit $rc, want 2"; }
	[ "$lines" = 1 ] || { cat "$T_OUT/err" >&2; fail "proxyvpn $*: $lines lines on stderr, want 1"; }
	if [ -n "$name" ] && ! grep -qF -- "$name" "$T_OUT/err"; then
		fail "proxyvpn $*: stderr does not name '$name': $(cat "$T_OUT/err")"
	fi
	[ ! -e "$ran" ] || fail "proxyvpn $*: the command ran despite the usage error"
	echo "ok: proxyvpn $* -> 2: $(cat "$T_OUT/err")"
}
good=$(proxy_url socks5)
usage --bogus exec --bogus -- touch "$ran"
usage "" exec --proxy "$good" touch "$ran"
usage "" exec --proxy "$good" --
# a proxy URL is never quoted (it may hold a password): the reason is named
usage "port must be 1-65535" exec --proxy socks5://h:0 -- touch "$ran"
usage "unknown scheme" exec --proxy ftp://h:1 -- touch "$ran"
usage abc exec --mtu abc --proxy "$good" -- touch "$ran"
usage --check-leaks exec --check-leaks --proxy "$good" -- touch "$ran"
usage bogus-subcommand bogus-subcommand
