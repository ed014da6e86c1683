#!/bin/bash
# g. Dead proxy: with nothing listening on the proxy port, the app's
#    connections fail with ECONNREFUSED within 5 s; then, in the same
#    long-running app, once the test has started the proxy (the client waits
#    for a go file, not a sleep), the next connection must succeed.
. "$(dirname "$0")/lib.sh"
test_init
kind=$1
case $kind in
socks5) port=$DEAD_SOCKS_PORT ;;
http) port=$DEAD_HTTP_PORT ;;
*) fail "unknown kind $kind" ;;
esac
port_closed n_prx "$port" || fail "something already listens on PRX :$port"
mark=$T_OUT/mark go=$T_OUT/go out=$T_OUT/client.out
app_run "$kind-dead" -- "$PY" "$E2E_DIR/client.py" deadproxy "$DST4" "$ECHO_PORT" \
	--mark "$mark" --go "$go" >"$out" 2>&1 &
app=$!
track_pid "$app"
if ! wait_file "$mark" 40; then
	cat "$out"
	fail "app did not get through phase 1 (3 refused connections with the proxy down)"
fi
if [ "$kind" = socks5 ]; then
	ip netns exec "$E2E_NS_PRX" microsocks -i "$PRX4" -p "$port" >"$T_OUT/proxy.log" 2>&1 &
else
	cat >"$T_OUT/tinyproxy.conf" <<CONF
Port $port
Listen $PRX4
Timeout 600
LogLevel Warning
PidFile "$T_OUT/tinyproxy.pid"
Allow 192.0.2.0/24
BasicAuth $HTTP_USER $HTTP_PASS
CONF
	ip netns exec "$E2E_NS_PRX" tinyproxy -d -c "$T_OUT/tinyproxy.conf" >"$T_OUT/proxy.log" 2>&1 &
fi
track_pid $!
wait_port n_prx "$port" 10 || fail "could not start the $kind proxy on :$port"
touch "$go"
wait_pid_exit "$app" 60 || fail "app did not finish after the proxy came up"
cat "$out"
assert_eq "$WAIT_RC" 0 "app exit status (0 = refused while down, echo ok once up)"
echo "dead $kind proxy: refused promptly, then served once the proxy was up"
