#!/usr/bin/env python3
"""Tiny UDP probe for the e2e tests (IPv4 and IPv6).

recv: bind PORT, wait up to TIMEOUT for one datagram, print "SRC_IP:SRC_PORT PAYLOAD",
      optionally echo it back (--echo). Touches --ready FILE once bound.
send: send PAYLOAD to TO:PORT (from --sport if non-zero), wait up to TIMEOUT for a
      reply unless --no-reply; print "SRC_IP:SRC_PORT" of the reply. Exit 1 on timeout.
ip-recv / ip-send: the same over a raw IPv4 socket of protocol --proto (e.g. 50 =
      ESP, 47 = GRE): for rules/port-forwards on protocols without ports. The payload
      is prefixed with a fake 8-byte ESP header (SPI --spi, seq 1). Output "SRC_IP PAYLOAD".
      (The kernel here has no ESP handler; a raw socket still gets every proto-50 packet.)
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
    p.add_argument("mode", choices=["recv", "send", "ip-recv", "ip-send"])
    p.add_argument("--proto", type=int, default=50)
    p.add_argument("--spi", type=lambda x: int(x, 0), default=0x1000)
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--to")
    p.add_argument("--sport", type=int, default=0)
    p.add_argument("--payload", default="ping")
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--echo", action="store_true")
    p.add_argument("--no-reply", action="store_true")
    p.add_argument("--ready")
    a = p.parse_args()

    if a.mode.startswith("ip-"):
        return raw(a)

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


def raw(a):
    import select
    import struct
    import time
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, a.proto)
    hdr = struct.pack("!II", a.spi, 1)

    def recv_one(deadline, want=None):
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([s], [], [], left)[0]:
                return None, None
            pkt, src = s.recvfrom(65535)
            ihl = (pkt[0] & 0x0F) * 4
            body = pkt[ihl + 8:].decode(errors="replace")
            if want is None or body == want:
                return src[0], body

    if a.mode == "ip-recv":
        if a.bind != "0.0.0.0":
            s.bind((a.bind, 0))
        if a.ready:
            open(a.ready, "w").close()
        src, body = recv_one(time.monotonic() + a.timeout)
        if src is None:
            return 1
        print(src, body, flush=True)
        if a.echo:
            s.sendto(hdr + body.encode(), (src, 0))
        return 0
    try:
        s.sendto(hdr + a.payload.encode(), (a.to, 0))
    except OSError as e:
        print(f"send: {e}", file=sys.stderr)
        return 1
    if a.no_reply:
        return 0
    src, _ = recv_one(time.monotonic() + a.timeout, a.payload)
    if src is None:
        return 1
    print(src)
    return 0


if __name__ == "__main__":
    sys.exit(main())
