// TC egress and ingress through clsact + cls_bpf, for kernels without tcx links (< 6.6,
// e.g. Debian 12's 6.1). Same program, same semantics as the tcx link; the
// owner safety a link gives for free is rebuilt by hand:
//  - fwctl's filter sits at a reserved handle and priority (kHandle,
//    kPriority) on the egress hook and is never created with REPLACE, so
//    someone else's filter there is an error, never overwritten;
//  - the program is pinned as the attachment's pin (link_tc_<ifindex>, the
//    name a tcx link would have); a filter is ours only when the program at
//    our handle/priority has that pinned program's id, and only then is it
//    detached. The clsact qdisc itself stays (other filters may use it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fw::tc_clsact {

inline constexpr uint32_t kHandle = 0xf3c7;
inline constexpr uint32_t kPriority = 1;

// True when bpf_link_create(BPF_TCX_EGRESS) failed because the kernel has
// no tcx (errno of that call).
bool tcx_missing(int err);

// Attaches prog_fd at egress of ifindex (ingress when pin is a
// link_tci_<ifindex>) and pins the program at pin.
// Throws SystemError naming the interface (and the missing feature when the
// kernel has no clsact / cls_bpf).
void attach(int prog_fd, uint32_t ifindex, const std::string &ifname, const std::string &pin);

// The pin is a program (clsact mode), not a link.
bool is_clsact_pin(const std::string &pin);

// Name of our program if it is still attached at our handle/priority.
std::optional<std::string> attached_program(const std::string &pin, uint32_t ifindex);

// Upgrades: replaces the program of our filter in place (BPF_TC_F_REPLACE
// at our handle/priority, only if the filter there is ours), then pins the
// new program at pin. The hook runs the old program or the new one, never
// none.
void replace(int prog_fd, uint32_t ifindex, const std::string &pin);

// Detaches our filter (only if it is ours); the caller unlinks the pin.
void detach(const std::string &pin, uint32_t ifindex);

} // namespace fw::tc_clsact
