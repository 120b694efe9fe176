// Whether this network namespace routes by anything but the destination:
// policy-routing rules (`ip rule`) beyond the kernel's defaults. The drop
// memo may leave a flow's source address out only when routes cannot tell
// two sources apart (FW_CFG_F_ANY_SADDR, bpf/lib/drop_memo.h).
#pragma once

namespace fw {

// True when an IPv4 or IPv6 rule other than the defaults exists (IPv4:
// local at 0, main at 32766, default at 32767; IPv6: local at 0, main at
// 32766), or when the rules cannot be read (the careful answer).
bool policy_routing_rules_present();

} // namespace fw
