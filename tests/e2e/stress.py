#!/usr/bin/python3
"""asyncio servers, clients and a slow proxy for the e2e stress tests
(t-many, t-churn, t-slow, t-limits); python3 stdlib only.

One process holds thousands of connections, which the thread-per-connection
servers in server.py cannot. Every wait is bounded.

Servers (DST namespace, dual-stack on "::"):
  serve --echo P --req P --blast P --sink P [--ready FILE]
    echo   framed echo, as server.py --echo: a 4-byte big-endian length and
           that many bytes; reply sha256(payload) (32 bytes) + payload;
           repeated until the client's EOF
    req    one framed echo exchange, then the server closes first (so the
           client's close is the passive one and leaves no TIME_WAIT)
    blast  sends the 1 MiB block shake_256(b"blast") over and over, as fast
           as the client takes it, until the client goes away
    sink   reads an 8-byte big-endian length and that many bytes, replies
           sha256 of them (32 bytes), then waits for the client's EOF

Proxy (PRX namespace):
  socks --listen ADDR --port P --rate BYTES_PER_S [--rcvbuf N] [--ready FILE]
    SOCKS5 (no auth, CONNECT to IPv4/IPv6 literals) that forwards client ->
    upstream at most BYTES_PER_S per connection, with a small SO_RCVBUF so
    the kernel does not absorb megabytes ahead of it; upstream -> client is
    not limited. Half-close is passed on.

Clients (inside `proxyvpn exec`). --sync DIR: the client writes DIR/ready
once started and waits for DIR/go before connecting; at its phase points it
writes DIR/<mark> and, where it has a second phase, waits for DIR/<next>:
  many HOST PORT -n N --inflight K --sync DIR
    opens N connections, at most K connects (and first exchanges) in flight;
    each does one echo exchange at once; writes DIR/open, waits DIR/finish
    (--finish-timeout), then every connection does a second exchange
  churn HOST PORT --seconds S --parallel P --phases K --sync DIR
    K phases of S/K seconds; phase k waits DIR/go<k>, then P workers loop
    connect / one exchange on the req port / read EOF / close; prints the
    rate and writes DIR/done<k> ("<connections> <seconds>"); then waits
    DIR/exit. Any failed connection fails the run.
  slowread HOST PORT -n N --rate BYTES_PER_S --seconds S --sync DIR
    N connections to the blast port, each read at BYTES_PER_S and checked
    against the pattern; writes DIR/open once all are connected
  upload HOST PORT -n N --size BYTES [--within S] --sync DIR
    N connections to the sink, each sends BYTES as fast as it can; the
    sink's sha256 must match (all within S seconds, if given); writes
    DIR/open once all are connected
  limits HOST PORT --hold H --extra E --sync DIR
    (t-limits) H connections held, then E more started at once must wait
    (neither refused nor accepted after 2 s: their SYNs are dropped), the H
    still exchange, then half of them close: the E open and echo, and new
    connections work again
many, churn, slowread and upload also print tun0's packet and drop counts
over their run ("dropped at the TUN queue": the engine did not read tun0
fast enough and the kernel discarded the app's packets).
Exit status: 0 = expectation met, 1 = not met, 2 = usage.
"""
import argparse
import asyncio
import errno
import hashlib
import ipaddress
import os
import signal
import socket
import struct
import sys
import time

MIB = 1 << 20
BLAST = hashlib.shake_256(b"blast").digest(MIB)
IO_TIMEOUT = 60


def say(*args):
    print(*args, flush=True)


def tun0_counters():
    """(tx packets, tx dropped, rx packets, rx dropped) of tun0 in our network
    namespace, or None. tx: app -> engine (dropped: the engine's TUN queue was
    full); rx: engine -> app."""
    try:
        for ln in open("/proc/net/dev").read().splitlines():
            name, _, rest = ln.partition(":")
            if name.strip() == "tun0":
                f = [int(x) for x in rest.split()]
                return f[9], f[11], f[1], f[3]
    except (OSError, ValueError):
        pass
    return None


def say_tun0(before):
    now = tun0_counters()
    if before and now:
        say("tun0: app -> engine %d packets, %d dropped at the TUN queue; engine -> app %d "
            "packets, %d dropped" % tuple(n - b for n, b in zip(now, before)))


# ---- sync files ----

class Sync:
    def __init__(self, d):
        self.d = d

    def mark(self, name, text="ok\n"):
        if not self.d:
            return
        tmp = os.path.join(self.d, "." + name)
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, os.path.join(self.d, name))

    async def wait(self, name, timeout):
        if not self.d:
            return
        path = os.path.join(self.d, name)
        deadline = time.monotonic() + timeout
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                raise TimeoutError("%s did not appear within %g s" % (path, timeout))
            await asyncio.sleep(0.02)


# ---- servers ----

def listen_socket(host, port, rcvbuf=0, family=None):
    if family is None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((host, port))
    s.listen(4096)
    s.setblocking(False)
    return s


async def close_writer(w):
    try:
        w.close()
        await asyncio.wait_for(w.wait_closed(), 5)
    except (OSError, asyncio.TimeoutError):
        pass


async def h_echo(r, w, once=False):
    try:
        while True:
            try:
                hdr = await asyncio.wait_for(r.readexactly(4), 600)
            except asyncio.IncompleteReadError:
                return
            (n,) = struct.unpack(">I", hdr)
            if n > 16 * MIB:
                return
            data = await asyncio.wait_for(r.readexactly(n), IO_TIMEOUT)
            w.write(hashlib.sha256(data).digest() + data)
            await asyncio.wait_for(w.drain(), IO_TIMEOUT)
            if once:
                return
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        return
    finally:
        await close_writer(w)


async def h_req(r, w):
    await h_echo(r, w, once=True)


async def h_blast(r, w):
    try:
        while True:
            w.write(BLAST)
            await asyncio.wait_for(w.drain(), 600)
    except (OSError, asyncio.TimeoutError):
        pass
    finally:
        await close_writer(w)


async def h_sink(r, w):
    try:
        (n,) = struct.unpack(">Q", await asyncio.wait_for(r.readexactly(8), IO_TIMEOUT))
        h = hashlib.sha256()
        while n:
            chunk = await asyncio.wait_for(r.read(min(n, 1 << 16)), IO_TIMEOUT)
            if not chunk:
                return
            h.update(chunk)
            n -= len(chunk)
        w.write(h.digest())
        await asyncio.wait_for(w.drain(), IO_TIMEOUT)
        await asyncio.wait_for(r.read(1), IO_TIMEOUT)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        pass
    finally:
        await close_writer(w)


async def run_until_signal(servers, ready):
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if ready:
        Sync(os.path.dirname(ready)).mark(os.path.basename(ready), "%d\n" % os.getpid())
    await stop.wait()
    for s in servers:
        s.close()


async def cmd_serve(a):
    servers = []
    for port, h in ((a.echo, h_echo), (a.req, h_req), (a.blast, h_blast), (a.sink, h_sink)):
        if port:
            servers.append(await asyncio.start_server(h, sock=listen_socket("::", port)))
    await run_until_signal(servers, a.ready)
    return 0


# ---- rate-limited SOCKS5 proxy ----

async def pump(r, w, rate):
    """r -> w, at most rate bytes/s (0 = unlimited); passes EOF on."""
    t0 = time.monotonic()
    sent = 0
    try:
        while True:
            chunk = await r.read(16384)
            if not chunk:
                if w.can_write_eof():
                    w.write_eof()
                return
            w.write(chunk)
            await w.drain()
            sent += len(chunk)
            if rate:
                ahead = sent / rate - (time.monotonic() - t0)
                if ahead > 0:
                    await asyncio.sleep(ahead)
    except OSError:
        w.transport.abort()


async def h_socks(r, w, rate):
    up_w = None
    try:
        ver, nm = await asyncio.wait_for(r.readexactly(2), 10)
        methods = await r.readexactly(nm)
        if ver != 5 or 0 not in methods:
            w.write(b"\x05\xff")
            return
        w.write(b"\x05\x00")
        ver, cmd, _, atyp = await asyncio.wait_for(r.readexactly(4), 10)
        if atyp == 1:
            host = socket.inet_ntop(socket.AF_INET, await r.readexactly(4))
        elif atyp == 4:
            host = socket.inet_ntop(socket.AF_INET6, await r.readexactly(16))
        else:
            w.write(b"\x05\x08\x00\x01" + bytes(6))
            return
        (port,) = struct.unpack(">H", await r.readexactly(2))
        if cmd != 1:
            w.write(b"\x05\x07\x00\x01" + bytes(6))
            return
        try:
            up_r, up_w = await asyncio.wait_for(asyncio.open_connection(host, port), 10)
        except (OSError, asyncio.TimeoutError):
            w.write(b"\x05\x05\x00\x01" + bytes(6))
            return
        w.write(b"\x05\x00\x00\x01" + bytes(6))
        await asyncio.gather(pump(r, up_w, rate), pump(up_r, w, 0))
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        pass
    finally:
        if up_w is not None:
            await close_writer(up_w)
        await close_writer(w)


async def cmd_socks(a):
    async def h(r, w):
        await h_socks(r, w, a.rate)

    srv = await asyncio.start_server(h, sock=listen_socket(a.listen, a.port, a.rcvbuf))
    await run_until_signal([srv], a.ready)
    return 0


# ---- clients ----

def frame(payload):
    return struct.pack(">I", len(payload)) + payload


async def exchange(r, w, payload):
    w.write(frame(payload))
    await asyncio.wait_for(w.drain(), IO_TIMEOUT)
    want = hashlib.sha256(payload).digest() + payload
    got = await asyncio.wait_for(r.readexactly(len(want)), IO_TIMEOUT)
    if got != want:
        raise ValueError("echo reply mismatch")


async def connect(host, port, timeout=30):
    return await asyncio.wait_for(asyncio.open_connection(host, port), timeout)


def summarize(what, errors, limit=5):
    kinds = {}
    for e in errors:
        k = "%s" % (e,) if isinstance(e, str) else "%s: %s" % (e.__class__.__name__, e)
        kinds[k] = kinds.get(k, 0) + 1
    for k, c in sorted(kinds.items(), key=lambda kv: -kv[1])[:limit]:
        say("  %s: %d x %s" % (what, c, k))


async def cmd_many(a):
    sync = Sync(a.sync)
    sync.mark("ready")
    await sync.wait("go", 60)
    sem = asyncio.Semaphore(a.inflight)
    conns = [None] * a.n
    tun0 = tun0_counters()
    t0 = time.monotonic()

    failed = []

    async def open_one(i):
        async with sem:
            if failed:  # fail fast: no more connects after the first failure
                return "not tried: an earlier connection failed"
            try:
                r, w = await connect(a.host, a.port)
                conns[i] = (r, w)
                await exchange(r, w, b"open-%05d-" % i + os.urandom(32))
            except BaseException as e:
                failed.append(e)
                raise

    res = await asyncio.gather(*(open_one(i) for i in range(a.n)), return_exceptions=True)
    errs = [e for e in res if e is not None]
    dt = time.monotonic() - t0
    say("many: %d/%d connections open and echoed in %.1f s" % (a.n - len(errs), a.n, dt))
    if errs:
        say_tun0(tun0)
        summarize("open", errs)
        return 1
    sync.mark("open")
    await sync.wait("finish", a.finish_timeout)
    t0 = time.monotonic()

    async def final(i):
        r, w = conns[i]
        await exchange(r, w, b"final-%05d-" % i + os.urandom(32))
        w.close()

    res = await asyncio.gather(*(final(i) for i in range(a.n)), return_exceptions=True)
    errs = [e for e in res if e is not None]
    say("many: %d/%d connections still alive at the end (second exchange in %.1f s)"
        % (a.n - len(errs), a.n, time.monotonic() - t0))
    say_tun0(tun0)
    if errs:
        summarize("final", errs)
        return 1
    return 0


async def cmd_churn(a):
    sync = Sync(a.sync)
    sync.mark("ready")
    total = 0
    errs = []
    tun0 = tun0_counters()
    for phase in range(1, a.phases + 1):
        await sync.wait("go%d" % phase, 60)
        ok = 0
        t0 = time.monotonic()
        deadline = t0 + a.seconds / a.phases

        async def worker(k):
            nonlocal ok
            i = 0
            while time.monotonic() < deadline and len(errs) < 100:
                i += 1
                w = None
                try:
                    r, w = await connect(a.host, a.port, 10)
                    await exchange(r, w, b"churn-%d-%d-" % (k, i) + os.urandom(16))
                    if await asyncio.wait_for(r.read(1), 10) != b"":
                        raise ValueError("no EOF after the reply")
                    ok += 1
                except (OSError, ValueError, asyncio.TimeoutError,
                        asyncio.IncompleteReadError) as e:
                    errs.append(e)
                finally:
                    if w is not None:
                        w.close()

        await asyncio.gather(*(worker(k) for k in range(a.parallel)))
        dt = time.monotonic() - t0
        total += ok
        say("churn phase %d: %d connections in %.1f s = %.0f/s (parallel %d), %d failed so far"
            % (phase, ok, dt, ok / dt, a.parallel, len(errs)))
        summarize("failed", errs)
        say_tun0(tun0)
        sync.mark("done%d" % phase, "%d %.3f\n" % (ok, dt))
        if errs:
            return 1
    await sync.wait("exit", 120)
    return 0 if total else 1


async def cmd_slowread(a):
    sync = Sync(a.sync)
    sync.mark("ready")
    await sync.wait("go", 60)
    tun0 = tun0_counters()
    conns = []
    for _ in range(a.n):
        conns.append(await connect(a.host, a.port))
    sync.mark("open")
    t0 = time.monotonic()

    async def reader(r, w):
        got = 0
        while True:
            el = time.monotonic() - t0
            if el >= a.seconds:
                break
            allowance = int(a.rate * el) - got
            if allowance <= 0:
                await asyncio.sleep(min(0.05, a.seconds - el))
                continue
            chunk = await asyncio.wait_for(r.read(min(allowance, 16384)), IO_TIMEOUT)
            if not chunk:
                raise ValueError("EOF after %d bytes" % got)
            off = got % MIB
            want = (BLAST[off:] + BLAST)[:len(chunk)]
            if chunk != want:
                raise ValueError("data mismatch at offset %d" % got)
            got += len(chunk)
        w.close()
        return got

    res = await asyncio.gather(*(reader(r, w) for r, w in conns), return_exceptions=True)
    errs = [e for e in res if not isinstance(e, int)]
    got = [g for g in res if isinstance(g, int)]
    dt = time.monotonic() - t0
    say("slowread: %d connections read %.2f MB in %.1f s (%.0f KB/s each), data checked"
        % (len(got), sum(got) / 1e6, dt, sum(got) / max(len(got), 1) / dt / 1e3))
    say_tun0(tun0)
    if errs:
        summarize("reader", errs)
        return 1
    low = [g for g in got if g < a.rate * a.seconds * 0.8]
    if low:
        say("slowread: %d connections got less than 80%% of the rate (min %d bytes)"
            % (len(low), min(low)))
        return 1
    return 0


async def cmd_upload(a):
    sync = Sync(a.sync)
    sync.mark("ready")
    await sync.wait("go", 60)
    tun0 = tun0_counters()
    conns = []
    for _ in range(a.n):
        conns.append(await connect(a.host, a.port))
    sync.mark("open")
    t0 = time.monotonic()

    async def up(i, r, w):
        data = hashlib.shake_256(b"upload-%d" % i).digest(a.size)
        w.write(struct.pack(">Q", len(data)))
        chunk = 1 << 16
        for off in range(0, len(data), chunk):
            w.write(data[off:off + chunk])
            await asyncio.wait_for(w.drain(), IO_TIMEOUT)
        sent_at = time.monotonic() - t0
        got = await asyncio.wait_for(r.readexactly(32), IO_TIMEOUT)
        w.close()
        if got != hashlib.sha256(data).digest():
            raise ValueError("connection %d: sink sha256 differs" % i)
        return sent_at, time.monotonic() - t0

    res = await asyncio.gather(*(up(i, r, w) for i, (r, w) in enumerate(conns)),
                               return_exceptions=True)
    errs = [e for e in res if not isinstance(e, tuple)]
    done = [t for t in res if isinstance(t, tuple)]
    say_tun0(tun0)
    if done:
        say("upload: %d x %.1f MiB, all written by the app after %.1f s, sink sha256 ok "
            "for all after %.1f s" % (len(done), a.size / MIB, max(t[0] for t in done),
                                      max(t[1] for t in done)))
    if errs:
        summarize("upload", errs)
        return 1
    if a.within and max(t[1] for t in done) > a.within:
        say("upload: took longer than %g s" % a.within)
        return 1
    return 0


async def cmd_limits(a):
    sync = Sync(a.sync)
    sync.mark("ready")
    await sync.wait("go", 60)
    held = []
    for i in range(a.hold):
        r, w = await connect(a.host, a.port)
        await exchange(r, w, b"held-%d" % i)
        held.append((r, w))
    say("limits: %d connections open" % len(held))
    bad = 0

    async def extra(i):
        r, w = await connect(a.host, a.port, 30)
        await exchange(r, w, b"extra-%d" % i)
        return r, w

    # Past the limit a SYN is dropped, not reset: the connects wait (the
    # kernel resends the SYN at 1 s, 3 s, 7 s ...), neither refused nor accepted.
    t0 = time.monotonic()
    extras = [asyncio.ensure_future(extra(i)) for i in range(a.extra)]
    await asyncio.sleep(2)
    early = [t for t in extras if t.done()]
    for t in early:
        e = t.exception()
        say("limits: an extra connection ended while the table was full: %s"
            % ("accepted" if e is None else "%s: %s" % (e.__class__.__name__, e)))
    bad += len(early)
    say("limits: %d extra connections waiting after 2 s, %d ended" % (a.extra - len(early), len(early)))
    res = await asyncio.gather(*(exchange(r, w, b"again-%d" % i)
                                 for i, (r, w) in enumerate(held)), return_exceptions=True)
    errs = [e for e in res if e is not None]
    say("limits: %d/%d held connections still exchange" % (len(held) - len(errs), len(held)))
    if errs:
        summarize("held", errs)
        bad += 1
    # Room for the waiting ones: they open on their next SYN.
    for r, w in held[:len(held) // 2]:
        w.close()
        await w.wait_closed()
    held = held[len(held) // 2:]
    res = await asyncio.gather(*extras, return_exceptions=True)
    errs = [e for e in res if isinstance(e, BaseException)]
    say("limits: after closing half, %d/%d waiting connections opened and echoed, %.1f s after"
        " their connect" % (a.extra - len(errs), a.extra, time.monotonic() - t0))
    if errs:
        summarize("extra", errs)
        bad += 1
    for x in res:
        if not isinstance(x, BaseException):
            x[1].close()
    # The engine frees a flow once its FINs are through: retry for a bounded time.
    fresh = []
    deadline = time.monotonic() + 10
    while len(fresh) < 10 and time.monotonic() < deadline:
        try:
            r, w = await connect(a.host, a.port, 5)
            await exchange(r, w, b"fresh")
            fresh.append((r, w))
        except (OSError, asyncio.TimeoutError):
            await asyncio.sleep(0.1)
    say("limits: then %d/10 new connections work" % len(fresh))
    if len(fresh) < 10:
        bad += 1
    for r, w in held + fresh:
        w.close()
    return 0 if not bad else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("serve")
    for k in ("echo", "req", "blast", "sink"):
        p.add_argument("--" + k, type=int, default=0)
    p.add_argument("--ready")
    p = sub.add_parser("socks")
    p.add_argument("--listen", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--rate", type=int, default=0)
    p.add_argument("--rcvbuf", type=int, default=0)
    p.add_argument("--ready")
    for name in ("many", "churn", "slowread", "upload", "limits"):
        p = sub.add_parser(name)
        p.add_argument("host")
        p.add_argument("port", type=int)
        p.add_argument("--sync")
        if name == "many":
            p.add_argument("-n", type=int, default=5000)
            p.add_argument("--inflight", type=int, default=200)
            p.add_argument("--finish-timeout", type=float, default=600)
        elif name == "churn":
            p.add_argument("--seconds", type=float, default=60)
            p.add_argument("--parallel", type=int, default=64)
            p.add_argument("--phases", type=int, default=1)
        elif name == "slowread":
            p.add_argument("-n", type=int, default=16)
            p.add_argument("--rate", type=int, default=100000)
            p.add_argument("--seconds", type=float, default=12)
        elif name == "upload":
            p.add_argument("-n", type=int, default=8)
            p.add_argument("--size", type=int, default=12 * MIB)
            p.add_argument("--within", type=float, default=0)
        else:
            p.add_argument("--hold", type=int, default=100)
            p.add_argument("--extra", type=int, default=50)
    a = ap.parse_args()
    if a.cmd in ("many", "churn", "slowread", "upload", "limits"):
        ipaddress.ip_address(a.host)  # literals only: no DNS in the namespace
    fn = {"serve": cmd_serve, "socks": cmd_socks, "many": cmd_many, "churn": cmd_churn,
          "slowread": cmd_slowread, "upload": cmd_upload, "limits": cmd_limits}[a.cmd]
    try:
        rc = asyncio.run(fn(a))
    except Exception as e:  # unexpected failure: say what and fail
        say("%s: error: %s: %s" % (a.cmd, e.__class__.__name__, e))
        rc = 1
    sys.stdout.flush()
    sys.exit(rc)


if __name__ == "__main__":
    main()
