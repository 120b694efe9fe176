// Each generation's combine table is sized from its compiled ruleset
// (loader/combine_table.cpp): a one-rule ruleset costs kilobytes, a
// ruleset that outgrows the table gets a bigger one before the switch, and
// one that shrinks gives the memory back. Verdicts hold across every swap.
#include <doctest/doctest.h>
#include <algorithm>
#include <linux/bpf.h>
#include <tuple>

#include "combine_table.h"
#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

// N rules, each a distinct source /24 with a distinct port: every rule is
// its own class at every stage, so the tables hold about 3 N combinations.
std::string wide_rules(int n)
{
	std::string fwd;
	for (int i = 0; i < n; i++)
		fwd += std::string(i ? "," : "") + R"({"action": "accept", "in": "vlan2", "proto": "udp", "saddr": "10.)" +
		       std::to_string(i / 256) + "." + std::to_string(i % 256) + R"(.0/24", "dport": )" +
		       std::to_string(10000 + i) + "}";
	return R"({"policy": {"input": "drop", "forward": "drop"}, "input": [)" + fwd + "]}";
}

// The combine tables' sizes, by generation (0 where a slot is empty).
std::pair<uint32_t, uint32_t> combine_sizes(Harness &h)
{
	std::pair<uint32_t, uint32_t> s{0, 0};
	for (auto &m : h.runtime().map_memory()) {
		if (m.name == "fw_cls_combine.gen0")
			s.first = m.max_entries;
		if (m.name == "fw_cls_combine.gen1")
			s.second = m.max_entries;
	}
	return s;
}

int verdict(Harness &h, int i, int port_delta = 0)
{
	Packet p = Packet::udp("10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".7", "192.0.2.1",
			       4000, (uint16_t)(10000 + i + port_delta));
	return h.xdp(p, "vlan2").action;
}

} // namespace

TEST_CASE("combine tables grow and shrink with the ruleset, verdicts unchanged")
{
	Harness &h = Harness::get();
	DownAtEnd down_at_end{h};
	h.down();

	h.apply(wide_rules(1));
	auto [g0, g1] = combine_sizes(h); // a fresh load fills one generation
	CHECK(std::min(g0, g1) == 0);
	CHECK(std::max(g0, g1) == combine_capacity_for(0)); // the minimum: 4,096
	CHECK(verdict(h, 0) == XDP_PASS);
	uint64_t small_bytes = 0;
	for (auto &m : h.runtime().map_memory())
		if (m.name.rfind("fw_cls_combine", 0) == 0)
			small_bytes += m.bytes;
	CHECK(small_bytes < (1u << 20)); // was 64 MiB with one 4 Mi-entry hash

	// 3,000 rules need ~9,000 combinations: the other generation gets a
	// bigger table, filled before the switch.
	h.apply(wide_rules(3000));
	std::tie(g0, g1) = combine_sizes(h);
	CHECK(std::max(g0, g1) >= 8192);
	CHECK(std::min(g0, g1) == combine_capacity_for(0)); // the previous generation, untouched
	for (int i : {0, 1, 255, 256, 1500, 2999}) {
		CAPTURE(i);
		CHECK(verdict(h, i) == XDP_PASS);
		CHECK(verdict(h, i, 1) == XDP_DROP); // the neighbour's port: another rule's
	}

	// Applied again: the other generation grows too; same verdicts.
	h.apply(wide_rules(3000));
	std::tie(g0, g1) = combine_sizes(h);
	CHECK(std::min(g0, g1) >= 8192);
	CHECK(verdict(h, 2998) == XDP_PASS); // flows not seen before: the tables,
	CHECK(verdict(h, 3000) == XDP_DROP); // not the connection table, decide

	// Back to one rule, twice: both generations shrink to the minimum.
	h.apply(wide_rules(1));
	h.apply(wide_rules(1));
	std::tie(g0, g1) = combine_sizes(h);
	CHECK(g0 == combine_capacity_for(0));
	CHECK(g1 == combine_capacity_for(0));
	CHECK(verdict(h, 2) == XDP_DROP);
	CHECK(verdict(h, 0, 0) == XDP_PASS);
}
