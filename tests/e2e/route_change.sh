#!/bin/bash
# Route and neighbour changes reach connections on the fast path (its route
# cache, bpf/lib/route_cache.h), beside the kernel's own forwarding with
# nftables doing the same filtering:
#   lan (10.1.0.2) --vlan1-- r --vlan2-- wan  (192.0.2.2)    203.0.113.9 on lo
#                             \--vlan3-- wan2 (198.51.100.2) 203.0.113.9 on lo
# A UDP stream from lan to 203.0.113.9 (complete checksums: fast path) runs
# while r moves the route from wan to wan2, then wan2 takes a new MAC and r's
# neighbour entry follows it. After each change, packets sent later than
# the cache may live (134 ms; 10 ms where the route hooks attach) must not
# reach the old next hop, and must reach the new one.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

router_topology
ns_add wan2
link_veth r vlan3 wan2 eth0
addr r vlan3 198.51.100.1/24; addr wan2 eth0 198.51.100.2/24
route wan2 default 198.51.100.1
for s in wan wan2; do ip -n "$(ns_name $s)" addr add 203.0.113.9/32 dev lo; done
nsx lan ethtool -K eth0 tx off >/dev/null   # complete checksums, as from a wire
# GRO on the peers: a veth takes redirected frames only with NAPI, as a NIC
for s in lan wan wan2; do nsx "$s" ethtool -K eth0 gro on >/dev/null; done

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "proto": "icmp" } ],
  "forward": [ { "action": "accept", "in": "vlan1" } ] }
JSON
cat >"$E2E_TMP/rules.nft" <<'NFT'
table inet ref {
  chain input { type filter hook input priority 0; policy drop; meta l4proto icmp accept; }
  chain forward { type filter hook forward priority 0; policy drop; ct state established accept; iifname "vlan1" accept; }
}
NFT

RATE=2000
now() { echo "$EPOCHREALTIME"; }   # stream.py's clock, without a process

# stream_pass LABEL MAC: one stream; the route moves at 1.5 s, wan2 takes MAC at
# 3 s. Leaves "$E2E_TMP/LABEL.{wan,wan2,times}".
stream_pass() {
    local label=$1 mac=$2 t pids=()
    ip -n "$(ns_name r)" route replace 203.0.113.9/32 via 192.0.2.2
    nsx r ping -c1 -W1 192.0.2.2 >/dev/null; nsx r ping -c1 -W1 198.51.100.2 >/dev/null
    for s in wan wan2; do
        ns_bg "$s" "$E2E_TMP/$label.$s.out" "$E2E_PY" "$HERE/lib/stream.py" recv 9999 10 "$E2E_TMP/$label.$s"
        pids+=("$E2E_LAST_PID")
    done
    wait_until 5 grep -q listening "$E2E_TMP/$label.wan.out" "$E2E_TMP/$label.wan2.out"
    ns_bg lan "$E2E_TMP/$label.send.out" "$E2E_PY" "$HERE/lib/stream.py" send 203.0.113.9 9999 $RATE 7 "$E2E_TMP/$label.sent"
    sleep 1.5
    t=$(now); ip -n "$(ns_name r)" route replace 203.0.113.9/32 via 198.51.100.2; echo "route $t $(now)" >"$E2E_TMP/$label.times"
    sleep 1.5
    t=$(now); ip -n "$(ns_name wan2)" link set eth0 address "$mac"; echo "mac $t $(now)" >>"$E2E_TMP/$label.times"
    t=$(now); ip -n "$(ns_name r)" neigh replace 198.51.100.2 lladdr "$mac" dev vlan3 nud reachable
    echo "neigh $t $(now)" >>"$E2E_TMP/$label.times"
    for t in "${pids[@]}"; do wait "$t"; e2e_untrack_pid "$t"; done
}

# verdict LABEL BOUND -> "last_to_old_hop_ms=N stale_route=N moved=P% after_neigh=P% delivered=P% received=N"
# Shares of what the sender sent in each window (its own log), so a slow
# machine (a VM under TCG) that sends fewer than RATE a second still counts.
# delivered: the share that reached wan before any change. A VM under TCG
# (two lanes side by side in CI) loses packets at the receivers whatever
# routes them: after_neigh is judged against it and against nftables' in the
# same run (a packet to the old MAC is lost too, so every one of those still
# counts against it).
verdict() {
    "$E2E_PY" - "$E2E_TMP/$1" "$2" <<'PY'
import sys
base, bound = sys.argv[1], float(sys.argv[2])
t = {l.split()[0]: float(l.split()[2]) for l in open(base + ".times")}  # after each change
before = {l.split()[0]: float(l.split()[1]) for l in open(base + ".times")}
def sent_at(name, fields):
    return [float(l.split()[1]) for l in open(f"{base}.{name}") if len(l.split()) == fields]
sent, wan, wan2 = sent_at("sent", 2), [float(l.split()[2]) for l in open(base + ".wan") if len(l.split()) == 3], \
    [float(l.split()[2]) for l in open(base + ".wan2") if len(l.split()) == 3]
def share(got, a, b):
    n = sum(1 for x in sent if a < x < b)
    return 100 * sum(1 for x in got if a < x < b) / n if n else 0
stale_route = sum(1 for x in wan if x > t["route"] + bound)
# between the route change (+ bound) and wan2's MAC change: all at wan2;
# after the neighbour follows the new MAC (+ bound) until the end
moved = share(wan2, t["route"] + bound, before["mac"])
after = share(wan2, t["neigh"] + bound, max(sent) + 1)
delivered = share(wan, min(sent) - 1, before["route"])
# how long after the change the old next hop still got packets (ms)
lag = max([x - t["route"] for x in wan] + [0]) * 1000
print(f"last_to_old_hop_ms={lag:.0f} stale_route={stale_route} moved={moved:.0f}% after_neigh={after:.0f}% delivered={delivered:.0f}% sent={len(sent)} received={len(wan)+len(wan2)}")
PY
}
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $2"; }

# --- fwctl ---------------------------------------------------------------
assert_exit 0 "apply (fast path on by default)" fw r apply "$E2E_TMP/rules.json"
hooks=$(fw r status --json | json_get route_cache.hooks)
BOUND=0.164; [ "$hooks" = true ] && BOUND=0.01
# The VM lane's stock kernels allow tracing programs: there the hooks must attach.
[ -n "${FW_EXPECT_ROUTE_HOOKS:-}" ] && assert_eq true "$hooks" "the route hooks attached"
e2e_log "route hooks attached: $hooks; a cached route may outlive a change by ${BOUND}s"
f0=$(fw r stats --json | json_get other.fastpath.packets)
stream_pass fwctl 02:00:00:00:00:91
f1=$(fw r stats --json | json_get other.fastpath.packets)
v=$(verdict fwctl "$BOUND"); e2e_log "fwctl:    $v, fast path packets $((f1 - f0))"
sent=$(wc -l <"$E2E_TMP/fwctl.sent")
# Linux < 6.3 reports no XDP features: fwctl cannot tell a device that
# transmits redirected frames, and keeps the fast path off (docs/fastpath.md).
FAST=0
if [ "$(printf '%s\n' 6.3 "$(uname -r)" | sort -V | head -n1)" = 6.3 ]; then
    FAST=1
    assert_ge "$((sent * 6 / 10))" "$((f1 - f0))" "the stream took the fast path (of $sent sent)"
else
    e2e_log "Linux $(uname -r): no XDP features, no fast path: the stack routes (checked all the same)"
fi
assert_eq 0 "$(field stale_route "$v")" "no packet sent ${BOUND}s after the route change reached the old next hop"
assert_ge 90 "$(field moved "$v")" "the new next hop got the stream"
delivered=$(field delivered "$v"); delivered=${delivered:-100}
fw_after_neigh=$(field after_neigh "$v")

# --- the reference: nftables, the kernel forwarding ------------------------
assert_exit 0 "fwctl down" fw r down
nsx r nft -f "$E2E_TMP/rules.nft" || e2e_die "nft -f"
stream_pass nft 02:00:00:00:00:92
nsx r nft delete table inet ref
v=$(verdict nft "$BOUND"); e2e_log "nftables: $v"
assert_eq 0 "$(field stale_route "$v")" "nftables: no packet to the old next hop after the change"
assert_ge 90 "$(field moved "$v")" "nftables: the new next hop got the stream"
# After the neighbour follows the new MAC: 90 % of what the stream delivered
# before the changes, or of what the kernel's own forwarding got after them
# in this run, whichever is less.
# Where the stack routes fwctl's packets too (no fast path: Linux 6.1),
# that share is the kernel's and the VM's, not fwctl's: logged, not judged
# (6.1 under TCG: fwctl 81 % and nftables 72 % in one run, 77 % and 100 %
# in the next; no packet reached the old next hop in either).
nft_after_neigh=$(field after_neigh "$v"); nft_after_neigh=${nft_after_neigh:-100}
bar=$delivered; [ "$nft_after_neigh" -lt "$bar" ] && bar=$nft_after_neigh
if [ $FAST = 1 ]; then
    assert_ge "$((bar * 9 / 10))" "$fw_after_neigh" \
        "packets went to the neighbour's new MAC (fwctl; delivered before: ${delivered}%, nftables after: ${nft_after_neigh}%)"
else
    e2e_log "after the neighbour change, the stack routing: fwctl ${fw_after_neigh}%, nftables ${nft_after_neigh}% (not judged)"
fi
e2e_finish
