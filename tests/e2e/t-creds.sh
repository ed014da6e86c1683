#!/bin/bash
# creds: the proxy password stays out of sight (issue 13, item 8), through
# the SOCKS5 proxy with user/password auth.
#  exec: with --proxy, /proc/PID/cmdline of the engine shows '*' for the
#        password (read by the command itself) and the one-line warning
#        names --proxy-file; run by uid 65534, the engine is non-dumpable
#        (its /proc/PID files belong to root, not to 65534 as without
#        credentials: control). --proxy-file (0600, ours) and PROXYVPN_PROXY work
#        (download through the auth proxy) and the command does not
#        inherit PROXYVPN_PROXY. A file open to others (0640, 0604),
#        owned by another uid, or a symlink is refused (exit 2, one line).
#        Malformed URLs with a password (no scheme, no host, bad port) give
#        an error without it.
#  up:   with --proxy, neither the parent's nor the engine child's
#        /proc/PID/cmdline holds the password; with PROXYVPN_PROXY, the
#        parent's /proc/PID/environ does not; with --proxy-file it works
#        too; the log, the state file, status and status --json never
#        show it.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest

PW=$SOCKS_PASS
AUTH=$(proxy_url socks5auth) # socks5://alice:s3cret@...
SMALL=http://$DST4:$HTTP_PORT/small
no_pw() { # FILE WHAT: the password nowhere in FILE (NULs read as spaces)
	if tr '\0' ' ' <"$1" | grep -qF "$PW"; then
		fail "$2 shows the password: $(tr '\0' ' ' <"$1" | head -c 300)"
	fi
}
[ "${#PW}" -ge 6 ] || fail "test password too short to search for"

# ---- exec ----
# (1) --proxy: the engine (the command's parent) has it hidden in argv
pv exec --proxy "$AUTH" -- sh -c 'cat /proc/$PPID/cmdline >"$0"' "$T_OUT/exec.cmdline" \
	2>"$T_OUT/exec.err" || fail "exec --proxy with a password: exit $?"
no_pw "$T_OUT/exec.cmdline" "exec engine's /proc/PID/cmdline"
no_pw "$T_OUT/exec.err" "exec's stderr"
tr '\0' ' ' <"$T_OUT/exec.cmdline" | grep -qF "alice:${PW//?/*}@" ||
	fail "exec engine's cmdline: no masked password: $(tr '\0' ' ' <"$T_OUT/exec.cmdline")"
assert_eq "$(grep -c 'use --proxy-file FILE or PROXYVPN_PROXY' "$T_OUT/exec.err")" 1 "the warning"

# uid 65534 (/dev/net/tun 0666 for this, restored after): the engine's
# /proc/PID files belong to root once it is non-dumpable
orig=$(stat -c %a /dev/net/tun)
on_exit "chmod $orig /dev/net/tun"
chmod 0666 /dev/net/tun
chmod 0711 "$E2E_TMP/app" "$T_OUT"
install -m 0755 "$E2E_PROXYVPN" "$T_OUT/proxyvpn"
mkdir -m 0777 "$T_OUT/u"
owner_of_engine() { # TAG URL: uid owning the engine's /proc/PID/environ, run by 65534
	local pidf=$T_OUT/u/$1.pid go=$T_OUT/u/$1.go pid own
	n_cli timeout -k 5 30 setpriv --reuid=65534 --regid=65534 --clear-groups \
		env "PVE2E_TAG=$E2E_TAG" "$T_OUT/proxyvpn" exec -q --proxy "$2" -- sh -c \
		'echo $PPID >"$0"; i=0; while [ ! -e "$1" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done' \
		"$pidf" "$go" &
	wait_file "$pidf" 10 || fail "exec as 65534 ($1) did not start"
	pid=$(cat "$pidf")
	own=$(stat -c %u "/proc/$pid/environ")
	touch "$go"
	wait
	echo "$own"
}
assert_eq "$(owner_of_engine plain "$(proxy_url socks5)")" 65534 \
	"control: /proc/PID/environ owner of a dumpable engine run by 65534"
assert_eq "$(owner_of_engine auth "$AUTH")" 0 \
	"/proc/PID/environ owner of an engine holding a password (non-dumpable)"
chmod "$orig" /dev/net/tun

# (2) --proxy-file and PROXYVPN_PROXY carry it; the command inherits neither
printf '%s\n' "$AUTH" >"$T_OUT/proxy"
chmod 0600 "$T_OUT/proxy"
pv exec --proxy-file "$T_OUT/proxy" -- curl --noproxy '*' -sS --max-time 20 -o "$T_OUT/s1" "$SMALL" \
	2>"$T_OUT/file.err" || fail "exec --proxy-file: exit $? ($(tail -n 2 "$T_OUT/file.err"))"
assert_file_sha "$T_OUT/s1" "$E2E_SMALL_SHA" "download with --proxy-file"
grep -q 'proxy-file FILE' "$T_OUT/file.err" && fail "warning given for --proxy-file"
n_cli timeout -k 5 60 env "PVE2E_TAG=$E2E_TAG" "PROXYVPN_PROXY=$AUTH" "$E2E_PROXYVPN" exec -- \
	sh -c 'env >"$0"; curl --noproxy "*" -sS --max-time 20 -o "$1" "$2"' "$T_OUT/env.out" \
	"$T_OUT/s2" "$SMALL" 2>"$T_OUT/env.err" || fail "exec with PROXYVPN_PROXY: exit $?"
assert_file_sha "$T_OUT/s2" "$E2E_SMALL_SHA" "download with PROXYVPN_PROXY"
grep -q '^PROXYVPN_PROXY=' "$T_OUT/env.out" && fail "the command inherited PROXYVPN_PROXY"
no_pw "$T_OUT/env.out" "the command's environment"

# (3) files that are refused, each with one line and exit 2
refused() { # WHAT WANT FILE
	local rc=0
	pv exec --proxy-file "$3" -- true 2>"$T_OUT/ref.err" || rc=$?
	assert_eq "$rc" 2 "$1: exit status ($(cat "$T_OUT/ref.err"))"
	grep -q "$2" "$T_OUT/ref.err" || fail "$1: message '$(cat "$T_OUT/ref.err")', want $2"
	assert_eq "$(wc -l <"$T_OUT/ref.err")" 1 "$1: lines of stderr"
	no_pw "$T_OUT/ref.err" "$1: stderr"
}
cp "$T_OUT/proxy" "$T_OUT/p2"
chmod 0640 "$T_OUT/p2"
refused "mode 0640" "open to group or others" "$T_OUT/p2"
chmod 0604 "$T_OUT/p2"
refused "mode 0604" "open to group or others" "$T_OUT/p2"
chmod 0600 "$T_OUT/p2"
chown 12345:12345 "$T_OUT/p2"
refused "owned by uid 12345" "owned by another user" "$T_OUT/p2"
ln -s "$T_OUT/proxy" "$T_OUT/plink"
refused "symlink" "symbolic link" "$T_OUT/plink"
# (4) malformed URLs that hold the password
for bad in "alice:$PW@$PRX4:$SOCKS_AUTH_PORT" "socks5://alice:$PW" "socks5://alice:$PW@$PRX4:0"; do
	rc=0
	pv exec --proxy "$bad" -- true 2>"$T_OUT/bad.err" || rc=$?
	assert_eq "$rc" 2 "bad URL: exit status"
	grep -q 'invalid proxy URL' "$T_OUT/bad.err" || fail "bad URL: $(cat "$T_OUT/bad.err")"
	no_pw "$T_OUT/bad.err" "the error for a malformed URL"
done

# ---- up ----
SD=$T_OUT/state
UP_PID=""
engine_of() { pgrep -P "$UP_PID" -x proxyvpn | head -n 1; }
up_case() { # WHAT [ARGS...]: up ready, then every place the password could show
	local what=$1 eng
	shift
	up_start "$T_OUT/up-$what.log" "$@"
	n_cli curl --noproxy '*' -sS --max-time 20 -o "$T_OUT/u-$what" "$SMALL" ||
		fail "up ($what): download exit $?"
	assert_file_sha "$T_OUT/u-$what" "$E2E_SMALL_SHA" "download through up ($what)"
	eng=$(engine_of)
	[ -n "$eng" ] || fail "up ($what): no engine child"
	no_pw "/proc/$UP_PID/cmdline" "up ($what): the parent's /proc/PID/cmdline"
	no_pw "/proc/$eng/cmdline" "up ($what): the engine's /proc/PID/cmdline"
	no_pw "/proc/$UP_PID/environ" "up ($what): the parent's /proc/PID/environ"
	no_pw "$SD/state" "up ($what): the state file"
	n_cli "$E2E_PROXYVPN" status --state-dir "$SD" >"$T_OUT/st" 2>&1 || fail "status: exit $?"
	no_pw "$T_OUT/st" "up ($what): status"
	n_cli "$E2E_PROXYVPN" status --json --state-dir "$SD" >"$T_OUT/stj" 2>&1 ||
		fail "status --json: exit $?"
	no_pw "$T_OUT/stj" "up ($what): status --json"
	kill -TERM "$UP_PID"
	wait_pid_exit "$UP_PID" 10 || fail "up ($what) did not exit on SIGTERM"
	assert_eq "$WAIT_RC" 0 "up ($what): exit status"
	no_pw "$T_OUT/up-$what.log" "up ($what): its log"
}
URL=$AUTH
up_case argv
grep -q 'use --proxy-file FILE' "$T_OUT/up-argv.log" || fail "up --proxy: no warning"
URL=""
export PROXYVPN_PROXY=$AUTH
up_case env
unset PROXYVPN_PROXY
up_case file --proxy-file "$T_OUT/proxy"
log "password hidden in exec and up: argv, environ, errors, log, state, status; file and env work"
