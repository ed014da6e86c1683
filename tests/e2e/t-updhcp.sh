#!/bin/bash
# updhcp: DHCP under the killswitch without a hole (issue 13, item 7). A real
# DHCP server (dnsmasq in PRX, on r0) leases CLI's own address to a real
# client (busybox udhcpc in CLI, on c0). While up runs with the killswitch,
# a renewal (SIGUSR1: a unicast REQUEST from port 68, by root, to the
# server) reaches the server (counted at PRX) and is acknowledged (the
# client's script runs "renew"). An unprivileged process that can bind
# port 68 (ip_unprivileged_port_start lowered in CLI) sends from it to an
# arbitrary address: seen at PRX before up (control), refused and not seen
# while up runs.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

command -v dnsmasq >/dev/null || { echo "SKIPPED: no dnsmasq (dnsmasq-base)"; exit 77; }
busybox udhcpc --help >/dev/null 2>&1 || { echo "SKIPPED: no busybox udhcpc (bash scripts/deps.sh --test)"; exit 77; }

SD=$T_OUT/state
URL=$(proxy_url socks5)
UP_PID=""

n_prx nft -f - <<EOF || fail "cannot add the counter table in PRX"
table inet pve2edhcp {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "r0" ip daddr $PRX4 udp sport 68 udp dport 67 counter
		iifname "r0" ip daddr $DST4 udp dport 67 counter
	}
}
EOF
on_exit "n_prx nft delete table inet pve2edhcp"
count() { # unicast (to the server) | trick (to DST)
	local re="ip daddr $PRX4 udp sport 68"
	[ "$1" = trick ] && re="ip daddr $DST4 udp dport 67"
	n_prx nft list chain inet pve2edhcp pre | grep "$re" | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

# the server: CLI's own address for c0's MAC, 2 minutes (dnsmasq's least)
mac=$(n_cli cat /sys/class/net/c0/address)
ip netns exec "$E2E_NS_PRX" dnsmasq -k --port=0 --interface=r0 --bind-interfaces --pid-file= \
	--dhcp-range="$CLI4,static,255.255.255.0,2m" --dhcp-host="$mac,$CLI4" \
	--dhcp-leasefile="$T_OUT/leases" --log-dhcp --log-facility=- >"$T_OUT/dnsmasq.log" 2>&1 &
track_pid $!
deadline=$(($(now_ms) + 10000))
until [ -n "$(n_prx ss -Hlun 'sport = :67')" ]; do
	[ "$(now_ms)" -lt "$deadline" ] || fail "dnsmasq does not listen on :67: $(cat "$T_OUT/dnsmasq.log")"
	sleep 0.05
done

# the client: its script only records the events (c0 already has the address)
cat >"$T_OUT/dhcp.sh" <<EOF
#!/bin/sh
echo "\$1 \$ip" >>"$T_OUT/events"
EOF
chmod 0755 "$T_OUT/dhcp.sh"
: >"$T_OUT/events"
ip netns exec "$E2E_NS_CLI" busybox udhcpc -f -i c0 -s "$T_OUT/dhcp.sh" -r "$CLI4" -t 5 -T 1 -A 1 \
	>"$T_OUT/udhcpc.log" 2>&1 &
UDHCPC=$!
track_pid "$UDHCPC"
wait_event() { # WORD N: the script ran WORD at least N times (bounded)
	local deadline=$(($(now_ms) + 10000))
	until [ "$(grep -c "^$1 $CLI4\$" "$T_OUT/events")" -ge "$2" ]; do
		kill -0 "$UDHCPC" 2>/dev/null || fail "udhcpc exited: $(cat "$T_OUT/udhcpc.log")"
		[ "$(now_ms)" -lt "$deadline" ] ||
			fail "no '$1' event ($2) from udhcpc: $(cat "$T_OUT/events" "$T_OUT/udhcpc.log" "$T_OUT/dnsmasq.log")"
		sleep 0.05
	done
}
wait_event bound 1

# the trick: uid 65534 binds port 68 and sends to an arbitrary address
unpriv=$(n_cli sysctl -n net.ipv4.ip_unprivileged_port_start)
on_exit "n_cli sysctl -qw net.ipv4.ip_unprivileged_port_start=$unpriv"
n_cli sysctl -qw net.ipv4.ip_unprivileged_port_start=0
trick() {
	n_cli timeout 10 setpriv --reuid 65534 --regid 65534 --clear-groups "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 68))
try:
    s.sendto(b"exfiltrated", (sys.argv[1], 67))
    print("sent")
except OSError as e:
    print("error:" + (e.strerror or str(e)))
' "$DST4"
}
renew() { # WHAT: SIGUSR1, then a unicast REQUEST at the server and a "renew"
	local u0 n0
	u0=$(count unicast)
	n0=$(grep -c "^renew " "$T_OUT/events" || true)
	kill -USR1 "$UDHCPC"
	wait_event renew $((n0 + 1))
	[ "$(($(count unicast) - u0))" -ge 1 ] ||
		fail "$1: the renewal did not reach the server by unicast: $(cat "$T_OUT/udhcpc.log")"
	log "$1: lease renewed by unicast"
}

# control: both get out without proxyvpn
renew "control"
t0=$(count trick)
assert_eq "$(trick)" sent "control: the port-68 datagram before up"
sleep 0.2
assert_eq "$(($(count trick) - t0))" 1 "control: port-68 datagrams to $DST4 counted at PRX before up"

up_start "$T_OUT/up.log"
renew "under up"
t0=$(count trick)
r=$(trick)
case $r in error:*) ;; *) fail "the port-68 datagram of uid 65534 was not refused ($r)" ;; esac
sleep 0.2
assert_eq "$(($(count trick) - t0))" 0 "port-68 datagrams of uid 65534 counted at PRX under up"
renew "under up, again"
kill -TERM "$UP_PID"
wait_pid_exit "$UP_PID" 10 || fail "up did not exit on SIGTERM"
assert_eq "$WAIT_RC" 0 "up exit status after SIGTERM"
log "updhcp: renewals by unicast pass the killswitch; uid 65534's port-68 datagram refused, 0 at PRX (1 before up)"
