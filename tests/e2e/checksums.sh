#!/bin/bash
# Checksums a local stack left unfinished (CHECKSUM_PARTIAL) through the
# firewall. Hosts on veths keep their default offloads, so what they send
# carries the seed of a TCP/UDP checksum, not the checksum: the skb says
# "finish me", XDP cannot see that. r finishes sums in software on the way
# out (tx offload off on its interfaces, as a NIC without checksum offload;
# one with it finishes from the same seed), and the receivers verify.
#
#   lan 10.1.0.2 --eth0==vlan1-- r --vlan2==eth0-- wan 192.0.2.2, 192.0.2.3
#                          10.1.0.1  192.0.2.1
# r masquerades out of vlan2 (192.0.2.3 exempt) and forwards
# 192.0.2.1:9090 to lan:9000. Two VXLAN overlays run lan <-> 192.0.2.3,
# routed, untranslated: vx0 with no outer UDP checksum, vx1 with one
# (computed through the unfinished inner one, "local checksum offload").
#
# Cases: a TCP upload through masquerade (the server's replies are
# translated on ingress, seeds included), through the port forward, and
# from a sender that finishes its sums (the fast path takes it); a
# UDP exchange through masquerade; TCP through both overlays both ways
# (the fast path must leave a frame whose inner sum is unfinished to the
# stack). Run for fwctl as a user writes it (fast path on by default), with
# "fastpath": false, and nftables as the reference; a table at the end.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
. "$HERE/lib/sidebyside.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

router_topology
addr wan eth0 192.0.2.3/24
for i in vlan1 vlan2; do nsx r ethtool -K "$i" tx off >/dev/null || e2e_die "ethtool tx off $i"; done
# GRO for native XDP on r's veths (their peers need a NAPI to take
# redirected frames).
for s in lan wan; do nsx "$s" ethtool -K eth0 gro on >/dev/null; done

# The overlays: vx0 without an outer UDP checksum, vx1 with one.
overlay() { # DEV VNI PORT CSUM NET
    nsx lan ip link add "$1" type vxlan id "$2" dstport "$3" local 10.1.0.2 remote 192.0.2.3 "$4" 2>/dev/null ||
        return 1
    nsx wan ip link add "$1" type vxlan id "$2" dstport "$3" local 192.0.2.3 remote 10.1.0.2 "$4"
    addr lan "$1" "$5.1/24"; addr wan "$1" "$5.2/24"
}
VXLAN=1
overlay vx0 42 4789 noudpcsum 172.16.0 && overlay vx1 43 4790 udpcsum 172.16.1 ||
    { VXLAN=0; e2e_log "no VXLAN in this kernel: the overlay cases are skipped"; }

# Receivers, one port per case (9000: masquerade and port forward, 9100:
# vx0, 9200: vx1), started afresh for every mode: a failed case's stalled
# connection holds up no other.
SERVERS=()
servers_start() {
    local s p
    for s in lan wan; do for p in 9000 9100 9200; do
        ns_bg "$s" "$E2E_TMP/sum-$s-$p.log" "$E2E_PY" "$HERE/lib/tcpsum.py" serve $p
        SERVERS+=("$E2E_LAST_PID")
    done; done
    wait_until 10 listening lan 9200 || e2e_die "tcpsum servers not up"
    wait_until 10 listening wan 9200 || e2e_die "tcpsum servers not up"
}
listening() { nsx "$1" ss -Htln "sport = :$2" | grep -q .; }
servers_stop() {
    local p
    for p in "${SERVERS[@]}"; do e2e_stop_pid "$p"; done
    SERVERS=()
}

FW_RULES='{ "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "proto": "icmp" } ],
  "forward": [
    { "action": "accept", "in": "vlan1", "out": "vlan2" },
    { "action": "accept", "in": "vlan2", "out": "vlan1", "daddr": "10.1.0.2", "proto": "tcp", "dport": 9000 },
    { "action": "accept", "in": "vlan2", "out": "vlan1", "saddr": "192.0.2.3", "daddr": "10.1.0.2", "proto": "udp" } ],
  "nat": [ { "out": "vlan2", "exempt": [ "192.0.2.3/32" ] } ],
  "port-forward": [ { "in": "vlan2", "proto": "tcp", "dport": 9090, "to-daddr": "10.1.0.2", "to-dport": 9000 } ] }'
NFT_RULES='table ip e2e {
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "vlan1" oifname "vlan2" accept
    iifname "vlan2" oifname "vlan1" ip daddr 10.1.0.2 tcp dport 9000 accept
    iifname "vlan2" oifname "vlan1" ip saddr 192.0.2.3 ip daddr 10.1.0.2 meta l4proto udp accept
  }
  chain pre {
    type nat hook prerouting priority -100;
    iifname "vlan2" tcp dport 9090 dnat to 10.1.0.2:9000
  }
  chain post {
    type nat hook postrouting priority 100;
    oifname "vlan2" ip daddr != 192.0.2.3 masquerade
  }
}'

# Receivers' checksum errors: each case must add none.
csum_errors() {
    local s n=0 v
    for s in lan wan; do
        v=$(nsx "$s" nstat -az TcpInCsumErrors UdpInCsumErrors | awk '/CsumErrors/ {n += $2} END {print n + 0}')
        n=$((n + v))
    done
    echo "$n"
}

# send MODE CASE FROM TO PORT SEEN: a 3 MB upload arrives intact, seen from SEEN.
send() {
    local mode=$1 c=$2 from=$3 to=$4 port=$5 seen=$6 res e0 e1
    e0=$(csum_errors)
    res=$(nsx "$from" timeout 30 "$E2E_PY" "$HERE/lib/tcpsum.py" send "$to" "$port" 3000000 2>&1 | tail -1)
    e1=$(csum_errors)
    [ "$res" = "$seen OK" ] && [ "$e1" = "$e0" ]
    record "$mode" "$c" $? "transfer: $res; checksum errors at the receivers: $((e1 - e0))"
}

fast_packets() { # MODE
    [ "$1" = nft ] && { echo 0; return; }
    fw r stats --json | json_get other.fastpath.packets
}

run_cases() {
    local mode=$1 e0 e1
    send "$mode" "tcp upload, masquerade" lan 192.0.2.2 9000 192.0.2.1
    send "$mode" "tcp upload, port forward" wan 192.0.2.1 9090 192.0.2.2
    # Finished sums from lan (as from a wire), seeds from wan: the upload
    # can take the fast path, the ACKs cannot.
    nsx lan ethtool -K eth0 tx off >/dev/null
    local fp0 fp1
    fp0=$(fast_packets "$mode")
    send "$mode" "tcp upload, masquerade, finished sums" lan 192.0.2.2 9000 192.0.2.1
    fp1=$(fast_packets "$mode")
    nsx lan ethtool -K eth0 tx on >/dev/null
    if [ "$mode" = fwctl ]; then
        assert_ge 1000 $((fp1 - fp0)) "$mode: the fast path carried that upload"
    elif [ "$mode" = fwctl-nofp ]; then
        assert_eq 0 $((fp1 - fp0)) "$mode: nothing took the fast path"
    fi
    e0=$(csum_errors)
    udp_check lan wan 192.0.2.2 7000
    local ok=$?
    e1=$(csum_errors)
    [ $ok = 0 ] && [ "$e1" = "$e0" ]
    record "$mode" "udp exchange, masquerade" $? "seen from ${E2E_UDP_SEEN_SRC:-nothing}, reply from ${E2E_UDP_REPLY_SRC:-nothing}"
    [ $VXLAN = 1 ] || return 0
    send "$mode" "tcp over VXLAN, no outer sum, lan->wan" lan 172.16.0.2 9100 172.16.0.1
    send "$mode" "tcp over VXLAN, no outer sum, wan->lan" wan 172.16.0.1 9100 172.16.0.2
    send "$mode" "tcp over VXLAN, outer sum, lan->wan" lan 172.16.1.2 9200 172.16.1.1
    send "$mode" "tcp over VXLAN, outer sum, wan->lan" wan 172.16.1.1 9200 172.16.1.2
}

wait_until 10 nsx lan ping -c1 -W1 192.0.2.3 >/dev/null || e2e_die "no route lan -> wan"
for mode in fwctl fwctl-nofp; do
    rules=$FW_RULES
    [ $mode = fwctl-nofp ] && rules=${FW_RULES/'"version": 1,'/'"version": 1, "fastpath": false,'}
    echo "$rules" >"$E2E_TMP/rules-$mode.json"
    assert_exit 0 "apply ($mode)" fw r apply "$E2E_TMP/rules-$mode.json"
    servers_start
    run_cases $mode
    servers_stop
    assert_exit 0 "down ($mode)" fw r down
done
echo "$NFT_RULES" | nsx r nft -f - || e2e_die "nft -f"
servers_start
run_cases nft
servers_stop
nsx r nft delete table ip e2e

side_by_side_table 44 fwctl fwctl-nofp nft
e2e_finish
