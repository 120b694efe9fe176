// The TCP window check of the connection table: a RST or FIN whose sequence
// number lies outside what the connection has shown cannot tear it down
// (a blind attacker must guess within about a window, as Linux's
// nf_conntrack_proto_tcp demands). docs/conntrack.md, "Sequence window".
#include <doctest/doctest.h>
#include <linux/bpf.h>

#include "conntrack.h"
#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

const char *kRules = R"({ "version": 1, "policy": {"input": "drop", "forward": "drop"},
  "forward": [ {"action": "accept", "in": "vlan1", "out": "vlan2"} ] })";

const uint8_t SYN = 0x02, ACK = 0x10, FIN = 0x01, RST = 0x04, PSH = 0x08;
const std::string L = "10.1.0.2", W = "198.51.100.7";

// A TCP segment with sequence, acknowledgement, window and payload length.
Packet seg(bool from_lan, uint8_t flags, uint32_t seq, uint32_t ack, size_t payload = 0,
	   uint16_t win = 502)
{
	auto h = Packet::ports_header(from_lan ? 40000 : 443, from_lan ? 443 : 40000, 20 + payload);
	for (int i = 0; i < 4; i++) {
		h[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		h[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	h[12] = 5 << 4;
	h[13] = flags;
	h[14] = (uint8_t)(win >> 8), h[15] = (uint8_t)win;
	return Packet::ip(from_lan ? L : W, from_lan ? W : L, 6, h);
}

std::string state()
{
	auto c = conntrack_list(Harness::get().runtime());
	REQUIRE(c.size() == 1);
	return ct_state_name(c[0]);
}

// LAN client ISN 1000, server ISN 700000; 100 bytes each way.
void handshake(Harness &h)
{
	h.down();
	h.apply(kRules);
	REQUIRE(h.xdp(seg(true, SYN, 1000, 0), "vlan1").action == XDP_PASS);
	REQUIRE(h.xdp(seg(false, SYN | ACK, 700000, 1001), "vlan2").action == XDP_PASS);
	REQUIRE(h.xdp(seg(true, ACK, 1001, 700001), "vlan1").action == XDP_PASS);
	REQUIRE(h.xdp(seg(true, ACK | PSH, 1001, 700001, 100), "vlan1").action == XDP_PASS);
	REQUIRE(h.xdp(seg(false, ACK | PSH, 700001, 1101, 100), "vlan2").action == XDP_PASS);
	REQUIRE(h.xdp(seg(true, ACK, 1101, 700101), "vlan1").action == XDP_PASS);
	REQUIRE(state() == "established");
}

} // namespace

TEST_CASE("TCP window: a RST far from the window is dropped and the connection lives")
{
	Harness &h = Harness::get();
	handshake(h);
	uint64_t inv = h.stat(FW_STAT_CT_INVALID).packets;
	// From outside, guesses a million and two billion bytes off, ahead and
	// behind; and from the inside.
	for (uint32_t off : {1000000u, 2000000000u, (uint32_t)-1000000, (uint32_t)-70000}) {
		CAPTURE(off);
		CHECK(h.xdp(seg(false, RST, 700101 + off, 0), "vlan2").action == XDP_DROP);
		CHECK(h.xdp(seg(false, RST | ACK, 700101 + off, 1101), "vlan2").action == XDP_DROP);
		CHECK(h.xdp(seg(true, RST, 1101 + off, 0), "vlan1").action == XDP_DROP);
		CHECK(state() == "established");
	}
	CHECK(h.stat(FW_STAT_CT_INVALID).packets == inv + 12);
	// The connection carries on.
	CHECK(h.xdp(seg(false, ACK | PSH, 700101, 1101, 10), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(seg(true, ACK, 1101, 700111), "vlan1").action == XDP_PASS);
	// The real RST (the server's next sequence number) ends it.
	CHECK(h.xdp(seg(false, RST | ACK, 700111, 1101), "vlan2").action == XDP_PASS);
	CHECK(state() == "close");
}

TEST_CASE("TCP window: an out-of-window FIN changes nothing; the real close still works")
{
	Harness &h = Harness::get();
	handshake(h);
	CHECK(h.xdp(seg(false, FIN | ACK, 700101 + 5000000, 1101), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(seg(true, FIN | ACK, 1101 - 3000000, 700101), "vlan1").action == XDP_DROP);
	CHECK(state() == "established");
	// The server's real FIN (its next sequence number) closes its side.
	CHECK(h.xdp(seg(false, FIN | ACK, 700101, 1101), "vlan2").action == XDP_PASS);
	CHECK(state() == "fin_wait");
	CHECK(h.xdp(seg(true, ACK, 1101, 700102), "vlan1").action == XDP_PASS);
	// Retransmitted FIN (its ACK was lost beyond the firewall): passes.
	CHECK(h.xdp(seg(false, FIN | ACK, 700101, 1101), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(seg(true, FIN | ACK, 1101, 700102), "vlan1").action == XDP_PASS);
	CHECK(state() == "time_wait");
}

TEST_CASE("TCP window: a RST answering the peer's data (seq = its ACK) is accepted")
{
	Harness &h = Harness::get();
	handshake(h);
	// The server lost its state and answers the client's next segment with
	// a RST whose sequence number is that segment's acknowledgement.
	CHECK(h.xdp(seg(true, ACK | PSH, 1101, 700101, 50), "vlan1").action == XDP_PASS);
	CHECK(h.xdp(seg(false, RST, 700101, 0), "vlan2").action == XDP_PASS);
	CHECK(state() == "close");
}

TEST_CASE("TCP window: connections picked up mid-stream are judged once both sides were seen")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kRules);
	// Picked up (no SYN): nothing known yet about the server's numbers, so
	// its first RST is believed, as before the window check.
	REQUIRE(h.xdp(seg(true, ACK, 5000, 9000), "vlan1").action == XDP_PASS);
	CHECK(h.xdp(seg(false, RST, 123456789, 0), "vlan2").action == XDP_PASS);
	CHECK(state() == "close");
	// Once both directions were seen, blind guesses are refused.
	h.down();
	h.apply(kRules);
	REQUIRE(h.xdp(seg(true, ACK | PSH, 5000, 9000, 10), "vlan1").action == XDP_PASS);
	REQUIRE(h.xdp(seg(false, ACK, 9000, 5010), "vlan2").action == XDP_PASS);
	CHECK(h.xdp(seg(false, RST, 123456789, 0), "vlan2").action == XDP_DROP);
	CHECK(h.xdp(seg(true, RST, 987654321, 0), "vlan1").action == XDP_DROP);
	CHECK(state() == "established");
	CHECK(h.xdp(seg(true, RST, 5010, 0), "vlan1").action == XDP_PASS);
	CHECK(state() == "close");
}
