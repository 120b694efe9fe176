#!/bin/bash
# Foundation end to end: a router with vlan1/vlan2 and real traffic.
#   lan (10.1.0.2) --vlan1-- router --vlan2-- wan (192.0.2.2)
# Input policy drop with the seed's "input accept in vlan2 dport 500 proto
# udp"; a forward rule that passes one port and not another; counters;
# status; a re-apply; `fwctl down` lets everything through again.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

router_topology

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "in": "vlan2", "proto": "udp", "dport": 500, "comment": "IKE" }
  ],
  "forward": [
    { "action": "accept", "in": "vlan1", "out": "vlan2", "proto": "udp", "dport": 7000, "comment": "one port" }
  ] }
JSON

# Before any firewall: everything flows.
assert_udp_ok wan r 192.0.2.1 501

assert_exit 0 "fwctl apply" fw r apply "$E2E_TMP/rules.json"
status=$(fw r status --json)
assert_eq 6 "$(echo "$status" | json_get attachments.length)" "XDP, TC ingress (reject answers) and TC egress on vlan1 and vlan2"
assert_match '"mode": "(native|generic)"' "$status" "status reports the XDP mode"

# Input chain: UDP 500 arrives, UDP 501 does not.
assert_ok "UDP to 500 arrives at the router" udp_arrives wan r 192.0.2.1 500
assert_udp_fails wan r 192.0.2.1 501
stats=$(fw r stats --json)
assert_ge 1 "$(echo "$stats" | json_get chains.input.rules.0.packets)" "rule 'IKE' counted the UDP 500 packet"
assert_eq "IKE" "$(echo "$stats" | json_get chains.input.rules.0.comment)" "comment shown"
assert_ge 1 "$(echo "$stats" | json_get chains.input.policy_packets)" "input policy counted the UDP 501 packet"

# Forward chain: port 7000 passes through the router, 7001 does not.
assert_ok "forward UDP 7000 LAN -> WAN" udp_arrives lan wan 192.0.2.2 7000
assert_udp_fails lan wan 192.0.2.2 7001
stats=$(fw r stats --json)
assert_ge 1 "$(echo "$stats" | json_get chains.forward.rules.0.packets)" "forward rule counted"
assert_ge 1 "$(echo "$stats" | json_get chains.forward.policy_packets)" "forward policy counted 7001"
assert_ping_fails lan 192.0.2.2

# A broken file changes nothing and exits 2.
echo '{ "version": 1, "input": [ { "action": "accept", "dport": 70000 } ] }' >"$E2E_TMP/bad.json"
assert_exit 2 "bad file is refused with exit 2" fw r apply "$E2E_TMP/bad.json"
assert_ok "the running ruleset still passes UDP 500" udp_arrives wan r 192.0.2.1 500
assert_udp_fails wan r 192.0.2.1 501

# Re-apply the same file: counters of unchanged rules survive.
before=$(fw r stats --json | json_get chains.input.rules.0.packets)
assert_exit 0 "re-apply" fw r apply "$E2E_TMP/rules.json"
assert_eq "$before" "$(fw r stats --json | json_get chains.input.rules.0.packets)" "counter survived the re-apply"

# Down: everything flows again; down twice is fine.
assert_exit 0 "fwctl down" fw r down
assert_udp_ok wan r 192.0.2.1 501
assert_ok "forward 7001 after down" udp_arrives lan wan 192.0.2.2 7001
assert_exit 0 "fwctl down again (idempotent)" fw r down
assert_eq 0 "$(ls "$(fw_pin_dir r)" 2>/dev/null | wc -l)" "no pins left after down"
e2e_finish
