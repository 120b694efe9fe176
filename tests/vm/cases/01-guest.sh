#!/bin/bash
# What later cases may rely on, checked in seconds: the guest kernel's
# modules for VLANs, kernel IPsec, bonds, bridges and veths load and work
# (a VLAN, an xfrm state, a bond, a bridge made in a namespace), and the
# tools are there (tcpdump, ping, python3, strongSwan's charon with
# kernel-netlink).
. "$VM_SRC/tests/vm/guest/lib.sh"
e2e_init
for m in 8021q esp4 xfrm_user xfrm_interface bonding bridge veth sch_ingress cls_bpf; do
	assert_ok "module $m loads on $(vm_kernel)" vm_modprobe "$m"
done
for t in /usr/bin/tcpdump /usr/bin/ping /usr/bin/python3 /usr/lib/ipsec/charon \
	/usr/lib/ipsec/plugins/libstrongswan-kernel-netlink.so /usr/sbin/swanctl; do
	assert_ok "$t is in the guest" test -e "$t"
done
ns_add a
nsx a ip link add d0 type dummy 2>/dev/null
assert_ok "802.1Q VLAN on a dummy" nsx a ip link add link d0 name vlan10 type vlan id 10
assert_ok "bond" nsx a ip link add bond0 type bond mode active-backup
assert_ok "bridge" nsx a ip link add br0 type bridge
assert_ok "kernel ESP state (xfrm)" nsx a ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp \
	spi 0x100 mode tunnel aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128
e2e_finish
