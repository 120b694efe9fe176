// Verdicts and counters of the stateless datapath: every match field, both
// chains, both families, policies, first match, catch-alls, odd packets.
#include <doctest/doctest.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

const char *kBase = R"({ "version": 1, "policy": {"input": "drop", "forward": "drop"},
  "input": [
    {"action": "accept", "in": "vlan2", "proto": "udp", "dport": 500, "comment": "IKE"},
    {"action": "accept", "in": "vlan2", "proto": "esp", "comment": "IPsec ESP"},
    {"action": "accept", "saddr": "10.1.0.0/16", "proto": "icmp"},
    {"action": "accept", "saddr": "2001:db8::/64", "proto": "icmpv6"},
    {"action": "drop", "proto": "tcp", "dport": "20-23"},
    {"action": "accept", "proto": "tcp", "sport": "1000-2000"},
    {"action": "accept", "proto": "sctp", "dport": 9899}
  ],
  "forward": [
    {"action": "accept", "in": "vlan1", "out": "vlan2", "proto": "tcp", "dport": 80},
    {"action": "drop", "in": "vlan2", "out": "vlan1", "daddr": "10.1.0.0/24"},
    {"action": "accept", "in": "vlan2", "out": "vlan1"},
    {"action": "accept", "daddr": "2001:db8:1::/48", "proto": 17}
  ] })";

struct Case {
	const char *what;
	Packet pkt;
	const char *in;
	int action;
	const char *chain;  // where it should be counted
	int position;       // 0: the policy
};

} // namespace

TEST_CASE("stateless verdicts and counters, table-driven")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kBase);
	std::vector<Case> cases = {
		{"IKE to the router", Packet::udp("192.0.2.2", "192.0.2.1", 500, 500), "vlan2", XDP_PASS, "input", 1},
		{"UDP 501 meets the input policy", Packet::udp("192.0.2.2", "192.0.2.1", 500, 501), "vlan2", XDP_DROP, "input", 0},
		{"IKE from the LAN side: wrong in", Packet::udp("10.1.0.2", "10.1.0.1", 500, 500), "vlan1", XDP_DROP, "input", 0},
		{"ESP by protocol", Packet::esp("192.0.2.2", "192.0.2.1"), "vlan2", XDP_PASS, "input", 2},
		{"ICMP from the LAN prefix", Packet::icmp("10.1.0.2", "10.1.0.1", 8), "vlan1", XDP_PASS, "input", 3},
		{"ICMP from elsewhere", Packet::icmp("192.0.2.2", "192.0.2.1", 8), "vlan2", XDP_DROP, "input", 0},
		{"ICMPv6 echo from the v6 prefix", Packet::icmp("2001:db8::2", "2001:db8::1", 128), "vlan2", XDP_PASS, "input", 4},
		{"telnet dropped by range (first match)", Packet::tcp("192.0.2.2", "192.0.2.1", 1500, 23), "vlan2", XDP_DROP, "input", 5},
		{"sport range", Packet::tcp("192.0.2.2", "192.0.2.1", 1500, 8080), "vlan2", XDP_PASS, "input", 6},
		{"sport out of range", Packet::tcp("192.0.2.2", "192.0.2.1", 2001, 8080), "vlan2", XDP_DROP, "input", 0},
		{"sctp port", Packet::sctp("192.0.2.2", "192.0.2.1", 5, 9899), "vlan2", XDP_PASS, "input", 7},
		{"IPv6 to the router's v6 address", Packet::udp("2001:db8::2", "2001:db8::1", 500, 500), "vlan2", XDP_PASS, "input", 1},
		{"broadcast goes to input", Packet::udp("192.0.2.2", "255.255.255.255", 68, 67), "vlan2", XDP_DROP, "input", 0},
		{"forward LAN to WAN port 80", Packet::tcp("10.1.0.2", "198.51.100.7", 40000, 80), "vlan1", XDP_PASS, "forward", 1},
		{"forward LAN to WAN port 81", Packet::tcp("10.1.0.2", "198.51.100.7", 40000, 81), "vlan1", XDP_DROP, "forward", 0},
		{"forward WAN to LAN /24 dropped", Packet::udp("198.51.100.7", "10.1.0.9", 1, 2), "vlan2", XDP_DROP, "forward", 2},
		{"forward WAN to LAN elsewhere", Packet::udp("198.51.100.7", "10.1.1.9", 1, 2), "vlan2", XDP_PASS, "forward", 3},
		{"forward IPv6 by proto number", Packet::udp("fd01::2", "2001:db8:1::5", 1, 2), "vlan1", XDP_PASS, "forward", 4},
		{"forward IPv6 other proto", Packet::tcp("fd01::2", "2001:db8:1::5", 1, 2), "vlan1", XDP_DROP, "forward", 0},
		{"unreachable destination is forward", Packet::udp("10.1.0.2", "10.9.0.1", 1, 2), "vlan1", XDP_DROP, "forward", 0},
	};
	for (auto &c : cases) {
		CAPTURE(c.what);
		CounterValue before = c.position ? h.rule(c.chain, (size_t)c.position) : h.policy(c.chain);
		auto r = h.xdp(c.pkt, c.in);
		CHECK(r.action == c.action);
		CounterValue after = c.position ? h.rule(c.chain, (size_t)c.position) : h.policy(c.chain);
		CHECK(after.packets == before.packets + 1);
		uint32_t l3 = (uint32_t)(c.pkt.bytes.size() - 14);
		CHECK(after.bytes == before.bytes + l3);
	}
}

TEST_CASE("ARP passes and IPv6 neighbour discovery survives a drop policy")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(R"({"policy": {"input": "drop", "forward": "drop"}})");
	CHECK(h.xdp(Packet::arp(), "vlan2").action == XDP_PASS);
	uint64_t nd = h.stat(FW_STAT_ND).packets;
	CHECK(h.xdp(Packet::icmp("fe80::2", "ff02::1:ff00:1", 135, 0, 0, std::vector<uint8_t>(16, 0), 255), "vlan2").action == XDP_PASS);
	CHECK(h.stat(FW_STAT_ND).packets == nd + 1);
	// The same message with a hop limit below 255 did not come from the
	// link: it meets the policy.
	CHECK(h.xdp(Packet::icmp("fe80::2", "ff02::1:ff00:1", 135, 0, 0, std::vector<uint8_t>(16, 0), 64), "vlan2").action == XDP_DROP);
}

TEST_CASE("policy accept; a catch-all shadows what follows it")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(R"({"input": [
	    {"action": "drop", "proto": "udp", "dport": 53},
	    {"action": "drop", "log": true, "comment": "catch-all"},
	    {"action": "accept", "proto": "udp", "dport": 9}]})");
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 1, 53), "vlan2").action == XDP_DROP);
	CHECK(h.rule("input", 1).packets == 1);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 1, 9), "vlan2").action == XDP_DROP);
	CHECK(h.rule("input", 2).packets == 1);
	CHECK(h.rule("input", 3).packets == 0);
	h.down();
	h.apply(R"({"input": [{"action": "drop", "proto": "udp", "dport": 53}]})");
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 1, 54), "vlan2").action == XDP_PASS);
	CHECK(h.policy("input").packets >= 1);
}

TEST_CASE("rules without addresses match both families; addressed rules one")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(R"({"policy": {"input": "drop"}, "input": [
	    {"action": "accept", "proto": "udp", "dport": 7},
	    {"action": "accept", "daddr": "192.0.2.1", "proto": "tcp"}]})");
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 1, 7), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(Packet::udp("2001:db8::2", "2001:db8::1", 1, 7), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(Packet::tcp("192.0.2.2", "192.0.2.1", 1, 7), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(Packet::tcp("2001:db8::2", "2001:db8::1", 1, 7), "vlan2").action == XDP_DROP);
}

TEST_CASE("packets we cannot understand meet a policy, never an accept")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(R"({"policy": {"input": "drop", "forward": "accept"},
	    "input": [{"action": "accept", "proto": "udp"}]})");
	Packet bad = Packet::udp("192.0.2.2", "192.0.2.1", 1, 2);
	bad.bytes[14] = 0x44; // IHL 4: no valid IPv4 header
	CHECK(h.xdp(bad, "vlan2").action == XDP_DROP);
	Packet cut = Packet::udp("192.0.2.2", "192.0.2.1", 1, 2, 0);
	cut.bytes.resize(14 + 20 + 4); // UDP header cut in half
	CHECK(h.xdp(cut, "vlan2").action == XDP_DROP);
	Packet ihl = Packet::udp("192.0.2.2", "192.0.2.1", 1, 2);
	ihl.bytes[14] = 0x4f; // options longer than the packet
	CHECK(h.xdp(ihl, "vlan2").action == XDP_DROP);
}

TEST_CASE("a later fragment gets its first fragment's verdict, else the policy")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(R"({"policy": {"input": "drop"}, "input": [
	    {"action": "drop", "proto": "udp", "dport": 22},
	    {"action": "accept", "proto": "udp"}]})");
	auto frag = [](uint16_t id, uint16_t dport, bool first) {
		Packet p = Packet::udp("192.0.2.2", "192.0.2.1", 1, dport, 32);
		p.bytes[18] = (uint8_t)(id >> 8), p.bytes[19] = (uint8_t)id;
		uint16_t fo = first ? 0x2000 : 0x0004; // MF, or offset 32 bytes
		p.bytes[20] = (uint8_t)(fo >> 8), p.bytes[21] = (uint8_t)fo;
		return p;
	};
	CHECK(h.xdp(frag(7, 53, true), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(frag(7, 0, false), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(frag(8, 22, true), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(frag(8, 0, false), "vlan2").action == XDP_DROP);
	uint64_t before = h.stat(FW_STAT_FRAG_POLICY).packets;
	CHECK(h.xdp(frag(9, 0, false), "vlan2").action == XDP_DROP); // no first fragment seen
	CHECK(h.stat(FW_STAT_FRAG_POLICY).packets == before + 1);
}

TEST_CASE("re-apply keeps the counters of unchanged rules")
{
	Harness &h = Harness::get();
	h.down();
	const char *v1 = R"({"input": [
	    {"action": "accept", "proto": "udp", "dport": 1},
	    {"action": "accept", "proto": "udp", "dport": 2}]})";
	const char *v2 = R"({"input": [
	    {"action": "accept", "proto": "udp", "dport": 3},
	    {"action": "accept", "proto": "udp", "dport": 2}]})";
	h.apply(v1);
	h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 9, 1), "vlan2");
	h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 9, 2), "vlan2");
	// Another flow: a second packet of the first is the connection table's.
	h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 10, 2), "vlan2");
	h.apply(v2);
	CHECK(h.rule("input", 1).packets == 0); // a new rule starts at zero
	CHECK(h.rule("input", 2).packets == 2); // an unchanged rule keeps its count
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 9, 3), "vlan2").action == XDP_PASS);
	CHECK(h.rule("input", 1).packets == 1);
}

TEST_CASE("10,000 rules: the last one still decides")
{
	Harness &h = Harness::get();
	h.down();
	std::string js = R"({"policy": {"input": "drop"}, "input": [)";
	for (int i = 0; i < 10000; i++)
		js += std::string(i ? "," : "") + R"({"action": "accept", "in": "vlan2", "proto": "udp", "dport": )" +
		      std::to_string(10000 + i) + "}";
	js += "]}";
	h.apply(js);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 9, 19999), "vlan2").action == XDP_PASS);
	CHECK(h.rule("input", 10000).packets == 1);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 9, 20000), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 9, 10000), "vlan2").action == XDP_PASS);
	CHECK(h.rule("input", 1).packets == 1);
}

namespace {

// The running generation's config, as the datapath reads it.
fw_gen_cfg running_cfg()
{
	Runtime &rt = Harness::get().runtime();
	uint32_t zero = 0;
	fw_active act{};
	REQUIRE(bpf_map_lookup_elem(rt.map_fd("fw_active"), &zero, &act) == 0);
	uint32_t gen = act.gen & 1;
	fw_gen_cfg cfg{};
	REQUIRE(bpf_map_lookup_elem(rt.map_fd("fw_gen_cfg"), &gen, &cfg) == 0);
	return cfg;
}

} // namespace

TEST_CASE("a chain whose rules name no interface or address skips those stages, same verdicts")
{
	Harness &h = Harness::get();
	h.down();
	// input: ports and protocols only; forward: one rule names an interface.
	h.apply(R"({"policy": {"input": "drop", "forward": "drop"}, "input": [
	    {"action": "drop", "proto": "udp", "dport": "100-200"},
	    {"action": "accept", "proto": "udp", "dport": 150},
	    {"action": "accept", "proto": "udp", "sport": 7, "dport": "1-1000"},
	    {"action": "accept", "proto": "icmp"}],
	  "forward": [ {"action": "accept", "in": "vlan1", "proto": "udp"} ]})");
	fw_gen_cfg cfg = running_cfg();
	CHECK((cfg.flags & (FW_CFG_F_CONST_AB << FW_CHAIN_INPUT)) != 0);
	CHECK((cfg.flags & (FW_CFG_F_CONST_AB << FW_CHAIN_FORWARD)) == 0);
	CHECK(cfg.const_ab[FW_CHAIN_INPUT] != FW_CLASS_NONE);

	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 7, 150), "vlan2").action == XDP_DROP); // rule 1 first
	CHECK(h.rule("input", 1).packets == 1);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 7, 300), "vlan2").action == XDP_PASS); // rule 3
	CHECK(h.rule("input", 3).packets == 1);
	CHECK(h.xdp(Packet::udp("2001:db8::2", "2001:db8::1", 7, 300), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 8, 300), "vlan2").action == XDP_DROP); // policy
	CHECK(h.xdp(Packet::tcp("192.0.2.2", "192.0.2.1", 7, 300), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(Packet::icmp("192.0.2.2", "192.0.2.1", 8), "vlan2").action == XDP_PASS); // rule 4
	CHECK(h.rule("input", 4).packets == 1);
	// The forward chain still looks at interfaces: vlan1 in, not vlan2.
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 5, 6), "vlan1").action == XDP_PASS);
	CHECK(h.xdp(Packet::udp("198.51.100.7", "10.1.0.2", 5, 6), "vlan2").action == XDP_DROP);

	// Only a catch-all: nothing in the tables, every packet takes it.
	h.down();
	h.apply(R"({"policy": {"input": "accept"}, "input": [ {"action": "drop"} ]})");
	cfg = running_cfg();
	CHECK((cfg.flags & (FW_CFG_F_CONST_AB << FW_CHAIN_INPUT)) != 0);
	CHECK(cfg.const_ab[FW_CHAIN_INPUT] == FW_CLASS_NONE);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 1, 2), "vlan2").action == XDP_DROP);
	CHECK(h.rule("input", 1).packets == 1);
}
