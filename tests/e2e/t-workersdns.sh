#!/bin/bash
# workers-dns: DNS over TCP to the engine's resolver with several engine
# threads (exec --workers 2 --dns virtual). 16 connections (one thread
# each in dnsrace.py) send 500 pipelined queries each, padded to ~64 KiB
# (EDNS padding) so that answering one takes long enough for two threads to
# overlap; every reply must carry its own query's ID and name. The answer
# code once shared one static buffer between threads: about 1 reply in 2000
# then answered another connection's query (16 connections: all on one
# queue with chance 2^-15).
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

out=$(pv exec --workers 2 --dns virtual --proxy "$(proxy_url socks5)" -- "$PY" \
	"$E2E_DIR/dnsrace.py" 198.18.0.2 --conns 16 -n 500 --pad 65000 2>"$T_OUT/pv.err") ||
	fail "dnsrace through exec --workers 2: $out $(tail -n 5 "$T_OUT/pv.err")"
echo "$out"
assert_eq "$(echo "$out" | head -n 1)" "8000 replies, 0 wrong" "DNS-over-TCP replies"
