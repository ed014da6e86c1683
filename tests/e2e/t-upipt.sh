#!/bin/bash
# upipt: host mode with the iptables fallback (`up --firewall iptables`), the
# core of the up test: TCP (IPv4, IPv6) goes through the proxy with no nft
# rule of ours (only up's claim of the host: an empty table naming it); UDP
# (IPv4, IPv6) is refused and nothing reaches PRX (counted there, with a
# positive control); after SIGKILL the killswitch holds and TCP
# is refused at once; `down` restores CLI's rules, routes, links and
# iptables rulesets exactly. Run twice: with iptables-nft (Debian's default
# `iptables`) and with iptables-legacy (in a private mount namespace where
# the legacy binary is bind-mounted over the nft one). With nftables failing
# (fault build), the default --firewall auto falls back to iptables as root,
# and --firewall nft fails naming the step, changing nothing.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

if [ "${PVE2E_IPT_VARIANT:-}" = "" ]; then
	command -v iptables-restore >/dev/null && [ -x /usr/sbin/xtables-legacy-multi ] ||
		{ echo "SKIPPED: iptables not installed (bash scripts/deps.sh --test)"; exit 77; }
	PVE2E_IPT_VARIANT=nft "$0" "$@" || exit 1
	# a private mount namespace: only this run sees legacy iptables
	PVE2E_IPT_VARIANT=legacy unshare -m --propagation private sh -c \
		'mount --bind /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-nft-multi && exec "$0" "$@"' \
		"$0" "$@" || exit 1
	log "upipt: iptables fallback (nft and legacy): TCP proxied, UDP refused with 0 leaked, SIGKILL holds and fails fast, down restores exactly"
	exit 0
fi
V=$PVE2E_IPT_VARIANT
case $V in
nft) n_cli iptables -V | grep -q nf_tables || fail "iptables is not iptables-nft: $(n_cli iptables -V)" ;;
legacy) n_cli iptables -V | grep -q legacy || fail "iptables is not iptables-legacy: $(n_cli iptables -V)" ;;
esac

UDP_PORT=9999
SD=$T_OUT/state
URL=$(proxy_url socks5)
UP_PID=""

n_prx nft -f - <<NFT || fail "cannot add the counter table in PRX"
table inet pve2eipt {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "r0" udp dport $UDP_PORT counter
		iifname "r0" tcp dport $HTTP_PORT counter
	}
}
NFT
on_exit "n_prx nft delete table inet pve2eipt"
leaks() {
	n_prx nft list chain inet pve2eipt pre | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' |
		awk '{ n += $1 } END { print n + 0 }'
}

udp_probe() { # HOST: "sent" or "error:..."
	n_cli timeout 10 "$PY" -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.send(b"leak?")
    print("sent")
except OSError as e:
    print("error:" + (e.strerror or str(e)))
' "$1" "$UDP_PORT"
}

tcp_connect() { # HOST PORT: "connected" or the errno name
	n_cli timeout 30 "$PY" -c '
import errno, socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam)
s.settimeout(20)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))
' "$1" "$2"
}

snapshot() {
	{
		n_cli ip rule; n_cli ip -6 rule
		n_cli ip route show table all; n_cli ip -6 route show table all
		# (in the legacy run's private mount namespace, netns that other runs
		# created since are not mounted: ip says so on stderr)
		n_cli ip link 2>/dev/null
		n_cli iptables-save | grep -v '^#'; n_cli ip6tables-save | grep -v '^#'
		n_cli nft list ruleset
	} 2>&1 | sed 's/\[[0-9]*:[0-9]*\]//'	# chain packet counters
}

start_up() { # LOGFILE
	up_start "$1" --firewall iptables
	grep -q "killswitch on (iptables)" "$1" || fail "up ($V) did not use iptables: $(cat "$1")"
}

fetch() { # URL
	rm -f "$T_OUT/small"
	n_cli timeout 30 curl -sS -g --noproxy '*' --max-time 20 -o "$T_OUT/small" "$1" ||
		fail "$V: curl $1 failed"
	assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "$V: $1"
}

no_leak() { # WHAT
	local l0 r dst
	l0=$(leaks)
	for dst in "$DST4" "$DST6"; do
		r=$(udp_probe "$dst")
		case $r in error:*) ;; *) fail "$V, $1: the UDP probe to $dst was not refused ($r)" ;; esac
	done
	sleep 0.2
	assert_eq "$(($(leaks) - l0))" 0 "$V, $1: packets from CLI counted at PRX"
}

ipt_baseline
snapshot >"$T_OUT/before"

# positive control: without proxyvpn the probes leave CLI and are counted
l0=$(leaks)
assert_eq "$(udp_probe "$DST4")" sent "$V: control: UDP probe before up"
sleep 0.2
[ "$(($(leaks) - l0))" -gt 0 ] || fail "$V: control: the UDP probe before up is not counted at PRX"

start_up "$T_OUT/up1.log"
# nftables works here: the only nft object is up's claim of the host, an
# empty table whose comment names it
t=$(n_cli nft list table inet proxyvpn 2>&1) || fail "$V: no claim (table inet proxyvpn) with --firewall iptables"
grep -q "comment \"proxyvpn uid=0 pid=$UP_PID start=[0-9]*\"" <<<"$t" && ! grep -q chain <<<"$t" ||
	fail "$V: with --firewall iptables, table inet proxyvpn is not up's empty claim: $t"
for t in iptables ip6tables; do
	r=$(n_cli "$t-save")
	grep -q -- "-A OUTPUT -m comment --comment proxyvpn -j PROXYVPN-KS" <<<"$r" || fail "$V: no $t killswitch jump: $r"
	grep -q -- "-A INPUT -m comment --comment proxyvpn -j PROXYVPN-FF" <<<"$r" || fail "$V: no $t fail-fast jump: $r"
	grep -q -- "-A OUTPUT -m comment --comment proxyvpn -j PROXYVPN-MARK" <<<"$r" || fail "$V: no $t mark jump: $r"
	grep -q -- "-A POSTROUTING -m comment --comment proxyvpn -j PROXYVPN-GUARD" <<<"$r" || fail "$V: no $t guard jump: $r"
	# forwarded traffic (containers; e2e upfwd drives it)
	grep -q -- "-A PREROUTING -m comment --comment proxyvpn -j PROXYVPN-FWDMARK" <<<"$r" || fail "$V: no $t forward mark jump: $r"
	grep -q -- "-A FORWARD -m comment --comment proxyvpn -j PROXYVPN-FWD" <<<"$r" || fail "$V: no $t forward filter jump: $r"
done
n_cli "$E2E_PROXYVPN" status --state-dir "$SD" | grep -q "^firewall: iptables chains PROXYVPN-" ||
	fail "$V: status does not name the iptables backend"
fetch "http://$DST4:$HTTP_PORT/small"
fetch "http://[$DST6]:$HTTP_PORT/small"
no_leak "up"
# a socket bound to the uplink, with a neighbour entry that would carry its
# SYN out (see t-upctl.sh): dropped by PROXYVPN-GUARD, nothing at PRX
n_cli ip neigh replace "$DST4" lladdr "$(n_prx cat /sys/class/net/r0/address)" dev c0 nud permanent
l0=$(leaks)
r=$(n_cli timeout 30 "$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"c0")
s.settimeout(2)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("connected")
except OSError as e:
    print("error")
' "$DST4" "$HTTP_PORT")
n_cli ip neigh del "$DST4" dev c0
sleep 0.2
assert_eq "$r" error "$V: connect from a socket bound to the uplink"
assert_eq "$(($(leaks) - l0))" 0 "$V: TCP packets at PRX from a socket bound to the uplink"

kill -KILL "$UP_PID"
wait_pid_exit "$UP_PID" 5 || fail "$V: up did not die on SIGKILL"
no_leak "after SIGKILL"
l0=$(leaks)
for dst in "$DST4" "$DST6"; do
	assert_eq "$(tcp_connect "$dst" "$HTTP_PORT")" ECONNREFUSED "$V: TCP to $dst after SIGKILL"
done
sleep 0.2
assert_eq "$(($(leaks) - l0))" 0 "$V: TCP packets at PRX after SIGKILL"
rc=0
n_cli "$E2E_PROXYVPN" down --state-dir "$SD" -v >"$T_OUT/down.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "$V: down after SIGKILL: $(cat "$T_OUT/down.log")"
snapshot >"$T_OUT/after"
diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "$V: down after SIGKILL: CLI differs from before up (diff above)"

# and without the state file: down finds the chains by name and tag
start_up "$T_OUT/up2.log"
kill -KILL "$UP_PID"
wait_pid_exit "$UP_PID" 5 || fail "$V: up did not die on SIGKILL"
rm -f "$SD/state"
n_cli "$E2E_PROXYVPN" down --state-dir "$SD" -v >"$T_OUT/down2.log" 2>&1 || fail "$V: down by tags: $(cat "$T_OUT/down2.log")"
grep -q "removed our iptables chains" "$T_OUT/down2.log" || fail "$V: down by tags: $(cat "$T_OUT/down2.log")"
snapshot >"$T_OUT/after"
diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "$V: down by tags: CLI differs from before up (diff above)"

# a clean SIGTERM teardown
start_up "$T_OUT/up3.log"
fetch "http://$DST4:$HTTP_PORT/small"
kill -TERM "$UP_PID"
wait_pid_exit "$UP_PID" 10 || fail "$V: up did not exit on SIGTERM"
assert_eq "$WAIT_RC" 0 "$V: up exit status after SIGTERM"
snapshot >"$T_OUT/after"
diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "$V: up + SIGTERM: CLI differs from before up (diff above)"
# auto: nftables failing (the fault build's PROXYVPN_FAULT_NFT, as on a
# kernel without nf_tables) makes up, as root, fall back to iptables
if [ "$V" = nft ]; then
	[ -x "$E2E_PROXYVPN_FAULT" ] || fail "no fault build at $E2E_PROXYVPN_FAULT (run: make fault)"
	ip netns exec "$E2E_NS_CLI" env "PVE2E_TAG=$E2E_TAG" PROXYVPN_FAULT_NFT=1 "$E2E_PROXYVPN_FAULT" up \
		--proxy "$URL" --tun pvpn0 --state-dir "$SD" -v >"$T_OUT/up4.log" 2>&1 &
	UP_PID=$!
	track_pid "$UP_PID"
	deadline=$(($(now_ms) + 10000))
	until grep -q "up: ready: " "$T_OUT/up4.log" 2>/dev/null; do
		kill -0 "$UP_PID" 2>/dev/null || fail "up (auto, nft failing) exited: $(cat "$T_OUT/up4.log")"
		[ "$(now_ms)" -lt "$deadline" ] || fail "up (auto, nft failing) not ready after 10 s"
		sleep 0.05
	done
	grep -q "nftables failed (.*PROXYVPN_FAULT_NFT.*): using the iptables fallback" "$T_OUT/up4.log" &&
		grep -q "killswitch on (iptables)" "$T_OUT/up4.log" ||
		fail "up (auto) did not fall back to iptables: $(cat "$T_OUT/up4.log")"
	n_cli nft list table inet proxyvpn >/dev/null 2>&1 && fail "up (auto, nft failing) left an nft table"
	fetch "http://$DST4:$HTTP_PORT/small"
	no_leak "auto fallback"
	kill -TERM "$UP_PID"
	wait_pid_exit "$UP_PID" 10 || fail "up (auto) did not exit on SIGTERM"
	assert_eq "$WAIT_RC" 0 "up (auto) exit status after SIGTERM"
	snapshot >"$T_OUT/after"
	diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "up (auto fallback) + SIGTERM: CLI differs (diff above)"
	# --firewall nft: no fallback, the failure named, nothing left
	rc=0
	n_cli env PROXYVPN_FAULT_NFT=1 "$E2E_PROXYVPN_FAULT" up --proxy "$URL" --tun pvpn0 --state-dir "$SD" \
		--firewall nft >"$T_OUT/up5.log" 2>&1 || rc=$?
	assert_eq "$rc" 125 "up --firewall nft with nftables failing: $(cat "$T_OUT/up5.log")"
	grep -q "up: firewall: nft apply" "$T_OUT/up5.log" || fail "up --firewall nft: $(cat "$T_OUT/up5.log")"
	snapshot >"$T_OUT/after"
	diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "up --firewall nft failing: CLI differs (diff above)"
fi
log "upipt ($V): TCP proxied, UDP refused with 0 leaked, SIGKILL holds and fails fast, down (record, tags) and SIGTERM restore exactly"
