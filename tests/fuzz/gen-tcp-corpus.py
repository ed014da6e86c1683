#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpora for fuzz-tcp (tests/fuzz/corpus/tcp) and fuzz-ip
(tests/fuzz/corpus/ip), deterministically.

fuzz-tcp inputs are records [op][len: 2 bytes BE][payload]; see the comment
at the top of fuzz-tcp.c for what each op does. The harness hands the k-th
flow of an input ISS 0xfffffc00 + k * 0x10000 (unless op 5 sets it), which is
what lets the raw-packet seeds (op 0) carry a correct ACK of our SYN-ACK.

    tests/fuzz/gen-tcp-corpus.py [REPO_ROOT]
"""
import os
import struct
import sys

OP_PACKET, OP_CLOCK, OP_SESSION, OP_FLUSH, OP_SEGMENT, OP_CONFIG = range(6)
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
ISS0 = 0xFFFFFC00
ISS_STEP = 0x10000

APP4, SRV4 = bytes([198, 18, 0, 1]), bytes([203, 0, 113, 7])
APP6 = bytes([0xFD, 0x70, 0x76, 0x78] + [0] * 11 + [1])
SRV6 = bytes([0x20, 0x01, 0x0D, 0xB8] + [0] * 11 + [7])

# ---- packets ----


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(payload, proto=6, src=APP4, dst=SRV4, ihl=5, frag=0x4000, ttl=64,
        tot=None, opts=b"", good_csum=True):
    tot = 4 * ihl + len(payload) if tot is None else tot
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot, 0x1234, frag, ttl,
                      proto, 0, src, dst) + opts
    hdr = hdr.ljust(4 * ihl, b"\x01")[:max(4 * ihl, 20)]
    c = csum(hdr) ^ (0 if good_csum else 0x5555)
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def ip6(payload, nh=6, src=APP6, dst=SRV6, plen=None):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 6 << 28, plen, nh, 64, src, dst) + payload


def ext6(nh, hlen=0, kind=None, segleft=0):
    """One extension header; kind 'rt' makes a routing header."""
    n = (hlen + 1) * 8
    if kind == "rt":
        return bytes([nh, hlen, 0, segleft]) + bytes(n - 4)
    return bytes([nh, hlen, 1, n - 4]) + bytes(n - 4)    # PadN


def tcp(sport, dport, seq, ack, flags, wnd, opts=b"", data=b"", src=APP4,
        dst=SRV4, doff=None):
    opts = opts + b"\0" * (-len(opts) % 4)
    doff = (20 + len(opts)) // 4 if doff is None else doff
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF,
                      ack & 0xFFFFFFFF, doff << 4, flags, wnd, 0, 0) + opts
    seg = hdr + data
    if len(src) == 4:
        ph = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    else:
        ph = src + dst + struct.pack("!I3xB", len(seg), 6)
    c = csum(ph + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


SYN_OPTS = bytes([2, 4, 0x05, 0xB4, 4, 2, 8, 10]) + bytes(8) + bytes([1, 3, 3, 7])

# ---- fuzz-tcp records ----


def rec(op, payload=b""):
    return bytes([op]) + struct.pack("!H", len(payload)) + payload


def seg(flow, flags, seqm=0, d1=0, ackm=0, d2=0, optm=0, wnd=65535, dlen=0,
        data=None, raw_opts=None):
    """An op-4 record: sequence/ack relative to the live conn of `flow`."""
    mode = (seqm & 3) | (ackm & 7) << 2 | (optm & 3) << 5
    rest = b""
    if optm == 3:
        rest += bytes([len(raw_opts)]) + raw_opts
    if data is not None:
        mode |= 0x80
        rest += data
    return rec(OP_SEGMENT, struct.pack("!BBBHHHH", flow, flags, mode, d1, d2,
                                       wnd, dlen) + rest)


def session(action, n=1000, pick=0):
    acts = {"accept": 0, "reject": 1, "abort": 2, "shutdown": 3, "write": 4,
            "consume": 5, "detach": 6, "abort-next": 7}
    return rec(OP_SESSION, struct.pack("!BBH", acts[action], pick, n))


def clock(ms, mult=1):
    return rec(OP_CLOCK, struct.pack("!HB", ms, mult - 1))


def flush():
    return rec(OP_FLUSH)


def config(flags, iss=None):
    p = bytes([flags]) + (struct.pack("!I", iss) if iss is not None else b"")
    return rec(OP_CONFIG, p)


def handshake(flow=0, wnd=65535, ws=True):
    """SYN with MSS (+WS), tunnel up, SYN-ACK out, ACK in."""
    return (seg(flow, SYN, ackm=6, optm=1 if ws else 2, d1=7, wnd=wnd)
            + session("accept") + flush()
            + seg(flow, ACK, wnd=wnd) + flush())


def tcp_corpus():
    c = {}
    # Raw packets (op 0) all the way: v4 handshake, data both ways, FIN both ways.
    iss, a = ISS0, 0x7000
    p = lambda fl, seq, ack, data=b"", opts=b"", wnd=0x2000: rec(  # noqa: E731
        OP_PACKET, ip4(tcp(40000, 80, seq, ack, fl, wnd, opts, data)))
    c["raw-v4-hs-data-fin"] = (
        p(SYN, a, 0, opts=SYN_OPTS) + session("accept") + flush()
        + p(ACK, a + 1, iss + 1) + flush()
        + p(ACK | PSH, a + 1, iss + 1, b"GET / HTTP/1.0\r\n\r\n") + flush()
        + session("consume", 18) + session("write", 3000) + flush()
        + p(ACK, a + 19, iss + 1 + 3000) + flush()
        + p(ACK | FIN, a + 19, iss + 3001) + flush()
        + session("shutdown") + flush()
        + p(ACK, a + 20, iss + 3002) + flush() + clock(100))
    # The same on IPv6 with relative segments, proxy closing first (TIME-WAIT),
    # the session letting go inside on_close as session.c does.
    c["v6-hs-data-timewait"] = (
        config(0x10) + handshake(4) + seg(4, ACK | PSH, dlen=500) + flush()
        + session("write", 5000) + flush() + seg(4, ACK) + flush()
        + session("shutdown") + flush() + seg(4, ACK)
        + seg(4, ACK | FIN) + flush() + clock(2000)
        + seg(4, SYN, ackm=6, optm=1) + flush())
    # RST: exact one closes, in-window one draws a challenge ACK.
    c["rst-challenge-exact"] = (
        handshake(1) + seg(1, RST, seqm=1, d1=100, ackm=6) + flush()
        + seg(1, SYN, seqm=1, d1=5, ackm=6) + flush()
        + seg(1, RST, ackm=6) + flush() + session("detach") + flush())
    # RST while the tunnel is still being built; SYN for an unknown flow gets RST.
    c["rst-syn-pending"] = (
        seg(2, SYN, ackm=6, optm=2) + seg(2, RST, ackm=6) + flush()
        + seg(3, ACK, seqm=3, d1=9, ackm=7, d2=4) + flush()
        + session("detach"))
    # Retransmission timer until it gives up (and a SYN-ACK one before it).
    c["rto-give-up"] = (
        seg(0, SYN, ackm=6, optm=1) + session("accept") + flush()
        + clock(1000) + clock(2000) + seg(0, ACK) + flush()
        + session("write", 800) + flush()
        + b"".join(clock(60000) for _ in range(12)) + flush())
    c["synack-give-up"] = (
        seg(5, SYN, ackm=6) + session("accept") + flush()
        + b"".join(clock(32000) for _ in range(7)) + flush())
    # Zero window: persist probes, then the window opens.
    c["zero-window-persist"] = (
        handshake(0, wnd=0) + session("write", 3000) + flush()
        + clock(1000) + clock(2000) + seg(0, ACK, wnd=0) + clock(4000)
        + seg(0, ACK, wnd=1000) + flush() + seg(0, ACK, ackm=2, wnd=4000)
        + flush())
    # Our receive window fills (1 KiB buffers) and reopens as the proxy drains.
    c["rx-window-full"] = (
        config(0x01) + handshake(6) + seg(6, ACK | PSH, dlen=600) + flush()
        + seg(6, ACK | PSH, dlen=600) + flush() + seg(6, ACK, dlen=100)
        + flush() + session("consume", 700) + flush()
        + seg(6, ACK | FIN, dlen=300) + flush() + session("consume", 2000)
        + flush())
    # Fast retransmit: ten segments out, three duplicate ACKs, partial ACK.
    c["fast-retransmit"] = (
        config(0x02) + handshake(0, wnd=2000) + session("write", 14600) + flush()
        + seg(0, ACK, ackm=3, d2=1460, wnd=2000)
        + seg(0, ACK, ackm=1, wnd=2000) + seg(0, ACK, ackm=1, wnd=2000)
        + seg(0, ACK, ackm=1, wnd=2000) + seg(0, ACK, ackm=1, wnd=2000)
        + flush() + seg(0, ACK, ackm=3, d2=2920, wnd=2000) + flush()
        + seg(0, ACK, ackm=2, wnd=2000) + flush())
    # Refused by the session, rejected after the tunnel failed, aborted.
    c["refuse-reject-abort"] = (
        config(0x20) + seg(0, SYN, ackm=6) + flush() + config(0x00)
        + seg(1, SYN, ackm=6) + session("reject") + flush()
        + seg(2, SYN, ackm=6, optm=1) + session("accept") + flush()
        + seg(2, ACK) + session("abort") + flush())
    # session.c's shape: detach inside on_close, consume inside on_data,
    # shutdown inside on_fin; and an abort from inside a callback.
    c["reentrant-session"] = (
        config(0xD0) + handshake(4) + seg(4, ACK | PSH, dlen=300) + flush()
        + session("write", 200) + flush() + seg(4, ACK | FIN) + flush()
        + seg(4, ACK) + flush() + handshake(5) + session("abort-next")
        + seg(5, ACK | PSH, dlen=10) + flush())
    # Sequence numbers that wrap during the transfer, from both sides.
    c["seq-wrap"] = (
        config(0x02, iss=0xFFFFFF00) + handshake(1, wnd=8000)
        + session("write", 4000) + flush() + seg(1, ACK, ackm=2, wnd=8000)
        + flush() + seg(1, ACK | PSH, seqm=0, dlen=3000) + flush()
        + session("consume", 3000) + flush())
    return c


def ip_corpus():
    c = {}
    c["v4-syn-opts"] = ip4(tcp(40000, 443, 1000, 0, SYN, 64240, SYN_OPTS))
    c["v4-data"] = ip4(tcp(40000, 443, 1001, 5, ACK | PSH, 501,
                           data=b"hello, world\n" * 8))
    c["v4-fin"] = ip4(tcp(40000, 443, 1105, 5, ACK | FIN, 501))
    c["v4-rst"] = ip4(tcp(40000, 443, 1105, 0, RST, 0))
    c["v4-ip-options"] = ip4(tcp(40000, 443, 7, 9, ACK, 100, data=b"x"), ihl=6,
                             opts=b"\x01\x01\x01\x00")
    c["v4-link-padding"] = ip4(tcp(40000, 443, 7, 9, ACK, 100)) + bytes(6)
    c["v4-udp"] = ip4(struct.pack("!HHHH", 5353, 53, 12, 0) + b"abcd", proto=17)
    c["v6-syn-opts"] = ip6(tcp(40000, 443, 1000, 0, SYN, 64800, SYN_OPTS,
                               src=APP6, dst=SRV6))
    c["v6-data"] = ip6(tcp(40000, 443, 1001, 5, ACK | PSH, 501,
                           data=bytes(range(256)) * 4, src=APP6, dst=SRV6))
    c["v6-hbh-dst-tcp"] = ip6(ext6(60) + ext6(6, 1)
                              + tcp(40000, 443, 3, 4, ACK, 9, src=APP6, dst=SRV6),
                              nh=0)
    c["v6-routing-done"] = ip6(ext6(6, 2, "rt", 0)
                               + tcp(40000, 443, 3, 4, ACK, 9, src=APP6, dst=SRV6),
                               nh=43)
    c["v6-routing-segleft"] = ip6(ext6(6, 2, "rt", 1) + bytes(20), nh=43)
    c["v6-fragment"] = ip6(bytes([6, 0, 0, 0, 0, 0, 0, 1]) + bytes(20), nh=44)
    c["v6-too-many-ext"] = ip6(b"".join(ext6(60) for _ in range(8)) + ext6(6)
                               + bytes(20), nh=0)
    c["v6-truncated-ext"] = ip6(bytes([6, 3, 1, 2, 0, 0]), nh=0)
    c["v6-plen-lies"] = ip6(bytes(20), plen=400)
    c["v4-fragment-mf"] = ip4(bytes(28), frag=0x2000)
    c["v4-fragment-off"] = ip4(bytes(28), frag=0x00B9)
    c["v4-bad-csum"] = ip4(tcp(1, 2, 3, 4, ACK, 5), good_csum=False)
    c["v4-ihl4"] = bytes([0x44]) + ip4(bytes(20))[1:]
    c["v4-totlen-lies"] = ip4(bytes(20), tot=300)
    c["tcp-bad-optlen"] = ip4(tcp(40000, 80, 1, 0, SYN, 1000, bytes([2, 0, 0, 0])))
    c["tcp-doff-past-end"] = ip4(tcp(40000, 80, 1, 0, ACK, 1000, doff=15))
    c["v5-and-empty"] = bytes([0x55]) + bytes(39)
    return c


def write(dirname, corpus):
    os.makedirs(dirname, exist_ok=True)
    for name, data in sorted(corpus.items()):
        with open(os.path.join(dirname, name), "wb") as f:
            f.write(data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    write(os.path.join(root, "tests", "fuzz", "corpus", "tcp"), tcp_corpus())
    write(os.path.join(root, "tests", "fuzz", "corpus", "ip"), ip_corpus())


if __name__ == "__main__":
    main()
