#!/bin/bash
# l0. The fault-injection layer exists only in the test build: the shipping
#     binary holds no fault code (no PROXYVPN_FAULT string, no fault_*
#     symbol) and ignores the variable; the fault build (make fault) names a
#     bad PROXYVPN_FAULT value in one line and exits 125.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
[ -x "$E2E_PROXYVPN_FAULT" ] || fail "no fault build at $E2E_PROXYVPN_FAULT (run: make fault)"
n=$(grep -ac PROXYVPN_FAULT "$E2E_PROXYVPN" || true)
assert_eq "$n" 0 "lines of $E2E_PROXYVPN holding the string PROXYVPN_FAULT"
[ "$(grep -ac PROXYVPN_FAULT "$E2E_PROXYVPN_FAULT" || true)" != 0 ] ||
	fail "the fault build does not mention PROXYVPN_FAULT: the check above proves nothing"
if command -v nm >/dev/null; then
	syms=$(nm "$E2E_PROXYVPN" 2>/dev/null | grep -cE ' [TtDdBb] fault_' || true)
	assert_eq "$syms" 0 "fault_* symbols in $E2E_PROXYVPN"
fi
url=$(proxy_url socks5)

# the shipping binary: the variable means nothing
rc=0
PROXYVPN_FAULT=bogus pv exec --proxy "$url" -- true 2>"$T_OUT/err" || rc=$?
assert_eq "$rc" 0 "shipping proxyvpn with PROXYVPN_FAULT=bogus: exit status"
assert_eq "$(wc -l <"$T_OUT/err")" 0 "shipping proxyvpn with PROXYVPN_FAULT=bogus: stderr lines"

pvf() { # SPEC ARGS...: the fault build with PROXYVPN_FAULT=SPEC
	local spec=$1
	shift
	n_cli timeout -k 5 30 env "PVE2E_TAG=$E2E_TAG" "PROXYVPN_FAULT=$spec" \
		"$E2E_PROXYVPN_FAULT" "$@"
}
bad() { # SPEC WANT-IN-MESSAGE
	local rc=0
	pvf "$1" exec --proxy "$url" -- true 2>"$T_OUT/err" || rc=$?
	assert_eq "$rc" 125 "fault build with PROXYVPN_FAULT='$1': exit status"
	assert_eq "$(wc -l <"$T_OUT/err")" 1 "fault build with PROXYVPN_FAULT='$1': stderr lines"
	grep -qF -- "$2" "$T_OUT/err" || fail "PROXYVPN_FAULT='$1': message '$(cat "$T_OUT/err")' lacks '$2'"
	echo "ok: PROXYVPN_FAULT='$1' -> 125: $(cat "$T_OUT/err")"
}
bad bogus "\`bogus': expected key=value"
bad "loss=101" "\`loss=101'"
bad "seed=1,in.delay=x" "\`in.delay=x'"
bad "loss=1,,dup=1" "empty item"

# the fault build with no faults configured behaves as usual and counts
rc=0
pvf "seed=1" exec -v --proxy "$url" -- curl --noproxy '*' -sS --max-time 20 -o "$T_OUT/small" \
	"http://$DST4:$HTTP_PORT/small" 2>"$T_OUT/err" || rc=$?
assert_eq "$rc" 0 "fault build, PROXYVPN_FAULT=seed=1, curl: exit status"
assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "1 MiB through the fault build without faults"
grep -q 'fault stats: in: packets [1-9][0-9]* lost 0 ' "$T_OUT/err" ||
	fail "no fault stats line: $(grep stats "$T_OUT/err")"
echo "shipping binary has no fault code; fault build rejects bad values and passes traffic"
