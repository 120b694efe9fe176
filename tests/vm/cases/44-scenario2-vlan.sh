#!/bin/bash
# The seed's Scenario 2 with the firewall's vlan1/vlan2 as real 802.1Q
# devices (tests/e2e/scenario2.sh unchanged, E2E_VLAN_NS=fw: see
# link_veth in tests/e2e/lib/netns.sh). fwctl's default selection attaches
# to the parents vlan1t/vlan2t and judges tagged frames as vlan1/vlan2
# (docs/stacked.md), so the seed's rules, NAT and port forwards apply as
# written.
. "$VM_SRC/tests/vm/guest/lib.sh"
vm_modprobe 8021q || { echo "SKIP: no 8021q module"; exit 77; }
vm_modprobe tun 2>/dev/null || true
E2E_VLAN_NS=fw exec /usr/bin/bash "$VM_SRC/tests/e2e/scenario2.sh"
