#!/bin/bash
# valgrind: memcheck over an exec run with E2E_VG_N (1,000) connections
#   through the proxy of kind $1, each uploading E2E_VG_SIZE (16 KiB) to the
#   sink and checking its sha256 (stress.py upload), so every connection
#   goes through handshake, relay, half-close and teardown. Valgrind
#   (--leak-check=full --errors-for-leak-kinds=definite) must report no
#   error and nothing definitely lost, in the engine or in the namespace
#   child before it execs. Positive control first: the same valgrind
#   options flag a leak in a tiny leaking program. No seccomp filter
#   (PROXYVPN_SECCOMP=off): valgrind does not implement seccomp(), and its
#   own syscalls are not the engine's anyway. The fault build, with
#   PROXYVPN_FAULT_NOVIEW: valgrind 3.19 answers ENOSYS to the new mount
#   API (fsopen .. move_mount) the namespace child builds the command's
#   view of the file system with (nsview.c), and a view that cannot be
#   built stops exec; the connections here go to addresses, not names.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
command -v valgrind >/dev/null || fail "valgrind not installed (bash scripts/deps.sh --test)"
kind=$1
N=${E2E_VG_N:-1000}
SIZE=${E2E_VG_SIZE:-16384}
VG=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
	--show-leak-kinds=definite "--suppressions=$E2E_DIR/valgrind.supp")

# positive control: a definite leak makes valgrind exit 99
"$PY" -c 'print("int main(void){void *p = __builtin_malloc(64); p = 0; return 0;}")' >"$T_OUT/leak.c"
cc -O0 -o "$T_OUT/leak" "$T_OUT/leak.c" || fail "control: cannot build the leaking program"
rc=0
"${VG[@]}" "$T_OUT/leak" 2>"$T_OUT/leak.vg" || rc=$?
assert_eq "$rc" 99 "control: valgrind exit status on a leaking program"
grep -q "definitely lost" "$T_OUT/leak.vg" || fail "control: no 'definitely lost' in valgrind's report"

raise_nofile $((N + 500))
sync=$T_OUT/sync
mkdir -m 0777 "$sync"
start_stress_server "$sync"
n_cli timeout -k 5 600 env "PVE2E_TAG=$E2E_TAG" PROXYVPN_SECCOMP=off PROXYVPN_FAULT_NOVIEW=1 \
	"${VG[@]}" --log-file="$T_OUT/vg.%p" "$E2E_PROXYVPN_FAULT" exec --proxy "$(proxy_url "$kind")" -- \
	"$PY" "$E2E_DIR/stress.py" upload "$DST4" "$STRESS_SINK_PORT" -n "$N" --size "$SIZE" \
	--sync "$sync" >"$T_OUT/client.out" 2>"$T_OUT/pv.err" &
run=$!
track_pid "$run"
wait_sync "$sync/ready" 120 "$run" || { cat "$T_OUT/client.out" "$T_OUT/pv.err" "$T_OUT"/vg.* >&2; fail "the client did not start"; }
touch "$sync/go"
wait_pid_exit "$run" 500 || fail "the run did not end"
cat "$T_OUT/client.out"
# -q: a log file has lines only if valgrind found something, in the engine
# or in the namespace child (whose exit status is the command's)
bad=0
for f in "$T_OUT"/vg.*; do
	[ -s "$f" ] && { echo "--- $f"; cat "$f"; bad=1; }
done
assert_eq "$WAIT_RC" 0 "exit status of valgrind proxyvpn exec ($N uploads; 99 = valgrind found errors)"
grep -q "upload: $N x" "$T_OUT/client.out" || fail "the client did not report $N uploads"
[ "$bad" = 0 ] || fail "valgrind reports problems (above)"
echo "valgrind: $N connections, no errors, nothing definitely lost"
