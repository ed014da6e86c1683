#!/bin/bash
# Small open-file limits: `exec` (one engine, and --workers 2) started with
# `ulimit -n N`, N = 3..12 and 16, and `up` at N = 4..16. Each run either works
# (`up`: ready, then a clean teardown on SIGTERM) or fails with one line
# naming the step and "Too many open files" (exit 125, `up` also 1; at N = 3
# the dynamic loader itself may fail first, exit 127); `up` leaves nothing
# for `down` to remove; and no proxyvpn process ever closes fd 0, 1 or 2
# (strace -ff: close/close_range made while the process image is
# proxyvpn's; a forked child counts until it execs the command). Teardown
# after a failed step once closed fd 0 (a zeroed struct loop).
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
command -v strace >/dev/null || { echo "SKIPPED: no strace"; exit 77; }
url=$(proxy_url socks5)
st=$T_OUT/strace
mkdir -p "$st"

# closes_std DIR: the close calls on fds 0-2 made by proxyvpn processes, one per line.
closes_std() {
	awk 'FNR == 1 { ours = ($0 !~ /^execve\(/) }
	/^execve\(/ {
		if ($0 ~ /\) = 0$/) {
			p = $0
			sub(/^execve\("/, "", p)
			sub(/".*/, "", p)
			ours = (p ~ /\/proxyvpn$/)
		}
		next
	}
	ours && (/^close\([012]\)/ || /^close_range\([012],/) { print FILENAME ": " $0 }' "$1"/t.*
}

# clear_failure RC ERRFILE WHAT: exit 125 (or 1) naming the fd limit, nothing else on stderr.
clear_failure() {
	grep -q '^proxyvpn: .*Too many open files' "$2" ||
		fail "$3: exit $1 without naming the fd limit: $(cat "$2")"
	if grep -v '^proxyvpn: ' "$2" | grep -q .; then
		fail "$3: more than proxyvpn's lines on stderr: $(cat "$2")"
	fi
	echo "ok: $3: $(grep 'Too many open files' "$2" | tail -n 1)"
}

# run_at N [EXEC-OPTIONS...]: exec traced; its exit status and message checked.
# Under ASan (the e2e-asan pass sets ASAN_OPTIONS) a second, untraced run is
# checked instead: LeakSanitizer cannot run under ptrace.
run_at() {
	local n=$1 rc=0 bad err=$T_OUT/err
	shift
	rm -f "$st"/t.*
	n_cli env "PVE2E_TAG=$E2E_TAG" "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		timeout -k 5 30 strace -ff -qq -o "$st/t" -e trace=close,close_range,execve \
		sh -c 'ulimit -n "$1"; shift; exec "$@"' sh "$n" \
		"$E2E_PROXYVPN" exec "$@" --proxy "$url" -- true </dev/null >/dev/null 2>"$err" || rc=$?
	[ -n "$(ls "$st")" ] || fail "N=$n $*: strace wrote nothing (exit $rc): $(cat "$err")"
	bad=$(closes_std "$st")
	[ -z "$bad" ] || fail "N=$n $*: a standard fd was closed: $bad"
	if [ -n "${ASAN_OPTIONS:-}" ]; then
		rc=0
		n_cli env "PVE2E_TAG=$E2E_TAG" timeout -k 5 30 sh -c 'ulimit -n "$1"; shift; exec "$@"' \
			sh "$n" "$E2E_PROXYVPN" exec "$@" --proxy "$url" -- true </dev/null >/dev/null \
			2>"$err" || rc=$?
	fi
	case $rc in
	0) echo "ok: N=$n $*: works" ;;
	125) clear_failure "$rc" "$err" "N=$n $*" ;;
	127)
		grep -q 'error while loading shared libraries' "$err" ||
			fail "N=$n $*: exit 127: $(cat "$err")"
		echo "ok: N=$n $*: the loader cannot start it"
		;;
	*) fail "N=$n $*: exit $rc: $(cat "$err")" ;;
	esac
	LAST_RC=$rc
}

works=0
for n in 3 4 5 6 7 8 9 10 11 12 16; do
	run_at "$n"
	[ "$LAST_RC" = 0 ] && works=$((works + 1))
	run_at "$n" --workers 2
done
# the larger limits are enough for exec to run: the loop above saw it work
[ "$works" -ge 4 ] || fail "exec worked at only $works of the limits 3-16"

# and at 16 the engine carries traffic (it raises its own limit; the command keeps 16)
n_cli env "PVE2E_TAG=$E2E_TAG" timeout -k 5 60 sh -c 'ulimit -n 16; exec "$@"' sh \
	"$E2E_PROXYVPN" exec --proxy "$url" -- curl -sS --noproxy '*' --max-time 20 \
	-o "$T_OUT/small" "http://$DST4:$HTTP_PORT/small" </dev/null 2>"$T_OUT/err" ||
	fail "fetch at ulimit -n 16: $(cat "$T_OUT/err")"
assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "fetch at ulimit -n 16"
echo "ok: a fetch through the proxy at ulimit -n 16"

# up_at N: `up` traced at ulimit -n N in CLI (its own state dir); SIGTERM once ready.
up_at() {
	local n=$1 sd=$T_OUT/state-$1 logf=$T_OUT/up-$1.log pid child deadline rc=0 bad
	rm -f "$st"/t.*
	ip netns exec "$E2E_NS_CLI" env "PVE2E_TAG=$E2E_TAG" \
		"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -ff -qq -o "$st/t" -e trace=close,close_range,execve \
		sh -c 'ulimit -n "$1"; shift; exec "$@"' sh "$n" \
		"$E2E_PROXYVPN" up --proxy "$url" --tun pvpn0 --state-dir "$sd" -v </dev/null >"$logf" 2>&1 &
	pid=$!
	track_pid "$pid"
	deadline=$(($(now_ms) + 15000))
	until grep -q "the host's TCP goes through" "$logf"; do
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] && kill -0 "$pid" 2>/dev/null || break
		[ "$(now_ms)" -lt "$deadline" ] || fail "N=$n up: neither ready nor gone after 15 s: $(tail -n 3 "$logf")"
		sleep 0.05
	done
	if grep -q "the host's TCP goes through" "$logf"; then
		child=$(pgrep -P "$pid" | head -n 1) # strace's child: up itself
		[ -n "$child" ] || fail "N=$n up: ready, but no process under strace"
		kill -TERM "$child"
	fi
	wait_pid_exit "$pid" 15 || fail "N=$n up: still running 15 s after SIGTERM"
	rc=$WAIT_RC
	bad=$(closes_std "$st")
	[ -z "$bad" ] || fail "N=$n up: a standard fd was closed: $bad"
	if grep -q "the host's TCP goes through" "$logf"; then
		[ "$rc" = 0 ] || fail "N=$n up: exit $rc after SIGTERM: $(tail -n 3 "$logf")"
		echo "ok: N=$n up: ready, torn down"
	elif [ "$rc" = 125 ] || [ "$rc" = 1 ]; then
		clear_failure "$rc" "$logf" "N=$n up"
	else
		fail "N=$n up: exit $rc: $(cat "$logf")"
	fi
	# whatever step failed, nothing is left installed
	n_cli "$E2E_PROXYVPN" down --state-dir "$sd" -v >"$T_OUT/down.log" 2>&1 ||
		fail "N=$n up: down failed: $(cat "$T_OUT/down.log")"
	grep -q "nothing is up" "$T_OUT/down.log" || fail "N=$n up: down found leftovers: $(cat "$T_OUT/down.log")"
}

for n in 4 6 8 10 12 16; do
	up_at "$n"
done
