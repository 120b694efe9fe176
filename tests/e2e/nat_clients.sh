#!/bin/bash
# Real clients through a masquerading router (issue 13): traceroute (UDP,
# ICMP, TCP), path-MTU discovery both ways, a large fragmented UDP datagram,
# 20 MB HTTP downloads through masquerade and a port forward, iperf3 both
# ways. Every case runs three times on the same topology: fwctl without
# and with "fastpath", and nftables (`ct state established,related accept`
# + masquerade + dnat) as the reference; a table at the end shows them side
# by side. fwctl must pass every case; nftables' column is informative.
#
#   lan 10.1.0.2 --eth0==vlan1-- r --vlan2==eth0-- wan --eth1==eth0-- srv
#                         10.1.0.1  192.0.2.1   192.0.2.2 198.51.100.1  198.51.100.2
# r masquerades out of vlan2 and forwards 192.0.2.1:8080 to lan:8000; wan
# is a plain router (the hop beyond the firewall).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
. "$HERE/lib/sidebyside.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

router_topology
ns_add srv
link_veth wan eth1 srv eth0
addr wan eth1 198.51.100.1/24; addr srv eth0 198.51.100.2/24
route srv default 198.51.100.1
route r default 192.0.2.2
forwarding wan 1
# Errors at the rate traceroute asks for them; complete checksums from the
# hosts (as from a wire) so the fast path takes the bulk; GRO for native XDP.
for s in r wan srv lan; do ns_sysctl "$s" net.ipv4.icmp_ratelimit=0; done
for s in lan wan; do nsx "$s" ethtool -K eth0 gro on tx off >/dev/null; done
SRV=198.51.100.2 WANIP=192.0.2.1
UDP_SUM=$("$E2E_PY" -c 'import hashlib; print(hashlib.sha256(bytes(range(250)) * 32).hexdigest()[:12])')

dd if=/dev/urandom of="$E2E_TMP/blob" bs=1M count=20 status=none
BLOB_SUM=$(sha256sum <"$E2E_TMP/blob" | cut -d' ' -f1)
mkdir -p "$E2E_TMP/www-srv" "$E2E_TMP/www-lan"
ln "$E2E_TMP/blob" "$E2E_TMP/www-srv/blob"; ln "$E2E_TMP/blob" "$E2E_TMP/www-lan/blob"
ns_bg srv "$E2E_TMP/http-srv.log" "$E2E_PY" -m http.server 8000 --bind "$SRV" -d "$E2E_TMP/www-srv"
ns_bg lan "$E2E_TMP/http-lan.log" "$E2E_PY" -m http.server 8000 --bind 10.1.0.2 -d "$E2E_TMP/www-lan"
ns_bg srv "$E2E_TMP/iperf.log" iperf3 -s -B "$SRV"
ns_bg srv "$E2E_TMP/tcpsum.log" "$E2E_PY" "$HERE/lib/tcpsum.py" serve 9000
ns_bg lan "$E2E_TMP/tcpsum-lan.log" "$E2E_PY" "$HERE/lib/tcpsum.py" serve 9000

fw_rules() { # FASTPATH(true|false)
    cat <<JSON
{ "version": 1, "fastpath": $1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "proto": "icmp" } ],
  "forward": [
    { "action": "accept", "in": "vlan1", "out": "vlan2" },
    { "action": "accept", "in": "vlan2", "out": "vlan1", "proto": "tcp", "dport": 8000, "daddr": "10.1.0.2" },
    { "action": "accept", "in": "vlan2", "out": "vlan1", "proto": "tcp", "dport": 9000, "daddr": "10.1.0.2" }
  ],
  "nat": [ { "out": "vlan2" } ],
  "port-forward": [ { "in": "vlan2", "proto": "tcp", "dport": 8080, "to-daddr": "10.1.0.2", "to-dport": 8000 },
                    { "in": "vlan2", "proto": "tcp", "dport": 9090, "to-daddr": "10.1.0.2", "to-dport": 9000 } ] }
JSON
}
NFT_RULES='table ip e2e {
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established,related accept
    ip protocol icmp accept
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "vlan1" oifname "vlan2" accept
    iifname "vlan2" oifname "vlan1" ip daddr 10.1.0.2 tcp dport { 8000, 9000 } accept
  }
  chain pre {
    type nat hook prerouting priority -100;
    iifname "vlan2" tcp dport 8080 dnat to 10.1.0.2:8000
    iifname "vlan2" tcp dport 9090 dnat to 10.1.0.2:9000
  }
  chain post {
    type nat hook postrouting priority 100;
    oifname "vlan2" masquerade
  }
}'

# traceroute MODE: every hop answers, none is "*".
case_traceroute() {
    local mode=$1 m out hops
    for m in "" -I "-T -p 9000"; do
        # shellcheck disable=SC2086
        out=$(nsx lan timeout 20 traceroute -n -q 1 -w 2 -m 5 $m "$SRV" 2>&1)
        hops=$(awk 'NR > 1 {print $2}' <<<"$out" | tr '\n' ' ')
        [ "$hops" = "10.1.0.1 192.0.2.2 $SRV " ]
        record "$mode" "traceroute${m:+ ${m%% *}}" $? "hops: $hops"
    done
}

# Path MTU beyond the firewall (wan's link to srv is 1280; srv's side stays
# 1500 so that it advertises an MSS the hop cannot carry): an upload
# completes and lan learned 1280.
case_pmtu_beyond() {
    local mode=$1 res mtu
    nsx wan ip link set eth1 mtu 1280
    nsx lan ip route flush cache; nsx srv ip route flush cache
    res=$(nsx lan timeout 30 "$E2E_PY" "$HERE/lib/tcpsum.py" send "$SRV" 9000 4000000 2>&1 | tail -1)
    mtu=$(nsx lan ip route get "$SRV" | grep -o 'mtu [0-9]*')
    [ "$res" = "$WANIP OK" ] && [ "$mtu" = "mtu 1280" ]
    record "$mode" "pmtu beyond fw (upload)" $? "transfer: $res; lan learned: ${mtu:-nothing}"
    nsx wan ip link set eth1 mtu 1500
}

# Path MTU on the firewall's LAN side (r's vlan1 is 1280): r itself says
# "fragmentation needed" to the server, which must learn 1280 for the
# masquerade address; the 20 MB download arrives intact.
case_download() {
    local mode=$1 sum mtu
    nsx r ip link set vlan1 mtu 1280
    # lan's learned 1280 (case above) would shrink the MSS it advertises.
    nsx srv ip route flush cache; nsx lan ip route flush cache
    sum=$(nsx lan timeout 60 curl -sS --max-time 50 "http://$SRV:8000/blob" | sha256sum | cut -d' ' -f1)
    mtu=$(nsx srv ip route get "$WANIP" | grep -o 'mtu [0-9]*')
    [ "$sum" = "$BLOB_SUM" ]
    record "$mode" "http 20MB masquerade" $? "sha256 ${sum:0:12}"
    [ "$mtu" = "mtu 1280" ]
    record "$mode" "pmtu fw LAN side (download)" $? "server learned: ${mtu:-nothing}"
    # The same through the port forward: srv uploads to lan; r's error
    # must quote 192.0.2.1:9090, not lan:9000.
    nsx srv ip route flush cache
    res=$(nsx srv timeout 30 "$E2E_PY" "$HERE/lib/tcpsum.py" send "$WANIP" 9090 4000000 2>&1 | tail -1)
    mtu=$(nsx srv ip route get "$WANIP" | grep -o 'mtu [0-9]*')
    [ "$res" = "$SRV OK" ] && [ "$mtu" = "mtu 1280" ]
    record "$mode" "pmtu fw LAN side (port fwd)" $? "transfer: $res; server learned: ${mtu:-nothing}"
    nsx r ip link set vlan1 mtu 1500
}

case_portforward() {
    local mode=$1 sum
    sum=$(nsx srv timeout 60 curl -sS --max-time 50 "http://$WANIP:8080/blob" | sha256sum | cut -d' ' -f1)
    [ "$sum" = "$BLOB_SUM" ]
    record "$mode" "http 20MB port forward" $? "sha256 ${sum:0:12}"
}

# An 8000-byte datagram, fragmented by lan, arrives whole at srv; no frame
# with an inside address reaches the WAN.
case_bigudp() {
    local mode=$1 got leaked cap="$E2E_TMP/wan-$mode.pcap" tpid
    ns_bg wan "$E2E_TMP/tcpdump-$mode.log" tcpdump -i eth0 -n -U -w "$cap" ip
    tpid=$E2E_LAST_PID
    wait_until 10 grep -q listening "$E2E_TMP/tcpdump-$mode.log"
    nsx srv "$E2E_PY" -c '
import socket, sys, hashlib
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 7000)); s.settimeout(5)
open(sys.argv[1], "w").close()
d, a = s.recvfrom(65535); print(len(d), hashlib.sha256(d).hexdigest()[:12], a[0])
' "$E2E_TMP/udp.ready" >"$E2E_TMP/udp.out" 2>&1 &
    local rpid=$!
    wait_until 5 test -e "$E2E_TMP/udp.ready"
    nsx lan "$E2E_PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(bytes(range(250)) * 32, ("198.51.100.2", 7000))'
    wait "$rpid"
    got=$(cat "$E2E_TMP/udp.out"); rm -f "$E2E_TMP/udp.ready"
    e2e_stop_pid "$tpid"
    leaked=$(tcpdump -n -r "$cap" 2>/dev/null | grep -c '10\.1\.0\.')
    [ "$got" = "8000 $UDP_SUM $WANIP" ] && [ "$leaked" = 0 ]
    record "$mode" "udp 8000B fragmented" $? "received: ${got:-nothing}; frames with 10.1.0.x on WAN: $leaked"
}

case_iperf() {
    local mode=$1 r bps
    for r in up down; do
        bps=$(nsx lan timeout 20 iperf3 -c "$SRV" -t 2 -J $([ $r = down ] && echo -R) 2>/dev/null |
            "$E2E_PY" -c 'import json,sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e6))' 2>/dev/null)
        [ -n "$bps" ] && [ "$bps" -gt 0 ]
        record "$mode" "iperf3 $r" $? "${bps:-0} Mbit/s"
    done
}

run_cases() {
    case_traceroute "$1"
    case_pmtu_beyond "$1"
    case_download "$1"
    case_portforward "$1"
    case_bigudp "$1"
    case_iperf "$1"
}

wait_until 10 nsx lan curl -s -o /dev/null "http://$SRV:8000/" || e2e_die "http server on srv not up"
for fp in false true; do
    fw_rules $fp >"$E2E_TMP/rules-$fp.json"
    assert_exit 0 "apply (fastpath $fp)" fw r apply "$E2E_TMP/rules-$fp.json"
    mode=fwctl; [ $fp = true ] && mode=fwctl-fp
    f0=$(fw r stats --json | json_get other.fastpath.packets)
    run_cases $mode
    if [ $fp = true ]; then
        assert_ge 1000 "$(( $(fw r stats --json | json_get other.fastpath.packets) - f0 ))" "fast path carried the bulk"
    fi
    fw r stats --json >"$E2E_TMP/stats-$fp.json"
    e2e_log "related: $(json_get state.related.packets "$E2E_TMP/stats-$fp.json"), nat leaks dropped: $(json_get other.nat_leak.packets "$E2E_TMP/stats-$fp.json")"
    assert_exit 0 "fwctl down" fw r down
done
if nsx r nft -f - <<<"$NFT_RULES"; then
    run_cases nft
    nsx r nft delete table ip e2e
else
    e2e_log "nftables unavailable here: its column is empty"
fi

side_by_side_table 30 fwctl fwctl-fp nft
e2e_finish
