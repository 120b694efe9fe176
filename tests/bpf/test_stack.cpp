// Stacked devices in the datapath (bpf/lib/stack.h, docs/stacked.md): a
// tagged frame on a parent judged as its VLAN device, a bond slave's frames
// as its bond's, a connection recorded on a device that became a lower one
// meeting the chains again; and the IPsec TC ingress program passing what
// kernel IPsec did not decrypt. The harness kernel may have no 802.1Q or
// bonding: a veth device stands for the VLAN device and the map entries
// the loader would write from the kernel's view are written here.
#include <doctest/doctest.h>
#include <bpf/bpf.h>
#include <cstdlib>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <unistd.h>

#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

const char *kRules = R"({ "version": 1, "policy": {"input": "drop", "forward": "drop"},
  "forward": [
    {"action": "accept", "in": "vlan10", "out": "vlan2", "proto": "udp", "dport": 7000},
    {"action": "accept", "in": "vlan1", "out": "vlan2", "proto": "udp", "dport": 7001},
    {"action": "accept", "in": "vlan2", "out": "vlan1", "proto": "udp", "dport": 7002}
  ] })";

Packet tagged(Packet p, uint16_t vid)
{
	uint8_t tag[4] = {0x81, 0x00, (uint8_t)(vid >> 8), (uint8_t)vid};
	p.bytes.insert(p.bytes.begin() + 12, tag, tag + 4);
	p.l3 += 4;
	if (p.l4)
		p.l4 += 4;
	return p;
}

// The VLAN device's stand-in: a veth named vlan10 with an address.
void make_vlan10()
{
	static bool made = false;
	if (made)
		return;
	REQUIRE(std::system("ip link add vlan10 type veth peer name vlan10p >/dev/null 2>&1 && ip link set vlan10 up && "
			    "ip addr add 10.10.0.1/24 dev vlan10") == 0);
	made = true;
}

void set_flags(Harness &h, const std::string &ifname, uint32_t flags)
{
	uint32_t idx = h.ifindex(ifname);
	REQUIRE(bpf_map_update_elem(h.runtime().map_fd("fw_stack_if"), &idx, &flags, BPF_ANY) == 0);
}

void set_up(Harness &h, const std::string &lower, uint16_t vid, uint8_t kind, const std::string &upper)
{
	fw_stack_key k{h.ifindex(lower), vid, kind, 0};
	uint32_t up = h.ifindex(upper);
	REQUIRE(bpf_map_update_elem(h.runtime().map_fd("fw_stack"), &k, &up, BPF_ANY) == 0);
}

} // namespace

TEST_CASE("stack: a tagged frame on a parent with a VLAN entry is judged as the VLAN device")
{
	Harness &h = Harness::get();
	make_vlan10();
	h.down();
	h.apply(kRules);
	set_flags(h, "vlan1", FW_STACK_IF_VLANS);
	set_up(h, "vlan1", 10, FW_STACK_KIND_VLAN, "vlan10");

	auto req = Packet::udp("10.10.0.2", "198.51.100.7", 40000, 7000);
	CounterValue r1 = h.rule("forward", 1), pol = h.policy("forward");
	CHECK(h.xdp(tagged(req, 10), "vlan1").action == XDP_PASS);
	CHECK(h.rule("forward", 1).packets == r1.packets + 1);
	CHECK(h.policy("forward").packets == pol.packets);

	// Untagged, the same packet is the parent's: no rule names vlan1 for 7000.
	auto other = Packet::udp("10.10.0.2", "198.51.100.7", 40001, 7000);
	CHECK(h.xdp(other, "vlan1").action == XDP_DROP);
	CHECK(h.policy("forward").packets == pol.packets + 1);

	// A tag with no VLAN device: judged as the parent (rule 2 names vlan1).
	auto v11 = Packet::udp("10.1.0.2", "198.51.100.7", 40002, 7001);
	CounterValue r2 = h.rule("forward", 2);
	CHECK(h.xdp(tagged(v11, 11), "vlan1").action == XDP_PASS);
	CHECK(h.rule("forward", 2).packets == r2.packets + 1);
	// ...and a frame tagged 10 cannot use the parent's rule.
	auto v10 = Packet::udp("10.10.0.2", "198.51.100.7", 40003, 7001);
	CHECK(h.xdp(tagged(v10, 10), "vlan1").action == XDP_DROP);
	CHECK(h.rule("forward", 2).packets == r2.packets + 1);
	h.down();
}

TEST_CASE("stack: a bond slave's frames are judged as the bond's")
{
	Harness &h = Harness::get();
	make_vlan10();
	h.down();
	h.apply(kRules);
	// wan1 stands for a slave of "vlan2" (native XDP on a bond runs on its
	// slaves and reports the slave's ifindex).
	set_flags(h, "wan1", FW_STACK_IF_SLAVE | FW_STACK_IF_LOWER);
	set_up(h, "wan1", 0, FW_STACK_KIND_BOND, "vlan2");
	auto p = Packet::udp("198.51.100.7", "10.1.0.2", 5000, 7002);
	CounterValue r3 = h.rule("forward", 3);
	CHECK(h.xdp(p, "wan1").action == XDP_PASS);
	CHECK(h.rule("forward", 3).packets == r3.packets + 1);
	// Without the entry the slave is judged as itself: no rule names wan1.
	set_flags(h, "wan1", 0);
	auto q = Packet::udp("198.51.100.7", "10.1.0.2", 5001, 7002);
	CHECK(h.xdp(q, "wan1").action == XDP_DROP);
	h.down();
}

TEST_CASE("stack: a connection recorded on a device that became a lower one is not trusted")
{
	Harness &h = Harness::get();
	make_vlan10();
	h.down();
	h.apply(kRules);
	// A connection accepted as arriving on vlan1 (rule 2)...
	auto req = Packet::udp("10.1.0.2", "198.51.100.7", 41000, 7001);
	REQUIRE(h.xdp(req, "vlan1").action == XDP_PASS);
	auto reply = Packet::udp("198.51.100.7", "10.1.0.2", 7001, 41000);
	CHECK(h.xdp(reply, "vlan2").action == XDP_PASS); // established
	// ...then vlan1 became a bridge port: what was judged on it no longer
	// stands; the reply meets the forward chain (policy drop).
	set_flags(h, "vlan1", FW_STACK_IF_LOWER);
	CounterValue pol = h.policy("forward");
	CHECK(h.xdp(reply, "vlan2").action == XDP_DROP);
	CHECK(h.policy("forward").packets == pol.packets + 1);
	set_flags(h, "vlan1", 0);
	h.down();
}

TEST_CASE("stack: the IPsec TC ingress program passes what IPsec did not decrypt, unjudged")
{
	Harness &h = Harness::get();
	make_vlan10();
	h.down();
	h.apply(kRules);
	// Verified when an interface first needs it (or by the watcher): no
	// interface here does.
	CHECK(access((h.pin_dir + "/prog_fw_tc_ingress_xfrm").c_str(), F_OK) != 0);
	h.runtime().load_missing_programs({"fw_tc_ingress_xfrm"});
	int prog = bpf_obj_get((h.pin_dir + "/prog_fw_tc_ingress_xfrm").c_str());
	REQUIRE(prog >= 0);
	auto p = Packet::udp("198.51.100.7", "10.1.0.2", 5000, 9999); // the policy would drop it
	struct __sk_buff ctx {};
	ctx.ifindex = h.ifindex("vlan2");
	std::vector<uint8_t> out(p.bytes.size() + 64);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p.bytes.data(), .data_out = out.data(),
		    .data_size_in = (uint32_t)p.bytes.size(), .data_size_out = (uint32_t)out.size(),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
	CounterValue pol = h.policy("forward");
	REQUIRE(bpf_prog_test_run_opts(prog, &o) == 0);
	close(prog);
	CHECK(o.retval == TC_ACT_OK); // XDP judged it; no secpath here
	CHECK(h.policy("forward").packets == pol.packets);
	h.down();
}
