#!/bin/bash
# proxyvpn end-to-end suite (needs root: network namespaces).
#
#   tests/e2e/run.sh [--selftest] [-v] [TEST...]
#   tests/e2e/run.sh --run 'SHELL CMD'   (set up, run CMD with lib.sh loaded, tear down)
#
# Builds a three-namespace topology (CLI -> PRX -> DST, see lib.sh), starts
# the proxies and servers, checks the harness itself (CLI cannot reach DST
# directly; the proxies work and enforce auth), then runs every test (or the
# named ones) with a time limit each and prints one line per test:
#   PASS e2e/<name> | FAIL e2e/<name> | SKIP e2e/<name>
# After every test it also checks that no process the test started through
# proxyvpn is left. The suite stops starting tests after E2E_BUDGET seconds
# (default 720; tests not run then count as failed).
# --selftest runs the same tests without proxyvpn: the applications talk to
# the proxy themselves (E2E_VIA / curl --proxy), proving the plumbing; tests
# that need proxyvpn are skipped. Lines are then prefixed "selftest/".
# After each result line, an indented line gives the test's run time; with
# E2E_TIMES=FILE, "name ms" lines are appended to FILE too.
# PROXYVPN=PATH tests another binary (tests/run-all.sh e2e-asan: the ASan
# build); PROXYVPN_FAULT_BIN=PATH another fault build.
# Exit status: 0 if no test failed, 1 otherwise.

set -uo pipefail
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_DIR/../.." && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$E2E_DIR/lib.sh"

SELFTEST=0
RUN_CMD=""
VERBOSE=${E2E_VERBOSE:-0}
ONLY=()
while [ $# -gt 0 ]; do
	case $1 in
	--selftest) SELFTEST=1 ;;
	--run)
		RUN_CMD=${2:?--run needs a command}
		shift
		;;
	-v) VERBOSE=1 ;;
	-h | --help)
		sed -n '2,21p' "$0"
		exit 0
		;;
	-*)
		echo "run.sh: unknown option $1" >&2
		exit 2
		;;
	*) ONLY+=("$1") ;;
	esac
	shift
done
PREFIX=e2e
[ "$SELFTEST" = 1 ] && PREFIX=selftest

# name scenario arg per-test-limit(s)
TESTS=(
	"download-socks5      download   socks5      90"
	"download-socks5auth  download   socks5auth  90"
	"download-http        download   http        90"
	"download-mtu1280     download   socks5-mtu  90"
	"upload-socks5        upload     socks5      90"
	"offload-on           offload    on          90"
	"offload-off          offload    off         90"
	"offload-up           offload    up          90"
	"workers-socks5       workers    socks5      120"
	"workers-dns          workersdns -           60"
	"upload-socks5auth    upload     socks5auth  90"
	"upload-http          upload     http        90"
	"ipv6-socks5          ipv6       socks5      90"
	"ipv6-http            ipv6       http        90"
	"concurrent-socks5    concurrent socks5      120"
	"concurrent-http      concurrent http        120"
	"halfclose-socks5     halfclose  socks5-dante 90"
	"halfclose-pysocks5   halfclose  socks5-hc   90"
	"halfclose-http       halfclose  http-hc     90"
	"drain-socks5         drain      socks5      90"
	"drain-http           drain      http        90"
	"execidle             execidle   -           60"
	"faultbuild           faultbuild -           60"
	"lossy-down-a         lossy      down-a      120"
	"lossy-up-a           lossy      up-a        120"
	"lossy-down-b         lossy      down-b      240"
	"lossy-up-b           lossy      up-b        120"
	"errors               errors     -           60"
	"closedport-socks5    closedport socks5      60"
	"closedport-http      closedport http        60"
	"deadproxy-socks5     deadproxy  socks5      90"
	"deadproxy-http       deadproxy  http        90"
	"badauth-socks5       badauth    socks5      60"
	"badauth-http         badauth    http        60"
	"many-dante           many       socks5-dante 240"
	"churn-socks5         churn      socks5      150"
	"slowreader           slow       reader      60"
	"slowproxy            slow       proxy       60"
	"malformed-socks5     malformed  socks5      90"
	"limits-socks5        limits     socks5      60"
	"burst-up             burst      up          120"
	"burst-exec           burst      exec        60"
	"burst-workers        burst      workers     60"
	"hostile-socks5       hostile    socks5      90"
	"hostile-http         hostile    http        90"
	"up-socks5            up         socks5      90"
	"upctl-socks5         upctl      socks5      90"
	"upipt-socks5         upipt      socks5      120"
	"sandbox-exec         sandbox    exec        60"
	"sandbox-up           sandbox    up          90"
	"creds                creds      -           60"
	"upwork-socks5        upwork     socks5      150"
	"valgrind             valgrind   socks5      300"
	"udp-dante            udp        dante       60"
	"udp-idle             udp        idle        60"
	"udp-limit            udp        limit       60"
	"udp-refused          udp        refused     60"
	"udp-fake             udp        fake        60"
	"dns                  dns        -           90"
	"up-dns               updns      -           90"
	"fair                 fair       -           90"
	"upudp                upudp      -           120"
	"upnet                upnet      -           120"
	"uplocal              uplocal    -           120"
	"upfwd                upfwd      -           120"
	"updhcp               updhcp     -           60"
	"exitstatus           exitstatus -           60"
	"usage                usage      -           60"
	"deps                 deps       -           30"
	"signals              signals    -           90"
	"unpriv               unpriv     socks5      90"
	"netns                netns      -           60"
	"execfs               execfs     -           60"
	"hostsvc              hostsvc    -           90"
	"watch                watch      -           90"
	"leftovers            leftovers  -           60"
	"fdlimit              fdlimit    -           90"
	"owner                owner      -           90"
)

if [ "$(id -u)" != 0 ]; then
	echo "e2e: needs root (network namespaces)" >&2
	exit 77
fi
for tool in ip ss curl microsocks tinyproxy setpriv lsns pgrep timeout sha256sum "$PY"; do
	if ! command -v "$tool" >/dev/null; then
		echo "FAIL $PREFIX/setup"
		echo "  missing tool: $tool (run: bash scripts/deps.sh --test)"
		exit 1
	fi
done

if ! getent passwd proxyvpn >/dev/null; then
	echo "FAIL $PREFIX/setup"
	echo "  no system user proxyvpn, which up's engine runs as (run: bash scripts/deps.sh --test)"
	exit 1
fi

export E2E_TAG="pve2e-$$-$(date +%s%N)"
export E2E_SELFTEST=$SELFTEST
export E2E_PROXYVPN=${PROXYVPN:-$REPO/proxyvpn}
export E2E_PROXYVPN_FAULT=${PROXYVPN_FAULT_BIN:-$REPO/build/fault/proxyvpn}	# make fault
export E2E_NS_CLI="pve2e-cli-$$"
export E2E_NS_PRX="pve2e-prx-$$"
export E2E_NS_DST="pve2e-dst-$$"
E2E_TMP=$(mktemp -d "/tmp/pve2e.$$.XXXXXX") || exit 1
export E2E_TMP
chmod 0711 "$E2E_TMP"
mkdir -p "$E2E_TMP/www" "$E2E_TMP/srv" "$E2E_TMP/app" "$E2E_TMP/logs"
TUN_MODE_ORIG=$(stat -c %a /dev/net/tun 2>/dev/null || echo "")
export E2E_TUN_MODE_ORIG=$TUN_MODE_ORIG
SERVER_PIDS=()

TEST_PID=""
cleanup() {
	local p
	trap - EXIT INT TERM
	if [ -n "$TEST_PID" ]; then
		# interrupted during a test: let it run its own cleanup trap first
		kill -TERM "$TEST_PID" 2>/dev/null
		wait_pid_exit "$TEST_PID" 15 || kill -KILL "$TEST_PID" 2>/dev/null
	fi
	kill_tagged
	# the servers, and anything else still running in our namespaces
	local all=("${SERVER_PIDS[@]}") ns
	for ns in "$E2E_NS_CLI" "$E2E_NS_PRX" "$E2E_NS_DST"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do all+=("$p"); done
	done
	for p in "${all[@]}"; do kill -TERM "$p" 2>/dev/null; done
	local deadline=$(($(now_ms) + 3000)) left
	while :; do
		left=()
		for p in "${all[@]}"; do
			[ -e "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && left+=("$p")
		done
		[ "${#left[@]}" = 0 ] && break
		if [ "$(now_ms)" -ge "$deadline" ]; then
			for p in "${left[@]}"; do
				echo "e2e cleanup: SIGKILL to $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-100)" >&2
				kill -KILL "$p" 2>/dev/null
			done
			break
		fi
		sleep 0.05
	done
	for p in "${SERVER_PIDS[@]}"; do wait "$p" 2>/dev/null; done # reap (all dead by now)
	for ns in "$E2E_NS_CLI" "$E2E_NS_PRX" "$E2E_NS_DST"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$TUN_MODE_ORIG" ] && [ "$(stat -c %a /dev/net/tun)" != "$TUN_MODE_ORIG" ]; then
		chmod "$TUN_MODE_ORIG" /dev/net/tun
	fi
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

setup_fail() {
	echo "FAIL $PREFIX/setup"
	echo "  $*"
	local f
	for f in "$E2E_TMP"/srv/*.log; do
		[ -s "$f" ] && { echo "  --- $f"; tail -n 20 "$f" | sed 's/^/  /'; }
	done
	exit 1
}

start_server() { # LOGNAME NETNS CMD...
	local name=$1 ns=$2
	shift 2
	# a simple command (ip execs CMD), so $! is the server's own pid
	ip netns exec "$ns" "$@" >"$E2E_TMP/srv/$name.log" 2>&1 &
	SERVER_PIDS+=($!)
}

setup_topology() {
	local ns
	for ns in "$E2E_NS_CLI" "$E2E_NS_PRX" "$E2E_NS_DST"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up || return 1
	done
	ip -n "$E2E_NS_CLI" link add c0 type veth peer name r0 netns "$E2E_NS_PRX" &&
		ip -n "$E2E_NS_PRX" link add r1 type veth peer name d0 netns "$E2E_NS_DST" || return 1
	n_prx sysctl -qw net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 || return 1

	ip -n "$E2E_NS_CLI" addr add "$CLI4/24" dev c0 &&
		ip -n "$E2E_NS_CLI" addr add 2001:db8:1::2/64 dev c0 nodad &&
		ip -n "$E2E_NS_CLI" link set c0 up &&
		ip -n "$E2E_NS_PRX" addr add "$PRX4/24" dev r0 &&
		ip -n "$E2E_NS_PRX" addr add 2001:db8:1::1/64 dev r0 nodad &&
		ip -n "$E2E_NS_PRX" addr add 198.51.100.1/24 dev r1 &&
		ip -n "$E2E_NS_PRX" addr add 2001:db8:2::1/64 dev r1 nodad &&
		ip -n "$E2E_NS_PRX" link set r0 up &&
		ip -n "$E2E_NS_PRX" link set r1 up &&
		ip -n "$E2E_NS_DST" addr add "$DST4/24" dev d0 &&
		ip -n "$E2E_NS_DST" addr add "$DST6/64" dev d0 nodad &&
		ip -n "$E2E_NS_DST" link set d0 up || return 1

	ip -n "$E2E_NS_CLI" route add default via "$PRX4" &&
		ip -n "$E2E_NS_CLI" -6 route add default via 2001:db8:1::1 &&
		ip -n "$E2E_NS_DST" route add default via 198.51.100.1 &&
		ip -n "$E2E_NS_DST" -6 route add default via 2001:db8:2::1 || return 1
}

write_tinyproxy_conf() { # FILE PORT
	cat >"$1" <<EOF
# proxyvpn e2e: HTTP CONNECT proxy with Basic auth. No ConnectPort line, so
# CONNECT is allowed to every port (tinyproxy.conf(5)); the packaged
# /etc/tinyproxy/tinyproxy.conf limits CONNECT to 443 and 563.
Port $2
Listen $PRX4
Timeout 600
MaxClients 1024
LogLevel Warning
PidFile "$E2E_TMP/srv/tinyproxy-$2.pid"
Allow 192.0.2.0/24
Allow 2001:db8:1::/64
BasicAuth $HTTP_USER $HTTP_PASS
DisableViaHeader Yes
EOF
}

write_danted_conf() { # FILE PORT
	cat >"$1" <<EOF
# proxyvpn e2e: dante-server (danted), a SOCKS5 proxy that carries half-close
# (microsocks and tinyproxy close the whole tunnel on the first FIN).
logoutput: stderr
internal: $PRX4 port = $2
external: r1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 command: connect }
socks pass { from: 0.0.0.0/0 to: ::/0 command: connect }
# UDP ASSOCIATE (--udp proxy, t-udp.sh) and the replies it relays back.
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 command: udpassociate }
socks pass { from: 0.0.0.0/0 to: ::/0 command: udpassociate }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 command: udpreply }
socks pass { from: ::/0 to: 0.0.0.0/0 command: udpreply }
EOF
}

setup_servers() {
	head -c 50M /dev/urandom >"$E2E_TMP/www/big" || return 1
	head -c 1M /dev/urandom >"$E2E_TMP/www/small" || return 1
	head -c 100M /dev/urandom >"$E2E_TMP/www/huge" || return 1
	export E2E_BIG_SHA E2E_SMALL_SHA E2E_HUGE_SHA
	E2E_BIG_SHA=$(sha_of "$E2E_TMP/www/big")
	E2E_HUGE_SHA=$(sha_of "$E2E_TMP/www/huge")
	E2E_SMALL_SHA=$(sha_of "$E2E_TMP/www/small")
	: >"$E2E_TMP/srv/hc2.log"
	: >"$E2E_TMP/srv/sink.log"
	start_server dst "$E2E_NS_DST" "$PY" "$E2E_DIR/server.py" --root "$E2E_TMP/www" \
		--http "$HTTP_PORT" --echo "$ECHO_PORT" --hc1 "$HC1_PORT" --hc2 "$HC2_PORT" \
		--hc2-log "$E2E_TMP/srv/hc2.log" --sink "$SINK_PORT" --sink-log "$E2E_TMP/srv/sink.log"
	start_server microsocks "$E2E_NS_PRX" microsocks -i "$PRX4" -p "$SOCKS_PORT"
	start_server microsocks-auth "$E2E_NS_PRX" microsocks -i "$PRX4" -p "$SOCKS_AUTH_PORT" \
		-u "$SOCKS_USER" -P "$SOCKS_PASS"
	write_tinyproxy_conf "$E2E_TMP/srv/tinyproxy.conf" "$HTTP_PROXY_PORT"
	start_server tinyproxy "$E2E_NS_PRX" tinyproxy -d -c "$E2E_TMP/srv/tinyproxy.conf"
	write_danted_conf "$E2E_TMP/srv/danted.conf" "$DANTE_PORT"
	start_server danted "$E2E_NS_PRX" danted -f "$E2E_TMP/srv/danted.conf" -N 1 \
		-p "$E2E_TMP/srv/danted.pid"
	start_server hcproxy "$E2E_NS_PRX" "$PY" "$E2E_DIR/hcproxy.py" --listen "$PRX4" \
		--socks "$HCSOCKS_PORT" --http "$HCHTTP_PORT" --user "$HTTP_USER" --password "$HTTP_PASS"
	local p
	for p in "$HTTP_PORT" "$ECHO_PORT" "$HC1_PORT" "$HC2_PORT" "$SINK_PORT"; do
		wait_port n_dst "$p" 10 || { echo "DST server not listening on :$p"; return 1; }
	done
	for p in "$SOCKS_PORT" "$SOCKS_AUTH_PORT" "$HTTP_PROXY_PORT" "$HCSOCKS_PORT" "$HCHTTP_PORT" \
		"$DANTE_PORT"; do
		wait_port n_prx "$p" 10 || { echo "PRX proxy not listening on :$p"; return 1; }
	done
}

# Harness self-checks, run before any test (cheap, ~1 s).
setup_checks() {
	local small=http://$DST4:$HTTP_PORT/small small6="http://[$DST6]:$HTTP_PORT/small" out=$E2E_TMP/app/check
	port_closed n_dst "$CLOSED_PORT" || { echo "something listens on DST :$CLOSED_PORT"; return 1; }
	port_closed n_prx "$DEAD_SOCKS_PORT" || { echo "something listens on PRX :$DEAD_SOCKS_PORT"; return 1; }
	port_closed n_prx "$DEAD_HTTP_PORT" || { echo "something listens on PRX :$DEAD_HTTP_PORT"; return 1; }
	# positive control: PRX reaches DST (v4 and v6)
	n_prx curl -sS --noproxy '*' --max-time 10 -o "$out" "$small" &&
		[ "$(sha_of "$out")" = "$E2E_SMALL_SHA" ] || { echo "PRX cannot fetch $small"; return 1; }
	n_prx curl -sS -g --noproxy '*' --max-time 10 -o "$out" "$small6" &&
		[ "$(sha_of "$out")" = "$E2E_SMALL_SHA" ] || { echo "PRX cannot fetch $small6"; return 1; }
	# CLI must not reach DST directly: all app traffic has to go via a proxy
	if n_cli curl -sS --noproxy '*' --connect-timeout 1 --max-time 2 -o /dev/null "$small" 2>/dev/null; then
		echo "CLI reaches DST directly (v4): topology is wrong"
		return 1
	fi
	if n_cli curl -sS -g --noproxy '*' --connect-timeout 1 --max-time 2 -o /dev/null "$small6" 2>/dev/null; then
		echo "CLI reaches DST directly (v6): topology is wrong"
		return 1
	fi
	# every proxy works from CLI when used explicitly, and enforces its auth
	local kind code
	for kind in socks5 socks5auth http socks5-hc http-hc; do
		rm -f "$out"
		n_cli curl -sS --max-time 10 --proxy "$(proxy_url "$kind")" --proxytunnel -o "$out" "$small" &&
			[ "$(sha_of "$out")" = "$E2E_SMALL_SHA" ] || { echo "direct $kind proxy fetch failed"; return 1; }
	done
	if n_cli curl -sS --max-time 10 --proxy "socks5://$PRX4:$SOCKS_AUTH_PORT" -o /dev/null "$small" 2>/dev/null; then
		echo "socks5 auth proxy accepts a client without credentials"
		return 1
	fi
	if n_cli curl -sS --max-time 10 --proxy "$(proxy_url socks5-badpass)" -o /dev/null "$small" 2>/dev/null; then
		echo "socks5 auth proxy accepts a bad password"
		return 1
	fi
	# tinyproxy 1.11 answers 407 without credentials but 401 (!) to a wrong
	# password; hcproxy answers 407 to a wrong password.
	for kind in http-badpass:401 http-nocreds:407 http-hc-badpass:407; do
		code=$(n_cli curl -s --max-time 10 --proxy "$(proxy_url "${kind%:*}")" --proxytunnel \
			-o /dev/null -w '%{http_connect}' "$small" 2>/dev/null)
		[ "$code" = "${kind#*:}" ] || { echo "CONNECT via ${kind%:*} answered '$code', want ${kind#*:}"; return 1; }
	done
	return 0
}

SETUP_T0=$(now_ms)
SETUP_LOG=$E2E_TMP/logs/setup.log
setup_topology >"$SETUP_LOG" 2>&1 || setup_fail "topology: $(cat "$SETUP_LOG")"
setup_servers >"$SETUP_LOG" 2>&1 || setup_fail "servers: $(cat "$SETUP_LOG")"
setup_checks >"$SETUP_LOG" 2>&1 || setup_fail "harness check: $(cat "$SETUP_LOG")"
if [ "$SELFTEST" = 0 ] && [ ! -x "$E2E_PROXYVPN" ]; then
	setup_fail "proxyvpn binary not found at $E2E_PROXYVPN (run make)"
fi
echo "$PREFIX: topology and servers ready in $(($(now_ms) - SETUP_T0)) ms (ns $E2E_NS_CLI $E2E_NS_PRX $E2E_NS_DST)"

if [ -n "$RUN_CMD" ]; then
	# debugging aid: run a command in the ready topology, then tear it down
	bash -c ". '$E2E_DIR/lib.sh'; $RUN_CMD"
	exit $?
fi


# leftovers: no process started by the test through proxyvpn/app_run (they
# carry PVE2E_TAG in their environment) survives it; bounded poll: proxyvpn
# gets up to 5 s to finish tearing down. (t-leftovers.sh also compares the
# machine-wide counts: lsns, ip netns list, pgrep proxyvpn.)
# extra_ns_pids: processes in our namespaces other than the suite's servers
# (e.g. a proxy a test started, or a proxyvpn engine left in CLI).
# A server's own children (danted forks its workers) are servers too.
is_server_pid() {
	local p=$1 s i
	for i in 1 2 3 4; do
		for s in "${SERVER_PIDS[@]}"; do [ "$p" = "$s" ] && return 0; done
		p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || return 1
		[ -n "$p" ] && [ "$p" -gt 1 ] || return 1
	done
	return 1
}

extra_ns_pids() {
	local ns p
	for ns in "$E2E_NS_CLI" "$E2E_NS_PRX" "$E2E_NS_DST"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			is_server_pid "$p" || echo "$p"
		done
	done
}

check_leftovers() {
	local deadline=$(($(now_ms) + 5000)) pids p
	while :; do
		pids=$( (tagged_pids; extra_ns_pids) | sort -u | paste -sd, -)
		[ -z "$pids" ] && return 0
		if [ "$(now_ms)" -ge "$deadline" ]; then
			echo "processes of the test still running 5 s after it ended:"
			ps -o pid=,args= -p "$pids" | head -n 10 | cut -c1-200
			kill_tagged
			for p in $(extra_ns_pids); do kill -KILL "$p" 2>/dev/null; done
			return 1
		fi
		sleep 0.1
	done
}

PASSED=0 FAILED=0 SKIPPED=0
SUITE_T0=$(now_ms)
BUDGET=${E2E_BUDGET:-720}
for t in "${TESTS[@]}"; do
	read -r name scn arg limit <<<"$t"
	if [ "${#ONLY[@]}" -gt 0 ]; then
		want=0
		for o in "${ONLY[@]}"; do [ "$o" = "$name" ] || [ "$o" = "$scn" ] && want=1; done
		[ "$want" = 1 ] || continue
	fi
	tlog=$E2E_TMP/logs/$name.log
	if [ $(($(now_ms) - SUITE_T0)) -gt $((BUDGET * 1000)) ]; then
		echo "FAIL $PREFIX/$name"
		echo "    not run: the suite exceeded its ${BUDGET} s budget (E2E_BUDGET)"
		FAILED=$((FAILED + 1))
		continue
	fi
	t0=$(now_ms)
	# in the background so that a signal to run.sh is handled at once
	E2E_LIMIT=$limit timeout -k 5 "$limit" bash "$E2E_DIR/t-$scn.sh" "$arg" >"$tlog" 2>&1 </dev/null &
	TEST_PID=$!
	wait "$TEST_PID"
	rc=$?
	TEST_PID=""
	dt=$(($(now_ms) - t0))
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "FAILED: test timed out after ${limit}s" >>"$tlog"
		rc=1
	fi
	if ! lo=$(check_leftovers); then
		echo "FAILED: $lo" >>"$tlog"
		[ "$rc" = 77 ] || rc=1
	fi
	case $rc in
	0)
		echo "PASS $PREFIX/$name"
		PASSED=$((PASSED + 1))
		[ "$VERBOSE" = 1 ] && sed 's/^/    /' "$tlog"
		;;
	77)
		echo "SKIP $PREFIX/$name"
		SKIPPED=$((SKIPPED + 1))
		;;
	*)
		echo "FAIL $PREFIX/$name"
		FAILED=$((FAILED + 1))
		tail -n 40 "$tlog" | sed 's/^/    /'
		;;
	esac
	echo "    ($((dt / 1000)).$((dt % 1000 / 100)) s)"
	[ -n "${E2E_TIMES:-}" ] && echo "$PREFIX/$name $dt" >>"$E2E_TIMES"
done
echo "$PREFIX: done in $((($(now_ms) - SUITE_T0) / 1000)) s: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
