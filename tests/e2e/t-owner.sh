#!/bin/bash
# owner: host mode on a machine with other users (issue 13 items 1, 2, 4).
# A copy of the binary made root:proxyvpn 0750 cap_net_admin+ep by
# scripts/install-priv.sh (what `make install` does), two users of the group
# made for this run, ALICE and BOB, and BOB once more outside the group.
#  - ALICE's `up` owns the host: the nft table's comment and the TUN's alias
#    name her uid and pid; a queue of the multi-queue TUN cannot be attached
#    by another uid (TUNSETOWNER).
#  - BOB can neither `down` it (his own state dir, or one holding a copy of
#    ALICE's state file), nor take over (`up`), nor `up` beside it (another
#    TUN), nor can root: each is refused naming ALICE's pid and user, and the
#    host's objects are unchanged byte for byte (nft -j list ruleset, ip
#    rule, ip route show table all, ip link).
#  - the control socket answers ALICE (capability-only mode: the engine runs
#    in a user namespace of its own) and refuses BOB.
#  - ALICE's `up` SIGKILLed: BOB may not remove her leftovers (down, up),
#    she may; the host is then as before.
#  - `up --tun NAME` refuses an interface that exists.
#  - outside the group: the 0750 copy cannot be run at all, and a copy with
#    the capability but mode 0755 refuses up and down, naming the group.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

URL=$(proxy_url socks5)
ALICE=pvoa$$
BOB=pvob$$

# --- users, group, the installed copy ---
test_user "$ALICE"
test_user "$BOB"
UP_PID=""
GROUP=$E2E_GROUP
orig_tun=$(stat -c %a /dev/net/tun)
on_exit "chmod $orig_tun /dev/net/tun"
chmod 0666 /dev/net/tun
chmod 0711 "$E2E_TMP/app" "$T_OUT"
bin=$T_OUT/bin
cap_copy "$bin"
gid=$E2E_GID
assert_eq "$(stat -c '%U:%G %a' "$bin/proxyvpn")" "root:$GROUP 750" "the installed copy"
getcap "$bin/proxyvpn" | grep -q "cap_net_admin=ep" || fail "no cap_net_admin+ep: $(getcap "$bin/proxyvpn")"
# the old way (README before issue 13): mode 0755 with the capability
install -m 0755 "$E2E_PROXYVPN" "$bin/proxyvpn-0755"
setcap cap_net_admin+ep "$bin/proxyvpn-0755" || fail "setcap"

for u in "$ALICE" "$BOB"; do
	mkdir -m 0700 "$T_OUT/xdg-$u"
	chown "$u" "$T_OUT/xdg-$u"
done
# as USER [--nogroup] CMD...: in CLI as USER, in the group unless --nogroup
as() {
	local u=$1 groups=(--groups "$gid")
	shift
	[ "$1" = --nogroup ] && { groups=(--clear-groups); shift; }
	ip netns exec "$E2E_NS_CLI" setpriv --reuid "$u" --regid nogroup "${groups[@]}" \
		env "PVE2E_TAG=$E2E_TAG" "XDG_RUNTIME_DIR=$T_OUT/xdg-$u" "$@"
}
snapshot() {
	{
		n_cli nft -j list ruleset
		n_cli ip rule
		n_cli ip -6 rule
		n_cli ip route show table all
		n_cli ip -6 route show table all
		n_cli ip -d link show
	} 2>&1
}
# unchanged WHAT: the host's objects are as in $T_OUT/snap.up
unchanged() {
	snapshot >"$T_OUT/snap.now"
	diff -u "$T_OUT/snap.up" "$T_OUT/snap.now" >&2 || fail "$1 changed the host's objects (diff above)"
}
# refused WANT_RC LOG WHAT: exit status WANT_RC and a message naming ALICE's up
refused() {
	assert_eq "$RC" "$1" "$3: $(cat "$2")"
	grep -q "pid $UP_PID of user $ALICE" "$2" || fail "$3: the owner is not named: $(cat "$2")"
}
snapshot >"$T_OUT/snap.before"

# --- ALICE's up, with two queues ---
# a simple command (ip, setpriv, env exec in turn), so $! is proxyvpn itself
ip netns exec "$E2E_NS_CLI" setpriv --reuid "$ALICE" --regid nogroup --groups "$gid" \
	env "PVE2E_TAG=$E2E_TAG" "XDG_RUNTIME_DIR=$T_OUT/xdg-$ALICE" "$bin/proxyvpn" up --proxy "$URL" \
	--workers 2 -v >"$T_OUT/alice.log" 2>&1 &
UP_PID=$!
track_pid "$UP_PID"
wait_log "$T_OUT/alice.log" "up: ready: " 10 || fail "ALICE's up: $(cat "$T_OUT/alice.log")"
auid=$(id -u "$ALICE")
comment=$(n_cli nft list table inet proxyvpn | sed -n '2s/^\tcomment "\(.*\)"$/\1/p')
case $comment in
"proxyvpn uid=$auid pid=$UP_PID start="[0-9]*) ;;
*) fail "the nft table's comment does not name ALICE's up: '$comment'" ;;
esac
alias=$(n_cli cat /sys/class/net/pvpn0/ifalias)
assert_eq "$alias" "$comment" "the TUN's alias"
n_cli timeout 30 curl -sS -g --noproxy '*' --max-time 20 -o "$T_OUT/small" "http://$DST4:$HTTP_PORT/small" ||
	fail "TCP through ALICE's up"
assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "TCP through ALICE's up"
snapshot >"$T_OUT/snap.up"

# another uid attaching a queue to the multi-queue TUN: refused by the kernel
r=$(as "$BOB" "$PY" -c '
import fcntl, os, struct
fd = os.open("/dev/net/tun", os.O_RDWR)
try:
    fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"pvpn0", 0x1001 | 0x100))
    print("attached")
except OSError as e:
    print(e.strerror)
')
assert_eq "$r" "Operation not permitted" "BOB attaching a queue to the TUN"

# --- BOB and root cannot touch it ---
RC=0
as "$BOB" "$bin/proxyvpn" down >"$T_OUT/b-down.log" 2>&1 || RC=$?
refused 1 "$T_OUT/b-down.log" "BOB's down"
unchanged "BOB's down"
# BOB's own state dir holding a copy of ALICE's state file
mkdir -m 0700 "$T_OUT/xdg-$BOB/forged"
install -m 0600 -o "$BOB" "$T_OUT/xdg-$ALICE/proxyvpn/state" "$T_OUT/xdg-$BOB/forged/state"
chown "$BOB" "$T_OUT/xdg-$BOB/forged"
RC=0
as "$BOB" "$bin/proxyvpn" down --state-dir "$T_OUT/xdg-$BOB/forged" >"$T_OUT/b-forged.log" 2>&1 || RC=$?
refused 1 "$T_OUT/b-forged.log" "BOB's down with ALICE's state file"
unchanged "BOB's down with ALICE's state file"
RC=0
as "$BOB" "$bin/proxyvpn" up --proxy "socks5://$PRX4:$DANTE_PORT" >"$T_OUT/b-up.log" 2>&1 || RC=$?
refused 1 "$T_OUT/b-up.log" "BOB's up (take over)"
unchanged "BOB's up (take over)"
RC=0
as "$BOB" "$bin/proxyvpn" up --proxy "$URL" --tun pvpnbob >"$T_OUT/b-beside.log" 2>&1 || RC=$?
refused 1 "$T_OUT/b-beside.log" "BOB's up beside (another TUN)"
unchanged "BOB's up beside"
RC=0
n_cli "$E2E_PROXYVPN" up --proxy "$URL" --tun pvpnroot --state-dir "$T_OUT/rootsd" >"$T_OUT/r-up.log" 2>&1 || RC=$?
refused 1 "$T_OUT/r-up.log" "root's up"
RC=0
n_cli "$E2E_PROXYVPN" down --state-dir "$T_OUT/rootsd" >"$T_OUT/r-down.log" 2>&1 || RC=$?
refused 1 "$T_OUT/r-down.log" "root's down"
unchanged "root's up and down"

# --- the control socket: ALICE answered, BOB refused ---
as "$ALICE" "$bin/proxyvpn" status --json >"$T_OUT/a-status.json" || fail "ALICE's status: exit $?"
"$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); assert j["live"]["pid"] == int(sys.argv[2]), j' \
	"$T_OUT/a-status.json" "$UP_PID" || fail "ALICE's status: no live part: $(cat "$T_OUT/a-status.json")"
chmod 0711 "$T_OUT/xdg-$ALICE" "$T_OUT/xdg-$ALICE/proxyvpn"
chmod 0666 "$T_OUT/xdg-$ALICE/proxyvpn/ctl"
r=$(as "$BOB" timeout 10 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
try:
    s.sendall(b"status\n")
    print("reply:%r" % s.recv(100))
except OSError as e:
    print("error:" + (e.strerror or str(e)))
' "$T_OUT/xdg-$ALICE/proxyvpn/ctl")
chmod 0600 "$T_OUT/xdg-$ALICE/proxyvpn/ctl"
chmod 0700 "$T_OUT/xdg-$ALICE" "$T_OUT/xdg-$ALICE/proxyvpn"
case $r in "reply:b''" | error:*) ;; *) fail "BOB got an answer from ALICE's control socket: $r" ;; esac
grep -q "peer uid $(id -u "$BOB") refused" "$T_OUT/alice.log" || fail "up did not log BOB's refusal"

# --- ALICE's up dies: her leftovers are hers and root's to remove ---
kill -KILL "$UP_PID"
wait_pid_exit "$UP_PID" 5 || fail "ALICE's up did not die on SIGKILL"
snapshot >"$T_OUT/snap.up"
n_cli ip link show pvpn0 >/dev/null 2>&1 && fail "the TUN outlived its up"
RC=0
as "$BOB" "$bin/proxyvpn" down >"$T_OUT/b-down2.log" 2>&1 || RC=$?
refused 1 "$T_OUT/b-down2.log" "BOB's down of a dead up's leftovers"
grep -q "only root or" "$T_OUT/b-down2.log" || fail "BOB's down: $(cat "$T_OUT/b-down2.log")"
RC=0
as "$BOB" "$bin/proxyvpn" up --proxy "$URL" >"$T_OUT/b-up2.log" 2>&1 || RC=$?
refused 1 "$T_OUT/b-up2.log" "BOB's up over a dead up's leftovers"
unchanged "BOB, after ALICE's up died"
as "$ALICE" "$bin/proxyvpn" down >"$T_OUT/a-down.log" 2>&1 || fail "ALICE's down: $(cat "$T_OUT/a-down.log")"
snapshot >"$T_OUT/snap.after"
diff -u "$T_OUT/snap.before" "$T_OUT/snap.after" >&2 || fail "ALICE's down left something (diff above)"

# --- up --tun NAME refuses an interface that exists ---
n_cli ip link add pvpnx type veth peer name pvpnxpeer || fail "veth"
on_exit "n_cli ip link del pvpnx 2>/dev/null"
snapshot >"$T_OUT/snap.up"
RC=0
as "$ALICE" "$bin/proxyvpn" up --proxy "$URL" --tun pvpnx >"$T_OUT/a-tun.log" 2>&1 || RC=$?
assert_eq "$RC" 125 "up --tun on an existing interface: $(cat "$T_OUT/a-tun.log")"
grep -q "interface pvpnx already exists" "$T_OUT/a-tun.log" || fail "up --tun pvpnx: $(cat "$T_OUT/a-tun.log")"
unchanged "up --tun on an existing interface"
n_cli ip link del pvpnx

# --- outside the group ---
RC=0
as "$BOB" --nogroup "$bin/proxyvpn" up --proxy "$URL" >"$T_OUT/n-0750.log" 2>&1 || RC=$?
assert_eq "$RC" 126 "BOB outside the group running the 0750 copy: $(cat "$T_OUT/n-0750.log")"
for cmd in up down; do
	args=("$cmd")
	[ "$cmd" = up ] && args+=(--proxy "$URL")
	RC=0
	as "$BOB" --nogroup "$bin/proxyvpn-0755" "${args[@]}" >"$T_OUT/n-$cmd.log" 2>&1 || RC=$?
	assert_eq "$RC" 1 "BOB outside the group: $cmd with the 0755 copy: $(cat "$T_OUT/n-$cmd.log")"
	grep -q "only root and the members of group $GROUP" "$T_OUT/n-$cmd.log" ||
		fail "BOB outside the group: $cmd: $(cat "$T_OUT/n-$cmd.log")"
done
snapshot >"$T_OUT/snap.after"
diff -u "$T_OUT/snap.before" "$T_OUT/snap.after" >&2 || fail "a refused run changed something (diff above)"

log "owner: ALICE's up owns the host (table comment, TUN alias, TUN queues); BOB and root cannot down, take over or up beside it, live or dead, objects unchanged; ctl answers ALICE, refuses BOB; --tun on an existing link refused; outside the group refused"
