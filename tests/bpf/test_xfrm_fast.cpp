// The fast path and kernel IPsec policies (bpf/lib/xfrm_fast.h): once a
// policy exists (epoch > 0), a connection's direction is redirected only
// after the stack sent one of its packets in the clear since the last policy
// change; a flow the kernel encrypts (never seen in the clear on egress)
// stays on the stack. The epoch is written here as `apply` (policies at
// apply) and the xfrm_policy_insert hook (policies added later) do.
#include <doctest/doctest.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

// vlan2 can transmit redirected frames while its peer has an XDP program
// (as in test_fastpath.cpp).
struct PeerXdpProg {
	int prog = -1;
	uint32_t ifindex;
	explicit PeerXdpProg(const std::string &peer) : ifindex(Harness::get().ifindex(peer))
	{
		struct bpf_insn insns[] = {
			{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS},
			{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
		};
		prog = bpf_prog_load(BPF_PROG_TYPE_XDP, "peer", "GPL", insns, 2, nullptr);
		REQUIRE(prog >= 0);
		REQUIRE(bpf_xdp_attach((int)ifindex, prog, XDP_FLAGS_DRV_MODE, nullptr) == 0);
	}
	~PeerXdpProg()
	{
		bpf_xdp_detach((int)ifindex, XDP_FLAGS_DRV_MODE, nullptr);
		close(prog);
	}
};

void set_epoch(Harness &h, uint32_t epoch)
{
	uint32_t zero = 0;
	REQUIRE(bpf_map_update_elem(h.runtime().map_fd("fw_xfrm_epoch"), &zero, &epoch, BPF_ANY) == 0);
}

const char *kRules = R"({ "fastpath": true, "interfaces": ["vlan1", "vlan2"], "policy": {"forward": "drop"},
  "forward": [ {"action": "accept", "in": "vlan1", "out": "vlan2"} ] })";

} // namespace

TEST_CASE("xfrm fast path guard: only what the stack sent in the clear since the last policy change")
{
	Harness &h = Harness::get();
	h.down();
	PeerXdpProg peer("wan1");
	h.apply(kRules);
	const uint8_t ACK = 0x10;
	Packet a = Packet::tcp("10.1.0.2", "198.51.100.7", 45000, 443, ACK);
	// No policy ever: the guard is off, the first packet is redirected.
	CHECK(h.xdp(a, "vlan1").action == XDP_REDIRECT);

	set_epoch(h, 1); // a policy exists
	Packet b = Packet::tcp("10.1.0.2", "198.51.100.7", 45001, 443, ACK);
	CHECK(h.xdp(b, "vlan1").action == XDP_PASS); // the stack decides
	CHECK(h.xdp(b, "vlan1").action == XDP_PASS); // still: not seen leaving in the clear
	h.tc_egress(b, "vlan2");                     // the stack sent it in the clear
	CHECK(h.xdp(b, "vlan1").action == XDP_REDIRECT);
	// A flow the kernel encrypts never shows its inner tuple on egress.
	Packet c = Packet::tcp("10.1.0.2", "198.51.100.7", 45002, 443, ACK);
	CHECK(h.xdp(c, "vlan1").action == XDP_PASS);
	h.tc_egress(Packet::esp("192.0.2.1", "192.0.2.2"), "vlan2");
	CHECK(h.xdp(c, "vlan1").action == XDP_PASS);

	set_epoch(h, 2); // a policy added or updated: every stamp is stale
	CHECK(h.xdp(b, "vlan1").action == XDP_PASS);
	h.tc_egress(b, "vlan2");
	CHECK(h.xdp(b, "vlan1").action == XDP_REDIRECT);
	set_epoch(h, 0);
	h.down();
}
