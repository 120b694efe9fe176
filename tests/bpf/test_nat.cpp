// NAT: masquerade (source rewritten on TC egress, replies' destination on
// XDP ingress) and port forwards (destination rewritten on XDP ingress
// before the chains, replies' source on TC egress), per protocol, with the
// checksums verified; exempt and saddr; port reallocation on collision;
// allocation failure; what `fwctl conntrack` and `fwctl stats` show.
#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "conntrack.h"
#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

// The router: LAN vlan1 10.1.0.1/16, WAN vlan2 192.0.2.1/24 (harness.h).
const std::string WAN_IP = "192.0.2.1", PEER = "198.51.100.7";

const char *kMasq = R"({ "version": 1, "policy": {"input": "drop", "forward": "drop"},
  "forward": [ {"action": "accept", "in": "vlan1", "out": "vlan2"} ],
  "nat": [ {"out": "vlan2"} ] })";

// The seed's Scenario 2 shape, with the harness's addresses.
const char *kForward = R"({ "version": 1, "policy": {"input": "drop", "forward": "drop"},
  "forward": [
    {"action": "accept", "in": "vlan1", "out": "vlan2"},
    {"action": "accept", "in": "vlan2", "out": "vlan1", "proto": "udp", "dport": 500},
    {"action": "accept", "in": "vlan2", "out": "vlan1", "proto": "tcp", "dport": "9000-9010"},
    {"action": "accept", "in": "vlan2", "out": "vlan1", "proto": "esp"},
    {"action": "accept", "in": "vlan2", "out": "vlan1", "proto": "icmp"}
  ],
  "nat": [ {"out": "vlan2"} ],
  "port-forward": [
    {"in": "vlan2", "proto": "udp", "dport": 500, "to-daddr": "10.1.0.2"},
    {"in": "vlan2", "proto": "tcp", "dport": "8000-8010", "to-daddr": "10.1.0.3", "to-dport": 9000},
    {"in": "vlan2", "proto": "esp", "to-daddr": "10.1.0.2"},
    {"in": "vlan2", "proto": "udp", "dport": 600, "to-daddr": "10.1.0.2", "comment": "no forward rule"}
  ] })";

const uint8_t SYN = 0x02, ACK = 0x10;

void fresh(const char *rules)
{
	Harness &h = Harness::get();
	h.down();
	h.apply(rules);
}

std::vector<CtConnection> conns()
{
	return conntrack_list(Harness::get().runtime());
}

uint16_t icmp_id(const Packet &p)
{
	return (uint16_t)(p.bytes[p.l4 + 4] << 8 | p.bytes[p.l4 + 5]);
}

uint16_t udp_csum(const Packet &p)
{
	return (uint16_t)(p.bytes[p.l4 + 6] << 8 | p.bytes[p.l4 + 7]);
}

CounterValue nat_hits(size_t i)
{
	auto st = Harness::get().runtime().applied();
	return Harness::get().runtime().rule_counter(st->slots_nat.at(i));
}

CounterValue pf_hits(size_t i)
{
	auto st = Harness::get().runtime().applied();
	return Harness::get().runtime().rule_counter(st->slots_pf.at(i));
}

void check_sums(const Packet &p)
{
	CHECK(p.ipv4_checksum_ok());
	CHECK(p.l4_checksum_ok());
}

// One masqueraded request: through XDP (vlan1) and TC (vlan2).
// Returns the request as it left.
struct Masq {
	Packet out;
};

Masq masquerade(const Packet &req)
{
	Harness &h = Harness::get();
	auto in = h.xdp(req, "vlan1");
	CHECK(in.action == XDP_PASS);
	CHECK(in.packet().src() == req.src()); // sources change on egress only
	auto eg = h.tc_egress(in.packet(), "vlan2");
	CHECK(eg.action == TC_ACT_OK);
	Masq m;
	m.out = eg.packet();
	return m;
}

// Where TCP and UDP keep their checksum.
size_t sum_at(const Packet &p)
{
	return p.l4 + (p.proto() == 6 ? 16 : 6);
}

uint16_t sum_field(const Packet &p)
{
	return (uint16_t)(p.bytes[sum_at(p)] << 8 | p.bytes[sum_at(p) + 1]);
}

void set_sum_field(Packet &p, uint16_t v)
{
	p.bytes[sum_at(p)] = (uint8_t)(v >> 8), p.bytes[sum_at(p) + 1] = (uint8_t)v;
}

// What a stack that offloads the checksum leaves in the field
// (CHECKSUM_PARTIAL): the pseudo-header's sum, folded, not complemented.
uint16_t seed_of(const Packet &p)
{
	uint32_t sum = csum_add(0, &p.bytes[p.l3 + 12], 8) + p.proto() + (uint32_t)(p.bytes.size() - p.l4);
	return (uint16_t)~csum_fold(sum);
}

Packet seeded(Packet p)
{
	set_sum_field(p, seed_of(p));
	return p;
}

// What the hardware (or the stack, for a device without offload) does
// with a seed on the way out: sums the segment from its transport header,
// seed included, and writes the complement.
Packet finished(Packet p)
{
	set_sum_field(p, csum_fold(csum_add(0, &p.bytes[p.l4], p.bytes.size() - p.l4)));
	return p;
}

} // namespace

TEST_CASE("masquerade UDP: source rewritten on egress, reply translated back on ingress")
{
	Harness &h = Harness::get();
	fresh(kMasq);
	auto req = Packet::udp("10.1.0.2", PEER, 5000, 53);
	auto m = masquerade(req);
	CHECK(m.out.src() == WAN_IP);
	CHECK(m.out.sport() == 5000); // free: kept
	CHECK(m.out.dst() == PEER);
	check_sums(m.out);
	CHECK(nat_hits(0).packets == 1);

	auto rep = h.xdp(Packet::udp(PEER, WAN_IP, 53, 5000), "vlan2");
	CHECK(rep.action == XDP_PASS);
	auto r = rep.packet();
	CHECK(r.dst() == "10.1.0.2");
	CHECK(r.dport() == 5000);
	CHECK(r.src() == PEER);
	check_sums(r);
	// On its way out to the LAN the translated reply is recognised, not
	// taken for a new connection of this host.
	CHECK(h.tc_egress(r, "vlan1").packet().bytes == r.bytes);
	auto c = conns();
	REQUIRE(c.size() == 1);
	auto j = conntrack_json(c[0]);
	CHECK(j["src"] == "10.1.0.2");
	CHECK(j["dst"] == PEER);
	CHECK(j["reply_src"] == PEER);
	CHECK(j["reply_dst"] == WAN_IP);
	CHECK(j["reply_dport"] == 5000);
	CHECK(j["state"] == "established");

	// A later packet of the request direction: same translation.
	auto m2 = masquerade(req);
	CHECK(m2.out.bytes == m.out.bytes);
	CHECK(nat_hits(0).packets == 1); // counted per connection
}

TEST_CASE("masquerade: a port in use is reallocated, replies find their own host")
{
	Harness &h = Harness::get();
	fresh(kMasq);
	auto a = masquerade(Packet::udp("10.1.0.2", PEER, 5000, 53)).out;
	auto b = masquerade(Packet::udp("10.1.0.3", PEER, 5000, 53)).out;
	CHECK(a.sport() == 5000);
	CHECK(b.src() == WAN_IP);
	CHECK(b.sport() != 5000);
	CHECK(b.sport() >= 1024);
	check_sums(b);
	auto ra = h.xdp(Packet::udp(PEER, WAN_IP, 53, a.sport()), "vlan2").packet();
	auto rb = h.xdp(Packet::udp(PEER, WAN_IP, 53, b.sport()), "vlan2").packet();
	CHECK(ra.dst() == "10.1.0.2");
	CHECK(ra.dport() == 5000);
	CHECK(rb.dst() == "10.1.0.3");
	CHECK(rb.dport() == 5000);
	check_sums(rb);
	// Another destination: the original port is free there.
	auto c = masquerade(Packet::udp("10.1.0.3", "198.51.100.8", 5000, 53)).out;
	CHECK(c.sport() == 5000);
	CHECK(conns().size() == 3);
	CHECK(nat_hits(0).packets == 3);
}

TEST_CASE("masquerade UDP without checksum: stays without")
{
	Harness &h = Harness::get();
	fresh(kMasq);
	auto req = Packet::udp("10.1.0.2", PEER, 5001, 53);
	req.bytes[req.l4 + 6] = req.bytes[req.l4 + 7] = 0;
	auto out = masquerade(req).out;
	CHECK(out.src() == WAN_IP);
	CHECK(udp_csum(out) == 0);
	CHECK(out.ipv4_checksum_ok());
	auto rep = Packet::udp(PEER, WAN_IP, 53, 5001);
	rep.bytes[rep.l4 + 6] = rep.bytes[rep.l4 + 7] = 0;
	auto r = h.xdp(rep, "vlan2").packet();
	CHECK(r.dst() == "10.1.0.2");
	CHECK(udp_csum(r) == 0);
	CHECK(r.ipv4_checksum_ok());
}

TEST_CASE("masquerade TCP: handshake through the translation")
{
	Harness &h = Harness::get();
	fresh(kMasq);
	masquerade(Packet::tcp("10.1.0.9", PEER, 40000, 80, SYN));
	auto b = masquerade(Packet::tcp("10.1.0.8", PEER, 40000, 80, SYN)).out; // collides
	CHECK(b.src() == WAN_IP);
	CHECK(b.sport() != 40000);
	check_sums(b);
	auto r = h.xdp(Packet::tcp(PEER, WAN_IP, 80, b.sport(), SYN | ACK), "vlan2");
	CHECK(r.action == XDP_PASS);
	CHECK(r.packet().dst() == "10.1.0.8");
	CHECK(r.packet().dport() == 40000);
	check_sums(r.packet());
	auto ack = masquerade(Packet::tcp("10.1.0.8", PEER, 40000, 80, ACK)).out;
	CHECK(ack.sport() == b.sport());
	check_sums(ack);
	bool est = false;
	for (auto &c : conns())
		if (addr_str(4, c.orig.saddr) == "10.1.0.8")
			est = ct_state_name(c) == "established";
	CHECK(est);
}

TEST_CASE("masquerade ICMP echo: identifier kept when free, else changed, and back")
{
	Harness &h = Harness::get();
	fresh(kMasq);
	auto a = masquerade(Packet::icmp("10.1.0.2", PEER, 8, 0, 0x1234)).out;
	CHECK(a.src() == WAN_IP);
	CHECK(icmp_id(a) == 0x1234);
	check_sums(a);
	auto b = masquerade(Packet::icmp("10.1.0.3", PEER, 8, 0, 0x1234)).out;
	CHECK(icmp_id(b) != 0x1234);
	check_sums(b);
	auto rb = h.xdp(Packet::icmp(PEER, WAN_IP, 0, 0, icmp_id(b)), "vlan2").packet();
	CHECK(rb.dst() == "10.1.0.3");
	CHECK(icmp_id(rb) == 0x1234);
	check_sums(rb);
	auto ra = h.xdp(Packet::icmp(PEER, WAN_IP, 0, 0, 0x1234), "vlan2").packet();
	CHECK(ra.dst() == "10.1.0.2");
	check_sums(ra);
}

TEST_CASE("masquerade ESP: one flow per (inside host, peer); the second fails and is counted")
{
	Harness &h = Harness::get();
	fresh(kMasq);
	auto a = masquerade(Packet::esp("10.1.0.2", PEER)).out;
	CHECK(a.src() == WAN_IP);
	CHECK(a.ipv4_checksum_ok());
	auto r = h.xdp(Packet::esp(PEER, WAN_IP, 0x2000), "vlan2");
	CHECK(r.action == XDP_PASS);
	CHECK(r.packet().dst() == "10.1.0.2");
	CHECK(r.packet().ipv4_checksum_ok());
	uint64_t fail = h.stat(FW_STAT_NAT_FAIL).packets;
	CHECK(h.xdp(Packet::esp("10.1.0.3", PEER), "vlan1").action == XDP_DROP);
	CHECK(h.stat(FW_STAT_NAT_FAIL).packets == fail + 1);
	// Another peer is fine.
	CHECK(masquerade(Packet::esp("10.1.0.3", "198.51.100.9")).out.src() == WAN_IP);
}

TEST_CASE("masquerade: exempt destinations, saddr restriction, `to`, the host's own traffic")
{
	Harness &h = Harness::get();
	fresh(R"({ "version": 1, "forward": [],
	  "nat": [ {"out": "vlan2", "saddr": "10.1.5.0/24", "exempt": ["198.51.100.0/25"], "to": "192.0.2.77"} ] })");
	// exempt destination: left alone
	auto e = masquerade(Packet::udp("10.1.5.2", "198.51.100.7", 1000, 53)).out;
	CHECK(e.src() == "10.1.5.2");
	// not exempt: rewritten to `to`
	auto t = masquerade(Packet::udp("10.1.5.2", "198.51.100.200", 1000, 53)).out;
	CHECK(t.src() == "192.0.2.77");
	check_sums(t);
	// saddr outside the restriction: left alone
	auto s = masquerade(Packet::udp("10.1.0.2", "198.51.100.200", 1000, 53)).out;
	CHECK(s.src() == "10.1.0.2");
	CHECK(nat_hits(0).packets == 1);
	// the host's own traffic (opened on egress) is never masqueraded
	auto own = h.tc_egress(Packet::udp("10.1.0.1", "198.51.100.200", 1000, 53), "vlan2").packet();
	CHECK(own.src() == "10.1.0.1");
}

TEST_CASE("port forward UDP: destination rewritten before the chains, reply source on egress")
{
	Harness &h = Harness::get();
	fresh(kForward);
	auto in = h.xdp(Packet::udp(PEER, WAN_IP, 500, 500), "vlan2");
	CHECK(in.action == XDP_PASS);
	auto p = in.packet();
	CHECK(p.dst() == "10.1.0.2");
	CHECK(p.dport() == 500);
	CHECK(p.src() == PEER);
	check_sums(p);
	CHECK(h.rule("forward", 2).packets == 1); // the chain saw the inside address
	CHECK(pf_hits(0).packets == 1);
	CHECK(pf_hits(0).bytes == p.bytes.size() - 14);
	// leaving for the LAN: known, unchanged, no new connection
	CHECK(h.tc_egress(p, "vlan1").packet().bytes == p.bytes);
	CHECK(conns().size() == 1);

	// Alice answers; the source becomes the public address again.
	auto out = h.tc_egress(Packet::udp("10.1.0.2", PEER, 500, 500), "vlan2").packet();
	CHECK(out.src() == WAN_IP);
	CHECK(out.sport() == 500);
	check_sums(out);
	auto j = conntrack_json(conns().at(0));
	CHECK(j["src"] == PEER);
	CHECK(j["dst"] == WAN_IP);
	CHECK(j["reply_src"] == "10.1.0.2");
	CHECK(j["reply_dst"] == PEER);
	CHECK(j["state"] == "established");

	// later packets from the peer: translated by the table
	auto again = h.xdp(Packet::udp(PEER, WAN_IP, 500, 500), "vlan2").packet();
	CHECK(again.dst() == "10.1.0.2");
	CHECK(pf_hits(0).packets == 1);
}

TEST_CASE("port forward TCP range with to-dport keeps the offset")
{
	Harness &h = Harness::get();
	fresh(kForward);
	auto p = h.xdp(Packet::tcp(PEER, WAN_IP, 33000, 8005, SYN), "vlan2");
	CHECK(p.action == XDP_PASS);
	CHECK(p.packet().dst() == "10.1.0.3");
	CHECK(p.packet().dport() == 9005);
	check_sums(p.packet());
	CHECK(h.rule("forward", 3).packets == 1);
	CHECK(pf_hits(1).packets == 1);
	auto out = h.tc_egress(Packet::tcp("10.1.0.3", PEER, 9005, 33000, SYN | ACK), "vlan2").packet();
	CHECK(out.src() == WAN_IP);
	CHECK(out.sport() == 8005);
	check_sums(out);
	// outside the range: no forward, the input policy drops it
	CHECK(h.xdp(Packet::tcp(PEER, WAN_IP, 33000, 8011, SYN), "vlan2").action == XDP_DROP);
}

TEST_CASE("port forward ESP (protocol only) both ways; no forward rule, no way in")
{
	Harness &h = Harness::get();
	fresh(kForward);
	auto p = h.xdp(Packet::esp(PEER, WAN_IP, 0x77), "vlan2");
	CHECK(p.action == XDP_PASS);
	CHECK(p.packet().dst() == "10.1.0.2");
	CHECK(p.packet().ipv4_checksum_ok());
	CHECK(pf_hits(2).packets == 1);
	CHECK(h.rule("forward", 4).packets == 1);
	auto out = h.tc_egress(Packet::esp("10.1.0.2", PEER, 0x88), "vlan2").packet();
	CHECK(out.src() == WAN_IP);
	CHECK(out.ipv4_checksum_ok());
	// port forward to 600 exists, but no forward rule accepts it
	uint64_t pol = h.policy("forward").packets;
	CHECK(h.xdp(Packet::udp(PEER, WAN_IP, 600, 600), "vlan2").action == XDP_DROP);
	CHECK(h.policy("forward").packets == pol + 1);
	CHECK(pf_hits(3).packets == 1);
}

TEST_CASE("masquerade and port forwards together: LAN ping out, conntrack shows both")
{
	Harness &h = Harness::get();
	fresh(kForward);
	auto ping = masquerade(Packet::icmp("10.1.0.2", PEER, 8, 0, 7)).out;
	CHECK(ping.src() == WAN_IP);
	h.xdp(Packet::udp(PEER, WAN_IP, 500, 500), "vlan2");
	int snat = 0, dnat = 0;
	for (auto &c : conns()) {
		auto j = conntrack_json(c);
		if (j["reply_dst"] == WAN_IP)
			snat++;
		if (j["reply_src"] == "10.1.0.2")
			dnat++;
	}
	CHECK(snat == 1);
	CHECK(dnat == 1);
}

// SCTP's CRC32c covers its ports and the datapath does not recompute it
// (no pseudo-header: addresses may change freely). So masquerade keeps an
// SCTP source port or fails (dropped, counted) and port forwards never
// change the port (the checker refuses an SCTP to-dport that would).
TEST_CASE("masquerade SCTP: the source port is kept, or the connection fails; never a stale CRC32c")
{
	Harness &h = Harness::get();
	fresh(kMasq);
	Packet a_in = Packet::sctp("10.1.0.2", PEER, 5000, 38412);
	auto a = masquerade(a_in).out;
	CHECK(a.src() == WAN_IP);
	CHECK(a.sport() == 5000);
	CHECK(std::equal(a.bytes.begin() + 34 + 4, a.bytes.end(), a_in.bytes.begin() + 34 + 4)); // CRC and the rest unchanged
	uint64_t fail = h.stat(FW_STAT_NAT_FAIL).packets;
	// A second inside host with the same port to the same peer and port:
	// no other port may be chosen, so no translation and no entry.
	CHECK(h.xdp(Packet::sctp("10.1.0.3", PEER, 5000, 38412), "vlan1").action == XDP_DROP);
	CHECK(h.stat(FW_STAT_NAT_FAIL).packets == fail + 1);
	// Another port: fine.
	CHECK(masquerade(Packet::sctp("10.1.0.3", PEER, 5001, 38412)).out.sport() == 5001);
	// The reply reaches the first host, ports untouched.
	auto r = h.xdp(Packet::sctp(PEER, WAN_IP, 38412, 5000), "vlan2");
	CHECK(r.action == XDP_PASS);
	CHECK(r.packet().dst() == "10.1.0.2");
	CHECK(r.packet().dport() == 5000);
}

// A packet a stack on this machine sent over a veth carries the seed of its
// checksum, not the checksum (the skb says CHECKSUM_PARTIAL; XDP cannot see
// it). Rewritten as a checksum, the seed turns wrong and the sum finished
// from it on the way out is wrong: the receiver drops the packet.
TEST_CASE("ingress NAT of a seed a local stack left for the hardware: translated as a seed")
{
	Harness &h = Harness::get();
	fresh(kForward);

	// A masquerade reply (an established packet).
	Masq m = masquerade(Packet::tcp("10.1.0.2", PEER, 41000, 443, SYN));
	Packet sa = Packet::tcp(PEER, WAN_IP, 443, m.out.sport(), SYN | ACK);
	auto in = h.xdp(seeded(sa), "vlan2");
	REQUIRE(in.action == XDP_PASS);
	Packet got = in.packet();
	CHECK(got.dst() == "10.1.0.2");
	CHECK(got.dport() == 41000);
	CHECK(got.ipv4_checksum_ok());
	CHECK(sum_field(got) == seed_of(got)); // the seed of the packet as it is now
	CHECK(finished(got).l4_checksum_ok());
	// A finished checksum on the same path: RFC 1624, as before.
	auto ack = h.xdp(Packet::tcp(PEER, WAN_IP, 443, m.out.sport(), ACK), "vlan2");
	CHECK(ack.packet().dst() == "10.1.0.2");
	check_sums(ack.packet());

	// A port forward's first packet, UDP; and one that changes the port
	// too, which the seed does not cover.
	auto ike = h.xdp(seeded(Packet::udp(PEER, WAN_IP, 4501, 500)), "vlan2");
	REQUIRE(ike.action == XDP_PASS);
	CHECK(ike.packet().dst() == "10.1.0.2");
	CHECK(sum_field(ike.packet()) == seed_of(ike.packet()));
	CHECK(finished(ike.packet()).l4_checksum_ok());
	auto web = h.xdp(seeded(Packet::tcp(PEER, WAN_IP, 50000, 8003, SYN)), "vlan2");
	REQUIRE(web.action == XDP_PASS);
	CHECK(web.packet().dst() == "10.1.0.3");
	CHECK(web.packet().dport() == 9003);
	CHECK(sum_field(web.packet()) == seed_of(web.packet()));
	CHECK(finished(web.packet()).l4_checksum_ok());

	// A datagram whose checksum equals its seed (one in 65,536) cannot be
	// told from a seed whose finished sum equals it: translated as a seed
	// (what a local stack sends as a rule), and counted.
	Packet odd = seeded(Packet::udp(PEER, WAN_IP, 4502, 500));
	size_t len = odd.bytes.size() - odd.l4;
	odd.bytes[odd.l4 + 8] = odd.bytes[odd.l4 + 9] = 0; // the payload word that makes it so
	uint32_t pseudo = csum_add(0, &odd.bytes[odd.l3 + 12], 8) + odd.proto() + (uint32_t)len;
	uint16_t w = csum_fold(csum_add(pseudo, &odd.bytes[odd.l4], len));
	odd.bytes[odd.l4 + 8] = (uint8_t)(w >> 8), odd.bytes[odd.l4 + 9] = (uint8_t)w;
	REQUIRE(odd.l4_checksum_ok());
	REQUIRE(sum_field(odd) == seed_of(odd));
	uint64_t unsure = h.stat(FW_STAT_NAT_CSUM_UNSURE).packets;
	auto unsure_out = h.xdp(odd, "vlan2");
	REQUIRE(unsure_out.action == XDP_PASS);
	CHECK(unsure_out.packet().dst() == "10.1.0.2");
	CHECK(sum_field(unsure_out.packet()) == seed_of(unsure_out.packet()));
	CHECK(h.stat(FW_STAT_NAT_CSUM_UNSURE).packets == unsure + 1);
	// Its neighbour one bit away in the payload is a plain seed: not counted.
	odd.bytes[odd.l4 + 9] ^= 1;
	CHECK(h.xdp(odd, "vlan2").action == XDP_PASS);
	CHECK(h.stat(FW_STAT_NAT_CSUM_UNSURE).packets == unsure + 1);
}
