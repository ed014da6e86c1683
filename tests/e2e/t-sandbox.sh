#!/bin/bash
# sandbox ARG: the engine runs with no privilege (issue 6).
#  exec: /proc/PID/status of the engine (the command's parent) shows every
#        capability set empty, NoNewPrivs 1 and Seccomp 2, for a root caller
#        and for uid 65534; the fault build's forbidden syscall
#        (PROXYVPN_FAULT_SYSCALL) kills the engine with SIGSYS (the filter
#        really kills: positive control) and the command with it; so does a
#        syscall of another ABI (x32) from any thread of exec --workers 2
#        (the whole process, not the thread: SCMP_FLTATR_ACT_BADARCH).
#  up:   the same status for `up`'s engine child, which runs as the
#        system user proxyvpn (never nobody) while its parent stays
#        root; nothing of proxyvpn listens but the control socket (ss -lnp); the fault build's engine
#        dies of SIGSYS in the middle of a download and the parent restarts
#        it: new connections work once it says so, and nothing leaks to PRX
#        meanwhile (counted there, with a positive control before up); an
#        engine that sends a second READY or a malformed record is killed
#        and replaced;
#        SIGKILL of the engine during a transfer: the app sees an error, a
#        new engine serves within 2 s, zero leaks; a SIGSTOPped engine is
#        killed by the parent's heartbeat and replaced, zero leaks; forged
#        control replies (fault build) are shown inert (text) or refused
#        (JSON) by status; SIGTERM to the parent
#        still tears everything down; the same engine status when up is
#        run by a user of group proxyvpn through file capabilities; an
#        engine as nobody is refused.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
MODE=$1
URL=$(proxy_url socks5)
SMALL=http://$DST4:$HTTP_PORT/small
BIG=http://$DST4:$HTTP_PORT/big

# check_status FILE WHAT: a /proc/PID/status copy of a sandboxed engine
check_status() {
	local f=$1 what=$2 k v
	for k in CapInh CapPrm CapEff CapBnd CapAmb; do
		v=$(awk -v k="$k:" '$1 == k { print $2 }' "$f")
		assert_eq "$v" 0000000000000000 "$what: $k"
	done
	assert_eq "$(awk '$1 == "NoNewPrivs:" { print $2 }' "$f")" 1 "$what: NoNewPrivs"
	assert_eq "$(awk '$1 == "Seccomp:" { print $2 }' "$f")" 2 "$what: Seccomp"
}

# positive control for check_status: this shell (root) fails it
grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status >"$T_OUT/self.status"
if (check_status "$T_OUT/self.status" control) 2>/dev/null; then
	fail "control: check_status accepts a root shell"
fi

if [ "$MODE" = exec ]; then
	# (1) root caller: the command reads its parent's (the engine's) status
	pv exec --proxy "$URL" -- sh -c 'cat /proc/$PPID/status' >"$T_OUT/root.status" ||
		fail "exec as root exited $?"
	check_status "$T_OUT/root.status" "exec engine (root caller)"
	# and the engine still works under the filter
	pv exec --proxy "$URL" -- curl --noproxy '*' -sS --max-time 20 -o "$T_OUT/small" "$SMALL" ||
		fail "download under the sandbox exited $?"
	assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "exec download under the sandbox"

	# (2) uid 65534 caller (/dev/net/tun 0666 for this, restored after)
	orig=$(stat -c %a /dev/net/tun)
	on_exit "chmod $orig /dev/net/tun"
	chmod 0666 /dev/net/tun
	chmod 0711 "$E2E_TMP/app" "$T_OUT"
	install -m 0755 "$E2E_PROXYVPN" "$T_OUT/proxyvpn"
	n_cli timeout -k 5 30 setpriv --reuid=65534 --regid=65534 --clear-groups \
		env "PVE2E_TAG=$E2E_TAG" "$T_OUT/proxyvpn" exec --proxy "$URL" -- \
		sh -c 'cat /proc/$PPID/status' >"$T_OUT/user.status" || fail "exec as 65534 exited $?"
	check_status "$T_OUT/user.status" "exec engine (uid 65534 caller)"
	chmod "$orig" /dev/net/tun

	# (3) a forbidden syscall kills the engine (SIGSYS = 31: exit 159)
	[ -x "$E2E_PROXYVPN_FAULT" ] || fail "no fault build at $E2E_PROXYVPN_FAULT (run: make fault)"
	rc=0
	n_cli timeout -k 5 30 env "PVE2E_TAG=$E2E_TAG" PROXYVPN_FAULT_SYSCALL=5 "$E2E_PROXYVPN_FAULT" \
		exec -v --proxy "$URL" -- curl --noproxy '*' -sS --max-time 10 -o /dev/null "$BIG" \
		>"$T_OUT/sys.log" 2>&1 || rc=$?
	assert_eq "$rc" 159 "exec with a forbidden syscall: exit status ($(tail -n 3 "$T_OUT/sys.log"))"
	grep -q "calling chdir" "$T_OUT/sys.log" || fail "the forbidden syscall was not reached"
	# (4) a syscall of another ABI (x32 numbering) from any engine thread:
	# the whole process dies, not the thread (which would leave the
	# process running, one queue's flows hanging, until the timeout)
	rc=0
	n_cli timeout -k 5 20 env "PVE2E_TAG=$E2E_TAG" PROXYVPN_FAULT_SYSCALL=40:x32 \
		"$E2E_PROXYVPN_FAULT" exec -v --workers 2 --proxy "$URL" -- curl --noproxy '*' -sS \
		--max-time 10 -o /dev/null "$BIG" >"$T_OUT/x32.log" 2>&1 || rc=$?
	grep -q "calling getpid() as an x32 syscall" "$T_OUT/x32.log" ||
		fail "the x32 syscall was not reached: $(tail -n 3 "$T_OUT/x32.log")"
	assert_eq "$rc" 159 "exec --workers 2 with an x32 syscall: exit status ($(tail -n 3 "$T_OUT/x32.log"))"
	# control: the same build without the variable completes
	n_cli timeout -k 5 30 env "PVE2E_TAG=$E2E_TAG" "$E2E_PROXYVPN_FAULT" exec --proxy "$URL" -- \
		curl --noproxy '*' -sS --max-time 20 -o /dev/null "$SMALL" || fail "control: fault build exited $?"
	log "exec: engine caps 0, NoNewPrivs 1, Seccomp 2 (root and uid 65534); a forbidden syscall kills it"
	exit 0
fi

# ---- up ----
[ "$MODE" = up ] || fail "unknown mode $MODE"
[ -x "$E2E_PROXYVPN_FAULT" ] || fail "no fault build at $E2E_PROXYVPN_FAULT (run: make fault)"
SD=$T_OUT/state
UDP_PORT=9999
UP_PID=""

# Count at PRX what only a leak can explain: TCP to DST's HTTP port (the
# proxy connects from PRX itself, so never through r0), UDP, ICMP echo.
n_prx nft -f - <<EOF || fail "cannot add the counter table in PRX"
table inet pve2esbx {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "r0" tcp dport $HTTP_PORT counter
		iifname "r0" udp dport $UDP_PORT counter
		iifname "r0" icmp type echo-request counter
	}
}
EOF
on_exit "n_prx nft delete table inet pve2esbx"
leak_count() {
	n_prx nft list chain inet pve2esbx pre | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' |
		awk '{ n += $1 } END { print n + 0 }'
}
# probe: one direct TCP attempt and one UDP datagram to DST (not via any proxy)
probe() {
	n_cli timeout 5 curl -sS --noproxy '*' --max-time 1 -o /dev/null "$SMALL" 2>/dev/null || true
	n_cli timeout 5 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"leak?", (sys.argv[1], int(sys.argv[2])))
except OSError:
    pass
' "$DST4" "$UDP_PORT"
}

# positive control: without proxyvpn the probes are counted at PRX
l0=$(leak_count)
probe
sleep 0.2
[ "$(($(leak_count) - l0))" -ge 2 ] || fail "control: direct probes before up are not counted at PRX"

start_up() { # BINARY LOG [ENV...]
	local bin=$1 logf=$2
	shift 2
	ip netns exec "$E2E_NS_CLI" env "PVE2E_TAG=$E2E_TAG" "$@" "$bin" up --proxy "$URL" --tun pvpn0 \
		--state-dir "$SD" -v >"$logf" 2>&1 &
	UP_PID=$!
	track_pid "$UP_PID"
	wait_log "$logf" "the host's TCP goes through" 10 || { cat "$logf" >&2; fail "up not ready"; }
}
engine_of() { pgrep -P "$UP_PID" -x proxyvpn | head -n 1; }
fetch() { # WHAT
	rm -f "$T_OUT/small"
	n_cli timeout 30 curl -sS --noproxy '*' --max-time 20 -o "$T_OUT/small" "$SMALL" || fail "$1: curl failed"
	assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "$1"
}
stop_up() { # WHAT
	kill -TERM "$UP_PID"
	wait_pid_exit "$UP_PID" 10 || fail "$1: up did not exit on SIGTERM"
	assert_eq "$WAIT_RC" 0 "$1: exit status after SIGTERM"
	n_cli ip link show pvpn0 >/dev/null 2>&1 && fail "$1: pvpn0 left after teardown"
	n_cli nft list table inet proxyvpn >/dev/null 2>&1 && fail "$1: nft table left after teardown"
	return 0
}

# (1) the engine child: no privilege, unprivileged uid; the parent keeps root
start_up "$E2E_PROXYVPN" "$T_OUT/up1.log"
eng=$(engine_of)
[ -n "$eng" ] || fail "no engine child of up pid $UP_PID"
cp "/proc/$eng/status" "$T_OUT/eng.status"
check_status "$T_OUT/eng.status" "up engine"
want_uid=$(id -u proxyvpn)
assert_eq "$(awk '$1 == "Uid:" { print $2 $3 $4 $5 }' "$T_OUT/eng.status")" \
	"$want_uid$want_uid$want_uid$want_uid" "up engine: uids"
assert_eq "$(awk '$1 == "Uid:" { print $2 }' "/proc/$UP_PID/status")" 0 "up parent: uid"
fetch "TCP through the sandboxed engine"
# (2) nothing of proxyvpn listens but the control socket (a unix stream
# socket named ctl in the state dir: 0600, peer-checked; the resolver is on
# the TUN side and is no socket)
lis=$(n_cli ss -Hlnp -A inet,unix,packet 2>/dev/null | grep proxyvpn || true)
other=$(printf '%s\n' "$lis" | grep -v '^u_str  *LISTEN .*/ctl ' | grep . || true)
[ -z "$other" ] || fail "proxyvpn listens on more than its control socket: $other"
[ "$(printf '%s\n' "$lis" | grep -c '/ctl ')" = 1 ] || fail "no control socket listening: $lis"
# control: the same check sees a listener when there is one
ip netns exec "$E2E_NS_CLI" "$PY" -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); time.sleep(10)' &
lpid=$!
track_pid "$lpid"
deadline=$(($(now_ms) + 5000))
until n_cli ss -Hlnp -A inet,unix,packet 2>/dev/null | grep -q "pid=$lpid,"; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "control: ss -lnp does not show a listening python"
	sleep 0.05
done
kill "$lpid"
# the engine's fds past 0-2: the TUN, sockets, epoll and signalfd only;
# nothing of the parent's (state dir, lock)
for fd in /proc/"$eng"/fd/*; do
	[ "${fd##*/}" -gt 2 ] || continue
	t=$(readlink "$fd")
	case $t in
	/dev/net/tun | socket:* | anon_inode:*) ;;
	*) fail "the engine holds $t" ;;
	esac
done
# (3) SIGKILL of the engine during a transfer
n_cli timeout 30 curl -sS --noproxy '*' --limit-rate 2M --max-time 25 -o "$T_OUT/big" "$BIG" \
	2>"$T_OUT/curl.err" &
cpid=$!
wait_file "$T_OUT/big" 10 || fail "the transfer did not start"
l0=$(leak_count)
kill -KILL "$eng"
rc=0
wait "$cpid" || rc=$?
[ "$rc" != 0 ] || fail "the transfer survived the engine's death"
log "transfer cut by the engine's SIGKILL: curl exit $rc ($(head -c 200 "$T_OUT/curl.err"))"
wait_log "$T_OUT/up1.log" "engine restarted" 2 || fail "no new engine within 2 s: $(tail -n 5 "$T_OUT/up1.log")"
probe
fetch "TCP after the engine was SIGKILLed"
sleep 0.2
assert_eq "$(($(leak_count) - l0))" 0 "packets counted at PRX around the engine's SIGKILL"
neng=$(engine_of)
[ -n "$neng" ] && [ "$neng" != "$eng" ] || fail "no new engine pid (old $eng, now '$neng')"
cp "/proc/$neng/status" "$T_OUT/eng2.status"
check_status "$T_OUT/eng2.status" "restarted up engine"
stop_up "up after an engine SIGKILL"

# (4) the fault build: the engine dies of a forbidden syscall mid-download
start_up "$E2E_PROXYVPN_FAULT" "$T_OUT/up2.log" PROXYVPN_FAULT_SYSCALL=300
l0=$(leak_count)
rc=0
n_cli timeout 30 curl -sS --noproxy '*' --max-time 20 -o /dev/null "$BIG" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "the download survived the engine's forbidden syscall"
probe	# while the parent restarts it: must not leak either
wait_log "$T_OUT/up2.log" "engine restarted" 2 || fail "no restart after SIGSYS: $(tail -n 5 "$T_OUT/up2.log")"
grep -q "killed by signal 31 (a syscall the sandbox forbids)" "$T_OUT/up2.log" ||
	fail "the engine did not die of SIGSYS: $(grep engine "$T_OUT/up2.log" | tail -n 3)"
fetch "TCP after the SIGSYS restart"
probe
sleep 0.2
assert_eq "$(($(leak_count) - l0))" 0 "packets counted at PRX around the SIGSYS restart"
stop_up "up (fault build) after a SIGSYS restart"

# (4b) a hostile engine: a second READY, then a malformed record; each time
# the parent kills that engine and starts a new one (fault build)
for kind in ready garbage; do
	start_up "$E2E_PROXYVPN_FAULT" "$T_OUT/ipc-$kind.log" "PROXYVPN_FAULT_IPC=$kind"
	wait_log "$T_OUT/ipc-$kind.log" "engine restarted" 2 ||
		fail "IPC $kind: no restart: $(tail -n 5 "$T_OUT/ipc-$kind.log")"
	want="unexpected message: killing it"
	[ "$kind" = garbage ] && want="malformed message: killing it"
	grep -q "$want" "$T_OUT/ipc-$kind.log" || fail "IPC $kind: $(grep engine "$T_OUT/ipc-$kind.log")"
	fetch "TCP after a hostile IPC message ($kind)"
	stop_up "up after a hostile IPC message ($kind)"
done

# (4c) an engine that stops answering (SIGSTOP: what any process of its
# uid could send): the parent's heartbeat (a ping a second, 5 s to answer)
# kills it and starts another; nothing leaks meanwhile
start_up "$E2E_PROXYVPN" "$T_OUT/hb.log"
eng=$(engine_of)
[ -n "$eng" ] || fail "no engine child of up pid $UP_PID"
l0=$(leak_count)
t0=$(now_ms)
kill -STOP "$eng"
probe
wait_log "$T_OUT/hb.log" "has not answered for" 8 ||
	fail "the stopped engine was not noticed in 8 s: $(tail -n 5 "$T_OUT/hb.log")"
wait_log "$T_OUT/hb.log" "engine restarted" 3 || fail "no new engine: $(tail -n 5 "$T_OUT/hb.log")"
log "heartbeat: a stopped engine replaced after $(($(now_ms) - t0)) ms"
[ "$(engine_of)" != "$eng" ] || fail "the stopped engine is still the engine"
kill -0 "$eng" 2>/dev/null && fail "the stopped engine $eng is still there"
fetch "TCP after the stopped engine was replaced"
probe
sleep 0.2
assert_eq "$(($(leak_count) - l0))" 0 "packets counted at PRX around the heartbeat restart"
stop_up "up after a heartbeat restart"

# (4d) an engine's replies are untrusted: forged by the fault build
# (PROXYVPN_FAULT_CTL=forge: terminal escapes in the text, JSON that closes
# its object and adds top-level fields), status shows the text inert and
# refuses the JSON, which it writes again rather than pass through
start_up "$E2E_PROXYVPN_FAULT" "$T_OUT/forge.log" PROXYVPN_FAULT_CTL=forge
# status says "starting" (exit 4) until the watcher has verified everything
wait_log "$T_OUT/forge.log" "up: ready: " 10 || fail "up (forge) not ready: $(tail -n 5 "$T_OUT/forge.log")"
n_cli "$E2E_PROXYVPN" status --state-dir "$SD" >"$T_OUT/forge.txt" || fail "status (forged reply): exit $?"
! grep -q $'\x1b' "$T_OUT/forge.txt" || fail "status printed a raw escape: $(od -c "$T_OUT/forge.txt" | head)"
grep -qF '\x1b]0;forged title\x07\x1b[31mforged: red' "$T_OUT/forge.txt" ||
	fail "status (forged reply): the forged line is not shown escaped: $(cat "$T_OUT/forge.txt")"
grep -q "^packets: in" "$T_OUT/forge.txt" || fail "status (forged reply): the counters are gone"
n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" >"$T_OUT/forge.json" || fail "status --json: exit $?"
"$PY" - "$T_OUT/forge.json" <<'PYEOF' || fail "status --json (forged reply): $(cat "$T_OUT/forge.json")"
import json, sys
raw = open(sys.argv[1], "rb").read()
assert all(b >= 0x20 or b == 0x0a for b in raw), "a control byte"
j = json.loads(raw)
assert j["running"] is True, j
assert j["live"] is None and j["live_error"] == "malformed reply", j
assert "forged" not in j and j["installed"] is not None, j
PYEOF
stop_up "up with forged control replies"

# (5) up by a user of group proxyvpn through file capabilities
# (cap_net_admin+ep, root:proxyvpn 0750 as `make install` makes it): the
# engine cannot switch ids, and has no CAP_SETPCAP to empty its bounding
# set; it does so from a user namespace of its own. --user is refused, and
# so is an engine as nobody: uid 65534 in the group, and root's --user nobody.
orig_tun=$(stat -c %a /dev/net/tun)
on_exit "chmod $orig_tun /dev/net/tun"
chmod 0666 /dev/net/tun
chmod 0711 "$E2E_TMP/app" "$T_OUT"
cdir=$T_OUT/cap
CU=pvsb$$
test_user "$CU"
cap_copy "$cdir"
mkdir -m 0700 "$cdir/xdg"
chown "$CU" "$cdir/xdg"
as_user() { ip netns exec "$E2E_NS_CLI" setpriv --reuid "$CU" --regid nogroup --groups "$E2E_GID" \
	env "PVE2E_TAG=$E2E_TAG" "XDG_RUNTIME_DIR=$cdir/xdg" "$@"; }
rc=0
as_user "$cdir/proxyvpn" up --proxy "$URL" --user "$CU" >"$T_OUT/user.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "up --user without root: $(cat "$T_OUT/user.log")"
grep -q "needs root" "$T_OUT/user.log" || fail "up --user without root: $(cat "$T_OUT/user.log")"
rc=0
n_cli setpriv --reuid 65534 --regid 65534 --groups "$E2E_GID" env XDG_RUNTIME_DIR="$cdir/xdg" \
	"$cdir/proxyvpn" up --proxy "$URL" >"$T_OUT/nobody.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "up by nobody: $(cat "$T_OUT/nobody.log")"
grep -q "the engine would run as nobody" "$T_OUT/nobody.log" || fail "up by nobody: $(cat "$T_OUT/nobody.log")"
rc=0
n_cli "$E2E_PROXYVPN" up --proxy "$URL" --state-dir "$SD" --user nobody >"$T_OUT/unobody.log" 2>&1 || rc=$?
assert_eq "$rc" 1 "up --user nobody: $(cat "$T_OUT/unobody.log")"
grep -q "is nobody" "$T_OUT/unobody.log" || fail "up --user nobody: $(cat "$T_OUT/unobody.log")"
# a simple command (ip, setpriv and env exec in turn), so $! is proxyvpn itself
ip netns exec "$E2E_NS_CLI" setpriv --reuid "$CU" --regid nogroup --groups "$E2E_GID" \
	env "PVE2E_TAG=$E2E_TAG" "XDG_RUNTIME_DIR=$cdir/xdg" "$cdir/proxyvpn" up --proxy "$URL" \
	--tun pvpn0 -v >"$T_OUT/up3.log" 2>&1 &
UP_PID=$!
track_pid "$UP_PID"
wait_log "$T_OUT/up3.log" "the host's TCP goes through" 10 || fail "up as $CU: $(cat "$T_OUT/up3.log")"
eng=$(engine_of)
[ -n "$eng" ] || fail "no engine child of up ($CU) pid $UP_PID"
cp "/proc/$eng/status" "$T_OUT/eng3.status"
check_status "$T_OUT/eng3.status" "engine of up run by $CU with file caps"
grep -q "^CapEff:.*0000000000001000" "/proc/$UP_PID/status" || fail "control: the parent lacks CAP_NET_ADMIN"
fetch "TCP through up run by $CU"
stop_up "up run by $CU"
log "up: engine unprivileged and sandboxed; SIGKILL and SIGSYS restarts with 0 leaks; teardown clean"
