#!/usr/bin/python3
"""Hostile SOCKS5 / HTTP CONNECT proxies for the e2e suite (python3 stdlib).

One `serve` process answers every scripted case of the matrix; the `client`
side runs inside `proxyvpn exec` and checks what the application sees.

Cases are picked so that one proxyvpn run covers many of them:
  SOCKS5 mux port   a correct method exchange (no auth), then the case named
                    by the CONNECT request's destination port (CASE_BASE + i)
  HTTP mux port     the case named by the destination port of the CONNECT
                    request line
  SOCKS5 pre ports  PRE_BASE + i: case i of PRE_CASES from the first byte on
                    (method and RFC 1929 stages come before the destination
                    is known, so each needs its own proxy URL and proxyvpn)

A case is a list of ops the proxy performs, the outcome the app must see
("ok": connect() succeeds, then the tunnel carries the case's banner
byte-exact (bytes sent in the same write as the end of the reply) and an
echo exchange, or EOF; "refused": connect() fails with ECONNREFUSED, i.e.
proxyvpn answered the SYN with an RST; "error:EHOSTUNREACH" etc.: an ICMP
error, for a proxy that says the destination is unreachable), and whether it runs into the
handshake timeout. The server logs "start NAME" when a case begins and
"closed NAME" when proxyvpn has closed the proxy connection (a case that
waits for the peer), so the test can tell that every case was reached and
that no proxy connection was left open.

  serve --listen ADDR [--socks-mux P] [--http-mux P] [--socks-pre] [--ready F]
  client --proto socks5|http --host H [--host6 H] [--pre NAME] [--limit S] [--sync DIR]
  list socks5|http|pre    print the cases: name expect timeout [auth]
"""
import argparse
import errno
import hashlib
import os
import re
import signal
import socket
import struct
import sys
import threading
import time

CASE_BASE = 20000
PRE_BASE = 21000
HOLD_MAX = 40.0  # seconds a proxy-side case waits for proxyvpn to close
DRIP = 0.1  # seconds per byte for the slow cases
ENDLESS_MAX = 64 << 20  # bytes an "endless" case sends at most
HTTP_MAX_HDR = 16384  # src/proxy.h


def banner(name, n):
    """Tunnel bytes a case sends right behind its reply: NULs, CRs, LFs and all."""
    return hashlib.shake_256(("banner:" + name).encode()).digest(n)


# ---- SOCKS5 replies ----

def s5rep(code=0, atyp=1, addr=bytes([198, 51, 100, 20]), port=8080):
    return bytes([5, code, 0, atyp]) + addr + struct.pack(">H", port)


REP_V4 = s5rep()
REP_V6 = s5rep(atyp=4, addr=bytes(range(0x20, 0x30)))
REP_NAME = s5rep(atyp=3, addr=b"\x03a.b")
REP_NAME255 = s5rep(atyp=3, addr=b"\xff" + b"n" * 255)
assert len(REP_NAME255) == 262

# ---- HTTP replies ----

OK = b"HTTP/1.1 200 Connection established\r\n\r\n"


def http_padded(total):
    """A 200 reply header block of exactly total bytes."""
    head = b"HTTP/1.1 200 OK\r\n"
    pad = total - len(head) - len(b"X-Pad: \r\n") - 2
    return head + b"X-Pad: " + b"p" * pad + b"\r\n\r\n"


# ---- cases ----
# Each case: (name, ops, expect, banner, eof, times_out)
#   ops: ("send", b) ("drip", b) ("close",) ("rst",) ("hold",) ("echo",)
#        ("endless", chunk) ("drip-endless", chunk) ("sleep", s)
#        ("greet",) ("auth",) ("connect",)  -- read a client message (pre cases)
#        ("recv1",) -- wait for the app's first tunnel byte
#   expect "ok", "refused", "error:E..." or "reset" (connect() succeeds, then the app gets
#   ECONNRESET); banner: tunnel bytes sent with the reply (the
#   app must read exactly these first); eof: the proxy closes after them;
#   times_out: the outcome comes from the handshake timeout.


# What the app's connect() fails with when the proxy says the destination
# is unreachable (proxyvpn(8), "When a tunnel fails"): an ICMP error, not a
# reset.
UNREACH = {3: "error:ENETUNREACH", 4: "error:EHOSTUNREACH", 6: "error:EHOSTUNREACH",
           8: "error:ENETUNREACH"}


def case(name, ops, expect="refused", ban=b"", eof=False, times_out=False):
    return (name, ops, expect, ban, eof, times_out)


def ok_case(name, reply, ban=b"", eof=False):
    ops = [("send", reply + ban)]
    ops += [("close",)] if eof else [("echo",)]
    return case(name, ops, "ok", ban, eof)


def socks_cases():
    c = [
        ok_case("ok-v4", REP_V4),
        ok_case("ok-v6", REP_V6),
        ok_case("ok-name", REP_NAME),
        ok_case("ok-name255", REP_NAME255),
        ok_case("ok-eof", REP_V4, eof=True),
        case("ok-then-rst", [("send", REP_V4), ("recv1",), ("rst",)], "reset"),
    ]
    for code in (1, 2, 3, 4, 5, 6, 7, 8, 9, 0x80, 0xFF):
        c.append(case("rep-%02x" % code, [("send", s5rep(code)), ("hold",)],
                      UNREACH.get(code, "refused")))
    c.append(case("rep-01-close", [("send", b"\x05\x01"), ("close",)]))
    for v in (0, 4, 0xFF):
        c.append(case("ver-%02x" % v, [("send", bytes([v]) + REP_V4[1:]), ("hold",)]))
    c.append(case("rsv-01", [("send", REP_V4[:2] + b"\x01" + REP_V4[3:]), ("hold",)]))
    for a in (0, 2, 5, 0xFF):
        c.append(case("atyp-%02x" % a, [("send", b"\x05\x00\x00" + bytes([a]) + bytes(6)),
                                         ("hold",)]))
    c.append(case("name-len0", [("send", b"\x05\x00\x00\x03\x00\x1f\x90"), ("hold",)]))
    # truncated at every byte offset, then FIN
    for label, rep in (("v4", REP_V4), ("v6", REP_V6), ("name", REP_NAME)):
        for k in range(len(rep)):
            c.append(case("trunc-%s-%d" % (label, k), [("send", rep[:k]), ("close",)]))
    for k in (4, 5, 6, 100, 261):
        c.append(case("trunc-name255-%d" % k, [("send", REP_NAME255[:k]), ("close",)]))
    c += [
        case("trunc-hold", [("send", REP_V4[:5]), ("hold",)], times_out=True),
        case("silent", [("hold",)], times_out=True),
        case("rst", [("rst",)]),
        case("rst-mid", [("send", REP_V4[:4]), ("rst",)]),
        case("slow-ok", [("drip", REP_V4), ("echo",)], "ok"),
        case("slow-timeout", [("drip", REP_NAME255), ("hold",)], times_out=True),
        case("garbage", [("send", b"\x05\x00\x00\x07" + os.urandom(256 << 10)), ("hold",)]),
        case("flood-ver", [("endless", b"\x04" * 65536)]),
        ok_case("data-v4", REP_V4, banner("data-v4", 1000)),
        ok_case("data-v6", REP_V6, banner("data-v6", 1000)),
        ok_case("data-name255", REP_NAME255, banner("data-name255", 1000)),
        ok_case("data-lookalike", REP_V4, REP_V4 + s5rep(1) + banner("data-lookalike", 100)),
        ok_case("data-close", REP_V4, banner("data-close", 3000), eof=True),
        ok_case("data-big", REP_V4, banner("data-big", 65536)),
        case("data-split", [("send", REP_V4[:9]), ("sleep", 0.05),
                            ("send", REP_V4[9:] + banner("data-split", 500)), ("echo",)],
             "ok", banner("data-split", 500)),
    ]
    return c


def http_cases():
    c = [
        ok_case("ok", OK),
        ok_case("ok-10", b"HTTP/1.0 200 OK\r\n\r\n"),
        ok_case("ok-noreason", b"HTTP/1.1 200\r\n\r\n"),
        ok_case("ok-lf", b"HTTP/1.1 200 OK\n\n"),
        ok_case("ok-mixed-eol", b"HTTP/1.1 200 OK\r\nVia: 1.1 x\n\r\n"),
        ok_case("ok-headers", b"HTTP/1.1 200 Connection established\r\nProxy-Agent: hostile/1\r\n"
                b"Via: 1.1 hostile\r\nDate: Mon, 30 Nov 2026 13:00:00 GMT\r\n\r\n"),
        ok_case("ok-201", b"HTTP/1.1 201 Created\r\n\r\n"),
        ok_case("ok-299", b"HTTP/1.1 299 Whatever\r\n\r\n"),
        ok_case("ok-reason-8bit", b"HTTP/1.1 200 \xc3\xa9tabli \x01\x7f\xff\r\n\r\n"),
        ok_case("ok-eof", OK, eof=True),
        case("ok-then-rst", [("send", OK), ("recv1",), ("rst",)], "reset"),
        ok_case("cont-200", b"HTTP/1.1 100 Continue\r\n\r\n" + OK),
        ok_case("cont3-200", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
                b"HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n" + OK),
        case("cont-407", [("send", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 407 Auth\r\n\r\n"),
                          ("hold",)]),
        case("cont-close", [("send", b"HTTP/1.1 100 Continue\r\n\r\n"), ("close",)]),
        case("s101", [("send", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"),
                      ("hold",)]),
    ]
    for st in (301, 302, 400, 401, 403, 404, 405, 407, 408, 429, 500, 501, 502, 503, 504, 505,
               599):
        c.append(case("s%d" % st, [("send", b"HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n" % st),
                                    ("hold",)],
                      "error:EHOSTUNREACH" if st == 504 else "refused"))
    c += [
        case("s407-challenge", [("send", b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                                 b"Proxy-Authenticate: Basic realm=\"x\"\r\n"
                                 b"Content-Length: 0\r\n\r\n"), ("hold",)]),
        case("s502-cl-body", [("send", b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 20\r\n\r\n"
                               + b"b" * 20), ("hold",)]),
        case("s503-chunked-body", [("send", b"HTTP/1.1 503 Unavailable\r\n"
                                    b"Transfer-Encoding: chunked\r\n\r\n5\r\nsorry\r\n0\r\n\r\n"),
                                   ("hold",)]),
        # RFC 9112 5.2: a user agent takes an obs-fold in a response as SP
        ok_case("ok-obs-fold", b"HTTP/1.1 200 OK\r\nX-A: a\r\n  folded\r\n\r\n"),
        case("many-headers", [("send", b"HTTP/1.1 200 OK\r\n" + b"A: b\r\n" * 10000 + b"\r\n"),
                              ("hold",)]),
        case("line-200k", [("send", b"HTTP/1.1 200 OK\r\nX: " + b"x" * (200 << 10) + b"\r\n\r\n"),
                           ("hold",)]),
    ]
    # RFC 9110 9.3.6: Content-Length / Transfer-Encoding on a 2xx to CONNECT
    # are ignored; what follows the header block is tunnel data.
    c += [
        ok_case("cl-200", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", banner("cl-200", 20)),
        ok_case("cl0-200", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", banner("cl0-200", 20)),
        ok_case("chunked-200", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"5\r\nhello\r\n0\r\n\r\n" + banner("chunked-200", 100)),
        ok_case("data", OK, banner("data", 1000)),
        ok_case("data-lf", b"HTTP/1.1 200 OK\n\n", b"\r\n\r\n" + banner("data-lf", 100)),
        ok_case("data-nl", OK, b"\n\n" + banner("data-nl", 100)),
        ok_case("data-lookalike", OK, OK + b"HTTP/1.1 407 X\r\n\r\n" + banner("data-lookalike", 9)),
        ok_case("data-close", OK, banner("data-close", 3000), eof=True),
        ok_case("data-big", OK, banner("data-big", 65536)),
        ok_case("data-cont", b"HTTP/1.1 100 Continue\r\n\r\n" + OK, banner("data-cont", 500)),
        case("data-split", [("send", OK[:-1]), ("sleep", 0.05),
                            ("send", OK[-1:] + banner("data-split", 500)), ("echo",)],
             "ok", banner("data-split", 500)),
        ok_case("exact-max", http_padded(HTTP_MAX_HDR), banner("exact-max", 100)),
        case("over-max", [("send", http_padded(HTTP_MAX_HDR + 1)), ("hold",)]),
        case("oversize", [("send", http_padded(65536)), ("hold",)]),
        case("endless-hdr", [("send", b"HTTP/1.1 200 OK\r\n"),
                             ("endless", b"X-Junk: " + b"j" * 90 + b"\r\n")]),
        case("endless-line", [("send", b"HTTP/1.1 200 "), ("endless", b"A" * 4096)]),
        case("endless-cont", [("endless", b"HTTP/1.1 100 Continue\r\n\r\n")]),
        case("drip-endless", [("send", b"HTTP/1.1 200 OK\r\n"), ("drip-endless", b"X-J: 1\r\n")]),
    ]
    bad = [b"HTTP/2 200", b"HTTP/1.1 2000 OK", b"HTTP/1.1 20 OK", b"HTTP/1.1 600 X",
           b"HTTP/1.1 099 X", b"http/1.1 200 OK", b"HTTP/1.1  200 OK", b"ICY 200 OK",
           b"SSH-2.0-OpenSSH_9.2", b"", b"HTTP/1.1 200OK", b"HTTP/1.2 200 OK",
           b"HTTP/1.1 -200 OK", b" HTTP/1.1 200 OK", b"HTTP/1.1 2x0 OK", b"HTTP/1.1\t200 OK",
           b"HTTP/1.1 200 O\0K", b"\0"]
    for i, line in enumerate(bad):
        c.append(case("bad-%d" % i, [("send", line + b"\r\n\r\n"), ("hold",)]))
    c += [
        case("nul-header", [("send", b"HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n"), ("hold",)]),
        case("socks-reply", [("send", REP_V4), ("hold",)]),
        case("socks-reply-close", [("send", REP_V4), ("close",)]),
    ]
    for k in range(len(OK)):
        c.append(case("trunc-%d" % k, [("send", OK[:k]), ("close",)]))
    c += [
        case("trunc-hold", [("send", OK[:17]), ("hold",)], times_out=True),
        case("silent", [("hold",)], times_out=True),
        case("rst", [("rst",)]),
        case("rst-mid", [("send", OK[:20]), ("rst",)]),
        case("slow-ok", [("drip", b"HTTP/1.1 200 OK\r\n\r\n"), ("echo",)], "ok"),
        case("slow-timeout", [("drip", b"HTTP/1.1 200 OK\r\nX-Slow: " + b"s" * 150 + b"\r\n\r\n"),
                              ("hold",)], times_out=True),
        case("garbage", [("send", bytes(b or 1 for b in os.urandom(256 << 10))), ("hold",)]),
    ]
    return c


M_OK = b"\x05\x00"
M_AUTH = b"\x05\x02"
A_OK = b"\x01\x00"


def pre_cases():
    """SOCKS5 cases before the destination is known: (case, auth)."""
    g, a, k = ("greet",), ("auth",), ("connect",)
    return [
        (case("m-ver4", [g, ("send", b"\x04\x00"), ("hold",)]), False),
        (case("m-ff", [g, ("send", b"\x05\xff"), ("hold",)]), False),
        (case("m-gssapi", [g, ("send", b"\x05\x01"), ("hold",)]), False),
        (case("m-socks4", [g, ("send", b"\x00\x5a" + bytes(6)), ("hold",)]), False),
        (case("m-http", [g, ("send", b"HTTP/1.1 400 Bad Request\r\n\r\n"), ("hold",)]), False),
        (case("m-unoffered", [g, ("send", M_AUTH), ("hold",)]), False),
        (case("m-trunc0", [g, ("close",)]), False),
        (case("m-trunc1", [g, ("send", b"\x05"), ("close",)]), False),
        (case("m-silent", [g, ("hold",)], times_out=True), False),
        (case("m-slow", [g, ("drip", M_OK), k, ("drip", REP_V4), ("echo",)], "ok"), False),
        (case("m-early", [("send", M_OK), g, k, ("send", REP_V4), ("echo",)], "ok"), False),
        (case("m-allinone", [g, ("send", M_OK + REP_V4 + banner("m-allinone", 700)), k,
                             ("echo",)], "ok", banner("m-allinone", 700)), False),
        (case("a-ok", [g, ("send", M_AUTH), a, ("send", A_OK), k, ("send", REP_V4),
                       ("echo",)], "ok"), True),
        (case("a-fail", [g, ("send", M_AUTH), a, ("send", b"\x01\x01"), ("hold",)]), True),
        (case("a-fail-ff", [g, ("send", M_AUTH), a, ("send", b"\x01\xff"), ("close",)]), True),
        (case("a-ver5", [g, ("send", M_AUTH), a, ("send", b"\x05\x00"), ("hold",)]), True),
        (case("a-trunc0", [g, ("send", M_AUTH), a, ("close",)]), True),
        (case("a-trunc1", [g, ("send", M_AUTH), a, ("send", b"\x01"), ("close",)]), True),
        (case("a-skipped", [g, ("send", M_OK), ("hold",)]), True),
        (case("a-silent", [g, ("send", M_AUTH), a, ("hold",)], times_out=True), True),
        (case("a-allinone", [g, ("send", M_AUTH + A_OK + REP_V4 + banner("a-allinone", 700)),
                             a, k, ("echo",)], "ok", banner("a-allinone", 700)), True),
    ]


# Run by the client only: nothing answers (the test drops SYNs to the port).
CLIENT_ONLY = [case("blackhole", [], times_out=True)]

# ---- server ----

LOG_LOCK = threading.Lock()


def log(msg):
    with LOG_LOCK:
        sys.stdout.write(msg + "\n")
        sys.stdout.flush()


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        c = s.recv(n - len(buf))
        if not c:
            raise ConnectionError("short read (%d of %d)" % (len(buf), n))
        buf += c
    return bytes(buf)


def read_greeting(s):
    ver, nm = recv_exact(s, 2)
    return ver, recv_exact(s, nm)


def read_auth(s):
    _, ulen = recv_exact(s, 2)
    recv_exact(s, ulen)
    (plen,) = recv_exact(s, 1)
    recv_exact(s, plen)


def read_connect(s):
    _, _, _, atyp = recv_exact(s, 4)
    if atyp == 1:
        recv_exact(s, 4)
    elif atyp == 4:
        recv_exact(s, 16)
    elif atyp == 3:
        recv_exact(s, recv_exact(s, 1)[0])
    else:
        raise ValueError("CONNECT with ATYP %d" % atyp)
    return struct.unpack(">H", recv_exact(s, 2))[0]


def read_http_request(s):
    head = bytearray()
    while not head.endswith(b"\r\n\r\n"):
        b = s.recv(1)
        if not b or len(head) > 8192:
            raise ConnectionError("bad request")
        head += b
    m = re.match(rb"CONNECT \S+:(\d+) HTTP/1\.1\r\n", head)
    if not m:
        raise ValueError("not a CONNECT request: %r" % bytes(head[:80]))
    return int(m.group(1))


def hold(s, name, t0):
    """Wait until proxyvpn closes the connection (reading and dropping what it sends)."""
    s.settimeout(max(0.1, HOLD_MAX - (time.monotonic() - t0)))
    try:
        while s.recv(65536):
            pass
    except socket.timeout:
        log("open %s after %.1f s" % (name, time.monotonic() - t0))
        return
    except OSError:
        pass
    log("closed %s after %.2f s" % (name, time.monotonic() - t0))


def endless(s, name, chunk, t0, drip):
    sent = 0
    try:
        while sent < ENDLESS_MAX and time.monotonic() - t0 < HOLD_MAX:
            if drip:
                for i in range(len(chunk)):
                    s.send(chunk[i:i + 1])
            else:
                s.sendall(chunk)
            sent += len(chunk)
    except OSError as e:
        log("closed %s after %.2f s (%d bytes sent, %s)" % (
            name, time.monotonic() - t0, sent, errno.errorcode.get(e.errno, e.errno)))
        return
    log("open %s after %.1f s (%d bytes sent)" % (name, time.monotonic() - t0, sent))


def echo(s):
    s.settimeout(30)
    while True:
        d = s.recv(65536)
        if not d:
            break
        s.sendall(d)
    s.shutdown(socket.SHUT_WR)


def run_ops(s, c, t0):
    name, ops = c[0], c[1]
    log("start %s" % name)
    for op in ops:
        kind = op[0]
        if kind == "send":
            s.sendall(op[1])
        elif kind == "drip":
            for i in range(len(op[1])):
                s.sendall(op[1][i:i + 1])
                time.sleep(DRIP)
        elif kind == "sleep":
            time.sleep(op[1])
        elif kind == "greet":
            read_greeting(s)
        elif kind == "auth":
            read_auth(s)
        elif kind == "connect":
            read_connect(s)
        elif kind == "recv1":
            if not s.recv(1):
                raise ConnectionError("EOF before tunnel data")
        elif kind == "close":
            s.shutdown(socket.SHUT_WR)
            hold(s, name, t0)
        elif kind == "rst":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            log("closed %s (reset)" % name)
        elif kind == "hold":
            hold(s, name, t0)
        elif kind == "echo":
            echo(s)
            log("done %s" % name)
        elif kind in ("endless", "drip-endless"):
            endless(s, name, op[1], t0, kind == "drip-endless")
        else:
            raise ValueError(kind)


def handle(s, mode, pre):
    t0 = time.monotonic()
    name = "?"
    s.settimeout(HOLD_MAX)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        if mode == "pre":
            c = pre
        elif mode == "socks":
            read_greeting(s)
            s.sendall(M_OK)
            c = CASES["socks5"][read_connect(s) - CASE_BASE]
        else:
            c = CASES["http"][read_http_request(s) - CASE_BASE]
        name = c[0]
        run_ops(s, c, t0)
    except OSError as e:
        if e.errno in (errno.EPIPE, errno.ECONNRESET):
            # proxyvpn closed (with unread data: a reset) while we wrote
            log("closed %s after %.2f s (%s)" % (name, time.monotonic() - t0,
                                                 errno.errorcode[e.errno]))
        else:
            log("error %s: %r" % (name, e))
    except (ValueError, IndexError) as e:
        log("error %s: %r" % (name, e))
    finally:
        s.close()


def listener(addr, port, mode, pre=None):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(512)

    def loop():
        while True:
            s, _ = ls.accept()
            threading.Thread(target=handle, args=(s, mode, pre), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()


CASES = {}


def load_cases():
    CASES["socks5"] = socks_cases()
    CASES["http"] = http_cases()
    CASES["pre"] = pre_cases()


def cmd_serve(a):
    threading.stack_size(256 * 1024)
    if a.socks_mux:
        listener(a.listen, a.socks_mux, "socks")
    if a.http_mux:
        listener(a.listen, a.http_mux, "http")
    if a.socks_pre:
        for i, (c, _) in enumerate(CASES["pre"]):
            listener(a.listen, PRE_BASE + i, "pre", c)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("ready\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(3600):
        pass
    return 0


# ---- client (the application, inside proxyvpn exec) ----

def run_case(c, host, port, limit):
    name, _, expect, ban, eof, _ = c
    t0 = time.monotonic()
    try:
        s = socket.create_connection((host, port), timeout=limit + 15)
    except OSError as e:
        el = time.monotonic() - t0
        got = "refused" if e.errno == errno.ECONNREFUSED else \
            "error:" + errno.errorcode.get(e.errno or 0, repr(e))
        return got, el, ""
    el = time.monotonic() - t0
    detail = ""
    try:
        s.settimeout(20)
        got = "ok"
        if ban:
            b = bytearray()
            while len(b) < len(ban):
                d = s.recv(len(ban) - len(b))
                if not d:
                    break
                b += d
            if bytes(b) != ban:
                i = next((i for i in range(min(len(b), len(ban))) if b[i] != ban[i]),
                         min(len(b), len(ban)))
                got = "bad-data"
                detail = "got %d of %d banner bytes, first difference at %d" % (
                    len(b), len(ban), i)
        if got == "ok" and eof:
            d = s.recv(1)
            if d:
                got, detail = "bad-data", "data where EOF was due: %r" % d
        elif got == "ok":
            p = os.urandom(16384)
            s.sendall(p)
            back = bytearray()
            while len(back) < len(p):
                d = s.recv(65536)
                if not d:
                    break
                back += d
            if bytes(back) != p:
                got, detail = "bad-echo", "echo: %d of %d bytes back" % (len(back), len(p))
    except OSError as e:
        got = "connected-then-" + errno.errorcode.get(e.errno or 0, repr(e))
        if e.errno in (errno.ECONNRESET, errno.EPIPE):
            got = "reset"
    finally:
        s.close()
    return got, el, detail


def cmd_client(a):
    port = CASE_BASE
    if a.pre:
        cases = [c for c in [c for c, _ in CASES["pre"]] + CLIENT_ONLY if c[0] == a.pre]
    else:
        cases = CASES[a.proto]
    if not cases:
        print("client: no such case %r" % a.pre)
        return 2
    if a.sync:
        open(os.path.join(a.sync, "ready"), "w").close()
        deadline = time.monotonic() + 30
        while not os.path.exists(os.path.join(a.sync, "go")):
            if time.monotonic() > deadline:
                print("client: no go")
                return 1
            time.sleep(0.02)
    results = [None] * len(cases)

    def worker(i):
        try:
            results[i] = run_case(cases[i], a.host, port + (0 if a.pre else i), a.limit)
        except Exception as e:  # report, don't hang the matrix
            results[i] = ("exception", 0.0, repr(e))

    threading.stack_size(256 * 1024)
    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(cases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.limit + 60)
    total = time.monotonic() - t0
    bad = 0
    for c, r in zip(cases, results):
        name, _, expect, _, _, tout = c
        got, el, detail = r or ("hung", 0.0, "")
        # Decided by the bytes: before the handshake timer could have
        # fired; decided by the timer: within it plus slack.
        ok = got == expect and (el <= a.limit + 5 if tout else el < a.limit)
        bad += not ok
        print("case %-20s expect %-8s got %-8s %6.2f s%s%s%s" % (
            name, expect, got, el, " (handshake timeout)" if tout else "",
            "" if ok else "  <-- FAIL", (": " + detail) if detail else ""))
    print("matrix: %d cases, %d failed, %.1f s" % (len(cases), bad, total))
    if not a.pre:
        # still serving: one good connection after the whole matrix
        good = [c for c in cases if c[0] in ("ok-v4", "ok")][0]
        for host in [a.host] + ([a.host6] if a.host6 else []):
            got, el, detail = run_case(good, host, port + cases.index(good), a.limit)
            print("after the matrix: %s to %s %s in %.2f s %s" % (good[0], host, got, el, detail))
            bad += got != "ok"
    if a.sync:
        open(os.path.join(a.sync, "done"), "w").close()
        deadline = time.monotonic() + 30
        while not os.path.exists(os.path.join(a.sync, "measured")):
            if time.monotonic() > deadline:
                print("client: never measured")
                return 1
            time.sleep(0.02)
    return 1 if bad else 0


def cmd_list(a):
    if a.kind == "pre":
        for c, auth in CASES["pre"]:
            print(c[0], c[2], int(c[5]), int(auth))
    else:
        for c in CASES[a.kind]:
            print(c[0], c[2], int(c[5]))
    return 0


def main():
    load_cases()
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    p.add_argument("--listen", required=True)
    p.add_argument("--socks-mux", type=int)
    p.add_argument("--http-mux", type=int)
    p.add_argument("--socks-pre", action="store_true")
    p.add_argument("--ready")
    p = sub.add_parser("client")
    p.add_argument("--proto", choices=("socks5", "http"), default="socks5")
    p.add_argument("--host", required=True)
    p.add_argument("--host6", help="after the matrix, a good connection to this IPv6 host too")
    p.add_argument("--pre")
    p.add_argument("--limit", type=float, default=10.0, help="handshake timeout (s)")
    p.add_argument("--sync")
    p = sub.add_parser("list")
    p.add_argument("kind", choices=("socks5", "http", "pre"))
    a = ap.parse_args()
    rc = {"serve": cmd_serve, "client": cmd_client, "list": cmd_list}[a.cmd](a)
    sys.stdout.flush()
    sys.exit(rc)


if __name__ == "__main__":
    main()
