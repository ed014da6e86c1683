# shellcheck shell=bash disable=SC2034
# The table of paths measured by bench/run.sh (sourced by it).
#
# A path is the way an application's TCP reaches DST. Every path NAME listed
# in PATHS provides:
#
#   path_NAME_label         prints the column header (one short line)
#   path_NAME_spawn CMD...  starts CMD "in app context" in the BACKGROUND and
#                           sets SPAWN_PID (the process run.sh waits for) and
#                           ENGINE_PIDS (the processes whose CPU time and peak
#                           RSS are the path's cost; empty array = none).
#                           stdout/stderr/stdin are already redirected by the
#                           caller; CMD must run in CLI's network namespace or
#                           one reachable only through the path.
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
# process left in them. Planned: proxychains, redsocks, hev-socks5-tunnel.

PATHS=(kernel pv_socks5 pv_http)

# --- kernel: no proxy at all; CLI routes to DST through PRX (forwarding on
# in PRX for this path only). The ceiling of the links and the kernel.
path_kernel_label() { echo "kernel path (no proxy)"; }
path_kernel_start() { n_prx sysctl -qw net.ipv4.ip_forward=1; }
path_kernel_stop() { n_prx sysctl -qw net.ipv4.ip_forward=0; }
path_kernel_spawn() {
	ip netns exec "$NS_CLI" env "PVBENCH_TAG=$TAG" "$@" &
	SPAWN_PID=$!
	ENGINE_PIDS=()
}

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
path_pv_socks5_spawn() { pv_spawn "socks5://$PRX4:$SOCKS_PORT" "$@"; }

path_pv_http_label() { echo "proxyvpn → tinyproxy (HTTP CONNECT)"; }
path_pv_http_spawn() { pv_spawn "http://$PRX4:$HTTP_PROXY_PORT" "$@"; }

# --- optional, not in PATHS (bench/run.sh --paths kernel,pv_socks5,pv_socks5_mtu64k):
# the same as pv_socks5 with tun0's MTU at 65535, which shows how much of the
# engine's cost is per packet rather than per byte.
path_pv_socks5_mtu64k_label() { echo "proxyvpn --mtu 65535 → dante (SOCKS5)"; }
path_pv_socks5_mtu64k_spawn() {
	ip netns exec "$NS_CLI" env "PVBENCH_TAG=$TAG" "$PROXYVPN" exec -q --mtu 65535 \
		--proxy "socks5://$PRX4:$SOCKS_PORT" -- "$@" &
	SPAWN_PID=$!
	ENGINE_PIDS=("$SPAWN_PID")
}
