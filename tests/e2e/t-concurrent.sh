#!/bin/bash
# d. 200 connections open at once inside ONE app run, each exchanging a
#    unique 16 KiB payload with the echo server (which returns sha256+payload).
. "$(dirname "$0")/lib.sh"
test_init
kind=$1
app_run "$kind" -- "$PY" "$E2E_DIR/client.py" concurrent "$DST4" "$ECHO_PORT" -n 200 ||
	fail "concurrent client exited $?"
