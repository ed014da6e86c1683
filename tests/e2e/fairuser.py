#!/usr/bin/env python3
"""Helpers for t-fair.sh, run as a given local user.

  names SERVER N PREFIX SUFFIX   N A queries (PREFIX<i>.SUFFIX, UDP) to SERVER:53;
                                 prints "answered A servfail S other O"
  hold HOST PORT N READY GO      opens N TCP connections to HOST:PORT
                                 (server.py's framed echo), checks each echoes, writes
                                 "opened K refused R other O" to READY, then
                                 keeps them open until the file GO exists
                                 (at most 60 s), checks they still echo and
                                 exits 0 if they did
"""
import errno
import hashlib
import os
import random
import socket
import struct
import sys
import time


def query(name):
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return qid, q + b"\0" + struct.pack("!HH", 1, 1)


def names(server, n, prefix, suffix):
    ok = fail = other = 0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    for i in range(n):
        qid, q = query("%s%d.%s" % (prefix, i, suffix))
        s.sendto(q, (server, 53))
        try:
            while True:
                m, _ = s.recvfrom(4096)
                if struct.unpack("!H", m[:2])[0] == qid:
                    break
        except socket.timeout:
            other += 1
            continue
        rcode = struct.unpack("!H", m[2:4])[0] & 0xF
        an = struct.unpack("!H", m[6:8])[0]
        if rcode == 0 and an > 0:
            ok += 1
        elif rcode == 2:
            fail += 1
        else:
            other += 1
    print("answered %d servfail %d other %d" % (ok, fail, other))


def echo_ok(c, tag):
    """One round of server.py's framed echo: sha256(payload) + payload back."""
    msg = ("ping %s" % tag).encode()
    c.sendall(struct.pack("!I", len(msg)) + msg)
    want = hashlib.sha256(msg).digest() + msg
    got = b""
    while len(got) < len(want):
        d = c.recv(len(want) - len(got))
        if not d:
            return False
        got += d
    return got == want


def hold(host, port, n, ready, go):
    conns = []
    refused = other = 0
    for i in range(n):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(10)
        try:
            c.connect((host, port))
            if not echo_ok(c, i):
                raise OSError(errno.EIO, "no echo")
            conns.append(c)
        except ConnectionRefusedError:
            refused += 1
            c.close()
        except OSError:
            other += 1
            c.close()
    with open(ready + ".tmp", "w") as f:
        f.write("opened %d refused %d other %d\n" % (len(conns), refused, other))
    os.rename(ready + ".tmp", ready)
    deadline = time.time() + 60
    while not os.path.exists(go) and time.time() < deadline:
        time.sleep(0.05)
    alive = all(echo_ok(c, "again") for c in conns)
    for c in conns:
        c.close()
    sys.exit(0 if alive else 1)


def main():
    if sys.argv[1] == "names":
        names(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif sys.argv[1] == "hold":
        hold(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
    else:
        sys.exit("usage: fairuser.py names|hold ...")


if __name__ == "__main__":
    main()
