// The forwarding fast path: what it redirects, how it rewrites, and every
// case it must leave to the stack.
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

// An XDP program on wan1 makes vlan2 (its veth peer) able to transmit
// redirected frames, as a real NIC always is.
struct PeerXdp {
	int prog = -1;
	uint32_t ifindex;
	explicit PeerXdp(const std::string &peer) : ifindex(Harness::get().ifindex(peer))
	{
		struct bpf_insn insns[] = {
			{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS},
			{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
		};
		prog = bpf_prog_load(BPF_PROG_TYPE_XDP, "peer", "GPL", insns, 2, nullptr);
		REQUIRE(prog >= 0);
		REQUIRE(bpf_xdp_attach((int)ifindex, prog, XDP_FLAGS_DRV_MODE, nullptr) == 0);
	}
	~PeerXdp()
	{
		bpf_xdp_detach((int)ifindex, XDP_FLAGS_DRV_MODE, nullptr);
		close(prog);
	}
};

// Only the router's own interfaces: the peers' XDP is the test's to set.
const char *kRules = R"({ "fastpath": true, "interfaces": ["vlan1", "vlan2"], "policy": {"forward": "drop"},
  "forward": [ {"action": "accept", "in": "vlan1", "out": "vlan2"} ] })";

} // namespace

TEST_CASE("fast path: accepted forwarded packets are redirected, rewritten as the stack would")
{
	Harness &h = Harness::get();
	h.down();
	PeerXdp peer("wan1");
	h.apply(kRules);
	uint64_t before = h.stat(FW_STAT_FASTPATH).packets;
	Packet p = Packet::udp("10.1.0.2", "198.51.100.7", 40000, 53);
	auto r = h.xdp(p, "vlan1");
	CHECK(r.action == XDP_REDIRECT);
	CHECK(h.stat(FW_STAT_FASTPATH).packets == before + 1);
	Packet out = r.packet();
	CHECK(out.bytes[14 + 8] == 63); // TTL 64 - 1
	CHECK(out.ipv4_checksum_ok());
	CHECK(out.l4_checksum_ok());
	// Next hop 192.0.2.2's MAC (static neighbour), from vlan2's own MAC.
	const uint8_t gw[6] = {0x02, 0, 0, 0, 0x02, 0x02};
	CHECK(std::equal(gw, gw + 6, out.bytes.begin()));
	CHECK(h.rule("forward", 1).packets == 1); // counted before leaving
	// The reply belongs to the connection: redirected back too... only if
	// vlan1 could transmit XDP frames; lan1 has no XDP, so: the stack.
	auto back = h.xdp(Packet::udp("198.51.100.7", "10.1.0.2", 53, 40000), "vlan2");
	CHECK(back.action == XDP_PASS);
	CHECK(h.stat(FW_STAT_CT_ESTABLISHED).packets >= 1);
	// An established packet of the first flow takes the fast path again.
	CHECK(h.xdp(p, "vlan1").action == XDP_REDIRECT);
}

TEST_CASE("fast path: IPsec, TTL 1, input traffic, drops and the default stay off it")
{
	Harness &h = Harness::get();
	h.down();
	PeerXdp peer("wan1");
	h.apply(kRules);
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 500, 500), "vlan1").action == XDP_PASS);
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 4500, 4500), "vlan1").action == XDP_PASS);
	CHECK(h.xdp(Packet::esp("10.1.0.2", "198.51.100.7"), "vlan1").action == XDP_PASS);
	Packet ttl1 = Packet::ip("10.1.0.2", "198.51.100.7", 17, Packet::ports_header(1, 2, 8), 1);
	CHECK(h.xdp(ttl1, "vlan1").action == XDP_PASS); // the stack sends time exceeded
	CHECK(h.xdp(Packet::udp("10.1.0.2", "10.1.0.1", 1, 2), "vlan1").action == XDP_PASS); // input
	CHECK(h.xdp(Packet::udp("192.0.2.2", "10.1.0.2", 1, 2), "vlan2").action == XDP_DROP);
	h.down();
	h.apply(R"({"interfaces": ["vlan1", "vlan2"], "forward": [ {"action": "accept", "in": "vlan1", "out": "vlan2"} ] })");
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 40001, 53), "vlan1").action == XDP_PASS);
}

TEST_CASE("fast path: an egress device that cannot take XDP frames is never a target")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kRules); // wan1 has no XDP program: vlan2 cannot transmit redirected frames
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 40002, 53), "vlan1").action == XDP_PASS);
}
