// Shared by the NAT datapath tests (test_nat_icmp.cpp, test_nat_frag.cpp):
// the harness's router addresses, a masquerading pass through XDP and TC,
// and builders of ICMP errors and fragments.
#pragma once

#include <doctest/doctest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "harness.h"

namespace fw::test {

// The router: LAN vlan1 10.1.0.1/16, WAN vlan2 192.0.2.1/24 (harness.h).
inline const std::string WAN_IP = "192.0.2.1", PEER = "198.51.100.7";

inline void fresh(const char *rules)
{
	Harness &h = Harness::get();
	h.down();
	h.apply(rules);
}

// One forwarded LAN -> WAN packet through XDP (vlan1) and TC (vlan2, a
// forwarded skb): the packet as it left.
inline Packet masquerade(const Packet &req)
{
	Harness &h = Harness::get();
	auto in = h.xdp(req, "vlan1");
	CHECK(in.action == XDP_PASS);
	auto eg = h.tc_egress(in.packet(), "vlan2", "vlan1");
	CHECK(eg.action == TC_ACT_OK);
	return eg.packet();
}

inline void ipv4_fix_header(Packet &p)
{
	p.bytes[p.l3 + 10] = p.bytes[p.l3 + 11] = 0;
	uint16_t c = csum_fold(csum_add(0, &p.bytes[p.l3], 20));
	p.bytes[p.l3 + 10] = (uint8_t)(c >> 8), p.bytes[p.l3 + 11] = (uint8_t)c;
}

// An ICMPv4 error from src to dst quoting the whole IP packet of `about`
// (bytes 6-7 of the header: the next-hop MTU of "fragmentation needed").
inline Packet icmp_error(const std::string &src, const std::string &dst, uint8_t type, uint8_t code,
			 const Packet &about, uint16_t mtu = 0)
{
	std::vector<uint8_t> h = {type, code, 0, 0, 0, 0, (uint8_t)(mtu >> 8), (uint8_t)mtu};
	h.insert(h.end(), about.bytes.begin() + (long)about.l3, about.bytes.end());
	return Packet::ip(src, dst, 1, h);
}

inline Packet icmp6_error(const std::string &src, const std::string &dst, uint8_t type, uint8_t code,
			  const Packet &about)
{
	std::vector<uint8_t> h = {type, code, 0, 0, 0, 0, 0, 0};
	h.insert(h.end(), about.bytes.begin() + (long)about.l3, about.bytes.end());
	return Packet::ip(src, dst, 58, h);
}

// The packet an ICMPv4 error quotes, as a Packet of its own.
inline Packet quoted(const Packet &err)
{
	Packet q;
	q.family = 4;
	q.bytes.assign(14, 0);
	q.bytes.insert(q.bytes.end(), err.bytes.begin() + (long)err.l4 + 8, err.bytes.end());
	q.l3 = 14;
	q.l4 = 14 + (size_t)(q.bytes[14] & 0xf) * 4;
	return q;
}

// Splits IPv4 packet `p` into a first fragment carrying `first` bytes of
// its payload (a multiple of 8) and a later one with the rest, IP id `id`.
struct Frags {
	Packet first, later;
};
inline Frags fragment(const Packet &p, size_t first, uint16_t id)
{
	Frags f{p, p};
	size_t hdr = p.l4 - p.l3, payload = p.bytes.size() - p.l4;
	f.first.bytes.resize(p.l4 + first);
	f.later.bytes.erase(f.later.bytes.begin() + (long)p.l4, f.later.bytes.begin() + (long)(p.l4 + first));
	auto set = [&](Packet &x, size_t len, uint16_t fo) {
		x.bytes[x.l3 + 2] = (uint8_t)((hdr + len) >> 8), x.bytes[x.l3 + 3] = (uint8_t)(hdr + len);
		x.bytes[x.l3 + 4] = (uint8_t)(id >> 8), x.bytes[x.l3 + 5] = (uint8_t)id;
		x.bytes[x.l3 + 6] = (uint8_t)(fo >> 8), x.bytes[x.l3 + 7] = (uint8_t)fo;
		ipv4_fix_header(x);
	};
	set(f.first, first, 0x2000);              // MF, offset 0
	set(f.later, payload - first, (uint16_t)(first / 8)); // last fragment
	return f;
}

} // namespace fw::test
