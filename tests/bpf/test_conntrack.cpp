// The connection table: replies and later packets accepted before the
// chains, per protocol and family; TCP states; connections this host opens
// (TC egress); RELATED ICMP errors; expiry; re-apply; flush.
#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf.h>

#include "conntrack.h"
#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

// Forward: the LAN (vlan1) may open anything towards the WAN (vlan2);
// nothing may come in. Input: IKE and SSH only.
const char *kRules = R"({ "version": 1, "policy": {"input": "drop", "forward": "drop"},
  "input": [
    {"action": "accept", "in": "vlan2", "proto": "udp", "dport": 500, "comment": "IKE"},
    {"action": "accept", "proto": "tcp", "dport": 22}
  ],
  "forward": [
    {"action": "accept", "in": "vlan1", "out": "vlan2"}
  ] })";

const uint8_t SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04;

void fresh(const char *rules = kRules)
{
	Harness &h = Harness::get();
	h.down(); // removes the pins, the connection table with them
	h.apply(rules);
}

uint64_t st(uint32_t id)
{
	return Harness::get().stat(id).packets;
}

std::vector<CtConnection> conns()
{
	return conntrack_list(Harness::get().runtime());
}

// Moves the datapath's clock `secs` seconds on (the test clock,
// bpf/lib/clock.h): entries age exactly as that much time would age them.
// `fwctl conntrack` (conns()) still reads the real clock.
void age(uint32_t secs)
{
	Harness::get().clock_advance((uint64_t)secs * 1000000000ull);
}

// The quote of an ICMP error: the offending packet's IP header + 8 bytes.
std::vector<uint8_t> quote(const Packet &p)
{
	size_t hl = p.family == 4 ? 20 : 40;
	return std::vector<uint8_t>(p.bytes.begin() + 14, p.bytes.begin() + 14 + hl + 8);
}

Packet icmp_error(const std::string &src, const std::string &dst, uint8_t type, uint8_t code,
		  const Packet &offending)
{
	return Packet::icmp(src, dst, type, code, 0, quote(offending));
}

struct Flow {
	const char *what;
	Packet request; // LAN host -> WAN, enters vlan1
	Packet reply;   // WAN -> LAN host, enters vlan2
};

Packet gre(const std::string &s, const std::string &d)
{
	return Packet::ip(s, d, 47, {0, 0, 0x08, 0, 1, 2, 3, 4});
}
Packet ah(const std::string &s, const std::string &d)
{
	return Packet::ip(s, d, 51, std::vector<uint8_t>(24, 0x11));
}

} // namespace

TEST_CASE("per protocol: a reply needs a request; then the table accepts it, not the rule")
{
	Harness &h = Harness::get();
	const std::string L = "10.1.0.2", W = "198.51.100.7", L6 = "fd01::2", W6 = "2001:db8:1::5";
	std::vector<Flow> flows = {
		{"tcp", Packet::tcp(L, W, 40000, 80, SYN), Packet::tcp(W, L, 80, 40000, SYN | ACK)},
		{"udp", Packet::udp(L, W, 40001, 53), Packet::udp(W, L, 53, 40001)},
		{"icmp echo", Packet::icmp(L, W, 8, 0, 0x77), Packet::icmp(W, L, 0, 0, 0x77)},
		{"esp", Packet::esp(L, W, 0x100), Packet::esp(W, L, 0x200)},
		{"ah", ah(L, W), ah(W, L)},
		{"gre", gre(L, W), gre(W, L)},
		{"sctp", Packet::sctp(L, W, 5000, 9899), Packet::sctp(W, L, 9899, 5000)},
		{"tcp6", Packet::tcp(L6, W6, 40000, 80, SYN), Packet::tcp(W6, L6, 80, 40000, SYN | ACK)},
		{"udp6", Packet::udp(L6, W6, 40001, 53), Packet::udp(W6, L6, 53, 40001)},
		{"icmpv6 echo", Packet::icmp(L6, W6, 128, 0, 0x78), Packet::icmp(W6, L6, 129, 0, 0x78)},
		{"esp6", Packet::esp(L6, W6), Packet::esp(W6, L6)},
	};
	for (auto &f : flows) {
		CAPTURE(f.what);
		fresh();
		uint64_t pol = h.policy("forward").packets;
		CHECK(h.xdp(f.reply, "vlan2").action == XDP_DROP); // nothing asked for it
		CHECK(h.policy("forward").packets == pol + 1);
		CHECK(h.xdp(f.request, "vlan1").action == XDP_PASS);
		CHECK(h.rule("forward", 1).packets == 1);
		CHECK(st(FW_STAT_CT_NEW) == 1);
		REQUIRE(conns().size() == 1);
		uint64_t est = st(FW_STAT_CT_ESTABLISHED);
		auto r = h.xdp(f.reply, "vlan2");
		CHECK(r.action == XDP_PASS);
		CHECK(st(FW_STAT_CT_ESTABLISHED) == est + 1);
		CHECK(h.stat(FW_STAT_CT_ESTABLISHED).bytes >= f.reply.bytes.size() - 14);
		CHECK(h.xdp(f.request, "vlan1").action == XDP_PASS); // a later packet
		CHECK(st(FW_STAT_CT_ESTABLISHED) == est + 2);
		CHECK(h.rule("forward", 1).packets == 1); // the rule saw the first only
		CHECK(h.policy("forward").packets == pol + 1);
		CHECK(st(FW_STAT_CT_NEW) == 1);
		auto c = conns();
		REQUIRE(c.size() == 1);
		CHECK((c[0].flags & FW_CT_F_SEEN_REPLY) != 0);
	}
}

TEST_CASE("ICMP echo: the identifier and the type must fit")
{
	Harness &h = Harness::get();
	fresh();
	CHECK(h.xdp(Packet::icmp("10.1.0.2", "198.51.100.7", 8, 0, 1), "vlan1").action == XDP_PASS);
	CHECK(h.xdp(Packet::icmp("198.51.100.7", "10.1.0.2", 0, 0, 2), "vlan2").action == XDP_DROP);
	// A request from the outside with the same identifier is no reply.
	CHECK(h.xdp(Packet::icmp("198.51.100.7", "10.1.0.2", 8, 0, 1), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(Packet::icmp("198.51.100.7", "10.1.0.2", 0, 0, 1), "vlan2").action == XDP_PASS);
	auto c = conntrack_json(conns().at(0));
	CHECK(c["proto"] == "icmp");
	CHECK(c["id"] == 1);
	CHECK(!c.contains("sport"));
	CHECK(c["state"] == "established");
}

TEST_CASE("TCP: handshake, FIN, TIME_WAIT, and a new SYN meets the rules again")
{
	Harness &h = Harness::get();
	fresh();
	const std::string L = "10.1.0.2", W = "198.51.100.7";
	auto state = [] { return ct_state_name(conns().at(0)); };
	CHECK(h.xdp(Packet::tcp(L, W, 40000, 443, SYN), "vlan1").action == XDP_PASS);
	CHECK(state() == "syn_sent");
	CHECK(conns().at(0).expires_in <= 120);
	CHECK(h.xdp(Packet::tcp(W, L, 443, 40000, SYN | ACK), "vlan2").action == XDP_PASS);
	CHECK(state() == "syn_recv");
	CHECK(h.xdp(Packet::tcp(L, W, 40000, 443, ACK), "vlan1").action == XDP_PASS);
	CHECK(state() == "established");
	CHECK(conns().at(0).expires_in > 400000); // 5 days
	CHECK(h.xdp(Packet::tcp(W, L, 443, 40000, FIN | ACK), "vlan2").action == XDP_PASS);
	CHECK(state() == "fin_wait");
	CHECK(h.xdp(Packet::tcp(L, W, 40000, 443, FIN | ACK), "vlan1").action == XDP_PASS);
	CHECK(state() == "time_wait");
	CHECK(h.xdp(Packet::tcp(W, L, 443, 40000, ACK), "vlan2").action == XDP_PASS); // last ACK
	CHECK(h.rule("forward", 1).packets == 1);
	// The port is reused: a new connection, judged by the rules.
	CHECK(h.xdp(Packet::tcp(L, W, 40000, 443, SYN), "vlan1").action == XDP_PASS);
	CHECK(h.rule("forward", 1).packets == 2);
	CHECK(state() == "syn_sent");
	// Reopened from the outside instead: no rule lets that in.
	fresh();
	h.xdp(Packet::tcp(L, W, 40000, 443, SYN), "vlan1");
	h.xdp(Packet::tcp(W, L, 443, 40000, SYN | ACK), "vlan2");
	h.xdp(Packet::tcp(W, L, 443, 40000, RST), "vlan2");
	CHECK(state() == "close");
	CHECK(conns().at(0).expires_in <= 10);
	CHECK(h.xdp(Packet::tcp(L, W, 40000, 443, RST | ACK), "vlan1").action == XDP_PASS); // still known
	CHECK(h.xdp(Packet::tcp(W, L, 443, 40000, SYN), "vlan2").action == XDP_DROP);
}

TEST_CASE("TCP without an entry: mid-stream is NEW (picked up), bad flags are INVALID")
{
	Harness &h = Harness::get();
	fresh();
	const std::string L = "10.1.0.2", W = "198.51.100.7";
	// From outside, an ACK of no known connection meets the policy.
	uint64_t pol = h.policy("forward").packets;
	CHECK(h.xdp(Packet::tcp(W, L, 443, 40000, ACK), "vlan2").action == XDP_DROP);
	CHECK(h.policy("forward").packets == pol + 1);
	CHECK(conns().empty());
	// From the LAN the rule accepts it: the connection is picked up.
	CHECK(h.xdp(Packet::tcp(L, W, 40000, 443, ACK), "vlan1").action == XDP_PASS);
	CHECK(h.rule("forward", 1).packets == 1);
	REQUIRE(conns().size() == 1);
	CHECK(ct_state_name(conns()[0]) == "established");
	CHECK(conns()[0].expires_in <= 300); // until the other side answers
	CHECK(h.xdp(Packet::tcp(W, L, 443, 40000, ACK), "vlan2").action == XDP_PASS);
	CHECK(conns()[0].expires_in > 400000);
	// A RST of no connection is judged, not remembered.
	fresh();
	CHECK(h.xdp(Packet::tcp(L, W, 40001, 443, RST), "vlan1").action == XDP_PASS);
	CHECK(conns().empty());
	// Flag sets no stack sends: dropped before the rules, counted.
	uint64_t inv = st(FW_STAT_CT_INVALID);
	CHECK(h.xdp(Packet::tcp(L, W, 40002, 443, SYN | FIN), "vlan1").action == XDP_DROP);
	CHECK(h.xdp(Packet::tcp(L, W, 40002, 443, SYN | RST), "vlan1").action == XDP_DROP);
	CHECK(h.xdp(Packet::tcp(L, W, 40002, 443, 0), "vlan1").action == XDP_DROP);
	CHECK(h.xdp(Packet::tcp(L, W, 40002, 443, 0x08 | 0x20), "vlan1").action == XDP_DROP); // PSH|URG
	CHECK(st(FW_STAT_CT_INVALID) == inv + 4);
	CHECK(h.rule("forward", 1).packets == 1);
	// FIN without ACK (XMAS) is odd but meets the chains: a reject rule
	// may answer it.
	CHECK(h.xdp(Packet::tcp(L, W, 40003, 443, FIN | 0x08 | 0x20), "vlan1").action == XDP_PASS);
	CHECK(h.rule("forward", 1).packets == 2);
}

TEST_CASE("connections this host opens (TC egress): replies pass the input policy")
{
	Harness &h = Harness::get();
	fresh();
	const std::string R = "192.0.2.1", P = "192.0.2.2";
	// Before: an answer to nothing is dropped.
	CHECK(h.xdp(Packet::udp(P, R, 53, 33000), "vlan2").action == XDP_DROP);
	CHECK(h.tc_egress(Packet::udp(R, P, 33000, 53), "vlan2").action == TC_ACT_OK);
	REQUIRE(conns().size() == 1);
	CHECK((conns()[0].flags & FW_CT_F_LOCAL) != 0);
	CHECK(ct_state_name(conns()[0]) == "new");
	CHECK(conns()[0].expires_in <= 30);
	uint64_t est = st(FW_STAT_CT_ESTABLISHED), pol = h.policy("input").packets;
	CHECK(h.xdp(Packet::udp(P, R, 53, 33000), "vlan2").action == XDP_PASS);
	CHECK(st(FW_STAT_CT_ESTABLISHED) == est + 1);
	CHECK(h.policy("input").packets == pol);
	CHECK(ct_state_name(conns()[0]) == "established");
	CHECK(conns()[0].expires_in > 30);
	// Egress never drops, whatever it sees.
	CHECK(h.tc_egress(Packet::tcp(R, P, 1, 2, SYN | FIN), "vlan2").action == TC_ACT_OK);

	// TCP, both families: SYN out, SYN-ACK in, the handshake ends on egress.
	for (auto [r, p] : {std::pair<std::string, std::string>{R, P}, {"2001:db8::1", "2001:db8::2"}}) {
		CAPTURE(r);
		fresh();
		CHECK(h.xdp(Packet::tcp(p, r, 443, 50000, SYN | ACK), "vlan2").action == XDP_DROP);
		h.tc_egress(Packet::tcp(r, p, 50000, 443, SYN), "vlan2");
		CHECK(h.xdp(Packet::tcp(p, r, 443, 50000, SYN | ACK), "vlan2").action == XDP_PASS);
		h.tc_egress(Packet::tcp(r, p, 50000, 443, ACK), "vlan2");
		CHECK(ct_state_name(conns().at(0)) == "established");
		CHECK(h.xdp(Packet::tcp(p, r, 443, 50000, ACK), "vlan2").action == XDP_PASS);
		CHECK(h.policy("input").packets == 1); // the first SYN-ACK only
	}

	// Answers this host sends to a connection the rules accepted refresh
	// it and mark it replied.
	fresh();
	CHECK(h.xdp(Packet::udp(P, R, 500, 500), "vlan2").action == XDP_PASS);
	CHECK(h.rule("input", 1).packets == 1);
	h.tc_egress(Packet::udp(R, P, 500, 500), "vlan2");
	REQUIRE(conns().size() == 1);
	CHECK(ct_state_name(conns()[0]) == "established");
	CHECK((conns()[0].flags & FW_CT_F_LOCAL) == 0);
	CHECK(h.xdp(Packet::udp(P, R, 500, 500), "vlan2").action == XDP_PASS);
	CHECK(h.rule("input", 1).packets == 1);
}

TEST_CASE("ICMP errors: RELATED when they quote a tracked flow, else the chains")
{
	Harness &h = Harness::get();
	fresh();
	const std::string L = "10.1.0.2", W = "198.51.100.7";
	Packet out = Packet::udp(L, W, 40001, 53);
	CHECK(h.xdp(out, "vlan1").action == XDP_PASS);
	uint64_t rel = st(FW_STAT_CT_RELATED), pol = h.policy("forward").packets;
	// Port unreachable from the server; time exceeded from a router on the way.
	CHECK(h.xdp(icmp_error(W, L, 3, 3, out), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(icmp_error("192.0.2.2", L, 11, 0, out), "vlan2").action == XDP_PASS);
	CHECK(st(FW_STAT_CT_RELATED) == rel + 2);
	// Quoting a flow nobody opened: the forward policy.
	CHECK(h.xdp(icmp_error(W, L, 3, 3, Packet::udp(L, W, 40001, 54)), "vlan2").action == XDP_DROP);
	CHECK(h.policy("forward").packets == pol + 1);
	CHECK(st(FW_STAT_CT_RELATED) == rel + 2);
	// Errors never create entries, and do not refresh.
	CHECK(conns().size() == 1);
	CHECK(ct_state_name(conns()[0]) == "new");

	// ICMPv6 packet too big about a TCP flow; the quote of a ping.
	Packet out6 = Packet::tcp("fd01::2", "2001:db8:1::5", 40000, 443, SYN);
	CHECK(h.xdp(out6, "vlan1").action == XDP_PASS);
	std::vector<uint8_t> body = quote(out6);
	Packet ptb = Packet::icmp("2001:db8::2", "fd01::2", 2, 0, 0, body);
	CHECK(h.xdp(ptb, "vlan2").action == XDP_PASS);
	Packet ping = Packet::icmp(L, W, 8, 0, 9);
	CHECK(h.xdp(ping, "vlan1").action == XDP_PASS);
	CHECK(h.xdp(icmp_error("192.0.2.2", L, 11, 0, ping), "vlan2").action == XDP_PASS);
	CHECK(st(FW_STAT_CT_RELATED) == rel + 4);
	// Related to something this host sent (egress) as well.
	Packet mine = Packet::udp("192.0.2.1", "198.51.100.9", 33000, 33434);
	h.tc_egress(mine, "vlan2");
	CHECK(h.xdp(icmp_error("192.0.2.2", "192.0.2.1", 11, 0, mine), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(icmp_error("192.0.2.2", "192.0.2.1", 11, 0, Packet::udp("192.0.2.1", "198.51.100.9", 33000, 33435)), "vlan2").action == XDP_DROP);
	CHECK(st(FW_STAT_CT_RELATED) == rel + 5);
}

TEST_CASE("expiry: a dead entry is absent")
{
	Harness &h = Harness::get();
	fresh();
	const std::string L = "10.1.0.2", W = "198.51.100.7";
	// UDP, never answered: 30 s.
	ClockGuard clock;
	h.xdp(Packet::udp(L, W, 40001, 53), "vlan1");
	age(29);
	CHECK(h.xdp(Packet::udp(W, L, 53, 40001), "vlan2").action == XDP_PASS); // alive at 29 s
	fresh();
	h.xdp(Packet::udp(L, W, 40001, 53), "vlan1");
	age(31);
	CHECK(h.xdp(Packet::udp(W, L, 53, 40001), "vlan2").action == XDP_DROP);
	// Answered: 120 s from the last packet.
	h.xdp(Packet::udp(L, W, 40002, 53), "vlan1");
	CHECK(h.xdp(Packet::udp(W, L, 53, 40002), "vlan2").action == XDP_PASS);
	age(100);
	CHECK(h.xdp(Packet::udp(W, L, 53, 40002), "vlan2").action == XDP_PASS); // refreshes
	age(100);
	CHECK(h.xdp(Packet::udp(W, L, 53, 40002), "vlan2").action == XDP_PASS);
	age(121);
	CHECK(h.xdp(Packet::udp(W, L, 53, 40002), "vlan2").action == XDP_DROP);
	// An expired request direction meets the rules again and starts over.
	CHECK(h.xdp(Packet::udp(L, W, 40002, 53), "vlan1").action == XDP_PASS);
	CHECK(h.rule("forward", 1).packets == 3);
	// ICMP 30 s, generic 600 s.
	fresh();
	h.xdp(Packet::icmp(L, W, 8, 0, 5), "vlan1");
	h.xdp(Packet::esp(L, W), "vlan1");
	age(31);
	CHECK(h.xdp(Packet::icmp(W, L, 0, 0, 5), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(Packet::esp(W, L), "vlan2").action == XDP_PASS);
	age(601);
	CHECK(h.xdp(Packet::esp(W, L), "vlan2").action == XDP_DROP);
	// An ICMP error about an expired flow is not related.
	Packet out = Packet::udp(L, W, 40003, 53);
	h.xdp(out, "vlan1");
	age(31);
	CHECK(h.xdp(icmp_error(W, L, 3, 3, out), "vlan2").action == XDP_DROP);
}

TEST_CASE("expiry counts whole seconds exactly, also after the clock goes back")
{
	// fw_ct_now (lib/ct.h) remembers each CPU's second instead of dividing
	// every packet's clock: an entry must still die at the first nanosecond
	// of the second after its last, as with the division, before and after
	// the clock jumps back (the remembered second is then in the future).
	Harness &h = Harness::get();
	ClockGuard clock;
	const std::string L = "10.1.0.2", W = "198.51.100.7";
	const uint64_t S = 1000000000ull;
	for (uint64_t start : {1000 * S + S - 1, 500 * S + 1}) { // the second one goes back
		CAPTURE(start);
		fresh();
		h.clock_set(start); // second start / S; unanswered UDP lives 30 s more
		h.xdp(Packet::udp(L, W, 40001, 53), "vlan1");
		h.xdp(Packet::udp(L, W, 40002, 53), "vlan1");
		uint64_t last = (start / S + 30) * S; // its last second
		h.clock_set(last + S - 1);
		CHECK(h.xdp(Packet::udp(W, L, 53, 40001), "vlan2").action == XDP_PASS);
		h.clock_set(last + S);
		CHECK(h.xdp(Packet::udp(W, L, 53, 40002), "vlan2").action == XDP_DROP);
		h.clock_set(last);
		CHECK(h.xdp(Packet::udp(W, L, 53, 40001), "vlan2").action == XDP_PASS); // back again
	}
}

TEST_CASE("the table survives a re-apply; flush empties it")
{
	Harness &h = Harness::get();
	fresh();
	const std::string L = "10.1.0.2", W = "198.51.100.7";
	h.xdp(Packet::udp(L, W, 40001, 53), "vlan1");
	h.tc_egress(Packet::udp("192.0.2.1", "192.0.2.2", 33000, 53), "vlan2");
	REQUIRE(conns().size() == 2);
	// A ruleset that would accept none of it.
	h.apply(R"({"policy": {"input": "drop", "forward": "drop"}})");
	CHECK(conns().size() == 2);
	CHECK(h.xdp(Packet::udp(W, L, 53, 40001), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(Packet::udp(L, W, 40001, 53), "vlan1").action == XDP_PASS);
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 53, 33000), "vlan2").action == XDP_PASS);
	CHECK(conntrack_flush(h.runtime()) == 2);
	CHECK(conns().empty());
	CHECK(h.xdp(Packet::udp(W, L, 53, 40001), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(Packet::udp(L, W, 40001, 53), "vlan1").action == XDP_DROP); // the new rules now
	CHECK(h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 53, 33000), "vlan2").action == XDP_DROP);
}

TEST_CASE("conntrack JSON has the fields of cli.md")
{
	Harness &h = Harness::get();
	fresh();
	h.xdp(Packet::udp("192.0.2.2", "192.0.2.1", 500, 500), "vlan2");
	h.tc_egress(Packet::udp("192.0.2.1", "192.0.2.2", 500, 500), "vlan2");
	h.xdp(Packet::esp("fd01::2", "2001:db8:1::5"), "vlan1");
	auto c = conns();
	REQUIRE(c.size() == 2);
	for (auto &x : c) {
		auto j = conntrack_json(x);
		if (j["proto"] == "udp") {
			CHECK(j["src"] == "192.0.2.2");
			CHECK(j["dst"] == "192.0.2.1");
			CHECK(j["sport"] == 500);
			CHECK(j["dport"] == 500);
			CHECK(j["reply_src"] == "192.0.2.1");
			CHECK(j["reply_dst"] == "192.0.2.2");
			CHECK(j["reply_sport"] == 500);
			CHECK(j["reply_dport"] == 500);
			CHECK(j["state"] == "established");
			CHECK(j["expires_in"].get<int>() >= 118);
			CHECK(j["expires_in"].get<int>() <= 120);
		} else {
			CHECK(j["proto"] == "esp");
			CHECK(j["src"] == "fd01::2");
			CHECK(j["reply_src"] == "2001:db8:1::5");
			CHECK(!j.contains("sport"));
			CHECK(!j.contains("reply_dport"));
			CHECK(j["state"] == "new");
		}
	}
}

TEST_CASE("fragments of an established flow follow their first fragment")
{
	Harness &h = Harness::get();
	fresh();
	const std::string L = "10.1.0.2", W = "198.51.100.7";
	h.xdp(Packet::udp(L, W, 40001, 500), "vlan1");
	// A fragmented reply: the first fragment (MF set) carries the ports.
	auto frag = [&](uint16_t off8, bool mf) {
		Packet p = Packet::udp(W, L, 500, 40001, 64);
		p.bytes[14 + 4] = 0x55, p.bytes[14 + 5] = 0x66; // id
		uint16_t fo = (uint16_t)(off8 | (mf ? 0x2000 : 0));
		p.bytes[14 + 6] = (uint8_t)(fo >> 8), p.bytes[14 + 7] = (uint8_t)fo;
		p.bytes[14 + 10] = p.bytes[14 + 11] = 0;
		uint16_t c = csum_fold(csum_add(0, &p.bytes[14], 20));
		p.bytes[14 + 10] = (uint8_t)(c >> 8), p.bytes[14 + 11] = (uint8_t)c;
		return p;
	};
	CHECK(h.xdp(frag(0, true), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(frag(8, false), "vlan2").action == XDP_PASS);
}
