#!/bin/bash
# See fwvm-peer.service.
set -eu
mkdir -p /run/fwvm
ip netns add peer
ip link add wan0 type veth peer name wan0p
ip link set wan0p netns peer
ip -n peer link set lo up
ip -n peer link set wan0p up
ip -n peer link add link wan0p name vlan1 type vlan id 10
ip -n peer addr add 10.1.0.2/24 dev vlan1
ip -n peer link set vlan1 up
ip link set wan0 up
# Every 0.2 s from now on; a reply would be a packet the firewall let through.
nsenter --net=/run/netns/peer ping -n -i 0.2 10.1.0.1 >/run/fwvm/ping.log 2>&1 &
echo $! >/run/fwvm/ping.pid
