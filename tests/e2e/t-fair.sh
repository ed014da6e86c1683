#!/bin/bash
# fair: one local user cannot deny the others (issue 13, item 6), in host
# mode (`up --dns virtual`), users A and B being two uids other than root.
#  pool:  with --fake-max 16, A holds a connection to a fake address, then
#         asks for 40 more names: all answered (the least recently used
#         mapping nobody holds gives way, logged at debug), A's connection
#         still echoes and its name keeps its address; then B resolves a
#         name and downloads by it (through the proxy, which resolves it).
#         Before: SERVFAIL for everyone once 16 names were live (10 min).
#  conns: with --max-conns-per-user 4, A holds 4 connections and its 5th is
#         refused at once (ECONNREFUSED, from nftables); B still opens 4 and
#         root more than 4; once A closes its own, A connects again. Where
#         nftables refuses ct count (the fault build), up runs without the
#         caps and warns.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

UA=$((20000 + $$ % 10000))
UB=$((UA + 1))
NAME=$DNS_NAME
URL=socks5://$PRX4:$DNS_SOCKS_PORT
SD=$T_OUT/state
dns_proxy_setup
chmod 0711 "$E2E_TMP/app" "$T_OUT"
mkdir -m 0777 "$T_OUT/u"
as() { # UID CMD...: CMD in CLI as that uid (no passwd entry needed)
	local u=$1
	shift
	n_cli timeout -k 5 60 setpriv --reuid="$u" --regid="$u" --clear-groups \
		env "PVE2E_TAG=$E2E_TAG" "$@"
}
hold_start() { # UID TAG HOST N: fairuser.py hold in the background; waits for its report
	as "$1" "$PY" "$E2E_DIR/fairuser.py" hold "$3" "$ECHO_PORT" "$4" "$T_OUT/u/$2.ready" \
		"$T_OUT/u/$2.go" &
	HOLD_PID=$!
	wait_file "$T_OUT/u/$2.ready" 30 || fail "$2: no report from the holding client"
}
hold_end() { # TAG: release, and its connections must have echoed to the end
	touch "$T_OUT/u/$1.go"
	wait "$HOLD_PID" || fail "$1: held connections did not echo to the end"
}

UP_PID=""
URL=$URL up_start "$T_OUT/up.log" --dns virtual --fake-max 16 --max-conns-per-user 4 -v

# ---- pool ----
held=$(as "$UA" getent ahostsv4 "held.$NAME" | awk 'NR == 1 { print $1 }')
[[ $held =~ ^198\.1[89]\. ]] || fail "A: held.$NAME resolved to '$held'"
hold_start "$UA" poolhold "$held" 1
assert_eq "$(cat "$T_OUT/u/poolhold.ready")" "opened 1 refused 0 other 0" "A's connection by name"
out=$(as "$UA" "$PY" "$E2E_DIR/fairuser.py" names "$PRX4" 40 a "$NAME") || fail "A's queries: $out"
assert_eq "$out" "answered 40 servfail 0 other 0" "A asks for 40 names with --fake-max 16"
grep -q 'fake-address pool full: a[0-9]*\.'"$NAME"' (unused for [0-9]* s) gave up its addresses' \
	"$T_OUT/up.log" || fail "no debug line for a mapping given up: $(grep 'dns:' "$T_OUT/up.log" | tail -n 3)"
grep -q "held\.$NAME (unused" "$T_OUT/up.log" && fail "the held mapping was given up"
again=$(as "$UA" getent ahostsv4 "held.$NAME" | awk 'NR == 1 { print $1 }')
assert_eq "$again" "$held" "held.$NAME's address while a connection holds it"
hold_end poolhold
out=$(as "$UB" "$PY" "$E2E_DIR/fairuser.py" names "$PRX4" 1 b "$NAME") || fail "B's query: $out"
assert_eq "$out" "answered 1 servfail 0 other 0" "B resolves after A filled the pool"
as "$UB" curl -sS --noproxy '*' --max-time 20 -o "$T_OUT/u/small" "http://b.$NAME:$HTTP_PORT/small" ||
	fail "B: download by name after A filled the pool"
assert_file_sha "$T_OUT/u/small" "$E2E_SMALL_SHA" "B's download by name"

# ---- connections per user ----
hold_start "$UA" a1 "$DST4" 5
assert_eq "$(cat "$T_OUT/u/a1.ready")" "opened 4 refused 1 other 0" "A, 5 connections with a cap of 4"
A1=$HOLD_PID
hold_start "$UB" b1 "$DST4" 4
assert_eq "$(cat "$T_OUT/u/b1.ready")" "opened 4 refused 0 other 0" "B while A is at its cap"
hold_end b1
hold_start 0 r1 "$DST4" 6
assert_eq "$(cat "$T_OUT/u/r1.ready")" "opened 6 refused 0 other 0" "root is not capped"
hold_end r1
HOLD_PID=$A1
hold_end a1
# A's connections are closed: a TIME-WAIT does not count
hold_start "$UA" a2 "$DST4" 4
assert_eq "$(cat "$T_OUT/u/a2.ready")" "opened 4 refused 0 other 0" "A again after closing its own"
hold_end a2

stop_up() {
	kill -TERM "$UP_PID"
	wait_pid_exit "$UP_PID" 10 || fail "up did not exit on SIGTERM"
	assert_eq "$WAIT_RC" 0 "up's exit status"
}
stop_up

# a kernel without nft_connlimit (the fault build refuses ct count): up runs
# without the caps, and says so
[ -x "$E2E_PROXYVPN_FAULT" ] || fail "no fault build at $E2E_PROXYVPN_FAULT (run: make fault)"
export PROXYVPN_FAULT_NFT=ctcount
E2E_PROXYVPN=$E2E_PROXYVPN_FAULT up_start "$T_OUT/up2.log"
unset PROXYVPN_FAULT_NFT
grep -q 'nftables refused the per-user caps (.*): running without them' "$T_OUT/up2.log" ||
	fail "no warning about the caps: $(tail -n 3 "$T_OUT/up2.log")"
n_cli nft list table inet proxyvpn | grep -q 'ct count' && fail "caps applied despite the refusal"
stop_up
log "a full fake pool and one user's connection cap leave the other user served"
