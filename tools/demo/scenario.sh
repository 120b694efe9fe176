#!/bin/bash
# The demo: the seed's Scenario 2, "IPsec through a NAT firewall", with real
# strongSwan, in network namespaces that vanish at the end.
#
#   h1 (10.1.0.2) -- alice (IPsec gateway, 192.168.1.2) -- fw -- bob (IPsec gateway, 203.0.113.2) -- h3 (10.2.0.2)
#                    LAN 10.1.0.0/16        vlan1 192.168.1.1 | vlan2 203.0.113.1      LAN 10.2.0.0/16
#
# fw runs fwctl with the rules of docs (rules-format.md): masquerade out
# vlan2, port forwards of UDP 500, UDP 4500 and ESP to alice. bob dials
# fw's public address; fwctl forwards IKE to alice and translates back.
#   sudo tools/demo.sh         (FWCTL=build/fwctl tools/demo/scenario.sh when built)
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../../tests/e2e/lib/netns.sh"
. "$HERE/../../tests/e2e/lib/strongswan.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init demo
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }

say "1. The network: five namespaces, veths only inside them"
ns_add alice fw bob h1 h3
for s in alice fw bob h1 h3; do
    ns_sysctl "$s" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
link_veth alice vlan2 fw vlan1;  link_veth fw vlan2 bob vlan2
addr alice vlan2 192.168.1.2/24; addr fw vlan1 192.168.1.1/24
addr fw vlan2 203.0.113.1/24;    addr bob vlan2 203.0.113.2/24
route alice default 192.168.1.1
link_veth alice vlan1 h1 eth0; addr alice vlan1 10.1.0.1/16; addr h1 eth0 10.1.0.2/16; route h1 default 10.1.0.1
link_veth bob vlan1 h3 eth0;   addr bob vlan1 10.2.0.1/16;   addr h3 eth0 10.2.0.2/16;   route h3 default 10.2.0.1
forwarding alice 1; forwarding fw 1; forwarding bob 1
note "alice 192.168.1.2 (behind fw) | fw 192.168.1.1 / 203.0.113.1 | bob 203.0.113.2"

say "2. fw's ruleset (the guide's Scenario 2)"
cp "$(dirname "$0")/../../tests/e2e/rules/scenario2-fw.json" "$E2E_TMP/fw.json"
cat "$E2E_TMP/fw.json"

say "3. fwctl apply, fwctl status"
fw fw apply "$E2E_TMP/fw.json"
fw fw status

say "4. strongSwan on alice (responder) and bob (initiator, dials 203.0.113.1)"
PSK="demo-psk-$(date +%s)"
sw_start alice; sw_start bob
sw_conn alice local_addrs=192.168.1.2 remote_addrs=%any local_id=alice.example remote_id=bob.example \
    local_ts=10.1.0.0/16 remote_ts=10.2.0.0/16 psk="$PSK" start_action=none
sw_conn bob local_addrs=203.0.113.2 remote_addrs=203.0.113.1 local_id=bob.example remote_id=alice.example \
    local_ts=10.2.0.0/16 remote_ts=10.1.0.0/16 psk="$PSK" start_action=none
sw_load alice; sw_load bob
assert_ok "bob brings the tunnel up through fw" sw_initiate bob
assert_tunnel_up alice 10

say "5. The tunnel, as bob sees it (swanctl --list-sas): the peer is fw's address, port 4500 (NAT-T)"
sw_swanctl bob --list-sas

say "6. Traffic"
note "LAN to LAN through the tunnel (inner addresses are not translated):"
assert_ping_ok h1 10.2.0.2
assert_ping_ok h3 10.1.0.2
note "alice to bob directly: masqueraded, bob sees fw's address:"
assert_udp_ok alice bob 203.0.113.2 7000
note "bob saw ${E2E_UDP_SEEN_SRC}"
note "a raw ESP packet (proto 50) to fw's public address is port-forwarded to alice:"
assert_ipproto_ok bob alice 203.0.113.1 50
note "alice saw it from $E2E_IP_SEEN_SRC; bob got the answer from $E2E_IP_REPLY_SRC"

say "7. fwctl stats: forward rules, NAT and port-forward hits (first packets of connections)"
fw fw stats

say "8. fwctl conntrack: original -> | reply -> ; the reply side shows the translation"
fw fw conntrack

say "9. Clean-up: tunnels down, fwctl down, namespaces deleted"
sw_stop bob; sw_stop alice
e2e_finish
