#!/bin/bash
# Operating fwctl (issue 5): reject answers, rate-limited logging read with
# `fwctl log`, save/show round trip. One firewall namespace "fw" and one
# client "h1" on a veth.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init ops

ns_add fw h1
link_veth fw eth0 h1 eth0
addr fw eth0 192.0.2.1/24 2001:db8::1/64
addr h1 eth0 192.0.2.2/24 2001:db8::2/64
ns_sysctl fw net.ipv6.conf.eth0.accept_dad=0 2>/dev/null || true
# A plain veth peer (no GRO, no XDP): XDP_TX would be lost there, so reject
# answers leave through fwctl's TC ingress program (bpf/lib/reject.h).

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "accept", "forward": "drop" },
  "log": { "limit": "10/second", "burst": 5 },
  "input": [
    { "action": "reject", "proto": "tcp", "dport": 2323, "comment": "no telnet" },
    { "action": "reject", "proto": "udp", "dport": 9999 },
    { "action": "drop", "proto": "udp", "dport": 5000, "log": true, "comment": "logged drop" },
    { "action": "accept", "saddr": "192.0.2.0/24", "proto": "udp", "dport": 5001, "log": true }
  ] }
JSON
assert_exit 0 "apply" fw fw apply "$E2E_TMP/rules.json"
assert_match '"mode": "native"' "$(fw fw status --json)" "XDP is native on a veth whose peer has no NAPI"
assert_match '"hook": "tc-ingress"' "$(fw fw status --json)" "the reject answers' TC ingress program is attached"
# Wait until the link answers (IPv6 DAD, neighbours).
wait_ping h1 192.0.2.1 5 >/dev/null 2>&1 || true
nsx h1 ping -6 -c1 -W2 2001:db8::1 >/dev/null 2>&1 || true

# --- reject ---------------------------------------------------------------
probe() { # probe tcp|udp ADDR PORT -> prints refused|timeout|other:... and the time taken
    nsx h1 "$E2E_PY" - "$@" <<'PY'
import socket, sys, time
kind, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
t = time.monotonic()
try:
    if kind == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(3)
        s.connect((addr, port)); res = "connected"
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(3)
        s.connect((addr, port)); s.send(b"probe")
        s.recv(100); res = "answered"
except ConnectionRefusedError:
    res = "refused"
except socket.timeout:
    res = "timeout"
except OSError as e:
    res = "other:%s" % e
print(res, "%.3f" % (time.monotonic() - t))
PY
}
sent0=$(fw fw stats --json | json_get other.reject_sent)
for a in 192.0.2.1 2001:db8::1; do
    read -r res took < <(probe tcp $a 2323)
    assert_eq refused "$res" "TCP connect to a rejected port on $a: connection refused"
    assert_ok "refused at once ($took s)" "$E2E_PY" -c "import sys; sys.exit(0 if $took < 1.0 else 1)"
    read -r res took < <(probe udp $a 9999)
    assert_eq refused "$res" "UDP to a rejected port on $a: ICMP port unreachable"
done
sent1=$(fw fw stats --json | json_get other.reject_sent)
assert_eq 4 "$((sent1 - sent0))" "four answers counted in other.reject_sent"
assert_eq 2 "$(fw fw stats --json | json_get chains.input.rules.0.packets)" "the TCP reject rule counted one SYN per family"

# --- log: 50 packets under 10/second ---------------------------------------
fw fw log --json >/dev/null # start from an empty ring
ev0=$(fw fw stats --json | json_get log.events)
sup0=$(fw fw stats --json | json_get log.suppressed)
sleep 0.6 # the bucket refills (5 tokens at 10/second)
nsx h1 "$E2E_PY" - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(50):
    s.sendto(b"x" * 10, ("192.0.2.1", 5000)); time.sleep(0.02)
PY
sleep 0.2
fw fw log --json >"$E2E_TMP/log.json"
n=$(wc -l <"$E2E_TMP/log.json")
ev=$(( $(fw fw stats --json | json_get log.events) - ev0 ))
sup=$(( $(fw fw stats --json | json_get log.suppressed) - sup0 ))
assert_ok "about limit + burst events over one second ($n)" test "$n" -ge 12 -a "$n" -le 20
assert_eq "$n" "$ev" "log.events counts the printed events"
assert_eq 50 "$((ev + sup))" "the rest are counted in log.suppressed ($sup)"
first=$(head -n1 "$E2E_TMP/log.json")
for kv in chain=input position=3 "comment=logged drop" in=eth0 src=192.0.2.2 dst=192.0.2.1 proto=udp dport=5000 verdict=drop; do
    assert_eq "${kv#*=}" "$(printf '%s' "$first" | json_get "${kv%%=*}")" "log event ${kv%%=*}"
done
assert_match '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' \
    "$(printf '%s' "$first" | json_get time)" "log time is ISO 8601 UTC with ms"
# The wall time is now, give or take the second the packets took.
assert_ok "log time is close to now" "$E2E_PY" -c "
import datetime, sys
t = datetime.datetime.strptime('$(printf '%s' "$first" | json_get time)', '%Y-%m-%dT%H:%M:%S.%fZ')
d = abs((datetime.datetime.utcnow() - t).total_seconds()); sys.exit(0 if d < 5 else 1)"
assert_eq 0 "$(fw fw log --json | wc -l)" "reading consumed the events"
assert_exit 0 "text log without events" fw fw log

# --- log --follow streams ----------------------------------------------------
ns_bg fw "$E2E_TMP/follow.json" "$FWCTL" --pin-dir "$(fw_pin_dir fw)" log --follow --json
follow_pid=$E2E_LAST_PID
sleep 0.6
nsx h1 "$E2E_PY" -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"y", ("192.0.2.1", 5001))'
wait_until 5 grep -q '"dport":5001' "$E2E_TMP/follow.json"
assert_match '"verdict":"accept"' "$(cat "$E2E_TMP/follow.json")" "log --follow --json streamed the event while running"
assert_exit 0 "a second reader runs beside a follower (they share the events: docs/ops.md)" fw fw log --json
e2e_stop_pid "$follow_pid"

# --- save / show round trip --------------------------------------------------
fw fw show >"$E2E_TMP/show1.json"
assert_exit 0 "save to a file" fw fw save "$E2E_TMP/etc/rules.json"
assert_exit 0 "apply the saved file" fw fw apply "$E2E_TMP/etc/rules.json"
fw fw show >"$E2E_TMP/show2.json"
assert_ok "show is the same after apply(save)" cmp -s "$E2E_TMP/show1.json" "$E2E_TMP/show2.json"
assert_ok "check accepts the saved file" fw fw check "$E2E_TMP/etc/rules.json"
assert_match '"comment": "logged drop"' "$(cat "$E2E_TMP/etc/rules.json")" "saved file keeps comments"

e2e_finish
