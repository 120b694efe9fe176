#!/bin/bash
# On the stock kernel: apply a ruleset on a router namespace, attach XDP on
# ingress and TC on egress (tcx on >= 6.6, clsact + cls_bpf below), forward
# one UDP port and drop another with real packets, counters asserted (a burst
# of one dropped flow from the drop memo), and
# `fwctl status` naming the modes. `fwctl down` leaves no filter behind.
#   lan (10.1.0.2) --vlan1-- r --vlan2-- wan (192.0.2.2)
. "$VM_SRC/tests/vm/guest/lib.sh"
e2e_init
router_topology

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "vlan2", "proto": "udp", "dport": 500 } ],
  "forward": [
    { "action": "accept", "in": "vlan1", "out": "vlan2", "proto": "udp", "dport": 7000 },
    { "action": "accept", "in": "vlan1", "out": "vlan2", "proto": "icmp" } ] }
JSON
assert_udp_ok lan wan 192.0.2.2 7001          # no firewall yet: everything flows
# Someone else's egress filter, there before fwctl: it must survive apply and down.
nsx r tc qdisc add dev vlan2 clsact
nsx r tc filter add dev vlan2 egress prio 5 handle 7 matchall action pass

assert_exit 0 "fwctl apply on $(vm_kernel)" fw r apply "$E2E_TMP/rules.json"
status=$(fw r status --json)
echo "$status"
assert_eq 6 "$(echo "$status" | json_get attachments.length)" "XDP, TC ingress (reject answers) and TC egress on vlan1 and vlan2"
if vm_kernel_at_least 6.6; then egress=tcx; else egress=tc-clsact; fi
assert_match "\"mode\": \"$egress\"" "$status" "TC egress attached as $egress"
assert_match '"mode": "(native|generic)"' "$status" "XDP mode reported"

assert_ok "forward UDP 7000 lan -> wan" udp_arrives lan wan 192.0.2.2 7000
assert_udp_fails lan wan 192.0.2.2 7001
assert_ping_ok lan 192.0.2.2
assert_ok "input UDP 500 arrives" udp_arrives wan r 192.0.2.1 500
assert_udp_fails wan r 192.0.2.1 501
stats=$(fw r stats --json)
assert_ge 1 "$(echo "$stats" | json_get chains.forward.rules.0.packets)" "forward rule 0 counted UDP 7000"
assert_ge 1 "$(echo "$stats" | json_get chains.forward.rules.1.packets)" "forward rule 1 counted the pings"
assert_ge 1 "$(echo "$stats" | json_get chains.forward.policy_packets)" "forward policy counted UDP 7001"
assert_ge 1 "$(echo "$stats" | json_get chains.input.policy_packets)" "input policy counted UDP 501"

# The drop memo on the stock kernel's verifier and JIT: a burst of one flow
# the forward policy drops, well inside the memo's 67 ms: the first packet
# is judged, the rest are dropped from memory (on the CPU that judged it),
# every one counted against the policy.
pol0=$(echo "$stats" | json_get chains.forward.policy_packets)
memo0=$(echo "$stats" | json_get other.drop_memo.packets)
nsx lan "$E2E_PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 40123))
for i in range(20):
    s.sendto(b"memo", ("192.0.2.2", 7001))'
stats=$(fw r stats --json)
assert_ge $((pol0 + 20)) "$(echo "$stats" | json_get chains.forward.policy_packets)" "forward policy counted all 20 of the burst"
assert_ge $((memo0 + 1)) "$(echo "$stats" | json_get other.drop_memo.packets)" "the drop memo dropped some of them"

# Reply traffic of an accepted flow comes back through TC egress (conntrack).
assert_udp_ok lan wan 192.0.2.2 7000

assert_exit 0 "fwctl down" fw r down
assert_udp_ok lan wan 192.0.2.2 7001
filters=$(nsx r tc filter show dev vlan2 egress 2>/dev/null)
echo "$filters"
assert_match 'matchall' "$filters" "the other owner's filter on vlan2 survived apply and down"
assert_ok "no fwctl filter left on vlan2 after down" bash -c "! grep -q 'fw_tc_egress' <<<'$filters'"

if ! vm_kernel_at_least 6.6; then
	# clsact: a foreign cls_bpf filter at fwctl's reserved handle/priority is
	# never replaced; apply fails saying so and leaves it there.
	nsx r tc qdisc add dev vlan1 clsact
	nsx r tc filter add dev vlan1 egress prio 1 handle 0xf3c7 bpf bytecode '1,6 0 0 4294967295,'
	out=$(fw r apply "$E2E_TMP/rules.json" 2>&1); rc=$?
	echo "$out" | tail -3
	assert_ne 0 "$rc" "apply refuses to replace a foreign filter at the reserved slot"
	assert_match 'reserved clsact handle' "$out" "the error names the reserved handle"
	assert_match 'handle 0xf3c7' "$(nsx r tc filter show dev vlan1 egress)" "the foreign filter is still there"
	fw r down >/dev/null 2>&1
	assert_match 'handle 0xf3c7' "$(nsx r tc filter show dev vlan1 egress)" "down did not remove the foreign filter"
fi
e2e_finish
