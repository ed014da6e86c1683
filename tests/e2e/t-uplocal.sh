#!/bin/bash
# uplocal: host mode with the proxy on this host (issue 14, item 2). Each
# proxy's own upstream must stay out of the tunnel, found by `up` itself:
#   (A) `ssh -D 127.0.0.1:1080` (root, as in a login shell) to an sshd in PRX
#       (PRX4:2222, its own host key and config): up keeps the ssh
#       connection out by address and port and says so; then curl, ssh (to
#       an sshd in DST) and git (git:// from `git daemon` in DST) work with
#       no proxy settings, the ssh -D session survives, and nothing else
#       from CLI reaches PRX (observer, with a positive control);
#   (B) danted run as a system user the test creates (127.0.0.1:1085,
#       chaining to PRX's microsocks): up keeps that uid out; curl and ssh
#       through it, 0 leaked; the same with --firewall iptables;
#   (C) a SOCKS server started by root (danted: its sockets belong to nobody,
#       a uid unrelated daemons share) with no connection out: up refuses,
#       naming --exclude-uid and --exclude-cgroup, and changes nothing;
#   (D) the same server, run in a cgroup of the test's and named with
#       --exclude-cgroup: its upstream (chained to PRX) stays out, curl works
#       (skipped where no cgroup v2 hierarchy is mounted).
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
for t in /usr/sbin/sshd ssh ssh-keygen git danted; do
	command -v "$t" >/dev/null || { echo "SKIPPED: no $t (bash scripts/deps.sh --test)"; exit 77; }
done

SD=$T_OUT/state
BASTION_PORT=2222
LOCAL_SSH=1080
LOCAL_DANTE=1085
LOCAL_ROOT=1086
GIT_PORT=9418
UP_PID=""

# ---- keys, sshd in PRX (the bastion) and in DST, git daemon in DST ----
ssh-keygen -q -t ed25519 -N '' -C pve2e-host -f "$T_OUT/hostkey" || fail "ssh-keygen (host)"
ssh-keygen -q -t ed25519 -N '' -C pve2e-user -f "$T_OUT/userkey" || fail "ssh-keygen (user)"
cp "$T_OUT/userkey.pub" "$T_OUT/authorized_keys"
cat >"$T_OUT/sshd_config" <<EOF
HostKey $T_OUT/hostkey
PidFile none
AuthorizedKeysFile $T_OUT/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
LogLevel ERROR
EOF
# sshd needs /run/sshd (its privsep chroot): a tmpfs of its own over /run, in
# the private mount namespace `ip netns exec` gives it, so the host's /run is
# never touched. (ip execs sh, sh execs sshd: $! is sshd.)
start_sshd() { # NS LISTEN LOG
	ip netns exec "$1" sh -c 'mount -t tmpfs -o mode=0755 pve2e-run /run && mkdir -m 0755 /run/sshd &&
		exec /usr/sbin/sshd -D -e -f "$1" -o ListenAddress="$2"' sshd "$T_OUT/sshd_config" "$2" \
		>"$3" 2>&1 &
	track_pid $!
}
start_sshd "$E2E_NS_PRX" "$PRX4:$BASTION_PORT" "$T_OUT/sshd-prx.log"
start_sshd "$E2E_NS_DST" "$DST4:22" "$T_OUT/sshd-dst.log"
wait_port n_prx "$BASTION_PORT" || { cat "$T_OUT/sshd-prx.log" >&2; fail "sshd in PRX did not listen"; }
wait_port n_dst 22 || { cat "$T_OUT/sshd-dst.log" >&2; fail "sshd in DST did not listen"; }

mkdir -p "$T_OUT/work" "$T_OUT/git"
echo "proxied by proxyvpn $E2E_TAG" >"$T_OUT/work/README"
GIT=(git -c user.name=pve2e -c user.email=pve2e@example.invalid -c init.defaultBranch=main)
"${GIT[@]}" -C "$T_OUT/work" init -q && "${GIT[@]}" -C "$T_OUT/work" add README &&
	"${GIT[@]}" -C "$T_OUT/work" commit -q -m test &&
	"${GIT[@]}" clone -q --bare "$T_OUT/work" "$T_OUT/git/repo.git" || fail "making the git repository"
ip netns exec "$E2E_NS_DST" git daemon --reuseaddr --export-all --base-path="$T_OUT/git" \
	--listen="$DST4" --port="$GIT_PORT" >"$T_OUT/gitd.log" 2>&1 &
track_pid $!
wait_port n_dst "$GIT_PORT" || fail "git daemon did not listen in DST"

# ---- observer in PRX: everything from CLI but the local proxies' upstreams ----
n_prx nft -f - <<EOF || fail "cannot add the counter table in PRX"
table inet pve2elocal {
	counter bastion {}
	counter chained {}
	counter other {}
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname != "r0" accept
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, mld-listener-report, mld2-listener-report } accept
		tcp dport $BASTION_PORT counter name "bastion" accept
		tcp dport $SOCKS_PORT counter name "chained" accept
		counter name "other"
	}
}
EOF
on_exit "n_prx nft delete table inet pve2elocal"
count() { n_prx nft list counter inet pve2elocal "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }

snapshot() { # FILE
	{
		n_cli ip rule; n_cli ip -6 rule
		n_cli ip route show table all; n_cli ip -6 route show table all
		n_cli ip link; n_cli nft list ruleset
	} >"$1" 2>&1
}
same_as_before() { # WHAT
	snapshot "$T_OUT/after"
	diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "$1: CLI's namespace differs from before up (diff above)"
}
stop_up() { # WHAT
	kill -TERM "$UP_PID"
	wait_pid_exit "$UP_PID" 10 || fail "$1: up did not exit within 10 s of SIGTERM"
	assert_eq "$WAIT_RC" 0 "$1: up exit status after SIGTERM"
	same_as_before "$1 + SIGTERM"
}

fetch() { # WHAT
	rm -f "$T_OUT/small"
	n_cli timeout 30 curl -sS --noproxy '*' --max-time 20 -o "$T_OUT/small" "http://$DST4:$HTTP_PORT/small" ||
		fail "$1: curl failed"
	assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "$1"
}
ssh_dst() { # WHAT: a command over ssh to DST's sshd, no proxy settings
	local out
	out=$(n_cli timeout 30 ssh -F /dev/null -i "$T_OUT/userkey" -o IdentitiesOnly=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
		-o LogLevel=ERROR -o ConnectTimeout=10 "root@$DST4" "echo ssh-ok-\$((6 * 7))" 2>&1) ||
		fail "$1: ssh to DST failed: $out"
	assert_eq "$out" "ssh-ok-42" "$1: ssh to DST"
}
git_clone() { # WHAT
	rm -rf "$T_OUT/clone"
	n_cli timeout 30 git clone -q "git://$DST4:$GIT_PORT/repo.git" "$T_OUT/clone" 2>"$T_OUT/git.err" ||
		fail "$1: git clone failed: $(cat "$T_OUT/git.err")"
	assert_eq "$(cat "$T_OUT/clone/README")" "proxied by proxyvpn $E2E_TAG" "$1: cloned README"
}
via() { # PORT WHAT: curl with the local proxy set explicitly (before up: the proxy works)
	rm -f "$T_OUT/small"
	n_cli timeout 30 curl -sS --max-time 20 --proxy "socks5://127.0.0.1:$1" -o "$T_OUT/small" \
		"http://$DST4:$HTTP_PORT/small" || fail "$2: curl through 127.0.0.1:$1 failed"
	assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "$2"
}

ipt_baseline # the iptables runs below leave iptables' own tables
snapshot "$T_OUT/before"
# positive control: a direct connection from CLI is counted at PRX
o0=$(count other)
n_cli timeout 10 curl -sS --noproxy '*' --max-time 1 -o /dev/null "http://$DST4:$HTTP_PORT/small" 2>/dev/null || true
[ "$(($(count other) - o0))" -gt 0 ] || fail "control: a direct TCP probe from CLI is not counted at PRX"

# ---- (A) ssh -D on CLI's loopback, run by root ----
# (a simple command: ip and env exec in turn, so $! is ssh)
ip netns exec "$E2E_NS_CLI" env "PVE2E_TAG=$E2E_TAG" ssh -F /dev/null -i "$T_OUT/userkey" -o IdentitiesOnly=yes \
	-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR \
	-o ExitOnForwardFailure=yes -N -D "127.0.0.1:$LOCAL_SSH" -p "$BASTION_PORT" "root@$PRX4" \
	>"$T_OUT/ssh-D.log" 2>&1 &
SSHD_PID=$!
track_pid "$SSHD_PID"
wait_port n_cli "$LOCAL_SSH" || { cat "$T_OUT/ssh-D.log" >&2; fail "ssh -D did not listen"; }
via "$LOCAL_SSH" "control: curl through ssh -D"

URL=socks5://127.0.0.1:$LOCAL_SSH
up_start "$T_OUT/upA.log"
grep -q "the proxy 127.0.0.1:$LOCAL_SSH runs on this host (ssh, pid $SSHD_PID, uid 0): its connections to $PRX4:$BASTION_PORT are kept out of the tunnel" "$T_OUT/upA.log" ||
	fail "up does not say what it kept out: $(cat "$T_OUT/upA.log")"
[ "$(grep -c 'kept out of the tunnel' "$T_OUT/upA.log")" = 1 ] || fail "more than one line: $(cat "$T_OUT/upA.log")"
o0=$(count other)
b0=$(count bastion)
fetch "ssh -D: curl"
ssh_dst "ssh -D"
git_clone "ssh -D"
fetch "ssh -D: curl again"
kill -0 "$SSHD_PID" 2>/dev/null || fail "the ssh -D session died: $(cat "$T_OUT/ssh-D.log")"
[ -n "$(n_cli ss -Htn state established dport = ":$BASTION_PORT")" ] || fail "ssh -D's connection to the bastion is gone"
[ "$(($(count bastion) - b0))" -gt 0 ] || fail "the ssh -D upstream did not reach PRX directly"
sleep 0.2
assert_eq "$(($(count other) - o0))" 0 "ssh -D: other packets from CLI counted at PRX"
stop_up "up with ssh -D"
kill -0 "$SSHD_PID" 2>/dev/null || fail "the ssh -D session died with up: $(cat "$T_OUT/ssh-D.log")"
via "$LOCAL_SSH" "ssh -D after up"
log "ssh -D: kept out by its connection to $PRX4:$BASTION_PORT; curl, ssh and git through it; the session survived"

# ---- (B) danted as a dedicated system user, chained to PRX's microsocks ----
SU=pve2e$$
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SU" ||
	fail "useradd $SU"
DANTE_PIDS=()
# Before userdel: danted's mother (its workers exit with it), then a bounded
# wait for every process of the user to be gone.
cleanup_dante() {
	local p deadline=$(($(now_ms) + 5000))
	for p in "${DANTE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	while pgrep -u "$SU" >/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.05; done
	userdel "$SU"
}
on_exit cleanup_dante
SUID=$(id -u "$SU")
write_dante() { # FILE PORT USER
	cat >"$1" <<EOF
logoutput: stderr
internal: 127.0.0.1 port = $2
external: c0
clientmethod: none
socksmethod: none
user.privileged: $3
user.unprivileged: $3
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 command: connect }
route { from: 0.0.0.0/0 to: 0.0.0.0/0 via: $PRX4 port = $SOCKS_PORT proxyprotocol: socks_v5 }
EOF
}
chmod 0711 "$T_OUT" # danted as $SU reads its config there
write_dante "$T_OUT/danted-user.conf" "$LOCAL_DANTE" "$SU"
chmod 0644 "$T_OUT/danted-user.conf"
ip netns exec "$E2E_NS_CLI" setpriv --reuid "$SU" --regid "$SU" --clear-groups \
	danted -f "$T_OUT/danted-user.conf" -N 1 -p /dev/null >"$T_OUT/danted-user.log" 2>&1 &
DANTE_PIDS+=($!)
wait_port n_cli "$LOCAL_DANTE" || { cat "$T_OUT/danted-user.log" >&2; fail "danted ($SU) did not listen"; }
via "$LOCAL_DANTE" "control: curl through danted ($SU)"

URL=socks5://127.0.0.1:$LOCAL_DANTE
up_start "$T_OUT/upB.log"
grep -q "the proxy 127.0.0.1:$LOCAL_DANTE runs on this host (danted, pid [0-9]*, uid $SUID): traffic of uid $SUID (a system user) is kept out of the tunnel" "$T_OUT/upB.log" ||
	fail "up does not say it kept uid $SUID out: $(cat "$T_OUT/upB.log")"
o0=$(count other)
c0=$(count chained)
fetch "danted ($SU): curl"
ssh_dst "danted ($SU)"
[ "$(($(count chained) - c0))" -gt 0 ] || fail "danted's upstream did not reach PRX directly"
r=$(n_cli timeout 10 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"leak?", (sys.argv[1], 9999))
    print("sent")
except OSError as e:
    print("error:" + e.strerror)
' "$DST4")
case $r in error:*) ;; *) fail "danted ($SU): a UDP probe was not refused ($r)" ;; esac
sleep 0.2
assert_eq "$(($(count other) - o0))" 0 "danted ($SU): other packets from CLI counted at PRX"
stop_up "up with danted ($SU)"
# the iptables fallback keeps the uid out the same way (-m owner)
up_start "$T_OUT/upB2.log" --firewall iptables
grep -q "traffic of uid $SUID (a system user) is kept out" "$T_OUT/upB2.log" ||
	fail "iptables: $(cat "$T_OUT/upB2.log")"
o0=$(count other)
fetch "danted ($SU), iptables: curl"
sleep 0.2
assert_eq "$(($(count other) - o0))" 0 "danted ($SU), iptables: other packets from CLI counted at PRX"
stop_up "up --firewall iptables with danted ($SU)"
log "danted as $SU (uid $SUID): its uid kept out (nftables and iptables); curl and ssh through it, 0 leaked"

# ---- (C) a SOCKS server started by root (sockets of nobody), no connection out: refused ----
write_dante "$T_OUT/danted-root.conf" "$LOCAL_ROOT" nobody
sed -i 's/^user.privileged: nobody$/user.privileged: root/' "$T_OUT/danted-root.conf"
# start_root_dante [CGROUP-DIR]: danted as root, moved into a cgroup first (here,
# where the host's /sys is: `ip netns exec` mounts a fresh one); sh, ip and
# danted exec in turn, so $! is danted.
start_root_dante() {
	sh -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs" || exit 1
		exec ip netns exec "$2" danted -f "$3" -N 1 -p /dev/null' danted "${1:-}" \
		"$E2E_NS_CLI" "$T_OUT/danted-root.conf" >"$T_OUT/danted-root.log" 2>&1 &
	ROOT_DANTE=$!
	track_pid "$ROOT_DANTE"
	wait_port n_cli "$LOCAL_ROOT" || { cat "$T_OUT/danted-root.log" >&2; fail "danted (root) did not listen"; }
}
start_root_dante
URL=socks5://127.0.0.1:$LOCAL_ROOT
rc=0
n_cli "$E2E_PROXYVPN" up --proxy "$URL" --tun pvpn0 --state-dir "$SD" >"$T_OUT/upC.log" 2>&1 || rc=$?
assert_eq "$rc" 125 "up with a root-run local proxy and no exclusion: $(cat "$T_OUT/upC.log")"
grep -q "runs on this host (danted, pid $ROOT_DANTE, uid 65534)" "$T_OUT/upC.log" &&
	grep -q -- "--exclude-uid" "$T_OUT/upC.log" && grep -q -- "--exclude-cgroup" "$T_OUT/upC.log" ||
	fail "the refusal does not say what to do: $(cat "$T_OUT/upC.log")"
same_as_before "up refused for a root-run local proxy"
kill -TERM "$ROOT_DANTE"
wait_pid_exit "$ROOT_DANTE" 5 || fail "danted (root) did not exit"
log "a local proxy of nobody's with no connection out: up refused, naming --exclude-uid/--exclude-cgroup"

# ---- (D) the same server in a cgroup of ours, named with --exclude-cgroup ----
V2=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2" && $4 == "/") { print $5; exit } break } }' /proc/self/mountinfo)
case $V2 in /sys/fs/cgroup | /sys/fs/cgroup/*) ;; *) V2="" ;; esac
if [ -z "$V2" ] || [ ! -w "$V2" ]; then
	log "(D) skipped: no writable cgroup v2 hierarchy at or under /sys/fs/cgroup"
	exit 0
fi
CG=pve2e-$$
mkdir "$V2/$CG" || fail "mkdir $V2/$CG"
cleanup_cg() { # danted out of it first: a cgroup with a process cannot go
	kill -TERM "$ROOT_DANTE" 2>/dev/null
	wait_pid_exit "$ROOT_DANTE" 5 || kill -KILL "$ROOT_DANTE" 2>/dev/null
	wait_pid_exit "$ROOT_DANTE" 2
	rmdir "$V2/$CG"
}
on_exit cleanup_cg
start_root_dante "$V2/$CG"
grep -qx "0::/$CG" "/proc/$ROOT_DANTE/cgroup" || fail "danted is not in cgroup /$CG: $(cat "/proc/$ROOT_DANTE/cgroup")"
# `ip netns exec` gives up a fresh /sys: it mounts the v2 hierarchy there first
# (in its own mount namespace), as a host's /sys/fs/cgroup would have it.
cat >"$T_OUT/pvwrap" <<EOF
#!/bin/sh
mount -t cgroup2 none /sys/fs/cgroup || exit 1
exec "$E2E_PROXYVPN" "\$@"
EOF
chmod 0755 "$T_OUT/pvwrap"
E2E_PROXYVPN=$T_OUT/pvwrap up_start "$T_OUT/upD.log" --exclude-cgroup "/$CG"
grep -q "kept out of the tunnel only by your --exclude options" "$T_OUT/upD.log" ||
	fail "up does not say it relies on --exclude-cgroup: $(cat "$T_OUT/upD.log")"
o0=$(count other)
c0=$(count chained)
fetch "--exclude-cgroup: curl"
[ "$(($(count chained) - c0))" -gt 0 ] || fail "--exclude-cgroup: danted's upstream did not reach PRX directly"
sleep 0.2
assert_eq "$(($(count other) - o0))" 0 "--exclude-cgroup: other packets from CLI counted at PRX"
stop_up "up --exclude-cgroup"
kill -TERM "$ROOT_DANTE"
wait_pid_exit "$ROOT_DANTE" 5 || fail "danted (root, cgroup) did not exit"
log "--exclude-cgroup /$CG: the root-run danted in it kept out, curl through it"
