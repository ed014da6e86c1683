#!/bin/bash
# upfwd: forwarded traffic under `up` (issue 16). CLI is a host with a
# Docker-shaped network: bridge pvbr0 (172.30.0.1/24, fd30::1/64) with a
# container namespace CT1 on it, ip_forward and IPv6 forwarding on, and
# iptables rules as Docker sets them (FORWARD policy DROP, accepts for the
# bridge, MASQUERADE in nat POSTROUTING for v4 and v6). PRX counts every
# packet from CLI aimed past it (DST's and TEST-NET-3's addresses): a leak.
#   control: one probe set from CT1 (TCP to DST's HTTP port and to a closed
#     port, UDP, ICMP echo, IPv6 TCP and UDP) is counted at PRX: 6 packets;
#   up (default --forward proxy): CT1's TCP (v4, v6) reaches DST through the
#     proxy, the probe set counts 0; a second container CT2 on a routed
#     veth made after up started (no masquerade: status lists its own
#     address as the source) is proxied too and leaks 0; a container on the same bridge
#     is still reachable (br_netfilter); SIGKILL: 0 again, CT1's TCP fails
#     fast; down: ruleset, rules, routes, links and forwarding sysctls as
#     before, byte for byte, and the control count again;
#   --dns virtual: CT1 resolves through a public resolver address (answered
#     by proxyvpn) and fetches by name through the proxy; 0 DNS at PRX;
#   --udp proxy: CT1's UDP (v4, v6) round-trips through dante; 0 at PRX;
#   --forward block: CT1's TCP fails, 0 leaked, CT1 can still use the
#     proxy itself, the host's TCP is proxied; --forward direct is refused
#     with the killswitch and, with --no-killswitch, CT1 goes out directly;
#   --firewall iptables: CT1 proxied, 0 leaked, restored exactly.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

SD=$T_OUT/state
URL=$(proxy_url socks5)
UP_PID=""
CT1=pve2e-ct1-$$
CT2=pve2e-ct2-$$
CT3=pve2e-ct3-$$
CT1_4=172.30.0.2
CT3_4=172.30.0.3
CT2_4=172.31.0.2
UDP_PORT=9999
UDP_ECHO=7102
n_ct() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ---- PRX: the observer ----
n_prx nft -f - <<EOF || fail "cannot add the counter table in PRX"
table inet pve2efwd {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "r0" ip daddr { 198.51.100.0/24, 203.0.113.0/24 } counter
		iifname "r0" ip6 daddr 2001:db8:2::/64 counter
	}
}
EOF
on_exit "n_prx nft delete table inet pve2efwd"
leaks() {
	n_prx nft list chain inet pve2efwd pre | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' |
		awk '{ n += $1 } END { print n + 0 }'
}

# ---- CLI: a Docker-shaped host ----
on_exit "ip netns del $CT1 2>/dev/null; ip netns del $CT2 2>/dev/null; ip netns del $CT3 2>/dev/null"
on_exit "n_cli ip link del pvbr0 2>/dev/null"
fwd4=$(n_cli sysctl -n net.ipv4.ip_forward)
fwd6=$(n_cli sysctl -n net.ipv6.conf.all.forwarding)
on_exit "n_cli sysctl -qw net.ipv4.ip_forward=$fwd4 net.ipv6.conf.all.forwarding=$fwd6"
# Docker's rules (iptables-nft, as Docker 20+ on Debian 12), one restore per
# family, undone at exit; the built-in chains iptables-nft makes on first use
# and leaves (the --firewall iptables run below uses them) exist from here on
docker_rules() { # SUBNET -A|-D POLICY
	cat <<EOF
*mangle
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
*nat
:POSTROUTING ACCEPT [0:0]
$2 POSTROUTING -s $1 ! -o pvbr0 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:FORWARD $3 [0:0]
$2 FORWARD -i pvbr0 ! -o pvbr0 -j ACCEPT
$2 FORWARD -i pvbr0 -o pvbr0 -j ACCEPT
$2 FORWARD -o pvbr0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
$2 FORWARD -i pvct2 -j ACCEPT
$2 FORWARD -o pvct2 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
EOF
}
docker_rules 172.30.0.0/24 -A DROP | n_cli iptables-restore --noflush || fail "docker-like iptables rules"
on_exit "docker_rules 172.30.0.0/24 -D ACCEPT | n_cli iptables-restore --noflush"
docker_rules fd30::/64 -A DROP | n_cli ip6tables-restore --noflush || fail "docker-like ip6tables rules"
on_exit "docker_rules fd30::/64 -D ACCEPT | n_cli ip6tables-restore --noflush"
# no DAD on the links made below: their addresses settle at once
dad=$(n_cli sysctl -n net.ipv6.conf.default.accept_dad)
on_exit "n_cli sysctl -qw net.ipv6.conf.default.accept_dad=$dad"
n_cli sysctl -qw net.ipv6.conf.default.accept_dad=0
n_cli sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
n_cli ip link add pvbr0 type bridge
n_cli ip addr add 172.30.0.1/24 dev pvbr0
n_cli ip addr add fd30::1/64 dev pvbr0 nodad
n_cli ip link set pvbr0 up
# container NS on the bridge (eth0 inside, VETH on the bridge), ADDR4 .N, fd30::N
bridge_ct() { # NS VETH N
	ip netns add "$1" && ip -n "$1" link set lo up &&
		n_cli ip link add "$2" type veth peer name eth0 netns "$1" &&
		n_cli ip link set "$2" master pvbr0 up &&
		ip -n "$1" addr add "172.30.0.$3/24" dev eth0 &&
		ip -n "$1" addr add "fd30::$3/64" dev eth0 nodad &&
		ip -n "$1" link set eth0 up &&
		ip -n "$1" route add default via 172.30.0.1 &&
		ip -n "$1" -6 route add default via fd30::1 || fail "container $1"
}
bridge_ct "$CT1" pvv1 2
bridge_ct "$CT3" pvv3 3

cat >"$T_OUT/probe.py" <<'EOF'
# One probe set, each a single packet toward DST: TCP SYN to the HTTP port
# and to a closed port (a 0.25 s connect sends one SYN), UDP, ICMP echo,
# IPv6 TCP SYN and UDP. Prints what each got; failures are expected.
import socket, sys
dst4, dst6, http, closed, udp = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
out = []
def tcp(host, port):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.settimeout(0.25)
    try:
        s.connect((host, port)); return "connected"
    except OSError as e:
        return "error"
    finally:
        s.close()
def dgram(host):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(b"leak?", (host, udp)); return "sent"
    except OSError:
        return "error"
def echo(host):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    pkt = bytearray([8, 0, 0, 0, 0, 1, 0, 1]) + b"leak?!"
    c = sum((pkt[i] << 8) + pkt[i + 1] for i in range(0, len(pkt), 2))
    c = (c >> 16) + (c & 0xffff); c += c >> 16
    pkt[2:4] = (~c & 0xffff).to_bytes(2, "big")
    try:
        s.sendto(bytes(pkt), (host, 0)); return "sent"
    except OSError:
        return "error"
out.append("tcp4:" + tcp(dst4, http))
out.append("tcp4closed:" + tcp(dst4, closed))
out.append("udp4:" + dgram(dst4))
out.append("icmp4:" + echo(dst4))
out.append("tcp6:" + tcp(dst6, http))
out.append("udp6:" + dgram(dst6))
print(" ".join(out))
EOF
# probes NS WANT WHAT: one probe set from NS; WANT packets must reach PRX
probes() {
	local l0 r
	l0=$(leaks)
	r=$(n_ct "$1" timeout 20 "$PY" "$T_OUT/probe.py" "$DST4" "$DST6" "$HTTP_PORT" "$CLOSED_PORT" "$UDP_PORT")
	sleep 0.2
	assert_eq "$(($(leaks) - l0))" "$2" "$3: packets of the probe set ($r) counted at PRX"
	log "$3: probes $r, $2 at PRX"
}
fetch() { # NS WHAT URL
	rm -f "$T_OUT/small"
	n_ct "$1" timeout 30 curl -sS -g --noproxy '*' --max-time 20 -o "$T_OUT/small" "$3" ||
		fail "$2: curl $3 in $1 failed"
	assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "$2"
}
snapshot() { # FILE
	{
		n_cli ip rule; n_cli ip -6 rule
		n_cli ip route show table all; n_cli ip -6 route show table all
		n_cli ip -br link
		n_cli sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding
		n_cli nft -s list ruleset
	} >"$1" 2>&1
}
same_as_before() { # WHAT
	snapshot "$T_OUT/after"
	diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "$1: CLI differs from before up (diff above)"
}
stop_up() { # WHAT
	kill -TERM "$UP_PID"
	wait_pid_exit "$UP_PID" 10 || fail "$1: up did not exit on SIGTERM"
	assert_eq "$WAIT_RC" 0 "$1: up exit status after SIGTERM"
	same_as_before "$1 + SIGTERM"
}
bridged_ok() { # WHAT: CT1 reaches CT3 on the bridge (ICMP, so the forward filter sees it)
	n_ct "$CT1" timeout 10 "$PY" -c '
import socket, sys, select
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
s.sendto(bytes([8, 0, 0, 0, 0, 0, 0, 1]) + b"hi", (sys.argv[1], 0))
sys.exit(0 if select.select([s], [], [], 3)[0] else 1)
' "$CT3_4" || fail "$1: CT1 cannot ping CT3 on its own bridge"
}
n_ct "$CT1" sysctl -qw net.ipv4.ping_group_range="0 0"

# IPv6 link-local addresses (and their local routes) appear once DAD is
# done: wait for that, bounded, so the baseline is the settled state
deadline=$(($(now_ms) + 10000))
while [ -n "$(n_cli ip -6 addr show tentative)" ]; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "IPv6 addresses in CLI still tentative after 10 s"
	sleep 0.1
done
snapshot "$T_OUT/before"
brnf=$(n_cli cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null || echo absent)
log "br_netfilter in CLI: bridge-nf-call-iptables=$brnf"

# control: without proxyvpn the probe set leaves CLI and is counted
probes "$CT1" 6 "control"
bridged_ok "control"

# (1) up: CT1's TCP through the proxy, the rest stays in
up_start "$T_OUT/up1.log"
grep -q "forwarded traffic (containers, VMs) from .*pvbr0.*: TCP through the proxy" "$T_OUT/up1.log" ||
	fail "up does not say what it does to forwarded traffic: $(cat "$T_OUT/up1.log")"
fetch "$CT1" "CT1 through up (IPv4)" "http://$DST4:$HTTP_PORT/small"
fetch "$CT1" "CT1 through up (IPv6)" "http://[$DST6]:$HTTP_PORT/small"
probes "$CT1" 0 "CT1 under up"
bridged_ok "under up"
# (2) a container made after up started, on a routed veth, no masquerade
ip netns add "$CT2" && ip -n "$CT2" link set lo up &&
	n_cli ip link add pvct2 type veth peer name eth0 netns "$CT2" &&
	n_cli ip addr add 172.31.0.1/24 dev pvct2 && n_cli ip addr add fd31::1/64 dev pvct2 nodad &&
	n_cli ip link set pvct2 up && ip -n "$CT2" addr add "$CT2_4/24" dev eth0 &&
	ip -n "$CT2" addr add fd31::2/64 dev eth0 nodad && ip -n "$CT2" link set eth0 up &&
	ip -n "$CT2" route add default via 172.31.0.1 && ip -n "$CT2" -6 route add default via fd31::1 ||
	fail "container CT2"
fetch "$CT2" "CT2 (made after up) through up (IPv4)" "http://$DST4:$HTTP_PORT/small"
fetch "$CT2" "CT2 (made after up) through up (IPv6)" "http://[$DST6]:$HTTP_PORT/small"
probes "$CT2" 0 "CT2 under up"
# the engine took CT2's own address as the source (no NAT on its way): an
# open connection from CT2 is listed with it by status
# (a simple command: ip execs python, so $! is python itself)
ip netns exec "$CT2" "$PY" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
open(sys.argv[3], "w").write("up")
time.sleep(10)
' "$DST4" "$ECHO_PORT" "$T_OUT/ct2.ready" &
hold=$!
track_pid "$hold"
wait_file "$T_OUT/ct2.ready" 10 || fail "CT2 could not hold a connection open"
n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" >"$T_OUT/status.json" || fail "status: exit $?"
grep -Eq '"src": ?"'"$CT2_4"':' "$T_OUT/status.json" ||
	fail "status does not list CT2's connection from $CT2_4: $(head -c 2000 "$T_OUT/status.json")"
grep -Eq '"forward": ?"proxy"' "$T_OUT/status.json" ||
	fail "status --json does not say forwarded traffic goes through the proxy"
kill "$hold" 2>/dev/null
wait "$hold" 2>/dev/null || true
# (3) SIGKILL: the killswitch holds for both, CT1's TCP fails at once
kill -KILL "$UP_PID"
wait_pid_exit "$UP_PID" 5 || fail "up did not die on SIGKILL"
probes "$CT1" 0 "CT1 after SIGKILL"
probes "$CT2" 0 "CT2 after SIGKILL"
t0=$(now_ms)
n_ct "$CT1" timeout 10 curl -sS --noproxy '*' --max-time 5 -o /dev/null "http://$DST4:$HTTP_PORT/small" \
	2>/dev/null && fail "CT1's TCP succeeded after SIGKILL"
# the reset leaves by the bridge port only when br_netfilter handles the bridge
# (fw.c); a routed veth's would meet the killswitch
if [ "$brnf" = 1 ]; then
	[ $(($(now_ms) - t0)) -lt 2000 ] || fail "CT1's TCP took $(($(now_ms) - t0)) ms to fail after SIGKILL"
fi
ip netns del "$CT2"
# its veth goes with it, but the kernel dismantles a namespace in the
# background: wait (bounded) until pvct2 is gone from CLI
deadline=$(($(now_ms) + 10000))
while n_cli ip link show pvct2 >/dev/null 2>&1; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "pvct2 still in CLI 10 s after its namespace was deleted"
	sleep 0.05
done
rc=0
n_cli "$E2E_PROXYVPN" down --state-dir "$SD" -v >"$T_OUT/down1.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "down after SIGKILL: $(cat "$T_OUT/down1.log")"
same_as_before "down after SIGKILL"
probes "$CT1" 6 "control after down"

# (4) --dns virtual: CT1's resolver is a public address; proxyvpn answers
dns_proxy_setup
mkdir -p "/etc/netns/$CT1"
on_exit "rm -rf /etc/netns/$CT1"
echo "nameserver 203.0.113.53" >"/etc/netns/$CT1/resolv.conf"
URL="socks5://$PRX4:$DNS_SOCKS_PORT"
up_start "$T_OUT/up2.log" --dns virtual
l0=$(leaks)
fetch "$CT1" "CT1 by name with --dns virtual" "http://$DNS_NAME:$HTTP_PORT/small"
sleep 0.2
assert_eq "$(($(leaks) - l0))" 0 "packets at PRX while CT1 resolved and fetched by name"
stop_up "--dns virtual"
URL=$(proxy_url socks5)

# (4b) --udp proxy: CT1's UDP round-trips through dante (SOCKS5 UDP ASSOCIATE)
ready=$T_OUT/udp.ready
ip netns exec "$E2E_NS_DST" "$PY" "$E2E_DIR/udp.py" echo --port "$UDP_ECHO" --ready "$ready" \
	>"$T_OUT/echo.log" 2>&1 &
track_pid $!
wait_file "$ready" 10 || fail "UDP echo server did not start: $(cat "$T_OUT/echo.log")"
URL=$(proxy_url socks5-dante)
up_start "$T_OUT/up2b.log" --udp proxy
l0=$(leaks)
n_ct "$CT1" timeout 30 "$PY" "$E2E_DIR/udp.py" client --port "$UDP_ECHO" --count 3 "$DST4" "$DST6" \
	>"$T_OUT/udp.out" 2>&1 || fail "CT1's UDP under --udp proxy: $(cat "$T_OUT/udp.out")"
sleep 0.2
assert_eq "$(($(leaks) - l0))" 0 "packets at PRX while CT1's UDP went through dante"
stop_up "--udp proxy"
URL=$(proxy_url socks5)

# (5) --forward block: nothing forwarded but to the proxy (and --exclude)
up_start "$T_OUT/up3.log" --forward block
grep -q "forwarded traffic .*: dropped, except to the proxy" "$T_OUT/up3.log" ||
	fail "up --forward block does not say so: $(cat "$T_OUT/up3.log")"
probes "$CT1" 0 "CT1 under --forward block"
n_ct "$CT1" timeout 10 curl -sS --noproxy '*' --max-time 1 -o /dev/null "http://$DST4:$HTTP_PORT/small" \
	2>/dev/null && fail "CT1's TCP went through under --forward block"
n_ct "$CT1" timeout 20 curl -sS --max-time 10 --proxy "$URL" -o /dev/null "http://$DST4:$HTTP_PORT/small" ||
	fail "CT1 cannot use the proxy itself under --forward block"
n_cli timeout 20 curl -sS --noproxy '*' --max-time 10 -o /dev/null "http://$DST4:$HTTP_PORT/small" ||
	fail "the host's TCP is not proxied under --forward block"
n_cli "$E2E_PROXYVPN" status --state-dir "$SD" >"$T_OUT/status3.txt" || fail "status: exit $?"
grep -q "^forwarded traffic: dropped (--forward block)" "$T_OUT/status3.txt" ||
	fail "status does not say forwarded traffic is dropped: $(cat "$T_OUT/status3.txt")"
bridged_ok "--forward block"
stop_up "--forward block"

# (6) --forward direct: refused with the killswitch; without it, the old way
rc=0
n_cli "$E2E_PROXYVPN" up --proxy "$URL" --state-dir "$SD" --forward direct >"$T_OUT/direct.log" 2>&1 || rc=$?
assert_eq "$rc" 2 "up --forward direct with the killswitch: $(cat "$T_OUT/direct.log")"
grep -q -- "--forward direct needs --no-killswitch" "$T_OUT/direct.log" ||
	fail "up --forward direct does not say why: $(cat "$T_OUT/direct.log")"
rc=0
n_cli "$E2E_PROXYVPN" up --proxy "$URL" --state-dir "$SD" --forward sideways >"$T_OUT/bad.log" 2>&1 || rc=$?
assert_eq "$rc" 2 "up --forward sideways: $(cat "$T_OUT/bad.log")"
grep -q "sideways" "$T_OUT/bad.log" || fail "up --forward sideways does not name it: $(cat "$T_OUT/bad.log")"
up_start "$T_OUT/up4.log" --forward direct --no-killswitch
grep -q "forwarded traffic .*: direct" "$T_OUT/up4.log" || fail "up --forward direct: $(cat "$T_OUT/up4.log")"
probes "$CT1" 6 "CT1 under --forward direct --no-killswitch"
n_cli timeout 20 curl -sS --noproxy '*' --max-time 10 -o /dev/null "http://$DST4:$HTTP_PORT/small" ||
	fail "the host's TCP is not proxied under --forward direct"
stop_up "--forward direct"

# (7) the iptables fallback covers forwarded traffic too
up_start "$T_OUT/up5.log" --firewall iptables
grep -q "killswitch on (iptables)" "$T_OUT/up5.log" || fail "not iptables: $(cat "$T_OUT/up5.log")"
fetch "$CT1" "CT1 through up --firewall iptables" "http://$DST4:$HTTP_PORT/small"
probes "$CT1" 0 "CT1 under --firewall iptables"
bridged_ok "--firewall iptables"
stop_up "--firewall iptables"
log "upfwd: containers proxied (bridge + masquerade, routed veth made later, IPv4 and IPv6), 0 leaked under up and after SIGKILL, down exact; --dns virtual, --forward block/direct, iptables"
