#!/usr/bin/python3
"""UDP helpers for the --udp proxy e2e tests (t-udp.sh).

  udp.py echo --port P --ready FILE
      echo server (DST): one dual-stack socket on [::]:P, every datagram is
      sent back to its source unchanged; FILE is created once it is bound.
  udp.py client --port P --count N [--sockets K] [--pause S] [--family 4|6] ADDR...
      for each ADDR (a name is resolved first, to --family: 4 by default), from K sockets, N datagrams each (sizes 0, 1, 100,
      1400, ...; a random payload each) and waits for each echo (2 s, 3
      tries); after --pause S seconds of silence, one more exchange per
      socket. Prints "ok ADDR sockets K datagrams M" per address; exit 1 on
      a missing or wrong echo.
  udp.py refused --port P ADDR
      from a fresh connected socket, sends a datagram every second (10 at
      most) until one is refused (ECONNREFUSED: ICMP port unreachable came
      back); prints "refused after N"; exit 1 on a reply or if none was.
"""
import argparse
import os
import socket
import sys
import time

SIZES = [0, 1, 100, 1400, 512, 7, 1000, 64]


def family_of(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET


def exchange(s, dst, payload, tries=3):
    for _ in range(tries):
        s.sendto(payload, dst)
        s.settimeout(2)
        try:
            while True:
                data, src = s.recvfrom(65536)
                if src[0] == dst[0] and src[1] == dst[1] and data == payload:
                    return True
                print(f"unexpected datagram from {src[:2]} ({len(data)} bytes)", file=sys.stderr)
        except socket.timeout:
            continue
    return False


def resolve(name, family):
    try:
        socket.inet_pton(socket.AF_INET6 if ':' in name else socket.AF_INET, name)
        return name
    except OSError:
        fam = socket.AF_INET6 if family == 6 else socket.AF_INET
        addr = socket.getaddrinfo(name, None, fam, socket.SOCK_DGRAM)[0][4][0]
        print(f"{name} is {addr}")
        return addr


def client(args):
    for name in args.addrs:
        addr = resolve(name, args.family)
        dst = (addr, args.port)
        socks = [socket.socket(family_of(addr), socket.SOCK_DGRAM) for _ in range(args.sockets)]
        n = 0
        for i in range(args.count):
            for s in socks:
                payload = os.urandom(SIZES[i % len(SIZES)])
                if not exchange(s, dst, payload):
                    print(f"no echo from {addr} for datagram {i} ({len(payload)} bytes)",
                          file=sys.stderr)
                    return 1
                n += 1
        if args.pause:
            time.sleep(args.pause)
            for s in socks:
                if not exchange(s, dst, os.urandom(32)):
                    print(f"no echo from {addr} after the pause", file=sys.stderr)
                    return 1
                n += 1
        for s in socks:
            s.close()
        print(f"ok {name} sockets {args.sockets} datagrams {n}")
    return 0


def refused(args):
    s = socket.socket(family_of(args.addr), socket.SOCK_DGRAM)
    s.connect((args.addr, args.port))
    s.settimeout(1)
    for i in range(1, 11):
        try:
            s.send(b"anyone?")
            data = s.recv(65536)
            print(f"unexpected reply ({len(data)} bytes)", file=sys.stderr)
            return 1
        except ConnectionRefusedError:
            print(f"refused after {i}")
            return 0
        except socket.timeout:
            continue
    print("never refused", file=sys.stderr)
    return 1


def echo(args):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", args.port))
    with open(args.ready, "w") as f:
        f.write("ready\n")
    while True:
        data, src = s.recvfrom(65536)
        s.sendto(data, src)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("echo")
    e.add_argument("--port", type=int, required=True)
    e.add_argument("--ready", required=True)
    c = sub.add_parser("client")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--count", type=int, default=10)
    c.add_argument("--sockets", type=int, default=1)
    c.add_argument("--pause", type=float, default=0)
    c.add_argument("--family", type=int, choices=(4, 6), default=4)
    c.add_argument("addrs", nargs="+")
    q = sub.add_parser("refused")
    q.add_argument("--port", type=int, required=True)
    q.add_argument("addr")
    a = p.parse_args()
    return {"echo": echo, "client": client, "refused": refused}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
