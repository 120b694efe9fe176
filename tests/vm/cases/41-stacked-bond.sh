#!/bin/bash
# Bonding on the stock kernel (docs/stacked.md): rules naming bond0 work, the
# slaves get no program of their own, and a slave failing over keeps both
# the filtering and the connections (entries say bond0, whichever slave).
#   lan: bond0 (e1, e2; 10.1.0.2) ==== r: bond0 (b1, b2; 10.1.0.1) -- vlan2 == wan
. "$VM_SRC/tests/vm/guest/lib.sh"
vm_modprobe bonding || { echo "SKIP: no bonding module"; exit 77; }
e2e_init
ns_add r lan wan
link_veth r b1 lan e1
link_veth r b2 lan e2
link_veth r vlan2 wan eth0
for s in r lan; do
	n=$(ns_name $s)
	ip -n "$n" link add bond0 type bond mode active-backup miimon 50 || e2e_die "bond in $s"
done
for p in "r b1" "r b2" "lan e1" "lan e2"; do
	set -- $p
	ip -n "$(ns_name $1)" link set "$2" down
	ip -n "$(ns_name $1)" link set "$2" master bond0 || e2e_die "enslave $2"
done
addr r bond0 10.1.0.1/24
addr lan bond0 10.1.0.2/24
addr r vlan2 192.0.2.1/24
addr wan eth0 192.0.2.2/24
route lan default 10.1.0.1
route wan default 192.0.2.1
forwarding r 1
wait_ping lan 10.1.0.1 10 || e2e_die "bond does not come up"

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "bond0", "proto": "icmp" } ],
  "forward": [
    { "action": "accept", "in": "bond0", "out": "vlan2", "proto": "udp", "dport": 7000 },
    { "action": "accept", "in": "b1", "out": "vlan2", "comment": "a slave: never the layer that routes" }
  ] }
JSON
assert_exit 0 "apply, default selection" fw r apply "$E2E_TMP/rules.json"
status=$(fw r status --json)
echo "$status"
assert_match '"bond0"' "$(echo "$status" | json_get attachments)" "bond0 attached"
assert_match 'b1.*slave of bond bond0' "$(echo "$status" | json_get stacked)" "b1 judged at bond0"
assert_eq "" "$(echo "$status" | json_get attachments | json_find interface=b1 hook 2>/dev/null)" "nothing on b1"

counter() { fw r stats --json | json_get "$1"; }
assert_udp_ok lan wan 192.0.2.2 7000 40000
assert_eq 1 "$(counter chains.forward.rules.0.packets)" "in bond0 counted the request once"
assert_udp_fails lan wan 192.0.2.2 7001
assert_eq 0 "$(counter chains.forward.rules.1.packets)" "the slave's rule never matched"
assert_ping_ok lan 10.1.0.1

# Fail over: the active slave goes down on both sides.
active=$(nsx r cat /sys/class/net/bond0/bonding/active_slave 2>/dev/null || echo b1)
nsx r ip link set b1 down
nsx lan ip link set e1 down
wait_until 10 sh -c "nsenter --net=$(ns_path r) cat /proc/net/bonding/bond0 | grep -q 'Currently Active Slave: b2'" ||
	fail "r's bond0 did not fail over to b2"
wait_ping lan 10.1.0.1 10
# The connection made before the failover: wan's reply from port 7000 to
# lan's 40000 is ESTABLISHED (no rule lets wan -> lan in).
assert_udp_ok wan lan 10.1.0.2 40000 7000
assert_udp_fails wan lan 10.1.0.2 40001 7000
# Filtering goes on through the other slave.
assert_udp_ok lan wan 192.0.2.2 7000 40002
assert_udp_fails lan wan 192.0.2.2 7002
echo "active slave before failover: $active"
e2e_finish
