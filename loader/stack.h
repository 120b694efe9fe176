// Stacked devices (docs/stacked.md): bridges and their ports, bonds and their
// slaves, 802.1Q VLAN devices and their parents. Decides which selected
// interfaces get programs and which are judged by another device's program,
// so that a frame is judged once, as arriving on the device that owns it at
// layer 3; and writes what the datapath needs for that (bpf/lib/stack.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fw {

struct StackLink {
	uint32_t ifindex = 0;
	std::string name;
	std::string kind;    // IFLA_INFO_KIND: "bridge", "bond", "vlan", "veth", "" ...
	uint32_t master = 0; // IFLA_MASTER: the bridge or bond it is enslaved to
	uint32_t link = 0;   // IFLA_LINK: a VLAN's parent
	uint16_t vid = 0;    // a VLAN's id (802.1Q only)
	bool dot1q = false;  // an 802.1Q (not 802.1ad) VLAN
};

// Every link of this network namespace, by ifindex (one RTM_GETLINK dump).
std::map<uint32_t, StackLink> stack_read_links();

using Target = std::pair<std::string, uint32_t>; // name, ifindex

struct StackPlan {
	std::vector<Target> attach;             // XDP + TC egress (as before)
	std::vector<Target> xfrm_only;          // a VLAN judged by its parent: TC ingress for
						// what kernel IPsec decrypts on it (lib/xfrm_in.h)
	std::vector<std::pair<std::string, std::string>> covered; // name -> why (by whom)
};

// Splits the selected interfaces: a bridge port or bond slave whose master is
// selected is judged by the master; an 802.1Q device whose parent is
// selected is judged by the parent's program.
StackPlan stack_plan(const std::map<uint32_t, StackLink> &links, const std::vector<Target> &selected);

// Writes fw_stack_if and fw_stack for the plan: new entries first, then the
// stale ones removed, so no packet sees a stack half-described.
void stack_write_maps(int stack_if_fd, int stack_fd, const std::map<uint32_t, StackLink> &links,
		      const std::vector<Target> &selected);

// Why `name` gets no program of its own under the applied selection ("" when
// it does); used by the watcher and `status`.
std::string stack_covered_reason(const std::map<uint32_t, StackLink> &links,
				 const std::vector<Target> &selected, const std::string &name);

// The applied selection's interfaces judged by another device (name -> why),
// from the kernel's current view; for `status`.
std::vector<std::pair<std::string, std::string>> stack_covered_now(const std::vector<std::string> &selected);

} // namespace fw
