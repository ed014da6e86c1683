#!/bin/bash
# hostile. The hostile proxy matrix (issue 6 item 3): tests/e2e/hostile.py
#   serves scripted SOCKS5 ($1 = socks5) or HTTP CONNECT ($1 = http) answers
#   (wrong versions, refused methods, failed auth, every SOCKS5 REP code,
#   unknown ATYPs, replies cut at every byte offset then FIN, one byte per
#   100 ms within and beyond the handshake timeout, no reply, oversized and
#   endless headers, 1xx before 200, Content-Length / chunked on a 2xx,
#   tunnel data in the same write as the end of the reply, HTTP/1.0, bad
#   status lines, NUL bytes, resets; `hostile.py list KIND` prints them).
#   One proxyvpn exec runs every case selected by destination port at once;
#   for socks5, each method/auth-stage case also gets its own proxy port and
#   proxyvpn exec, all concurrent. Per case, the app must see ECONNREFUSED
#   (RST to its SYN), EHOSTUNREACH / ENETUNREACH (an ICMP error) for SOCKS5
#   REP 3, 4, 6, 8 and HTTP 504, or, only for a valid reply, a working tunnel that
#   carries the bytes sent behind the reply byte-exact plus an echo; a case
#   decided by the bytes must end before the handshake timeout
#   (UPSTREAM_HS_TIMEOUT_MS, src/engine/upstream.h) could fire, one that waits on it
#   within that timeout + 5 s. The proxy must see every case start and every
#   proxy connection closed by proxyvpn (none left open). Afterwards the same
#   engine still serves a good connection (IPv4 and IPv6), and its VmHWM grew by at most
#   16 MiB over its VmRSS before the matrix (about 100 handshakes at once,
#   each with at most a 16 KiB reply buffer, plus the rings of the tunnels
#   that open: measured under 1 MiB; the bound is loose on purpose, it
#   catches a reply buffered without limit, e.g. the endless cases' 64 MiB).
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
kind=$1
HOSTILE_SOCKS_PORT=1100
HOSTILE_HTTP_PORT=3140
HOSTILE_PRE_BASE=21000 # hostile.py PRE_BASE
BLACKHOLE_PORT=21999    # SYNs dropped in PRX: the proxy never answers the connect
H=$E2E_DIR/hostile.py
hs_ms=$(sed -n 's/^[[:space:]]*UPSTREAM_HS_TIMEOUT_MS = \([0-9]*\),.*/\1/p' "$E2E_DIR/../../src/engine/upstream.h")
[ -n "$hs_ms" ] || fail "cannot read UPSTREAM_HS_TIMEOUT_MS from src/engine/upstream.h"
hs_s=$((hs_ms / 1000))
raise_nofile 4096
sync=$T_OUT/sync
mkdir -m 0777 "$sync"

case $kind in
socks5)
	srv=(--socks-mux "$HOSTILE_SOCKS_PORT" --socks-pre)
	url=socks5://$PRX4:$HOSTILE_SOCKS_PORT
	mapfile -t pre < <("$PY" "$H" list pre)
	ports=("$HOSTILE_SOCKS_PORT" "$BLACKHOLE_PORT")
	for i in "${!pre[@]}"; do ports+=($((HOSTILE_PRE_BASE + i))); done
	;;
http)
	srv=(--http-mux "$HOSTILE_HTTP_PORT")
	url=http://$PRX4:$HOSTILE_HTTP_PORT
	pre=()
	ports=("$HOSTILE_HTTP_PORT" "$BLACKHOLE_PORT")
	;;
*) fail "unknown kind $kind" ;;
esac
for p in "${ports[@]}"; do
	port_closed n_prx "$p" || fail "something already listens on PRX :$p"
done
n_prx nft -f - <<EOF || fail "cannot add the blackhole table in PRX"
table inet pve2ehostile {
	chain in {
		type filter hook input priority 0;
		tcp dport $BLACKHOLE_PORT drop
	}
}
EOF
on_exit "n_prx nft delete table inet pve2ehostile"
ip netns exec "$E2E_NS_PRX" "$PY" "$H" serve --listen "$PRX4" "${srv[@]}" \
	--ready "$sync/proxy.ready" >"$T_OUT/proxy.log" 2>&1 &
track_pid $!
wait_sync "$sync/proxy.ready" 10 $! || { cat "$T_OUT/proxy.log" >&2; fail "hostile proxy did not start"; }

t0=$(now_ms)
pv exec --proxy "$url" -- "$PY" "$H" client --proto "$kind" --host "$DST4" --host6 "$DST6" --limit "$hs_s" \
	--sync "$sync" >"$T_OUT/client.out" 2>"$T_OUT/pv.err" &
run=$!
track_pid "$run"
client_failed() {
	cat "$T_OUT/client.out" "$T_OUT/pv.err" >&2
	fail "$*"
}
wait_sync "$sync/ready" 30 "$run" || client_failed "the client did not start"
epid=$(engine_pid) || client_failed "cannot find the engine's pid"
rss0=$(proc_kib "$epid" VmRSS)

# The method/auth-stage cases (one proxy port and proxyvpn each) and a
# proxy that never answers the connect, all at once.
pre_runs=() pre_names=()
start_pre() { # NAME URL
	pv exec --proxy "$2" -- "$PY" "$H" client --pre "$1" --host "$DST4" --limit "$hs_s" \
		>"$T_OUT/pre-$1.out" 2>&1 &
	pre_runs+=($!)
	pre_names+=("$1")
	track_pid $!
}
for i in "${!pre[@]}"; do
	read -r name _ _ auth <<<"${pre[$i]}"
	cred=""
	[ "$auth" = 1 ] && cred="$SOCKS_USER:$SOCKS_PASS@"
	start_pre "$name" "socks5://$cred$PRX4:$((HOSTILE_PRE_BASE + i))"
done
start_pre blackhole "${url%:*}:$BLACKHOLE_PORT"
touch "$sync/go"

wait_sync "$sync/done" $((hs_s + 60)) "$run" || client_failed "the matrix did not finish"
alive=0
kill -0 "$epid" 2>/dev/null && alive=1
hwm=$(proc_kib "$epid" VmHWM)
rss1=$(proc_kib "$epid" VmRSS)
cpu=$(awk '{ print $14 + $15 }' "/proc/$epid/stat" 2>/dev/null || true) # utime + stime, ticks
touch "$sync/measured"
wait_pid_exit "$run" 30 || client_failed "the run did not end"
rc=$WAIT_RC
cat "$T_OUT/client.out"
[ "$rc" = 0 ] || { cat "$T_OUT/pv.err" >&2; fail "the $kind matrix client exited $rc"; }
assert_eq "$alive" 1 "engine alive after the matrix"

bad=0
for i in "${!pre_runs[@]}"; do
	name=${pre_names[$i]}
	if ! wait_pid_exit "${pre_runs[$i]}" 30; then
		echo "pre case $name: proxyvpn did not end" >&2
		bad=1
		continue
	fi
	grep '^case' "$T_OUT/pre-$name.out" || true
	if [ "$WAIT_RC" != 0 ]; then
		cat "$T_OUT/pre-$name.out" >&2
		bad=1
	fi
done
[ "$bad" = 0 ] || fail "a method/auth-stage or blackhole case failed (above)"
echo "matrix done in $(($(now_ms) - t0)) ms"

# The proxy's view: every case started, and proxyvpn closed every proxy
# connection ("done" after an echo, "closed" otherwise); bounded wait, as
# the proxy may log a close just after the app saw its RST.
lists=("$kind")
[ "$kind" = socks5 ] && lists+=(pre)
want=$(for l in "${lists[@]}"; do "$PY" "$H" list "$l"; done | awk '{ print $1 }' | sort)
deadline=$(($(now_ms) + 5000))
while :; do
	ended=$(awk '$1 == "closed" || $1 == "done" { print $2 }' "$T_OUT/proxy.log" | sort -u)
	missing=$(comm -23 <(echo "$want") <(echo "$ended"))
	[ -z "$missing" ] && break
	[ "$(now_ms)" -lt "$deadline" ] || break
	sleep 0.1
done
started=$(awk '$1 == "start" { print $2 }' "$T_OUT/proxy.log" | sort -u)
notstarted=$(comm -23 <(echo "$want") <(echo "$started"))
[ -z "$notstarted" ] || fail "cases the proxy never saw start: $(tr "\n" " " <<<"$notstarted")"
if grep -E '^(open|error) ' "$T_OUT/proxy.log" >&2 || [ -n "$missing" ]; then
	fail "proxy connections not closed by proxyvpn: $(tr "\n" " " <<<"$missing") (see above)"
fi
echo "proxy: $(echo "$want" | wc -l) cases started, every proxy connection closed by proxyvpn"
grep -E '^closed (endless|drip-endless|flood)' "$T_OUT/proxy.log" || true
echo "engine CPU time over the run: ${cpu:-?} ticks of $(getconf CLK_TCK) Hz"

bound=$((16 * 1024))
echo "engine VmRSS before ${rss0} KiB, after ${rss1} KiB, VmHWM ${hwm} KiB: grew $((hwm - rss0)) KiB (bound $bound KiB)"
[ $((hwm - rss0)) -le "$bound" ] || fail "engine VmHWM grew $((hwm - rss0)) KiB > $bound KiB"
