#!/bin/bash
# proxyvpn test runner (called by `make check`).
#
#   tests/run-all.sh [unit|fuzz|e2e|bench|all]      (default: all)
#
# unit: every build/unit/test-* (cmocka) binary is one check; pass = exit 0.
#       No unit test binary at all is a failure.
# fuzz: every build/fuzz/fuzz-* runs 10 s over a temporary copy of
#       tests/fuzz/corpus/<name without fuzz->/ (so new inputs stay out of the
#       repo); crash/leak/timeout artifacts go to build/fuzz-artifacts/<name>/.
# e2e:  tests/e2e/run.sh if root (each e2e test is one check), else skipped.
# bench: one check, bench/smoke, if root (else skipped): bench/run.sh --quick
#       into a temp dir; passes if it produced a table with every cell filled.
# Prints "PASS name" / "FAIL name" / "SKIP name" per check and ends with
# exactly one line "N passed, N failed, N skipped"; exit 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

MODE=${1:-all}
case $MODE in
unit | fuzz | e2e | bench | all) ;;
*)
	echo "usage: tests/run-all.sh [unit|fuzz|e2e|bench|all]" >&2
	exit 2
	;;
esac

PASSED=0 FAILED=0 SKIPPED=0
TMP=$(mktemp -d "/tmp/proxyvpn-check.$$.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
skip() { echo "SKIP $1"; SKIPPED=$((SKIPPED + 1)); }
fail() { # NAME [LOGFILE]
	echo "FAIL $1"
	FAILED=$((FAILED + 1))
	if [ -n "${2:-}" ] && [ -s "$2" ]; then
		tail -n 60 "$2" | sed 's/^/    /'
	fi
}

run_unit() {
	local bin name log rc found=0
	for bin in build/unit/test-*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		found=1
		name=unit/$(basename "$bin")
		log=$TMP/$(basename "$bin").log
		rc=0
		timeout -k 5 300 "$bin" >"$log" 2>&1 </dev/null || rc=$?
		if [ "$rc" = 0 ]; then
			pass "$name"
		else
			echo "exit status $rc" >>"$log"
			fail "$name" "$log"
		fi
	done
	if [ "$found" = 0 ]; then
		echo "no unit test binary in build/unit/ (run: make unit)" >"$TMP/unit.log"
		fail unit "$TMP/unit.log"
	fi
}

run_fuzz() {
	local bin base name corpus work art log rc
	for bin in build/fuzz/fuzz-*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		base=$(basename "$bin")
		name=${base#fuzz-}
		corpus=tests/fuzz/corpus/$name
		work=$TMP/corpus-$name
		art=build/fuzz-artifacts/$name
		log=$TMP/$base.log
		mkdir -p "$work" "$art"
		if [ -d "$corpus" ]; then
			cp -R "$corpus/." "$work/"
		else
			echo "note: no seed corpus at $corpus" >>"$log"
		fi
		rc=0
		timeout -k 5 120 "$bin" -max_total_time=10 -rss_limit_mb=1024 -timeout=10 \
			-print_final_stats=1 -artifact_prefix="$art/" "$work" >>"$log" 2>&1 </dev/null || rc=$?
		if [ "$rc" = 0 ]; then
			pass "fuzz/$base"
		else
			echo "exit status $rc; artifacts (if any) in $art/" >>"$log"
			fail "fuzz/$base" "$log"
		fi
	done
}

run_e2e() {
	local line rc=1 seen=0 failed=0
	if [ "$(id -u)" != 0 ]; then
		echo "e2e: SKIPPED (needs root)"
		skip e2e
		return
	fi
	# run.sh prints "PASS|FAIL|SKIP e2e/<name>" per test plus indented details
	while IFS= read -r line; do
		case $line in
		"PASS e2e/"*) pass "${line#PASS }"; seen=1 ;;
		"FAIL e2e/"*) fail "${line#FAIL }"; seen=1; failed=1 ;;
		"SKIP e2e/"*) skip "${line#SKIP }"; seen=1 ;;
		"__E2E_RC__ "*) rc=${line#__E2E_RC__ } ;;
		*) printf '%s\n' "$line" ;;
		esac
	done < <(bash tests/e2e/run.sh 2>&1; echo "__E2E_RC__ $?")
	if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
		echo "    tests/e2e/run.sh exited $rc without reporting a failed test"
		fail e2e/run.sh
	elif [ "$seen" = 0 ]; then
		echo "    tests/e2e/run.sh reported no test"
		fail e2e/run.sh
	fi
}

run_bench() {
	local log=$TMP/bench.log rc=0
	if [ "$(id -u)" != 0 ]; then
		skip bench/smoke
		return
	fi
	timeout -k 5 150 bash bench/run.sh --quick --no-build --out "$TMP/bench" >"$log" 2>&1 </dev/null || rc=$?
	if [ "$rc" = 0 ] && bash bench/run.sh --check "$TMP/bench" >>"$log" 2>&1; then
		pass bench/smoke
	else
		echo "bench/run.sh exit status $rc" >>"$log"
		fail bench/smoke "$log"
	fi
}

case $MODE in
unit) run_unit ;;
fuzz) run_fuzz ;;
e2e) run_e2e ;;
bench) run_bench ;;
all)
	run_unit
	run_fuzz
	run_e2e
	run_bench
	;;
esac

echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
