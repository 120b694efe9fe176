// Fragments under NAT and the masquerade interface's leak guard (issue 13,
// items 2 and 3): later fragments of masqueraded and port-forwarded
// datagrams get their first fragment's address (and a right IP checksum),
// established translated flows keep their fragment verdicts, nothing leaves
// a masquerade interface with an inside source, and a `reject` of a
// port-forwarded packet answers from what the client used.
#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "harness.h"
#include "nat_test_util.h"

using namespace fw;
using namespace fw::test;

namespace {

const char *kRules = R"({ "version": 1, "policy": {"input": "drop", "forward": "drop"},
  "forward": [
    {"action": "accept", "in": "vlan1", "out": "vlan2"},
    {"action": "accept", "in": "vlan2", "out": "vlan1", "proto": "udp", "dport": 500},
    {"action": "reject", "in": "vlan2", "out": "vlan1", "proto": "tcp", "dport": 80},
    {"action": "reject", "in": "vlan2", "out": "vlan1", "proto": "udp", "dport": 53}
  ],
  "nat": [ {"out": "vlan2"} ],
  "port-forward": [
    {"in": "vlan2", "proto": "udp", "dport": 500, "to-daddr": "10.1.0.2"},
    {"in": "vlan2", "proto": "tcp", "dport": 8080, "to-daddr": "10.1.0.2", "to-dport": 80},
    {"in": "vlan2", "proto": "udp", "dport": 7053, "to-daddr": "10.1.0.2", "to-dport": 53}
  ] })";

std::vector<uint8_t> payload(const Packet &p)
{
	return {p.bytes.begin() + (long)p.l4, p.bytes.end()};
}

uint64_t leaks()
{
	return Harness::get().stat(FW_STAT_NAT_LEAK).packets;
}

} // namespace

TEST_CASE("masquerade: a later fragment leaves with the masquerade address, never the inside one")
{
	Harness &h = Harness::get();
	fresh(kRules);
	auto f = fragment(Packet::udp("10.1.0.2", PEER, 5000, 9, 40), 24, 0x1234);
	Packet first = masquerade(f.first);
	CHECK(first.src() == WAN_IP);
	CHECK(first.ipv4_checksum_ok());
	auto in = h.xdp(f.later, "vlan1");
	CHECK(in.action == XDP_PASS);
	auto out = h.tc_egress(in.packet(), "vlan2", "vlan1");
	CHECK(out.action == TC_ACT_OK);
	Packet later = out.packet();
	CHECK(later.src() == WAN_IP);
	CHECK(later.dst() == PEER);
	CHECK(later.ipv4_checksum_ok());
	CHECK(payload(later) == payload(f.later)); // offset, data: untouched
	CHECK(later.bytes[later.l3 + 6] == f.later.bytes[f.later.l3 + 6]);
	CHECK(later.bytes[later.l3 + 7] == f.later.bytes[f.later.l3 + 7]);

	// A later fragment of a datagram whose first never passed: dropped
	// and counted on the masquerade interface, not sent as 10.1.0.2.
	auto stray = fragment(Packet::udp("10.1.0.2", PEER, 5000, 9, 40), 24, 0x4321).later;
	auto l0 = leaks();
	CHECK(h.tc_egress(stray, "vlan2", "vlan1").action == TC_ACT_SHOT);
	CHECK(leaks() == l0 + 1);
}

TEST_CASE("port forward: later fragments go to the inside host too")
{
	Harness &h = Harness::get();
	fresh(kRules);
	auto f = fragment(Packet::udp(PEER, WAN_IP, 4000, 500, 40), 24, 0x77);
	auto first = h.xdp(f.first, "vlan2");
	CHECK(first.action == XDP_PASS);
	CHECK(first.packet().dst() == "10.1.0.2");
	auto fp0 = h.stat(FW_STAT_FRAG_POLICY).packets;
	auto later = h.xdp(f.later, "vlan2");
	CHECK(later.action == XDP_PASS);
	CHECK(later.packet().dst() == "10.1.0.2");
	CHECK(later.packet().src() == PEER);
	CHECK(later.packet().ipv4_checksum_ok());
	CHECK(payload(later.packet()) == payload(f.later));
	CHECK(h.stat(FW_STAT_FRAG_POLICY).packets == fp0);
}

TEST_CASE("established translated flows keep their fragment verdicts (masquerade replies, port forwards)")
{
	Harness &h = Harness::get();
	fresh(kRules);
	Packet out = masquerade(Packet::udp("10.1.0.2", PEER, 5000, 9));
	// A fragmented reply of the established connection.
	auto f = fragment(Packet::udp(PEER, WAN_IP, 9, out.sport(), 40), 24, 0x99);
	auto fp0 = h.stat(FW_STAT_FRAG_POLICY).packets;
	auto first = h.xdp(f.first, "vlan2");
	CHECK(first.action == XDP_PASS);
	CHECK(first.packet().dst() == "10.1.0.2");
	auto later = h.xdp(f.later, "vlan2");
	CHECK(later.action == XDP_PASS);
	CHECK(later.packet().dst() == "10.1.0.2");
	CHECK(later.packet().ipv4_checksum_ok());
	CHECK(h.stat(FW_STAT_FRAG_POLICY).packets == fp0);

	// An established port-forwarded flow: its second datagram, fragmented.
	REQUIRE(h.xdp(Packet::udp(PEER, WAN_IP, 4001, 500), "vlan2").action == XDP_PASS);
	auto g = fragment(Packet::udp(PEER, WAN_IP, 4001, 500, 40), 24, 0x9a);
	CHECK(h.xdp(g.first, "vlan2").packet().dst() == "10.1.0.2");
	auto gl = h.xdp(g.later, "vlan2");
	CHECK(gl.action == XDP_PASS);
	CHECK(gl.packet().dst() == "10.1.0.2");
	CHECK(h.stat(FW_STAT_FRAG_POLICY).packets == fp0);
	// Its reply, fragmented by the inside host: both fragments leave as
	// WAN_IP.
	auto r = fragment(Packet::udp("10.1.0.2", PEER, 500, 4001, 40), 24, 0x9b);
	auto r1 = masquerade(r.first);
	CHECK(r1.src() == WAN_IP);
	CHECK(r1.sport() == 500);
	auto r2 = masquerade(r.later);
	CHECK(r2.src() == WAN_IP);
	CHECK(r2.ipv4_checksum_ok());
}

TEST_CASE("masquerade interface: stray packets of no connection are dropped and counted, not leaked")
{
	Harness &h = Harness::get();
	fresh(kRules);
	auto l0 = leaks();
	// A RST for a connection long gone: the forward chain accepts it, the
	// egress has nothing to translate it with.
	Packet rst = Packet::tcp("10.1.0.2", PEER, 40001, 443, 0x14);
	CHECK(h.xdp(rst, "vlan1").action == XDP_PASS);
	CHECK(h.tc_egress(rst, "vlan2", "vlan1").action == TC_ACT_SHOT);
	// ICMP types that open no state: timestamp, an echo reply.
	CHECK(h.tc_egress(Packet::icmp("10.1.0.2", PEER, 13), "vlan2", "vlan1").action == TC_ACT_SHOT);
	CHECK(h.tc_egress(Packet::icmp("10.1.0.2", PEER, 0), "vlan2", "vlan1").action == TC_ACT_SHOT);
	// An error about nothing we know.
	Packet err = icmp_error("10.1.0.2", PEER, 3, 3, Packet::udp(PEER, "10.1.0.2", 1, 2));
	CHECK(h.tc_egress(err, "vlan2", "vlan1").action == TC_ACT_SHOT);
	CHECK(leaks() == l0 + 4);
	// What this host sends itself is not forwarded: never the guard's.
	CHECK(h.tc_egress(Packet::tcp(WAN_IP, PEER, 40002, 443, 0x14), "vlan2").action == TC_ACT_OK);
	// A known connection's RST leaves translated.
	Packet out = masquerade(Packet::tcp("10.1.0.2", PEER, 40003, 443, 0x02));
	auto r = h.tc_egress(Packet::tcp("10.1.0.2", PEER, 40003, 443, 0x14), "vlan2", "vlan1");
	CHECK(r.action == TC_ACT_OK);
	CHECK(r.packet().src() == WAN_IP);
	CHECK(r.packet().l4_checksum_ok());
	CHECK(leaks() == l0 + 4);
	// The inside interface is no masquerade interface.
	CHECK(h.tc_egress(Packet::tcp(PEER, "10.1.0.2", 443, 40009, 0x14), "vlan1", "vlan2").action ==
	      TC_ACT_OK);
	(void)out;
}

TEST_CASE("reject of a port-forwarded packet answers from the address and port the client used")
{
	Harness &h = Harness::get();
	fresh(kRules);
	auto r = h.xdp(Packet::tcp(PEER, WAN_IP, 5555, 8080, 0x02), "vlan2");
	REQUIRE(r.answered()); // XDP_TX, or handed to TC ingress (lib/reject.h)
	Packet rst = r.packet();
	CHECK(rst.src() == WAN_IP);
	CHECK(rst.dst() == PEER);
	CHECK(rst.sport() == 8080);
	CHECK(rst.dport() == 5555);
	CHECK(rst.ipv4_checksum_ok());
	CHECK(rst.l4_checksum_ok());

	Packet q = Packet::udp(PEER, WAN_IP, 5556, 7053);
	auto u = h.xdp(q, "vlan2");
	REQUIRE(u.answered());
	Packet un = u.packet();
	CHECK(un.src() == WAN_IP);
	CHECK(un.dst() == PEER);
	CHECK(un.l4_checksum_ok());
	Packet quote = quoted(un);
	CHECK(quote.src() == PEER);
	CHECK(quote.dst() == WAN_IP);
	CHECK(quote.sport() == 5556);
	CHECK(quote.dport() == 7053);
	CHECK(quote.ipv4_checksum_ok());
	// The quote is what the client sent, byte for byte (header + 8).
	CHECK(std::vector<uint8_t>(un.bytes.begin() + (long)un.l4 + 8, un.bytes.end()) ==
	      std::vector<uint8_t>(q.bytes.begin() + 14, q.bytes.begin() + 14 + 28));
}
