#!/usr/bin/python3
"""Destination-side servers for the proxyvpn e2e suite (python3 stdlib only).

Runs in the DST namespace; every listener is dual-stack (bound to "::").

  --http PORT   GET /<file> from --root; PUT or POST (any path) is an upload
                sink: it reads Content-Length bytes (or chunked) and replies
                with the sha256 hex of what it got.
  --echo PORT   framed echo: repeatedly reads a 4-byte big-endian length and
                that many bytes, replies sha256(payload) (32 raw bytes) +
                payload; a clean EOF ends the connection.
  --hc1 PORT    half-close (client first): reads to EOF, then sends
                sha256(received) (32 raw bytes) + shake_256(that digest) 1 MiB,
                then closes.
  --hc2 PORT    half-close (server first): sends shake_256(b"hc2") 1 MiB,
                shutdown(SHUT_WR), reads to EOF, appends
                "hc2 <nbytes> <sha256hex>" to --hc2-log, then closes.
  --sink PORT   reads to EOF and appends "sink <nbytes> <sha256hex> ok" (or
                error:<exception>) to --sink-log, then closes.
"""
import argparse
import hashlib
import http.server
import os
import signal
import socket
import socketserver
import struct
import sys
import threading

MIB = 1 << 20
IO_TIMEOUT = 120


def hc_reply(digest: bytes) -> bytes:
    return hashlib.shake_256(digest).digest(MIB)


HC2_PAYLOAD = hashlib.shake_256(b"hc2").digest(MIB)


class DualStackServer(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class DualStackHTTPServer(DualStackServer, http.server.HTTPServer):
    pass


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 65536))
        if not chunk:
            return None if not buf else bytes(buf)
        buf += chunk
    return bytes(buf)


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(IO_TIMEOUT)
        try:
            while True:
                hdr = recv_exact(s, 4)
                if hdr is None or len(hdr) < 4:
                    return
                (n,) = struct.unpack(">I", hdr)
                if n > 16 * MIB:
                    return
                data = recv_exact(s, n)
                if data is None or len(data) < n:
                    return
                s.sendall(hashlib.sha256(data).digest() + data)
        except OSError:
            return


class HC1Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.settimeout(IO_TIMEOUT)
        h = hashlib.sha256()
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                h.update(chunk)
            d = h.digest()
            s.sendall(d + hc_reply(d))
        except OSError:
            return


class LoggedSink(socketserver.BaseRequestHandler):
    """Reads to EOF and appends "<tag> <nbytes> <sha256hex> <status>" to log_path.
    before() runs first (hc2 sends its payload and half-closes there)."""
    tag = None
    log_path = None
    lock = threading.Lock()

    def before(self, s):
        pass

    def handle(self):
        s = self.request
        s.settimeout(IO_TIMEOUT)
        h = hashlib.sha256()
        n = 0
        status = "ok"
        try:
            self.before(s)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
        except OSError as e:
            status = "error:%s" % (e.__class__.__name__,)
        with self.lock, open(self.log_path, "a") as f:
            f.write("%s %d %s %s\n" % (self.tag, n, h.hexdigest(), status))


class HC2Handler(LoggedSink):
    tag = "hc2"

    def before(self, s):
        s.sendall(HC2_PAYLOAD)
        s.shutdown(socket.SHUT_WR)


class SinkHandler(LoggedSink):
    tag = "sink"


class HTTPHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _sink(self):
        h = hashlib.sha256()
        n = 0
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    chunk = self.rfile.read(min(left, 65536))
                    if not chunk:
                        raise ConnectionError("short chunk")
                    h.update(chunk)
                    n += len(chunk)
                    left -= len(chunk)
                self.rfile.readline(16)
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    raise ConnectionError("short body")
                h.update(chunk)
                n += len(chunk)
                left -= len(chunk)
        body = (h.hexdigest() + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Received-Bytes", str(n))
        self.end_headers()
        self.wfile.write(body)

    do_PUT = _sink
    do_POST = _sink


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--http", type=int, required=True)
    ap.add_argument("--echo", type=int, required=True)
    ap.add_argument("--hc1", type=int, required=True)
    ap.add_argument("--hc2", type=int, required=True)
    ap.add_argument("--hc2-log", required=True)
    ap.add_argument("--sink", type=int, required=True)
    ap.add_argument("--sink-log", required=True)
    a = ap.parse_args()

    HC2Handler.log_path = a.hc2_log
    SinkHandler.log_path = a.sink_log
    root = os.path.abspath(a.root)

    def http_handler(*args, **kw):
        return HTTPHandler(*args, directory=root, **kw)

    servers = [
        DualStackHTTPServer(("::", a.http), http_handler),
        DualStackServer(("::", a.echo), EchoHandler),
        DualStackServer(("::", a.hc1), HC1Handler),
        DualStackServer(("::", a.hc2), HC2Handler),
        DualStackServer(("::", a.sink), SinkHandler),
    ]
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(3600):
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
