// The drop memo (bpf/lib/drop_memo.h): a flow's next packets after a drop
// are dropped and counted as the first was, and the memo forgets at once
// after an apply or a route change, within two ticks otherwise, and is
// never asked before the connection table.
#include <doctest/doctest.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

const char *kDropNine = R"({ "version": 1, "policy": {"input": "accept", "forward": "accept"},
  "forward": [
    {"action": "drop", "proto": "udp", "dport": 9},
    {"action": "drop", "proto": "udp", "dport": 10, "log": true},
    {"action": "reject", "proto": "udp", "dport": 11},
    {"action": "accept", "in": "vlan1", "proto": "udp", "dport": 53}
  ] })";

// A source-port rule: the verdict depends on the source port.
const char *kSportRule = R"({ "version": 1, "policy": {"input": "accept", "forward": "accept"},
  "forward": [
    {"action": "accept", "proto": "udp", "sport": 7777, "dport": 9},
    {"action": "drop", "proto": "udp", "dport": 9}
  ] })";

const char *kAcceptNine = R"({ "version": 1, "policy": {"input": "accept", "forward": "accept"},
  "forward": [
    {"action": "accept", "proto": "udp", "dport": 9}
  ] })";

// Inbound to the LAN is the forward policy's; outbound DNS is accepted.
const char *kPolicyDrop = R"({ "version": 1, "policy": {"input": "accept", "forward": "drop"},
  "forward": [
    {"action": "accept", "in": "vlan1", "proto": "udp", "dport": 53}
  ] })";

uint64_t memo_hits(Harness &h) { return h.stat(FW_STAT_DROP_MEMO).packets; }

} // namespace

TEST_CASE("a dropped flow's next packets are dropped by the memo, counted against the same rule")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kDropNine);
	auto p = Packet::udp("10.1.0.2", "198.51.100.7", 4000, 9);
	uint32_t l3 = (uint32_t)(p.bytes.size() - 14);
	uint64_t m0 = memo_hits(h);
	CHECK(h.xdp(p, "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0); // the first one was judged
	for (int i = 0; i < 3; i++)
		CHECK(h.xdp(p, "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0 + 3);
	CHECK(h.rule("forward", 1).packets == 4);
	CHECK(h.rule("forward", 1).bytes == 4ull * l3);

	// Another flow of the same rule is judged first, then remembered.
	auto q = Packet::udp("10.1.0.2", "198.51.100.8", 4000, 9);
	CHECK(h.xdp(q, "vlan1").action == XDP_DROP);
	CHECK(h.xdp(q, "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0 + 4);
	CHECK(h.rule("forward", 1).packets == 6);

	// The same flow by another interface is not the remembered one.
	uint64_t m1 = memo_hits(h);
	CHECK(h.xdp(p, "vlan2").action == XDP_DROP);
	CHECK(memo_hits(h) == m1);
}

TEST_CASE("without source-port rules the memo takes every source port of a flow; with one, it does not")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kDropNine); // no rule names a source port
	uint64_t m0 = memo_hits(h);
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 5000, 9), "vlan1").action == XDP_DROP);
	for (uint16_t sport = 5001; sport < 5011; sport++)
		CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", sport, 9), "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0 + 10);
	CHECK(h.rule("forward", 1).packets == 11);

	h.apply(kSportRule);
	m0 = memo_hits(h);
	uint64_t accepted0 = h.rule("forward", 1).packets;
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 5000, 9), "vlan1").action == XDP_DROP);
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 5001, 9), "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0); // each source port its own flow
	// The port the first rule accepts is judged, not taken for the
	// dropped flow of another source port.
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 7777, 9), "vlan1").action == XDP_PASS);
	CHECK(h.rule("forward", 1).packets == accepted0 + 1);
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 5000, 9), "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0 + 1);
}

TEST_CASE("an apply forgets every remembered drop at once")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kDropNine);
	auto p = Packet::udp("10.1.0.2", "198.51.100.7", 4100, 9);
	auto kept = Packet::udp("10.1.0.2", "198.51.100.9", 4100, 9);
	for (auto *q : {&p, &kept}) {
		CHECK(h.xdp(*q, "vlan1").action == XDP_DROP);
		CHECK(h.xdp(*q, "vlan1").action == XDP_DROP); // remembered
	}
	h.apply(kAcceptNine);
	uint64_t m0 = memo_hits(h);
	uint64_t r0 = h.rule("forward", 1).packets;
	CHECK(h.xdp(p, "vlan1").action == XDP_PASS); // the new ruleset's verdict
	CHECK(h.rule("forward", 1).packets == r0 + 1);
	// And back: the first generation's serial is not reused, so what it
	// remembered is not taken for the third ruleset's.
	h.apply(kDropNine);
	r0 = h.rule("forward", 1).packets;
	CHECK(h.xdp(kept, "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0);
	CHECK(h.rule("forward", 1).packets == r0 + 1); // judged by the rule again
	CHECK(h.xdp(kept, "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0 + 1);
}

TEST_CASE("logged drops and rejects are judged every time; a policy drop is remembered")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kDropNine);
	uint64_t m0 = memo_hits(h), ev0 = h.stat(FW_STAT_LOG_EVENTS).packets;
	auto logged = Packet::udp("10.1.0.2", "198.51.100.7", 4200, 10);
	for (int i = 0; i < 3; i++)
		CHECK(h.xdp(logged, "vlan1").action == XDP_DROP);
	CHECK(h.stat(FW_STAT_LOG_EVENTS).packets == ev0 + 3);
	auto rejected = Packet::udp("10.1.0.2", "198.51.100.7", 4200, 11);
	for (int i = 0; i < 3; i++)
		CHECK(h.xdp(rejected, "vlan1").answered());
	CHECK(memo_hits(h) == m0);

	h.apply(kPolicyDrop);
	auto in = Packet::udp("198.51.100.7", "10.1.0.2", 53, 4300);
	uint64_t pol0 = h.policy("forward").packets;
	m0 = memo_hits(h);
	CHECK(h.xdp(in, "vlan2").action == XDP_DROP);
	CHECK(h.xdp(in, "vlan2").action == XDP_DROP);
	CHECK(h.policy("forward").packets == pol0 + 2);
	CHECK(memo_hits(h) == m0 + 1);
}

TEST_CASE("a connection opened the other way is found before the memo")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kPolicyDrop);
	// A WAN host's flow to the LAN, dropped and remembered...
	auto in = Packet::udp("198.51.100.7", "10.1.0.2", 53, 4400);
	CHECK(h.xdp(in, "vlan2").action == XDP_DROP);
	CHECK(h.xdp(in, "vlan2").action == XDP_DROP);
	// ...then the LAN host asks that very address and port: the answer
	// is the remembered flow, and passes as the connection's.
	auto out = Packet::udp("10.1.0.2", "198.51.100.7", 4400, 53);
	CHECK(h.xdp(out, "vlan1").action == XDP_PASS);
	uint64_t m0 = memo_hits(h);
	CHECK(h.xdp(in, "vlan2").action == XDP_PASS);
	CHECK(memo_hits(h) == m0);
}

TEST_CASE("the memo forgets after a route change and after two ticks")
{
	Harness &h = Harness::get();
	ClockGuard clock;
	h.down();
	h.apply(kDropNine);
	auto p = Packet::udp("10.1.0.2", "198.51.100.7", 4500, 9);
	const uint64_t tick = 1ull << 26;
	h.clock_set(1000 * tick); // at the start of a tick
	CHECK(h.xdp(p, "vlan1").action == XDP_DROP);
	h.clock_advance(tick + tick / 2); // the next tick: still remembered
	uint64_t m0 = memo_hits(h);
	CHECK(h.xdp(p, "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0 + 1);
	h.clock_advance(tick); // two ticks on: judged again
	CHECK(h.xdp(p, "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0 + 1);
	CHECK(h.xdp(p, "vlan1").action == XDP_DROP); // remembered anew
	CHECK(memo_hits(h) == m0 + 2);

	// What the route hooks do on a change: the epoch moves on.
	int fd = h.runtime().map_fd("fw_route_epoch");
	REQUIRE(fd >= 0);
	uint32_t zero = 0, epoch = 0;
	REQUIRE(bpf_map_lookup_elem(fd, &zero, &epoch) == 0);
	epoch++;
	REQUIRE(bpf_map_update_elem(fd, &zero, &epoch, BPF_ANY) == 0);
	CHECK(h.xdp(p, "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0 + 2);
	CHECK(h.rule("forward", 1).packets == 5);
}

// A source-address rule: the verdict depends on the source address.
static const char *kSaddrRule = R"({ "version": 1, "policy": {"input": "accept", "forward": "accept"},
  "forward": [
    {"action": "accept", "saddr": "10.1.0.77", "proto": "udp", "dport": 9},
    {"action": "drop", "proto": "udp", "dport": 9}
  ] })";

TEST_CASE("without source-address rules or policy routing the memo takes every source of a flow")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kDropNine); // no rule names a source address
	uint64_t m0 = memo_hits(h);
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 5000, 9), "vlan1").action == XDP_DROP);
	for (int a = 3; a < 13; a++) // a spoofed source every packet, new ports too
		CHECK(h.xdp(Packet::udp("10.1.0." + std::to_string(a), "198.51.100.7", (uint16_t)(5000 + a), 9),
			    "vlan1")
			      .action == XDP_DROP);
	CHECK(memo_hits(h) == m0 + 10);
	CHECK(h.rule("forward", 1).packets == 11);
	// Another destination, port or interface is not the remembered flow.
	uint64_t m1 = memo_hits(h);
	CHECK(h.xdp(Packet::udp("10.1.0.3", "198.51.100.8", 5000, 9), "vlan1").action == XDP_DROP);
	CHECK(h.xdp(Packet::udp("10.1.0.3", "198.51.100.7", 5000, 53), "vlan1").action == XDP_PASS);
	CHECK(h.xdp(Packet::udp("10.1.0.3", "198.51.100.7", 5000, 9), "vlan2").action == XDP_DROP);
	CHECK(memo_hits(h) == m1);

	// A rule that names a source: each source its own flow, and the one
	// it accepts is judged, never taken for another source's drop.
	h.apply(kSaddrRule);
	m0 = memo_hits(h);
	uint64_t accepted0 = h.rule("forward", 1).packets;
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 5000, 9), "vlan1").action == XDP_DROP);
	CHECK(h.xdp(Packet::udp("10.1.0.3", "198.51.100.7", 5000, 9), "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0);
	CHECK(h.xdp(Packet::udp("10.1.0.77", "198.51.100.7", 5000, 9), "vlan1").action == XDP_PASS);
	CHECK(h.rule("forward", 1).packets == accepted0 + 1);

	// Policy routing could send two sources different ways: an apply with
	// a rule in place keeps the source in the memo's key.
	REQUIRE(std::system("ip rule add from 10.1.0.99 lookup 100 >/dev/null 2>&1") == 0);
	h.apply(kDropNine);
	m0 = memo_hits(h);
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 5000, 9), "vlan1").action == XDP_DROP);
	CHECK(h.xdp(Packet::udp("10.1.0.3", "198.51.100.7", 5000, 9), "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0); // judged: another source
	CHECK(h.xdp(Packet::udp("10.1.0.3", "198.51.100.7", 5001, 9), "vlan1").action == XDP_DROP);
	CHECK(memo_hits(h) == m0 + 1); // the same source, another port: remembered
	REQUIRE(std::system("ip rule del from 10.1.0.99 lookup 100 >/dev/null 2>&1") == 0);
}
