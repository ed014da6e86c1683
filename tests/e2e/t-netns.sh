#!/bin/bash
# The command's network namespace: tun0 with 198.18.0.1/32 and
# fd70:7678::1/128, default routes v4 and v6 via tun0, no other interface.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
pv exec --proxy "$(proxy_url socks5)" -- sh -c \
	'ip -o link show; echo ===; ip -o addr show; echo ===; ip route show default; echo ===; ip -6 route show default' \
	</dev/null >"$T_OUT/out" 2>"$T_OUT/err" || { cat "$T_OUT/err"; fail "proxyvpn exec -- ip exited $?"; }
cat "$T_OUT/out"
links=$(awk '/^===/{exit} {sub(/:$/,"",$2); sub(/@.*/,"",$2); print $2}' "$T_OUT/out" | sort | tr '\n' ' ')
assert_eq "$links" "lo tun0 " "interfaces inside"
grep -Eq '^[0-9]+: tun0 +inet 198\.18\.0\.1/32 ' "$T_OUT/out" || fail "tun0 lacks 198.18.0.1/32"
grep -Eq '^[0-9]+: tun0 +inet6 fd70:7678::1/128 ' "$T_OUT/out" || fail "tun0 lacks fd70:7678::1/128"
[ "$(awk '/^===/{n++; next} n==2' "$T_OUT/out" | grep -c 'dev tun0')" -ge 1 ] || fail "no IPv4 default route via tun0"
[ "$(awk '/^===/{n++; next} n==3' "$T_OUT/out" | grep -c 'dev tun0')" -ge 1 ] || fail "no IPv6 default route via tun0"
echo "namespace inside proxyvpn exec: ok"
