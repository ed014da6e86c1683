#!/usr/bin/python3
"""Half-close-preserving SOCKS5 + HTTP CONNECT proxy for the e2e suite (stdlib).

microsocks (1.0.3) and tinyproxy (1.11) tear the whole tunnel down as soon as
either side sends FIN, so they cannot show whether proxyvpn itself keeps a
half-closed connection working. This proxy relays each direction on its own
and forwards a FIN as shutdown(SHUT_WR) on the other socket; the tunnel ends
when both directions have ended.

  --socks PORT   SOCKS5, no authentication, CONNECT to IPv4/IPv6 literals
  --http PORT    HTTP CONNECT, requires Basic --user/--password (else 407)
"""
import argparse
import base64
import errno
import ipaddress
import signal
import socket
import socketserver
import struct
import threading

TIMEOUT = 120


def recv_exact(s, n):
    buf = bytearray()
    while len(buf) < n:
        c = s.recv(n - len(buf))
        if not c:
            raise ConnectionError("short read")
        buf += c
    return bytes(buf)


def pump(src, dst, done):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        for s in (src, dst):  # abort both directions on an error
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    finally:
        done.release()


def relay(a, b):
    a.settimeout(TIMEOUT)
    b.settimeout(TIMEOUT)
    done = threading.Semaphore(0)
    t = threading.Thread(target=pump, args=(b, a, done), daemon=True)
    t.start()
    pump(a, b, done)
    done.acquire()
    done.acquire()


def open_upstream(host, port):
    fam = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port))
    return s


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024


class Socks5(socketserver.BaseRequestHandler):
    def handle(self):
        c = self.request
        c.settimeout(TIMEOUT)
        up = None
        try:
            ver, nm = recv_exact(c, 2)
            methods = recv_exact(c, nm)
            if ver != 5 or 0 not in methods:
                c.sendall(b"\x05\xff")
                return
            c.sendall(b"\x05\x00")
            ver, cmd, _, atyp = recv_exact(c, 4)
            if atyp == 1:
                host = socket.inet_ntop(socket.AF_INET, recv_exact(c, 4))
            elif atyp == 4:
                host = socket.inet_ntop(socket.AF_INET6, recv_exact(c, 16))
            elif atyp == 3:
                # A name, resolved here (t-errors.sh: the namespace's
                # resolv.conf names a dnsmasq that knows one name); one we
                # cannot resolve gets what dante answers: host unreachable.
                (n,) = recv_exact(c, 1)
                name = recv_exact(c, n).decode("ascii", "replace")
                try:
                    host = socket.getaddrinfo(name, None, socket.AF_INET,
                                              socket.SOCK_STREAM)[0][4][0]
                except socket.gaierror:
                    recv_exact(c, 2)
                    c.sendall(b"\x05\x04\x00\x01" + bytes(6))
                    return
            else:
                c.sendall(b"\x05\x08\x00\x01" + bytes(6))
                return
            (port,) = struct.unpack(">H", recv_exact(c, 2))
            if cmd != 1:
                c.sendall(b"\x05\x07\x00\x01" + bytes(6))
                return
            try:
                up = open_upstream(host, port)
            except OSError as e:
                rep = {errno.ECONNREFUSED: 5, errno.ENETUNREACH: 3,
                       errno.EHOSTUNREACH: 4}.get(e.errno, 1)
                c.sendall(bytes([5, rep, 0, 1]) + bytes(6))
                return
            c.sendall(b"\x05\x00\x00\x01" + bytes(6))
            relay(c, up)
        except (OSError, ValueError):
            pass
        finally:
            if up is not None:
                up.close()


class HttpConnect(socketserver.BaseRequestHandler):
    auth = None

    def reply(self, status):
        self.request.sendall(("HTTP/1.1 %s\r\nContent-Length: 0\r\n"
                              "Proxy-Authenticate: Basic realm=\"e2e\"\r\n\r\n"
                              % status).encode()
                             if status.startswith("407") else
                             ("HTTP/1.1 %s\r\nContent-Length: 0\r\n\r\n" % status).encode())

    def handle(self):
        c = self.request
        c.settimeout(TIMEOUT)
        up = None
        try:
            head = bytearray()
            while not head.endswith(b"\r\n\r\n"):
                b = c.recv(1)
                if not b or len(head) > 65536:
                    return
                head += b
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            hdrs = {}
            for ln in lines[1:]:
                if ":" in ln:
                    k, v = ln.split(":", 1)
                    hdrs[k.strip().lower()] = v.strip()
            if method != "CONNECT":
                self.reply("405 Method Not Allowed")
                return
            if hdrs.get("proxy-authorization") != "Basic " + self.auth:
                self.reply("407 Proxy Authentication Required")
                return
            host, _, port = target.rpartition(":")
            host = host.strip("[]")
            try:
                up = open_upstream(host, int(port))
            except (OSError, ValueError):
                self.reply("502 Bad Gateway")
                return
            c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            relay(c, up)
        except (OSError, ValueError):
            pass
        finally:
            if up is not None:
                up.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--socks", type=int, required=True)
    ap.add_argument("--http", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    a = ap.parse_args()
    HttpConnect.auth = base64.b64encode(("%s:%s" % (a.user, a.password)).encode()).decode()
    servers = [Server((a.listen, a.socks), Socks5), Server((a.listen, a.http), HttpConnect)]
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(3600):
        pass


if __name__ == "__main__":
    main()
