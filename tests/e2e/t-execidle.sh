#!/bin/bash
# exec exits as soon as its command has (issue 14, item 7) when what is left
# is a connection a background process holds open but idle (an ssh
# ControlPersist master): the command opens a connection to DST's echo
# server through the proxy, does one exchange, forks a child that keeps the
# socket and sleeps, and exits. proxyvpn must exit within 200 ms of that
# (CLOCK_MONOTONIC: the command's last moment against proxyvpn's exit, both
# taken by one clock), say at -v that it closed the idle connection, and
# pass the command's status through.
. "$(dirname "$0")/lib.sh"
test_init
skip_in_selftest
on_exit '[ -s "$T_OUT/holder.pid" ] && kill -KILL "$(cat "$T_OUT/holder.pid")" 2>/dev/null'

# The command: one echo exchange, then the socket goes to a child that
# holds it (stdio to /dev/null: it keeps no pipe of ours open).
cat >"$T_OUT/cmd.py" <<'PYEOF'
import hashlib, os, socket, struct, sys, time
host, port, pidfile, t1file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection((host, port), timeout=30)
p = b"idle-" + os.urandom(64)
s.sendall(struct.pack(">I", len(p)) + p)
want = hashlib.sha256(p).digest() + p
got = b""
while len(got) < len(want):
    b = s.recv(len(want) - len(got))
    if not b:
        sys.exit("echo: eof")
    got += b
if got != want:
    sys.exit("echo: mismatch")
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_RDWR)
    for i in (0, 1, 2):
        os.dup2(fd, i)
    time.sleep(600)  # holds s, idle; the test kills it
    os._exit(0)
with open(pidfile, "w") as f:
    f.write("%d\n" % pid)
with open(t1file, "w") as f:
    f.write("%d\n" % int(time.monotonic() * 1000))
os._exit(7)
PYEOF

# The runner: proxyvpn's exit on the same clock.
"$PY" - "$T_OUT" "$E2E_NS_CLI" "$PV_TIMEOUT" "$E2E_TAG" "$E2E_PROXYVPN" "$(proxy_url socks5)" \
	"$DST4" "$ECHO_PORT" <<'PYEOF' || fail "exec with an idle leftover connection: $(cat "$T_OUT/exec.out")"
import subprocess, sys, time
out, ns, tmo, tag, pv, url, dst, port = sys.argv[1:]
with open(out + "/exec.out", "w") as log:
    rc = subprocess.call(["ip", "netns", "exec", ns, "timeout", "-k", "5", tmo, "env",
                          "PVE2E_TAG=" + tag, pv, "exec", "-v", "--proxy", url, "--",
                          "/usr/bin/python3", out + "/cmd.py", dst, port,
                          out + "/holder.pid", out + "/t1"], stdout=log, stderr=log)
t2 = int(time.monotonic() * 1000)
t1 = int(open(out + "/t1").read())
print("proxyvpn exited %d ms after its command (status %d)" % (t2 - t1, rc))
if rc != 7:
    sys.exit("exit status %d, want the command's 7" % rc)
if t2 - t1 > 200:
    sys.exit("proxyvpn exited %d ms after its command, want 200 at most" % (t2 - t1))
PYEOF
grep -q "1 idle connection(s) left open by processes the command left behind: closing them" \
	"$T_OUT/exec.out" || fail "-v does not say it closed the idle connection: $(cat "$T_OUT/exec.out")"
kill -0 "$(cat "$T_OUT/holder.pid")" || fail "the holder was gone before the test ended"
