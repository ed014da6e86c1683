# shellcheck shell=bash disable=SC2034
# The table of paths measured by bench/run.sh (sourced by it).
#
# A path is the way an application's TCP reaches DST. Every path NAME listed
# in PATHS provides:
#
#   path_NAME_label         prints the column header (one short line)
#   path_NAME_upstream      prints the proxy it goes through: socks5 (dante),
#                           http (squid, HTTP CONNECT) or none. run.sh starts
#                           only the proxies some selected path needs, and
#                           report.py divides every figure by the one of the
#                           proxychains path through the same proxy
#                           (pc_socks5 for "none").
#   path_NAME_spawn CMD...  starts CMD "in app context" in the BACKGROUND and
#                           sets SPAWN_PID (the process run.sh waits for) and
#                           ENGINE_PIDS (the processes whose CPU time and
#                           memory are the path's own cost, the "engine";
#                           empty array = none). stdout/stderr/stdin are
#                           already redirected by the caller; CMD must run in
#                           CLI's network namespace or one reachable only
#                           through the path.
#
# and may provide (called if defined):
#
#   path_NAME_start         before the path's measurements (start a daemon,
#                           change a route or sysctl); non-zero = path broken
#   path_NAME_stop          after them, also on failure (undo start)
#
# Environment available: NS_CLI NS_PRX NS_DST (namespace names), PRX4 DST4
# (addresses), SOCKS_PORT HTTP_PROXY_PORT, PROXYVPN (binary), TAG (spawn
# everything through `env PVBENCH_TAG=$TAG ...` so that cleanup finds it),
# WORK (private temp dir, mode 0711), and the helpers n_cli/n_prx/n_dst.
# Daemons a path starts belong in one of the namespaces: cleanup kills every
# process left in them.
#
# Not a path: hev-socks5-tunnel (not packaged in Debian 12; the bench only
# uses Debian packages).

PATHS=(kernel pc_socks5 rs_socks5 pv_socks5 pc_http rs_http pv_http)
# --quick (bench/smoke in CI): one path per tool, the two proxies
QUICK_PATHS=(pc_socks5 rs_http pv_socks5)

upstream_url() { # socks5|http
	case $1 in
	socks5) echo "socks5://$PRX4:$SOCKS_PORT" ;;
	http) echo "http://$PRX4:$HTTP_PROXY_PORT" ;;
	esac
}

# --- kernel: no proxy at all; CLI routes to DST through PRX (forwarding on
# in PRX for this path only). The ceiling of the links and the kernel.
path_kernel_label() { echo "kernel path (no proxy)"; }
path_kernel_upstream() { echo none; }
path_kernel_start() { n_prx sysctl -qw net.ipv4.ip_forward=1; }
path_kernel_stop() { n_prx sysctl -qw net.ipv4.ip_forward=0; }
path_kernel_spawn() {
	ip netns exec "$NS_CLI" env "PVBENCH_TAG=$TAG" "$@" &
	SPAWN_PID=$!
	ENGINE_PIDS=()
}

# --- proxychains4: the application itself speaks SOCKS5 / HTTP CONNECT
# (proxychains' LD_PRELOAD library opens the tunnel inside connect()). No
# engine process: the baseline every TUN or redirect tool adds overhead to.
# Its connect() blocks for the proxy handshake even on a non-blocking
# socket, which serialises ab's concurrent connects.
pc_conf() { # socks5|http -> path of the config file
	local f=$WORK/proxychains-$1.conf type=$1
	if [ ! -f "$f" ]; then
		printf '%s\n' strict_chain quiet_mode "tcp_read_time_out 15000" "tcp_connect_time_out 8000" \
			"[ProxyList]" "$type $PRX4 $([ "$1" = socks5 ] && echo "$SOCKS_PORT" || echo "$HTTP_PROXY_PORT")" >"$f"
	fi
	echo "$f"
}
pc_spawn() { # socks5|http CMD...
	local conf
	conf=$(pc_conf "$1")
	shift
	ip netns exec "$NS_CLI" env "PVBENCH_TAG=$TAG" proxychains4 -q -f "$conf" "$@" &
	SPAWN_PID=$!
	ENGINE_PIDS=()
}
path_pc_socks5_label() { echo "proxychains → dante (SOCKS5)"; }
path_pc_socks5_upstream() { echo socks5; }
path_pc_socks5_spawn() { pc_spawn socks5 "$@"; }
path_pc_http_label() { echo "proxychains → squid (HTTP CONNECT)"; }
path_pc_http_upstream() { echo http; }
path_pc_http_spawn() { pc_spawn http "$@"; }

# --- redsocks: the application's TCP is the kernel's; an nftables nat rule
# in CLI (output hook, the REDIRECT of iptables) sends every connection to
# DST to redsocks on 127.0.0.1, which opens the proxy tunnel (libevent, one
# process). The engine is the redsocks daemon, started once per path.
RS_PORT=12345
RS_PID=""
rs_start() { # socks5|http
	local conf=$WORK/redsocks-$1.conf type=socks5 port=$SOCKS_PORT
	[ "$1" = http ] && type=http-connect port=$HTTP_PROXY_PORT
	cat >"$conf" <<EOF
base {
	log_debug = off;
	log_info = off;
	log = stderr;
	daemon = off;
	redirector = iptables;
	redsocks_conn_max = 30000;
}
redsocks {
	local_ip = 127.0.0.1;
	local_port = $RS_PORT;
	ip = $PRX4;
	port = $port;
	type = $type;
}
EOF
	# not tagged: run.sh kills every tagged process after each measurement;
	# rs_stop (or the cleanup of CLI's processes) ends it
	ip netns exec "$NS_CLI" redsocks -c "$conf" </dev/null &
	RS_PID=$!
	wait_port n_cli "$RS_PORT" || { echo "redsocks is not listening on $RS_PORT"; return 1; }
	n_cli nft -f - <<EOF || return 1
table ip pvbench_redsocks {
	chain out {
		type nat hook output priority -100; policy accept;
		ip daddr $DST4 meta l4proto tcp redirect to :$RS_PORT
	}
}
EOF
}
rs_stop() {
	n_cli nft delete table ip pvbench_redsocks 2>/dev/null
	if [ -n "$RS_PID" ]; then
		kill -TERM "$RS_PID" 2>/dev/null
		wait "$RS_PID" 2>/dev/null
		RS_PID=""
	fi
	return 0
}
rs_spawn() {
	ip netns exec "$NS_CLI" env "PVBENCH_TAG=$TAG" "$@" &
	SPAWN_PID=$!
	ENGINE_PIDS=("$RS_PID")
}
path_rs_socks5_label() { echo "redsocks → dante (SOCKS5)"; }
path_rs_socks5_upstream() { echo socks5; }
path_rs_socks5_start() { rs_start socks5; }
path_rs_socks5_stop() { rs_stop; }
path_rs_socks5_spawn() { rs_spawn "$@"; }
path_rs_http_label() { echo "redsocks → squid (HTTP CONNECT)"; }
path_rs_http_upstream() { echo http; }
path_rs_http_start() { rs_start http; }
path_rs_http_stop() { rs_stop; }
path_rs_http_spawn() { rs_spawn "$@"; }

# --- proxyvpn exec through a proxy in PRX. The engine is the proxyvpn
# process itself (in CLI); the command runs in its private namespaces.
# `ip netns exec` and `env` exec in place, so $! is the engine's pid (not
# through n_cli: a backgrounded function is a subshell with its own pid).
pv_spawn() { # URL CMD...
	local url=$1
	shift
	ip netns exec "$NS_CLI" env "PVBENCH_TAG=$TAG" "$PROXYVPN" exec -q --proxy "$url" -- "$@" &
	SPAWN_PID=$!
	ENGINE_PIDS=("$SPAWN_PID")
}

path_pv_socks5_label() { echo "proxyvpn → dante (SOCKS5)"; }
path_pv_socks5_upstream() { echo socks5; }
path_pv_socks5_spawn() { pv_spawn "$(upstream_url socks5)" "$@"; }

path_pv_http_label() { echo "proxyvpn → squid (HTTP CONNECT)"; }
path_pv_http_upstream() { echo http; }
path_pv_http_spawn() { pv_spawn "$(upstream_url http)" "$@"; }

# --- optional, not in PATHS (bench/run.sh --paths pc_socks5,pv_socks5,pv_socks5_mtu64k):
# the same as pv_socks5 with tun0's MTU at 65535, which shows how much of the
# engine's cost is per packet rather than per byte.
path_pv_socks5_mtu64k_label() { echo "proxyvpn --mtu 65535 → dante (SOCKS5)"; }
path_pv_socks5_mtu64k_upstream() { echo socks5; }
path_pv_socks5_mtu64k_spawn() {
	ip netns exec "$NS_CLI" env "PVBENCH_TAG=$TAG" "$PROXYVPN" exec -q --mtu 65535 \
		--proxy "$(upstream_url socks5)" -- "$@" &
	SPAWN_PID=$!
	ENGINE_PIDS=("$SPAWN_PID")
}

# --- optional, not in PATHS (--paths ...,pvup_socks5,pvup_http): proxyvpn's
# host mode. `proxyvpn up --no-killswitch` runs in CLI for the whole path
# (policy routing sends CLI's TCP to its TUN); the command runs in CLI as on
# the kernel path. The engine is up's engine child (privilege separation),
# counted with the up process itself.
UP_PID=""
pvup_start() { # socks5|http
	local log=$WORK/pvup-$1.log deadline
	n_cli sysctl -qw net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.default.rp_filter=2 || return 1
	# not tagged: it must outlive each measurement (see rs_start)
	ip netns exec "$NS_CLI" "$PROXYVPN" up --proxy "$(upstream_url "$1")" --no-killswitch \
		--tun pvpn0 --state-dir "$WORK/pvup-state" -v >"$log" 2>&1 </dev/null &
	UP_PID=$!
	deadline=$(($(now_ms) + 10000))
	until grep -q "the host's TCP goes through" "$log"; do
		if ! kill -0 "$UP_PID" 2>/dev/null || [ "$(now_ms)" -ge "$deadline" ]; then
			tail -n 5 "$log"
			echo "proxyvpn up did not come up within 10 s"
			return 1
		fi
		sleep 0.05
	done
}
pvup_stop() {
	local deadline
	if [ -n "$UP_PID" ]; then
		kill -TERM "$UP_PID" 2>/dev/null
		deadline=$(($(now_ms) + 5000))
		while kill -0 "$UP_PID" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.05; done
		kill -KILL "$UP_PID" 2>/dev/null
		wait "$UP_PID" 2>/dev/null
		UP_PID=""
	fi
	return 0
}
pvup_spawn() {
	local child
	ip netns exec "$NS_CLI" env "PVBENCH_TAG=$TAG" "$@" &
	SPAWN_PID=$!
	ENGINE_PIDS=("$UP_PID")
	for child in $(pgrep -P "$UP_PID" -x proxyvpn); do ENGINE_PIDS+=("$child"); done
}
path_pvup_socks5_label() { echo "proxyvpn up (host mode) → dante (SOCKS5)"; }
path_pvup_socks5_upstream() { echo socks5; }
path_pvup_socks5_start() { pvup_start socks5; }
path_pvup_socks5_stop() { pvup_stop; }
path_pvup_socks5_spawn() { pvup_spawn "$@"; }
path_pvup_http_label() { echo "proxyvpn up (host mode) → squid (HTTP CONNECT)"; }
path_pvup_http_upstream() { echo http; }
path_pvup_http_start() { pvup_start http; }
path_pvup_http_stop() { pvup_stop; }
path_pvup_http_spawn() { pvup_spawn "$@"; }
