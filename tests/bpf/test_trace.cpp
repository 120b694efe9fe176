// `fwctl trace`, datapath side (bpf/lib/trace.h): nothing is emitted while
// tracing is off or its lease ran out; with it on, only packets matching
// the filters are, each with the chain, connection state, the deciding
// rule or policy, NAT chosen and the fast path's answer.
#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

const char *kRules = R"({ "version": 1, "policy": {"input": "drop", "forward": "drop"},
  "input": [
    {"action": "accept", "proto": "udp", "dport": 7, "comment": "echo"},
    {"action": "drop", "proto": "udp", "dport": 9, "comment": "discard"}
  ],
  "forward": [ {"action": "accept", "in": "vlan1", "out": "vlan2", "comment": "lan out"} ],
  "nat": [ {"out": "vlan2"} ] })";

uint64_t mono_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void set_trace(Harness &h, fw_trace_cfg c)
{
	uint32_t zero = 0;
	int fd = h.runtime().map_fd("fw_trace_cfg");
	REQUIRE(fd >= 0);
	REQUIRE(bpf_map_update_elem(fd, &zero, &c, BPF_ANY) == 0);
}

fw_trace_cfg trace_on()
{
	fw_trace_cfg c{};
	c.on = 1;
	c.lease_ns = mono_ns() + 60000000000ull;
	return c;
}

std::vector<fw_trace_event> drain(Harness &h)
{
	std::vector<fw_trace_event> out;
	int fd = h.runtime().map_fd("fw_trace_rb");
	REQUIRE(fd >= 0);
	auto cb = [](void *ctx, void *data, size_t size) -> int {
		if (size >= sizeof(fw_trace_event))
			static_cast<std::vector<fw_trace_event> *>(ctx)->push_back(
				*static_cast<fw_trace_event *>(data));
		return 0;
	};
	struct ring_buffer *rb = ring_buffer__new(fd, cb, &out, nullptr);
	REQUIRE(rb != nullptr);
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return out;
}

void fresh(const char *rules)
{
	Harness &h = Harness::get();
	h.down();
	h.apply(rules);
}

} // namespace

TEST_CASE("trace: off by default, and a lease run out is off")
{
	Harness &h = Harness::get();
	fresh(kRules);
	drain(h);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 1000, 9), "vlan2").action == XDP_DROP);
	CHECK(drain(h).empty());

	fw_trace_cfg c = trace_on();
	c.lease_ns = mono_ns() - 1; // a tracer that died without turning it off
	set_trace(h, c);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 1000, 9), "vlan2").action == XDP_DROP);
	CHECK(drain(h).empty());
	set_trace(h, fw_trace_cfg{});
}

TEST_CASE("trace: the rule that dropped a matching packet; others are not traced")
{
	Harness &h = Harness::get();
	fresh(kRules);
	drain(h);
	fw_trace_cfg c = trace_on();
	c.match_proto = 1;
	c.proto = 17;
	c.match_dport = 1;
	c.dport = 9;
	c.in_ifindex = h.ifindex("vlan2");
	set_trace(h, c);

	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 1000, 7), "vlan2").action == XDP_PASS); // dport 7
	CHECK(h.xdp(Packet::udp("10.1.0.2", "10.1.0.1", 1000, 9), "vlan1").action == XDP_DROP);   // other in
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 1000, 9), "vlan2").action == XDP_DROP);
	auto ev = drain(h);
	REQUIRE(ev.size() == 1);
	const auto &e = ev[0];
	CHECK(e.chain == FW_CHAIN_INPUT);
	CHECK(e.ct == 0); // FW_CT_NEW (bpf/lib/ct.h)
	CHECK(e.by == FW_TRACE_BY_RULE);
	CHECK(e.position == 2);
	CHECK(e.verdict == FW_VERDICT_DROP);
	CHECK(e.xdp_action == XDP_DROP);
	CHECK(e.orig.dport == 9);
	CHECK(e.orig.sport == 1000);
	CHECK(e.in_ifindex == h.ifindex("vlan2"));
	CHECK(e.fast == FW_TRACE_FAST_NA);
	CHECK(!e.ct_found); // dropped: no connection
	set_trace(h, fw_trace_cfg{});
}

TEST_CASE("trace: policy, source prefix filter")
{
	Harness &h = Harness::get();
	fresh(kRules);
	drain(h);
	fw_trace_cfg c = trace_on();
	c.family = 4;
	c.saddr[0] = 192, c.saddr[1] = 0, c.saddr[2] = 2;
	c.smask[0] = c.smask[1] = c.smask[2] = 0xff; // 192.0.2.0/24
	set_trace(h, c);
	CHECK(h.xdp(Packet::tcp("198.51.100.7", "192.0.2.1", 1000, 80), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(Packet::tcp("192.0.2.2", "192.0.2.1", 1000, 80), "vlan2").action == XDP_DROP);
	auto ev = drain(h);
	REQUIRE(ev.size() == 1);
	CHECK(ev[0].by == FW_TRACE_BY_POLICY);
	CHECK(ev[0].verdict == FW_VERDICT_DROP);
	CHECK(ev[0].orig.saddr[3] == 2);
	set_trace(h, fw_trace_cfg{});
}

TEST_CASE("trace: a forwarded connection: masquerade chosen, fast path off, then established")
{
	Harness &h = Harness::get();
	fresh(kRules);
	drain(h);
	set_trace(h, trace_on());
	auto req = Packet::udp("10.1.0.2", "198.51.100.7", 5000, 53);
	CHECK(h.xdp(req, "vlan1").action == XDP_PASS);
	auto ev = drain(h);
	REQUIRE(ev.size() == 1);
	CHECK(ev[0].chain == FW_CHAIN_FORWARD);
	CHECK(ev[0].out_ifindex == h.ifindex("vlan2"));
	CHECK(ev[0].by == FW_TRACE_BY_RULE);
	CHECK(ev[0].position == 1);
	CHECK(ev[0].verdict == FW_VERDICT_ACCEPT);
	CHECK(ev[0].fast == FW_TRACE_FAST_OFF);
	REQUIRE(ev[0].ct_found);
	CHECK(ev[0].ct_nat == FW_CT_NAT_SNAT);
	CHECK(ev[0].ct_dir == FW_CT_DIR_ORIG);
	CHECK(ev[0].ct_other.daddr[0] == 192); // the reply comes to the WAN address 192.0.2.1
	CHECK(ev[0].ct_other.daddr[3] == 1);

	// The reply: established by the table, the masquerade undone.
	CHECK(h.xdp(Packet::udp("198.51.100.7", "192.0.2.1", 53, ev[0].ct_other.dport), "vlan2").action ==
	      XDP_PASS);
	auto rep = drain(h);
	REQUIRE(rep.size() == 1);
	CHECK(rep[0].ct == 1); // FW_CT_ESTABLISHED
	CHECK(rep[0].by == FW_TRACE_BY_CONNTRACK);
	CHECK(rep[0].ct_dir == FW_CT_DIR_REPLY);
	CHECK(rep[0].ct_nat == FW_CT_NAT_SNAT);
	set_trace(h, fw_trace_cfg{});
}

TEST_CASE("trace: with \"fastpath\": true the first packet of a translated connection takes the stack")
{
	Harness &h = Harness::get();
	std::string rules = kRules;
	rules.insert(1, " \"fastpath\": true,");
	fresh(rules.c_str());
	drain(h);
	set_trace(h, trace_on());
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 5001, 53), "vlan1").action == XDP_PASS);
	auto ev = drain(h);
	REQUIRE(ev.size() == 1);
	CHECK(ev[0].fast == FW_TRACE_FAST_FIRST_NAT);
	set_trace(h, fw_trace_cfg{});
}

TEST_CASE("trace: a packet of a flow the drop memo holds is judged while traced")
{
	Harness &h = Harness::get();
	fresh(kRules);
	auto p = Packet::udp("192.0.2.2", "192.0.2.1", 4000, 9); // "discard", input rule 2
	uint64_t m0 = h.stat(FW_STAT_DROP_MEMO).packets;
	CHECK(h.xdp(p, "vlan2").action == XDP_DROP);
	CHECK(h.xdp(p, "vlan2").action == XDP_DROP);
	CHECK(h.stat(FW_STAT_DROP_MEMO).packets == m0 + 1); // remembered

	set_trace(h, trace_on());
	drain(h);
	CHECK(h.xdp(p, "vlan2").action == XDP_DROP);
	CHECK(h.stat(FW_STAT_DROP_MEMO).packets == m0 + 1); // judged, not remembered
	auto ev = drain(h);
	REQUIRE(ev.size() == 1);
	CHECK(ev[0].by == FW_TRACE_BY_RULE);
	CHECK(ev[0].position == 2);
	CHECK(ev[0].chain == FW_CHAIN_INPUT);
	CHECK(ev[0].verdict == FW_VERDICT_DROP);

	set_trace(h, fw_trace_cfg{});
	CHECK(h.xdp(p, "vlan2").action == XDP_DROP);
	CHECK(h.stat(FW_STAT_DROP_MEMO).packets == m0 + 2);
	CHECK(h.rule("input", 2).packets == 4);
}
