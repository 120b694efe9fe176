// Kernel IPsec (XFRM) policies and the fast path. A packet redirected from
// XDP skips the stack's XFRM lookup, so it would leave in cleartext where a
// policy asks for encryption (or pass where a policy asks for a decrypted
// packet). The datapath reads one flag, fw_ipsec_guard[0]: while any
// forward-relevant policy exists (direction out or fwd; socket and input
// policies concern only this host's own traffic), nothing takes the fast
// path. `apply` sets it from a dump; `fwctl watch` keeps it current from
// XFRM policy events (XFRMNLGRP_POLICY) and a dump after each of them.
// See docs/fastpath.md, "IPsec", for the window this leaves.
#pragma once

#include <string>

namespace fw {

// Writes the flag into the datapath pinned at pin_dir from a fresh dump;
// returns whether forward-relevant policies exist. No datapath: nothing
// written.
bool sync_ipsec_guard(const std::string &pin_dir);
// The same through an open map fd (apply).
bool write_ipsec_guard(int map_fd);

// A NETLINK_XFRM socket subscribed to policy events.
class XfrmPolicyMonitor {
public:
	XfrmPolicyMonitor(); // -1 fd when this kernel has no XFRM
	~XfrmPolicyMonitor();
	XfrmPolicyMonitor(const XfrmPolicyMonitor &) = delete;
	int fd() const { return fd_; }
	// Reads every pending message; true when any arrived or some were
	// lost (either way: dump again).
	bool drain();

private:
	int fd_ = -1;
};

} // namespace fw
