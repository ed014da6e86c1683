#!/usr/bin/python3
"""Helpers for the watcher's e2e test (t-watch.sh).

  watch.py probe --dst ADDR --udp PORT --tcp PORT --udp-rate N --tcp-rate N
                 [--count-udp N --count-tcp N] --out FILE
      a steady probe: N UDP datagrams a second (connected socket) and N TCP
      SYNs a second (a non-blocking connect(), the socket closed at once:
      one SYN each, no retransmission), both to ADDR, on a fixed schedule
      (a late send does not bunch up the next ones). With --count-* it stops
      after that many of each; else it runs until SIGTERM. Writes
      "udp_sent A udp_err B tcp_sent C tcp_err D" to FILE when it stops; a
      send refused at once (EPERM from a killswitch, ENETUNREACH) is an err.
  watch.py notify --socket PATH --log FILE --snap FILE [--max S]
      systemd's side of sd_notify: binds a datagram socket at PATH and
      appends each message to FILE. On READY=1 it first records the kernel's
      state (nft list table inet proxyvpn, ip rule, ip -6 rule, ip link) in
      --snap, then logs the message: what the snapshot shows was in place
      when READY=1 arrived. Stops after STOPPING=1 or --max seconds.
"""
import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
import time


def probe(a):
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    counts = {"udp_sent": 0, "udp_err": 0, "tcp_sent": 0, "tcp_err": 0}
    try:
        u.connect((a.dst, a.udp))
    except OSError:
        pass
    t0 = time.monotonic()
    nu = nt = 0  # sends due so far
    while not stop[0]:
        if a.count_udp is not None and nu >= a.count_udp and nt >= a.count_tcp:
            break
        now = time.monotonic() - t0
        due_u = int(now * a.udp_rate) + 1
        due_t = int(now * a.tcp_rate) + 1
        if a.count_udp is not None:
            due_u = min(due_u, a.count_udp)
            due_t = min(due_t, a.count_tcp)
        while nu < due_u:
            nu += 1
            try:
                u.send(b"probe")
                counts["udp_sent"] += 1
            except OSError:
                counts["udp_err"] += 1
        while nt < due_t:
            nt += 1
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            e = s.connect_ex((a.dst, a.tcp))
            if e in (errno.EINPROGRESS, 0):
                counts["tcp_sent"] += 1
            else:
                counts["tcp_err"] += 1
            s.close()
        nxt = min(nu / a.udp_rate, nt / a.tcp_rate)
        time.sleep(max(0.0, min(0.01, nxt - (time.monotonic() - t0))))
    with open(a.out, "w") as f:
        f.write(" ".join("%s %d" % (k, v) for k, v in counts.items()) + "\n")


def snapshot(path):
    with open(path, "w") as f:
        for cmd in (["nft", "list", "table", "inet", "proxyvpn"], ["ip", "rule"],
                    ["ip", "-6", "rule"], ["ip", "link", "show"]):
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
            f.write("# %s (exit %d)\n" % (" ".join(cmd), r.returncode))
            f.write(r.stdout.decode(errors="replace"))


def notify(a):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    s.bind(a.socket)
    s.settimeout(0.5)
    deadline = time.monotonic() + a.max
    with open(a.log, "a") as log:
        log.write("listening\n")
        log.flush()
        while time.monotonic() < deadline:
            try:
                msg = s.recv(4096).decode(errors="replace")
            except socket.timeout:
                continue
            if "READY=1" in msg.split("\n"):
                snapshot(a.snap)
            log.write(msg.replace("\n", " ") + "\n")
            log.flush()
            if "STOPPING=1" in msg.split("\n"):
                break
    os.unlink(a.socket)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    pr = sub.add_parser("probe")
    pr.add_argument("--dst", required=True)
    pr.add_argument("--udp", type=int, required=True)
    pr.add_argument("--tcp", type=int, required=True)
    pr.add_argument("--udp-rate", type=float, required=True)
    pr.add_argument("--tcp-rate", type=float, required=True)
    pr.add_argument("--count-udp", type=int)
    pr.add_argument("--count-tcp", type=int)
    pr.add_argument("--out", required=True)
    no = sub.add_parser("notify")
    no.add_argument("--socket", required=True)
    no.add_argument("--log", required=True)
    no.add_argument("--snap", required=True)
    no.add_argument("--max", type=float, default=120)
    a = p.parse_args()
    if a.cmd == "probe":
        if (a.count_udp is None) != (a.count_tcp is None):
            p.error("--count-udp and --count-tcp go together")
        probe(a)
    else:
        notify(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
