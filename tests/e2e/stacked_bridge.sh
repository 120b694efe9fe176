#!/bin/bash
# Stacked devices, a Linux bridge (docs/stacked.md):
#   h1 (10.1.0.2) --eth0==p1--+
#                             br0 (10.1.0.1) r vlan2 (192.0.2.1) ==eth0-- wan (192.0.2.2)
#   h2 (10.1.0.3) --eth0==p2--+
# With the default selection (every interface) fwctl attaches to br0, not to
# its ports: rules naming br0 work; each packet is judged once (exact
# counters); a rule naming a port cannot let a packet in that the bridge's
# rules do not (no trust created at one layer and used at the other);
# frames bridged between the ports are layer 2, which the chains do not see.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

ns_add r h1 h2 wan
link_veth r p1 h1 eth0
link_veth r p2 h2 eth0
link_veth r vlan2 wan eth0
ip -n "$(ns_name r)" link add br0 type bridge || e2e_die "bridge"
ip -n "$(ns_name r)" link set p1 master br0
ip -n "$(ns_name r)" link set p2 master br0
addr r br0 10.1.0.1/24
addr h1 eth0 10.1.0.2/24
addr h2 eth0 10.1.0.3/24
addr r vlan2 192.0.2.1/24
addr wan eth0 192.0.2.2/24
route h1 default 10.1.0.1
route h2 default 10.1.0.1
route wan default 192.0.2.1
forwarding r 1
# Let the bridge forward before we look (STP off: no learning delay).
ip -n "$(ns_name r)" link set br0 type bridge stp_state 0 forward_delay 0

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "br0", "proto": "icmp" } ],
  "forward": [
    { "action": "accept", "in": "br0", "out": "vlan2", "proto": "udp", "dport": 7000 },
    { "action": "accept", "in": "p1", "out": "vlan2", "comment": "a port: never the layer that routes" }
  ] }
JSON
assert_exit 0 "apply, default selection" fw r apply "$E2E_TMP/rules.json"
status=$(fw r status --json)
echo "$status" | json_get attachments >"$E2E_TMP/att.json"
assert_match '"br0"' "$(cat "$E2E_TMP/att.json")" "br0 attached"
assert_eq "" "$(json_find interface=p1 hook <"$E2E_TMP/att.json" 2>/dev/null)" "nothing attached to port p1"
assert_match 'p1.*port of bridge br0' "$(echo "$status" | json_get stacked)" "status names p1 as br0's port"
assert_eq 0 "$(echo "$status" | json_get uncovered.length)" "no interface uncovered"

counter() { fw r stats --json | json_get "$1"; }
fwd_rule1=chains.forward.rules.0.packets
fwd_rule2=chains.forward.rules.1.packets
fwd_pol=chains.forward.policy_packets

# 1. A rule naming br0 passes one exchange; its request counted once.
assert_udp_ok h1 wan 192.0.2.2 7000
assert_eq 1 "$(counter $fwd_rule1)" "br0 rule counted the request once"
assert_eq 0 "$(counter $fwd_rule2)" "the port's rule never matched"
assert_eq 0 "$(counter $fwd_pol)" "nothing met the forward policy"

# 2. Exactly N packets that no br0 rule accepts: the policy counts N, not
#    2N (port and bridge), and none pass although `in p1` accepts everything.
send_n() { nsx h1 "$E2E_PY" -c "import socket,sys;s=socket.socket(2,2);[s.sendto(b'x',(sys.argv[1],int(sys.argv[2]))) for _ in range(int(sys.argv[3]))]" "$@"; }
send_n 192.0.2.2 7001 5
wait_until 10 test "$(counter $fwd_pol)" -ge 5
assert_eq 5 "$(counter $fwd_pol)" "5 packets judged once each by br0's chain"
assert_eq 0 "$(counter $fwd_rule2)" "the port's accept judged none of them"
assert_udp_fails h1 wan 192.0.2.2 7002

# 3. Input through the bridge: a rule naming br0.
assert_ping_ok h1 10.1.0.1
assert_ge 1 "$(counter chains.input.rules.0.packets)" "input rule naming br0 counted"

# 4. Bridged between ports: layer 2, not the forward chain.
before=$(counter $fwd_pol)
assert_udp_ok h1 h2 10.1.0.3 7003
assert_eq "$before" "$(counter $fwd_pol)" "bridged frames never met the forward chain"

# 5. An explicit selection naming a port and its bridge: the port is still
#    judged at the bridge (status says so), no XDP on p1.
sed 's/"version": 1,/"version": 1, "interfaces": ["p1", "p2", "br0", "vlan2"],/' \
    "$E2E_TMP/rules.json" >"$E2E_TMP/explicit.json"
assert_exit 0 "apply, explicit selection with ports" fw r apply "$E2E_TMP/explicit.json"
assert_eq "" "$(fw r status --json | json_get attachments | json_find interface=p1 hook 2>/dev/null)" "p1 still not attached"
assert_udp_fails h1 wan 192.0.2.2 7004
assert_udp_ok h1 wan 192.0.2.2 7000

# 6. Only the port selected: then it is the port's program, as asked.
sed 's/"version": 1,/"version": 1, "interfaces": ["p1", "vlan2"],/' \
    "$E2E_TMP/rules.json" >"$E2E_TMP/port.json"
assert_exit 0 "apply, only the port" fw r apply "$E2E_TMP/port.json"
assert_match '"p1"' "$(fw r status --json | json_get attachments)" "p1 attached when br0 is not selected"

e2e_finish
