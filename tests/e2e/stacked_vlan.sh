#!/bin/bash
# Stacked devices, 802.1Q (docs/stacked.md). Runs where the kernel has 8021q
# (the VM lane's Debian kernels); elsewhere it skips with a message.
#   h: eth0 10.1.0.2 (untagged) + v10 = eth0.10 10.10.0.2
#       ==trunk== r: trunk 10.1.0.1 + vlan10 = trunk.10 10.10.0.1 -- vlan2 == wan
# With the default selection trunk's program judges a frame tagged 10 as
# arriving on vlan10 (vlan10 gets no XDP of its own): rules naming vlan10
# work, rules naming the parent do not match tagged traffic (and the other
# way round), and each packet is judged once (exact counters).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

ns_add r h wan
link_veth r trunk h eth0
link_veth r vlan2 wan eth0
if ! ip -n "$(ns_name r)" link add link trunk name vlan10 type vlan id 10 2>"$E2E_TMP/vlan.err"; then
    echo "SKIP: this kernel cannot create 802.1Q devices ($(head -c 200 "$E2E_TMP/vlan.err")); the VM lane (tests/vm) runs this test"
    exit 77
fi
ip -n "$(ns_name h)" link add link eth0 name v10 type vlan id 10
# veth hands tags over out of band (tx VLAN offload), where XDP cannot see
# them; a NIC that strips tags on receive does the same (docs/stacked.md).
nsx h ethtool -K eth0 txvlan off >/dev/null 2>&1 || true
addr r trunk 10.1.0.1/24
addr r vlan10 10.10.0.1/24
addr h eth0 10.1.0.2/24
addr h v10 10.10.0.2/24
addr r vlan2 192.0.2.1/24 198.51.100.1/24
addr wan eth0 192.0.2.2/24 198.51.100.2/24
route h 192.0.2.0/24 10.10.0.1      # tagged, by v10
route h 198.51.100.0/24 10.1.0.1    # untagged, by eth0
route wan default 192.0.2.1
# Replies to the untagged host come from the address it asked (a receiver
# bound to 0.0.0.0 answers from the route's source).
route wan 10.1.0.0/24 192.0.2.1 src 198.51.100.2
forwarding r 1

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "vlan10", "proto": "icmp" } ],
  "forward": [
    { "action": "accept", "in": "vlan10", "out": "vlan2", "proto": "udp", "dport": 7000 },
    { "action": "accept", "in": "trunk", "out": "vlan2", "proto": "udp", "dport": 7100 }
  ] }
JSON
assert_exit 0 "apply, default selection" fw r apply "$E2E_TMP/rules.json"
status=$(fw r status --json)
assert_match 'vlan10.*VLAN 10 on trunk' "$(echo "$status" | json_get stacked)" "status: vlan10 judged by trunk"
assert_eq "" "$(echo "$status" | json_get attachments | json_find interface=vlan10 hook=xdp program 2>/dev/null)" "no XDP on vlan10"
assert_eq tc-ingress "$(echo "$status" | json_get attachments | json_find interface=vlan10 hook 2>/dev/null)" "vlan10: TC ingress for decrypted IPsec only"

counter() { fw r stats --json | json_get "$1"; }

# Tagged: the rule naming vlan10, once.
assert_udp_ok h wan 192.0.2.2 7000
assert_eq 1 "$(counter chains.forward.rules.0.packets)" "in vlan10 matched the tagged request once"
assert_udp_fails h wan 192.0.2.2 7100
# Untagged on the parent: the rule naming trunk, not vlan10's.
assert_udp_ok h wan 198.51.100.2 7100
assert_eq 1 "$(counter chains.forward.rules.1.packets)" "in trunk matched the untagged request once"
assert_udp_fails h wan 198.51.100.2 7000
# Input by the VLAN.
assert_ping_ok h 10.10.0.1
assert_ping_fails h 10.1.0.1

# Exactly N tagged packets no rule accepts: the policy counts N.
before=$(counter chains.forward.policy_packets)
nsx h "$E2E_PY" -c "import socket;s=socket.socket(2,2);[s.sendto(b'x',('192.0.2.2',7001)) for _ in range(5)]"
wait_until 10 test "$(counter chains.forward.policy_packets)" -ge $((before + 5))
assert_eq $((before + 5)) "$(counter chains.forward.policy_packets)" "5 tagged packets judged once each"

# Only vlan10 selected: its own (generic) XDP judges after the kernel untags.
sed 's/"version": 1,/"version": 1, "interfaces": ["vlan10", "vlan2"],/' "$E2E_TMP/rules.json" >"$E2E_TMP/only.json"
assert_exit 0 "apply, vlan10 without its parent" fw r apply "$E2E_TMP/only.json"
assert_eq xdp "$(fw r status --json | json_get attachments | json_find interface=vlan10 hook=xdp hook 2>/dev/null)" "vlan10 has its own XDP"
assert_udp_ok h wan 192.0.2.2 7000
assert_udp_fails h wan 192.0.2.2 7002

e2e_finish
