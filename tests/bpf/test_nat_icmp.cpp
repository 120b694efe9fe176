// ICMP errors about translated connections (issue 13, item 1): RELATED,
// and translated in the outer header and in the quote, both directions,
// including the errors this host's own stack sends about a forwarded packet
// (they leave by TC egress). Every translated byte and checksum is checked:
// outer IPv4 header, ICMP (over the whole quote), quoted IPv4 header, quoted
// UDP/TCP/ICMP checksum (the tests quote whole packets).
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
    {"action": "accept", "in": "vlan2", "out": "vlan1", "proto": "tcp", "dport": "9000-9010"}
  ],
  "nat": [ {"out": "vlan2"} ],
  "port-forward": [
    {"in": "vlan2", "proto": "udp", "dport": 500, "to-daddr": "10.1.0.2"},
    {"in": "vlan2", "proto": "tcp", "dport": "8000-8010", "to-daddr": "10.1.0.3", "to-dport": 9000}
  ] })";

// The quote of `err`, parsed as a packet of its own, with its checksums.
void check_quote(const Packet &err, const std::string &src, uint16_t sport, const std::string &dst,
		 uint16_t dport)
{
	CHECK(err.ipv4_checksum_ok());
	CHECK(err.l4_checksum_ok()); // ICMP: over the whole quote
	Packet q = quoted(err);
	CHECK(q.src() == src);
	CHECK(q.dst() == dst);
	if (q.proto() == 1) {
		CHECK(((q.bytes[q.l4 + 4] << 8) | q.bytes[q.l4 + 5]) == sport);
	} else {
		CHECK(q.sport() == sport);
		CHECK(q.dport() == dport);
	}
	CHECK(q.ipv4_checksum_ok());
	CHECK(q.l4_checksum_ok());
}

// A masqueraded UDP flow whose source port had to change: returns the
// packet as it left (src WAN_IP, sport != 5000).
Packet masq_udp_collided()
{
	masquerade(Packet::udp("10.1.0.3", PEER, 5000, 33434));
	Packet out = masquerade(Packet::udp("10.1.0.2", PEER, 5000, 33434));
	REQUIRE(out.src() == WAN_IP);
	REQUIRE(out.sport() != 5000);
	return out;
}

} // namespace

TEST_CASE("masquerade: time exceeded from a router beyond reaches the inside host, quote translated")
{
	Harness &h = Harness::get();
	fresh(kRules);
	Packet out = masq_udp_collided();
	auto rel0 = h.stat(FW_STAT_CT_RELATED).packets;
	auto r = h.xdp(icmp_error("192.0.2.2", WAN_IP, 11, 0, out), "vlan2");
	CHECK(r.action == XDP_PASS);
	CHECK(h.stat(FW_STAT_CT_RELATED).packets == rel0 + 1);
	Packet e = r.packet();
	CHECK(e.src() == "192.0.2.2");
	CHECK(e.dst() == "10.1.0.2");
	check_quote(e, "10.1.0.2", 5000, PEER, 33434);
	// And the final destination's port unreachable, likewise.
	auto pu = h.xdp(icmp_error(PEER, WAN_IP, 3, 3, out), "vlan2").packet();
	CHECK(pu.dst() == "10.1.0.2");
	check_quote(pu, "10.1.0.2", 5000, PEER, 33434);
}

TEST_CASE("masquerade: an error quoting a known connection but sent to another host meets the chains")
{
	Harness &h = Harness::get();
	fresh(kRules);
	Packet out = masq_udp_collided();
	auto rel0 = h.stat(FW_STAT_CT_RELATED).packets;
	auto pol0 = h.policy("forward").packets;
	// To an inside host that did not send it: no forward rule takes ICMP in.
	auto r = h.xdp(icmp_error("192.0.2.2", "10.1.0.7", 11, 0, out), "vlan2");
	CHECK(r.action == XDP_DROP);
	CHECK(h.stat(FW_STAT_CT_RELATED).packets == rel0);
	CHECK(h.policy("forward").packets == pol0 + 1);
	CHECK(r.packet().dst() == "10.1.0.7");
}

TEST_CASE("masquerade TCP: fragmentation needed from beyond, TCP checksum of the quote fixed")
{
	Harness &h = Harness::get();
	fresh(kRules);
	masquerade(Packet::tcp("10.1.0.3", PEER, 40000, 80, 0x02));
	Packet out = masquerade(Packet::tcp("10.1.0.2", PEER, 40000, 80, 0x02));
	REQUIRE(out.sport() != 40000);
	auto r = h.xdp(icmp_error("192.0.2.2", WAN_IP, 3, 4, out, 1400), "vlan2");
	CHECK(r.action == XDP_PASS);
	Packet e = r.packet();
	CHECK(e.dst() == "10.1.0.2");
	CHECK(e.bytes[e.l4 + 6] == 1400 >> 8); // the MTU is left alone
	CHECK(e.bytes[e.l4 + 7] == (1400 & 0xff));
	check_quote(e, "10.1.0.2", 40000, PEER, 80);
}

TEST_CASE("masquerade ICMP echo (traceroute -I): the quoted identifier goes back")
{
	Harness &h = Harness::get();
	fresh(kRules);
	masquerade(Packet::icmp("10.1.0.3", PEER, 8, 0, 0x777));
	Packet out = masquerade(Packet::icmp("10.1.0.2", PEER, 8, 0, 0x777));
	uint16_t id = (uint16_t)(out.bytes[out.l4 + 4] << 8 | out.bytes[out.l4 + 5]);
	REQUIRE(id != 0x777);
	auto r = h.xdp(icmp_error("192.0.2.2", WAN_IP, 11, 0, out), "vlan2");
	CHECK(r.action == XDP_PASS);
	Packet e = r.packet();
	CHECK(e.dst() == "10.1.0.2");
	check_quote(e, "10.1.0.2", 0x777, PEER, 0);
}

TEST_CASE("masquerade: this host's own fragmentation needed about a download quotes the outside view")
{
	Harness &h = Harness::get();
	fresh(kRules);
	Packet out = masquerade(Packet::tcp("10.1.0.3", PEER, 40000, 80, 0x02));
	out = masquerade(Packet::tcp("10.1.0.2", PEER, 40000, 80, 0x02));
	uint16_t port = out.sport();
	REQUIRE(port != 40000);
	// The server's segment, translated on ingress to the inside host...
	auto in = h.xdp(Packet::tcp(PEER, WAN_IP, 80, port, 0x12), "vlan2").packet();
	REQUIRE(in.dst() == "10.1.0.2");
	// ...does not fit the LAN: the stack's error leaves by vlan2, quoting
	// the segment as the stack saw it (after the rewrite).
	auto r = h.tc_egress(icmp_error(WAN_IP, PEER, 3, 4, in, 1280), "vlan2");
	CHECK(r.action == TC_ACT_OK);
	Packet e = r.packet();
	CHECK(e.src() == WAN_IP);
	CHECK(e.dst() == PEER);
	check_quote(e, PEER, 80, WAN_IP, port);
}

TEST_CASE("masquerade: an inside host's port unreachable about a reply leaves masqueraded")
{
	Harness &h = Harness::get();
	fresh(kRules);
	Packet out = masq_udp_collided();
	auto rep = h.xdp(Packet::udp(PEER, WAN_IP, 33434, out.sport()), "vlan2").packet();
	REQUIRE(rep.dst() == "10.1.0.2");
	Packet err = icmp_error("10.1.0.2", PEER, 3, 3, rep);
	auto rel0 = h.stat(FW_STAT_CT_RELATED).packets;
	auto x = h.xdp(err, "vlan1");
	CHECK(x.action == XDP_PASS);
	CHECK(h.stat(FW_STAT_CT_RELATED).packets == rel0 + 1);
	CHECK(x.packet().bytes == err.bytes); // sources change on egress
	auto r = h.tc_egress(x.packet(), "vlan2", "vlan1");
	CHECK(r.action == TC_ACT_OK);
	Packet e = r.packet();
	CHECK(e.src() == WAN_IP);
	CHECK(e.dst() == PEER);
	check_quote(e, PEER, 33434, WAN_IP, out.sport());
}

TEST_CASE("masquerade: an inside host's error about a known reply but sent elsewhere is not translated, nor leaked")
{
	Harness &h = Harness::get();
	fresh(kRules);
	Packet out = masq_udp_collided();
	auto rep = h.xdp(Packet::udp(PEER, WAN_IP, 33434, out.sport()), "vlan2").packet();
	REQUIRE(rep.dst() == "10.1.0.2");
	Packet err = icmp_error("10.1.0.2", "198.51.100.99", 3, 3, rep);
	auto rel0 = h.stat(FW_STAT_CT_RELATED).packets;
	auto leak0 = h.stat(FW_STAT_NAT_LEAK).packets;
	auto x = h.xdp(err, "vlan1"); // NEW: the forward chain's rule takes it
	CHECK(x.action == XDP_PASS);
	CHECK(h.stat(FW_STAT_CT_RELATED).packets == rel0);
	CHECK(h.tc_egress(x.packet(), "vlan2", "vlan1").action == TC_ACT_SHOT);
	CHECK(h.stat(FW_STAT_NAT_LEAK).packets == leak0 + 1);
}

TEST_CASE("port forward: an error about the inside host's reply reaches it; ours about a request quotes the outside")
{
	Harness &h = Harness::get();
	fresh(kRules);
	// Client -> WAN_IP:8001 -> 10.1.0.3:9001.
	auto req = h.xdp(Packet::tcp(PEER, WAN_IP, 4444, 8001, 0x02), "vlan2");
	REQUIRE(req.action == XDP_PASS);
	Packet fwd = req.packet();
	REQUIRE(fwd.dst() == "10.1.0.3");
	REQUIRE(fwd.dport() == 9001);
	// This host's own "fragmentation needed" (the LAN's MTU is smaller).
	auto r = h.tc_egress(icmp_error(WAN_IP, PEER, 3, 4, fwd, 1280), "vlan2");
	CHECK(r.action == TC_ACT_OK);
	check_quote(r.packet(), PEER, 4444, WAN_IP, 8001);

	// The reply leaves as WAN_IP:8001; a router on the way back says its
	// TTL ran out: to the inside host, quoting what it sent.
	auto rep = h.tc_egress(h.xdp(Packet::tcp("10.1.0.3", PEER, 9001, 4444, 0x12), "vlan1").packet(),
			       "vlan2", "vlan1").packet();
	REQUIRE(rep.src() == WAN_IP);
	REQUIRE(rep.sport() == 8001);
	auto x = h.xdp(icmp_error("192.0.2.2", WAN_IP, 11, 0, rep), "vlan2");
	CHECK(x.action == XDP_PASS);
	CHECK(x.packet().dst() == "10.1.0.3");
	check_quote(x.packet(), "10.1.0.3", 9001, PEER, 4444);
}

TEST_CASE("untranslated connections: errors are RELATED as before (IPv4 and IPv6)")
{
	Harness &h = Harness::get();
	fresh(R"({ "version": 1, "policy": {"input": "drop", "forward": "drop"},
	  "forward": [ {"action": "accept", "in": "vlan1", "out": "vlan2"} ] })");
	Packet v4 = Packet::udp("10.1.0.2", PEER, 5000, 53);
	REQUIRE(h.xdp(v4, "vlan1").action == XDP_PASS);
	auto r = h.xdp(icmp_error("192.0.2.2", "10.1.0.2", 3, 3, v4), "vlan2");
	CHECK(r.action == XDP_PASS);
	CHECK(r.packet().bytes == icmp_error("192.0.2.2", "10.1.0.2", 3, 3, v4).bytes);
	Packet v6 = Packet::udp("fd01::2", "2001:db8:1::7", 5000, 53);
	REQUIRE(h.xdp(v6, "vlan1").action == XDP_PASS);
	auto rel0 = h.stat(FW_STAT_CT_RELATED).packets;
	CHECK(h.xdp(icmp6_error("2001:db8::2", "fd01::2", 3, 0, v6), "vlan2").action == XDP_PASS);
	CHECK(h.stat(FW_STAT_CT_RELATED).packets == rel0 + 1);
	// Sent to another host: not RELATED, the policy.
	CHECK(h.xdp(icmp6_error("2001:db8::2", "fd01::9", 3, 0, v6), "vlan2").action == XDP_DROP);
	CHECK(h.stat(FW_STAT_CT_RELATED).packets == rel0 + 1);
}
