#!/bin/bash
# The seed's Scenario 1 with kernel IPsec: strongSwan's charon with
# kernel-netlink and no kernel-libipsec, so ESP is protocol 50 on the wire
# and the kernel encrypts and decrypts (docs/stacked.md, "Kernel IPsec").
# The seed's rules as written: alice accepts IKE (UDP 500) and ESP on vlan2;
# bob accepts ESP on vlan2 and ICMP from 10.1.0.0/16. Both policies drop.
# The seed's verification, `alice ping 10.2.0.1`, needs: bob's input chain
# to judge the decrypted echo request (native XDP never sees it: the TC
# ingress program does; generic XDP does itself), and alice to know her own
# ping (encrypted before any device sees it: the xfrm_output hook), so the
# decrypted reply is ESTABLISHED.
#   h1 -- alice (192.168.0.1) ==vlan2== ESP ==vlan2== bob (192.168.0.2) -- h3
. "$VM_SRC/tests/vm/guest/lib.sh"
. "$VM_SRC/tests/e2e/lib/strongswan.sh"
vm_modprobe esp4 || { echo "SKIP: no esp4 module"; exit 77; }
SW_PLUGINS="random nonce openssl kdf pem pkcs1 x509 pubkey curve25519 hmac sha1 sha2 aes gcm kernel-netlink socket-default vici"
PSK="vm-scenario1-kernel-esp-0123456789"
e2e_init scenario1k
stat() { fw "$1" stats --json | json_get "$2"; }
dump_on_fail() {
	[ "$E2E_FAIL" -gt 0 ] || return 0
	for s in alice bob; do fw "$s" status; fw "$s" stats; fw "$s" conntrack; sw_status "$s"; sw_dump_logs "$s"; done
	for s in alice bob; do echo "== $s: xfrm policies, routes"; nsx "$s" ip xfrm policy; nsx "$s" ip route show table all | grep -v local; done
	[ -f "$E2E_TMP/wire.pcap" ] && nsx bob tcpdump -n -r "$E2E_TMP/wire.pcap" 2>/dev/null | head -30
}
e2e_on_cleanup dump_on_fail

ns_add alice bob h1 h3
for s in alice bob h1 h3; do
	ns_sysctl "$s" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
link_veth alice vlan2 bob vlan2
addr alice vlan2 192.168.0.1/24
addr bob vlan2 192.168.0.2/24
link_veth alice vlan1 h1 eth0
addr alice vlan1 10.1.0.1/16
addr h1 eth0 10.1.0.2/16
route h1 default 10.1.0.1
link_veth bob vlan1 h3 eth0
addr bob vlan1 10.2.0.1/16
addr h3 eth0 10.2.0.2/16
route h3 default 10.2.0.1
forwarding alice 1
forwarding bob 1
# Native XDP on the WAN veths where the kernel can (their peers take frames).
nsx alice ethtool -K vlan2 gro on >/dev/null 2>&1 || true
nsx bob ethtool -K vlan2 gro on >/dev/null 2>&1 || true

cat >"$E2E_TMP/alice.json" <<'JSON'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "in": "vlan2", "dport": 500, "proto": "udp", "comment": "IKE" },
    { "action": "accept", "in": "vlan2", "proto": "esp", "comment": "IPsec ESP" } ] }
JSON
cat >"$E2E_TMP/bob.json" <<'JSON'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "in": "vlan2", "proto": "esp", "comment": "IPsec ESP" },
    { "action": "accept", "saddr": "10.1.0.0/16", "proto": "icmp", "comment": "IPsec ESP" } ] }
JSON
out=$(fw alice apply "$E2E_TMP/alice.json" 2>&1); rc=$?
echo "$out"
assert_eq 0 "$rc" "apply the seed's rules on alice"
assert_exit 0 "apply the seed's rules on bob" fw bob apply "$E2E_TMP/bob.json"
fw bob status
# The kernel IPsec hooks (bpf/xfrm_out.bpf.c) this case depends on.
hooks=$(ls "$(fw_pin_dir alice)")
assert_match link_fentry_xfrm_output "$hooks" "alice: the xfrm_output hook is attached"

sw_start alice
sw_start bob
sw_conn alice local_addrs=192.168.0.1 remote_addrs=%any \
	local_id=alice.example remote_id=bob.example \
	local_ts=10.1.0.0/16 remote_ts=10.2.0.0/16 psk="$PSK" start_action=none
sw_conn bob local_addrs=192.168.0.2 remote_addrs=192.168.0.1 \
	local_id=bob.example remote_id=alice.example \
	local_ts=10.2.0.0/16 remote_ts=10.1.0.0/16 psk="$PSK" start_action=none
sw_load alice
sw_load bob
assert_ok "bob initiates the tunnel through both firewalls (seed rules only)" sw_initiate bob
assert_tunnel_up bob 20
assert_tunnel_up alice 20
assert_ge 1 "$(stat alice chains.input.rules.0.packets)" "alice: IKE rule counted bob's UDP 500"

# What bob sends (inbound, AF_PACKET also sees the decrypted packets the
# kernel re-injects on vlan2): ESP only.
capture_start bob vlan2 "$E2E_TMP/wire.pcap" -Q out
# Bob's ESP first: alice's seed rule `proto esp` takes it (a new flow); the
# decrypted echo request inside then meets her input policy (the seed gives
# alice no ICMP rule).
pol=$(stat alice chains.input.policy_packets)
assert_ping_fails bob 10.1.0.1
assert_ge 1 "$(stat alice chains.input.rules.1.packets)" "alice: ESP (proto 50) met 'proto esp'"
assert_ge $((pol + 1)) "$(stat alice chains.input.policy_packets)" \
	"alice: bob's decrypted echo request met her input policy (no ICMP rule in the seed)"
# The seed's verification: alice's own ping (tracked where kernel IPsec
# encrypts it, bpf/lib/xfrm_out.h), bob's rule for ICMP from 10.1.0.0/16.
# Bob's own ESP flow would answer for alice's: forget it, so that alice's
# ESP meets bob's seed rule `proto esp`.
assert_exit 0 "flush bob's connection table" fw bob conntrack flush
icmp=$(stat bob chains.input.rules.1.packets)
assert_ping_ok alice 10.2.0.1
assert_ge $((icmp + 1)) "$(stat bob chains.input.rules.1.packets)" \
	"bob: the decrypted echo request met input (saddr 10.1.0.0/16 proto icmp)"
assert_ge 1 "$(stat bob chains.input.rules.0.packets)" "bob: ESP (proto 50) met 'proto esp'"
# Bob lets his LAN out (beyond the seed); nothing lets it in at alice: the
# decrypted packets meet alice's forward policy.
sed 's/"input": \[/"forward": [ { "action": "accept", "in": "vlan1", "out": "vlan2" } ],\n  "input": [/' \
	"$E2E_TMP/bob.json" >"$E2E_TMP/bob-out.json"
assert_exit 0 "bob lets his LAN out" fw bob apply "$E2E_TMP/bob-out.json"
pol=$(stat alice chains.forward.policy_packets)
assert_ping_fails h3 10.1.0.2
assert_ge $((pol + 1)) "$(stat alice chains.forward.policy_packets)" \
	"alice: decrypted traffic from bob's LAN met the forward policy"
capture_stop
assert_eq 0 "$(nsx bob tcpdump -n -r "$E2E_TMP/wire.pcap" icmp 2>/dev/null | wc -l)" "no ICMP in clear on the wire"
assert_ge 1 "$(nsx bob tcpdump -n -r "$E2E_TMP/wire.pcap" 'ip proto 50' 2>/dev/null | wc -l)" "ESP is protocol 50 on the wire"
e2e_finish
