#!/usr/bin/env python3
"""One DNS query over UDP (or TCP with --tcp) to SERVER for NAME (type A or
AAAA); prints the addresses of the answer, one per line, or "rcode=N".
Used by t-dns.sh as a positive control (straight to the resolver) and to
look at what proxyvpn's resolver answers."""
import argparse
import random
import socket
import struct
import sys


def query(name, qtype):
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", qtype, 1)
    return qid, q


def skip_name(m, off):
    while True:
        n = m[off]
        if n >= 0xC0:
            return off + 2
        off += 1 + n
        if n == 0:
            return off


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("server")
    ap.add_argument("name")
    ap.add_argument("--type", default="A", choices=["A", "AAAA", "MX"])
    ap.add_argument("--tcp", action="store_true")
    ap.add_argument("--timeout", type=float, default=5)
    ap.add_argument("--repeat", type=int, default=1,
                    help="TCP: send the query this many times in one write on one "
                         "connection (pipelined), print the answer of each")
    a = ap.parse_args()
    qtype = {"A": 1, "AAAA": 28, "MX": 15}[a.type]
    qid, q = query(a.name, qtype)
    fam = socket.AF_INET6 if ":" in a.server else socket.AF_INET
    if a.tcp:
        s = socket.create_connection((a.server, 53), timeout=a.timeout)
        s.sendall((struct.pack("!H", len(q)) + q) * a.repeat)
        buf = b""
        msgs = []
        while len(msgs) < a.repeat:
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                n = struct.unpack("!H", buf[:2])[0]
                msgs.append(buf[2:2 + n])
                buf = buf[2 + n:]
            if len(msgs) >= a.repeat:
                break
            d = s.recv(65536)
            if not d:
                break
            buf += d
        if len(msgs) != a.repeat or buf:
            sys.exit("%d replies for %d queries (%d bytes left)" % (len(msgs), a.repeat, len(buf)))
        for m in msgs[:-1]:
            show(m, qid)
        m = msgs[-1]
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(a.timeout)
        s.sendto(q, (a.server, 53))
        m, _ = s.recvfrom(65536)
    show(m, qid)


def show(m, qid):
    rid, flags, qd, an = struct.unpack("!HHHH", m[:8])
    if rid != qid or not flags & 0x8000:
        sys.exit("bad reply")
    if flags & 0xF:
        print("rcode=%d" % (flags & 0xF))
        return
    off = 12
    for _ in range(qd):
        off = skip_name(m, off) + 4
    for _ in range(an):
        off = skip_name(m, off)
        t, _c, _ttl, rdlen = struct.unpack("!HHIH", m[off:off + 10])
        off += 10
        if t == 1:
            print(socket.inet_ntop(socket.AF_INET, m[off:off + 4]))
        elif t == 28:
            print(socket.inet_ntop(socket.AF_INET6, m[off:off + 16]))
        off += rdlen
    if an == 0:
        print("nodata")


if __name__ == "__main__":
    main()
