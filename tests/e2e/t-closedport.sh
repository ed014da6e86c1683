#!/bin/bash
# f. Connecting to a closed destination port gives ECONNREFUSED within 5 s.
. "$(dirname "$0")/lib.sh"
test_init
kind=$1
port_closed n_dst "$CLOSED_PORT" || fail "something listens on DST :$CLOSED_PORT"
app_run "$kind" -- "$PY" "$E2E_DIR/client.py" refused "$DST4" "$CLOSED_PORT" --within 5 ||
	fail "connect to a closed port via $kind did not fail with ECONNREFUSED within 5 s (rc $?)"
