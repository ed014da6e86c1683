#!/bin/bash
# a. 50 MiB download through the proxy of kind $1; sha256 must match.
#    socks5-mtu: same through socks5 with proxyvpn --mtu 1280.
. "$(dirname "$0")/lib.sh"
test_init
kind=$1
out=$T_OUT/big
if [ "$kind" = socks5-mtu ]; then
	if [ "${E2E_SELFTEST:-0}" = 1 ]; then
		app_curl socks5 -sS --max-time 60 -o "$out" "http://$DST4:$HTTP_PORT/big" || fail "curl exited $?"
	else
		pv exec --mtu 1280 --proxy "$(proxy_url socks5)" -- \
			curl --noproxy '*' -sS --max-time 60 -o "$out" "http://$DST4:$HTTP_PORT/big" ||
			fail "proxyvpn exec --mtu 1280 -- curl exited $?"
	fi
else
	app_curl "$kind" -sS --max-time 60 -o "$out" "http://$DST4:$HTTP_PORT/big" || fail "curl exited $?"
fi
assert_file_sha "$out" "$E2E_BIG_SHA" "50 MiB download via $kind"
echo "50 MiB download via $kind: sha256 ok"
