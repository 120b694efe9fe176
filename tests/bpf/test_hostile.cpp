// Hostile packets: cut at every byte, bad IPv4 headers, IPv6 extension
// chains beyond the parser's bound, VLAN stacks, TCP flag nonsense and
// fragments. The rule: what the parser cannot trust meets a policy (here
// drop), never a rule's accept; and a non-first fragment never gets past a
// port rule. docs/reliability.md has this table in prose.
#include <doctest/doctest.h>
#include <linux/bpf.h>

#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

// Input: UDP 500, TCP 22, ICMP and ICMPv6 accepted; everything else (and
// everything malformed) dropped by the policies.
const char *kRules = R"({ "version": 1, "policy": {"input": "drop", "forward": "drop"},
  "input": [
    {"action": "accept", "proto": "udp", "dport": 500},
    {"action": "accept", "proto": "tcp", "dport": 22},
    {"action": "accept", "proto": "icmp"},
    {"action": "accept", "proto": "icmpv6"}
  ] })";

const std::string A4 = "192.0.2.2", R4 = "192.0.2.1", A6 = "2001:db8::2", R6 = "2001:db8::1";

std::vector<uint8_t> udp_hdr(uint16_t sport, uint16_t dport, size_t payload = 8)
{
	auto h = Packet::ports_header(sport, dport, 8 + payload);
	h[4] = (uint8_t)((8 + payload) >> 8), h[5] = (uint8_t)(8 + payload);
	return h;
}

// IPv4 with IHL words of header (options = NOPs), protocol and L4 bytes.
Packet v4(uint8_t proto, std::vector<uint8_t> l4, int ihl = 5)
{
	Packet p = Packet::ip(A4, R4, proto, l4);
	if (ihl > 5) {
		p.bytes.insert(p.bytes.begin() + 34, (size_t)(ihl - 5) * 4, 0x01); // NOP options
		p.bytes[14] = (uint8_t)(0x40 | ihl);
		uint16_t tot = (uint16_t)(ihl * 4 + l4.size());
		p.bytes[16] = (uint8_t)(tot >> 8), p.bytes[17] = (uint8_t)tot;
		p.l4 = 14 + (size_t)ihl * 4;
	}
	return p;
}

void set_frag4(Packet &p, uint16_t id, uint16_t frag_field)
{
	p.bytes[18] = (uint8_t)(id >> 8), p.bytes[19] = (uint8_t)id;
	p.bytes[20] = (uint8_t)(frag_field >> 8), p.bytes[21] = (uint8_t)frag_field;
}

// IPv6 whose payload is a chain of extension headers (each given as its
// type and total length in bytes, a multiple of 8), then `proto` and l4.
Packet v6(std::vector<std::pair<uint8_t, size_t>> ext, uint8_t proto, std::vector<uint8_t> l4)
{
	std::vector<uint8_t> payload;
	for (size_t i = 0; i < ext.size(); i++) {
		uint8_t next = i + 1 < ext.size() ? ext[i + 1].first : proto;
		std::vector<uint8_t> h(ext[i].second, 0);
		h[0] = next;
		if (ext[i].first != 44)
			h[1] = (uint8_t)(ext[i].second / 8 - 1);
		payload.insert(payload.end(), h.begin(), h.end());
	}
	size_t l4_at = payload.size();
	payload.insert(payload.end(), l4.begin(), l4.end());
	Packet p = Packet::ip(A6, R6, ext.empty() ? proto : ext[0].first, payload);
	p.l4 = 54 + l4_at;
	return p;
}

// A fragment header at the start of an IPv6 payload: offset in 8-byte
// units, M flag, identification.
void set_frag6(Packet &p, size_t at, uint16_t offset, bool more, uint32_t id)
{
	uint16_t fo = (uint16_t)(offset << 3 | (more ? 1 : 0));
	p.bytes[at + 2] = (uint8_t)(fo >> 8), p.bytes[at + 3] = (uint8_t)fo;
	p.bytes[at + 4] = (uint8_t)(id >> 24), p.bytes[at + 5] = (uint8_t)(id >> 16);
	p.bytes[at + 6] = (uint8_t)(id >> 8), p.bytes[at + 7] = (uint8_t)id;
}

Packet vlan(Packet p, std::vector<uint16_t> tpids)
{
	// Insert tags after the MACs, outermost first.
	std::vector<uint8_t> tags;
	for (auto t : tpids) {
		tags.push_back((uint8_t)(t >> 8));
		tags.push_back((uint8_t)t);
		tags.push_back(0x00);
		tags.push_back(0x0a); // VID 10
	}
	p.bytes.insert(p.bytes.begin() + 12, tags.begin(), tags.end());
	p.l3 += tags.size();
	p.l4 += tags.size();
	return p;
}

Packet tcp_flags(uint8_t flags, uint16_t dport = 22)
{
	return Packet::tcp(A4, R4, 40000, dport, flags);
}

struct Case {
	std::string what;
	Packet pkt;
	int action;
};

} // namespace

TEST_CASE("hostile packets: the table")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kRules);

	std::vector<Case> cases;
	auto add = [&](std::string what, Packet p, int action) { cases.push_back({std::move(what), std::move(p), action}); };

	// IPv4 headers.
	add("v4 UDP 500 (accepted by rule 1)", v4(17, udp_hdr(1, 500)), XDP_PASS);
	add("v4 UDP 501 (policy)", v4(17, udp_hdr(1, 501)), XDP_DROP);
	add("v4 options IHL 6, UDP 500", v4(17, udp_hdr(1, 500), 6), XDP_PASS);
	add("v4 options IHL 15, UDP 500", v4(17, udp_hdr(1, 500), 15), XDP_PASS);
	add("v4 options IHL 15, UDP 501", v4(17, udp_hdr(1, 501), 15), XDP_DROP);
	for (int ihl : {0, 1, 4}) {
		Packet p = v4(17, udp_hdr(1, 500));
		p.bytes[14] = (uint8_t)(0x40 | ihl);
		add("v4 IHL " + std::to_string(ihl) + " (< 5)", p, XDP_DROP);
	}
	{
		Packet p = v4(17, udp_hdr(1, 500), 0);
		p.bytes[14] = 0x4f; // IHL 15: 60 bytes, but only 20 + 16 there
		p.bytes.resize(14 + 20 + 16);
		add("v4 IHL 15 beyond the packet", p, XDP_DROP);
	}
	for (uint16_t tot : {0, 1, 19}) {
		Packet p = v4(17, udp_hdr(1, 500));
		p.bytes[16] = (uint8_t)(tot >> 8), p.bytes[17] = (uint8_t)tot;
		add("v4 total length " + std::to_string(tot) + " (< header)", p, XDP_DROP);
	}
	{
		Packet p = v4(17, udp_hdr(1, 500));
		p.bytes[16] = 0x05, p.bytes[17] = 0xdc; // 1500, frame shorter
		add("v4 total length > frame: rule verdict (the stack drops it)", p, XDP_PASS);
	}
	{
		Packet p = v4(17, udp_hdr(1, 500));
		p.bytes[14] = 0x65; // version 6 in an IPv4 frame
		add("v4 ethertype with version 6", p, XDP_DROP);
	}
	{
		Packet p = v4(17, udp_hdr(1, 500));
		p.bytes[12] = 0x86, p.bytes[13] = 0xdd; // IPv6 ethertype on an IPv4 packet
		add("v6 ethertype with an IPv4 header", p, XDP_DROP);
	}

	// TCP.
	for (int doff : {0, 4}) {
		Packet p = tcp_flags(0x02);
		p.bytes[p.l4 + 12] = (uint8_t)(doff << 4);
		add("TCP data offset " + std::to_string(doff) + " (< 5): policy", p, XDP_DROP);
	}
	// Flag combinations no TCP sends: the connection tracker drops them
	// as invalid before any rule; odd but possible ones meet the rules.
	for (uint8_t f : {0x00, 0x03, 0x06, 0x07, 0xff})
		add("TCP flags " + std::to_string(f) + " to 22: invalid (conntrack)", tcp_flags(f), XDP_DROP);
	for (uint8_t f : {0x01, 0x29, 0x12, 0x18})
		add("TCP flags " + std::to_string(f) + " to 22: rule verdict", tcp_flags(f), XDP_PASS);
	add("TCP flags 0xff to 23: policy", tcp_flags(0xff, 23), XDP_DROP);
	{
		Packet p = v4(6, Packet::ports_header(1, 22, 12)); // 12 of 20 bytes
		add("TCP header cut at 12 bytes", p, XDP_DROP);
	}
	add("ICMP echo", Packet::icmp(A4, R4, 8), XDP_PASS);
	{
		Packet p = Packet::icmp(A4, R4, 8);
		p.bytes.resize(p.l4 + 4);
		p.bytes[17] = 24;
		add("ICMP header cut at 4 bytes", p, XDP_DROP);
	}

	// IPv6 extension headers (HOP 0, ROUTING 43, FRAG 44, DST 60).
	add("v6 UDP 500", v6({}, 17, udp_hdr(1, 500)), XDP_PASS);
	add("v6 hop-by-hop, UDP 500", v6({{0, 8}}, 17, udp_hdr(1, 500)), XDP_PASS);
	add("v6 hop-by-hop, UDP 501", v6({{0, 8}}, 17, udp_hdr(1, 501)), XDP_DROP);
	add("v6 5 extension headers, UDP 500 (the parser's bound)",
	    v6({{0, 8}, {60, 16}, {43, 8}, {60, 8}, {60, 8}}, 17, udp_hdr(1, 500)), XDP_PASS);
	add("v6 6 extension headers, UDP 500: beyond the bound, policy",
	    v6({{0, 8}, {60, 8}, {43, 8}, {60, 8}, {60, 8}, {60, 8}}, 17, udp_hdr(1, 500)), XDP_DROP);
	add("v6 20 extension headers", v6(std::vector<std::pair<uint8_t, size_t>>(20, {60, 8}), 17, udp_hdr(1, 500)), XDP_DROP);
	{
		Packet p = v6({{60, 8}}, 17, udp_hdr(1, 500));
		p.bytes[55] = 255; // claims 2048 bytes
		add("v6 extension header longer than the packet", p, XDP_DROP);
	}
	add("v6 chain ending in no-next-header (59)", v6({{60, 8}}, 59, {}), XDP_DROP);
	{
		Packet p = v6({}, 17, udp_hdr(1, 500));
		p.bytes[14] = 0x45; // version 4 in an IPv6 frame
		add("v6 ethertype with version 4", p, XDP_DROP);
	}
	add("ICMPv6 echo", Packet::icmp(A6, R6, 128), XDP_PASS);
	{
		Packet p = v6({{44, 8}}, 17, udp_hdr(1, 501));
		set_frag6(p, 54, 0, false, 77); // atomic fragment: a whole packet
		add("v6 atomic fragment, UDP 501", p, XDP_DROP);
		Packet q = v6({{44, 8}}, 17, udp_hdr(1, 500));
		set_frag6(q, 54, 0, false, 78);
		add("v6 atomic fragment, UDP 500", q, XDP_PASS);
	}

	// VLAN tags.
	add("802.1Q, UDP 500", vlan(v4(17, udp_hdr(1, 500)), {0x8100}), XDP_PASS);
	add("802.1Q, UDP 501", vlan(v4(17, udp_hdr(1, 501)), {0x8100}), XDP_DROP);
	add("QinQ (88a8 + 8100), UDP 500", vlan(v4(17, udp_hdr(1, 500)), {0x88a8, 0x8100}), XDP_PASS);
	add("QinQ, UDP 501", vlan(v4(17, udp_hdr(1, 501)), {0x88a8, 0x8100}), XDP_DROP);
	add("QinQ, v6 UDP 500", vlan(v6({}, 17, udp_hdr(1, 500)), {0x88a8, 0x8100}), XDP_PASS);
	add("three tags, UDP 500: deeper than we look, policy", vlan(v4(17, udp_hdr(1, 500)), {0x88a8, 0x8100, 0x8100}), XDP_DROP);
	{
		Packet p = vlan(v4(17, udp_hdr(1, 500)), {0x8100});
		p.bytes.resize(16);
		add("802.1Q tag cut in half", p, XDP_DROP);
	}
	{
		Packet p = vlan(Packet::arp(), {0x8100});
		add("802.1Q, ARP: not IP, passes", p, XDP_PASS);
	}

	for (auto &c : cases) {
		CAPTURE(c.what);
		CHECK(h.xdp(c.pkt, "vlan2").action == c.action);
	}
}

TEST_CASE("hostile packets: cut at every byte")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kRules);
	struct Base {
		const char *what;
		Packet p;
		size_t l4_hdr; // bytes of L4 header the parser needs
	};
	std::vector<Base> bases = {
		{"v4 UDP 500", v4(17, udp_hdr(1, 500)), 8},
		{"v4 options UDP 500", v4(17, udp_hdr(1, 500), 8), 8},
		{"v4 TCP 22", Packet::tcp(A4, R4, 1, 22), 20},
		{"v4 ICMP", Packet::icmp(A4, R4, 8, 0, 1, std::vector<uint8_t>(8, 0)), 8},
		{"v6 UDP 500", v6({}, 17, udp_hdr(1, 500)), 8},
		{"v6 TCP 22", Packet::tcp(A6, R6, 1, 22), 20},
		{"v6 ICMPv6", Packet::icmp(A6, R6, 128, 0, 1, std::vector<uint8_t>(8, 0)), 8},
		{"v6 hop-by-hop + dst opts, UDP 500", v6({{0, 8}, {60, 16}}, 17, udp_hdr(1, 500)), 8},
		{"QinQ v4 UDP 500", vlan(v4(17, udp_hdr(1, 500)), {0x88a8, 0x8100}), 8},
	};
	int n = 0;
	for (auto &b : bases) {
		REQUIRE(h.xdp(b.p, "vlan2").action == XDP_PASS);
		for (size_t len = 14; len < b.p.bytes.size(); len++) {
			Packet cut = b.p;
			cut.bytes.resize(len);
			// Until the whole L4 header is there: the policy. After
			// it only payload is missing (the IP length says more than
			// the frame holds): the rule's verdict; the stack drops
			// such a packet itself.
			int want = len < b.p.l4 + b.l4_hdr ? XDP_DROP : XDP_PASS;
			CAPTURE(b.what);
			CAPTURE(len);
			CHECK(h.xdp(cut, "vlan2").action == want);
			n++;
		}
	}
	MESSAGE(n << " cut packets");
}

TEST_CASE("hostile packets: fragments never bypass a port rule")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kRules);

	// IPv4.
	auto frag4 = [](uint16_t id, uint8_t proto, uint16_t dport, uint16_t frag_field) {
		Packet p = proto == 6 ? Packet::tcp(A4, R4, 1, dport) : v4(17, udp_hdr(1, dport, 24));
		set_frag4(p, id, frag_field);
		return p;
	};
	CHECK(h.xdp(frag4(1, 17, 500, 0x2000), "vlan2").action == XDP_PASS); // first, accepted
	CHECK(h.xdp(frag4(1, 17, 0, 0x0003), "vlan2").action == XDP_PASS);   // later: first's verdict
	CHECK(h.xdp(frag4(1, 17, 0, 0x0006), "vlan2").action == XDP_PASS);   // last (MF clear)
	CHECK(h.xdp(frag4(2, 17, 501, 0x2000), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(frag4(2, 17, 500, 0x0003), "vlan2").action == XDP_DROP); // "ports" in a later fragment mean nothing
	CHECK(h.xdp(frag4(3, 17, 500, 0x0003), "vlan2").action == XDP_DROP); // no first fragment seen: policy
	CHECK(h.xdp(frag4(1, 6, 22, 0x0003), "vlan2").action == XDP_DROP);   // same id, other protocol: policy
	CHECK(h.xdp(frag4(1, 6, 22, 0x0001), "vlan2").action == XDP_DROP);   // offset 8: overlap attempt, other proto
	{
		// A tiny first fragment: TCP ports but not the whole header.
		Packet p = Packet::tcp(A4, R4, 1, 22);
		p.bytes.resize(p.l4 + 8);
		p.bytes[16] = 0, p.bytes[17] = 28;
		set_frag4(p, 4, 0x2000);
		CHECK(h.xdp(p, "vlan2").action == XDP_DROP);
		CHECK(h.xdp(frag4(4, 6, 22, 0x0001), "vlan2").action == XDP_DROP); // follows its first fragment
	}

	// IPv6: first fragment UDP 500 through a fragment header; later ones
	// carry only the fragment header.
	auto first6 = [](uint32_t id, uint16_t dport, std::vector<std::pair<uint8_t, size_t>> ext) {
		ext.insert(ext.begin(), {44, 8});
		Packet p = v6(ext, 17, udp_hdr(1, dport, 24));
		set_frag6(p, 54, 0, true, id);
		return p;
	};
	auto later6 = [](uint32_t id, uint8_t next) {
		Packet p = v6({{44, 8}}, next, std::vector<uint8_t>(32, 0xee));
		set_frag6(p, 54, 5, false, id);
		return p;
	};
	CHECK(h.xdp(first6(10, 500, {}), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(later6(10, 17), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(first6(11, 501, {}), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(later6(11, 17), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(later6(12, 17), "vlan2").action == XDP_DROP); // never saw the first
	// A destination-options header in the fragmentable part: the later
	// fragments' "next header" is that header's type, and their payload is
	// not an extension header to walk.
	CHECK(h.xdp(first6(13, 500, {{60, 8}}), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(later6(13, 60), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(first6(14, 501, {{60, 8}}), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(later6(14, 60), "vlan2").action == XDP_DROP);
}

// Under accept policies the policy is no safety net: what the parser cannot
// judge must be dropped outright where the stack would take it whole.
const char *kAcceptRules = R"({ "version": 1, "policy": {"input": "accept", "forward": "accept"},
  "input": [
    {"action": "drop", "proto": "tcp", "dport": 22},
    {"action": "drop", "proto": "udp", "dport": 501}
  ] })";

TEST_CASE("hostile packets: a first fragment without its whole transport header is dropped (RFC 1858, 3128)")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kAcceptRules);
	auto tiny_tcp = [](uint16_t id, size_t tcp_bytes, size_t frame_pad) {
		// Port 80 is what the policy accepts: what the rest of the
		// header (flags, or a port 22 overlapping it) says is unseen.
		Packet p = Packet::tcp(A4, R4, 1, 80, 0x02);
		p.bytes.resize(p.l4 + tcp_bytes);
		uint16_t tot = (uint16_t)(20 + tcp_bytes);
		p.bytes[16] = (uint8_t)(tot >> 8), p.bytes[17] = (uint8_t)tot;
		set_frag4(p, id, 0x2000);
		// Ethernet padding after the IP datagram, shaped like the rest of
		// a TCP header: bytes the stack trims, never part of the header.
		std::vector<uint8_t> pad(frame_pad, 0);
		if (frame_pad >= 12)
			pad[4] = 5 << 4, pad[5] = 0x10;
		p.bytes.insert(p.bytes.end(), pad.begin(), pad.end());
		return p;
	};
	uint64_t pol = h.policy("input").packets;
	CHECK(h.xdp(tiny_tcp(40, 8, 0), "vlan2").action == XDP_DROP);  // ports, no flags
	CHECK(h.xdp(tiny_tcp(41, 8, 18), "vlan2").action == XDP_DROP); // padded to 60 bytes
	CHECK(h.xdp(tiny_tcp(42, 16, 0), "vlan2").action == XDP_DROP);
	CHECK(h.policy("input").packets == pol); // not the policy's to judge
	// Its later fragments follow it.
	Packet later = Packet::tcp(A4, R4, 1, 80);
	set_frag4(later, 40, 0x0001);
	CHECK(h.xdp(later, "vlan2").action == XDP_DROP);
	// UDP: 4 of 8 bytes.
	Packet u = v4(17, udp_hdr(1, 500));
	u.bytes.resize(u.l4 + 4);
	u.bytes[16] = 0, u.bytes[17] = 24;
	set_frag4(u, 43, 0x2000);
	CHECK(h.xdp(u, "vlan2").action == XDP_DROP);
	// IPv6: a fragment header, then 4 bytes of UDP.
	Packet u6 = v6({{44, 8}}, 17, udp_hdr(1, 500));
	set_frag6(u6, 54, 0, true, 44);
	u6.bytes.resize(u6.l4 + 4);
	u6.bytes[18] = 0, u6.bytes[19] = 12;
	CHECK(h.xdp(u6, "vlan2").action == XDP_DROP);
	// A first fragment with its whole header gets the rules and policy.
	Packet whole = Packet::tcp(A4, R4, 1, 80);
	set_frag4(whole, 45, 0x2000);
	CHECK(h.xdp(whole, "vlan2").action == XDP_PASS);
	Packet whole22 = Packet::tcp(A4, R4, 1, 22);
	set_frag4(whole22, 46, 0x2000);
	CHECK(h.xdp(whole22, "vlan2").action == XDP_DROP);
	// Not a fragment: truncated packets still meet the policy (the stack
	// drops them itself; nothing can be completed by a later fragment).
	Packet cut = Packet::tcp(A4, R4, 1, 22);
	cut.bytes.resize(cut.l4 + 8);
	cut.bytes[16] = 0, cut.bytes[17] = 28;
	CHECK(h.xdp(cut, "vlan2").action == XDP_PASS);
}

TEST_CASE("hostile packets: an IPv6 header chain longer than the parser walks is dropped")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kAcceptRules);
	uint64_t mal = h.stat(FW_STAT_MALFORMED).packets;
	// Five extension headers: walked, judged (rule 2 drops UDP 501).
	CHECK(h.xdp(v6({{0, 8}, {60, 8}, {43, 8}, {60, 8}, {60, 8}}, 17, udp_hdr(1, 500)), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(v6({{0, 8}, {60, 8}, {43, 8}, {60, 8}, {60, 8}}, 17, udp_hdr(1, 501)), "vlan2").action == XDP_DROP);
	// Six: the port is out of sight, so the drop rule could be bypassed.
	CHECK(h.xdp(v6({{0, 8}, {60, 8}, {43, 8}, {60, 8}, {60, 8}, {60, 8}}, 17, udp_hdr(1, 501)), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(v6(std::vector<std::pair<uint8_t, size_t>>(20, {60, 8}), 17, udp_hdr(1, 500)), "vlan2").action == XDP_DROP);
	// Headers so long the upper layer lies beyond where the parser looks.
	CHECK(h.xdp(v6({{0, 256}, {60, 256}, {60, 256}}, 17, udp_hdr(1, 501)), "vlan2").action == XDP_DROP);
	CHECK(h.stat(FW_STAT_MALFORMED).packets == mal + 3);
}

TEST_CASE("hostile packets: neighbour discovery is exempt on input only, never when forwarded")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(R"({ "version": 1, "policy": {"input": "drop", "forward": "drop"} })");
	uint64_t nd = h.stat(FW_STAT_ND).packets;
	// To the router (unicast, solicited-node multicast, all-routers): passes.
	CHECK(h.xdp(Packet::icmp("fe80::2", "ff02::1:ff00:1", 135, 0, 0, std::vector<uint8_t>(16, 0), 255), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(Packet::icmp(A6, R6, 135, 0, 0, std::vector<uint8_t>(16, 0), 255), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(Packet::icmp("fe80::2", "ff02::2", 133, 0, 0, {}, 255), "vlan2").action == XDP_PASS);
	CHECK(h.stat(FW_STAT_ND).packets == nd + 3);
	// Routed through the firewall: the forward chain decides (drop).
	for (uint8_t type : {133, 134, 135, 136, 137}) {
		CAPTURE((int)type);
		CHECK(h.xdp(Packet::icmp(A6, "fd01::2", type, 0, 0, std::vector<uint8_t>(16, 0), 255), "vlan2").action == XDP_DROP);
		CHECK(h.xdp(Packet::icmp("fd01::2", "2001:db8:1::5", type, 0, 0, std::vector<uint8_t>(16, 0), 255), "vlan1").action == XDP_DROP);
	}
	CHECK(h.stat(FW_STAT_ND).packets == nd + 3);
	// Hop limit below 255 is not neighbour discovery: the input policy.
	CHECK(h.xdp(Packet::icmp(A6, R6, 135, 0, 0, std::vector<uint8_t>(16, 0), 254), "vlan2").action == XDP_DROP);
}
