# shellcheck shell=bash disable=SC2034
# Helpers for the proxyvpn end-to-end suite. Sourced by run.sh and by every
# t-*.sh test script (which run.sh starts with the E2E_* variables exported).
#
# Topology (built by run.sh, names unique per run):
#   CLI  c0 192.0.2.2/24 2001:db8:1::2/64, default via PRX     (proxyvpn + apps)
#   PRX  r0 192.0.2.1/24 2001:db8:1::1/64 | r1 198.51.100.1/24 2001:db8:2::1/64
#        forwarding off; microsocks :1080 (no auth) :1081 (auth),
#        tinyproxy :3128 (BasicAuth), half-close-capable hcproxy :1082/:3129
#   DST  d0 198.51.100.20/24 2001:db8:2::20/64, default via PRX (server.py)

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3

# Addresses and ports (all inside namespaces created by run.sh).
PRX4=192.0.2.1
CLI4=192.0.2.2
DST4=198.51.100.20
DST6=2001:db8:2::20
HTTP_PORT=8080
ECHO_PORT=7000
HC1_PORT=7001
HC2_PORT=7002
SINK_PORT=7003
CLOSED_PORT=7999
SOCKS_PORT=1080
SOCKS_AUTH_PORT=1081
HCSOCKS_PORT=1082
DANTE_PORT=1083
HTTP_PROXY_PORT=3128
HCHTTP_PORT=3129
DEAD_SOCKS_PORT=1090
DEAD_HTTP_PORT=3130
SOCKS_USER=alice
SOCKS_PASS=s3cret
HTTP_USER=bob
HTTP_PASS=hunter2
PV_TIMEOUT=${PV_TIMEOUT:-120}

n_cli() { ip netns exec "$E2E_NS_CLI" "$@"; }
n_prx() { ip netns exec "$E2E_NS_PRX" "$@"; }
n_dst() { ip netns exec "$E2E_NS_DST" "$@"; }

log() { printf '%s\n' "$*" >&2; }
fail() {
	printf 'FAILED: %s\n' "$*" >&2
	exit 1
}

# proxy_url KIND -> URL proxyvpn (or the self-test client) is given.
proxy_url() {
	case $1 in
	socks5) echo "socks5://$PRX4:$SOCKS_PORT" ;;
	socks5auth) echo "socks5://$SOCKS_USER:$SOCKS_PASS@$PRX4:$SOCKS_AUTH_PORT" ;;
	http) echo "http://$HTTP_USER:$HTTP_PASS@$PRX4:$HTTP_PROXY_PORT" ;;
	socks5-hc) echo "socks5://$PRX4:$HCSOCKS_PORT" ;;
	socks5-dante) echo "socks5://$PRX4:$DANTE_PORT" ;;
	http-hc) echo "http://$HTTP_USER:$HTTP_PASS@$PRX4:$HCHTTP_PORT" ;;
	socks5-badpass) echo "socks5://$SOCKS_USER:wrong-$SOCKS_PASS@$PRX4:$SOCKS_AUTH_PORT" ;;
	http-badpass) echo "http://$HTTP_USER:wrong-$HTTP_PASS@$PRX4:$HTTP_PROXY_PORT" ;;
	http-nocreds) echo "http://$PRX4:$HTTP_PROXY_PORT" ;;
	http-hc-badpass) echo "http://$HTTP_USER:wrong-$HTTP_PASS@$PRX4:$HCHTTP_PORT" ;;
	socks5-dead) echo "socks5://$PRX4:$DEAD_SOCKS_PORT" ;;
	http-dead) echo "http://$HTTP_USER:$HTTP_PASS@$PRX4:$DEAD_HTTP_PORT" ;;
	*) fail "proxy_url: unknown kind $1" ;;
	esac
}

# now_ms: monotonic-enough wall clock in milliseconds.
now_ms() { date +%s%3N; }

# wait_port NS_FUNC PORT [SECONDS]: bounded poll until something listens on
# TCP PORT inside the namespace (n_cli/n_prx/n_dst).
wait_port() {
	local ns=$1 port=$2 secs=${3:-10}
	local deadline=$(($(now_ms) + secs * 1000))
	while :; do
		if [ -n "$("$ns" ss -Hltn "sport = :$port" 2>/dev/null)" ]; then
			return 0
		fi
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# port_closed NS_FUNC PORT: nothing listens on PORT in the namespace.
port_closed() { [ -z "$("$1" ss -Hltn "sport = :$2" 2>/dev/null)" ]; }

# wait_file FILE [SECONDS]: bounded poll until FILE exists and is non-empty.
wait_file() {
	local f=$1 secs=${2:-10}
	local deadline=$(($(now_ms) + secs * 1000))
	until [ -s "$f" ]; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# wait_exists PATH [SECONDS]: bounded poll until PATH exists (any type, empty too).
wait_exists() {
	local f=$1 secs=${2:-10}
	local deadline=$(($(now_ms) + secs * 1000))
	until [ -e "$f" ]; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# wait_pid_exit PID [SECONDS]: bounded wait for a child to exit; sets
# WAIT_RC to its exit status (or returns 1 if it is still running).
wait_pid_exit() {
	local pid=$1 secs=${2:-10}
	local deadline=$(($(now_ms) + secs * 1000))
	while kill -0 "$pid" 2>/dev/null; do
		# a zombie child still answers kill -0; check its state
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
	WAIT_RC=0
	wait "$pid" 2>/dev/null || WAIT_RC=$?
}

# up_start LOGFILE [ARGS...]: `proxyvpn up' in CLI (proxy $URL, none if it is
# empty, TUN pvpn0, state dir $SD, ARGS, -v), its pid in UP_PID (tracked). Returns once it logs
# that it is ready (the engine serves and the watcher verified every rule,
# route and the TUN in the kernel: status says running from then on); fails
# the test if it exits first or is not ready within 10 s. A simple command
# (ip execs env execs proxyvpn), so $! is proxyvpn itself.
up_start() {
	local logf=$1 deadline
	shift
	ip netns exec "$E2E_NS_CLI" env "PVE2E_TAG=$E2E_TAG" "$E2E_PROXYVPN" up ${URL:+--proxy "$URL"} \
		--tun pvpn0 --state-dir "$SD" "$@" -v >"$logf" 2>&1 &
	UP_PID=$!
	track_pid "$UP_PID"
	deadline=$(($(now_ms) + 10000))
	until grep -q "up: ready: " "$logf" 2>/dev/null; do
		kill -0 "$UP_PID" 2>/dev/null || { cat "$logf" >&2; fail "up exited during setup"; }
		[ "$(now_ms)" -lt "$deadline" ] || { cat "$logf" >&2; fail "up not ready after 10 s"; }
		sleep 0.05
	done
}

# wait_log FILE PATTERN SECONDS [COUNT]: bounded wait for COUNT lines
# matching PATTERN in FILE, the log of `up' $UP_PID; fails (1) at once if
# that process is gone.
wait_log() {
	local deadline=$(($(now_ms) + $3 * 1000)) want=${4:-1}
	local n
	while n=$(grep -c "$2" "$1" 2>/dev/null); [ "${n:-0}" -lt "$want" ]; do
		kill -0 "$UP_PID" 2>/dev/null || return 1
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# Users and the group for capability-only runs (the dumpcap model of
# scripts/install-priv.sh). test_group: the group proxyvpn, whose members
# may run a copy with cap_net_admin, made if absent (E2E_GID is its gid);
# test_user NAME: a system user made for this test (NAME unique to the run).
# On exit the users' processes (this test's) are killed by pid, the users
# removed, then the group if this test made it and nobody is in it.
E2E_GROUP=proxyvpn
_E2E_USERS=()
_E2E_MADE_GROUP=0
_E2E_IDS_REGISTERED=0
_test_ids_gone() {
	local u p deadline=$(($(now_ms) + 5000))
	for u in "${_E2E_USERS[@]}"; do
		while [ -n "$(pgrep -u "$u")" ]; do
			for p in $(pgrep -u "$u"); do kill -KILL "$p" 2>/dev/null; done
			[ "$(now_ms)" -lt "$deadline" ] || break
			sleep 0.05
		done
		userdel "$u" || log "userdel $u failed"
	done
	if [ "$_E2E_MADE_GROUP" = 1 ] && [ -z "$(getent group "$E2E_GROUP" | cut -d: -f4)" ]; then
		groupdel "$E2E_GROUP"
	fi
}
_test_ids_register() {
	[ "$_E2E_IDS_REGISTERED" = 1 ] && return
	_E2E_IDS_REGISTERED=1
	on_exit _test_ids_gone
}
test_group() {
	_test_ids_register
	if ! getent group "$E2E_GROUP" >/dev/null; then
		groupadd --system "$E2E_GROUP" || fail "groupadd $E2E_GROUP"
		_E2E_MADE_GROUP=1
	fi
	E2E_GID=$(getent group "$E2E_GROUP" | cut -d: -f3)
}
test_user() {
	_test_ids_register
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		--gid nogroup "$1" || fail "useradd $1"
	_E2E_USERS+=("$1")
}

# cap_copy DIR: a copy of $E2E_PROXYVPN at DIR/proxyvpn made root:proxyvpn
# 0750 cap_net_admin+ep by scripts/install-priv.sh (what `make install` does
# as root); calls test_group. DIR is made 0755.
cap_copy() {
	test_group
	mkdir -p -m 0755 "$1"
	install -m 0755 "$E2E_PROXYVPN" "$1/proxyvpn"
	sh "$E2E_DIR/../../scripts/install-priv.sh" "$1/proxyvpn" >"$1/install.log" 2>&1 ||
		fail "install-priv.sh: $(cat "$1/install.log")"
}

# ipt_baseline: make in CLI the tables and built-in chains iptables creates on
# first use and leaves (they are not ours: `down` keeps them), so that a
# snapshot taken after this compares equal after an `up --firewall iptables`.
ipt_baseline() {
	local t tc
	for t in iptables ip6tables; do
		for tc in "filter INPUT" "filter OUTPUT" "filter FORWARD" "mangle OUTPUT" \
			"mangle POSTROUTING" "mangle PREROUTING"; do
			# shellcheck disable=SC2086 # table and chain
			set -- $tc
			n_cli "$t" -t "$1" -A "$2" -m comment --comment pve2e -j ACCEPT &&
				n_cli "$t" -t "$1" -D "$2" -m comment --comment pve2e -j ACCEPT ||
				fail "cannot use $t -t $1 in CLI"
		done
	done
}

# tagged_pids: every process started through app_run/pv (they carry
# PVE2E_TAG=$E2E_TAG in their environment, and so do their descendants).
tagged_pids() {
	grep -lzxF "PVE2E_TAG=$E2E_TAG" /proc/[0-9]*/environ 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'
}

# kill_tagged: kill (by pid) whatever tagged processes are left.
kill_tagged() {
	local p
	for p in $(tagged_pids); do kill -KILL "$p" 2>/dev/null || true; done
}

# count_pv: number of processes named proxyvpn (0 is not an error).
count_pv() { { pgrep -x proxyvpn || true; } | wc -l; }

# count_netns: distinct network namespaces that have a process (lsns).
count_netns() { lsns -n -t net -o NS | sort -u | wc -l; }

# sha_of FILE
sha_of() { sha256sum "$1" | cut -d' ' -f1; }

assert_eq() { # GOT WANT WHAT
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

assert_file_sha() { # FILE SHA WHAT
	[ -f "$1" ] || fail "$3: $1 was not created"
	assert_eq "$(sha_of "$1")" "$2" "$3: sha256 of $1 ($(stat -c %s "$1") bytes)"
}

# pv ARGS...: run proxyvpn in CLI (tagged, hard timeout). Returns its status.
# E2E_PV_EXTRA: options added after `exec` (e.g. "--workers 2" or
# "--no-offload"), to run the suite on another engine configuration.
pv() {
	# shellcheck disable=SC2086 # word splitting of E2E_PV_EXTRA wanted
	if [ "$1" = exec ]; then shift; set -- exec ${E2E_PV_EXTRA:-} "$@"; fi
	n_cli timeout -k 5 "$PV_TIMEOUT" env "PVE2E_TAG=$E2E_TAG" "$E2E_PROXYVPN" "$@"
}

# app_run KIND -- CMD...: run CMD as an application whose TCP goes through
# the proxy of KIND. Normal mode: inside `proxyvpn exec --proxy URL`.
# Self-test mode (E2E_SELFTEST=1): directly in CLI with E2E_VIA=URL, which
# client.py honours (curl gets explicit proxy options from app_curl).
app_run() {
	local kind=$1 url
	shift
	[ "$1" = -- ] && shift
	url=$(proxy_url "$kind")
	if [ "${E2E_SELFTEST:-0}" = 1 ]; then
		n_cli timeout -k 5 "$PV_TIMEOUT" env "PVE2E_TAG=$E2E_TAG" "E2E_VIA=$url" "$@"
	else
		pv exec --proxy "$url" -- "$@"
	fi
}

# app_curl KIND CURL-ARGS...: curl as an application (see app_run).
app_curl() {
	local kind=$1
	shift
	if [ "${E2E_SELFTEST:-0}" = 1 ]; then
		local url
		url=$(proxy_url "$kind")
		case $url in
		http://*) set -- --proxy "$url" --proxytunnel "$@" ;;
		*) set -- --proxy "$url" "$@" ;;
		esac
		app_run "$kind" -- curl "$@"
	else
		app_run "$kind" -- curl --noproxy '*' "$@"
	fi
}

# Per-test cleanup: t-*.sh scripts register pids with track_pid and extra
# commands with on_exit; test_init installs the trap.
_T_PIDS=()
_T_CMDS=()
track_pid() { _T_PIDS+=("$1"); }
on_exit() { _T_CMDS+=("$1"); }
_test_cleanup() {
	local rc=$1 p c
	for c in "${_T_CMDS[@]}"; do eval "$c" || true; done
	# On failure kill what the test started through proxyvpn. On success
	# leave it: run.sh's leftover check must see anything proxyvpn left.
	[ "$rc" = 0 ] || kill_tagged
	for p in "${_T_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${_T_PIDS[@]}"; do
		wait_pid_exit "$p" 3 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
	done
	# A failed host-mode test may leave a killed up's killswitch and routes in
	# CLI (by design): remove them by our tags so the next test starts clean.
	if [ "$rc" != 0 ] && [ -n "${E2E_NS_CLI:-}" ]; then
		local sd
		sd=$(mktemp -d) && ip netns exec "$E2E_NS_CLI" timeout 20 "$E2E_PROXYVPN" down \
			--state-dir "$sd" -q >/dev/null 2>&1
		[ -n "$sd" ] && rm -rf "$sd"
	fi
}
test_init() {
	set -euo pipefail
	: "${E2E_NS_CLI:?run tests through tests/e2e/run.sh}"
	trap '_test_cleanup $?' EXIT
	trap 'exit 143' TERM
	trap 'exit 130' INT
	T_OUT=$(mktemp -d "$E2E_TMP/app/t.XXXXXX")
}

skip_in_selftest() {
	if [ "${E2E_SELFTEST:-0}" = 1 ]; then
		echo "SKIPPED: needs proxyvpn"
		exit 77
	fi
}

# ---- stress tests (t-many, t-churn, t-slow, t-malformed, t-limits) ----
# stress.py serve ports (DST) and the rate-limited SOCKS5 proxy port (PRX).
STRESS_ECHO_PORT=7601
STRESS_REQ_PORT=7602
STRESS_BLAST_PORT=7603
STRESS_SINK_PORT=7604
SLOW_SOCKS_PORT=1095

# engine_pid: pid of this run's proxyvpn engine (tagged, named proxyvpn, and
# not the short-lived pre-exec child, whose parent is proxyvpn). Empty and
# status 1 unless exactly one.
engine_pid() {
	local p pp found=()
	for p in $(tagged_pids); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = proxyvpn ] || continue
		pp=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || continue
		[ "$(cat "/proc/$pp/comm" 2>/dev/null)" = proxyvpn ] && continue
		found+=("$p")
	done
	[ "${#found[@]}" = 1 ] && echo "${found[0]}"
}

# proc_kib PID FIELD: a /proc/PID/status field in KiB (VmRSS, VmHWM); empty
# (status 0) if PID is gone.
proc_kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null || true; }

# fd_count PID: number of open fds of PID (0 if it is gone).
fd_count() { { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null || true; } | wc -l; }

# wait_sync FILE SECONDS PID: bounded wait for FILE (a client's sync mark)
# while PID (the proxyvpn run) lives; 1 on timeout, 2 if PID ended first.
wait_sync() {
	local f=$1 secs=$2 pid=$3
	local deadline=$(($(now_ms) + secs * 1000))
	until [ -e "$f" ]; do
		kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] ||
			{ [ -e "$f" ] && return 0; return 2; }
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.02
	done
}

# raise_nofile NEED: soft RLIMIT_NOFILE up to the hard limit (inherited by
# everything the test starts); exit 77 (skip) if even that is below NEED.
raise_nofile() {
	local hard
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] && hard=1048576
	if [ "$hard" -lt "$1" ]; then
		echo "SKIPPED: RLIMIT_NOFILE hard limit $hard < $1 needed"
		exit 77
	fi
	ulimit -Sn "$hard"
}

# start_stress_server DIR: stress.py serve in DST on the STRESS_* ports;
# waits until it listens.
start_stress_server() {
	local d=$1 p
	for p in "$STRESS_ECHO_PORT" "$STRESS_REQ_PORT" "$STRESS_BLAST_PORT" "$STRESS_SINK_PORT"; do
		port_closed n_dst "$p" || fail "something already listens on DST :$p"
	done
	ip netns exec "$E2E_NS_DST" "$PY" "$E2E_DIR/stress.py" serve --echo "$STRESS_ECHO_PORT" \
		--req "$STRESS_REQ_PORT" --blast "$STRESS_BLAST_PORT" --sink "$STRESS_SINK_PORT" \
		--ready "$d/server.ready" >"$d/server.log" 2>&1 &
	track_pid $!
	wait_sync "$d/server.ready" 10 $! || { cat "$d/server.log" >&2; fail "stress server did not start"; }
}

# ---- DNS tests (t-dns, t-updns) ----
DNS_NAME=pvtest.example
DNS_SOCKS_PORT=1097
DNS_HTTP_PORT=3197

# dns_proxy_setup: a name only the proxy side can resolve. dnsmasq in PRX
# (127.0.0.1 and PRX4, port 53; log in $T_OUT/dnsmasq.log) answers
# $DNS_NAME with DST's addresses, and a microsocks on PRX4:$DNS_SOCKS_PORT
# and a tinyproxy (HTTP CONNECT, no auth) on PRX4:$DNS_HTTP_PORT use it
# (`ip netns exec` binds /etc/netns/PRX/resolv.conf over their
# /etc/resolv.conf). Servers tracked, the file removed on exit.
dns_proxy_setup() {
	command -v dnsmasq >/dev/null || { echo "SKIPPED: no dnsmasq (dnsmasq-base)"; exit 77; }
	# (ip execs the server itself, so $! is its pid)
	ip netns exec "$E2E_NS_PRX" dnsmasq -k --no-resolv --no-hosts --bind-interfaces \
		--listen-address=127.0.0.1 --listen-address="$PRX4" --port=53 --user=root \
		--pid-file= --address="/$DNS_NAME/$DST4" --address="/$DNS_NAME/$DST6" \
		--log-facility=- --log-queries >"$T_OUT/dnsmasq.log" 2>&1 &
	track_pid $!
	wait_port n_prx 53 || fail "dnsmasq did not listen in PRX"
	mkdir -p "/etc/netns/$E2E_NS_PRX"
	on_exit "rm -rf /etc/netns/$E2E_NS_PRX"
	echo "nameserver 127.0.0.1" >"/etc/netns/$E2E_NS_PRX/resolv.conf"
	ip netns exec "$E2E_NS_PRX" microsocks -i "$PRX4" -p "$DNS_SOCKS_PORT" \
		>"$T_OUT/microsocks.log" 2>&1 &
	track_pid $!
	cat >"$T_OUT/tinyproxy.conf" <<TP
Port $DNS_HTTP_PORT
Listen $PRX4
Timeout 60
MaxClients 20
PidFile "$T_OUT/tinyproxy.pid"
Allow 192.0.2.0/24
TP
	ip netns exec "$E2E_NS_PRX" tinyproxy -d -c "$T_OUT/tinyproxy.conf" \
		>"$T_OUT/tinyproxy.log" 2>&1 &
	track_pid $!
	wait_port n_prx "$DNS_SOCKS_PORT" || fail "microsocks did not listen in PRX"
	wait_port n_prx "$DNS_HTTP_PORT" || fail "tinyproxy did not listen in PRX"
}

# ---- exec's view of the host (t-hostsvc, t-execfs) ----
# view_run CMD [ARG...]: CMD in CLI, in a private mount namespace whose /etc
# is a copy, /run empty and /tmp free of display sockets (tests/e2e/view.sh):
# a host the test can furnish with services and resolv.conf shapes without
# touching the real one. Everything started there carries PVE2E_TAG.
view_run() {
	n_cli timeout -k 5 "$PV_TIMEOUT" env "PVE2E_TAG=$E2E_TAG" unshare -m --propagation private \
		bash "$E2E_DIR/view.sh" "$T_OUT/view" "$@"
}

# view_snapshot: every name under /etc and /run with its type, mode, owner,
# size, modification time (ns) and link target, sorted: equal before and
# after a run means nothing there was created, removed or written.
view_snapshot() {
	find /etc /run -xdev -printf '%p %y %m %U %s %T@ %l\n' 2>/dev/null | sort
}
