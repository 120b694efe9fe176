#!/bin/bash
# The seed's Scenario 1 (IPsec gateway with integrated firewall), verbatim:
# alice (responder) and bob (initiator) each run fwctl with the seed's rules
# and both policies drop, on the figure's addresses; LAN hosts h1 (alice)
# and h3 (bob). First real traffic against the rules and the connection
# table, then real strongSwan IKEv2 through both firewalls.
#
#   sudo FWCTL=build/fwctl tests/e2e/scenario1.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
. "$HERE/lib/strongswan.sh"
: "${FWCTL:?path of the fwctl binary}"
PSK="e2e-scenario1-psk-0123456789"

e2e_init scenario1

dump_on_fail() {
    [ "$E2E_FAIL" -gt 0 ] || return 0
    local s
    for s in alice bob; do
        echo "=== $s: stats / conntrack ==="
        fw "$s" stats 2>&1
        fw "$s" conntrack 2>&1
        [ -n "${SW_PID[$s]:-}" ] && { sw_status "$s"; sw_dump_logs "$s"; }
    done
}
e2e_on_cleanup dump_on_fail

# stat NS PATH: one number of `fwctl stats --json`
stat() { fw "$1" stats --json | json_get "$2"; }

ns_add alice bob h1 h3
# IPv4 only: IPv6 link-local chatter (MLD reports) would meet the input
# policies and blur the policy counters this test reads.
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

# --- the seed's rules ------------------------------------------------------
# Alice: input accept in vlan2 dport 500 proto udp comment "IKE"
#        input accept in vlan2 proto esp comment "IPsec ESP"
# plus one forward rule so her LAN may reach the WAN without the tunnel
# (the seed shows none; without it h1 could not ping Bob directly).
cat >"$E2E_TMP/alice.json" <<'EOF'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "in": "vlan2", "dport": 500, "proto": "udp", "comment": "IKE" },
    { "action": "accept", "in": "vlan2", "proto": "esp", "comment": "IPsec ESP" } ],
  "forward": [
    { "action": "accept", "in": "vlan1", "out": "vlan2", "saddr": "10.1.0.0/16", "comment": "LAN out" } ] }
EOF
# Bob: input accept in vlan2 proto esp comment "IPsec ESP"
#      input accept saddr 10.1.0.0/16 proto icmp comment "IPsec ESP"
cat >"$E2E_TMP/bob.json" <<'EOF'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "in": "vlan2", "proto": "esp", "comment": "IPsec ESP" },
    { "action": "accept", "saddr": "10.1.0.0/16", "proto": "icmp", "comment": "IPsec ESP" } ] }
EOF
# Bob without the ICMP rule, to show what it is for.
cat >"$E2E_TMP/bob-noicmp.json" <<'EOF'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "in": "vlan2", "proto": "esp", "comment": "IPsec ESP" } ] }
EOF

assert_exit 0 "apply the seed's rules on alice" fw alice apply "$E2E_TMP/alice.json"
assert_exit 0 "apply the seed's rules on bob" fw bob apply "$E2E_TMP/bob.json"

# --- 1. IKE: Bob opens UDP 500 to Alice; her answers pass Bob's firewall ---
# Bob has no rule for them: the connection is his own (tracked on egress).
assert_udp_ok bob alice 192.168.0.1 500 500
assert_eq 1 "$(stat alice chains.input.rules.0.packets)" "alice: IKE rule counted bob's request"
assert_eq 0 "$(stat bob chains.input.policy_packets)" "bob: alice's answer did not meet the policy"
assert_ge 1 "$(stat bob state.established.packets)" "bob: alice's answer accepted as established"
assert_eq established "$(fw bob conntrack --json | json_find proto=udp dport=500 state)" \
    "bob's conntrack: his IKE connection is established"
assert_eq true "$(fw bob conntrack --json | json_find proto=udp dport=500 local)" \
    "bob's conntrack: opened by bob himself"
assert_eq 192.168.0.1 "$(fw bob conntrack --json | json_find proto=udp dport=500 reply_src)" \
    "bob's conntrack: replies come from alice"
# Again, same ports: now the table answers on alice too, the rule stays at 1.
assert_udp_ok bob alice 192.168.0.1 500 500
assert_eq 1 "$(stat alice chains.input.rules.0.packets)" "alice: a known IKE connection bypasses the rule"

# --- 2. An unsolicited UDP 500 packet from Alice to Bob: Bob's policy -------
pol=$(stat bob chains.input.policy_packets)
assert_udp_fails alice bob 192.168.0.2 500
assert_ge $((pol + 1)) "$(stat bob chains.input.policy_packets)" "bob: unsolicited UDP 500 counted by the input policy"

# --- 3. ESP (IP protocol 50, raw): passes where the rules say ---------------
assert_ipproto_ok bob alice 192.168.0.1 50
assert_eq 1 "$(stat alice chains.input.rules.1.packets)" "alice: ESP rule counted bob's ESP"
assert_exit 0 "flush bob's table" fw bob conntrack flush
assert_exit 0 "flush alice's table" fw alice conntrack flush
assert_eq 0 "$(fw bob conntrack --json | json_get length)" "bob's table is empty after flush"
assert_ipproto_ok alice bob 192.168.0.2 50
assert_eq 1 "$(stat bob chains.input.rules.0.packets)" "bob: ESP rule counted alice's ESP"
assert_ipproto_fails bob alice 192.168.0.1 51   # AH: no rule on alice
assert_ipproto_fails alice bob 192.168.0.2 47   # GRE: no rule on bob

# --- 4. Ping from Alice's LAN to Bob (no tunnel yet: a route on Bob) --------
route bob 10.1.0.0/16 192.168.0.1
assert_exit 0 "bob without the ICMP rule" fw bob apply "$E2E_TMP/bob-noicmp.json"
pol=$(stat bob chains.input.policy_packets)
assert_ping_fails h1 192.168.0.2
assert_ge $((pol + 1)) "$(stat bob chains.input.policy_packets)" "bob: h1's pings met the input policy"
assert_exit 0 "bob with the seed's ICMP rule" fw bob apply "$E2E_TMP/bob.json"
assert_ping_ok h1 192.168.0.2
assert_ge 1 "$(stat bob chains.input.rules.1.packets)" "bob: ICMP rule (saddr 10.1.0.0/16) counted h1's ping"
assert_ge 1 "$(stat alice chains.forward.rules.0.packets)" "alice: h1's ping left by the LAN-out rule"
assert_ping_fails h3 10.1.0.2   # nothing lets bob's LAN into alice's (no tunnel, no rule)
nsx bob ip route del 10.1.0.0/16 via 192.168.0.1

# --- 5. strongSwan with the seed's rules alone: no tunnel -------------------
# kernel-libipsec always encapsulates: IKE_AUTH and ESP use UDP 4500, which
# the seed's rules on alice do not accept (the seed's note: allow UDP 4500).
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
fw alice conntrack flush >/dev/null
fw bob conntrack flush >/dev/null
pol=$(stat alice chains.input.policy_packets)
assert_fails "seed rules only (no UDP 4500 on alice): the tunnel does not come up" sw_initiate bob net 30
assert_tunnel_down bob
assert_ge $((pol + 1)) "$(stat alice chains.input.policy_packets)" "alice: IKE_AUTH on UDP 4500 met her input policy"
sw_swanctl bob --terminate --ike gw --timeout 5 >/dev/null 2>&1

# --- 6. With UDP 4500 on alice, and forward rules for the tunnelled LANs ----
cat >"$E2E_TMP/alice-4500.json" <<'EOF'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "in": "vlan2", "dport": 500, "proto": "udp", "comment": "IKE" },
    { "action": "accept", "in": "vlan2", "proto": "esp", "comment": "IPsec ESP" },
    { "action": "accept", "in": "vlan2", "dport": 4500, "proto": "udp", "comment": "NAT-T" } ],
  "forward": [
    { "action": "accept", "in": "vlan1", "out": "vlan2", "saddr": "10.1.0.0/16", "comment": "LAN out" },
    { "action": "accept", "saddr": "10.1.0.0/16", "daddr": "10.2.0.0/16", "comment": "to bob's LAN" },
    { "action": "accept", "in": "ipsec0", "saddr": "10.2.0.0/16", "daddr": "10.1.0.0/16", "comment": "from bob's LAN" } ] }
EOF
cat >"$E2E_TMP/bob-tunnel.json" <<'EOF'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "in": "vlan2", "proto": "esp", "comment": "IPsec ESP" },
    { "action": "accept", "saddr": "10.1.0.0/16", "proto": "icmp", "comment": "IPsec ESP" } ],
  "forward": [
    { "action": "accept", "in": "ipsec0", "saddr": "10.1.0.0/16", "daddr": "10.2.0.0/16", "comment": "from alice's LAN" },
    { "action": "accept", "saddr": "10.2.0.0/16", "daddr": "10.1.0.0/16", "comment": "to alice's LAN" } ] }
EOF
# charon created ipsec0 when it started, after the first apply, so ipsec0 is
# not covered yet. `fwctl watch` attaches to interfaces that appear later
# (tests/e2e/watch.sh covers it); this test runs no watcher and re-applies
# after charon has created ipsec0, which attaches the firewall to it too.
assert_ok "ipsec0 exists in alice" nsx alice ip link show ipsec0
assert_exit 0 "alice: seed rules + UDP 4500 + tunnel forward rules" fw alice apply "$E2E_TMP/alice-4500.json"
assert_exit 0 "bob: seed rules + tunnel forward rules" fw bob apply "$E2E_TMP/bob-tunnel.json"
assert_match '"interface": "ipsec0"' "$(fw bob status --json)" "bob: the firewall is attached to ipsec0"

assert_ok "bob initiates the tunnel through both firewalls" sw_initiate bob
assert_tunnel_up bob 10
assert_tunnel_up alice 10
assert_ge 1 "$(stat alice chains.input.rules.2.packets)" "alice: NAT-T rule (UDP 4500) counted IKE_AUTH"
assert_eq established "$(fw bob conntrack --json | json_find proto=udp dport=4500 state)" \
    "bob's conntrack: his UDP 4500 connection to alice is established"

# The seed's verification: alice pings bob's LAN address; source 10.1.0.1
# (charon's table 220), so Bob's "saddr 10.1.0.0/16 proto icmp" lets it in.
icmp=$(stat bob chains.input.rules.1.packets)
assert_ping_ok alice 10.2.0.1
assert_ge $((icmp + 1)) "$(stat bob chains.input.rules.1.packets)" "bob: ICMP rule counted alice's ping through the tunnel"
# LAN to LAN through the tunnel, both ways.
assert_ping_ok h1 10.2.0.2
assert_ge 1 "$(stat bob chains.forward.rules.0.packets)" "bob: forward rule in ipsec0 counted h1's ping"
assert_ge 1 "$(stat alice chains.forward.rules.1.packets)" "alice: forward rule to bob's LAN counted h1's ping"
assert_ping_ok h3 10.1.0.2
assert_ge 1 "$(stat alice chains.forward.rules.2.packets)" "alice: forward rule in ipsec0 counted h3's ping"
assert_udp_ok h1 h3 10.2.0.2 5001
# Without the forward rules the tunnel is up but its traffic meets the
# forward policy on the receiving gateway.
assert_exit 0 "bob without the tunnel forward rules" fw bob apply "$E2E_TMP/bob.json"
# (No flush here: that would drop the tunnel's own UDP 4500 connection,
# which only bob's table lets in. A new UDP flow meets the chains instead.)
pol=$(stat bob chains.forward.policy_packets)
assert_udp_fails h1 h3 10.2.0.2 5002
assert_ge $((pol + 1)) "$(stat bob chains.forward.policy_packets)" "bob: tunnelled UDP met the forward policy"
assert_ping_ok alice 10.2.0.1   # input: bob's ICMP rule still covers the seed's ping

e2e_finish
