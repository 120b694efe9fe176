// A small packet builder for the datapath tests:
//   Packet p = Packet::udp4("192.0.2.2", "192.0.2.1", 1234, 500);
// builds Ethernet + IPv4/IPv6 + L4 with correct checksums; accessors read
// fields back from packets the programs rewrote.
#pragma once

#include <arpa/inet.h>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace fw::test {

inline uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

struct Packet {
	std::vector<uint8_t> bytes;
	size_t l3 = 14, l4 = 0;
	int family = 4;

	static std::vector<uint8_t> addr(int family, const std::string &s)
	{
		std::vector<uint8_t> a(family == 4 ? 4 : 16);
		inet_pton(family == 4 ? AF_INET : AF_INET6, s.c_str(), a.data());
		return a;
	}

	// The generic constructor: proto with an L4 payload already built.
	static Packet ip(const std::string &src, const std::string &dst, uint8_t proto,
			 std::vector<uint8_t> l4, uint8_t ttl = 64)
	{
		Packet p;
		p.family = src.find(':') == std::string::npos ? 4 : 6;
		std::vector<uint8_t> &b = p.bytes;
		uint8_t eth[14] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00};
		if (p.family == 6)
			eth[12] = 0x86, eth[13] = 0xdd;
		b.assign(eth, eth + 14);
		auto s = addr(p.family, src), d = addr(p.family, dst);
		if (p.family == 4) {
			uint16_t tot = (uint16_t)(20 + l4.size());
			uint8_t h[20] = {0x45, 0, (uint8_t)(tot >> 8), (uint8_t)tot, 0x12, 0x34, 0, 0, ttl, proto, 0, 0};
			memcpy(h + 12, s.data(), 4);
			memcpy(h + 16, d.data(), 4);
			uint16_t c = csum_fold(csum_add(0, h, 20));
			h[10] = (uint8_t)(c >> 8), h[11] = (uint8_t)c;
			b.insert(b.end(), h, h + 20);
			p.l4 = 34;
		} else {
			uint16_t plen = (uint16_t)l4.size();
			uint8_t h[40] = {0x60, 0, 0, 0, (uint8_t)(plen >> 8), (uint8_t)plen, proto, ttl};
			memcpy(h + 8, s.data(), 16);
			memcpy(h + 24, d.data(), 16);
			b.insert(b.end(), h, h + 40);
			p.l4 = 54;
		}
		b.insert(b.end(), l4.begin(), l4.end());
		p.fix_l4_checksum(proto);
		return p;
	}

	static std::vector<uint8_t> ports_header(uint16_t sport, uint16_t dport, size_t len)
	{
		std::vector<uint8_t> h(len, 0);
		h[0] = (uint8_t)(sport >> 8), h[1] = (uint8_t)sport;
		h[2] = (uint8_t)(dport >> 8), h[3] = (uint8_t)dport;
		return h;
	}

	static Packet udp(const std::string &src, const std::string &dst, uint16_t sport, uint16_t dport,
			  size_t payload = 16)
	{
		auto h = ports_header(sport, dport, 8 + payload);
		h[4] = (uint8_t)((8 + payload) >> 8), h[5] = (uint8_t)(8 + payload);
		return ip(src, dst, 17, h);
	}

	static Packet tcp(const std::string &src, const std::string &dst, uint16_t sport, uint16_t dport,
			  uint8_t flags = 0x02)
	{
		auto h = ports_header(sport, dport, 20);
		h[12] = 5 << 4;
		h[13] = flags;
		h[14] = 0xff, h[15] = 0xff;
		return ip(src, dst, 6, h);
	}

	static Packet sctp(const std::string &src, const std::string &dst, uint16_t sport, uint16_t dport)
	{
		return ip(src, dst, 132, ports_header(sport, dport, 12));
	}

	// ICMP (v4) or ICMPv6 (v6) echo request/reply or other type.
	static Packet icmp(const std::string &src, const std::string &dst, uint8_t type, uint8_t code = 0,
			   uint16_t id = 0x4242, std::vector<uint8_t> body = {}, uint8_t ttl = 64)
	{
		std::vector<uint8_t> h = {type, code, 0, 0, (uint8_t)(id >> 8), (uint8_t)id, 0, 1};
		h.insert(h.end(), body.begin(), body.end());
		bool v6 = src.find(':') != std::string::npos;
		return ip(src, dst, v6 ? 58 : 1, h, ttl);
	}

	static Packet esp(const std::string &src, const std::string &dst, uint32_t spi = 0x1000)
	{
		std::vector<uint8_t> h(24, 0xab);
		h[0] = (uint8_t)(spi >> 24), h[1] = (uint8_t)(spi >> 16), h[2] = (uint8_t)(spi >> 8), h[3] = (uint8_t)spi;
		return ip(src, dst, 50, h);
	}

	static Packet arp()
	{
		Packet p;
		p.bytes = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 2, 0x08, 0x06};
		p.bytes.resize(42, 0);
		return p;
	}

	uint8_t proto() const { return family == 4 ? bytes[l3 + 9] : bytes[l3 + 6]; }

	void fix_l4_checksum(uint8_t proto)
	{
		size_t len = bytes.size() - l4;
		int off = proto == 6 ? 16 : proto == 17 ? 6 : (proto == 1 || proto == 58) ? 2 : -1;
		if (off < 0 || len < (size_t)off + 2)
			return;
		bytes[l4 + off] = bytes[l4 + off + 1] = 0;
		uint32_t sum = 0;
		if (proto != 1) { // pseudo-header
			size_t alen = family == 4 ? 4 : 16;
			size_t sa = family == 4 ? l3 + 12 : l3 + 8;
			sum = csum_add(sum, &bytes[sa], alen * 2);
			sum += proto;
			sum += (uint32_t)len;
		}
		sum = csum_add(sum, &bytes[l4], len);
		uint16_t c = csum_fold(sum);
		if (proto == 17 && c == 0)
			c = 0xffff;
		bytes[l4 + off] = (uint8_t)(c >> 8), bytes[l4 + off + 1] = (uint8_t)c;
	}

	// Verification helpers for rewritten packets.
	bool ipv4_checksum_ok() const
	{
		return family != 4 || csum_fold(csum_add(0, &bytes[l3], 20)) == 0;
	}
	bool l4_checksum_ok() const
	{
		uint8_t pr = proto();
		size_t len = bytes.size() - l4;
		if (pr == 17 && bytes[l4 + 6] == 0 && bytes[l4 + 7] == 0 && family == 4)
			return true; // UDP without checksum
		uint32_t sum = 0;
		if (pr != 1) {
			size_t alen = family == 4 ? 4 : 16;
			size_t sa = family == 4 ? l3 + 12 : l3 + 8;
			sum = csum_add(sum, &bytes[sa], alen * 2);
			sum += pr;
			sum += (uint32_t)len;
		}
		return csum_fold(csum_add(sum, &bytes[l4], len)) == 0;
	}
	std::string src() const { return text(family == 4 ? l3 + 12 : l3 + 8); }
	std::string dst() const { return text(family == 4 ? l3 + 16 : l3 + 24); }
	uint16_t sport() const { return (uint16_t)(bytes[l4] << 8 | bytes[l4 + 1]); }
	uint16_t dport() const { return (uint16_t)(bytes[l4 + 2] << 8 | bytes[l4 + 3]); }
	std::string text(size_t off) const
	{
		char buf[64];
		inet_ntop(family == 4 ? AF_INET : AF_INET6, &bytes[off], buf, sizeof buf);
		return buf;
	}
};

} // namespace fw::test
