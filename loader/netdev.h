// What fwctl asks the kernel about network devices: their kind, their XDP
// abilities, their addresses, and whether kernel IPsec (XFRM) is in use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fw {

// Names of the interfaces of this network namespace (if_nameindex), but lo.
std::vector<std::string> netns_interfaces();

// True for a device without Ethernet headers (TUN, WireGuard...).
bool is_l3_device(const std::string &ifname);
// True when the XDP program attached to the interface runs in the driver
// (native), false for generic mode or none.
bool xdp_attached_native(uint32_t ifindex);
// The kernel driver behind an interface ("veth", "tun"...), "" if unknown.
std::string driver_name(const std::string &ifname);
// A veth whose peer cannot take XDP frames: attach it in generic mode.
bool veth_without_xdp_peer(const std::string &ifname, uint32_t ifindex);
// The fast path's value for an attached interface: FW_FAST_IF_* flags and,
// from bit FW_FAST_IF_MAC_SHIFT, its MAC address (fast_if_mac).
uint64_t fast_if_flags(const std::string &ifname, uint32_t ifindex);
uint64_t fast_if_mac(const std::string &ifname);

// The interface's primary IPv4 address (network byte order), 0 if none.
uint32_t primary_ipv4(const std::string &ifname);

// True when a kernel IPsec (XFRM) policy for forwarded packets exists
// (direction out or fwd).
bool xfrm_policies_present();

} // namespace fw
