#!/bin/bash
# j. Unprivileged use: with /dev/net/tun temporarily 0666, uid 65534 runs a
#    socks5 download through proxyvpn; sha256 equal and the file is owned by
#    65534 (the command really ran unprivileged). The mode is restored.
. "$(dirname "$0")/lib.sh"
test_init
kind=$1
orig=$(stat -c %a /dev/net/tun)
on_exit "chmod $orig /dev/net/tun"
chmod 0666 /dev/net/tun
chmod 0711 "$E2E_TMP/app" "$T_OUT"
udir=$T_OUT/u
mkdir -m 0700 "$udir"
chown 65534:65534 "$udir"
url=$(proxy_url "$kind")
unpriv() { n_cli timeout -k 5 "$PV_TIMEOUT" setpriv --reuid=65534 --regid=65534 --clear-groups \
	env "PVE2E_TAG=$E2E_TAG" HOME=/ "$@"; }
if [ "${E2E_SELFTEST:-0}" = 1 ]; then
	unpriv curl -sS --max-time 60 --proxy "$url" -o "$udir/small" "http://$DST4:$HTTP_PORT/small" ||
		fail "curl as 65534 exited $?"
else
	install -m 0755 "$E2E_PROXYVPN" "$T_OUT/proxyvpn"
	unpriv "$T_OUT/proxyvpn" exec --proxy "$url" -- \
		curl --noproxy '*' -sS --max-time 60 -o "$udir/small" "http://$DST4:$HTTP_PORT/small" ||
		fail "proxyvpn exec as uid 65534 exited $?"
fi
assert_file_sha "$udir/small" "$E2E_SMALL_SHA" "download as uid 65534"
assert_eq "$(stat -c %u "$udir/small")" 65534 "owner of the downloaded file"
echo "uid 65534 download via $kind: sha256 ok"
