#!/usr/bin/python3
"""Malformed-packet injector for t-malformed.sh (python3 stdlib only).

Runs in the network namespace of a `proxyvpn exec` command (the test enters
it with nsenter: the command itself has no capabilities, not even in its own
user namespace, so it cannot open a packet socket). Writes IP packets
straight into tun0 through an AF_PACKET SOCK_DGRAM socket: what the
namespace "sends" on tun0 is what the engine reads from its TUN fd.

  malformed.py --port P [--flows N] [--rounds R] [--seconds T] [--min-rounds M]

1. Finds the N live flows to remote port P (ESTABLISHED in /proc/net/tcp
   and /proc/net/tcp6) and learns each one's sequence numbers by sniffing
   the app's own ACKs on tun0 once, before sending anything (the app only
   ACKs while it downloads, so its sequence number stays put).
2. Sends up to R rounds (stopping after T seconds; fewer than M rounds is
   a failure) of: broken IPv4/IPv6 headers (lengths, IHL, version,
   header checksum, truncation, fragments, IPv6 extension-header chains
   too long or overrunning, routing headers, fragment headers), non-TCP
   protocols, broken TCP headers (data offset < 5 or past the packet,
   options overrunning or of length 0/1, short segments), bad TCP
   checksums, SYN+FIN, SYN+RST, RST out of window and in window but not
   exact, SYN in window, odd flag sets, all aimed at the live flows, plus
   random garbage. Nothing it sends may be acceptable to a correct TCP:
   no RST at the exact sequence number, no data with a valid checksum. An
   RST at the exact sequence number does go inside every packet a correct
   IP or TCP parser must reject, so that accepting one kills a flow.
3. Checks that the N flows are still ESTABLISHED afterwards (the barrage
   happened while they ran) and prints one line per class:
   "sent <class> <count>", then "tun-tx-dropped <count>" (packets tun0
   dropped while we ran, of ours or the app's: the engine never saw them).
Classes: ip-bad (every one fails the engine's IP parser), non-tcp,
tcp-bad-csum (valid IP and TCP header, wrong TCP checksum), tcp-bad-hdr,
flow-odd (valid packets aimed at live flows: RSTs, SYNs, odd flags),
garbage (random bytes; not counted in any class).
Exit status 0, or 1 with a message.
"""
import argparse
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG = 1, 2, 4, 8, 16, 32


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, payload, ihl=5, tot=None, frag=0x4000, hcsum=True, opts=b""):
    opts = opts + b"\0" * ((-len(opts)) % 4)
    hl = 20 + len(opts)
    if tot is None:
        tot = hl + len(payload)
    h = struct.pack("!BBHHHBBH4s4s", (4 << 4) | (ihl & 15), 0, tot & 0xFFFF, 0x1234, frag,
                    64, proto, 0, src, dst) + opts
    c = csum(h) if hcsum else (csum(h) ^ 0x5A5A) or 1
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def ip6(src, dst, nh, payload, plen=None, ext=b""):
    if plen is None:
        plen = len(ext) + len(payload)
    return struct.pack("!IHBB16s16s", 6 << 28, plen & 0xFFFF, nh, 64, src, dst) + ext + payload


def pseudo(fam, src, dst, proto, length):
    if fam == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


def tcp(fam, src, dst, sport, dport, seq, ack, flags, win=512, opts=b"", data=b"",
        doff=None, good_csum=True):
    opts = opts + b"\0" * ((-len(opts)) % 4)
    if doff is None:
        doff = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                    (doff & 15) << 4, flags, win, 0, 0) + opts
    seg = h + data
    c = csum(pseudo(fam, src, dst, 6, len(seg)) + seg)
    if not good_csum:
        c = (c ^ 0x0F0F) or 1
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(fam, src, dst, sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = csum(pseudo(fam, src, dst, 17, len(seg)) + seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def wrap(fam, src, dst, proto, l4):
    return ip4(src, dst, proto, l4) if fam == 4 else ip6(src, dst, proto, l4)


# ---- live flows ----

def proc_flows(port):
    """[(fam, local_ip_bytes, local_port, remote_ip_bytes)] ESTABLISHED to remote :port."""
    out = []
    for fam, path in ((4, "/proc/net/tcp"), (6, "/proc/net/tcp6")):
        try:
            lines = open(path).read().splitlines()[1:]
        except OSError:
            continue
        for ln in lines:
            f = ln.split()
            loc, rem, st = f[1], f[2], f[3]
            if st != "01":
                continue
            la, lp = loc.split(":")
            ra, rp = rem.split(":")
            if int(rp, 16) != port:
                continue

            def addr(h):
                b = bytes.fromhex(h)
                return b"".join(b[i:i + 4][::-1] for i in range(0, len(b), 4))
            out.append((fam, addr(la), int(lp, 16), addr(ra)))
    return out


def tun_drops():
    for ln in open("/proc/net/dev").read().splitlines():
        if ln.strip().startswith("tun0:"):
            f = ln.split(":", 1)[1].split()
            return int(f[11])  # tx drop
    return 0


def sniff(sock, flows, timeout):
    """Learns (seq, ack) of each flow from the app's outgoing pure ACKs. Done
    once, before we send anything: our own packets leave through tun0 too,
    and learning from one of them (an RST at seq - 1, say) would turn the
    next "inexact" RST into an exact one."""
    want = {(fam, la, lp): None for fam, la, lp, _ in flows}
    deadline = time.monotonic() + timeout
    while any(v is None for v in want.values()):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        pkt = sock.recv(65536)
        if not pkt:
            continue
        v = pkt[0] >> 4
        if v == 4 and len(pkt) >= 40 and pkt[9] == 6:
            hl = (pkt[0] & 15) * 4
            key, l4 = (4, pkt[12:16], None), pkt[hl:]
        elif v == 6 and len(pkt) >= 60 and pkt[6] == 6:
            key, l4 = (6, pkt[8:24], None), pkt[40:]
        else:
            continue
        if len(l4) < 20:
            continue
        sport, _, seq, ack = struct.unpack("!HHII", l4[:12])
        k = (key[0], key[1], sport)
        if k in want and l4[13] & (TCP_SYN | TCP_RST | TCP_FIN | TCP_ACK) == TCP_ACK:
            want[k] = (seq, ack)
    return want


# ---- the barrage ----

def barrage(rng, flows, state, counts):
    """Yields packets; counts[class] += 1 for each."""
    def emit(cls, pkt):
        counts[cls] = counts.get(cls, 0) + 1
        return pkt

    for fam, la, lp, ra in flows:
        seq, ack = state[(fam, la, lp)]
        rp = ARGS.port
        src, dst = la, ra

        def seg(flags, s=seq, a=ack, **kw):
            return wrap(fam, src, dst, 6, tcp(fam, src, dst, lp, rp, s, a, flags, **kw))

        # valid IP + TCP, aimed at the live flow, none acceptable
        for off in (1, 2, 100, 1000, 10000, 60000):
            yield emit("flow-odd", seg(TCP_RST, seq + off))               # in window, inexact
            yield emit("flow-odd", seg(TCP_RST | TCP_ACK, seq + off))
        for off in (1 << 31, (1 << 31) + 12345, 1 << 30, -1, -1000, -(1 << 20)):
            yield emit("flow-odd", seg(TCP_RST, seq + off))               # out of window
        for off in (1, 500, -1, 1 << 31):
            yield emit("flow-odd", seg(TCP_SYN | TCP_FIN, seq + off))
            yield emit("flow-odd", seg(TCP_SYN | TCP_RST, seq + off))
            yield emit("flow-odd", seg(TCP_SYN, seq + off))               # challenge ACK
            yield emit("flow-odd", seg(TCP_SYN | TCP_ACK, seq + off))
            yield emit("flow-odd", seg(0x3F & ~TCP_RST, seq + off))       # "christmas", no RST
        yield emit("flow-odd", seg(0))                                    # no flags at all
        yield emit("flow-odd", seg(TCP_ACK, a=ack + (1 << 30)))           # acks the future
        yield emit("flow-odd", seg(TCP_ACK, a=ack - (1 << 30)))           # acks the far past
        # bad TCP checksum, with data at the exact sequence number
        for n in (0, 1, 100, 1000):
            yield emit("tcp-bad-csum", seg(TCP_ACK | TCP_PSH, data=os.urandom(n), good_csum=False))
        yield emit("tcp-bad-csum", seg(TCP_RST, good_csum=False))         # exact RST, bad csum
        yield emit("tcp-bad-csum", seg(TCP_ACK | TCP_FIN, good_csum=False))
        # broken TCP headers (valid checksums)
        for d in (0, 1, 2, 3, 4):
            yield emit("tcp-bad-hdr", seg(TCP_RST, doff=d))               # data offset < 5
        for d in (6, 10, 15):
            l4 = tcp(fam, src, dst, lp, rp, seq, ack, TCP_ACK, doff=d)    # offset past the packet
            yield emit("tcp-bad-hdr", wrap(fam, src, dst, 6, l4))
        for opts in (bytes([2, 40, 5, 180]),            # MSS claiming 40 bytes in a 4-byte area
                     bytes([8, 0, 1, 1]),               # zero-length option
                     bytes([3, 1, 0, 0]),               # length 1
                     bytes([1, 1, 1, 5]),               # SACK kind, length missing
                     bytes([1, 1, 8, 10, 0, 0, 0, 0]),  # timestamp overrunning
                     bytes([5, 255]) + bytes(38)):      # SACK longer than the header
            yield emit("tcp-bad-hdr", seg(TCP_ACK, opts=opts))
            yield emit("tcp-bad-hdr", seg(TCP_RST, opts=opts))
        for n in (0, 1, 8, 19):
            yield emit("tcp-bad-hdr", wrap(fam, src, dst, 6, os.urandom(n)))  # shorter than 20
        # Broken IP around a segment of this flow. "deadly" is an RST at the
        # exact sequence number: should the IP layer let one of these through,
        # the flow dies and the download fails. "good" (an inexact RST) goes
        # into packets that are valid IPv6 the engine may merely not walk.
        deadly = tcp(fam, src, dst, lp, rp, seq, ack, TCP_RST)
        good = tcp(fam, src, dst, lp, rp, seq + 1000, ack, TCP_RST)
        if fam == 4:
            for extra in (1, 7, 1000, 65535 - 40):
                yield emit("ip-bad", ip4(src, dst, 6, deadly, tot=20 + len(deadly) + extra))
            for tot in (0, 1, 19):
                yield emit("ip-bad", ip4(src, dst, 6, deadly, tot=tot))
            for ihl in (0, 1, 4):
                yield emit("ip-bad", ip4(src, dst, 6, deadly, ihl=ihl))
            yield emit("ip-bad", ip4(src, dst, 6, b"", ihl=15))              # IHL past the packet
            yield emit("ip-bad", ip4(src, dst, 6, deadly, hcsum=False))
            for frag in (0x2000, 0x2001, 0x0001, 0x1FFF, 0x6000):           # MF, offsets
                yield emit("ip-bad", ip4(src, dst, 6, deadly, frag=frag))
            for n in (1, 2, 10, 19):
                yield emit("ip-bad", ip4(src, dst, 6, deadly)[:n])
        else:
            for extra in (1, 8, 1000, 65535 - 40):
                yield emit("ip-bad", ip6(src, dst, 6, deadly, plen=len(deadly) + extra))
            for n in (1, 8, 39):
                yield emit("ip-bad", ip6(src, dst, 6, deadly)[:n])
            # extension-header chains: 9 to 40 hop-by-hop / destination options
            for k in (9, 12, 20, 40):
                ext = b""
                for i in range(k):
                    nxt = 6 if i == k - 1 else (0 if i % 2 else 60)
                    ext += bytes([nxt, 0, 1, 4]) + bytes(4)  # PadN, 8 bytes each
                yield emit("ip-bad", ip6(src, dst, 60, good, ext=ext))
            # an extension header whose length runs past the packet
            yield emit("ip-bad", ip6(src, dst, 0, deadly, ext=bytes([6, 200, 1, 4]) + bytes(4)))
            yield emit("ip-bad", ip6(src, dst, 60, b"", ext=bytes([6, 0, 1])))  # cut short
            # routing header with segments left, fragment headers
            yield emit("ip-bad", ip6(src, dst, 43, good, ext=bytes([6, 0, 0, 1]) + bytes(4)))
            yield emit("ip-bad", ip6(src, dst, 44, good, ext=bytes([6, 0, 0, 1]) + bytes(4)))
            yield emit("ip-bad", ip6(src, dst, 0, good,
                                     ext=bytes([44, 0, 1, 4]) + bytes(4) + bytes([6, 0, 0, 0]) + bytes(4)))
        # non-TCP protocols between the same addresses
        for proto, l4 in ((17, udp(fam, src, dst, lp, rp, b"udp")),
                          (1 if fam == 4 else 58, bytes([8, 0, 0, 0, 0, 1, 0, 1])),
                          (47, bytes(8)), (132, bytes(16)), (255, b"x"), (59, b"")):
            yield emit("non-tcp", wrap(fam, src, dst, proto, l4))

    # random garbage
    for _ in range(40):
        n = rng.randrange(0, 200)
        b = bytearray(os.urandom(n))
        if b and rng.random() < 0.7:
            b[0] = (b[0] & 0x0F) | (rng.choice((4, 6)) << 4)
        if b:
            yield emit("garbage", bytes(b))


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--flows", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--min-rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=None)
    ARGS = a = ap.parse_args()
    rng = random.Random(a.seed)

    deadline = time.monotonic() + 30
    while True:
        flows = proc_flows(a.port)
        if len(flows) >= a.flows:
            break
        if time.monotonic() > deadline:
            print("malformed: found %d live flows to :%d, want %d" % (len(flows), a.port, a.flows))
            return 1
        time.sleep(0.05)
    print("malformed: live flows: %s" % ", ".join(
        "%s:%d" % (socket.inet_ntop(socket.AF_INET if f == 4 else socket.AF_INET6, la), lp)
        for f, la, lp, _ in flows))

    sn = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    sn.bind(("tun0", ETH_P_ALL))
    tx4 = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    tx6 = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IPV6))
    tx4.bind(("tun0", ETH_P_IP))
    tx6.bind(("tun0", ETH_P_IPV6))
    # The app only ACKs while it downloads: its sequence number stays put,
    # so one look at each flow serves every round.
    state = sniff(sn, flows, 10)
    sn.close()
    missing = [k for k, v in state.items() if v is None]
    if missing:
        print("malformed: no ACK seen from %d flow(s) in 10 s" % len(missing))
        return 1
    want = {(f, la, lp) for f, la, lp, _ in flows}
    counts = {}
    drops0 = tun_drops()
    sent = 0
    t0 = time.monotonic()
    rounds = 0
    for rnd in range(a.rounds):
        if time.monotonic() - t0 > a.seconds:
            break
        if not want <= {(f, la, lp) for f, la, lp, _ in proc_flows(a.port)}:
            break  # reported below
        batch = 0
        for pkt in barrage(rng, flows, state, counts):
            # the protocol field only picks the socket; tun passes the bytes on
            fam6 = bool(pkt) and (pkt[0] >> 4) == 6
            (tx6 if fam6 else tx4).sendto(pkt, ("tun0", ETH_P_IPV6 if fam6 else ETH_P_IP, 0, 0, b""))
            sent += 1
            batch += 1
            if batch == 100:  # pace: tun0 queues 500 packets for the engine
                batch = 0
                time.sleep(0.005)
        rounds += 1
    drops = tun_drops() - drops0
    alive = proc_flows(a.port)
    have = {(f, la, lp) for f, la, lp, _ in alive}
    for k in sorted(counts):
        print("sent %s %d" % (k, counts[k]))
    print("tun-tx-dropped %d" % drops)
    print("malformed: %d packets in %d rounds, %.1f s; %d of %d flows still established"
          % (sent, rounds, time.monotonic() - t0, len(want & have), len(want)))
    if not want <= have:
        print("malformed: the barrage outlasted (or killed) a live flow (round %d); now:" % rounds)
        names = {"01": "ESTABLISHED", "02": "SYN_SENT", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
                 "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK",
                 "0B": "CLOSING"}
        for path in ("/proc/net/tcp", "/proc/net/tcp6"):
            for ln in open(path).read().splitlines()[1:]:
                f = ln.split()
                if int(f[2].split(":")[1], 16) == a.port:
                    print("  %s local port %d %s tx/rx queue %s" % (
                        path, int(f[1].split(":")[1], 16), names.get(f[3], f[3]), f[4]))
        for k in sorted(want - have):
            print("  gone from ESTABLISHED: local port %d" % k[2])
        return 1
    if rounds < a.min_rounds:
        print("malformed: only %d rounds in %g s (want %d)" % (rounds, a.seconds, a.min_rounds))
        return 1
    return 0


if __name__ == "__main__":
    try:
        rc = main()
    except OSError as e:
        print("malformed: %s" % e)
        rc = 1
    sys.stdout.flush()
    sys.exit(rc)
