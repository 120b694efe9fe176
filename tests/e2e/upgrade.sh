#!/bin/bash
# Upgrades without a hole (docs/ops.md, "Upgrades").
#  1. An older fwctl (FWCTL_UPGRADE_FROM, default 2cbb923, ABI 4 with both fentry hook objects loading, built once from
#     `git archive` into the build tree) applies; a TCP stream runs through
#     the router; this fwctl applies over it while the stream runs and a
#     UDP flood hits a blocked port: the stream survives (the connection
#     table is kept), the links are the same links with this build's
#     programs (link update), nothing of the flood passes.
#  2. Pins of another ABI (fw_abi rewritten to 999): stats, conntrack, log,
#     status and apply refuse with exit 1 and say what to do; `apply
#     --replace-incompatible` swaps the datapath under the flood, never
#     passing a blocked packet, and new connections work.
#   lan (10.1.0.2) --vlan1-- r --vlan2-- wan (192.0.2.2)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
: "${FW_SRC:?source tree (for git archive of the older release)}"
FROM=${FWCTL_UPGRADE_FROM:-2cbb923}
command -v bpftool >/dev/null || { echo "SKIP: bpftool needed" >&2; exit 77; }

# Every release since the reject answers went through TC (b382fae) marks
# them with bpf_xdp_adjust_meta, which some kernels leave out of XDP (this
# project's 6.18 dev machine): there the older fwctl cannot load, part 1 is
# not run, and the upgrade is tested by the VM lane's 45-upgrade (Debian's
# 6.1 and 6.12).
OLD_LOADS=1
bpftool feature probe kernel 2>/dev/null | sed -n '/helpers supported for program type xdp:/,/program type/p' |
    grep -q 'bpf_xdp_adjust_meta' || OLD_LOADS=

# The older fwctl: only its fwctl target, cached beside this build.
sha=$(git -c safe.directory='*' -C "$FW_SRC" rev-parse --short=12 "$FROM^{commit}" 2>/dev/null) ||
    { echo "SKIP: $FROM is not in $FW_SRC's history" >&2; exit 77; }
cache="$(dirname "$FWCTL")/upgrade-from/$sha"
OLD="$cache/build/fwctl"
if [ -n "$OLD_LOADS" ] && [ ! -x "$OLD" ]; then
    echo "# building fwctl of $FROM ($sha) into $cache (once)" >&2
    rm -rf "$cache" && mkdir -p "$cache/src" || exit 1
    git -C "$FW_SRC" archive "$sha" | tar -x -C "$cache/src" || exit 1
    { cmake -S "$cache/src" -B "$cache/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
      cmake --build "$cache/build" --target fwctl -j2; } >"$cache/build.log" 2>&1 ||
        { tail -30 "$cache/build.log" >&2; echo "FATAL: cannot build fwctl of $FROM" >&2; exit 1; }
fi

e2e_init
router_topology
fw_old() { local s=$1; shift; E2E_FW_NS+=("$s"); nsenter --net="$(ns_path "$s")" -- "$OLD" --pin-dir "$(fw_pin_dir "$s")" "$@"; }
PIN=$(fw_pin_dir r)

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1, "policy": { "input": "accept", "forward": "drop" },
  "forward": [ { "action": "accept", "in": "vlan1", "out": "vlan2", "proto": "tcp", "dport": 5001, "comment": "stream" } ] }
JSON

# The stream: wan echoes lines on 5001; lan sends one every 20 ms and reads
# it back (2 s timeout), until $E2E_TMP/stop exists. Prints "ok N" or the error.
cat >"$E2E_TMP/echo.py" <<'PY'
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5001)); s.listen(8)
def serve(c):
    while True:
        d = c.recv(4096)
        if not d: return
        c.sendall(d)
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
cat >"$E2E_TMP/stream.py" <<'PY'
import os, socket, sys, time
stop, progress = sys.argv[1], sys.argv[2]
c = socket.create_connection(("192.0.2.2", 5001), timeout=3); c.settimeout(2)
n = 0; f = c.makefile("rb")
try:
    while not os.path.exists(stop):
        msg = b"line %d\n" % n
        c.sendall(msg)
        if f.readline() != msg: raise Exception("bad echo at %d" % n)
        n += 1
        if n % 10 == 0: open(progress, "w").write(str(n))
        time.sleep(0.02)
except Exception as e:
    print("lost after %d lines: %r" % (n, e)); sys.exit(1)
print("ok %d" % n)
PY
# The flood: UDP to wan:5003 (no rule: dropped) as fast as python goes;
# the receiver counts what arrives.
cat >"$E2E_TMP/count.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 5003))
n = 0
while True:
    s.recv(2048); n += 1
    open(sys.argv[1], "w").write(str(n))
PY
cat >"$E2E_TMP/flood.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); n = 0
while not os.path.exists(sys.argv[1]):
    s.sendto(b"x" * 64, ("192.0.2.2", 5003)); n += 1
open(sys.argv[2], "w").write(str(n))
PY

progress() { cat "$E2E_TMP/progress" 2>/dev/null || echo 0; }
leaked() { cat "$E2E_TMP/leaked" 2>/dev/null || echo 0; }
flood_start() { rm -f "$E2E_TMP/flood.stop" "$E2E_TMP/flood.sent"; ns_bg lan "$E2E_TMP/flood.log" "$E2E_PY" "$E2E_TMP/flood.py" "$E2E_TMP/flood.stop" "$E2E_TMP/flood.sent"; FLOOD=$E2E_LAST_PID; }
flood_stop() { touch "$E2E_TMP/flood.stop"; wait_until 5 test -s "$E2E_TMP/flood.sent"; e2e_stop_pid "$FLOOD"; cat "$E2E_TMP/flood.sent" 2>/dev/null || echo 0; }
prog_id() { bpftool link show pinned "$PIN/$1" -j | "$E2E_PY" -c 'import json,sys; print(json.load(sys.stdin)["prog_id"])'; }
link_id() { bpftool link show pinned "$PIN/$1" -j 2>/dev/null | "$E2E_PY" -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null; }
# Linux < 6.6 has no tcx: TC egress is a clsact filter, whose program id
# `tc filter show` prints (the VM lane's 6.1).
clsact_prog() { nsx r tc filter show dev vlan1 egress | sed -n 's/.* id \([0-9]*\).*/\1/p' | head -n1; }

ns_bg wan "$E2E_TMP/echo.log" "$E2E_PY" "$E2E_TMP/echo.py"
ns_bg wan "$E2E_TMP/count.log" "$E2E_PY" "$E2E_TMP/count.py" "$E2E_TMP/leaked"
wait_until 10 sh -c "nsenter --net=$(ns_path wan) ss -ltn | grep -q ':5001 '" || e2e_die "the echo server did not start"
wait_until 10 sh -c "nsenter --net=$(ns_path wan) ss -lun | grep -q ':5003 '" || e2e_die "the counter did not start"

# ---- 1. older fwctl, then this one over it, under traffic
vlan1=$(nsx r ip -o link show vlan1 | cut -d: -f1)
if [ -n "$OLD_LOADS" ]; then
    assert_exit 0 "apply with the fwctl of $FROM" fw_old r apply "$E2E_TMP/rules.json"
    xdp_link=$(link_id "link_xdp_$vlan1"); xdp_prog=$(prog_id "link_xdp_$vlan1")
    tc_link=$(link_id "link_tc_$vlan1")
    if [ -n "$tc_link" ]; then tc_prog=$(prog_id "link_tc_$vlan1"); else tc_prog=$(clsact_prog); fi
    ns_bg lan "$E2E_TMP/stream.log" "$E2E_PY" "$E2E_TMP/stream.py" "$E2E_TMP/stop" "$E2E_TMP/progress"
    STREAM=$E2E_LAST_PID
    assert_ok "the stream runs through the old datapath" wait_until 10 sh -c "[ \$(cat $E2E_TMP/progress 2>/dev/null || echo 0) -ge 20 ]"
    assert_ok "the connection is in the old table" sh -c "'$OLD' --pin-dir '$PIN' conntrack --json | grep -q '\"dport\": *5001'"
    flood_start
    sleep 1
    assert_eq 0 "$(leaked)" "the blocked port is blocked before the upgrade"
    stream_rule_packets() { "$E2E_PY" -c 'import json, sys; print(json.load(sys.stdin)["chains"]["forward"]["rules"][0]["packets"])'; }
    rule_before=$(nsenter --net="$(ns_path r)" -- "$OLD" --pin-dir "$PIN" stats --json | stream_rule_packets)
    before=$(progress)
    assert_exit 0 "apply with this fwctl over the older one's pins (traffic flowing)" fw r apply "$E2E_TMP/rules.json"
    assert_match 'upgraded in place.*connections kept' "$(cat "$E2E_TMP/last.out")" "apply says the datapath was upgraded in place"
    sleep 1
    after=$(progress)
    sent=$(flood_stop)
    assert_ok "the stream kept flowing across the upgrade ($before -> $after lines)" test "$after" -gt $((before + 10))
    assert_ok "the flood ran ($sent packets)" test "$sent" -gt 1000
    assert_eq 0 "$(leaked)" "not one packet to the blocked port passed during the upgrade"
    assert_eq "$xdp_link" "$(link_id "link_xdp_$vlan1")" "the XDP link is the same link"
    assert_ne "$xdp_prog" "$(prog_id "link_xdp_$vlan1")" "with a new program (link update)"
    if [ -n "$tc_link" ]; then
        assert_eq "$tc_link" "$(link_id "link_tc_$vlan1")" "the TC link is the same link"
        assert_ne "$tc_prog" "$(prog_id "link_tc_$vlan1")" "with a new program"
    else
        now=$(clsact_prog)
        assert_match '^[0-9]+$' "$now" "TC egress is still a clsact filter (no tcx here)"
        assert_ne "$tc_prog" "$now" "with a new program, replaced in place"
    fi
    # Where the kernel takes tracing programs, both hook objects are this
    # build's after the takeover (tracing links cannot be updated: detached and
    # attached again).
    if [ -e "$PIN/link_fentry_route_fib" ] || [ -n "${FW_EXPECT_ROUTE_HOOKS:-}" ]; then
        for l in link_fentry_xfrm_policy link_fentry_route_fib; do
            assert_ok "$l is attached after the takeover" test -e "$PIN/$l"
        done
    fi
    assert_ok "the connection is in the kept table (this fwctl reads it)" sh -c "nsenter --net=$(ns_path r) -- '$FWCTL' --pin-dir '$PIN' conntrack --json | grep -q '\"dport\": *5001'"
    assert_ok "fw_abi is pinned now" test -e "$PIN/fw_abi"
    assert_exit 0 "stats read the upgraded datapath" fw r stats
    # The older build counted rules in a per-CPU map; the takeover carries
    # them into this build's counters (the stream's SYN matched the rule).
    assert_ge 1 "$rule_before" "the old build counted the stream's first packet on its rule"
    assert_eq "$rule_before" "$(fw r stats --json | stream_rule_packets)" "the rule's counter survived the upgrade"
    assert_exit 0 "a second apply is an ordinary re-apply" fw r apply "$E2E_TMP/rules.json"
    out=$(cat "$E2E_TMP/last.out")
    assert_fails "and does not upgrade again" grep -q upgraded <<<"$out"
    touch "$E2E_TMP/stop"
    wait "$STREAM"; rc=$?
    e2e_untrack_pid "$STREAM"
    assert_eq 0 "$rc" "the stream ended without a loss: $(cat "$E2E_TMP/stream.log")"
else
    echo "# part 1 not run: this kernel's XDP has no bpf_xdp_adjust_meta, which $FROM needs (VM lane: 45-upgrade)" >&2
    assert_exit 0 "apply with this fwctl (part 2 starts from its pins)" fw r apply "$E2E_TMP/rules.json"
fi

# ---- 2. pins of another ABI
bpftool map update pinned "$PIN/fw_abi" key 0 0 0 0 value 0xe7 0x03 0 0 0 0 0 0 ||
    e2e_die "cannot rewrite fw_abi"
for cmd in stats "conntrack --json" log status show; do
    # shellcheck disable=SC2086
    assert_exit 1 "$cmd refuses pins of ABI 999" fw r $cmd
    assert_match 'ABI 999.*--replace-incompatible' "$(cat "$E2E_TMP/last.out")" "$cmd says why and what to do"
done
assert_exit 1 "apply refuses pins of ABI 999" fw r apply "$E2E_TMP/rules.json"
assert_match 'ABI 999' "$(cat "$E2E_TMP/last.out")" "apply says why"
assert_exit 2 "--replace-incompatible does not combine with --confirm" fw r apply "$E2E_TMP/rules.json" --replace-incompatible --confirm 30
xdp_link=$(link_id "link_xdp_$vlan1"); xdp_prog=$(prog_id "link_xdp_$vlan1")
flood_start
sleep 1
assert_exit 0 "apply --replace-incompatible under the flood" fw r apply "$E2E_TMP/rules.json" --replace-incompatible
assert_match 'replaced in place.*start empty' "$(cat "$E2E_TMP/last.out")" "apply says the connection table is new"
sleep 1
sent=$(flood_stop)
assert_ok "the flood ran ($sent packets)" test "$sent" -gt 1000
assert_eq 0 "$(leaked)" "not one packet to the blocked port passed during the replacement"
assert_eq "$xdp_link" "$(link_id "link_xdp_$vlan1")" "the XDP link is the same link (never detached)"
assert_ne "$xdp_prog" "$(prog_id "link_xdp_$vlan1")" "with a new program"
assert_exit 0 "stats read the new datapath" fw r stats
abi=$(sed -n 's/^#define FW_ABI_VERSION \([0-9]*\).*/\1/p' "$FW_SRC/include/fw/abi.h")
assert_eq "$abi" "$(bpftool map lookup pinned "$PIN/fw_abi" key 0 0 0 0 -j | "$E2E_PY" -c 'import json,sys; v=json.load(sys.stdin)["value"]; print(v["version"] if isinstance(v, dict) else int(v[0], 16))')" "fw_abi holds this build's ABI"
rm -f "$E2E_TMP/stop" "$E2E_TMP/progress"
ns_bg lan "$E2E_TMP/stream2.log" "$E2E_PY" "$E2E_TMP/stream.py" "$E2E_TMP/stop" "$E2E_TMP/progress"
STREAM=$E2E_LAST_PID
assert_ok "a new connection works through the replaced datapath" wait_until 10 sh -c "[ \$(cat $E2E_TMP/progress 2>/dev/null || echo 0) -ge 20 ]"
touch "$E2E_TMP/stop"
wait "$STREAM"; rc=$?
e2e_untrack_pid "$STREAM"
assert_eq 0 "$rc" "it ran clean: $(cat "$E2E_TMP/stream2.log")"
assert_eq "" "$(ls "$PIN" | grep '^next_')" "no pin left aside"
e2e_finish
