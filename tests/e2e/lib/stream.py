#!/usr/bin/python3
"""A paced UDP stream with arrival times, for tests/e2e/route_change.sh.

  stream.py send DST PORT RATE SECONDS LOG   datagrams "SEQ SENT_AT" from
      one socket (one flow) at RATE a second, each also written to LOG;
      prints "sent=N" at the end
  stream.py recv PORT SECONDS OUT        writes "MONOTONIC SEQ" per datagram
      to OUT, prints "listening" once bound
Times are CLOCK_REALTIME (time.time()), which bash's $EPOCHREALTIME reads
without starting a process: the test stamps its changes with it.
"""
import socket, sys, time


def send(dst, port, rate, secs, log):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    f = open(log, "w")
    s.bind(("0.0.0.0", 40000))
    start = time.time()
    n = 0
    while True:
        now = time.time()
        if now - start >= secs:
            break
        due = int((now - start) * rate) + 1
        while n < due:
            msg = f"{n} {time.time():.6f}"
            s.sendto(msg.encode(), (dst, port))
            f.write(msg + "\n")
            n += 1
        time.sleep(0.0005)
    f.close()
    print(f"sent={n}", flush=True)


def recv(port, secs, out):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.2)
    print("listening", flush=True)
    end = time.time() + secs
    with open(out, "w") as f:
        while time.time() < end:
            try:
                data, _ = s.recvfrom(2048)
            except socket.timeout:
                continue
            f.write(f"{time.time():.6f} {data.decode(errors='replace')}\n")


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "send":
        send(a[1], int(a[2]), float(a[3]), float(a[4]), a[5])
    elif a[0] == "recv":
        recv(int(a[1]), float(a[2]), a[3])
