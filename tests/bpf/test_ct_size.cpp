// "conntrack": {"max-connections": N} sizes the connection table when the
// datapath loads (2 N map entries); a running datapath of another size
// refuses the apply and keeps everything (docs/conntrack.md, "Size").
#include <doctest/doctest.h>
#include <linux/bpf.h>

#include "conntrack.h"
#include "errors.h"
#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

std::string rules(const std::string &conntrack)
{
	return R"({"policy": {"input": "drop"}, )" + conntrack +
	       R"( "input": [{"action": "accept", "in": "vlan2", "proto": "udp", "dport": 5000}]})";
}

const MapMemory *find_map(const std::vector<MapMemory> &maps, const std::string &name)
{
	for (auto &m : maps)
		if (m.name == name)
			return &m;
	return nullptr;
}

} // namespace

TEST_CASE("max-connections is the connection table's size; another size is refused while it runs")
{
	Harness &h = Harness::get();
	// Tests that apply without `down` expect the default table: leave it
	// down however this one ends.
	DownAtEnd down_at_end{h};
	h.down();
	h.apply(rules(""));
	CHECK(h.runtime().ct_capacity() == 65536);
	auto maps = h.runtime().map_memory();
	const MapMemory *ct = find_map(maps, "fw_ct");
	REQUIRE(ct);
	CHECK(ct->max_entries == 131072);
	CHECK(ct->type == "lru_hash");
	const uint64_t default_bytes = ct->bytes;
	CHECK(default_bytes > 131072ull * (40 + 56)); // at least keys + values
	for (auto &m : maps) {
		CAPTURE(m.name);
		CHECK(m.bytes > 0);
	}

	h.down();
	h.apply(rules(R"("conntrack": {"max-connections": 4096},)"));
	CHECK(h.runtime().ct_capacity() == 4096);
	maps = h.runtime().map_memory();
	ct = find_map(maps, "fw_ct");
	REQUIRE(ct);
	CHECK(ct->max_entries == 8192);
	CHECK(ct->bytes < default_bytes / 8); // 16 times fewer entries

	// A connection, then an apply of another size: refused (InputError:
	// exit 2), the ruleset and the connection stay.
	Packet a = Packet::udp("192.0.2.2", "192.0.2.1", 1000, 5000);
	REQUIRE(h.xdp(a, "vlan2").action == XDP_PASS);
	REQUIRE(conntrack_list(h.runtime()).size() == 1);
	std::string hash = h.runtime().applied()->hash;
	{
		try {
			h.apply(rules(R"("conntrack": {"max-connections": 8192},)"));
			FAIL("an apply of another table size went through");
		} catch (const InputError &e) {
			std::string m = e.what();
			CHECK(m.find("holds 4096 connections") != std::string::npos);
			CHECK(m.find("`fwctl down`") != std::string::npos);
		}
		CHECK(h.runtime().applied()->hash == hash);
		CHECK(h.runtime().ct_capacity() == 4096);
		CHECK(conntrack_list(h.runtime()).size() == 1);
	}
	uint64_t est = h.stat(FW_STAT_CT_ESTABLISHED).packets;
	CHECK(h.xdp(a, "vlan2").action == XDP_PASS);
	CHECK(h.stat(FW_STAT_CT_ESTABLISHED).packets == est + 1);

	// No key: the running table stays (the default is for a fresh load).
	h.apply(rules(""));
	CHECK(h.runtime().ct_capacity() == 4096);
	CHECK(conntrack_list(h.runtime()).size() == 1);

	// The same size re-applies as usual (rules change, the table stays).
	h.apply(R"({"policy": {"input": "drop"}, "conntrack": {"max-connections": 4096},
	    "input": [{"action": "accept", "in": "vlan2", "proto": "udp", "dport": "5000-5999"}]})");
	CHECK(conntrack_list(h.runtime()).size() == 1);

	// More flows than the table holds: it keeps at most 4096 connections
	// (LRU: the newest are tracked), so the size is real in the kernel.
	for (uint32_t i = 0; i < 6000; i++) {
		Packet p = Packet::udp("192.0.2." + std::to_string(10 + i % 200), "192.0.2.1",
				       (uint16_t)(1024 + i / 200), (uint16_t)(5000 + i % 1000));
		REQUIRE(h.xdp(p, "vlan2").action == XDP_PASS);
	}
	size_t n = conntrack_list(h.runtime()).size();
	CHECK(n <= 4096);
	CHECK(n >= 2048);
	Packet last = Packet::udp("192.0.2." + std::to_string(10 + 5999 % 200), "192.0.2.1",
				  (uint16_t)(1024 + 5999 / 200), (uint16_t)(5000 + 5999 % 1000));
	est = h.stat(FW_STAT_CT_ESTABLISHED).packets;
	CHECK(h.xdp(last, "vlan2").action == XDP_PASS);
	CHECK(h.stat(FW_STAT_CT_ESTABLISHED).packets == est + 1);
}
