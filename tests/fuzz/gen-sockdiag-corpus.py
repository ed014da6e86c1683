#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-sockdiag (tests/fuzz/corpus/sockdiag/): reads
of a sock_diag TCP dump as the kernel sends them (native byte order, x86-64),
each file prefixed with the 4-byte sequence number the parser expects."""
import os
import socket
import struct
import sys

SEQ = 0x70767070
SOCK_DIAG_BY_FAMILY, NLMSG_DONE, NLMSG_ERROR = 20, 3, 2
NLM_F_MULTI = 2
INET_DIAG_PAD, INET_DIAG_CGROUP_ID = 8, 21


def align(n):
    return (n + 3) & ~3


def attr(t, payload):
    a = struct.pack("=HH", 4 + len(payload), t) + payload
    return a + b"\0" * (align(len(a)) - len(a))


def nlmsg(t, payload, seq=SEQ):
    m = struct.pack("=IHHII", 16 + len(payload), t, NLM_F_MULTI, seq, 0) + payload
    return m + b"\0" * (align(len(m)) - len(m))


def sock(fam, state, src, sport, dst, dport, uid, inode, attrs=b""):
    n = 4 if fam == socket.AF_INET else 16
    s = socket.inet_pton(fam, src).ljust(16, b"\0")[:16]
    d = socket.inet_pton(fam, dst).ljust(16, b"\0")[:16]
    assert len(socket.inet_pton(fam, src)) == n
    msg = struct.pack("=BBBB", fam, state, 0, 0)
    msg += struct.pack("!HH", sport, dport) + s + d
    msg += struct.pack("=III", 0, 0xFFFFFFFF, 0xFFFFFFFF)  # if, cookie
    msg += struct.pack("=IIIII", 0, 0, 0, uid, inode)  # expires, rqueue, wqueue, uid, inode
    return nlmsg(SOCK_DIAG_BY_FAMILY, msg + attrs)


def done(seq=SEQ):
    return nlmsg(NLMSG_DONE, struct.pack("=i", 0), seq)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "corpus", "sockdiag")
    os.makedirs(out, exist_ok=True)
    cg = attr(INET_DIAG_PAD, b"") + attr(INET_DIAG_CGROUP_ID, struct.pack("=Q", 4242))
    listen4 = sock(socket.AF_INET, 10, "127.0.0.1", 1080, "0.0.0.0", 0, 0, 31337, cg)
    listen6 = sock(socket.AF_INET6, 10, "::", 1080, "::", 0, 105, 31338, cg)
    est4 = sock(socket.AF_INET, 1, "192.0.2.2", 40000, "192.0.2.1", 22, 0, 31339,
                attr(INET_DIAG_CGROUP_ID, struct.pack("=Q", 1)))
    seeds = {
        "listen4-done": listen4 + done(),
        "mixed-done": listen4 + listen6 + est4 + done(),
        "more": listen4 + est4,
        "noattr": sock(socket.AF_INET, 1, "10.0.0.1", 1, "10.0.0.2", 2, 1000, 7) + done(),
        "error-eperm": nlmsg(NLMSG_ERROR, struct.pack("=i", -1) + b"\0" * 16),
        "bad-seq": listen4[:12] + struct.pack("=I", SEQ + 1) + listen4[16:] + done(),
        "bad-family": sock(socket.AF_INET, 10, "127.0.0.1", 1, "0.0.0.0", 0, 0, 1)[:16]
        + b"\x07" + listen4[17:] + done(),
        "bad-attr": listen4[:-4] + b"\xff\x00\x15\x00" + done(),
        "truncated": (listen4 + done())[:50],
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(struct.pack("=I", SEQ) + data)


if __name__ == "__main__":
    main()
