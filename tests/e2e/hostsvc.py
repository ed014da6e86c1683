#!/usr/bin/env python3
"""Stand-ins for host services, for t-hostsvc.sh and t-execfs.sh (always run
inside a test's private mount namespace, never at the host's paths).

  hostsvc.py listen READY PATH...   a stream listener at each PATH (parent
                                    directories made); touches READY once all
                                    listen; accepts and closes until killed
  hostsvc.py probe PATH...          one line per PATH: "PATH reachable" or
                                    "PATH unreachable ERRNO-NAME" (@PATH: abstract)
  hostsvc.py bus READY LOG NAME...  on the system bus ($DBUS_SYSTEM_BUS_ADDRESS),
                                    owns each NAME and serves
                                    org.freedesktop.resolve1.Manager.ResolveHostname
                                    at /org/freedesktop/resolve1 (answer
                                    203.0.113.7), appending each call's name to LOG
"""
import errno
import os
import socket
import sys


def listen(ready, paths):
    socks = []
    for p in paths:
        os.makedirs(os.path.dirname(p), exist_ok=True)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(p)
        s.listen(64)
        socks.append(s)
    open(ready, "w").close()
    import selectors
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            c, _ = key.fileobj.accept()
            c.close()


def probe(paths):
    for p in paths:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        addr = "\0" + p[1:] if p.startswith("@") else p
        try:
            s.connect(addr)
            print(p, "reachable")
        except OSError as e:
            print(p, "unreachable", errno.errorcode.get(e.errno, str(e.errno)))
        finally:
            s.close()


def bus(ready, log, names):
    import dbus
    import dbus.service
    import dbus.mainloop.glib
    from gi.repository import GLib

    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    conn = dbus.SystemBus()

    class Resolve(dbus.service.Object):
        @dbus.service.method("org.freedesktop.resolve1.Manager",
                             in_signature="isit", out_signature="a(iiay)st")
        def ResolveHostname(self, ifindex, name, family, flags):
            with open(log, "a") as f:
                f.write(str(name) + "\n")
            return ([(0, socket.AF_INET, dbus.ByteArray(bytes([203, 0, 113, 7])))],
                    name, dbus.UInt64(0))

    keep = [dbus.service.BusName(n, conn) for n in names]
    obj = Resolve(conn, "/org/freedesktop/resolve1")
    open(ready, "w").close()
    GLib.MainLoop().run()
    del keep, obj


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "listen":
        listen(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 3 and sys.argv[1] == "probe":
        probe(sys.argv[2:])
    elif len(sys.argv) >= 5 and sys.argv[1] == "bus":
        bus(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
