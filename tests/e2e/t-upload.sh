#!/bin/bash
# b. 50 MiB upload (curl -T) to the sink through the proxy of kind $1; the
#    sha256 the sink computed over what it received must match.
. "$(dirname "$0")/lib.sh"
test_init
kind=$1
reply=$(app_curl "$kind" -sS --max-time 60 -H 'Expect:' -T "$E2E_TMP/www/big" \
	"http://$DST4:$HTTP_PORT/sink") || fail "curl -T exited $?"
assert_eq "$reply" "$E2E_BIG_SHA" "sha256 the sink received via $kind"
echo "50 MiB upload via $kind: sink sha256 ok"
