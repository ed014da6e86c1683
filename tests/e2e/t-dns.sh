#!/bin/bash
# DNS in exec (issue 5): a name only the proxy side can resolve (dnsmasq in
# PRX, used by a microsocks started here through /etc/netns/PRX/resolv.conf)
# works in `exec` with --dns virtual (default): getent gives a fake address,
# curl by name reaches DST (SOCKS5 and HTTP CONNECT), the proxy resolved it. /etc/hosts still answers;
# the namespace's resolv.conf names 198.18.0.2. A fake address with no name
# gets a reset; DNS over TCP to the resolver is answered (pipelined). --dns tcp resolves through the proxy
# (real addresses, DNS over TCP spliced to the server), SERVFAIL when the
# server refuses or stays silent (5 s). --dns bypass leaves resolv.conf and
# DNS to --udp. --udp block (default): a UDP send gets ECONNREFUSED.
# Counted on CLI's uplink: zero DNS packets leave in any run, after a
# positive control (a query straight to the resolver is counted).
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
NAME=$DNS_NAME
URL=socks5://$PRX4:$DNS_SOCKS_PORT
dns_proxy_setup

# DNS leaving CLI's uplink, both transports.
n_cli nft -f - <<NFT || fail "cannot add the counter table in CLI"
table inet pve2edns {
	chain out {
		type filter hook output priority -300; policy accept;
		oifname "c0" udp dport 53 counter
		oifname "c0" tcp dport 53 counter
	}
}
NFT
on_exit "n_cli nft delete table inet pve2edns"
dns_out() {
	n_cli nft list chain inet pve2edns out | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' |
		awk '{ n += $1 } END { print n + 0 }'
}

# Positive control: straight to the resolver, counted, and the name resolves.
got=$(n_cli "$PY" "$E2E_DIR/dnsq.py" "$PRX4" "$NAME") || fail "direct query failed"
assert_eq "$got" "$DST4" "direct query to dnsmasq"
[ "$(dns_out)" -ge 1 ] || fail "positive control: the direct query was not counted"
base=$(dns_out)

pve() { pv exec --proxy "$URL" "$@"; }

# --dns virtual (the default): fake addresses, names to the proxy.
out=$(pve -- getent hosts "$NAME") || fail "getent hosts $NAME failed in exec (rc $?)"
echo "getent: $out"
case $out in
198.1[89].*" $NAME" | "fd70:7678::"*" $NAME") ;;
*) fail "getent hosts $NAME gave '$out', want a fake address" ;;
esac
pve -- curl --noproxy '*' -sS --max-time 30 -o "$T_OUT/small" "http://$NAME:$HTTP_PORT/small" ||
	fail "curl http://$NAME:$HTTP_PORT/small in exec failed"
assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "download by name through virtual DNS"
grep -q "query\[A\] $NAME from 127.0.0.1" "$T_OUT/dnsmasq.log" ||
	{ cat "$T_OUT/dnsmasq.log"; fail "the proxy did not resolve $NAME itself"; }
# The same through HTTP CONNECT (CONNECT name:port).
pv exec --proxy "http://$PRX4:$DNS_HTTP_PORT" -- curl --noproxy '*' -sS --max-time 30 \
	-o "$T_OUT/small3" "http://$NAME:$HTTP_PORT/small" || fail "curl by name via HTTP CONNECT"
assert_file_sha "$T_OUT/small3" "$E2E_SMALL_SHA" "download by name through HTTP CONNECT"
# IPv4 and IPv6 fake answers, other types NODATA, straight to the resolver.
out=$(pve -- sh -c "$PY $E2E_DIR/dnsq.py 198.18.0.2 $NAME; $PY $E2E_DIR/dnsq.py 198.18.0.2 $NAME --type AAAA; $PY $E2E_DIR/dnsq.py 198.18.0.2 $NAME --type MX") ||
	fail "queries to 198.18.0.2 failed"
echo "$out"
[ "$(echo "$out" | sed -n 1p)" = "$(echo "$out" | sed -n 1p | grep '^198\.1[89]\.')" ] &&
	[ -n "$(echo "$out" | sed -n 2p | grep '^fd70:7678::')" ] &&
	assert_eq "$(echo "$out" | sed -n 3p)" nodata "MX answer" || fail "fake answers: '$out'"
# The namespace's files: resolv.conf replaced, /etc/hosts untouched.
out=$(pve -- cat /etc/resolv.conf) || fail "cat resolv.conf"
echo "$out" | grep -qx "nameserver 198.18.0.2" || fail "resolv.conf in exec: '$out'"
[ "$(echo "$out" | grep -c '^nameserver')" = 1 ] || fail "more than one nameserver: '$out'"
out=$(pve -- getent hosts localhost) || fail "getent hosts localhost in exec failed"
echo "$out" | grep -q "^\(127.0.0.1\|::1\) " || fail "/etc/hosts lookup of localhost: '$out'"
grep -q 198.18.0.2 /etc/resolv.conf && fail "the host's resolv.conf was changed"
# A fake address nobody asked for, and TCP to the resolver: reset at once.
pve -- "$PY" "$E2E_DIR/client.py" refused 198.18.7.7 "$HTTP_PORT" --within 5 ||
	fail "unmapped fake address: no ECONNREFUSED"
pve -- "$PY" "$E2E_DIR/client.py" refused 198.18.0.2 80 --within 5 ||
	fail "TCP to the resolver's port 80: no ECONNREFUSED"
# DNS over TCP to the resolver: answered here, two pipelined queries.
out=$(pve -- "$PY" "$E2E_DIR/dnsq.py" --tcp --repeat 2 198.18.0.2 "$NAME") ||
	fail "DNS over TCP to the resolver: rc $?"
[ "$(echo "$out" | grep -c '^198\.1[89]\.')" = 2 ] || fail "DNS over TCP answers: '$out'"
assert_eq "$(($(dns_out) - base))" 0 "DNS packets leaving CLI with --dns virtual"

# /etc/resolv.conf as a symlink: into systemd-resolved's directory (which
# exec hides under a tmpfs) and elsewhere; either way exec covers the link
# itself (t-execfs.sh tries every shape). In a private mount namespace of
# CLI whose /etc and /run are copies; the files there must be unchanged
# afterwards. The stub file's use-vc option makes getent ask over TCP.
symlink_case() { # TARGET
	mkdir -p "$T_OUT/etc"
	n_cli unshare -m --propagation private bash -c '
set -e
etc=$1 target=$2
shift 2
mount -t tmpfs pvetc "$etc"
cp -a /etc/. "$etc"/
mount -t tmpfs pvrun /run
mkdir -p /run/systemd/resolve /run/resolvconf
printf "nameserver 127.0.0.53\nsearch corp.example\noptions edns0 use-vc\n" >/run/systemd/resolve/stub-resolv.conf
printf "nameserver 10.9.9.9\nsearch other.example\n" >/run/resolvconf/resolv.conf
ln -sfn "$target" "$etc/resolv.conf"
mount --bind "$etc" /etc
"$@"
sum=$(cat /run/systemd/resolve/stub-resolv.conf /run/resolvconf/resolv.conf | md5sum)
[ "$sum" = "$(printf "nameserver 127.0.0.53\nsearch corp.example\noptions edns0 use-vc\nnameserver 10.9.9.9\nsearch other.example\n" | md5sum)" ] &&
	echo host-files-unchanged
' _ "$T_OUT/etc" "$1" timeout -k 5 60 env "PVE2E_TAG=$E2E_TAG" "$E2E_PROXYVPN" exec \
		--proxy "$URL" -- sh -c "cat /etc/resolv.conf; getent hosts $NAME"
}
out=$(symlink_case ../run/systemd/resolve/stub-resolv.conf) || fail "stub symlink case: rc $?"
echo "$out"
echo "$out" | grep -qx "nameserver 198.18.0.2" && echo "$out" | grep -qx "search corp.example" &&
	! echo "$out" | grep -q "127.0.0.53" && echo "$out" | grep -qx "options edns0 use-vc" && echo "$out" | grep -q "^198.1[89].* $NAME\|^fd70:7678::.* $NAME" &&
	echo "$out" | grep -qx host-files-unchanged || fail "resolv.conf -> resolved's stub: '$out'"
out=$(symlink_case /run/resolvconf/resolv.conf) || fail "resolvconf symlink case: rc $?"
echo "$out"
echo "$out" | grep -qx "nameserver 198.18.0.2" && echo "$out" | grep -qx "search other.example" &&
	! echo "$out" | grep -q "10.9.9.9" && echo "$out" | grep -q "^198.1[89].* $NAME\|^fd70:7678::.* $NAME" &&
	echo "$out" | grep -qx host-files-unchanged || fail "resolv.conf -> /run/resolvconf: '$out'"

# --dns tcp: real addresses, asked through the proxy (dnsmasq on PRX4).
out=$(pve --dns tcp --dns-server "$PRX4" -- getent ahostsv4 "$NAME") ||
	fail "getent with --dns tcp failed"
echo "$out" | grep -q "^$DST4 " || fail "--dns tcp: getent gave '$out'"
pve --dns tcp --dns-server "$PRX4" -- curl --noproxy '*' -sS --max-time 30 \
	-o "$T_OUT/small2" "http://$NAME:$HTTP_PORT/small" || fail "curl with --dns tcp failed"
assert_file_sha "$T_OUT/small2" "$E2E_SMALL_SHA" "download by name through --dns tcp"
grep -q "query\[A\] $NAME from $PRX4" "$T_OUT/dnsmasq.log" ||
	{ cat "$T_OUT/dnsmasq.log"; fail "dnsmasq did not see the query from the proxy over TCP"; }
# DNS over TCP from the app to the resolver: spliced to the server.
out=$(pve --dns tcp --dns-server "$PRX4" -- "$PY" "$E2E_DIR/dnsq.py" --tcp 198.18.0.2 "$NAME") ||
	fail "DNS over TCP to the resolver with --dns tcp: rc $?"
assert_eq "$out" "$DST4" "DNS over TCP answer with --dns tcp"
# A server that refuses (nothing on DST's port 53): SERVFAIL, not silence.
out=$(pve --dns tcp --dns-server "$DST4" -- "$PY" "$E2E_DIR/dnsq.py" 198.18.0.2 "$NAME") ||
	fail "query with a refusing --dns-server: rc $?"
assert_eq "$out" "rcode=2" "answer when the server behind the proxy refuses"
# A server that accepts and never answers: SERVFAIL after the 5 s timeout.
ip netns exec "$E2E_NS_DST" "$PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 53))
s.listen(8)
held = []
while True:
    held.append(s.accept()[0])
' "$DST4" >/dev/null 2>&1 &
track_pid $!
wait_port n_dst 53 || fail "the silent DNS server did not listen in DST"
out=$(pve --dns tcp --dns-server "$DST4" -- "$PY" "$E2E_DIR/dnsq.py" --timeout 20 198.18.0.2 \
	"$NAME") || fail "query with a silent --dns-server: rc $?"
assert_eq "$out" "rcode=2" "answer when the server behind the proxy is silent"
out=$(pve --dns tcp -- true 2>&1) && fail "--dns tcp without --dns-server was accepted"
echo "$out" | grep -q "needs --dns-server" || fail "--dns tcp alone: '$out'"
assert_eq "$(($(dns_out) - base))" 0 "DNS packets leaving CLI with --dns tcp"

# --dns bypass: resolv.conf left as it is, DNS is UDP like the rest (refused).
out=$(pve --dns bypass -- cat /etc/resolv.conf) || fail "cat resolv.conf with bypass"
assert_eq "$out" "$(cat /etc/resolv.conf)" "resolv.conf in exec with --dns bypass"
out=$(pve --dns bypass -- "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.connect((sys.argv[1], 53))
s.send(b"x" * 12)
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
' "$PRX4") || fail "bypass probe failed"
assert_eq "$out" refused "DNS with --dns bypass --udp block"
assert_eq "$(($(dns_out) - base))" 0 "DNS packets leaving CLI with --dns bypass"

# --udp block (the default): refused at once, not a timeout.
out=$(pve -- "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.connect((sys.argv[1], 9999))
s.send(b"x")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
' "$DST4") || fail "udp probe failed"
assert_eq "$out" refused "UDP send then recv with --udp block"
# --udp proxy is carried by the SOCKS5 relay (t-udp.sh); with an HTTP proxy it is refused.
out=$(pv exec --udp proxy --proxy "$(proxy_url http)" -- true 2>&1) && fail "--udp proxy with http:// was accepted"
echo "$out" | grep -q "needs a socks5" || fail "--udp proxy with http://: '$out'"
assert_eq "$(($(dns_out) - base))" 0 "DNS packets leaving CLI"
echo "dns: virtual and tcp resolve through the proxy, 0 DNS packets left CLI"
