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

# COMMAND --help: that command's help alone, on stdout, exit 0.
for cmd in exec up down status; do
	rc=0
	pv "$cmd" --help >"$T_OUT/out" 2>"$T_OUT/err" || rc=$?
	assert_eq "$rc" 0 "proxyvpn $cmd --help exit status"
	[ ! -s "$T_OUT/err" ] || fail "proxyvpn $cmd --help wrote to stderr: $(cat "$T_OUT/err")"
	head -n 1 "$T_OUT/out" | grep -q "^proxyvpn $cmd " || fail "proxyvpn $cmd --help: $(head -n 1 "$T_OUT/out")"
	n=$(grep -c "^proxyvpn \(exec\|up\|down\|status\) " "$T_OUT/out")
	want=1
	[ "$cmd" = exec ] && want=2 # exec's two forms (COMMAND, --check-leaks)
	assert_eq "$n" "$want" "synopsis lines in proxyvpn $cmd --help (its own only)"
	grep -q "^Commands:" "$T_OUT/out" && fail "proxyvpn $cmd --help printed the overview"
	echo "ok: proxyvpn $cmd --help: $(wc -l <"$T_OUT/out") lines, its own"
done
pv --help >"$T_OUT/out" || fail "proxyvpn --help"
assert_eq "$(grep -c "^proxyvpn \(exec\|up\|down\|status\) " "$T_OUT/out")" 5 "synopses in proxyvpn --help"

# A state directory made by hand (root's, 0755): up, down and status say
# what they found, what is needed and what to do; for another user too.
sd=$T_OUT/sd
mkdir -m 0755 "$sd"
chmod 0755 "$T_OUT"
for cmd in up down status; do
	rc=0
	pv "$cmd" --state-dir "$sd" </dev/null >/dev/null 2>"$T_OUT/err" || rc=$?
	assert_eq "$rc" 1 "proxyvpn $cmd with a 0755 state dir: exit status"
	grep -qF "state directory \`$sd' has mode 0755; it must be 0700" "$T_OUT/err" &&
		grep -qF "chmod 0700 '$sd'" "$T_OUT/err" ||
		fail "proxyvpn $cmd with a 0755 state dir: $(cat "$T_OUT/err")"
	echo "ok: $cmd: $(cat "$T_OUT/err")"
done
rc=0
n_cli setpriv --reuid=65534 --regid=65534 --clear-groups "$E2E_PROXYVPN" status --state-dir "$sd" \
	>/dev/null 2>"$T_OUT/err" || rc=$?
assert_eq "$rc" 1 "status as nobody with root's state dir: exit status"
grep -qF "state directory \`$sd' is owned by root (uid 0) with mode 0755; it must be owned by nobody (uid 65534)" "$T_OUT/err" ||
	fail "status as nobody with root's state dir: $(cat "$T_OUT/err")"
echo "ok: status as nobody: $(cat "$T_OUT/err")"
