#!/bin/bash
# Kernel IPsec with static `ip xfrm` states (docs/stacked.md, "Kernel IPsec"):
# ESP is protocol 50 on the wire and meets `proto esp` in XDP; the decrypted
# inner traffic meets the forward chain whether XDP runs native (then
# fw_tc_ingress_xfrm judges it: native XDP never sees re-injected packets) or
# generic (XDP sees it again). Run once per mode.
#   lan (10.1.0.2) --vlan1-- r (192.0.2.1) --vlan2== ESP ==eth0-- peer (192.0.2.2; 10.2.0.1 behind)
. "$VM_SRC/tests/vm/guest/lib.sh"
vm_modprobe esp4 || { echo "SKIP: no esp4 module"; exit 77; }
vm_modprobe xfrm4_tunnel 2>/dev/null || true
e2e_init

KEY_A=0x$(printf '%040x' 1)
KEY_B=0x$(printf '%040x' 2)
xfrm_side() { # NS LOCAL REMOTE LOCAL_NET REMOTE_NET SPI_OUT SPI_IN KEY_OUT KEY_IN
	local n; n=$(ns_name "$1")
	ip -n "$n" xfrm state add src "$2" dst "$3" proto esp spi "$6" mode tunnel aead 'rfc4106(gcm(aes))' "$8" 128
	ip -n "$n" xfrm state add src "$3" dst "$2" proto esp spi "$7" mode tunnel aead 'rfc4106(gcm(aes))' "$9" 128
	ip -n "$n" xfrm policy add src "$4" dst "$5" dir out tmpl src "$2" dst "$3" proto esp mode tunnel
	ip -n "$n" xfrm policy add src "$5" dst "$4" dir in tmpl src "$3" dst "$2" proto esp mode tunnel
	ip -n "$n" xfrm policy add src "$5" dst "$4" dir fwd tmpl src "$3" dst "$2" proto esp mode tunnel
}

run_mode() { # native|generic
	local mode=$1
	ns_add r$mode lan$mode peer$mode
	local r=r$mode lan=lan$mode peer=peer$mode
	link_veth $r vlan1 $lan eth0
	link_veth $r vlan2 $peer eth0
	addr $r vlan1 10.1.0.1/24; addr $lan eth0 10.1.0.2/24
	addr $r vlan2 192.0.2.1/24; addr $peer eth0 192.0.2.2/24
	addr $peer lo 10.2.0.1/32
	route $lan default 10.1.0.1
	route $peer 10.1.0.0/24 192.0.2.1 src 10.2.0.1
	route $r 10.2.0.0/24 192.0.2.2
	forwarding $r 1
	xfrm_side $r 192.0.2.1 192.0.2.2 10.1.0.0/24 10.2.0.0/24 0x100 0x200 "$KEY_A" "$KEY_B"
	xfrm_side $peer 192.0.2.2 192.0.2.1 10.2.0.0/24 10.1.0.0/24 0x200 0x100 "$KEY_B" "$KEY_A"
	# fwctl attaches native wherever it can (veths included); the generic
	# run asks for generic mode.
	local xdp_mode=""
	[ $mode = generic ] && xdp_mode=generic

	cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "vlan2", "proto": "esp", "comment": "raw ESP" } ],
  "forward": [
    { "action": "accept", "in": "vlan2", "out": "vlan1", "saddr": "10.2.0.0/24", "proto": "udp", "dport": 7000 },
    { "action": "accept", "in": "vlan1", "out": "vlan2", "daddr": "10.2.0.0/24" }
  ] }
JSON
	export FWCTL_XDP_MODE=$xdp_mode
	assert_exit 0 "apply ($mode)" fw $r apply "$E2E_TMP/rules.json"
	unset FWCTL_XDP_MODE
	local status xmode
	status=$(fw $r status --json)
	xmode=$(echo "$status" | json_get attachments | json_find interface=vlan2 hook=xdp mode)
	assert_eq "$mode" "$xmode" "vlan2's XDP runs $mode"
	local tci
	tci=$(echo "$status" | json_get attachments | json_find interface=vlan2 hook=tc-ingress program 2>/dev/null)
	if [ "$xmode" = native ]; then
		assert_eq fw_tc_ingress "$tci" "native XDP: TC ingress judges decrypted traffic on vlan2 (and sends reject answers)"
	else
		assert_eq fw_tc_reject "$tci" \
			"generic XDP judges decrypted traffic itself: TC ingress only sends reject answers"
	fi
	# Outbound only: what r sends must be ESP. (Inbound, AF_PACKET also sees
	# the decrypted inner packets the kernel re-injects on vlan2.)
	capture_start $r vlan2 "$E2E_TMP/$mode.pcap" -Q out
	# Inner traffic from behind the peer: 7000 has a rule, 7001 only the policy.
	assert_udp_ok $peer $lan 10.1.0.2 7000
	assert_udp_fails $peer $lan 10.1.0.2 7001
	local st
	st=$(fw $r stats --json)
	assert_ge 1 "$(echo "$st" | json_get chains.input.rules.0.packets)" "$mode: ESP met 'proto esp' on input"
	assert_eq 1 "$(echo "$st" | json_get chains.forward.rules.0.packets)" "$mode: decrypted request judged once by forward"
	assert_ge 1 "$(echo "$st" | json_get chains.forward.policy_packets)" "$mode: decrypted 7001 met the forward policy"
	capture_stop
	local clear
	clear=$(nsx $r tcpdump -n -r "$E2E_TMP/$mode.pcap" 'udp and (port 7000 or port 7001)' 2>/dev/null | wc -l)
	assert_eq 0 "$clear" "$mode: no inner UDP in clear on vlan2 (ESP only)"
	assert_ge 1 "$(nsx $r tcpdump -n -r "$E2E_TMP/$mode.pcap" esp 2>/dev/null | wc -l)" "$mode: ESP on the wire"
	fw $r down
}
run_mode native
run_mode generic
e2e_finish
