#!/bin/bash
# Host mode DNS (issue 5): `up --dns virtual` and `up --dns tcp` steer the
# host's DNS (UDP and TCP port 53, any resolver but loopback) to the
# engine's resolver with nftables, /etc/resolv.conf untouched (DNS over TCP
# too: spliced to the server with tcp, answered by the engine with virtual). The name only
# the proxy side can resolve (dns_proxy_setup) then works for getent and
# curl in CLI with no settings; zero DNS packets reach PRX from CLI
# (counted at PRX, with a positive control before up), killswitch on and
# off; status names the host behind a fake address. Bypass (the default) is covered by t-up.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

NAME=$DNS_NAME
URL=socks5://$PRX4:$DNS_SOCKS_PORT
SD=$T_OUT/state
dns_proxy_setup

n_prx nft -f - <<NFT || fail "cannot add the counter table in PRX"
table inet pve2eupdns {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		iifname "r0" udp dport 53 counter
		iifname "r0" tcp dport 53 counter
	}
}
NFT
on_exit "n_prx nft delete table inet pve2eupdns"
dns_in() {
	n_prx nft list chain inet pve2eupdns pre | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' |
		awk '{ n += $1 } END { print n + 0 }'
}

# The host's resolver in CLI: PRX4 (dnsmasq would answer it directly).
RESOLV_BEFORE=$(sha_of /etc/resolv.conf)
got=$(n_cli "$PY" "$E2E_DIR/dnsq.py" "$PRX4" "$NAME") || fail "direct query failed"
assert_eq "$got" "$DST4" "direct query (positive control)"
[ "$(dns_in)" -ge 1 ] || fail "positive control: the direct query was not counted at PRX"

UP_PID=""
start_up() { up_start "$@"; } # LOGFILE ARGS...
stop_up() {
	kill -TERM "$UP_PID"
	wait_pid_exit "$UP_PID" 10 || fail "up did not exit on SIGTERM"
	assert_eq "$WAIT_RC" 0 "up's exit status"
	n_cli nft list tables | grep -q proxyvpn && fail "table left after up"
	true
}

# run_case WHAT WANT-REGEX UP-ARGS...: getent and curl by name from CLI.
run_case() {
	local what=$1 want=$2 base out
	shift 2
	base=$(dns_in)
	start_up "$T_OUT/up-$what.log" "$@"
	# UDP to the host's resolver (any address), and to a made-up one.
	out=$(n_cli "$PY" "$E2E_DIR/dnsq.py" "$PRX4" "$NAME") || fail "$what: query to PRX4 failed"
	echo "$out" | grep -q "$want" || fail "$what: answer '$out', want $want"
	out=$(n_cli "$PY" "$E2E_DIR/dnsq.py" 203.0.113.53 "$NAME") ||
		fail "$what: query to 203.0.113.53 failed"
	echo "$out" | grep -q "$want" || fail "$what: answer from 203.0.113.53 '$out'"
	# DNS over TCP: spliced to the server (tcp) or answered by the engine.
	out=$(n_cli "$PY" "$E2E_DIR/dnsq.py" --tcp "$PRX4" "$NAME" 2>&1) ||
		fail "$what: DNS over TCP failed: $out"
	echo "$out" | grep -q "$want" || fail "$what: DNS over TCP answer '$out'"
	out=$(n_cli getent ahostsv4 "$NAME") || fail "$what: getent failed"
	echo "$out" | grep -q "$want" || fail "$what: getent gave '$out'"
	n_cli timeout 30 curl -sS --noproxy '*' --max-time 20 -o "$T_OUT/small" \
		"http://$NAME:$HTTP_PORT/small" || fail "$what: curl by name failed"
	assert_file_sha "$T_OUT/small" "$E2E_SMALL_SHA" "$what: download by name"
	if [ "$what" = virtual ]; then status_names; fi
	assert_eq "$(($(dns_in) - base))" 0 "$what: DNS packets from CLI at PRX"
	stop_up
	echo "$what: resolved through the proxy, 0 DNS packets left"
}

# status (text and --json) lists a flow to a fake address with the name
# behind it: a slow download by name is open while it is asked.
status_names() {
	local pid deadline
	# (ip and env exec: $! is curl's pid)
	ip netns exec "$E2E_NS_CLI" env "PVE2E_TAG=$E2E_TAG" curl -sS --noproxy '*' --limit-rate 32k -o /dev/null \
		"http://$NAME:$HTTP_PORT/big" &
	pid=$!
	track_pid "$pid"
	deadline=$(($(now_ms) + 10000))
	until n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" 2>/dev/null | "$PY" -c '
import json, sys
conns = json.load(sys.stdin)["live"]["connections"]
sys.exit(0 if any(c.get("name") == sys.argv[1] and c["phase"] == "relay" for c in conns) else 1)
' "$NAME"; do
		[ "$(now_ms)" -lt "$deadline" ] || fail "status --json never named $NAME"
		sleep 0.05
	done
	n_cli "$E2E_PROXYVPN" status --state-dir "$SD" | grep -q "^conn [0-9]*: .* -> 198\.1[89]\.[0-9.]*:$HTTP_PORT = $NAME ESTABLISHED" ||
		fail "status (text) does not name $NAME: $(n_cli "$E2E_PROXYVPN" status --state-dir "$SD")"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true # curl killed: 143
	echo "status names the flow to $NAME (text and --json)"
}

# CLI's getent reads the host's /etc/resolv.conf as it is: any
# non-loopback nameserver is steered.
run_case virtual '^198\.1[89]\.' --dns virtual
run_case virtual-nokill '^198\.1[89]\.' --dns virtual --no-killswitch
run_case tcp "^$DST4\$\|^$DST4 " --dns tcp --dns-server "$PRX4"
assert_eq "$(sha_of /etc/resolv.conf)" "$RESOLV_BEFORE" "/etc/resolv.conf after the runs"
