#!/bin/bash
# tests/e2e/lib/selftest-ipsec.sh - proves netns.sh + strongswan.sh with real
# strongSwan (kernel-libipsec) and WITHOUT fwctl, on the seed's two scenarios.
#
#   sudo tests/e2e/lib/selftest-ipsec.sh [1|2|all]
#
# Scenario 1: alice and bob are IPsec gateways, WAN vlan2 198.51.100.0/24
#             (instead of the figure's 192.168.0.0/24), LANs 10.1/16, 10.2/16.
# Scenario 2: alice (192.168.1.2) sits behind router fw (vlan1 192.168.1.1,
#             vlan2 203.0.113.1) which masquerades and port-forwards UDP 500
#             and 4500 to alice, with nftables (stand-in for fwctl); bob
#             (203.0.113.2) dials 203.0.113.1.
# Lives under lib/ on purpose: tests/e2e/*.sh are collected as test cases.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/netns.sh"
. "$HERE/strongswan.sh"

WHICH=${1:-all}
PSK="e2e-selftest-psk-0123456789"

e2e_init selftest-ipsec

t_now() { date +%s.%N; }
t_since() { "$E2E_PY" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$(t_now)"; }

dump_on_fail() {
    [ "$E2E_FAIL" -gt 0 ] || return 0
    local s
    for s in alice bob; do
        [ -n "${SW_PID[$s]:-}" ] && { sw_status "$s"; sw_dump_logs "$s"; }
    done
}
e2e_on_cleanup dump_on_fail

# lan_host GW HOST GWIP/LEN HOSTIP/LEN : host namespace behind GW's vlan1
lan_host() {
    local gw=$1 h=$2 gwip=$3 hip=$4
    ns_add "$h"
    link_veth "$gw" vlan1 "$h" eth0
    addr "$gw" vlan1 "$gwip"
    addr "$h" eth0 "$hip"
    route "$h" default "${gwip%/*}"
}

show_tunnel_facts() {
    local s=$1 n
    n=$(ns_name "$s")
    e2e_log "--- $s: links / routes (table 220) / rules ---"
    ip -n "$n" -br link | sed 's/^/#   /' >&2
    ip -n "$n" route show table 220 | sed 's/^/#   /' >&2
    ip -n "$n" rule | sed 's/^/#   /' >&2
    ip -n "$n" -d link show ipsec0 2>/dev/null | head -3 | sed 's/^/#   /' >&2
}

# ------------------------------------------------------------- Scenario 1 --
scenario1() {
    e2e_log "=== Scenario 1: IPsec gateways alice <-> bob ==="
    local t0 t1
    ns_add alice bob
    link_veth alice vlan2 bob vlan2
    addr alice vlan2 198.51.100.1/24
    addr bob vlan2 198.51.100.2/24
    lan_host alice h1 10.1.0.1/16 10.1.0.2/16
    lan_host bob h3 10.2.0.1/16 10.2.0.2/16
    forwarding alice 1; forwarding bob 1

    assert_ping_ok alice 198.51.100.2
    assert_ipproto_ok bob alice 198.51.100.1 50   # raw ESP probe works end to end
    assert_ping_fails h1 10.2.0.2   # no route: nothing without the tunnel

    t0=$(t_now)
    sw_start alice; sw_start bob
    e2e_log "timing: both charons up in $(t_since "$t0")s"
    sw_conn alice local_addrs=198.51.100.1 remote_addrs=%any \
        local_id=alice.example remote_id=bob.example \
        local_ts=10.1.0.0/16 remote_ts=10.2.0.0/16 psk="$PSK" start_action=none
    sw_conn bob local_addrs=198.51.100.2 remote_addrs=198.51.100.1 \
        local_id=bob.example remote_id=alice.example \
        local_ts=10.2.0.0/16 remote_ts=10.1.0.0/16 psk="$PSK" start_action=none
    sw_load alice; sw_load bob

    t1=$(t_now)
    assert_ok "bob initiates CHILD_SA net" sw_initiate bob
    assert_tunnel_up bob 10
    assert_tunnel_up alice 10
    e2e_log "timing: tunnel installed $(t_since "$t1")s after swanctl --initiate"
    show_tunnel_facts alice

    t1=$(t_now)
    assert_ping_ok h1 10.2.0.2
    e2e_log "timing: first h1->h3 ping round done in $(t_since "$t1")s"
    assert_ping_ok h3 10.1.0.2
    assert_ping_ok alice 10.2.0.1            # seed's verification ping (src 10.1.0.1 via table 220)
    assert_ping_ok bob 10.1.0.1
    assert_udp_ok h1 h3 10.2.0.2 5001
    assert_eq 10.1.0.2:40001 "$(udp_check h1 h3 10.2.0.2 5002 40001; echo "$E2E_UDP_SEEN_SRC")" \
        "UDP through tunnel keeps source address/port"
    # MTU: ipsec0 is 1400; 1372 + 28 = 1400 fits with DF, 1400 + 28 does not
    assert_ping_ok h1 10.2.0.2 -s 1372 -M do
    assert_ping_ok h1 10.2.0.2 -s 3000           # fragmented by alice before the TUN

    # What goes over the wire: only UDP (500, then 4500), never IP proto 50
    local cap="$E2E_TMP/s1-wan.pcap" tpid
    nsx alice timeout 5 tcpdump -n -i vlan2 -w "$cap" -U 'not arp' >/dev/null 2>&1 &
    tpid=$!
    sleep 0.5
    assert_ping_ok h1 10.2.0.2
    wait "$tpid" 2>/dev/null
    local wire
    wire=$(tcpdump -n -r "$cap" 2>/dev/null)
    assert_match 'UDP-encap: ESP|\.4500 > .*\.4500' "$wire" "tunnel data is ESP in UDP 4500 on vlan2"
    assert_eq 0 "$(tcpdump -n -r "$cap" 'ip proto 50' 2>/dev/null | wc -l)" "no raw ESP (proto 50) on the wire"

    # Failing case ends in seconds: bob dials a dead peer address
    t1=$(t_now)
    sw_conn bob local_addrs=198.51.100.2 remote_addrs=198.51.100.99 \
        local_id=bob.example remote_id=alice.example \
        local_ts=10.2.0.0/16 remote_ts=10.1.0.0/16 psk="$PSK" child=dead
    sw_load bob
    assert_fails "initiating towards a dead peer fails" sw_initiate bob dead 30
    e2e_log "timing: failed initiate gave up after $(t_since "$t1")s"

    # The seed's Scenario 1 rules, as nftables stand-ins (stateful, policy drop).
    # Alice: udp 500 + esp only -> IKE_AUTH (UDP 4500, libipsec) is dropped.
    sw_swanctl bob --terminate --ike gw --timeout 5 >/dev/null 2>&1
    sw_conn bob local_addrs=198.51.100.2 remote_addrs=198.51.100.1 \
        local_id=bob.example remote_id=alice.example \
        local_ts=10.2.0.0/16 remote_ts=10.1.0.0/16 psk="$PSK" start_action=none
    sw_load bob
    nsx alice nft -f - <<'EOF2' || e2e_die nft
table inet seed {
    chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
        iif "lo" accept
        iifname "vlan2" udp dport 500 counter accept comment "IKE"
        iifname "vlan2" meta l4proto esp counter accept comment "IPsec ESP"
    }
}
EOF2
    nsx bob nft -f - <<'EOF2' || e2e_die nft
table inet seed {
    chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
        iif "lo" accept
        iifname "vlan2" meta l4proto esp accept comment "IPsec ESP"
        ip saddr 10.1.0.0/16 meta l4proto icmp accept
    }
}
EOF2
    t1=$(t_now)
    assert_fails "seed rules (udp 500 + esp) on alice: initiate fails (IKE_AUTH is on 4500)" sw_initiate bob net 30
    e2e_log "timing: blocked IKE_AUTH gave up after $(t_since "$t1")s"
    nsx alice nft add rule inet seed input iifname vlan2 udp dport 4500 counter accept comment NAT-T
    assert_ok "with udp 4500 accepted too: initiate succeeds" sw_initiate bob
    assert_ping_ok alice 10.2.0.1        # the seed's verification ping, through Bob's rules
    assert_ping_ok h1 10.2.0.2           # forward chains are open
    nsx alice nft list chain inet seed input | grep counter | sed 's/^/#   /' >&2
    nsx alice nft delete table inet seed; nsx bob nft delete table inet seed

    local apid=${SW_PID[alice]}
    sw_stop alice; sw_stop bob
    assert_fails "charon alice (pid $apid) gone after sw_stop" kill -0 "$apid"
    assert_ping_fails h1 10.2.0.2
    ip -n "$(ns_name alice)" link show ipsec0 >/dev/null 2>&1 && fail "ipsec0 still exists after charon stopped" \
        || pass "ipsec0 removed when charon stops"
}

# ------------------------------------------------------------- Scenario 2 --
scenario2() {
    e2e_log "=== Scenario 2: alice behind NAT router fw, bob on the WAN ==="
    local t0 t1
    # names differ from scenario 1 so both can run in one process
    local A=alice2 B=bob2 F=fw H1=h12 H3=h32
    ns_add $A $F $B
    link_veth $A vlan2 $F vlan1
    link_veth $F vlan2 $B vlan2
    addr $A vlan2 192.168.1.2/24
    addr $F vlan1 192.168.1.1/24
    addr $F vlan2 203.0.113.1/24
    addr $B vlan2 203.0.113.2/24
    route $A default 192.168.1.1
    lan_host $A $H1 10.1.0.1/16 10.1.0.2/16
    lan_host $B $H3 10.2.0.1/16 10.2.0.2/16
    forwarding $A 1; forwarding $F 1; forwarding $B 1

    # nftables stand-in for fwctl's "nat out vlan2" + port-forwards
    nsx $F nft -f - <<'EOF' || e2e_die "nft"
table ip e2enat {
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "vlan2" udp dport { 500, 4500 } counter dnat to 192.168.1.2
        iifname "vlan2" ip protocol esp counter dnat to 192.168.1.2
    }
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "vlan2" counter masquerade
    }
}
EOF
    assert_ping_ok $A 203.0.113.2
    assert_udp_ok $A $B 203.0.113.2 7000
    assert_eq 203.0.113.1 "${E2E_UDP_SEEN_SRC%:*}" "alice masqueraded behind fw"
    assert_udp_ok $B $A 203.0.113.1 500 40500
    assert_eq 203.0.113.2 "${E2E_UDP_SEEN_SRC%:*}" "port-forward 500 to alice keeps bob's address"
    # raw ESP (proto 50) port-forward, as the seed's "port-forward ... proto esp"
    assert_ipproto_ok $B $A 203.0.113.1 50
    assert_eq 203.0.113.2 "$E2E_IP_SEEN_SRC" "ESP port-forwarded to alice from bob's address"
    assert_eq 203.0.113.1 "$E2E_IP_REPLY_SRC" "ESP reply un-NATed to fw's address"
    assert_ipproto_fails $B $A 203.0.113.1 47   # GRE: no port-forward

    t0=$(t_now)
    sw_start $A; sw_start $B
    e2e_log "timing: both charons up in $(t_since "$t0")s"
    # Alice: FQDN ids (her IP id 192.168.1.2 is not what bob dials), any peer
    sw_conn $A local_addrs=192.168.1.2 remote_addrs=%any \
        local_id=alice.example remote_id=bob.example \
        local_ts=10.1.0.0/16 remote_ts=10.2.0.0/16 psk="$PSK" start_action=none
    sw_conn $B local_addrs=203.0.113.2 remote_addrs=203.0.113.1 \
        local_id=bob.example remote_id=alice.example \
        local_ts=10.2.0.0/16 remote_ts=10.1.0.0/16 psk="$PSK" start_action=none
    sw_load $A; sw_load $B

    t1=$(t_now)
    assert_ok "bob initiates to 203.0.113.1 (fw)" sw_initiate $B
    assert_tunnel_up $B 10
    assert_tunnel_up $A 10
    e2e_log "timing: tunnel through NAT installed $(t_since "$t1")s after swanctl --initiate"
    local sas
    sas=$(sw_swanctl $B --list-sas 2>&1)
    assert_match 'NAT-T|nat-remote|remote.*\[4500\]' "$sas" "bob sees NAT-T towards alice"
    assert_match '203\.0\.113\.1\[4500\]' "$sas" "bob talks to fw:4500"

    assert_ping_ok $H1 10.2.0.2
    assert_ping_ok $H3 10.1.0.2
    assert_ping_ok $A 10.2.0.1
    assert_ping_ok $B 10.1.0.1
    assert_udp_ok $H3 $H1 10.1.0.2 5003
    assert_eq 10.2.0.2 "${E2E_UDP_SEEN_SRC%:*}" "inner addresses are not NATed"

    e2e_log "--- fw nft counters / conntrack ---"
    nsx $F nft list table ip e2enat 2>&1 | grep counter | sed 's/^/#   /' >&2
    sw_stop $A; sw_stop $B
}

# ------------------------------------------- fw helper, with a stub fwctl --
# The real fwctl is not needed here; a stub shows what `fw NS ...` runs:
# in NS's network namespace, with --pin-dir on this test's private bpffs.
fwstub() {
    e2e_log "=== fw helper (stub fwctl) ==="
    local stub="$E2E_TMP/fwctl-stub" out
    cat >"$stub" <<'EOS'
#!/bin/sh
# args: --pin-dir DIR CMD...
[ "$1" = --pin-dir ] || exit 2
mkdir -p "$2"
echo "fs=$(stat -f -c %T "$2") links=$(ip -o link | awk -F': ' '{print $2}' | cut -d@ -f1 | sort | tr '\n' ,) cmd=$3"
EOS
    chmod +x "$stub"
    ns_add st1
    link_veth st1 vlan1 st1 vlan2
    out=$(FWCTL=$stub fw st1 status --json)
    assert_match '^fs=bpf_fs ' "$out" "fw: pin dir $(fw_pin_dir st1) is on bpffs"
    assert_match 'links=lo,vlan1,vlan2, cmd=status' "$out" "fw: runs in the namespace (sees vlan1, vlan2)"
    E2E_FW_NS=()   # the stub has no `down`
}

case $WHICH in
    1) fwstub; scenario1 ;;
    2) scenario2 ;;
    all) fwstub; scenario1; scenario2 ;;
    *) echo "usage: $0 [1|2|all]" >&2; exit 2 ;;
esac
e2e_finish
