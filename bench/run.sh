#!/bin/bash
# proxyvpn benchmark (needs root: network namespaces).
#
#   bench/run.sh [--quick] [--out DIR] [--no-build | --rev REV] [--paths P1,P2]
#                [--dur S] [--hold N1,N2] [--burst N1,...] [--tries N] [--retry-budget S]
#                [--profile] [--note TEXT]
#   bench/run.sh --check DIR
#
# Builds CLI -> PRX -> DST in three private network namespaces, starts
# dante-server (SOCKS5) and squid (HTTP CONNECT) in PRX, iperf3 and nginx in
# DST, then measures every path of bench/paths.sh (kernel routing,
# proxychains, redsocks, proxyvpn exec; each through both proxies): iperf3 1
# and 4 streams each way, new-connection request rate and latency (ab), CPU
# per GB moved (the engine's, the proxy's, the whole benchmark's), the
# engine's memory at N1 and N2 idle connections, and bursts: N connections
# opened at once, each with one request, held, and a second request after
# the hold (time until all are open and answered, how many are held, the
# engine's memory). Writes the results section
# of docs/benchmarks.md and docs/benchmarks.png.
#
#   --quick       a smoke run (bench/smoke in CI, ~30 s): 1 s per measurement,
#                 paths pc_socks5,rs_http,pv_socks5, idle connections 200,1000
#   --out DIR     write DIR/benchmarks.md (the results section), DIR/benchmarks.png
#                 and the raw tool outputs in DIR/raw/; docs/ is left alone
#   --no-build    use ./proxyvpn (or $PROXYVPN) as it is; default: `make -j2 proxyvpn`
#   --rev REV     build REV (git archive into a temp dir, make -j2) and measure that
#   --paths LIST  comma-separated subset of PATHS (bench/paths.sh); default: all
#   --dur S       seconds per iperf3 and connection-rate measurement (default 10)
#   --hold N1,N2  idle connections held for the memory figures (default 2000,10000)
#   --burst LIST  connections opened at once, one burst per count (bench/burst.py;
#                 default 5000,15000, --quick 200; 0: none), each held 10 s
#                 (--quick 1 s) after all are open
#   --tries N     measure again, up to N times in all, when other processes used
#                 more than 10 % of the machine meanwhile (default 2, --quick 1)
#   --retry-budget S  stop measuring again once the repeats took S seconds in
#                 all (default 120), so a busy machine cannot stretch the run
#   --profile     per path with an engine, two extra 1-stream iperf3 runs (not
#                 measured) under `perf record -g -p ENGINE`; the report lists
#                 the hottest symbols (needs perf: linux-perf)
#   --note TEXT   printed in bold above the results (e.g. "machine shared with
#                 other jobs: preliminary")
#   --check DIR   only check DIR/benchmarks.md: a table with every cell filled
#
# The same knobs as environment variables (options win): BENCH_QUICK=1,
# BENCH_PATHS, BENCH_DUR, BENCH_HOLD, BENCH_BURST, BENCH_TRIES, BENCH_NOTE, BENCH_PROFILE=1.
#
# Missing Debian packages are installed with apt-get (nothing else is changed
# on the machine). Timings never fail the run: exit 1 means the harness broke
# (setup failed or a path could not run at all), with a message saying why.
# shellcheck disable=SC2317 # functions called by name (path table, measurement hook)
set -euo pipefail

T_RUN0=$(date +%s%3N)
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
PY=/usr/bin/python3
CMDLINE=bench/run.sh # as typed: an argument with a space or a quote is single-quoted
for a in "$@"; do
	case $a in
	*[!A-Za-z0-9_./,=:+-]* | "") CMDLINE+=" '${a//\'/\'\\\'\'}'" ;;
	*) CMDLINE+=" $a" ;;
	esac
done

QUICK=${BENCH_QUICK:-0} OUT="" BUILD=tree REV="" ONLY=${BENCH_PATHS:-} TRIES=${BENCH_TRIES:-}
PROFILE=${BENCH_PROFILE:-0} DUR=${BENCH_DUR:-} HOLD=${BENCH_HOLD:-} RETRY_BUDGET=120 NOTE=${BENCH_NOTE:-}
BURST=${BENCH_BURST:-}
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--out)
		OUT=${2:?--out needs a directory}
		shift
		;;
	--no-build) BUILD=none ;;
	--rev)
		BUILD=rev REV=${2:?--rev needs a git revision}
		shift
		;;
	--paths)
		ONLY=${2:?--paths needs a list}
		shift
		;;
	--tries)
		TRIES=${2:?--tries needs a number}
		shift
		;;
	--dur)
		DUR=${2:?--dur needs seconds}
		shift
		;;
	--hold)
		HOLD=${2:?--hold needs N1,N2}
		shift
		;;
	--burst)
		BURST=${2:?--burst needs a list of counts}
		shift
		;;
	--profile) PROFILE=1 ;;
	--note)
		NOTE=${2:?--note needs a text}
		shift
		;;
	--retry-budget)
		RETRY_BUDGET=${2:?--retry-budget needs seconds}
		shift
		;;
	--check)
		exec "$PY" "$BENCH_DIR/report.py" check "${2:?--check needs a directory}"
		;;
	-h | --help)
		sed -n '2,50p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "bench: unknown argument $1 (see bench/run.sh --help)" >&2
		exit 2
		;;
	esac
	shift
done

die() {
	echo "bench: ERROR: $*" >&2
	exit 1
}
say() { echo "bench: $(date +%T) $*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces); try: sudo bash bench/run.sh"

# the idle-connection test holds HOLD2 sockets in the client, the engine
# (and its proxy sockets), the proxy and nginx: every process started from
# here inherits this limit
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt 65536 ]; then
	ulimit -Hn 65536 2>/dev/null || true
fi
ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true

# shellcheck source-path=SCRIPTDIR source=paths.sh disable=SC1091
. "$BENCH_DIR/paths.sh"
[ "$QUICK" = 1 ] && [ -z "$ONLY" ] && PATHS=("${QUICK_PATHS[@]}")
if [ -n "$ONLY" ]; then
	IFS=, read -r -a want <<<"$ONLY"
	for p in "${want[@]}"; do
		declare -F "path_${p}_spawn" >/dev/null || die "unknown path '$p' (known: ${PATHS[*]})"
	done
	PATHS=("${want[@]}")
fi

if [ "$QUICK" = 1 ]; then
	DUR=${DUR:-1} HOLD=${HOLD:-200,1000} TRIES=${TRIES:-1} BUSY_WINDOW=0.5
	BURST=${BURST:-200} BURST_HOLD=1
else
	DUR=${DUR:-10} HOLD=${HOLD:-2000,10000} TRIES=${TRIES:-2} BUSY_WINDOW=2
	BURST=${BURST:-5000,15000} BURST_HOLD=10
fi
case $BURST in *[!0-9,]* | ,* | *, | *,,*) die "--burst wants counts, N1,N2,..." ;; esac
[ "$BURST" = 0 ] && BURST=""
IFS=, read -r -a BURSTS <<<"$BURST"
for b in "${BURSTS[@]}"; do
	[ "$b" -ge 1 ] && [ "$b" -le 30000 ] || die "--burst: each count 1-30000"
done
# redsocks and squid hold two sockets per connection in one process: where
# the open-files hard limit cannot be raised (no CAP_SYS_RESOURCE, as in
# some containers) the default second step is lowered to fit under it
NOFILE=$(ulimit -n)
[ "$NOFILE" = unlimited ] && NOFILE=1048576
HOLD_FIT=$(((NOFILE - 200) / 2))
HOLD_CLAMPED=""
if [ -z "${BENCH_HOLD:-}" ] && [ "${HOLD#*,}" -gt "$HOLD_FIT" ]; then
	HOLD_CLAMPED="${HOLD#*,}"
	HOLD="${HOLD%,*},$HOLD_FIT"
fi
case $DUR in '' | *[!0-9]* | 0) die "--dur wants whole seconds, at least 1" ;; esac
LAT_DUR=$(((DUR + 1) / 2))
IFS=, read -r HOLD1 HOLD2 <<<"$HOLD"
case "$HOLD1:$HOLD2" in
*[!0-9:]* | :* | *:) die "--hold wants two counts, N1,N2" ;;
esac
[ "$HOLD1" -lt "$HOLD2" ] || die "--hold wants N1 < N2"
[ "$HOLD2" -le 20000 ] || die "--hold: at most 20000 idle connections"
[ "$HOLD2" -le "$HOLD_FIT" ] ||
	say "WARNING: --hold $HOLD: redsocks and squid need $((2 * HOLD2 + 200)) open files, the limit is $NOFILE"
CONC=16         # concurrent clients in the connection-rate test
AB_MAX_N=1000000 # ab stops at -t seconds or after this many requests

# --- packages ---------------------------------------------------------------
PKGS=(iproute2 procps curl python3 iperf3 dante-server squid nginx apache2-utils gnuplot-nox binutils
	proxychains4 redsocks nftables)
installed() { [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]; }
install_missing() {
	local p missing=() policy=/usr/sbin/policy-rc.d our_policy=0 rc=0
	for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done
	[ "${#missing[@]}" = 0 ] && return 0
	say "installing ${missing[*]} (apt-get)"
	# keep maintainer scripts from starting nginx/squid/danted services
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && our_policy=1
	fi
	local opts=(-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
	{ DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" -q update &&
		DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" -q install -y --no-install-recommends \
			"${missing[@]}"; } >&2 || rc=$?
	[ "$our_policy" = 1 ] && rm -f "$policy"
	[ "$rc" = 0 ] || die "could not install packages; run: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
}
[ "$PROFILE" = 0 ] || PKGS+=(linux-perf)
install_missing
for tool in ip ss sysctl nft curl iperf3 danted squid nginx ab gnuplot mkfifo proxychains4 redsocks "$PY"; do
	command -v "$tool" >/dev/null || die "missing tool: $tool"
done
[ "$PROFILE" = 0 ] || command -v perf >/dev/null || die "missing tool: perf (--profile)"

# --- temp dir, namespaces, cleanup -------------------------------------------
WORK=$(mktemp -d "/tmp/pvbench.$$.XXXXXX")
chmod 0711 "$WORK" # nginx workers (nobody) read $WORK/www
mkdir -p "$WORK/srv" "$WORK/www" "$WORK/build"
if [ -n "$OUT" ]; then
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	RAW=$OUT/raw
	rm -rf "$RAW"
else
	RAW=$REPO/build/bench-raw # kept after the run: report.py can redraw from it
	rm -rf "$RAW"
fi
mkdir -p "$RAW"
TAG="pvbench-$$-$(date +%s%N)"
NS_CLI="pvbench-cli-$$" NS_PRX="pvbench-prx-$$" NS_DST="pvbench-dst-$$"
NSS=("$NS_CLI" "$NS_PRX" "$NS_DST")
SERVER_PIDS=()
CUR_STOP="" # stop function of the path being measured, for cleanup
CG="" CG_KIND="" CG_PARENT=""

# Everything the benchmark starts runs in its own cgroup (cgroup v2, or the
# v1 cpuacct hierarchy), so that its CPU time can be told apart from the rest
# of the machine's. Without one, the CPU-per-GB row falls back to /proc/stat.
cg_setup() {
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		CG_KIND=v2 CG_PARENT=/sys/fs/cgroup
	elif [ -f /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then
		CG_KIND=v1 CG_PARENT=/sys/fs/cgroup/cpuacct
	else
		return 1
	fi
	CG=$CG_PARENT/pvbench-$$
	if mkdir "$CG" 2>/dev/null && echo $$ >"$CG/cgroup.procs" 2>/dev/null; then
		return 0
	fi
	rmdir "$CG" 2>/dev/null
	CG="" CG_KIND=""
	return 1
}

n_cli() { ip netns exec "$NS_CLI" "$@"; }
n_prx() { ip netns exec "$NS_PRX" "$@"; }
# shellcheck disable=SC2317 # called by name (wait_port n_dst ...)
n_dst() { ip netns exec "$NS_DST" "$@"; }
now_ms() { date +%s%3N; }

tagged_pids() {
	grep -lzxF "PVBENCH_TAG=$TAG" /proc/[0-9]*/environ 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p' || true
}
kill_tagged() {
	local p
	for p in $(tagged_pids); do kill -KILL "$p" 2>/dev/null || true; done
}

# shellcheck disable=SC2317
cleanup() {
	local p ns all=() left deadline
	trap - EXIT
	# a second INT or TERM (timeout signals the whole process group) must not
	# cut the cleanup short: it is bounded (about 3 s)
	trap "" INT TERM
	set +e
	[ -n "$CUR_STOP" ] && "$CUR_STOP" >/dev/null 2>&1
	kill_tagged
	all=("${SERVER_PIDS[@]}")
	for ns in "${NSS[@]}"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do all+=("$p"); done
	done
	for p in "${all[@]}"; do kill -TERM "$p" 2>/dev/null; done
	deadline=$(($(now_ms) + 3000))
	while :; do
		left=()
		for p in "${all[@]}"; do
			[ -e "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && left+=("$p")
		done
		[ "${#left[@]}" = 0 ] && break
		if [ "$(now_ms)" -ge "$deadline" ]; then
			for p in "${left[@]}"; do kill -KILL "$p" 2>/dev/null; done
			break
		fi
		sleep 0.05
	done
	for p in "${SERVER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	if [ -n "$CG" ]; then
		echo "$BASHPID" >"$CG_PARENT/cgroup.procs"
		for p in 1 2 3 4 5 6 7 8 9 10; do rmdir "$CG" 2>/dev/null && break; sleep 0.1; done
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
cg_setup || say "no usable cgroup: CPU per GB will count the whole machine"
# The reaper: a subshell that outlives this shell if it dies without its
# EXIT trap (INT, TERM, KILL, or bash aborting: an `exit` from a signal trap
# that fires inside `read -t` crashes bash 5.2 with "longjmp causes
# uninitialized stack frame"), and then cleans up. INT and TERM are not
# trapped here for that reason: their default action ends this shell and
# the reaper, which ignores them, removes everything. It polls with `read -t`
# on a FIFO nobody writes (no fork) and leaves as soon as $WORK is gone (the
# normal cleanup removes it last).
MAIN_PID=$$
mkfifo -m 0600 "$WORK/fifo.reaper"
(
	trap "" INT TERM
	trap - EXIT
	exec 3<>"$WORK/fifo.reaper"
	# out of the benchmark's cgroup, so that the cleanup can remove it
	[ -n "$CG" ] && echo "$BASHPID" >"$CG_PARENT/cgroup.procs" 2>/dev/null
	while kill -0 "$MAIN_PID" 2>/dev/null; do read -r -t 0.5 -u 3 _ || true; done
	exec 3>&-
	if [ -d "$WORK" ]; then
		echo "bench: interrupted: removing namespaces ${NSS[*]} and every process in them" >&2
		cleanup
	fi
) </dev/null &

# --- the binary ----------------------------------------------------------------
case $BUILD in
tree)
	say "building: make -j2 proxyvpn"
	make -C "$REPO" -j2 proxyvpn >"$WORK/build.log" 2>&1 ||
		{ tail -n 30 "$WORK/build.log" >&2; die "make -j2 proxyvpn failed"; }
	PROXYVPN=${PROXYVPN:-$REPO/proxyvpn}
	;;
rev)
	say "building $REV: git archive | make -j2 (in $WORK/build)"
	git -C "$REPO" archive "$REV" | tar -x -C "$WORK/build" || die "git archive $REV failed"
	make -C "$WORK/build" -j2 proxyvpn >"$WORK/build.log" 2>&1 ||
		{ tail -n 30 "$WORK/build.log" >&2; die "make -j2 proxyvpn failed for $REV"; }
	PROXYVPN=$WORK/build/proxyvpn
	;;
none) PROXYVPN=${PROXYVPN:-$REPO/proxyvpn} ;;
esac
[ -x "$PROXYVPN" ] || die "no proxyvpn binary at $PROXYVPN (run make -j2)"
# the compiler flags, from the debug info (make's default is -O2 -g)
CFLAGS_SEEN=$(readelf --debug-dump=info "$PROXYVPN" 2>/dev/null | grep -m1 DW_AT_producer |
	sed 's/.*DW_AT_producer *: *\(([^)]*): *\)\{0,1\}//' | grep -oE -- '-O[0-9sgz]*|-fsanitize=[^ ]*' |
	paste -sd' ' - || true)
case " $CFLAGS_SEEN " in
*" -O2 "* | *" -O3 "*) ;;
*) say "WARNING: $PROXYVPN does not look like the optimized build (flags seen: '${CFLAGS_SEEN:-none}')" ;;
esac
case $CFLAGS_SEEN in
*sanitize*) say "WARNING: $PROXYVPN is built with sanitizers: numbers will be low" ;;
esac

# --- topology ------------------------------------------------------------------
# CLI c0 192.0.2.2/24 --- r0 192.0.2.1/24 PRX r1 198.51.100.1/24 --- d0 198.51.100.20/24 DST
PRX4=192.0.2.1 CLI4=192.0.2.2 DST4=198.51.100.20
SOCKS_PORT=1080 HTTP_PROXY_PORT=3128 IPERF_PORT=5201 WEB_PORT=80 HOLD_PORT=81
NEED_SOCKS=0 NEED_HTTP=0
for path in "${PATHS[@]}"; do
	case $("path_${path}_upstream") in
	socks5) NEED_SOCKS=1 ;;
	http) NEED_HTTP=1 ;;
	esac
done
URL_1K=http://$DST4:$WEB_PORT/1k

setup_topology() {
	local ns
	for ns in "${NSS[@]}"; do
		ip netns add "$ns" && ip -n "$ns" link set lo up || return 1
	done
	ip -n "$NS_CLI" link add c0 type veth peer name r0 netns "$NS_PRX" &&
		ip -n "$NS_PRX" link add r1 type veth peer name d0 netns "$NS_DST" &&
		ip -n "$NS_CLI" addr add "$CLI4/24" dev c0 &&
		ip -n "$NS_PRX" addr add "$PRX4/24" dev r0 &&
		ip -n "$NS_PRX" addr add 198.51.100.1/24 dev r1 &&
		ip -n "$NS_DST" addr add "$DST4/24" dev d0 &&
		ip -n "$NS_CLI" link set c0 up && ip -n "$NS_PRX" link set r0 up &&
		ip -n "$NS_PRX" link set r1 up && ip -n "$NS_DST" link set d0 up &&
		ip -n "$NS_CLI" route add default via "$PRX4" &&
		ip -n "$NS_DST" route add default via 198.51.100.1 || return 1
	# forwarding only while the kernel path runs (paths.sh); many short
	# connections: wide port range and TIME-WAIT reuse where they originate
	n_prx sysctl -qw net.ipv4.ip_forward=0 || return 1
	for ns in n_cli n_prx; do
		"$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65000" net.ipv4.tcp_tw_reuse=1 || return 1
	done
}

start_server() { # NAME NS_FUNC CMD...
	local name=$1 ns=$2
	shift 2
	"$ns" "$@" >"$WORK/srv/$name.log" 2>&1 </dev/null &
	SERVER_PIDS+=($!)
}

wait_port() { # NS_FUNC PORT
	local deadline=$(($(now_ms) + 10000))
	until [ -n "$("$1" ss -Hltn "sport = :$2" 2>/dev/null)" ]; do
		[ "$(now_ms)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

setup_servers() {
	local s=$WORK/srv
	head -c 1024 /dev/urandom >"$WORK/www/1k" && chmod 0755 "$WORK/www" && chmod 0644 "$WORK/www/1k" || return 1
	mkdir -p "$s/nginx-tmp"
	cat >"$s/nginx.conf" <<EOF
# proxyvpn bench: a private nginx in DST serving one 1 KiB file
daemon off;
worker_processes 1;
pid $s/nginx.pid;
error_log $s/nginx-error.log warn;
worker_rlimit_nofile $NOFILE;
events { worker_connections $((NOFILE > 30100 ? 30000 : NOFILE - 100)); multi_accept on; }
http {
	access_log off;
	client_body_temp_path $s/nginx-tmp/body;
	proxy_temp_path $s/nginx-tmp/proxy;
	fastcgi_temp_path $s/nginx-tmp/fastcgi;
	uwsgi_temp_path $s/nginx-tmp/uwsgi;
	scgi_temp_path $s/nginx-tmp/scgi;
	default_type application/octet-stream;
	server {
		listen $DST4:$WEB_PORT backlog=4096;
		root $WORK/www;
	}
	# the idle-connection test: connections that never send a request
	server {
		listen $DST4:$HOLD_PORT backlog=4096;
		client_header_timeout 600s;
		root $WORK/www;
	}
}
EOF
	cat >"$s/danted.conf" <<EOF
# proxyvpn bench: dante-server, SOCKS5 without authentication
logoutput: stderr
internal: $PRX4 port = $SOCKS_PORT
external: r1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 command: connect }
EOF
	# squid: one process (-N, no SMP workers), no cache, CONNECT to any port
	mkdir -p "$s/squid"
	if ! chown proxy: "$s/squid" 2>/dev/null; then chmod 0777 "$s/squid"; fi
	cat >"$s/squid.conf" <<EOF
# proxyvpn bench: squid as an HTTP CONNECT proxy, no auth, no cache
http_port $PRX4:$HTTP_PROXY_PORT
http_access allow all
cache deny all
cache_mem 8 MB
access_log none
cache_store_log none
cache_log $s/squid/cache.log
pid_filename $s/squid/squid.pid
coredump_dir $s/squid
pinger_enable off
max_filedescriptors $NOFILE
shutdown_lifetime 0 seconds
forwarded_for delete
via off
EOF
	start_server iperf3 n_dst iperf3 -s -B "$DST4" -p "$IPERF_PORT"
	start_server nginx n_dst nginx -c "$s/nginx.conf" -e "$s/nginx-error.log"
	[ "$NEED_SOCKS" = 0 ] || start_proxy socks5
	[ "$NEED_HTTP" = 0 ] || start_proxy http
	wait_port n_dst "$IPERF_PORT" || { echo "iperf3 not listening"; return 1; }
	wait_port n_dst "$WEB_PORT" || { echo "nginx not listening"; return 1; }
	wait_port n_dst "$HOLD_PORT" || { echo "nginx not listening on $HOLD_PORT"; return 1; }
	[ "$NEED_SOCKS" = 0 ] || wait_proxy socks5 || return 1
	[ "$NEED_HTTP" = 0 ] || wait_proxy http || return 1
}

start_proxy() { # socks5|http
	local s=$WORK/srv
	case $1 in
	socks5) start_server danted n_prx danted -f "$s/danted.conf" -N 1 -p "$s/danted.pid" ;;
	http) start_server squid n_prx squid -N -f "$s/squid.conf" ;;
	esac
}
wait_proxy() { # socks5|http
	case $1 in
	socks5) wait_port n_prx "$SOCKS_PORT" || { echo "danted not listening"; return 1; } ;;
	http) wait_port n_prx "$HTTP_PROXY_PORT" || { echo "squid not listening"; return 1; } ;;
	esac
}
# restart_proxy socks5|http: stop the proxy (all its processes) and start it
# again, so that the idle-connection test starts from a fresh proxy: dante
# keeps the worker processes earlier tests made it fork
restart_proxy() {
	local p deadline left
	proxy_pids
	for p in "${PROXY_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	deadline=$(($(now_ms) + 5000))
	while :; do
		left=0
		for p in "${PROXY_PIDS[@]}"; do alive "$p" && left=1; done
		[ "$left" = 1 ] || break
		if [ "$(now_ms)" -ge "$deadline" ]; then
			for p in "${PROXY_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
			nap 0.2
			break
		fi
		nap 0.05
	done
	start_proxy "$1"
	wait_proxy "$1"
}

# the plumbing works, and CLI cannot reach DST without a proxy (forwarding off)
setup_checks() {
	fetch_ok() { # NS_FUNC CURL-ARGS...: fetch $URL_1K intact
		local ns=$1 got=$WORK/check
		shift
		rm -f "$got"
		"$ns" curl -sS --max-time 10 "$@" -o "$got" "$URL_1K" && cmp -s "$got" "$WORK/www/1k"
	}
	fetch_ok n_prx || { echo "PRX cannot fetch $URL_1K"; return 1; }
	if n_cli curl -sS --connect-timeout 1 --max-time 2 -o /dev/null "$URL_1K" 2>/dev/null; then
		echo "CLI reaches DST without a proxy: topology is wrong"
		return 1
	fi
	if [ "$NEED_SOCKS" = 1 ]; then
		fetch_ok n_cli --proxy "socks5://$PRX4:$SOCKS_PORT" || { echo "curl through dante failed"; return 1; }
	fi
	if [ "$NEED_HTTP" = 1 ]; then
		fetch_ok n_cli --proxy "http://$PRX4:$HTTP_PROXY_PORT" --proxytunnel ||
			{ echo "curl through squid (CONNECT) failed"; return 1; }
	fi
}

# how busy the machine is before we start (other work lowers every number)
busy_pct() { # over BUSY_WINDOW s, all CPUs
	local a b
	a=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat)
	sleep "$BUSY_WINDOW"
	b=$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat)
	echo "$a $b" | awk '{ d = ($3 - $1) + ($4 - $2); printf "%.0f", (d > 0 ? 100 * ($3 - $1) / d : 0) }'
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY_START=$(busy_pct)
[ "$BUSY_START" -lt 10 ] ||
	say "WARNING: the machine is ${BUSY_START}% busy before the start: other work will lower the numbers"
T0=$(now_ms)
setup_topology >"$WORK/setup.log" 2>&1 || die "topology: $(cat "$WORK/setup.log")"
if ! setup_servers >"$WORK/setup.log" 2>&1 || ! setup_checks >"$WORK/setup.log" 2>&1; then
	for f in "$WORK"/srv/*.log; do [ -s "$f" ] && { echo "--- $f"; tail -n 10 "$f"; } >&2; done
	die "servers: $(cat "$WORK/setup.log")"
fi
say "topology and servers ready in $(($(now_ms) - T0)) ms (ns ${NSS[*]})"

# --- measuring one command in app context --------------------------------------
# The command runs under a wrapper that stops twice on a FIFO handshake:
# before the command starts and after it ended, while the path's engine is
# still alive. At both stops run.sh samples the engine's utime+stime
# (/proc/PID/stat), the CPU time of everything the benchmark runs (its
# cgroup), the whole machine's busy time (/proc/stat), and at the second
# stop the engine's VmHWM. Between the stops run.sh polls with builtins only
# (no forks), so its own share of the cgroup's time stays negligible.
# shellcheck disable=SC2016 # expanded by the wrapper's bash
WRAP='up=$1 down=$2; shift 2
echo start >"$up"; read -r _ <"$down"
"$@"; rc=$?
echo "end $rc" >"$up"; read -r _ <"$down"
exit "$rc"'
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
RUNS=$RAW/runs.tsv
printf 'path\ttest\trc\twall_s\tengine_cpu_s\tengine_hwm_kib\tmachine_cpu_s\tbench_cpu_s\tproxy_cpu_s\ttries\n' >"$RUNS"
mkfifo -m 0600 "$WORK/fifo.nap"
exec 9<>"$WORK/fifo.nap" # never written: `read -t` on it is a sleep without a fork

nap() { read -r -t "$1" -u 9 _ || true; }
now_us() { NOW_US=${EPOCHREALTIME/./}; }
alive() { # PID: exists and is not a zombie
	local st
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}
cpu_ticks() { # PID... -> CPU_TICKS: sum of utime+stime
	local p s f
	CPU_TICKS=0
	for p in "$@"; do
		read -r s 2>/dev/null <"/proc/$p/stat" || continue
		read -r -a f <<<"${s##*) }"
		CPU_TICKS=$((CPU_TICKS + f[11] + f[12]))
	done
}
machine_ticks() { # -> MACHINE_TICKS: busy time of all CPUs (user nice system irq softirq steal)
	local f
	read -r -a f </proc/stat
	MACHINE_TICKS=$((f[1] + f[2] + f[3] + f[6] + f[7] + f[8]))
}
cg_usage() { # -> CG_US: CPU time of the benchmark's cgroup in µs ("" without one)
	local k v
	CG_US=""
	case $CG_KIND in
	v2) while read -r k v; do [ "$k" = usage_usec ] && CG_US=$v && break; done <"$CG/cpu.stat" ;;
	v1) read -r v <"$CG/cpuacct.usage" && CG_US=$((v / 1000)) ;;
	esac
}
# the processes of the path's proxy (PROXY_COMM: danted or squid; dante's
# children keep the name) in PRX -> PROXY_PIDS
proxy_pids() {
	local p c
	PROXY_PIDS=()
	[ -n "$PROXY_COMM" ] || return 0
	for p in $(ip netns pids "$NS_PRX" 2>/dev/null); do
		read -r c 2>/dev/null <"/proc/$p/comm" || continue
		[ "$c" = "$PROXY_COMM" ] && PROXY_PIDS+=("$p")
	done
}
proxy_ticks() { # -> PROXY_TICKS: utime+stime+cutime+cstime of the path's proxy
	# (its children's time moves to cutime when reaped)
	local p s f
	PROXY_TICKS=0
	proxy_pids
	for p in "${PROXY_PIDS[@]}"; do
		read -r s 2>/dev/null <"/proc/$p/stat" || continue
		read -r -a f <<<"${s##*) }"
		PROXY_TICKS=$((PROXY_TICKS + f[11] + f[12] + f[13] + f[14]))
	done
}
# shellcheck disable=SC2317 # called from the idle-connection hook
rss_kib() { # PID... -> RSS_KIB: sum of VmRSS
	local p k v
	RSS_KIB=0
	for p in "$@"; do
		while read -r k v _; do
			[ "$k" = VmRSS: ] && RSS_KIB=$((RSS_KIB + v))
		done 2>/dev/null <"/proc/$p/status" || true
	done
}
proxy_pss_kib() { # -> PSS_KIB, NPROC: proportional set size and number of the path's proxy processes
	local p k v
	PSS_KIB=0 NPROC=0
	proxy_pids
	for p in "${PROXY_PIDS[@]}"; do
		NPROC=$((NPROC + 1))
		while read -r k v _; do
			[ "$k" = Pss: ] && PSS_KIB=$((PSS_KIB + v))
		done 2>/dev/null <"/proc/$p/smaps_rollup" || true
	done
}
hwm_kib() { # PID... -> HWM_KIB: the highest VmHWM
	local p k v
	HWM_KIB=0
	for p in "$@"; do
		while read -r k v _; do
			[ "$k" = VmHWM: ] && [ "$v" -gt "$HWM_KIB" ] && HWM_KIB=$v
		done 2>/dev/null <"/proc/$p/status" || true
	done
}

# hs_read LIMIT_S: next handshake line from the wrapper into HS_LINE, giving
# up after LIMIT_S seconds or as soon as the spawned process is gone.
# `read -t 0` only tests for input: a read timing out part-way through a
# line would lose the bytes it consumed. The wrapper writes whole lines
# (one small write each), so once input is there the blocking read is short.
hs_read() {
	local deadline
	now_us
	deadline=$((NOW_US + $1 * 1000000))
	HS_LINE=""
	while :; do
		if read -r -t 0 -u 7; then
			read -r HS_LINE <&7
			return 0
		fi
		alive "$SPAWN_PID" || return 1
		now_us
		[ "$NOW_US" -lt "$deadline" ] || return 1
		nap 0.05
	done
}

# wait_spawn SECS: reap SPAWN_PID, killing it (and everything tagged) if it
# has not exited by then. Sets SPAWN_RC (137 if we killed it).
wait_spawn() {
	local deadline
	now_us
	deadline=$((NOW_US + $1 * 1000000))
	SPAWN_RC=0
	while alive "$SPAWN_PID"; do
		now_us
		if [ "$NOW_US" -ge "$deadline" ]; then
			kill -KILL "$SPAWN_PID" 2>/dev/null || true
			break
		fi
		nap 0.05
	done
	wait "$SPAWN_PID" 2>/dev/null || SPAWN_RC=$?
	kill_tagged
}

# measure PATH TEST LIMIT_S CMD...: run CMD in PATH's app context with stdout
# in $RAW/PATH.TEST.out, stderr in .err; RUN_LINE gets its runs.tsv line
# (without the tries column), FOREIGN_PCT the share of all CPUs used by
# processes outside the benchmark meanwhile ("" if unknown).
# If MEASURE_HOOK names a function, it is called as HOOK start (before the
# command starts) and HOOK run (right after it started; it returns before
# the command can end); non-zero from it fails the measurement.
# Returns CMD's status (1 if the handshake failed).
measure() {
	local path=$1 test=$2 limit=$3
	shift 3
	local base=$RAW/$path.$test fifo_up=$WORK/fifo.up fifo_down=$WORK/fifo.down
	local c0=0 m0 g0 t0 p0 rc=1 cpu="" hwm="" wall="" mcpu="" bcpu="" pcpu="" hook_ok=1
	FOREIGN_PCT=""
	rm -f "$fifo_up" "$fifo_down"
	mkfifo -m 0600 "$fifo_up" "$fifo_down"
	exec 7<>"$fifo_up" 8<>"$fifo_down"
	SPAWN_PID="" ENGINE_PIDS=()
	"path_${path}_spawn" bash -c "$WRAP" wrap "$fifo_up" "$fifo_down" "$@" \
		>"$base.out" 2>"$base.err" </dev/null 7>&- 8>&- 9>&-
	if hs_read 20 && [ "$HS_LINE" = start ]; then
		if [ "${#ENGINE_PIDS[@]}" -gt 0 ]; then
			cpu_ticks "${ENGINE_PIDS[@]}"
			c0=$CPU_TICKS
		fi
		if [ -n "${MEASURE_HOOK:-}" ]; then
			"$MEASURE_HOOK" start >>"$base.err" 2>&1 || hook_ok=0
		fi
		proxy_ticks
		p0=$PROXY_TICKS
		machine_ticks
		m0=$MACHINE_TICKS
		cg_usage
		g0=$CG_US
		now_us
		t0=$NOW_US
		echo go >&8
		if [ -n "${MEASURE_HOOK:-}" ] && [ "$hook_ok" = 1 ]; then
			"$MEASURE_HOOK" run >>"$base.err" 2>&1 || hook_ok=0
		fi
		if hs_read "$limit" && [ "${HS_LINE%% *}" = end ]; then
			now_us
			cg_usage
			machine_ticks
			proxy_ticks
			rc=${HS_LINE#end }
			[ "$hook_ok" = 1 ] || { echo "bench: the $test measurement hook failed" >>"$base.err"; rc=1; }
			pcpu=$(awk -v a="$p0" -v b="$PROXY_TICKS" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
			wall=$(awk -v a="$t0" -v b="$NOW_US" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
			mcpu=$(awk -v a="$m0" -v b="$MACHINE_TICKS" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
			if [ -n "$CG_US" ]; then
				bcpu=$(awk -v a="$g0" -v b="$CG_US" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
				# share of all CPUs used by processes outside the benchmark
				FOREIGN_PCT=$(awk -v m="$mcpu" -v b="$bcpu" -v w="$wall" -v n="$NCPU" \
					'BEGIN { f = w > 0 ? 100 * (m - b) / (w * n) : 0; printf "%.0f", f < 0 ? 0 : f }')
			fi
			if [ "${#ENGINE_PIDS[@]}" -gt 0 ]; then
				cpu_ticks "${ENGINE_PIDS[@]}"
				hwm_kib "${ENGINE_PIDS[@]}"
				cpu=$(awk -v a="$c0" -v b="$CPU_TICKS" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
				hwm=$HWM_KIB
			fi
			echo go >&8
		else
			if [ -n "$HS_LINE" ]; then
				echo "bench: unexpected handshake line '$HS_LINE' from the wrapper" >>"$base.err"
			elif alive "$SPAWN_PID"; then
				echo "bench: $test did not finish within ${limit}s" >>"$base.err"
			else
				echo "bench: the path's process exited before the command ended" >>"$base.err"
			fi
			rc=1
		fi
	else
		echo "bench: the command never started in app context (its process exited, or 20 s passed)" >>"$base.err"
	fi
	wait_spawn 15
	[ "$rc" = 0 ] || echo "bench: the path's process ($SPAWN_PID) exited with status $SPAWN_RC" >>"$base.err"
	exec 7>&- 8>&-
	RUN_LINE=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$path" "$test" "$rc" "$wall" "$cpu" "$hwm" "$mcpu" "$bcpu" "$pcpu")
	return "$rc"
}

# measure_once: measure, and record it in runs.tsv
measure_once() {
	local rc=0
	measure "$@" || rc=$?
	printf '%s\t1\n' "$RUN_LINE" >>"$RUNS"
	return "$rc"
}

# wait_quiet SECS: wait until the machine has been under 10 % busy for 3 s
# in a row (our servers idle), at most SECS seconds.
wait_quiet() {
	local deadline quiet=0 a
	now_us
	deadline=$((NOW_US + $1 * 1000000))
	while [ "$quiet" -lt 3 ]; do
		now_us
		[ "$NOW_US" -lt "$deadline" ] || return 1
		machine_ticks
		a=$MACHINE_TICKS
		nap 1
		machine_ticks
		if [ $(((MACHINE_TICKS - a) * 100)) -lt $((CLK_TCK * NCPU * 10)) ]; then
			quiet=$((quiet + 1))
		else
			quiet=0
		fi
	done
}

# measure_quiet PATH TEST LIMIT_S CMD...: measure, and while other processes
# used more than 10 % of the machine during it, wait for quiet (at most 30 s)
# and measure again, up to TRIES attempts in all, as long as the repeats so
# far took less than RETRY_BUDGET seconds in all. The least disturbed
# attempt is the one recorded in runs.tsv and PATH.TEST.*; all stay in raw/
# as PATH.TEST.tryN.* when there was more than one.
RETRY_SPENT_US=0 RETRY_NOTED=0
measure_quiet() {
	local path=$1 try=1 best=1 best_pct=101 rc best_rc=1 f t_retry=""
	local base=$RAW/$path.$2
	while :; do
		rc=0
		measure "$@" || rc=$?
		if [ -n "$t_retry" ]; then
			now_us
			RETRY_SPENT_US=$((RETRY_SPENT_US + NOW_US - t_retry))
		fi
		for f in "$base".*; do
			[ -e "$f" ] || continue
			case $f in *.try[0-9]*) continue ;; esac
			mv "$f" "$base.try$try.${f##*.}"
		done
		printf '%s\n' "$RUN_LINE" >"$base.try$try.run"
		if [ "${FOREIGN_PCT:-0}" -lt "$best_pct" ]; then
			best=$try best_pct=${FOREIGN_PCT:-0} best_rc=$rc
		fi
		if [ "${FOREIGN_PCT:-0}" -le 10 ] || [ "$try" -ge "$TRIES" ]; then
			break
		fi
		if [ $((RETRY_SPENT_US / 1000000)) -ge "$RETRY_BUDGET" ]; then
			[ "$RETRY_NOTED" = 1 ] ||
				say "    retry budget (${RETRY_BUDGET} s) used up: disturbed measurements are kept from now on"
			RETRY_NOTED=1
			break
		fi
		say "    other processes used ${FOREIGN_PCT}% of the machine: waiting for quiet, then again"
		now_us
		t_retry=$NOW_US
		wait_quiet 30 || true
		try=$((try + 1))
	done
	for f in "$base.try$best".*; do
		case $f in *.run) continue ;; esac
		cp "$f" "$base.${f##*.}"
	done
	printf '%s\t%s\n' "$(cat "$base.try$best.run")" "$try" >>"$RUNS"
	if [ "$try" = 1 ]; then
		rm -f "$base".try1.*
	fi
	return "$best_rc"
}

# --- idle connections: bench/hold.py in app context opens HOLD1, then HOLD2
# connections to nginx's idle port and holds them; at each step, once DST
# has that many established, the engine's VmRSS and the proxies' PSS are
# sampled into $RAW/PATH.hold.tsv (the first line: before any connection).
HOLD_SYNC="" HOLD_TSV=""
est_at_dst() { # -> EST: established connections at DST's idle port
	EST=$(n_dst ss -Htn state established "( sport = :$HOLD_PORT )" 2>/dev/null | wc -l)
}
hold_sample() { # TARGET
	local rss=""
	if [ "${#ENGINE_PIDS[@]}" -gt 0 ]; then
		rss_kib "${ENGINE_PIDS[@]}"
		rss=$RSS_KIB
	fi
	proxy_pss_kib
	est_at_dst
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$EST" "$rss" "$PSS_KIB" "$NPROC" >>"$HOLD_TSV"
}
# shellcheck disable=SC2317 # called through MEASURE_HOOK
hold_hook() { # start|run
	local i target deadline
	if [ "$1" = start ]; then
		printf 'target\testablished\tengine_rss_kib\tproxy_pss_kib\tproxy_procs\n' >"$HOLD_TSV"
		hold_sample 0
		return 0
	fi
	i=0
	for target in "$HOLD1" "$HOLD2"; do
		i=$((i + 1))
		now_us
		deadline=$((NOW_US + 150 * 1000000))
		until [ -e "$HOLD_SYNC/open$i" ]; do
			alive "$SPAWN_PID" || { echo "hold: the path's process exited at step $i"; return 1; }
			now_us
			[ "$NOW_US" -lt "$deadline" ] || { echo "hold: step $i not open within 150 s"; return 1; }
			nap 0.05
		done
		echo "hold: client at step $i: $(cat "$HOLD_SYNC/open$i")"
		# the client's connect() may complete before the proxy's: wait for DST
		deadline=$((NOW_US + 15 * 1000000))
		while est_at_dst && [ "$EST" -lt "$target" ]; do
			now_us
			[ "$NOW_US" -lt "$deadline" ] || break
			nap 0.2
		done
		hold_sample "$target"
		: >"$HOLD_SYNC/release$i"
	done
}
# --- --profile: an extra, unmeasured 1-stream run each way with
# `perf record -g` attached to the engine, and its flat profile
# (raw/PATH.prof_up1.perf.txt) for the report's profile section
PERF_PID=""
# shellcheck disable=SC2317 # called through MEASURE_HOOK
perf_hook() { # start|run
	[ "$1" = run ] || return 0
	[ "${#ENGINE_PIDS[@]}" -gt 0 ] || return 1
	perf record -q -F 499 -g -o "$PERF_DATA" -p "$(
		IFS=,
		echo "${ENGINE_PIDS[*]}"
	)" >/dev/null 2>&1 </dev/null &
	PERF_PID=$!
}
profile_test() { # PATH TEST IPERF-ARGS...
	local path=$1 test=$2 deadline
	shift 2
	PERF_DATA=$RAW/$path.$test.perf.data
	MEASURE_HOOK=perf_hook
	measure_once "$path" "$test" $((DUR + 40)) iperf3 -c "$DST4" -p "$IPERF_PORT" -t "$DUR" -J \
		--connect-timeout 10000 "$@" || say "  $path $test: failed (see raw output)"
	MEASURE_HOOK=""
	# perf ends by itself when the engine exits (exec); else (a daemon) stop it
	if [ -n "$PERF_PID" ]; then
		kill -INT "$PERF_PID" 2>/dev/null || true
		deadline=$(($(now_ms) + 20000))
		while alive "$PERF_PID" && [ "$(now_ms)" -lt "$deadline" ]; do nap 0.1; done
		kill -KILL "$PERF_PID" 2>/dev/null || true
		wait "$PERF_PID" 2>/dev/null || true
		PERF_PID=""
	fi
	if [ -s "$PERF_DATA" ]; then
		perf report -i "$PERF_DATA" --stdio --no-children -g none --sort dso,symbol \
			--percent-limit 0.5 2>/dev/null | grep -v '^#' | grep -v '^$' |
			sed 's/[[:space:]-]*$//' | head -n 40 \
			>"$RAW/$path.$test.perf.txt" || true
		rm -f "$PERF_DATA"
	fi
}

hold_test() { # PATH
	HOLD_SYNC=$WORK/hold-$1 HOLD_TSV=$RAW/$1.hold.tsv
	rm -rf "$HOLD_SYNC"
	mkdir -m 0777 "$HOLD_SYNC"
	MEASURE_HOOK=hold_hook
	measure_once "$1" hold 400 "$PY" "$BENCH_DIR/hold.py" "$DST4" "$HOLD_PORT" \
		--counts "$HOLD1,$HOLD2" --sync "$HOLD_SYNC" --timeout 150 ||
		say "  $1 hold: failed (see raw output)"
	MEASURE_HOOK=""
}

# --- bursts: bench/burst.py in app context opens N connections at once to
# nginx, one request each; once all are answered (or failed) the engine's
# VmRSS and DST's established count are sampled into $RAW/PATH.burstN.tsv,
# then the client holds them BURST_HOLD s and asks again on each.
BURST_SYNC="" BURST_TSV=""
# shellcheck disable=SC2317 # called through MEASURE_HOOK
burst_hook() { # start|run
	local deadline rss=""
	[ "$1" = run ] || return 0
	now_us
	deadline=$((NOW_US + 400 * 1000000))
	until [ -e "$BURST_SYNC/open" ]; do
		alive "$SPAWN_PID" || { echo "burst: the path's process exited before all were open"; return 1; }
		now_us
		[ "$NOW_US" -lt "$deadline" ] || { echo "burst: not all open or failed within 400 s"; return 1; }
		nap 0.05
	done
	if [ "${#ENGINE_PIDS[@]}" -gt 0 ]; then
		rss_kib "${ENGINE_PIDS[@]}"
		rss=$RSS_KIB
	fi
	est_at_dst_web
	printf 'held\tfailed\topen_s\tengine_rss_kib\testablished\n%s\t%s\t%s\n' \
		"$(tr ' ' '\t' <"$BURST_SYNC/open")" "$rss" "$EST" >"$BURST_TSV"
	echo "burst: $(cat "$BURST_SYNC/open") (held failed seconds); engine RSS ${rss:-none} KiB; $EST at DST"
	: >"$BURST_SYNC/release"
}
est_at_dst_web() { # -> EST: established connections at DST's web port
	EST=$(n_dst ss -Htn state established "( sport = :$WEB_PORT )" 2>/dev/null | wc -l)
}
burst_test() { # PATH N
	BURST_SYNC=$WORK/burst-$1-$2 BURST_TSV=$RAW/$1.burst$2.tsv
	rm -rf "$BURST_SYNC"
	mkdir -m 0777 "$BURST_SYNC"
	MEASURE_HOOK=burst_hook
	measure_once "$1" "burst$2" $((BURST_HOLD + 900)) "$PY" "$BENCH_DIR/burst.py" "$DST4" "$WEB_PORT" \
		-n "$2" --sync "$BURST_SYNC" --hold "$BURST_HOLD" --timeout 400 ||
		say "  $1 burst of $2: not all held (see raw output)"
	MEASURE_HOOK=""
}

iperf() { # PATH TEST IPERF-ARGS...
	local path=$1 test=$2
	shift 2
	measure_quiet "$path" "$test" $((DUR + 40)) \
		iperf3 -c "$DST4" -p "$IPERF_PORT" -t "$DUR" -J --connect-timeout 10000 "$@" ||
		say "  $path $test: iperf3 failed (see raw output)"
}

# --- run every path ---------------------------------------------------------------
BROKEN=()
for path in "${PATHS[@]}"; do
	label=$("path_${path}_label")
	case $("path_${path}_upstream") in
	socks5) PROXY_COMM=danted ;;
	http) PROXY_COMM=squid ;;
	*) PROXY_COMM="" ;;
	esac
	say "path $path: $label"
	if declare -F "path_${path}_start" >/dev/null; then
		CUR_STOP=""
		declare -F "path_${path}_stop" >/dev/null && CUR_STOP=path_${path}_stop
		if ! "path_${path}_start" >"$RAW/$path.start.log" 2>&1; then
			BROKEN+=("$path: path_${path}_start failed: $(tail -n 3 "$RAW/$path.start.log")")
			if [ -n "$CUR_STOP" ]; then "$CUR_STOP" >/dev/null 2>&1 || true; fi
			CUR_STOP=""
			continue
		fi
	fi
	# preflight: the path carries one request and its reply intact
	path_engine=0
	if ! measure_once "$path" preflight 20 curl -sS --noproxy '*' --max-time 10 "$URL_1K" ||
		! cmp -s "$RAW/$path.preflight.out" "$WORK/www/1k"; then
		BROKEN+=("$path: could not fetch $URL_1K through it: $(tail -n 3 "$RAW/$path.preflight.err" | paste -sd' ' -)")
	else
		[ "${#ENGINE_PIDS[@]}" -gt 0 ] && path_engine=1
		[ "$path_engine" = 1 ] || [ "$PROFILE" = 0 ] || say "  (no engine: nothing to profile)"
		# the links the application sees (the report takes the MTU from it)
		measure_once "$path" ifinfo 20 ip -o link || true
		for t in "up1:" "down1:-R" "up4:-P 4" "down4:-R -P 4"; do
			say "  iperf3 ${t%%:*} (${DUR}s)"
			# shellcheck disable=SC2086 # the options are meant to split
			iperf "$path" "${t%%:*}" ${t#*:}
		done
		if [ "$PROFILE" = 1 ] && [ "$path_engine" = 1 ]; then
			say "  perf record -g on the engine: iperf3 1 stream each way (${DUR}s, not measured)"
			profile_test "$path" prof_up1
			profile_test "$path" prof_down1 -R
		fi
		say "  ab -c $CONC -t $DUR (new connection per request)"
		measure_quiet "$path" rate $((DUR + 60)) ab -r -q -s 20 -c "$CONC" -t "$DUR" -n "$AB_MAX_N" \
			-e "$RAW/$path.rate.csv" "$URL_1K" || say "  $path rate: ab failed (see raw output)"
		say "  ab -c 1 -t $LAT_DUR (latency)"
		measure_quiet "$path" latency $((LAT_DUR + 60)) ab -r -q -s 20 -c 1 -t "$LAT_DUR" -n "$AB_MAX_N" \
			-e "$RAW/$path.latency.csv" "$URL_1K" || say "  $path latency: ab failed (see raw output)"
		# memory per idle connection: only where there is an engine (the
		# proxies' memory is the same on every path through them)
		if [ "$path_engine" = 1 ]; then
			say "  $HOLD1 then $HOLD2 idle connections (memory)"
			# a fresh proxy, and a daemon engine (redsocks, up) starts
			# afresh, as `exec` does
			restart_proxy "$("path_${path}_upstream")" >>"$RAW/$path.start.log" 2>&1 ||
				say "  $path: restarting the proxy failed"
			if [ -n "$CUR_STOP" ]; then
				"$CUR_STOP" >>"$RAW/$path.start.log" 2>&1 || true
				if ! "path_${path}_start" >>"$RAW/$path.start.log" 2>&1; then
					say "  $path: restarting it for the idle-connection test failed"
				fi
			fi
			hold_test "$path"
		fi
		for b in "${BURSTS[@]}"; do
			say "  burst: $b connections at once, held ${BURST_HOLD} s"
			# each burst meets a fresh proxy and a fresh daemon engine
			[ "$("path_${path}_upstream")" = none ] ||
				restart_proxy "$("path_${path}_upstream")" >>"$RAW/$path.start.log" 2>&1 ||
				say "  $path: restarting the proxy failed"
			if [ -n "$CUR_STOP" ]; then
				"$CUR_STOP" >>"$RAW/$path.start.log" 2>&1 || true
				if ! "path_${path}_start" >>"$RAW/$path.start.log" 2>&1; then
					say "  $path: restarting it for the burst failed"
				fi
			fi
			burst_test "$path" "$b"
		done
	fi
	if [ -n "$CUR_STOP" ]; then
		"$CUR_STOP" >>"$RAW/$path.start.log" 2>&1 || say "  $CUR_STOP failed"
		CUR_STOP=""
	fi
done

# --- report -------------------------------------------------------------------------
meta() { printf '%s\t%s\n' "$1" "$2" >>"$RAW/meta.tsv"; }
: >"$RAW/meta.tsv"
meta date "$(date -u +%Y-%m-%d)"
meta command "$CMDLINE"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
meta cores "$(nproc)"
meta mem_kib "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
meta kernel "$(uname -r)"
# shellcheck source=/dev/null
meta distro "$(. /etc/os-release && echo "$PRETTY_NAME") ($(cat /etc/debian_version 2>/dev/null || echo '?'))"
meta vm "$(systemd-detect-virt --vm 2>/dev/null || lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p' | head -n 1)"
meta container "$(systemd-detect-virt --container 2>/dev/null || true)"
meta busy_start "$BUSY_START"
meta busy_window "$BUSY_WINDOW"
meta cgroup "${CG_KIND:-none}"
meta loadavg "$LOAD_START"
meta loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$BUILD" = rev ]; then
	meta commit "$(git -C "$REPO" rev-parse --short=12 "$REV") ($REV, built from git archive)"
else
	dirty=""
	git -C "$REPO" diff --quiet HEAD -- src Makefile 2>/dev/null || dirty=" + uncommitted changes in src/ or Makefile"
	meta commit "$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$dirty"
fi
meta describe "$(git -C "$REPO" describe --always --tags "${REV:-HEAD}" 2>/dev/null || echo unknown)"
meta proxyvpn "$("$PROXYVPN" --version 2>&1 | head -n 1)"
meta cflags "${CFLAGS_SEEN:-unknown}"
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null | sed 's/[-+~].*//'; }
meta versions "dante-server $(pkgver dante-server), squid $(pkgver squid), proxychains4 $(pkgver proxychains4), redsocks $(pkgver redsocks), nginx $(pkgver nginx), iperf3 $(pkgver iperf3), ab $(pkgver apache2-utils), python3 $(pkgver python3)"
meta mtu "$(n_cli cat /sys/class/net/c0/mtu)"
meta dur "$DUR"
meta conc "$CONC"
meta lat_dur "$LAT_DUR"
meta quick "$QUICK"
meta tries "$TRIES"
meta hold "$HOLD1,$HOLD2"
meta burst "$BURST"
meta burst_hold "$BURST_HOLD"
meta hold_clamped "$HOLD_CLAMPED"
meta nofile "$NOFILE"
meta note "$NOTE"
meta profile "$PROFILE"
meta retry_budget "$RETRY_BUDGET"
meta retry_spent "$((RETRY_SPENT_US / 1000000))"
meta duration_s "$((($(now_ms) - T_RUN0) / 1000))"
for path in "${PATHS[@]}"; do meta path "$path	$("path_${path}_label")	$("path_${path}_upstream")"; done
for b in "${BROKEN[@]}"; do meta broken "$b"; done

if [ -n "$OUT" ]; then
	"$PY" "$BENCH_DIR/report.py" render "$RAW" --fragment "$OUT/benchmarks.md" --png "$OUT/benchmarks.png" ||
		die "report.py failed"
	say "wrote $OUT/benchmarks.md, $OUT/benchmarks.png and raw outputs in $RAW"
	cat "$OUT/benchmarks.md"
else
	"$PY" "$BENCH_DIR/report.py" render "$RAW" --page "$REPO/docs/benchmarks.md" \
		--png "$REPO/docs/benchmarks.png" || die "report.py failed"
	say "wrote docs/benchmarks.md (results section) and docs/benchmarks.png; raw outputs in $RAW"
	"$PY" "$BENCH_DIR/report.py" render "$RAW" --fragment /dev/stdout
fi

if [ "${#BROKEN[@]}" -gt 0 ]; then
	for b in "${BROKEN[@]}"; do echo "bench: ERROR: path $b" >&2; done
	exit 1
fi
exit 0
