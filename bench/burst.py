#!/usr/bin/python3
"""Open N connections at once and hold them (bench/run.sh, burst test).

  burst.py HOST PORT -n N --sync DIR [--hold S] [--timeout S] [--path P]

Starts all N connects together (asyncio: nothing waits for another), and on
each, as soon as it is open, one HTTP/1.1 keep-alive request for P (default
/1k) whose whole reply is read: "open and echoing". Once every connection
has succeeded or failed, writes DIR/open ("<held> <failed> <seconds>": the
time from the first connect until the last one echoed), waits for
DIR/release (bounded by --timeout), holds S more seconds (default 10), then
sends a second request on every held connection and prints one line:

  burst n N held H failed F open_s T alive A errors {kind: count}

Exit 0 if all N were held and all were still alive after the hold, else 1.
python3 stdlib only; every wait is bounded.
"""
import argparse
import asyncio
import os
import sys
import time


async def request(r, w, host, path):
    w.write(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path.encode(), host.encode()))
    await w.drain()
    head = await r.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    await r.readexactly(length)
    if not head.startswith(b"HTTP/1.1 200"):
        raise ValueError(head.split(b"\r\n")[0].decode(errors="replace"))


async def wait_file(path, timeout):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def kind(e):
    return "%s: %s" % (e.__class__.__name__, e) if str(e) else e.__class__.__name__


async def main(a):
    conns, errors = [], {}
    t0 = time.monotonic()

    async def one():
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(a.host, a.port), a.timeout)
            await asyncio.wait_for(request(r, w, a.host, a.path), a.timeout)
            conns.append((r, w))
        except Exception as e:  # counted by kind: the report says what failed
            errors[kind(e)] = errors.get(kind(e), 0) + 1

    await asyncio.gather(*(one() for _ in range(a.n)))
    t_open = time.monotonic() - t0
    with open(os.path.join(a.sync, "open"), "w", encoding="utf-8") as f:
        f.write("%d %d %.3f\n" % (len(conns), a.n - len(conns), t_open))
    await wait_file(os.path.join(a.sync, "release"), a.timeout)
    await asyncio.sleep(a.hold)

    async def again(r, w):
        try:
            await asyncio.wait_for(request(r, w, a.host, a.path), a.timeout)
            return True
        except Exception as e:
            errors["after the hold: " + kind(e)] = errors.get("after the hold: " + kind(e), 0) + 1
            return False

    alive = sum(await asyncio.gather(*(again(r, w) for r, w in conns)))
    for _, w in conns:
        w.close()
    print("burst n %d held %d failed %d open_s %.3f alive %d errors %s"
          % (a.n, len(conns), a.n - len(conns), t_open, alive, errors))
    return 0 if len(conns) == a.n and alive == a.n else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("-n", type=int, required=True)
    ap.add_argument("--sync", required=True)
    ap.add_argument("--hold", type=float, default=10)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--path", default="/1k")
    sys.exit(asyncio.run(main(ap.parse_args())))
