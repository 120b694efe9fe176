#!/bin/bash
# A router between a LAN (vlan1) and a WAN (vlan2) running fwctl.
set -u
. "$(dirname "$0")/../../tests/e2e/lib/netns.sh"
e2e_init demo
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

ns_add r lan wan
link_veth r vlan1 lan eth0
link_veth r vlan2 wan eth0
addr r vlan1 10.1.0.1/24; addr lan eth0 10.1.0.2/24
addr r vlan2 192.0.2.1/24; addr wan eth0 192.0.2.2/24
route lan default 10.1.0.1; route wan default 192.0.2.1
forwarding r 1

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "in": "vlan2", "proto": "udp", "dport": 500, "comment": "IKE" },
    { "action": "accept", "in": "vlan2", "proto": "esp", "comment": "IPsec ESP" }
  ],
  "forward": [
    { "action": "accept", "in": "vlan1", "out": "vlan2", "comment": "LAN out" }
  ] }
JSON
say "the ruleset"; cat "$E2E_TMP/rules.json"
say "fwctl apply"; fw r apply "$E2E_TMP/rules.json"
say "fwctl status"; fw r status
say "traffic"
assert_ok "IKE (UDP 500) from the WAN reaches the router" udp_arrives wan r 192.0.2.1 500
assert_udp_fails wan r 192.0.2.1 501
assert_ipproto_ok wan r 192.0.2.1 50 || true
assert_ok "the LAN reaches the WAN (forward accept in vlan1 out vlan2)" udp_arrives lan wan 192.0.2.2 9000
assert_udp_fails wan lan 10.1.0.2 9000
say "fwctl stats"; fw r stats
say "fwctl down: everything flows again"; fw r down
assert_udp_ok wan r 192.0.2.1 501
e2e_finish
