#!/usr/bin/python3
"""Application-side clients for the proxyvpn e2e suite (python3 stdlib only).

Normally run inside `proxyvpn exec`, where a plain connect() is tunnelled.
With E2E_VIA=<proxy URL> in the environment (harness self-test, no proxyvpn)
every connection is made through that SOCKS5 / HTTP CONNECT proxy by this
script itself, and any proxy-side failure is reported as ECONNREFUSED, which
is what proxyvpn promises the application.

Subcommands (exit 0 = expectation met, 1 = not met, 2 = usage):
  concurrent HOST PORT [-n N]   N connections open at once, each exchanges a
                                unique payload with the framed echo server
  halfclose HOST PORT1 PORT2    hc1 (client SHUT_WR first) on PORT1 and hc2
                                (server SHUT_WR first) on PORT2; prints
                                "hc2-sent <nbytes> <sha256hex>"
  refused HOST PORT [--within S] [--ok-exit N] [--count K]
                                connect() must fail with ECONNREFUSED within S
  deadproxy HOST PORT --mark F --go F
                                refused (proxy down), then write F(mark), wait
                                for F(go), then one echo exchange must succeed
  echo HOST PORT                one framed echo exchange
"""
import argparse
import base64
import errno
import hashlib
import ipaddress
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse

MIB = 1 << 20
IO_TIMEOUT = 60


def refused(msg):
    return ConnectionRefusedError(errno.ECONNREFUSED, msg)


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(n - len(buf), 65536))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def recv_all(s):
    buf = bytearray()
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return bytes(buf)
        buf += chunk


def _socks5(s, u, host, port):
    user = urllib.parse.unquote(u.username) if u.username else None
    pw = urllib.parse.unquote(u.password or "") if user is not None else None
    s.sendall(b"\x05\x01" + (b"\x02" if user is not None else b"\x00"))
    rep = recv_exact(s, 2)
    if len(rep) != 2 or rep[0] != 5 or rep[1] == 0xFF:
        raise refused("socks5: no acceptable method (%r)" % rep)
    if rep[1] == 2:
        ub, pb = user.encode(), pw.encode()
        s.sendall(bytes([1, len(ub)]) + ub + bytes([len(pb)]) + pb)
        st = recv_exact(s, 2)
        if len(st) != 2 or st[1] != 0:
            raise refused("socks5: authentication failed (%r)" % st)
    elif rep[1] != 0:
        raise refused("socks5: unexpected method %d" % rep[1])
    ip = ipaddress.ip_address(host)
    atyp = b"\x01" if ip.version == 4 else b"\x04"
    s.sendall(b"\x05\x01\x00" + atyp + ip.packed + struct.pack(">H", port))
    hdr = recv_exact(s, 4)
    if len(hdr) != 4:
        raise refused("socks5: short reply")
    if hdr[1] != 0:
        raise refused("socks5: REP %d" % hdr[1])
    alen = {1: 4, 4: 16}.get(hdr[3])
    if alen is None:
        if hdr[3] != 3:
            raise refused("socks5: bad ATYP %d" % hdr[3])
        alen = recv_exact(s, 1)[0]
    if len(recv_exact(s, alen + 2)) != alen + 2:
        raise refused("socks5: short reply")


def _http_connect(s, u, host, port):
    ip = ipaddress.ip_address(host)
    authority = "%s:%d" % (host if ip.version == 4 else "[%s]" % host, port)
    req = "CONNECT %s HTTP/1.1\r\nHost: %s\r\n" % (authority, authority)
    if u.username:
        cred = "%s:%s" % (urllib.parse.unquote(u.username),
                          urllib.parse.unquote(u.password or ""))
        req += "Proxy-Authorization: Basic %s\r\n" % base64.b64encode(cred.encode()).decode()
    s.sendall((req + "\r\n").encode())
    head = bytearray()
    while not head.endswith(b"\r\n\r\n"):  # byte by byte: never over-read
        c = s.recv(1)
        if not c or len(head) > 65536:
            raise refused("http: proxy closed during reply")
        head += c
    status = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status.split()
    if len(parts) < 2 or not parts[1].startswith("2"):
        raise refused("http: %s" % status)


def connect(host, port, timeout=30):
    via = os.environ.get("E2E_VIA")
    if not via:
        s = socket.create_connection((host, port), timeout=timeout)
        s.settimeout(IO_TIMEOUT)
        return s
    u = urllib.parse.urlsplit(via)
    s = socket.create_connection((u.hostname, u.port), timeout=timeout)
    try:
        s.settimeout(timeout)
        if u.scheme == "socks5":
            _socks5(s, u, host, port)
        elif u.scheme == "http":
            _http_connect(s, u, host, port)
        else:
            raise ValueError("E2E_VIA: unsupported scheme %r" % u.scheme)
    except BaseException:
        s.close()
        raise
    s.settimeout(IO_TIMEOUT)
    return s


def echo_exchange(s, payload):
    s.sendall(struct.pack(">I", len(payload)) + payload)
    want = hashlib.sha256(payload).digest() + payload
    got = recv_exact(s, len(want))
    if got != want:
        raise ValueError("echo reply mismatch (%d/%d bytes)" % (len(got), len(want)))


def cmd_echo(a):
    with connect(a.host, a.port) as s:
        echo_exchange(s, b"echo-" + os.urandom(1024))
    print("echo ok")
    return 0


def cmd_concurrent(a):
    n = a.n
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        s = None
        try:
            s = connect(a.host, a.port, timeout=60)
        except BaseException as e:
            barrier.abort()
            results[i] = "connect: %r" % (e,)
            return
        try:
            barrier.wait(timeout=90)  # all n connections are open at this point
            payload = ("conn-%05d-" % i).encode() + os.urandom(16384)
            echo_exchange(s, payload)
            results[i] = "ok"
        except threading.BrokenBarrierError:
            results[i] = "barrier broken (another connection failed)"
        except BaseException as e:
            results[i] = "exchange: %r" % (e,)
        finally:
            s.close()

    old = threading.stack_size(256 * 1024)
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    threading.stack_size(old)
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    ok = sum(1 for r in results if r == "ok")
    print("concurrent: ok=%d/%d" % (ok, n))
    bad = [(i, r) for i, r in enumerate(results) if r != "ok"]
    for i, r in bad[:5]:
        print("  conn %d: %s" % (i, r))
    return 0 if ok == n else 1


def cmd_halfclose(a):
    rc = 0
    # hc1: we send 1 MiB, SHUT_WR; server reads to EOF, then replies.
    data = os.urandom(MIB)
    d = hashlib.sha256(data).digest()
    with connect(a.host, a.port1) as s:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        reply = recv_all(s)
    want = d + hashlib.shake_256(d).digest(MIB)
    if reply == want:
        print("hc1 ok: got %d bytes after our SHUT_WR" % len(reply))
    else:
        print("hc1 FAIL: got %d bytes, want %d (server saw our data: %s)"
              % (len(reply), len(want), reply[:32] == d))
        rc = 1
    # hc2: server sends 1 MiB then SHUT_WR; we read to EOF, then send 1 MiB.
    with connect(a.host, a.port2) as s:
        got = recv_all(s)
        want = hashlib.shake_256(b"hc2").digest(MIB)
        if got == want:
            print("hc2 ok: got %d bytes and EOF" % len(got))
        else:
            print("hc2 FAIL: got %d bytes before EOF, want %d" % (len(got), len(want)))
            rc = 1
        data = os.urandom(MIB)
        try:
            s.sendall(data)
        except OSError as e:
            print("hc2 FAIL: send after peer EOF: %r" % (e,))
            rc = 1
    print("hc2-sent %d %s" % (len(data), hashlib.sha256(data).hexdigest()))
    return rc


def try_refused(host, port, within):
    t0 = time.monotonic()
    try:
        s = connect(host, port, timeout=within + 5)
    except OSError as e:
        el = time.monotonic() - t0
        name = errno.errorcode.get(e.errno, str(e.errno)) if e.errno else e.__class__.__name__
        print("connect: errno=%s elapsed=%.2fs (%s)" % (name, el, e))
        return e.errno == errno.ECONNREFUSED and el <= within
    el = time.monotonic() - t0
    s.close()
    print("connect: unexpectedly succeeded after %.2fs" % el)
    return False


def cmd_refused(a):
    for _ in range(a.count):
        if not try_refused(a.host, a.port, a.within):
            return 1
    return a.ok_exit


def cmd_deadproxy(a):
    for _ in range(3):
        if not try_refused(a.host, a.port, 5.0):
            print("deadproxy: phase 1 (proxy down) did not fail promptly with ECONNREFUSED")
            return 1
    with open(a.mark, "w") as f:
        f.write("phase1 ok\n")
    deadline = time.monotonic() + a.go_timeout
    while not os.path.exists(a.go):
        if time.monotonic() > deadline:
            print("deadproxy: go file never appeared")
            return 1
        time.sleep(0.05)
    try:
        with connect(a.host, a.port) as s:
            echo_exchange(s, b"after-proxy-start-" + os.urandom(4096))
            echo_exchange(s, b"second-frame-" + os.urandom(4096))
    except OSError as e:
        print("deadproxy: phase 2 (proxy up) failed: %r" % (e,))
        return 1
    print("deadproxy: phase 2 ok")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("echo")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p = sub.add_parser("concurrent")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("-n", type=int, default=200)
    p = sub.add_parser("halfclose")
    p.add_argument("host")
    p.add_argument("port1", type=int)
    p.add_argument("port2", type=int)
    p = sub.add_parser("refused")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--within", type=float, default=5.0)
    p.add_argument("--ok-exit", type=int, default=0)
    p.add_argument("--count", type=int, default=1)
    p = sub.add_parser("deadproxy")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--mark", required=True)
    p.add_argument("--go", required=True)
    p.add_argument("--go-timeout", type=float, default=60.0)
    a = ap.parse_args()
    fn = {"echo": cmd_echo, "concurrent": cmd_concurrent, "halfclose": cmd_halfclose,
          "refused": cmd_refused, "deadproxy": cmd_deadproxy}[a.cmd]
    try:
        rc = fn(a)
    except Exception as e:  # unexpected failure: say what and fail
        print("%s: error: %r" % (a.cmd, e))
        rc = 1
    sys.stdout.flush()
    sys.exit(rc)


if __name__ == "__main__":
    main()
