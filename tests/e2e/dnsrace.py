#!/usr/bin/env python3
"""Many DNS-over-TCP queries at once from several connections (one thread
each) to SERVER:53, every one checked: the reply's ID and question name must
be the query's own. Queries carry EDNS padding (RFC 7830) up to --pad bytes,
so an engine that copies them into a buffer shared between threads takes
long enough at it for two copies to overlap. Each name is unique
(c<conn>q<n>.<suffix>), so an answer to another connection's query is seen.
Prints "N replies, M wrong" and exits 1 on any wrong, missing or extra
reply (or a connection error)."""
import argparse
import socket
import struct
import sys
import threading


def query(qid, name, pad):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", 1, 1)
    # OPT: root, type 41, UDP size 1232, ttl 0, one padding option (code 12)
    q += b"\0" + struct.pack("!HHIH", 41, 1232, 0, 4 + pad) + struct.pack("!HH", 12, pad)
    q += b"\0" * pad
    return struct.pack("!H", len(q)) + q


def qname(m):
    off, labels = 12, []
    while True:
        n = m[off]
        if n == 0 or n >= 0xC0:
            break
        labels.append(m[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    return ".".join(labels)


def conn(server, idx, n, pad, suffix, res, timeout):
    wrong = got = 0
    first = ""
    try:
        s = socket.create_connection((server, 53), timeout=timeout)
        want = {}
        out = []
        for i in range(n):
            qid = (idx * 4099 + i * 7) & 0xFFFF
            name = "c%dq%d.%s" % (idx, i, suffix)
            want[i] = (qid, name)
            out.append(query(qid, name, pad))
        sender = threading.Thread(target=s.sendall, args=(b"".join(out),))
        sender.start()
        buf = b""
        while got < n:
            d = s.recv(65536)
            if not d:
                break
            buf += d
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                ln = struct.unpack("!H", buf[:2])[0]
                m, buf = buf[2:2 + ln], buf[2 + ln:]
                qid, name = want[got]
                rid, flags = struct.unpack("!HH", m[:4])
                rname = qname(m) if len(m) > 12 else ""
                if rid != qid or not flags & 0x8000 or rname != name:
                    wrong += 1
                    if not first:
                        first = "reply %d: id %d name %s, want id %d name %s" % (
                            got, rid, rname, qid, name)
                got += 1
        sender.join(timeout)
        s.close()
        if got != n or buf:
            first = first or "%d replies for %d queries (%d bytes left)" % (got, n, len(buf))
            wrong += n - got if got < n else 1
    except OSError as e:
        first = first or "connection %d: %s" % (idx, e)
        wrong += n - got
    res[idx] = (got, wrong, first)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("-n", type=int, default=200, help="queries per connection")
    ap.add_argument("--pad", type=int, default=16384)
    ap.add_argument("--suffix", default="race.test")
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    res = {}
    th = [threading.Thread(target=conn, args=(a.server, i, a.n, a.pad, a.suffix, res, a.timeout))
          for i in range(a.conns)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    got = sum(r[0] for r in res.values())
    wrong = sum(r[1] for r in res.values())
    print("%d replies, %d wrong" % (got, wrong))
    for i in sorted(res):
        if res[i][2]:
            print("  " + res[i][2])
    sys.exit(1 if wrong or len(res) != a.conns else 0)


if __name__ == "__main__":
    main()
