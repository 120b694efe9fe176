#!/usr/bin/python3
"""Many UDP flows at once, for the masquerade test (tests/e2e/scenario2.sh).

  manyflows.py echo PORT SECONDS LOG   echo every datagram back; log "src:port" per new source
  manyflows.py send DST PORT SPORT_BASE NPORTS ADDR...
      one socket per (ADDR, SPORT_BASE + i): the same source ports on every
      address, so a NAT to one address must reallocate; sends one datagram
      each (retried twice), prints "replies=N from=SRC,..." when all answered
      or after 5 s.
"""
import resource, selectors, socket, sys, time

def echo(port, secs, log):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # 1,000 datagrams arrive at once; the default buffer (~200 KiB) holds a
    # few hundred, and under a VM's TCG this loop drains it slowly: a full
    # buffer drops them (UdpRcvbufErrors), which is not the firewall's doing.
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE (root)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.5)
    print("listening", flush=True)  # the test waits for this line
    seen = set()
    end = time.time() + secs
    with open(log, "w") as f:
        while time.time() < end:
            try:
                data, src = s.recvfrom(2048)
            except socket.timeout:
                continue
            s.sendto(data, src)
            if src not in seen:
                seen.add(src)
                f.write("%s:%d\n" % src)
                f.flush()

def send(dst, port, base, n, addrs):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = len(addrs) * n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))
    sel = selectors.DefaultSelector()
    socks = []
    for a in addrs:
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((a, base + i))
            s.setblocking(False)
            socks.append(s)
            sel.register(s, selectors.EVENT_READ)
    pending = set(socks)
    froms = set()
    for attempt in range(3):
        for s in list(pending):
            s.sendto(b"flow %s:%d" % (s.getsockname()[0].encode(), s.getsockname()[1]), (dst, port))
        end = time.time() + (1.0 if attempt < 2 else 3.0)
        while pending and time.time() < end:
            for key, _ in sel.select(0.2):
                try:
                    data, src = key.fileobj.recvfrom(2048)
                except BlockingIOError:
                    continue
                froms.add("%s:%d" % src)
                pending.discard(key.fileobj)
        if not pending:
            break
    print("replies=%d from=%s" % (len(socks) - len(pending), ",".join(sorted(froms))))

if __name__ == "__main__":
    if sys.argv[1] == "echo":
        echo(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:])
