// The forwarding fast path: what it redirects, how it rewrites, and every
// case it must leave to the stack.
#include <doctest/doctest.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <cstdlib>
#include <unistd.h>

#include "harness.h"
#include "ipsec_guard.h"

using namespace fw;
using namespace fw::test;

namespace {

// An XDP program on wan1 makes vlan2 (its veth peer) able to transmit
// redirected frames, as a real NIC always is.
struct PeerXdp {
	int prog = -1;
	uint32_t ifindex;
	explicit PeerXdp(const std::string &peer) : ifindex(Harness::get().ifindex(peer))
	{
		struct bpf_insn insns[] = {
			{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS},
			{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
		};
		prog = bpf_prog_load(BPF_PROG_TYPE_XDP, "peer", "GPL", insns, 2, nullptr);
		REQUIRE(prog >= 0);
		REQUIRE(bpf_xdp_attach((int)ifindex, prog, XDP_FLAGS_DRV_MODE, nullptr) == 0);
	}
	~PeerXdp()
	{
		bpf_xdp_detach((int)ifindex, XDP_FLAGS_DRV_MODE, nullptr);
		close(prog);
	}
};

// Only the router's own interfaces: the peers' XDP is the test's to set.
const char *kRules = R"({ "fastpath": true, "interfaces": ["vlan1", "vlan2"], "policy": {"forward": "drop"},
  "forward": [ {"action": "accept", "in": "vlan1", "out": "vlan2"} ] })";

} // namespace

TEST_CASE("fast path: accepted forwarded packets are redirected, rewritten as the stack would")
{
	Harness &h = Harness::get();
	h.down();
	PeerXdp peer("wan1");
	h.apply(kRules);
	uint64_t before = h.stat(FW_STAT_FASTPATH).packets;
	Packet p = Packet::udp("10.1.0.2", "198.51.100.7", 40000, 53);
	auto r = h.xdp(p, "vlan1");
	CHECK(r.action == XDP_REDIRECT);
	CHECK(h.stat(FW_STAT_FASTPATH).packets == before + 1);
	Packet out = r.packet();
	CHECK(out.bytes[14 + 8] == 63); // TTL 64 - 1
	CHECK(out.ipv4_checksum_ok());
	CHECK(out.l4_checksum_ok());
	// Next hop 192.0.2.2's MAC (static neighbour), from vlan2's own MAC.
	const uint8_t gw[6] = {0x02, 0, 0, 0, 0x02, 0x02};
	CHECK(std::equal(gw, gw + 6, out.bytes.begin()));
	CHECK(h.rule("forward", 1).packets == 1); // counted before leaving
	// The reply belongs to the connection: redirected back too... only if
	// vlan1 could transmit XDP frames; lan1 has no XDP, so: the stack.
	auto back = h.xdp(Packet::udp("198.51.100.7", "10.1.0.2", 53, 40000), "vlan2");
	CHECK(back.action == XDP_PASS);
	CHECK(h.stat(FW_STAT_CT_ESTABLISHED).packets >= 1);
	// An established packet of the first flow takes the fast path again.
	CHECK(h.xdp(p, "vlan1").action == XDP_REDIRECT);
}

TEST_CASE("fast path: IPsec, TTL 1, input traffic, drops and the default stay off it")
{
	Harness &h = Harness::get();
	h.down();
	PeerXdp peer("wan1");
	h.apply(kRules);
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 500, 500), "vlan1").action == XDP_PASS);
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 4500, 4500), "vlan1").action == XDP_PASS);
	CHECK(h.xdp(Packet::esp("10.1.0.2", "198.51.100.7"), "vlan1").action == XDP_PASS);
	Packet ttl1 = Packet::ip("10.1.0.2", "198.51.100.7", 17, Packet::ports_header(1, 2, 8), 1);
	CHECK(h.xdp(ttl1, "vlan1").action == XDP_PASS); // the stack sends time exceeded
	CHECK(h.xdp(Packet::udp("10.1.0.2", "10.1.0.1", 1, 2), "vlan1").action == XDP_PASS); // input
	CHECK(h.xdp(Packet::udp("192.0.2.2", "10.1.0.2", 1, 2), "vlan2").action == XDP_DROP);
	h.down();
	h.apply(R"({"fastpath": false, "interfaces": ["vlan1", "vlan2"],
	  "forward": [ {"action": "accept", "in": "vlan1", "out": "vlan2"} ] })");
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 40001, 53), "vlan1").action == XDP_PASS);
}

TEST_CASE("fast path: on by default, off while kernel IPsec policies for forwarded packets exist")
{
	Harness &h = Harness::get();
	h.down();
	PeerXdp peer("wan1");
	const char *rules = R"({"interfaces": ["vlan1", "vlan2"],
	  "forward": [ {"action": "accept", "in": "vlan1", "out": "vlan2"} ] })";
	h.apply_as_written(rules); // no "fastpath" key
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 40010, 53), "vlan1").action == XDP_REDIRECT);

	// A policy installed after apply (a CHILD_SA coming up): the guard that
	// `fwctl watch` writes on the XFRM event takes the fast path off.
	auto ip = [](const std::string &args) { return system(("ip " + args + " 2>/dev/null").c_str()); };
	REQUIRE(ip("xfrm policy add src 10.1.0.0/16 dst 198.51.100.0/24 dir out "
		   "tmpl src 192.0.2.1 dst 192.0.2.2 proto esp mode tunnel") == 0);
	CHECK(sync_ipsec_guard(h.pin_dir));
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 40011, 53), "vlan1").action == XDP_PASS);
	// apply reads them too.
	h.down();
	h.apply_as_written(rules);
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 40012, 53), "vlan1").action == XDP_PASS);
	ip("xfrm policy flush");
	CHECK_FALSE(sync_ipsec_guard(h.pin_dir));
	// The guard is off again, but policies were seen (lib/xfrm_fast.h): a
	// flow's first packet takes the stack, which would encrypt it if a
	// policy covered it; once it has left in the clear (TC egress stamps
	// its entry), the fast path takes the next one.
	auto clear_then_fast = [&](uint16_t sport) {
		Packet p = Packet::udp("10.1.0.2", "198.51.100.7", sport, 53);
		CHECK(h.xdp(p, "vlan1").action == XDP_PASS);
		CHECK(h.tc_egress(p, "vlan2", "vlan1").action == TC_ACT_OK);
		CHECK(h.xdp(p, "vlan1").action == XDP_REDIRECT);
	};
	clear_then_fast(40013);

	// Input and socket policies concern this host's own traffic only.
	REQUIRE(ip("xfrm policy add src 198.51.100.0/24 dst 10.1.0.1/32 dir in "
		   "tmpl src 192.0.2.2 dst 192.0.2.1 proto esp mode tunnel") == 0);
	CHECK_FALSE(sync_ipsec_guard(h.pin_dir));
	clear_then_fast(40014);
	ip("xfrm policy flush");
}

TEST_CASE("fast path: an egress device that cannot take XDP frames is never a target")
{
	Harness &h = Harness::get();
	h.down();
	h.apply(kRules); // wan1 has no XDP program: vlan2 cannot transmit redirected frames
	CHECK(h.xdp(Packet::udp("10.1.0.2", "198.51.100.7", 40002, 53), "vlan1").action == XDP_PASS);
}

namespace {

// Masquerade out of vlan2 and a port forward to 10.1.0.2 (the LAN host with
// a neighbour entry), with the fast path on.
const char *kNatRules = R"({ "fastpath": true, "interfaces": ["vlan1", "vlan2"],
  "policy": {"input": "drop", "forward": "drop"},
  "forward": [ {"action": "accept", "in": "vlan1", "out": "vlan2"},
               {"action": "accept", "in": "vlan2", "out": "vlan1", "proto": "tcp", "dport": 9000} ],
  "nat": [ {"out": "vlan2"} ],
  "port-forward": [ {"in": "vlan2", "proto": "tcp", "dport": 8000, "to-daddr": "10.1.0.2", "to-dport": 9000} ] })";

const uint8_t kLanMac[6] = {0x02, 0, 0, 0, 0x01, 0x02}, kWanGwMac[6] = {0x02, 0, 0, 0, 0x02, 0x02};

bool dest_mac_is(const Packet &p, const uint8_t *mac)
{
	return std::equal(mac, mac + 6, p.bytes.begin());
}

// The TCP checksum field as a stack that offloads it leaves it
// (CHECKSUM_PARTIAL): the pseudo-header's sum, not complemented.
Packet with_partial_checksum(Packet p)
{
	size_t len = p.bytes.size() - p.l4;
	uint32_t sum = csum_add(0, &p.bytes[p.l3 + 12], 8) + p.proto() + (uint32_t)len;
	uint16_t c = (uint16_t)~csum_fold(sum);
	p.bytes[p.l4 + 16] = (uint8_t)(c >> 8), p.bytes[p.l4 + 17] = (uint8_t)c;
	return p;
}

} // namespace

TEST_CASE("fast path with masquerade: later packets leave translated from XDP, both ways")
{
	Harness &h = Harness::get();
	h.down();
	PeerXdp wan("wan1"), lan("lan1");
	h.apply(kNatRules);
	const uint8_t SYN = 0x02, ACK = 0x10;

	// The connection's first packet goes through the stack: TC egress
	// translates it with the entry the ingress just made.
	auto syn = h.xdp(Packet::tcp("10.1.0.2", "198.51.100.7", 41000, 443, SYN), "vlan1");
	REQUIRE(syn.action == XDP_PASS);
	CHECK(syn.packet().src() == "10.1.0.2");
	auto syn_out = h.tc_egress(syn.packet(), "vlan2").packet();
	CHECK(syn_out.src() == "192.0.2.1");

	// The answer: translated back and redirected to the LAN host.
	uint64_t fast = h.stat(FW_STAT_FASTPATH).packets;
	auto sa = h.xdp(Packet::tcp("198.51.100.7", "192.0.2.1", 443, syn_out.sport(), SYN | ACK), "vlan2");
	CHECK(sa.action == XDP_REDIRECT);
	Packet sa_out = sa.packet();
	CHECK(sa_out.dst() == "10.1.0.2");
	CHECK(sa_out.dport() == 41000);
	CHECK(dest_mac_is(sa_out, kLanMac));
	CHECK(sa_out.ipv4_checksum_ok());
	CHECK(sa_out.l4_checksum_ok());

	// Then the LAN host's packets: source rewritten here, not on egress.
	auto ack = h.xdp(Packet::tcp("10.1.0.2", "198.51.100.7", 41000, 443, ACK), "vlan1");
	CHECK(ack.action == XDP_REDIRECT);
	Packet ack_out = ack.packet();
	CHECK(ack_out.src() == "192.0.2.1");
	CHECK(ack_out.sport() == syn_out.sport());
	CHECK(ack_out.dst() == "198.51.100.7");
	CHECK(ack_out.bytes[ack_out.l3 + 8] == 63); // TTL
	CHECK(dest_mac_is(ack_out, kWanGwMac));
	CHECK(ack_out.ipv4_checksum_ok());
	CHECK(ack_out.l4_checksum_ok());
	CHECK(h.stat(FW_STAT_FASTPATH).packets == fast + 2);
}

TEST_CASE("fast path with a port forward: requests and replies translated from XDP")
{
	Harness &h = Harness::get();
	h.down();
	PeerXdp wan("wan1"), lan("lan1");
	h.apply(kNatRules);
	const uint8_t SYN = 0x02, ACK = 0x10;

	auto syn = h.xdp(Packet::tcp("198.51.100.7", "192.0.2.1", 50000, 8000, SYN), "vlan2");
	REQUIRE(syn.action == XDP_PASS); // the first packet: the stack
	CHECK(syn.packet().dst() == "10.1.0.2");
	CHECK(syn.packet().dport() == 9000);

	auto sa = h.xdp(Packet::tcp("10.1.0.2", "198.51.100.7", 9000, 50000, SYN | ACK), "vlan1");
	CHECK(sa.action == XDP_REDIRECT);
	Packet sa_out = sa.packet();
	CHECK(sa_out.src() == "192.0.2.1");
	CHECK(sa_out.sport() == 8000);
	CHECK(sa_out.l4_checksum_ok());

	auto ack = h.xdp(Packet::tcp("198.51.100.7", "192.0.2.1", 50000, 8000, ACK), "vlan2");
	CHECK(ack.action == XDP_REDIRECT);
	Packet ack_out = ack.packet();
	CHECK(ack_out.dst() == "10.1.0.2");
	CHECK(ack_out.dport() == 9000);
	CHECK(dest_mac_is(ack_out, kLanMac));
	CHECK(ack_out.l4_checksum_ok());
}

TEST_CASE("fast path: a checksum left to the hardware, or a wrong one, takes the stack")
{
	Harness &h = Harness::get();
	h.down();
	PeerXdp wan("wan1");
	h.apply(kRules);
	const uint8_t ACK = 0x10;
	Packet good = Packet::tcp("10.1.0.2", "198.51.100.7", 42000, 443, ACK);
	CHECK(h.xdp(good, "vlan1").action == XDP_REDIRECT);

	// A local stack's offloaded checksum (CHECKSUM_PARTIAL, invisible to
	// XDP): a redirect would deliver it unfinished. The stack finishes it.
	auto partial = h.xdp(with_partial_checksum(good), "vlan1");
	CHECK(partial.action == XDP_PASS);
	CHECK(partial.packet().bytes == with_partial_checksum(good).bytes); // untouched

	Packet bad = good;
	bad.bytes[bad.l4 + 17] ^= 0x5a;
	CHECK(h.xdp(bad, "vlan1").action == XDP_PASS);

	// No UDP checksum at all: nothing to check by, and a tunnel's outer
	// header goes without one while its inner sum is the unfinished one
	// (VXLAN from a local stack).
	Packet nosum = Packet::udp("10.1.0.2", "198.51.100.7", 4789, 4789, 64);
	nosum.bytes[nosum.l4 + 6] = nosum.bytes[nosum.l4 + 7] = 0;
	CHECK(h.xdp(nosum, "vlan1").action == XDP_PASS);
	nosum.fix_l4_checksum(17);
	CHECK(h.xdp(nosum, "vlan1").action == XDP_REDIRECT);

	// Checked for every length: odd tails, blocks of 4 to 512 bytes.
	// (n + 8 bytes of UDP: 55 and 56 are either side of the block sums.)
	for (size_t n : {1, 2, 3, 4, 5, 7, 24, 31, 55, 56, 63, 100, 127, 255, 300, 511, 512, 513, 777, 1000, 1023, 1400, 1472}) {
		Packet u = Packet::udp("10.1.0.2", "198.51.100.7", 43000, 53, n);
		for (size_t i = u.l4 + 8; i < u.bytes.size(); i++)
			u.bytes[i] = (uint8_t)(i * 7 + 3);
		u.fix_l4_checksum(17);
		CAPTURE(n);
		CHECK(h.xdp(u, "vlan1").action == XDP_REDIRECT);
		u.bytes.back() ^= 0x01;
		CHECK(h.xdp(u, "vlan1").action == XDP_PASS);
	}
	// IPv6 and ICMP are checked the same way.
	Packet v6 = Packet::tcp("fd01::2", "2001:db8:1::7", 42001, 443, ACK);
	CHECK(h.xdp(v6, "vlan1").action == XDP_REDIRECT);
	v6.bytes[v6.l4 + 16] ^= 0x10;
	CHECK(h.xdp(v6, "vlan1").action == XDP_PASS);
}

// What the stack would not forward as it is must not be redirected either:
// IPv4 options (ip_forward_options, source routes), an IPv6 hop-by-hop
// header (router alert and friends are the stack's), and frames not sent
// to the interface's own MAC (ip_forward drops PACKET_BROADCAST,
// PACKET_MULTICAST and PACKET_OTHERHOST).
TEST_CASE("fast path: IPv4 options, IPv6 hop-by-hop and frames for other MACs take the stack")
{
	Harness &h = Harness::get();
	h.down();
	PeerXdp peer("wan1");
	h.apply(kRules);
	const std::string L = "10.1.0.2", W = "198.51.100.7", L6 = "fd01::2", W6 = "2001:db8:1::5";
	CHECK(h.xdp(Packet::udp(L, W, 41000, 53), "vlan1").action == XDP_REDIRECT);
	CHECK(h.xdp(Packet::udp(L6, W6, 41000, 53), "vlan1").action == XDP_REDIRECT);
	uint64_t fast = h.stat(FW_STAT_FASTPATH).packets;

	// IPv4 with one option word (router alert, 94 04 00 00).
	Packet opt = Packet::udp(L, W, 41001, 53);
	opt.bytes.insert(opt.bytes.begin() + 34, {0x94, 0x04, 0x00, 0x00});
	opt.bytes[14] = 0x46;
	uint16_t tot = (uint16_t)(opt.bytes.size() - 14);
	opt.bytes[16] = (uint8_t)(tot >> 8), opt.bytes[17] = (uint8_t)tot;
	opt.bytes[24] = opt.bytes[25] = 0;
	uint16_t c = csum_fold(csum_add(0, &opt.bytes[14], 24));
	opt.bytes[24] = (uint8_t)(c >> 8), opt.bytes[25] = (uint8_t)c;
	opt.l4 = 38;
	CHECK(h.xdp(opt, "vlan1").action == XDP_PASS);

	// IPv6 with a hop-by-hop header (8 bytes of padding options).
	Packet hbh = Packet::udp(L6, W6, 41002, 53);
	std::vector<uint8_t> hh = {17, 0, 1, 4, 0, 0, 0, 0}; // next UDP, PadN
	hbh.bytes.insert(hbh.bytes.begin() + 54, hh.begin(), hh.end());
	hbh.bytes[20] = 0; // next header: hop-by-hop
	uint16_t plen = (uint16_t)(hbh.bytes.size() - 54);
	hbh.bytes[18] = (uint8_t)(plen >> 8), hbh.bytes[19] = (uint8_t)plen;
	hbh.l4 = 62;
	CHECK(h.xdp(hbh, "vlan1").action == XDP_PASS);

	// Frames to broadcast, multicast and another host's MAC.
	for (auto mac : {std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			 std::vector<uint8_t>{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01},
			 std::vector<uint8_t>{0x33, 0x33, 0x00, 0x00, 0x00, 0x01},
			 std::vector<uint8_t>{0x02, 0x00, 0x00, 0x00, 0x00, 0x99}}) {
		CAPTURE((int)mac[0]);
		CAPTURE((int)mac[5]);
		Packet p = Packet::udp(L, W, 41003, 53);
		std::copy(mac.begin(), mac.end(), p.bytes.begin());
		CHECK(h.xdp(p, "vlan1").action == XDP_PASS);
		Packet p6 = Packet::udp(L6, W6, 41003, 53);
		std::copy(mac.begin(), mac.end(), p6.bytes.begin());
		CHECK(h.xdp(p6, "vlan1").action == XDP_PASS);
	}
	CHECK(h.stat(FW_STAT_FASTPATH).packets == fast);
	// Still redirected when addressed to the router.
	CHECK(h.xdp(Packet::udp(L, W, 41004, 53), "vlan1").action == XDP_REDIRECT);
}
