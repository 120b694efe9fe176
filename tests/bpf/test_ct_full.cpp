// A full connection table: nothing opens that the rules do not allow,
// connections the rules allow keep working, and new ones still get tracked
// (the LRU table forgets the least recently used entries: docs/conntrack.md).
#include <doctest/doctest.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <algorithm>

#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

// Fills fw_ct with as many entries of other (synthetic) flows as the loaded
// table holds.
void fill_ct_table(Harness &h)
{
	int fd = h.runtime().map_fd("fw_ct");
	REQUIRE(fd >= 0);
	const uint32_t entries = 2 * h.runtime().ct_capacity();
	REQUIRE(entries == FW_CT_MAX_ENTRIES); // the default size
	std::vector<fw_tuple> keys(entries);
	std::vector<fw_ct_entry> vals(entries);
	for (uint32_t i = 0; i < entries; i++) {
		fw_tuple &k = keys[i];
		k = fw_tuple{};
		k.family = 4;
		k.proto = 17;
		k.saddr[0] = 10, k.saddr[1] = 200, k.saddr[2] = (uint8_t)(i >> 8), k.saddr[3] = (uint8_t)i;
		k.daddr[0] = 10, k.daddr[1] = 201, k.daddr[2] = 0, k.daddr[3] = 1;
		k.sport = (uint16_t)(i >> 16) + 1;
		k.dport = 53;
		vals[i] = fw_ct_entry{};
		vals[i].other = k;
		vals[i].expires = 0xffffffffu; // alive: the table really is full
	}
	for (uint32_t off = 0; off < entries; off += 65536) {
		uint32_t n = std::min<uint32_t>(65536, entries - off);
		REQUIRE(bpf_map_update_batch(fd, &keys[off], &vals[off], &n, nullptr) == 0);
	}
}

} // namespace

TEST_CASE("a full connection table opens nothing and keeps allowed traffic working")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(R"({"policy": {"input": "drop"},
	    "input": [{"action": "accept", "in": "vlan2", "proto": "udp", "dport": 5000}]})");
	Packet a = Packet::udp("192.0.2.2", "192.0.2.1", 1000, 5000);
	REQUIRE(h.xdp(a, "vlan2").action == XDP_PASS);

	fill_ct_table(h);

	// Nothing the rules deny gets in: not a new flow, not a reply to a
	// connection that never existed.
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 1000, 6000), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(Packet::udp("192.0.2.9", "192.0.2.1", 5000, 1000), "vlan2").action == XDP_DROP);
	// The connection the rules allow keeps working (from the table, or
	// re-admitted by its rule after being forgotten).
	CHECK(h.xdp(a, "vlan2").action == XDP_PASS);
	// A new allowed connection is still tracked: its second packet is
	// accepted by the table, not by the rule.
	Packet b = Packet::udp("192.0.2.3", "192.0.2.1", 2000, 5000);
	CHECK(h.xdp(b, "vlan2").action == XDP_PASS);
	uint64_t rule_before = h.rule("input", 1).packets;
	uint64_t est_before = h.stat(FW_STAT_CT_ESTABLISHED).packets;
	CHECK(h.xdp(b, "vlan2").action == XDP_PASS);
	CHECK(h.rule("input", 1).packets == rule_before);
	CHECK(h.stat(FW_STAT_CT_ESTABLISHED).packets == est_before + 1);
	h.down(); // the next test starts with an empty table
}
