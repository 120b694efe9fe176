#!/bin/bash
# The XDP fast path ("fastpath": true) with real TCP through a NAT router:
#   lan (10.1.0.2, fd01::2) --vlan1-- r --vlan2-- wan (192.0.2.2, 2001:db8::2)
# r masquerades out of vlan2 and forwards TCP 8080 to lan:8000. Its XDP is
# native (the peers have GRO on, as a NIC takes frames), so accepted packets
# of known connections leave by bpf_redirect, translated in XDP.
#   1. hosts that leave TCP checksums to the "hardware" (veth's default):
#      their packets arrive unfinished (CHECKSUM_PARTIAL); the fast path
#      must hand them to the stack, and the data must arrive intact.
#   2. hosts that send complete checksums (as packets from a wire are):
#      the bulk of each transfer takes the fast path, translated, intact,
#      both ways, IPv4 and IPv6.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

router_topology
for s in r lan wan; do ns_sysctl "$s" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; done
nsx r ip -6 addr add fd01::1/64 dev vlan1 nodad; nsx lan ip -6 addr add fd01::2/64 dev eth0 nodad
nsx r ip -6 addr add 2001:db8::1/64 dev vlan2 nodad; nsx wan ip -6 addr add 2001:db8::2/64 dev eth0 nodad
nsx lan ip -6 route add default via fd01::1
nsx wan ip -6 route add default via 2001:db8::1
for s in lan wan; do nsx "$s" ethtool -K eth0 gro on >/dev/null; done

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1, "fastpath": true,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "proto": "icmpv6" } ],
  "forward": [
    { "action": "accept", "in": "vlan1", "out": "vlan2" },
    { "action": "accept", "in": "vlan2", "out": "vlan1", "proto": "tcp", "dport": 8000, "daddr": "10.1.0.2" },
    { "action": "accept", "in": "vlan2", "out": "vlan1", "proto": "tcp", "dport": 8000, "daddr": "fd01::2" }
  ],
  "nat": [ { "out": "vlan2" } ],
  "port-forward": [ { "in": "vlan2", "proto": "tcp", "dport": 8080, "to-daddr": "10.1.0.2", "to-dport": 8000 } ] }
JSON
assert_exit 0 "apply with the fast path" fw r apply "$E2E_TMP/rules.json"
assert_eq 2 "$(fw r status --json | grep -c '"mode": "native"')" "XDP native on both interfaces"
nsx wan ip -6 route add fd01::/64 via 2001:db8::1   # IPv6 is routed, not translated

ns_bg wan "$E2E_TMP/wan-srv.log" "$E2E_PY" "$HERE/lib/tcpsum.py" serve 8000
ns_bg lan "$E2E_TMP/lan-srv.log" "$E2E_PY" "$HERE/lib/tcpsum.py" serve 8000
sleep 0.5
fastpath() { fw r stats --json | json_get other.fastpath.packets; }
send() { # NS HOST PORT BYTES -> "<address the server saw> OK|BAD"
    nsx "$1" timeout 20 "$E2E_PY" "$HERE/lib/tcpsum.py" send "$2" "$3" "$4" 2>&1
}
MB=4000000

# --- 1. unfinished checksums: the stack's job --------------------------------
f0=$(fastpath)
assert_eq "192.0.2.1 OK" "$(send lan 192.0.2.2 8000 $MB)" "LAN -> WAN, masqueraded, offloaded checksums: intact"
assert_eq "192.0.2.2 OK" "$(send wan 192.0.2.1 8080 $MB)" "WAN -> port forward -> LAN, offloaded checksums: intact"
assert_ge 3000 "$(fw r stats --json | json_get state.established.packets)" "the transfers' packets were tracked"
e2e_log "fast path packets with offloaded checksums: $(( $(fastpath) - f0 )) (the unfinished ones go to the stack)"

# --- 2. complete checksums: the fast path's -----------------------------------
for s in lan wan; do nsx "$s" ethtool -K eth0 tx off >/dev/null; done
f1=$(fastpath)
assert_eq "192.0.2.1 OK" "$(send lan 192.0.2.2 8000 $MB)" "LAN -> WAN through the fast path, masqueraded: intact"
f2=$(fastpath)
assert_ge 2000 "$((f2 - f1))" "LAN -> WAN: the bulk of the segments left from XDP"
assert_eq "192.0.2.2 OK" "$(send wan 192.0.2.1 8080 $MB)" "WAN -> port forward -> LAN through the fast path: intact"
f3=$(fastpath)
assert_ge 2000 "$((f3 - f2))" "port forward: the bulk of the segments left from XDP"
assert_eq "fd01::2 OK" "$(send lan 2001:db8::2 8000 $MB)" "IPv6 LAN -> WAN through the fast path: intact"
assert_ge 2000 "$(( $(fastpath) - f3 ))" "IPv6: the bulk of the segments left from XDP"
assert_eq "2001:db8::2 OK" "$(send wan fd01::2 8000 1000000)" "IPv6 WAN -> LAN (forward rule) through the fast path: intact"

# The policy still holds on the fast path's interfaces.
assert_fails "WAN -> LAN port 8001: no rule, no way in" \
    nsx wan timeout 3 "$E2E_PY" "$HERE/lib/tcpsum.py" send fd01::2 8001 10
ct=$(fw r conntrack --json)
assert_eq 192.0.2.1 "$(json_find proto=tcp dport=8000 dst=192.0.2.2 reply_dst <<<"$ct")" "conntrack: the masquerade binding"
e2e_finish
