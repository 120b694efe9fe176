#!/usr/bin/env python3
"""TCP transfer with an integrity check, for the fast-path end-to-end test.

  tcpsum.py serve PORT            accept connections; for each, read to EOF,
                                  answer "<peer address> <bytes> <sha256>"
  tcpsum.py send HOST PORT BYTES  send BYTES of a fixed pattern, print
                                  "<address the server saw> OK|BAD", exit 0 on OK
"""
import hashlib
import socket
import sys


def serve(port):
    fam = socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(8)
    while True:
        c, peer = s.accept()
        # A connection whose packets stopped arriving (the case failed)
        # must not hold up the next ones: one connection at a time.
        c.settimeout(60)
        h, n = hashlib.sha256(), 0
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                h.update(b)
                n += len(b)
            addr = peer[0][7:] if peer[0].startswith("::ffff:") else peer[0]
            c.sendall(f"{addr} {n} {h.hexdigest()}\n".encode())
        except OSError:
            pass
        c.close()


def send(host, port, size):
    data = bytes((i * 7 + 3) & 0xFF for i in range(size))
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    r = s.makefile().readline().split()
    ok = len(r) == 3 and int(r[1]) == size and r[2] == hashlib.sha256(data).hexdigest()
    print(r[0] if r else "-", "OK" if ok else "BAD")
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        sys.exit(send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
