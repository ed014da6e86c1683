#!/bin/bash
# h. Wrong proxy credentials: the app's connect() fails with ECONNREFUSED
#    within 5 s and proxyvpn exits with the command's own status (42).
#    socks5: microsocks with a wrong password (auth status != 0).
#    http: tinyproxy with a wrong password (it answers 401), tinyproxy with no
#    credentials (407), hcproxy with a wrong password (407).
#    (run.sh's setup checks those proxy answers with curl.)
. "$(dirname "$0")/lib.sh"
test_init
case $1 in
socks5) kinds="socks5-badpass" ;;
http) kinds="http-badpass http-nocreds http-hc-badpass" ;;
*) fail "unknown kind $1" ;;
esac
for kind in $kinds; do
	rc=0
	app_run "$kind" -- "$PY" "$E2E_DIR/client.py" refused "$DST4" "$HTTP_PORT" --within 5 --ok-exit 42 || rc=$?
	assert_eq "$rc" 42 "exit status via $kind (42 = app saw ECONNREFUSED in time)"
	echo "$kind: connection refused promptly, status passed through"
done
