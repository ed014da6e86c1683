#!/bin/bash
# proxyvpn test runner (called by `make check`).
#
#   tests/run-all.sh [static|unit|fuzz|e2e|e2e-asan|e2e-tsan|bench|all]      (default: all)
#
# static: scripts/check-layout.sh (include boundaries of src/) and
#       scripts/check-format.sh (clang-format), one check each.
# unit: every build/unit/test-* (cmocka) binary is one check; pass = exit 0.
#       No unit test binary at all is a failure.
# fuzz: every build/fuzz/fuzz-* runs 10 s over a temporary copy of
#       tests/fuzz/corpus/<name without fuzz->/ (so new inputs stay out of the
#       repo); crash/leak/timeout artifacts go to build/fuzz-artifacts/<name>/.
# e2e:  tests/e2e/run.sh if root (each e2e test is one check), else skipped.
# e2e-asan: the e2e suite once more against build/asan/proxyvpn (make asan:
#       ASan+UBSan, LeakSanitizer on at exit), minus the tests that are
#       volume rather than function (ASAN_SKIP below: the 4 lossy 100 MiB
#       transfers, 5000 connections, connection churn: ~3x their plain time
#       under ASan for no code path the rest does not run), and valgrind
#       (which cannot run an ASan binary). Sanitizer reports go to files
#       (log_path); any file fails e2e-asan/reports, even if the test that
#       caused it passed. e2e-asan/control first proves a report lands there.
#       E2E_ASAN_TESTS="name..." runs only those.
# e2e-tsan: the e2e tests that run engine threads (TSAN_TESTS below: exec
#       and up with --workers 2, DNS over TCP from 16 connections) against
#       build/tsan/proxyvpn (make tsan: ThreadSanitizer). Reports go to
#       files (log_path); any file fails e2e-tsan/reports. e2e-tsan/control
#       first proves a data race between two threads lands there.
#       E2E_TSAN_TESTS="name..." runs only those.
# bench: one check, bench/smoke, if root (else skipped): bench/run.sh --quick
#       into a temp dir; passes if it produced a table with every cell filled.
# Prints "PASS name" / "FAIL name" / "SKIP name" per check and ends with
# exactly one line "N passed, N failed, N skipped"; exit 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

MODE=${1:-all}
case $MODE in
static | unit | fuzz | e2e | e2e-asan | e2e-tsan | bench | all) ;;
*)
	echo "usage: tests/run-all.sh [static|unit|fuzz|e2e|e2e-asan|e2e-tsan|bench|all]" >&2
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

run_static() {
	local log=$TMP/layout.log
	if scripts/check-layout.sh >"$log" 2>&1; then
		pass static/layout
	else
		fail static/layout "$log"
	fi
	log=$TMP/format.log
	if make -s format-check >"$log" 2>&1; then
		pass static/format
	else
		fail static/format "$log"
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

# run_e2e [LABEL [TEST...]]: the suite (or the named tests); results are
# reported as LABEL/<name> (default e2e). The caller's environment (PROXYVPN,
# ASAN_OPTIONS) reaches run.sh.
run_e2e() {
	local label=${1:-e2e} line rc=1 seen=0 failed=0
	shift || true
	if [ "$(id -u)" != 0 ]; then
		echo "$label: SKIPPED (needs root)"
		skip "$label"
		return
	fi
	# run.sh prints "PASS|FAIL|SKIP e2e/<name>" per test plus indented details
	while IFS= read -r line; do
		case $line in
		"PASS e2e/"*) pass "$label/${line#PASS e2e/}"; seen=1 ;;
		"FAIL e2e/"*) fail "$label/${line#FAIL e2e/}"; seen=1; failed=1 ;;
		"SKIP e2e/"*) skip "$label/${line#SKIP e2e/}"; seen=1 ;;
		"__E2E_RC__ "*) rc=${line#__E2E_RC__ } ;;
		*) printf '%s\n' "$line" ;;
		esac
	done < <(bash tests/e2e/run.sh "$@" 2>&1; echo "__E2E_RC__ $?")
	if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
		echo "    tests/e2e/run.sh exited $rc without reporting a failed test"
		fail "$label/run.sh"
	elif [ "$seen" = 0 ]; then
		echo "    tests/e2e/run.sh reported no test"
		fail "$label/run.sh"
	fi
}

ASAN_SKIP="lossy-down-a lossy-up-a lossy-down-b lossy-up-b many-dante churn-socks5 valgrind"

run_e2e_asan() {
	local bin=build/asan/proxyvpn names=() n rep=$TMP/asan
	if [ ! -x "$bin" ]; then
		echo "no $bin (run: make asan)" >"$TMP/asan.log"
		fail e2e-asan "$TMP/asan.log"
		return
	fi
	for n in ${E2E_ASAN_TESTS:-$(sed -n 's/^\t"\([a-z0-9-]*\) .*/\1/p' tests/e2e/run.sh)}; do
		case " $ASAN_SKIP " in *" $n "*) ;; *) names+=("$n") ;; esac
	done
	# the engine of `up` runs as an unprivileged user: it must be able to
	# write its report too
	chmod 0711 "$TMP"
	mkdir -m 1777 "$rep" "$TMP/asan-control"
	# control: the same options put an ASan report of a heap overflow in a file
	printf '#include <stdlib.h>\nint main(void){char *p = malloc(4); p[4] = 1; free(p); return 0;}\n' \
		>"$TMP/overflow.c"
	if ${CC:-cc} -fsanitize=address -o "$TMP/overflow" "$TMP/overflow.c" 2>"$TMP/asan-control.log" &&
		! ASAN_OPTIONS="log_path=$TMP/asan-control/asan" "$TMP/overflow" 2>>"$TMP/asan-control.log" &&
		grep -qs heap-buffer-overflow "$TMP"/asan-control/asan.*; then
		pass e2e-asan/control
	else
		fail e2e-asan/control "$TMP/asan-control.log"
	fi
	PROXYVPN=$PWD/$bin E2E_BUDGET=${E2E_ASAN_BUDGET:-600} \
		ASAN_OPTIONS="log_path=$rep/asan:detect_leaks=1:abort_on_error=0" \
		UBSAN_OPTIONS="log_path=$rep/ubsan:print_stacktrace=1:halt_on_error=1" \
		run_e2e e2e-asan "${names[@]}"
	if compgen -G "$rep/*" >/dev/null; then
		head -n 40 "$rep"/* >"$TMP/asan-reports.log"
		fail e2e-asan/reports "$TMP/asan-reports.log"
	else
		pass e2e-asan/reports
	fi
}

TSAN_TESTS="workers-socks5 workers-dns upwork-socks5"

run_e2e_tsan() {
	local bin=build/tsan/proxyvpn rep=$TMP/tsan
	if [ ! -x "$bin" ]; then
		echo "no $bin (run: make tsan)" >"$TMP/tsan.log"
		fail e2e-tsan "$TMP/tsan.log"
		return
	fi
	if [ "$(id -u)" != 0 ]; then
		skip e2e-tsan
		return
	fi
	# the engine of `up` runs as an unprivileged user: it must be able to
	# write its report too
	chmod 0711 "$TMP"
	mkdir -m 1777 "$rep" "$TMP/tsan-control"
	# control: the same options put a report of a data race in a file
	printf '%s\n' '#include <pthread.h>' 'static int shared;' \
		'static void *bump(void *arg) { (void)arg; shared++; return 0; }' \
		'int main(void) { pthread_t t; pthread_create(&t, 0, bump, 0); shared++;' \
		'	pthread_join(t, 0); return 0; }' >"$TMP/race.c"
	if ${CC:-cc} -fsanitize=thread -o "$TMP/race" "$TMP/race.c" 2>"$TMP/tsan-control.log" &&
		! TSAN_OPTIONS="log_path=$TMP/tsan-control/tsan" "$TMP/race" 2>>"$TMP/tsan-control.log" &&
		grep -qs "data race" "$TMP"/tsan-control/tsan.*; then
		pass e2e-tsan/control
	else
		fail e2e-tsan/control "$TMP/tsan-control.log"
	fi
	# workers-socks5's fault-build half runs the plain fault build (no TSan one)
	PROXYVPN=$PWD/$bin E2E_TSAN=1 TSAN_OPTIONS="log_path=$rep/tsan:halt_on_error=0" \
		run_e2e e2e-tsan ${E2E_TSAN_TESTS:-$TSAN_TESTS}
	if compgen -G "$rep/*" >/dev/null; then
		head -n 60 "$rep"/* >"$TMP/tsan-reports.log"
		fail e2e-tsan/reports "$TMP/tsan-reports.log"
	else
		pass e2e-tsan/reports
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
static) run_static ;;
unit) run_unit ;;
fuzz) run_fuzz ;;
e2e) run_e2e ;;
e2e-asan) run_e2e_asan ;;
e2e-tsan) run_e2e_tsan ;;
bench) run_bench ;;
all)
	run_static
	run_unit
	run_fuzz
	run_e2e
	run_e2e_asan
	run_e2e_tsan
	run_bench
	;;
esac

echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
