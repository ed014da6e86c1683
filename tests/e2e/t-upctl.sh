#!/bin/bash
# upctl: host mode's control socket and `status --json`, in CLI. While a
# flow through `up` is open (framed echo to DST, 64 KiB each way), `status
# --json` is one JSON object that lists that flow (src/dst, bytes both ways)
# with nonzero engine and TCP counters; the socket `ctl` in the state dir is
# a socket of mode 0600; a peer of another uid is closed unanswered even when
# it can reach the socket; the socket is gone after SIGTERM, and `down`
# removes one a SIGKILL left. --table/--mark/--priority are used as given
# (ip rule, ip route show table N, the nft mark), recorded (status --json)
# and removed by down after SIGKILL; bad values exit 2 with a message, values
# someone else uses exit 125 naming which, with nothing changed. After
# SIGKILL with the TUN gone, TCP (IPv4 and IPv6, killswitch on and off) is
# refused at once, not left to time out, and nothing reaches PRX.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

SD=$T_OUT/state
URL=$(proxy_url socks5)
UP_PID=""

start_up() { up_start "$@"; } # LOGFILE ARGS...

stop_up() {
	kill -TERM "$UP_PID"
	wait_pid_exit "$UP_PID" 10 || fail "up did not exit within 10 s of SIGTERM"
	assert_eq "$WAIT_RC" 0 "up exit status after SIGTERM"
}

# --- (1) status --json with a live flow ---
start_up "$T_OUT/up1.log"
[ -S "$SD/ctl" ] || fail "no control socket $SD/ctl while up runs"
assert_eq "$(stat -c %a "$SD/ctl")" 600 "mode of the control socket"
assert_eq "$(stat -c %u "$SD/ctl")" 0 "owner of the control socket"

# a flow that stays open: one 64 KiB echo round trip, then it waits for
# stdin to close (the fifo below), so status sees it established
mkfifo "$T_OUT/hold"
n_cli timeout 60 "$PY" -c '
import hashlib, os, socket, struct, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
data = os.urandom(65536)
s.sendall(struct.pack(">I", len(data)) + data)
got = b""
while len(got) < 32 + len(data):
    b = s.recv(65536)
    if not b:
        sys.exit("echo: early EOF")
    got += b
assert got[:32] == hashlib.sha256(data).digest() and got[32:] == data
print("ready", s.getsockname()[1], flush=True)
open(sys.argv[3]).read()
s.close()
' "$DST4" "$ECHO_PORT" "$T_OUT/hold" >"$T_OUT/flow.out" 2>&1 &
FLOW=$!
track_pid "$FLOW"
exec 7<>"$T_OUT/hold"	# hold the fifo open: the flow stays until fd 7 closes
wait_file "$T_OUT/flow.out" 20 || fail "the flow through up did not start"
deadline=$(($(now_ms) + 20000))
until grep -q "^ready" "$T_OUT/flow.out"; do
	kill -0 "$FLOW" 2>/dev/null || fail "flow: $(cat "$T_OUT/flow.out")"
	[ "$(now_ms)" -lt "$deadline" ] || fail "the echo round trip did not finish in 20 s"
	sleep 0.05
done
sport=$(awk '/^ready/ { print $2 }' "$T_OUT/flow.out")

rc=0
n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" >"$T_OUT/status.json" || rc=$?
assert_eq "$rc" 0 "status --json exit status while up runs"
"$PY" - "$T_OUT/status.json" "$UP_PID" "$CLI4" "$sport" "$DST4:$ECHO_PORT" <<'PYEOF' || fail "status --json: $(head -c 3000 "$T_OUT/status.json")"
import json, sys
path, pid, cli, sport, dst = sys.argv[1:]
text = open(path).read()
assert text.count("\n") == 1 and text.endswith("\n"), "not one line"
j = json.loads(text)
assert j["running"] is True and j["pid"] == int(pid), ("running/pid", j.get("pid"))
assert j["leftovers"] is False
inst = j["installed"]
assert inst["tun"] == "pvpn0" and inst["firewall"] == "nftables" and inst["killswitch"] is True
assert any(o[0] == "nft-table" for o in inst["objects"]), inst["objects"]
live = j["live"]
assert live["pid"] == int(pid), live["pid"]
assert live["engine"]["pkts_in"] > 0 and live["engine"]["pkts_out"] > 0, live["engine"]
assert live["engine"]["sessions_total"] >= 1
assert live["tcp"]["segs_in"] > 0 and live["tcp"]["handshakes"] >= 1, live["tcp"]
assert live["flows"] >= 1 and live["sessions"] >= 1
mine = [c for c in live["connections"] if c["src"] == "%s:%s" % (cli, sport)]
assert len(mine) == 1, live["connections"]
c = mine[0]
assert c["dst"] == dst and c["state"] == "ESTABLISHED" and c["phase"] == "relay", c
assert c["bytes_up"] >= 65536 + 4 and c["bytes_down"] >= 65536 + 32, c
assert live["connections_listed"] == len(live["connections"]) and not live["connections_truncated"]
print("status --json: flow %s -> %s, up %d down %d bytes" % (c["src"], c["dst"], c["bytes_up"], c["bytes_down"]))
PYEOF

# the text form shows the same flow
n_cli "$E2E_PROXYVPN" status --state-dir "$SD" >"$T_OUT/status.txt" || fail "status exit $?"
grep -q "^conn [0-9]*: $CLI4:$sport -> $DST4:$ECHO_PORT ESTABLISHED (relay)" "$T_OUT/status.txt" ||
	fail "status (text) does not list the flow: $(cat "$T_OUT/status.txt")"
grep -q "^packets: in [1-9]" "$T_OUT/status.txt" || fail "status (text): no packet counters: $(cat "$T_OUT/status.txt")"
exec 7>&-	# the flow ends
wait_pid_exit "$FLOW" 10 || fail "the flow did not end"
assert_eq "$WAIT_RC" 0 "the flow's exit status: $(cat "$T_OUT/flow.out")"

# --- (2) another uid: refused even when it can reach the socket ---
# (the state dir is 0700, so normally it cannot even connect: open the way
# for this check only, to test the SO_PEERCRED check behind it)
NOBODY=(setpriv --reuid 65534 --regid 65534 --clear-groups)
rc=0
n_cli "${NOBODY[@]}" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
' "$SD/ctl" 2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "uid 65534 could connect through the 0700 state dir"
chmod 0711 "$T_OUT" "$SD"
chmod 0666 "$SD/ctl"
r=$(n_cli timeout 10 "${NOBODY[@]}" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
try:
    s.sendall(b"status\n")
    print("reply:%r" % s.recv(100))
except OSError as e:
    print("error:" + (e.strerror or str(e)))
' "$SD/ctl")
chmod 0600 "$SD/ctl"
chmod 0700 "$SD"
case $r in "reply:b''" | error:*) ;; *) fail "uid 65534 got an answer from the control socket: $r" ;; esac
grep -q "peer uid 65534 refused" "$T_OUT/up1.log" || fail "up did not log the refused peer"
# and the owner still gets one
n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" | "$PY" -c 'import json, sys; assert json.load(sys.stdin)["live"]["pid"]' ||
	fail "status after a refused peer"

# --- (3) hostile clients do not stall the engine ---
# one client that sends garbage, one that never reads its reply, 8 that
# connect and never send (4 take the slots until their timeout): TCP through up still works, status still answers
n_cli timeout 30 "$PY" -c '
import socket, sys, time
g = socket.socket(socket.AF_UNIX); g.connect(sys.argv[1]); g.sendall(b"\x00" * 200)
n = socket.socket(socket.AF_UNIX); n.connect(sys.argv[1]); n.sendall(b"status\n")
socks = []
for i in range(8):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); socks.append(s)
print("connected", flush=True)
time.sleep(6)
' "$SD/ctl" >"$T_OUT/hostile.out" 2>&1 &
HOSTILE=$!
track_pid "$HOSTILE"
wait_file "$T_OUT/hostile.out" 10 || fail "hostile clients did not start"
n_cli timeout 30 curl -sS -g --noproxy '*' --max-time 20 -o "$T_OUT/small" "http://$DST4:$HTTP_PORT/small" ||
	fail "TCP through up with hostile control clients"
assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "TCP with hostile control clients"
wait_pid_exit "$HOSTILE" 20 || fail "hostile clients did not finish"
n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" | "$PY" -c 'import json, sys; assert json.load(sys.stdin)["live"]["pid"]' ||
	fail "status after hostile clients (their slots were not freed)"

# --- (4) teardown removes the socket; after SIGKILL, down does ---
stop_up
[ ! -e "$SD/ctl" ] || fail "the control socket is left after SIGTERM"
start_up "$T_OUT/up2.log"
kill -KILL "$UP_PID"
wait_pid_exit "$UP_PID" 5 || fail "up did not die on SIGKILL"
[ -S "$SD/ctl" ] || fail "expected a stale control socket after SIGKILL"
rc=0
n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" >"$T_OUT/status2.json" || rc=$?
assert_eq "$rc" 3 "status --json exit after SIGKILL"
"$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); assert j["running"] is False and j["leftovers"] is True and "live" not in j, j' \
	"$T_OUT/status2.json" || fail "status --json after SIGKILL: $(cat "$T_OUT/status2.json")"
n_cli "$E2E_PROXYVPN" down --state-dir "$SD" >/dev/null 2>&1 || fail "down after SIGKILL"
[ ! -e "$SD/ctl" ] || fail "down left the stale control socket"
rc=0
n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" >"$T_OUT/status3.json" || rc=$?
assert_eq "$rc" 3 "status --json with nothing up"
"$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); assert j == {"running": False, "leftovers": False, "installed": None}, j' \
	"$T_OUT/status3.json" || fail "status --json with nothing up: $(cat "$T_OUT/status3.json")"
# --- (5) --table, --mark, --priority: used as given, recorded, removed ---
snapshot() {
	{ n_cli ip rule; n_cli ip -6 rule; n_cli ip route show table all; n_cli ip -6 route show table all
	  n_cli nft list ruleset; } 2>&1
}
snapshot >"$T_OUT/before"
for bad in "--table 254" "--table 0" "--table x" "--mark 0" "--mark 0x100000000" "--priority 32766" "--priority 0"; do
	rc=0
	# shellcheck disable=SC2086
	n_cli "$E2E_PROXYVPN" up --proxy "$URL" --state-dir "$SD" $bad >"$T_OUT/bad.log" 2>&1 || rc=$?
	assert_eq "$rc" 2 "up $bad: $(cat "$T_OUT/bad.log")"
	grep -q -- "${bad%% *} must be" "$T_OUT/bad.log" || fail "up $bad: no clear message: $(cat "$T_OUT/bad.log")"
done
start_up "$T_OUT/up3.log" --table 100 --mark 0x1234 --priority 1000
# (grep -q on a pipe would make the writer fail under pipefail: read first)
r4=$(n_cli ip rule) r6=$(n_cli ip -6 rule) t4=$(n_cli ip route show table 100) t6=$(n_cli ip -6 route show table 100)
nft=$(n_cli nft list table inet proxyvpn)
grep -qx "1000:	from all fwmark 0x1234 lookup 100 proto 118" <<<"$r4" ||
	fail "no IPv4 rule at 1000 for mark 0x1234 -> table 100: $r4"
grep -qx "1000:	from all fwmark 0x1234 lookup 100 proto 118" <<<"$r6" || fail "no IPv6 rule at 1000: $r6"
grep -q "^default dev pvpn0 proto 118" <<<"$t4" || fail "no default route via pvpn0 in table 100: $t4"
grep -q "^local default dev lo proto 118 scope host metric 4294967294" <<<"$t4" ||
	fail "no local fallback default in table 100: $t4"
grep -q "^unreachable default proto 118 metric 4294967295" <<<"$t4" || fail "no unreachable default in table 100: $t4"
grep -q "^default dev pvpn0 proto 118" <<<"$t6" || fail "no IPv6 default in table 100: $t6"
grep -q "mark set 0x00001234" <<<"$nft" || fail "the nft table does not set mark 0x1234: $nft"
n_cli timeout 30 curl -sS -g --noproxy '*' --max-time 20 -o "$T_OUT/small" "http://$DST4:$HTTP_PORT/small" ||
	fail "TCP through up with --table/--mark/--priority"
assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "TCP through up with --table/--mark/--priority"
n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" | "$PY" -c '
import json, sys
i = json.load(sys.stdin)["installed"]
assert (i["table"], i["fwmark"], i["priority"]) == (100, 0x1234, 1000), i' || fail "status --json: not the chosen ids"
kill -KILL "$UP_PID"
wait_pid_exit "$UP_PID" 5 || fail "up did not die on SIGKILL"
n_cli "$E2E_PROXYVPN" down --state-dir "$SD" >"$T_OUT/down.log" 2>&1 || fail "down: $(cat "$T_OUT/down.log")"
snapshot >"$T_OUT/after"
diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "down after --table/--mark/--priority left something (diff above)"

# chosen ids someone else uses: refused, naming which, nothing changed
n_cli ip rule add pref 1001 fwmark 0x99 lookup 101 || fail "decoy rule"
n_cli ip route add unreachable 203.0.113.0/24 table 102 || fail "decoy route"
on_exit "n_cli ip rule del pref 1001 2>/dev/null; n_cli ip route del unreachable 203.0.113.0/24 table 102 2>/dev/null"
snapshot >"$T_OUT/before"
for taken in "--priority 1001:priority" "--table 102:table" "--table 101:table" "--mark 0x99:fwmark"; do
	opt=${taken%%:*}
	rc=0
	# shellcheck disable=SC2086
	n_cli "$E2E_PROXYVPN" up --proxy "$URL" --state-dir "$SD" $opt >"$T_OUT/taken.log" 2>&1 || rc=$?
	assert_eq "$rc" 125 "up $opt (taken): $(cat "$T_OUT/taken.log")"
	grep -q "the ${taken#*:} you chose (${opt#* }) is already used" "$T_OUT/taken.log" ||
		fail "up $opt (taken): $(cat "$T_OUT/taken.log")"
done
snapshot >"$T_OUT/after"
diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "a refused up changed something (diff above)"

# --- (6) a crash with the TUN gone: TCP fails at once, nothing leaks ---
# (PRX counts TCP from CLI to DST's HTTP port: only a leak can send it)
n_prx nft -f - <<EOF || fail "cannot add the counter table in PRX"
table inet pve2ectl {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "r0" tcp dport $HTTP_PORT counter
	}
}
EOF
on_exit "n_prx nft delete table inet pve2ectl"
leaks() { n_prx nft list chain inet pve2ectl pre | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
# positive control: without proxyvpn a direct connection is counted
l0=$(leaks)
n_cli timeout 10 curl -sS --noproxy '*' --max-time 1 -o /dev/null "http://$DST4:$HTTP_PORT/small" 2>/dev/null || true
[ "$(($(leaks) - l0))" -gt 0 ] || fail "control: a direct SYN from CLI is not counted at PRX"
for ks in --killswitch --no-killswitch; do
	start_up "$T_OUT/up-crash$ks.log" "$ks"
	kill -KILL "$UP_PID"
	wait_pid_exit "$UP_PID" 5 || fail "up ($ks) did not die on SIGKILL"
	n_cli ip link del pvpn0 2>/dev/null || true # gone with its process already (not persistent)
	n_cli ip link show pvpn0 >/dev/null 2>&1 && fail "the TUN is still there"
	l0=$(leaks)
	for dst in "$DST4" "$DST6"; do
		r=$(n_cli timeout 30 "$PY" -c '
import errno, socket, sys, time
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam)
s.settimeout(20)
t = time.monotonic()
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)), int((time.monotonic() - t) * 1000))
' "$dst" "$HTTP_PORT")
		# a reset (ECONNREFUSED) at once, not a timeout after the SYN retries
		assert_eq "${r% *}" ECONNREFUSED "connect to $dst after SIGKILL ($ks), TUN gone ($r)"
		[ "${r#* }" -lt 5000 ] || fail "connect to $dst took ${r#* } ms to fail after SIGKILL ($ks)"
		log "crash ($ks): connect to $dst refused after ${r#* } ms"
	done
	sleep 0.2
	assert_eq "$(($(leaks) - l0))" 0 "TCP packets at PRX after the crash ($ks)"
	n_cli "$E2E_PROXYVPN" down --state-dir "$SD" >"$T_OUT/down.log" 2>&1 || fail "down ($ks): $(cat "$T_OUT/down.log")"
done

# --- (7) a socket bound to the uplink: its marked TCP matches neither of our
# dev routes, and the kernel then assumes the destination is on-link; with a
# router that answers ARP for it (here: a static neighbour entry for DST's
# address with PRX's MAC) the SYN would leave by the uplink. It is dropped
# after the reroute (postrouting: reject is not allowed there, so the
# connect times out; nothing may leave).
prx_mac=$(n_prx cat /sys/class/net/r0/address)
n_cli ip neigh replace "$DST4" lladdr "$prx_mac" dev c0 nud permanent || fail "static neighbour"
on_exit "n_cli ip neigh del $DST4 dev c0 2>/dev/null"
# positive control: without proxyvpn the bound probe is counted at PRX
l0=$(leaks)
n_cli timeout 10 curl -sS --noproxy '*' --max-time 1 --interface c0 -o /dev/null \
	"http://$DST4:$HTTP_PORT/small" 2>/dev/null || true
[ "$(($(leaks) - l0))" -gt 0 ] || fail "control: a bound SYN from CLI is not counted at PRX"
for ks in --killswitch --no-killswitch; do
	start_up "$T_OUT/up-bound$ks.log" "$ks"
	l0=$(leaks)
	r=$(n_cli timeout 30 "$PY" -c '
import errno, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"c0")
s.settimeout(2)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))
' "$DST4" "$HTTP_PORT")
	sleep 0.2
	assert_eq "$(($(leaks) - l0))" 0 "TCP packets at PRX from a socket bound to the uplink ($ks)"
	[ "$r" != connected ] || fail "a socket bound to the uplink connected ($ks)"
	stop_up
done
n_cli ip neigh del "$DST4" dev c0

log "upctl: status --json lists the live flow with counters; ctl 0600; uid 65534 refused; hostile clients harmless; socket removed by teardown and by down; --table/--mark/--priority used, recorded, removed, refused when taken; after a crash TCP is refused at once, 0 leaked"
