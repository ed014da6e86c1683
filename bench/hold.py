#!/usr/bin/python3
"""Open idle TCP connections in steps and hold them (bench/run.sh, memory test).

  hold.py HOST PORT --counts N1,N2,... --sync DIR [--inflight K] [--timeout S]

For each count Ni in turn: open connections until Ni are established (at
most K connects in flight), write DIR/open<i> ("<established> <failed>"),
then wait for DIR/release<i> before the next step. After the last step,
close everything and exit: 0 if every connect succeeded, 1 otherwise.
Nothing is ever sent: the connections stay idle. Every wait is bounded by
--timeout seconds (default 120). python3 stdlib only.
"""
import argparse
import errno
import os
import selectors
import socket
import sys
import time


def wait_file(path, deadline):
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def open_until(host, port, want, held, inflight, deadline):
    """Connect until len(held) == want; returns the number of failures."""
    sel = selectors.DefaultSelector()
    pending = 0
    failed = 0
    while len(held) + pending < want or pending:
        while len(held) + pending < want and pending < inflight:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex((host, port))
            if rc == 0:  # proxychains' connect() returns once the tunnel is up
                held.append(s)
            elif rc in (errno.EINPROGRESS, errno.EAGAIN):
                sel.register(s, selectors.EVENT_WRITE)
                pending += 1
            else:
                failed += 1
                s.close()
                if failed > want:
                    return failed
        if not pending:
            continue
        if time.monotonic() > deadline:
            print(f"hold: {pending} connects still pending at the deadline", file=sys.stderr)
            return failed + pending
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            sel.unregister(s)
            pending -= 1
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                held.append(s)
            else:
                failed += 1
                s.close()
                if failed > want:
                    return failed
    sel.close()
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--counts", required=True)
    ap.add_argument("--sync", required=True)
    ap.add_argument("--inflight", type=int, default=256)
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()
    counts = [int(c) for c in a.counts.split(",")]
    held = []
    failed = 0
    for i, n in enumerate(counts, 1):
        deadline = time.monotonic() + a.timeout
        t0 = time.monotonic()
        failed += open_until(a.host, a.port, n, held, a.inflight, deadline)
        print(f"hold: step {i}: {len(held)} established, {failed} failed so far, "
              f"{time.monotonic() - t0:.2f} s", flush=True)
        tmp = os.path.join(a.sync, f".open{i}")
        with open(tmp, "w", encoding="ascii") as f:
            f.write(f"{len(held)} {failed}\n")
        os.rename(tmp, os.path.join(a.sync, f"open{i}"))
        if not wait_file(os.path.join(a.sync, f"release{i}"), time.monotonic() + a.timeout):
            print(f"hold: no release{i} within {a.timeout:.0f} s", file=sys.stderr)
            return 1
    for s in held:
        s.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
