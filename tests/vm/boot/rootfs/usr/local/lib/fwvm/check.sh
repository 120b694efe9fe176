#!/bin/bash
# The boot test's checks, run by fwvm-check.service once the system is up.
# Prints "VMCASE name PASS|FAIL" lines on the console for tests/vm/boot.sh.
#   boot 1: the saved ruleset was applied before networkd made vlan1, and
#           vlan1's traffic was filtered from its first packet; then the
#           saved file is broken and the machine reboots;
#   boot 2: with the broken file the machine must come up fail-closed
#           (docs/ops.md): nothing but the open port gets in.
set -u
state=/var/lib/fwvm
mkdir -p "$state"
boot=$(( $(cat "$state/boot" 2>/dev/null || echo 0) + 1 ))
echo "$boot" >"$state/boot"
fails=0
verdict() { # NAME OK(0/1) DETAIL
	if [ "$2" = 0 ]; then echo "VMCASE boot$boot-$1 PASS $3"
	else echo "VMCASE boot$boot-$1 FAIL $3"; fails=$((fails + 1)); fi
}
ok() { local name=$1 detail=$2; shift 2; "$@" >/dev/null 2>&1; verdict "$name" $? "$detail"; }

peer() { nsenter --net=/run/netns/peer "$@"; }
replies() { grep -c 'bytes from' /run/fwvm/ping.log 2>/dev/null || true; }
sent() { peer ping -n -c 1 -W 1 10.1.0.1 >/dev/null 2>&1; } # one more probe

# UDP to the open port arrives (socat receiver on the router, bash sender in the peer).
udp_arrives() {
	local port=$1 tok=fwvm$RANDOM out
	out=$(mktemp)
	timeout 20 socat -u "UDP4-RECV:$port,bind=10.1.0.1" "OPEN:$out,creat,trunc" &
	local rpid=$!
	sleep 2
	for _ in 1 2 3; do peer bash -c "echo $tok >/dev/udp/10.1.0.1/$port"; sleep 1; grep -q "$tok" "$out" && break; done
	kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
	grep -q "$tok" "$out"; local rc=$?
	rm -f "$out"; return $rc
}

wait_vlan_address() {
	for _ in $(seq 240); do
		ip -4 addr show dev vlan1 2>/dev/null | grep -q 10.1.0.1 && return 0
		sleep 0.5
	done
	return 1
}

echo "VMBOOT $boot kernel=$(uname -r)"
ok vlan1-configured "networkd created and addressed vlan1" wait_vlan_address
systemctl --no-pager status fwctl.service 2>&1 | sed -n '1,12p'
fwctl status 2>&1 | head -20
# Let the early pings run against the configured address for a while.
sleep 5
for _ in 1 2 3 4 5; do sent; done
n=$(replies); total=$(grep -c 'icmp_seq\|no answer' /run/fwvm/ping.log 2>/dev/null || true)
echo "pings answered: $n ($(sed -n '$p' /run/fwvm/ping.log))"
echo "journal: $(journalctl -b -o short-monotonic --no-pager -u fwctl.service -u systemd-networkd.service 2>/dev/null | grep -E 'Finished|Failed|vlan1: (Link UP|Configured)|fwctl' | head -8 | tr '\n' '|')"

if [ "$boot" = 1 ]; then
	ok fwctl-active "fwctl.service is active" systemctl is-active --quiet fwctl.service
	# The pings were really sent: the peer resolved 10.1.0.1 (ARP passes the firewall).
	ok peer-resolved-router "the peer has 10.1.0.1's MAC (echo requests went out)" \
		bash -c 'nsenter --net=/run/netns/peer ip neigh show 10.1.0.1 | grep -q lladdr' 
	verdict pings-dropped-from-the-first "$( [ "$n" = 0 ] && echo 0 || echo 1)" "($n echo replies reached the peer; the input policy drops ICMP)"
	dropped=$(fwctl stats --json 2>/dev/null | jq -r '.chains.input.policy_packets // 0')
	verdict policy-counted "$( [ "${dropped:-0}" -ge 5 ] 2>/dev/null && echo 0 || echo 1)" "(input policy counted $dropped packets)"
	ok open-port "UDP 7000 reaches the router over vlan1" udp_arrives 7000
	# vlan1 is an 802.1Q device on wan0, which fwctl covers: wan0's program
	# judges its tagged frames as vlan1 (docs/stacked.md), and `fwctl run`
	# records it (status "stacked") instead of attaching XDP to it.
	ok watch-covered-vlan1 "vlan1 judged by wan0's XDP (fwctl run)" bash -c 'fwctl status --json | jq -e "[.stacked[]? | select(.interface == \"vlan1\")] | length > 0"'
	echo "$fails" >"$state/fails"
	# The reboot: a saved file that does not parse.
	echo '{ "version": 1, "input": [ { "action": "accept", "dport": 70000 } ] }' >/etc/fwctl/rules.json
	sync
	echo "VMREBOOT"
	systemctl reboot
else
	echo "fwctl.service: $(systemctl is-active fwctl.service) ($(systemctl show -p Result --value fwctl.service))"
	verdict fail-closed-pings "$( [ "$n" = 0 ] && echo 0 || echo 1)" "($n echo replies reached the peer with a broken saved file)"
	if udp_arrives 7001; then verdict fail-closed-udp 1 "(UDP 7001 reached the router with a broken saved file)"
	else verdict fail-closed-udp 0 "(UDP 7001 did not arrive)"; fi
	fails=$((fails + $(cat "$state/fails" 2>/dev/null || echo 0)))
	echo "VMDONE kernel=$(uname -r) boots=2 fail=$fails "
	systemctl poweroff
fi
