#!/usr/bin/env python3
"""Tiny UDP probe for the e2e tests (IPv4 and IPv6).

recv: bind PORT, wait up to TIMEOUT for one datagram, print "SRC_IP:SRC_PORT PAYLOAD",
      optionally echo it back (--echo). Touches --ready FILE once bound.
send: send PAYLOAD to TO:PORT (from --sport if non-zero), wait up to TIMEOUT for a
      reply unless --no-reply; print "SRC_IP:SRC_PORT" of the reply. Exit 1 on timeout.
"""
import argparse
import socket
import sys


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def fmt(a):
    host, port = a[0], a[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["recv", "send"])
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--to")
    p.add_argument("--sport", type=int, default=0)
    p.add_argument("--payload", default="ping")
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--echo", action="store_true")
    p.add_argument("--no-reply", action="store_true")
    p.add_argument("--ready")
    a = p.parse_args()

    if a.mode == "recv":
        s = socket.socket(family(a.bind), socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a.bind, a.port))
        if a.ready:
            open(a.ready, "w").close()
        s.settimeout(a.timeout)
        try:
            data, src = s.recvfrom(65535)
        except socket.timeout:
            return 1
        print(fmt(src), data.decode(errors="replace"), flush=True)
        if a.echo:
            s.sendto(data, src)
        return 0

    s = socket.socket(family(a.to), socket.SOCK_DGRAM)
    if a.sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::" if family(a.to) == socket.AF_INET6 else "0.0.0.0", a.sport))
    s.settimeout(a.timeout)
    try:
        s.sendto(a.payload.encode(), (a.to, a.port))
    except OSError as e:
        print(f"send: {e}", file=sys.stderr)
        return 1
    if a.no_reply:
        return 0
    try:
        data, src = s.recvfrom(65535)
    except (socket.timeout, OSError):
        return 1
    print(fmt(src))
    return 0 if data.decode(errors="replace") == a.payload else 1


if __name__ == "__main__":
    sys.exit(main())
