#!/bin/bash
# The seed's Scenario 2 (IPsec through a NAT firewall), with real strongSwan:
# alice (IPsec responder, 192.168.1.2, LAN 10.1.0.0/16 with h1) sits behind
# fw (vlan1 192.168.1.1/24, vlan2 203.0.113.1/24), which runs fwctl with the
# rules-format.md example verbatim: masquerade out vlan2, port forwards
# UDP 500, UDP 4500 and ESP to alice, policies drop. bob (203.0.113.2, LAN
# 10.2.0.0/16 with h3) dials fw's public address.
#   1. masquerade and port forwards with plain traffic (UDP, raw ESP)
#   2. the guide's troubleshooting: no UDP 500 forward -> IKE times out;
#      no UDP 4500 forward -> IKE_AUTH fails after NAT detection
#   3. the full rules: tunnel up, LANs ping each other, stats and conntrack
#   4. 1,000 masqueraded flows at once through one address, same source
#      ports on several inside addresses: unique translations, all replies
#
#   sudo FWCTL=build/fwctl tests/e2e/scenario2.sh
#
# With E2E_FASTPATH=1 (tests/e2e/scenario2_fastpath.sh) the same runs with
# "fastpath": true and fw's XDP native (GRO on its peers, as a NIC is):
# translated plain traffic leaves from XDP, while IKE and NAT-T never do.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
. "$HERE/lib/strongswan.sh"
: "${FWCTL:?path of the fwctl binary}"
PSK="e2e-scenario2-psk-0123456789"

e2e_init scenario2

dump_on_fail() {
    [ "$E2E_FAIL" -gt 0 ] || return 0
    echo "=== fw: stats / conntrack ==="
    fw fw stats 2>&1
    fw fw conntrack 2>&1 | head -40
    local s
    for s in alice bob; do
        [ -n "${SW_PID[$s]:-}" ] && { sw_status "$s"; sw_dump_logs "$s"; }
    done
}
e2e_on_cleanup dump_on_fail

stat() { fw fw stats --json | json_get "$1"; }

ns_add alice fw bob h1 h3
for s in alice fw bob h1 h3; do
    ns_sysctl "$s" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
link_veth alice vlan2 fw vlan1
link_veth fw vlan2 bob vlan2
addr alice vlan2 192.168.1.2/24
addr fw vlan1 192.168.1.1/24
addr fw vlan2 203.0.113.1/24
addr bob vlan2 203.0.113.2/24
route alice default 192.168.1.1
link_veth alice vlan1 h1 eth0
addr alice vlan1 10.1.0.1/16
addr h1 eth0 10.1.0.2/16
route h1 default 10.1.0.1
link_veth bob vlan1 h3 eth0
addr bob vlan1 10.2.0.1/16
addr h3 eth0 10.2.0.2/16
route h3 default 10.2.0.1
forwarding alice 1; forwarding fw 1; forwarding bob 1
# Complete checksums on the wire (no CHECKSUM_PARTIAL across the veths),
# so the receiving kernels really verify what fw rewrote.
for s in alice bob; do nsx "$s" ethtool -K vlan2 tx off >/dev/null 2>&1; done

# --- rules-format.md's example, verbatim (tests/e2e/rules/, shared with the demo) ---
cp "$HERE/rules/scenario2-fw.json" "$E2E_TMP/fw.json"
FASTPATH=${E2E_FASTPATH:-0}
if [ "$FASTPATH" = 1 ]; then
    "$E2E_PY" - "$E2E_TMP/fw.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); r["fastpath"] = True
json.dump(r, open(sys.argv[1], "w"), indent=1)
PY
    # Peers that take XDP frames (GRO on gives a veth its NAPI): fw's XDP
    # runs native and both of its interfaces are fast-path targets.
    for s in alice bob; do nsx "$s" ethtool -K vlan2 gro on >/dev/null; done
fi
fastpath_packets() { stat other.fastpath.packets; }
# without_pf PORT: the same rules without the port forward of UDP PORT
without_pf() {
    "$E2E_PY" - "$E2E_TMP/fw.json" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["port-forward"] = [p for p in r["port-forward"] if p.get("dport") != int(sys.argv[2])]
print(json.dumps(r, indent=1))
PY
}
without_pf 500 >"$E2E_TMP/fw-no500.json"
without_pf 4500 >"$E2E_TMP/fw-no4500.json"

assert_exit 0 "fw: apply the example rules" fw fw apply "$E2E_TMP/fw.json"

# --- 1. plain traffic ----------------------------------------------------------
assert_udp_ok alice bob 203.0.113.2 7000
assert_eq 203.0.113.1 "${E2E_UDP_SEEN_SRC%:*}" "alice's UDP is masqueraded to fw's address"
assert_udp_ok bob alice 203.0.113.1 500 40500
assert_eq 203.0.113.2 "${E2E_UDP_SEEN_SRC%:*}" "port forward UDP 500: alice sees bob's address"
assert_eq 203.0.113.1 "${E2E_UDP_REPLY_SRC%:*}" "port forward UDP 500: the reply comes from fw"
assert_eq 192.168.1.2 "$(fw fw conntrack --json | json_find proto=udp sport=40500 reply_src)" \
    "conntrack: reply_src of the forwarded flow is alice"
assert_eq 203.0.113.1 "$(fw fw conntrack --json | json_find proto=udp dport=7000 reply_dst)" \
    "conntrack: reply_dst of the masqueraded flow is fw's address"
assert_ipproto_ok bob alice 203.0.113.1 50
assert_eq 203.0.113.2 "$E2E_IP_SEEN_SRC" "raw ESP port-forwarded to alice from bob's address"
assert_eq 203.0.113.1 "$E2E_IP_REPLY_SRC" "raw ESP reply leaves from fw's address"
assert_ipproto_fails bob alice 203.0.113.1 47   # GRE: no port forward, input policy
assert_ge 1 "$(stat port-forward.2.packets)" "stats: ESP port forward counted"
assert_ge 1 "$(stat chains.forward.rules.3.packets)" "stats: forward accept esp counted"
assert_ge 1 "$(stat nat.0.packets)" "stats: masquerade counted"
if [ "$FASTPATH" = 1 ]; then
    assert_match '"mode": "native"' "$(fw fw status --json)" "fast path: fw's XDP is native"
    assert_ge 1 "$(fastpath_packets)" "fast path: the reply of the masqueraded flow left from XDP"
fi

# --- 2. strongSwan, the guide's troubleshooting -------------------------------
sw_start alice
sw_start bob
sw_conn alice local_addrs=192.168.1.2 remote_addrs=%any \
    local_id=alice.example remote_id=bob.example \
    local_ts=10.1.0.0/16 remote_ts=10.2.0.0/16 psk="$PSK" start_action=none
sw_conn bob local_addrs=203.0.113.2 remote_addrs=203.0.113.1 \
    local_id=bob.example remote_id=alice.example \
    local_ts=10.2.0.0/16 remote_ts=10.1.0.0/16 psk="$PSK" start_action=none
sw_load alice
sw_load bob
# charon created ipsec0 on alice; fw's rules do not involve it.

try_without() { # PORT FILE
    assert_exit 0 "fw: rules without the UDP $1 port forward" fw fw apply "$2"
    fw fw conntrack flush >/dev/null   # re-applying keeps NAT bindings (cli.md)
    : >"$E2E_TMP/bob/sw/charon.log"
    assert_fails "without the UDP $1 port forward the tunnel does not come up" sw_initiate bob net 30
    assert_tunnel_down bob
    sw_swanctl bob --terminate --ike gw --timeout 5 >/dev/null 2>&1
}
try_without 500 "$E2E_TMP/fw-no500.json"
log=$(cat "$E2E_TMP/bob/sw/charon.log")
assert_match 'retransmit .* of request .*|giving up after' "$log" "no UDP 500 forward: IKE_SA_INIT times out"
if grep -q 'parsed IKE_SA_INIT response' <<<"$log"; then
    assert_eq no yes "no UDP 500 forward: no IKE_SA_INIT response expected"
fi
try_without 4500 "$E2E_TMP/fw-no4500.json"
log=$(cat "$E2E_TMP/bob/sw/charon.log")
assert_match 'parsed IKE_SA_INIT response' "$log" "no UDP 4500 forward: IKE_SA_INIT still answered"
assert_match 'behind NAT' "$log" "no UDP 4500 forward: NAT detected"
assert_match 'retransmit .* IKE_AUTH|giving up after|IKE_AUTH request .* timed out|retransmit' "$log" \
    "no UDP 4500 forward: IKE_AUTH (on 4500) gets no answer"

# --- 3. the full rules: the tunnel -----------------------------------------------
assert_exit 0 "fw: the example rules again" fw fw apply "$E2E_TMP/fw.json"
fw fw conntrack flush >/dev/null
fast_before_ike=$(fastpath_packets)
assert_ok "bob initiates to 203.0.113.1 through fw" sw_initiate bob
assert_tunnel_up bob 10
assert_tunnel_up alice 10
sas=$(sw_swanctl bob --list-sas 2>&1)
assert_match '203\.0\.113\.1\[4500\]' "$sas" "bob talks to fw:4500 (NAT-T)"
assert_ping_ok h1 10.2.0.2
assert_ping_ok h3 10.1.0.2
assert_ping_ok bob 10.1.0.1
assert_udp_ok h3 h1 10.1.0.2 5003
assert_eq 10.2.0.2 "${E2E_UDP_SEEN_SRC%:*}" "inner addresses are not translated"
assert_ge 1 "$(stat port-forward.0.packets)" "stats: UDP 500 port forward counted"
assert_ge 1 "$(stat port-forward.1.packets)" "stats: UDP 4500 port forward counted"
assert_ge 1 "$(stat chains.forward.rules.1.packets)" "stats: forward accept udp 500 counted"
assert_ge 1 "$(stat chains.forward.rules.2.packets)" "stats: forward accept udp 4500 counted"
ct=$(fw fw conntrack --json)
assert_eq 192.168.1.2 "$(json_find proto=udp dport=4500 reply_src <<<"$ct")" "conntrack: NAT-T flow forwarded to alice"
assert_eq established "$(json_find proto=udp dport=4500 state <<<"$ct")" "conntrack: NAT-T flow established"
# IKE, NAT-T (which carries every tunnelled ping above) and ESP never take
# the fast path: the stack may have to decrypt or hand them to a daemon.
assert_eq "$fast_before_ike" "$(fastpath_packets)" "no IPsec packet took the fast path"
e2e_log "--- fw: fwctl stats ---"
fw fw stats 2>&1 | sed 's/^/#   /' >&2
e2e_log "--- fw: fwctl conntrack ---"
fw fw conntrack 2>&1 | sed 's/^/#   /' >&2
sw_stop alice
sw_stop bob

# --- 4. 1,000 flows through one address ---------------------------------------
# ten inside addresses on alice, 100 sockets each on the SAME source ports
# 20000-20099, all to bob:7000: 900 of them need a new port.
addrs=()
for i in $(seq 10 19); do
    nsx alice ip addr add 192.168.1.$i/24 dev vlan2
    addrs+=(192.168.1.$i)
done
ns_bg bob "$E2E_TMP/echo.out" "$E2E_PY" "$HERE/lib/manyflows.py" echo 7000 60 "$E2E_TMP/seen.txt"
echo_pid=$E2E_LAST_PID
# Bound before the first datagram (python starts slowly under a VM's TCG).
wait_until 30 grep -q listening "$E2E_TMP/echo.out" || fail "the echo server did not start"
out=$(nsx alice "$E2E_PY" "$HERE/lib/manyflows.py" send 203.0.113.2 7000 20000 100 "${addrs[@]}")
assert_eq "replies=1000 from=203.0.113.2:7000" "$out" "1,000 masqueraded flows: every socket got its reply"
[ "$out" = "replies=1000 from=203.0.113.2:7000" ] ||
    { fw fw stats --json | "$E2E_PY" -c 'import json,sys; d=json.load(sys.stdin); print("# fw stats:", json.dumps({k: d[k] for k in ("state", "other", "nat") if k in d}))'
      echo "# fw conntrack: $(fw fw conntrack --json | "$E2E_PY" -c 'import json,sys; print(len(json.load(sys.stdin)))') entries"
      # Where else a datagram can die: a socket's receive buffer, a
      # device's queue, the CPU's backlog (softnet_stat column 2).
      for n in alice fw bob; do
          echo "# $n: $(nsx "$n" nstat -az UdpRcvbufErrors UdpInErrors UdpSndbufErrors Udp InErrors 2>/dev/null | awk 'NR>1 {printf "%s=%s ", $1, $2}')"
          nsx "$n" ip -s -s link | sed "s/^/#   $n: /"
      done
      echo "# softnet_stat:"; sed 's/^/#   /' /proc/net/softnet_stat; }
e2e_stop_pid "$echo_pid"
seen=$(sort -u "$E2E_TMP/seen.txt" | wc -l)
assert_eq 1000 "$seen" "bob saw 1,000 distinct sources"
assert_eq 1000 "$(grep -c '^203\.0\.113\.1:' "$E2E_TMP/seen.txt")" "all from fw's address"
fw fw conntrack --json >"$E2E_TMP/ct.json"
uniq=$("$E2E_PY" - "$E2E_TMP/ct.json" <<'PY'
import json, sys
c = [x for x in json.load(open(sys.argv[1])) if x.get("proto") == "udp" and x.get("dport") == 7000
     and x["src"].startswith("192.168.1.1")]
print(len(c), len({(x["reply_dst"], x["reply_dport"]) for x in c}),
      sum(1 for x in c if x["reply_dport"] != x["sport"]))
PY
)
read -r n u moved <<<"$uniq"
assert_eq 1000 "$n" "conntrack: 1,000 masqueraded flows"
assert_eq 1000 "$u" "conntrack: 1,000 distinct translations"
assert_ge 900 "$moved" "conntrack: at least 900 source ports reallocated"
assert_eq 0 "$(stat other.nat_port_exhausted)" "no allocation failures"
if [ "$FASTPATH" = 1 ]; then
    # The first reply to each of the ten inside addresses may take the
    # stack while fw resolves that neighbour (the FIB says NO_NEIGH).
    assert_ge 990 "$(( $(fastpath_packets) - fast_before_ike ))" "fast path: the 1,000 replies left from XDP (but for neighbour resolution)"
fi

e2e_finish
