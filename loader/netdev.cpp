#include "netdev.h"
#include "netlink_dump.h"

#include <cstring>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netdev.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <linux/xfrm.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <bpf/libbpf.h>

#include "bpf_map.h"
#include "fw/abi.h"

namespace fw {

std::vector<std::string> netns_interfaces()
{
	std::vector<std::string> names;
	struct if_nameindex *list = if_nameindex();
	if (!list)
		return names;
	for (auto *i = list; i->if_index; i++)
		if (strcmp(i->if_name, "lo") != 0)
			names.push_back(i->if_name);
	if_freenameindex(list);
	return names;
}

bool xdp_attached_native(uint32_t ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	return bpf_xdp_query((int)ifindex, 0, &q) == 0 && q.attach_mode == XDP_ATTACHED_DRV;
}

bool is_l3_device(const std::string &ifname)
{
	Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	struct ifreq ifr {};
	strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
	if (s.fd < 0 || ioctl(s.fd, SIOCGIFHWADDR, &ifr) < 0)
		return false;
	return ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER;
}

std::string driver_name(const std::string &ifname)
{
	Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	struct ethtool_drvinfo info {};
	struct ifreq ifr {};
	info.cmd = ETHTOOL_GDRVINFO;
	strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
	ifr.ifr_data = (char *)&info;
	if (s.fd < 0 || ioctl(s.fd, SIOCETHTOOL, &ifr) < 0)
		return "";
	return info.driver;
}

// Native XDP on a veth transmits XDP_TX frames (reject answers) through the
// peer's NAPI, which exists only while the peer has GRO on or an XDP program;
// without it the kernel drops them silently. A veth advertises NDO_XMIT in
// its xdp_features exactly when its peer can take frames; when it does not,
// attach in generic mode, where XDP_TX goes through the peer's ordinary xmit.
// Decided at attach time (a later change of the peer is not followed).
bool veth_without_xdp_peer(const std::string &ifname, uint32_t ifindex)
{
	if (driver_name(ifname) != "veth")
		return false;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	if (bpf_xdp_query((int)ifindex, 0, &q) != 0)
		return false;
	return !(q.feature_flags & NETDEV_XDP_ACT_NDO_XMIT);
}

namespace {

// Whether a redirected XDP frame can leave by this device: its driver
// transmits XDP frames (for a veth: its peer can take them), and it is an
// Ethernet device (a TUN device would hand the frame to its daemon).
bool xdp_redirect_target(const std::string &ifname, uint32_t ifindex)
{
	if (is_l3_device(ifname))
		return false;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	return bpf_xdp_query((int)ifindex, 0, &q) == 0 && (q.feature_flags & NETDEV_XDP_ACT_NDO_XMIT);
}

} // namespace

// The interface's Ethernet address as fw_fast_if keeps it (FW_FAST_IF_MAC_SHIFT),
// 0 when it has none: the fast path then takes no frame in by it.
uint64_t fast_if_mac(const std::string &ifname)
{
	Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	struct ifreq ifr {};
	strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
	if (s.fd < 0 || ioctl(s.fd, SIOCGIFHWADDR, &ifr) < 0 || ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return 0;
	uint64_t mac = 0;
	for (int i = 0; i < 6; i++)
		mac = mac << 8 | (uint8_t)ifr.ifr_hwaddr.sa_data[i];
	return mac << FW_FAST_IF_MAC_SHIFT;
}

// The fast path's view of an attached interface (FW_FAST_IF_*, see
// bpf/lib/fastpath.h). Checksums need checking where a packet may come
// from a stack on this machine with its checksum left to "hardware"
// (CHECKSUM_PARTIAL): virtual links to other namespaces or to userspace,
// and any device where XDP runs in generic mode (after GRO, which leaves
// merged packets the same way). A NIC's native XDP sees wire packets.
// Bits 16-63 carry the interface's MAC (fast_if_mac).
uint64_t fast_if_flags(const std::string &ifname, uint32_t ifindex)
{
	uint64_t flags = fast_if_mac(ifname);
	if (xdp_redirect_target(ifname, ifindex))
		flags |= FW_FAST_IF_OUT;
	std::string drv = driver_name(ifname);
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	bool generic = bpf_xdp_query((int)ifindex, 0, &q) != 0 || q.attach_mode != XDP_ATTACHED_DRV;
	if (generic || drv == "veth" || drv == "tun" || drv == "netkit" || drv.empty())
		flags |= FW_FAST_IF_VERIFY_CSUM;
	return flags;
}

// The first IPv4 address the kernel lists, as the stack picks for masquerade.
uint32_t primary_ipv4(const std::string &ifname)
{
	struct ifaddrs *list = nullptr;
	uint32_t a = 0;
	if (getifaddrs(&list) != 0)
		return 0;
	for (auto *i = list; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && ifname == i->ifa_name) {
			a = reinterpret_cast<sockaddr_in *>(i->ifa_addr)->sin_addr.s_addr;
			break;
		}
	freeifaddrs(list);
	return a;
}

// Kernel IPsec (XFRM) policies decide in the stack what gets encrypted; a
// packet redirected from XDP would skip them (ipsec_guard.h).
bool xfrm_policies_present()
{
	struct {
		struct nlmsghdr nh;
		struct xfrm_userpolicy_id id;
	} req{};
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = XFRM_MSG_GETPOLICY;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	// Out and fwd policies act on forwarded packets; in and socket
	// policies (dir >= XFRM_POLICY_MAX) only on this host's own. No XFRM
	// in this kernel, or no answer: none.
	return netlink_dump(NETLINK_XFRM, &req, sizeof(req), [](const struct nlmsghdr *nh) {
		       if (nh->nlmsg_type != XFRM_MSG_NEWPOLICY ||
			   nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct xfrm_userpolicy_info)))
			       return 0;
		       auto *pi = (const struct xfrm_userpolicy_info *)NLMSG_DATA(nh);
		       return pi->dir == XFRM_POLICY_OUT || pi->dir == XFRM_POLICY_FWD ? 1 : 0;
	       }) == 1;
}

} // namespace fw
