#!/bin/bash
# c. IPv6 destination through the proxy of kind $1.
. "$(dirname "$0")/lib.sh"
test_init
kind=$1
out=$T_OUT/small
app_curl "$kind" -sS -g --max-time 60 -o "$out" "http://[$DST6]:$HTTP_PORT/small" || fail "curl exited $?"
assert_file_sha "$out" "$E2E_SMALL_SHA" "IPv6 download via $kind"
echo "IPv6 download via $kind: sha256 ok"
