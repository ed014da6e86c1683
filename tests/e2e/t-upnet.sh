#!/bin/bash
# upnet: host mode on a network whose only way out is the proxy (issue 14,
# items 1, 3, 4). CLI's default routes (IPv4 and IPv6) are removed: only the
# link's own subnet, which holds the proxy, is routed. Then:
#   - `up --dns virtual` (killswitch on): TCP to DST by address and by a name
#     only the proxy side resolves works; the main routing table is the same
#     during up as before; DNS to the host's resolver (PRX4) and to an
#     unrouted one gets fake answers; a UDP probe and ICMP echo to PRX are
#     refused; nothing is counted at PRX (observer, with positive controls
#     before up);
#   - another port of the proxy's host (an HTTP server on PRX4:8081) is
#     reached through the proxy, not directly (0 packets to :8081 from CLI at
#     PRX), killswitch on and off;
#   - after SIGKILL of up, DNS to the steered resolvers (UDP and TCP, PRX4 and
#     the unrouted one) and getaddrinfo fail in under 100 ms (monotonic clock,
#     inside the probe), TCP to DST fails at once, nothing leaks; `down`
#     restores CLI exactly;
#   - `up --dns tcp --no-killswitch`: the same by name, UDP leaves directly
#     (counted: the killswitch is off), DNS after SIGKILL fails in < 100 ms;
#   - `up --udp proxy` through dante: UDP echoes from DST (IPv4 and IPv6);
#   - `up --firewall iptables`: TCP and the other port through the proxy, UDP
#     refused, 0 leaked, TCP fails at once after SIGKILL, down restores.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

NAME=$DNS_NAME
SD=$T_OUT/state
OTHER_PORT=8081
UDP_PORT=9999
ECHO_UDP=7102
UNROUTED_DNS=203.0.113.53
UP_PID=""
dns_proxy_setup
URL=socks5://$PRX4:$DNS_SOCKS_PORT

# A server on another port of the proxy's host.
port_closed n_prx "$OTHER_PORT" || fail "something listens on PRX :$OTHER_PORT"
ip netns exec "$E2E_NS_PRX" "$PY" -m http.server "$OTHER_PORT" --bind "$PRX4" \
	--directory "$E2E_TMP/www" >"$T_OUT/other.log" 2>&1 &
track_pid $!
wait_port n_prx "$OTHER_PORT" || fail "the HTTP server on PRX :$OTHER_PORT did not start"
# A UDP echo server in DST (for --udp proxy).
ip netns exec "$E2E_NS_DST" "$PY" "$E2E_DIR/udp.py" echo --port "$ECHO_UDP" \
	--ready "$T_OUT/echo.ready" >"$T_OUT/echo.log" 2>&1 &
track_pid $!
wait_file "$T_OUT/echo.ready" 10 || fail "UDP echo server did not start"

# CLI's resolver is PRX4 (the dnsmasq of dns_proxy_setup), as a locked-down
# network's DHCP would give; `ip netns exec` binds this over /etc/resolv.conf.
mkdir -p "/etc/netns/$E2E_NS_CLI"
on_exit "rm -rf /etc/netns/$E2E_NS_CLI"
echo "nameserver $PRX4" >"/etc/netns/$E2E_NS_CLI/resolv.conf"

n_prx nft -f - <<EOF || fail "cannot add the counter table in PRX"
table inet pve2enet {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "r0" udp dport $UDP_PORT counter
		iifname "r0" tcp dport $OTHER_PORT counter
		iifname "r0" meta l4proto { tcp, udp } th dport 53 counter
		iifname "r0" icmp type echo-request counter
	}
}
EOF
on_exit "n_prx nft delete table inet pve2enet"
count() { # udp|other|dns|icmp
	local m
	case $1 in
	udp) m="udp dport $UDP_PORT " ;;
	other) m="tcp dport $OTHER_PORT " ;;
	dns) m="th dport 53 " ;;
	icmp) m="echo-request " ;;
	esac
	n_prx nft list chain inet pve2enet pre | grep "$m" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}
total() { echo $(($(count udp) + $(count other) + $(count dns) + $(count icmp))); }

# No default route in CLI (restored on exit for the next tests).
n_cli ip route del default || fail "removing CLI's IPv4 default route"
on_exit "n_cli ip route replace default via $PRX4"
n_cli ip -6 route del default || fail "removing CLI's IPv6 default route"
on_exit "n_cli ip -6 route replace default via 2001:db8:1::1"

snapshot() { # FILE
	{
		n_cli ip rule; n_cli ip -6 rule
		n_cli ip route show table all; n_cli ip -6 route show table all
		n_cli ip link; n_cli nft list ruleset
	} >"$1" 2>&1
}
main_table() { n_cli ip route show table main; n_cli ip -6 route show table main; }
same_as_before() { # WHAT
	snapshot "$T_OUT/after"
	diff -u "$T_OUT/before" "$T_OUT/after" >&2 || fail "$1: CLI's namespace differs from before up (diff above)"
}

# udp_probe HOST PORT: 3 datagrams from an unconnected socket (PRX's port
# unreachable answers are not reported to it); "sent" or "error:..."
udp_probe() {
	n_cli timeout 10 "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    for i in range(3):
        s.sendto(b"leak?", (sys.argv[1], int(sys.argv[2])))
        time.sleep(0.05)
    print("sent")
except OSError as e:
    print("error:" + (e.strerror or str(e)))
' "$1" "$2"
}

# dns_time KIND ARG: one lookup, timed inside the probe (monotonic clock);
# prints "answered MS", "error:WHY MS" or "timeout MS". KIND: udp SERVER,
# tcp SERVER, gai (getaddrinfo of NAME, through CLI's resolv.conf).
dns_time() {
	n_cli timeout 20 "$PY" -c '
import socket, struct, sys, time
kind, arg, name = sys.argv[1], sys.argv[2], sys.argv[3]
q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
for label in name.split("."):
    q += bytes([len(label)]) + label.encode()
q += b"\0" + struct.pack("!HH", 1, 1)
t0 = time.monotonic()
try:
    if kind == "gai":
        socket.getaddrinfo(name, 80, socket.AF_INET, socket.SOCK_STREAM)
    elif kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.connect((arg, 53))
        s.send(q)
        s.recv(4096)
    else:
        s = socket.create_connection((arg, 53), timeout=5)
        s.sendall(struct.pack("!H", len(q)) + q)
        if not s.recv(4096):
            raise OSError("closed")
    r = "answered"
except socket.timeout:
    r = "timeout"
except OSError as e:
    r = "error:" + (e.strerror or str(e)).replace(" ", "_")
print(r, int((time.monotonic() - t0) * 1000))
' "$1" "$2" "$NAME"
}

# dns_fails_fast WHAT: every steered lookup fails in under 100 ms.
dns_fails_fast() {
	local k a r
	for k in udp:$PRX4 udp:$UNROUTED_DNS tcp:$PRX4 tcp:$UNROUTED_DNS gai:-; do
		r=$(dns_time "${k%%:*}" "${k#*:}")
		case $r in error:*) ;; *) fail "$1: DNS ${k%%:*} to ${k#*:} after SIGKILL: $r (want an error)" ;; esac
		a=${r##* }
		[ "$a" -lt 100 ] || fail "$1: DNS ${k%%:*} to ${k#*:} took $a ms to fail after SIGKILL ($r)"
		log "$1: DNS ${k%%:*} ${k#*:} after SIGKILL: $r ms"
	done
}

# icmp_probe HOST: one ICMP echo request (raw socket); "sent" or "error:..."
icmp_probe() {
	n_cli timeout 10 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
pkt = bytes([8, 0, 0, 0, 0, 1, 0, 1]) + b"leak?!"
c = sum((pkt[i] << 8) + pkt[i + 1] for i in range(0, len(pkt), 2))
c = (c >> 16) + (c & 0xffff); c += c >> 16
pkt = pkt[:2] + (~c & 0xffff).to_bytes(2, "big") + pkt[4:]
try:
    s.sendto(pkt, (sys.argv[1], 0))
    print("sent")
except OSError as e:
    print("error:" + (e.strerror or str(e)))
' "$1"
}

fetch() { # WHAT URL
	rm -f "$T_OUT/small"
	n_cli timeout 30 curl -sS -g --noproxy '*' --max-time 20 -o "$T_OUT/small" "$2" ||
		fail "$1: curl $2 failed"
	assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "$1"
}

# other_port WHAT: a fetch from PRX4:8081 goes through the proxy (0 packets to
# :8081 from CLI at PRX).
other_port() {
	local o0
	o0=$(count other)
	fetch "$1: another port of the proxy's host" "http://$PRX4:$OTHER_PORT/small"
	assert_eq "$(($(count other) - o0))" 0 "$1: packets from CLI to PRX4:$OTHER_PORT counted at PRX"
}

# sigkill_down WHAT: SIGKILL up; DNS and TCP fail fast, nothing leaks; down
# restores CLI.
sigkill_down() {
	local l0 t0 rc
	kill -KILL "$UP_PID"
	wait_pid_exit "$UP_PID" 5 || fail "$1: up did not die on SIGKILL"
	l0=$(count dns)
	dns_fails_fast "$1"
	t0=$(now_ms)
	rc=0
	n_cli timeout 20 curl -sS --noproxy '*' --max-time 10 -o /dev/null "http://$DST4:$HTTP_PORT/small" \
		2>"$T_OUT/curl.err" || rc=$?
	[ "$rc" != 0 ] || fail "$1: TCP to DST succeeded after SIGKILL"
	[ $(($(now_ms) - t0)) -lt 2000 ] || fail "$1: TCP to DST took $(($(now_ms) - t0)) ms to fail after SIGKILL"
	sleep 0.2
	assert_eq "$(($(count dns) - l0))" 0 "$1: DNS packets from CLI at PRX after SIGKILL"
	rc=0
	n_cli "$E2E_PROXYVPN" down --state-dir "$SD" -v >"$T_OUT/down.log" 2>&1 || rc=$?
	assert_eq "$rc" 0 "$1: down after SIGKILL: $(cat "$T_OUT/down.log")"
	same_as_before "$1: down after SIGKILL"
}

ipt_baseline # the iptables runs below leave iptables' own tables
snapshot "$T_OUT/before"
main_table >"$T_OUT/main.before"

# Positive controls, no proxyvpn: no route to DST; the proxy's host is
# reached directly and every probe is counted at PRX.
r=$(n_cli timeout 10 "$PY" -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
    print("connected")
except OSError as e:
    print(e.strerror)
' "$DST4" "$HTTP_PORT")
assert_eq "$r" "Network is unreachable" "control: connect to DST with no default route"
c0=$(total)
assert_eq "$(udp_probe "$PRX4" "$UDP_PORT")" sent "control: UDP probe to PRX"
fetch "control: PRX4:$OTHER_PORT directly" "http://$PRX4:$OTHER_PORT/small"
got=$(n_cli "$PY" "$E2E_DIR/dnsq.py" "$PRX4" "$NAME") || fail "control: direct DNS query failed"
assert_eq "$got" "$DST4" "control: direct DNS answer"
assert_eq "$(icmp_probe "$PRX4")" sent "control: ICMP echo to PRX"
sleep 0.2
assert_eq "$(count udp)" 3 "control: UDP probe packets at PRX"
[ "$(count other)" -ge 3 ] || fail "control: the direct fetch from PRX4:$OTHER_PORT was not counted"
[ "$(count dns)" -ge 1 ] || fail "control: the direct DNS query was not counted"
assert_eq "$(count icmp)" 1 "control: ICMP echo at PRX"

# (1) --dns virtual, killswitch on
up_start "$T_OUT/up1.log" --dns virtual
main_table >"$T_OUT/main.during"
diff -u "$T_OUT/main.before" "$T_OUT/main.during" >&2 || fail "up changed CLI's main routing table"
c0=$(total)
fetch "TCP by address with no default route" "http://$DST4:$HTTP_PORT/small"
fetch "TCP by address with no default route (IPv6)" "http://[$DST6]:$HTTP_PORT/small"
fetch "TCP by name with no default route" "http://$NAME:$HTTP_PORT/small"
for srv in "$PRX4" "$UNROUTED_DNS"; do
	got=$(n_cli "$PY" "$E2E_DIR/dnsq.py" "$srv" "$NAME") || fail "DNS to $srv during up failed"
	echo "$got" | grep -q '^198\.1[89]\.' || fail "DNS to $srv during up: '$got', want a fake address"
	got=$(n_cli "$PY" "$E2E_DIR/dnsq.py" --tcp "$srv" "$NAME") || fail "DNS over TCP to $srv during up failed"
	echo "$got" | grep -q '^198\.1[89]\.' || fail "DNS over TCP to $srv during up: '$got'"
done
other_port "killswitch on"
r=$(udp_probe "$PRX4" "$UDP_PORT")
case $r in error:*) ;; *) fail "killswitch: UDP probe to PRX not refused ($r)" ;; esac
r=$(icmp_probe "$PRX4")
case $r in error:*) ;; *) fail "killswitch: ICMP echo to PRX not refused ($r)" ;; esac
sleep 0.2
assert_eq "$(($(total) - c0))" 0 "packets from CLI counted at PRX during up (--dns virtual, killswitch on)"
log "no default route, --dns virtual: TCP by address and name, DNS answered by the engine, 0 leaked"
sigkill_down "--dns virtual"

# (2) --dns tcp, killswitch off: UDP leaves directly (the control), the rest as above
up_start "$T_OUT/up2.log" --dns tcp --dns-server "$PRX4" --no-killswitch
fetch "TCP by name, --dns tcp, killswitch off" "http://$NAME:$HTTP_PORT/small"
other_port "killswitch off"
c0=$(count udp)
assert_eq "$(udp_probe "$PRX4" "$UDP_PORT")" sent "killswitch off: UDP probe to PRX"
d0=$(count dns)
got=$(n_cli "$PY" "$E2E_DIR/dnsq.py" "$UNROUTED_DNS" "$NAME") || fail "--dns tcp: query failed"
assert_eq "$got" "$DST4" "--dns tcp: answer through the proxy"
sleep 0.2
assert_eq "$(($(count udp) - c0))" 3 "killswitch off: UDP probe packets at PRX (direct)"
assert_eq "$(($(count dns) - d0))" 0 "--dns tcp: DNS packets from CLI at PRX"
sigkill_down "--dns tcp --no-killswitch"

# (3) --udp proxy through dante (killswitch on)
URL=$(proxy_url socks5-dante)
up_start "$T_OUT/up3.log" --udp proxy
c0=$(total)
n_cli timeout 30 "$PY" "$E2E_DIR/udp.py" client --port "$ECHO_UDP" --count 4 --sockets 1 \
	"$DST4" "$DST6" >"$T_OUT/udp.out" 2>"$T_OUT/udp.err" ||
	{ cat "$T_OUT/udp.out" "$T_OUT/udp.err" >&2; fail "--udp proxy: UDP echo client failed"; }
grep -qx "ok $DST4 sockets 1 datagrams 4" "$T_OUT/udp.out" || fail "--udp proxy: IPv4 echoes: $(cat "$T_OUT/udp.out")"
grep -qx "ok $DST6 sockets 1 datagrams 4" "$T_OUT/udp.out" || fail "--udp proxy: IPv6 echoes: $(cat "$T_OUT/udp.out")"
fetch "TCP next to --udp proxy" "http://$DST4:$HTTP_PORT/small"
sleep 0.2
assert_eq "$(($(total) - c0))" 0 "packets from CLI counted at PRX during up --udp proxy"
kill -TERM "$UP_PID"
wait_pid_exit "$UP_PID" 10 || fail "up --udp proxy did not exit on SIGTERM"
assert_eq "$WAIT_RC" 0 "up --udp proxy: exit status after SIGTERM"
same_as_before "up --udp proxy + SIGTERM"
# (4) the iptables fallback: the same routes, its own TUN guard
URL=socks5://$PRX4:$DNS_SOCKS_PORT
up_start "$T_OUT/up4.log" --firewall iptables
grep -q "killswitch on (iptables)" "$T_OUT/up4.log" || fail "iptables: $(cat "$T_OUT/up4.log")"
c0=$(total)
fetch "iptables: TCP by address with no default route" "http://$DST4:$HTTP_PORT/small"
other_port "iptables"
r=$(udp_probe "$PRX4" "$UDP_PORT")
case $r in error:*) ;; *) fail "iptables: UDP probe to PRX not refused ($r)" ;; esac
sleep 0.2
assert_eq "$(($(total) - c0))" 0 "packets from CLI counted at PRX during up --firewall iptables"
kill -KILL "$UP_PID"
wait_pid_exit "$UP_PID" 5 || fail "iptables: up did not die on SIGKILL"
t0=$(now_ms)
rc=0
n_cli timeout 20 curl -sS --noproxy '*' --max-time 10 -o /dev/null "http://$DST4:$HTTP_PORT/small" \
	2>/dev/null || rc=$?
[ "$rc" != 0 ] || fail "iptables: TCP to DST succeeded after SIGKILL"
[ $(($(now_ms) - t0)) -lt 2000 ] || fail "iptables: TCP took $(($(now_ms) - t0)) ms to fail after SIGKILL"
rc=0
n_cli "$E2E_PROXYVPN" down --state-dir "$SD" -v >"$T_OUT/down4.log" 2>&1 || rc=$?
assert_eq "$rc" 0 "iptables: down after SIGKILL: $(cat "$T_OUT/down4.log")"
same_as_before "iptables: down after SIGKILL"
log "no default route: TCP, DNS (virtual, tcp) and UDP (proxy) through the proxy; other ports of the proxy host proxied; DNS after SIGKILL fails in < 100 ms; down restores; the same TCP with iptables"
