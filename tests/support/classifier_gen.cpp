#include "classifier_gen.h"

#include <algorithm>

namespace fw::test {

Entropy::Entropy(const uint8_t *data, size_t size) : data_(data), size_(size), bytes_(true)
{
	state_ = 1469598103934665603ull; // FNV-1a of the bytes
	for (size_t i = 0; i < size; i++)
		state_ = (state_ ^ data[i]) * 1099511628211ull;
}

uint64_t Entropy::next()
{
	if (bytes_ && pos_ < size_) {
		uint64_t v = 0;
		for (int i = 0; i < 8; i++)
			v = v << 8 | (pos_ < size_ ? data_[pos_++] : 0);
		return v;
	}
	uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t Entropy::below(uint32_t n)
{
	if (n <= 1)
		return 0;
	if (!bytes_ || pos_ >= size_)
		return (uint32_t)(next() % n);
	// From bytes: as few as n needs, so a fuzzer's input goes a long way.
	uint32_t v = 0;
	for (uint64_t span = 1; span < n; span <<= 8)
		v = v << 8 | (pos_ < size_ ? data_[pos_++] : 0);
	return v % n;
}

namespace {

constexpr uint8_t kTcp = 6, kUdp = 17, kSctp = 132, kIcmp = 1, kIcmp6 = 58;
const std::vector<uint8_t> kNamedProtos = {6, 17, 132, 1, 58, 50, 51, 47};

int maxlen(int family)
{
	return family == 4 ? 32 : 128;
}

void set_bit(std::array<uint8_t, 16> &a, int bit, bool on)
{
	uint8_t m = (uint8_t)(0x80 >> (bit % 8));
	a[bit / 8] = on ? (a[bit / 8] | m) : (a[bit / 8] & ~m);
}

Prefix masked(Prefix p)
{
	for (int bit = p.len; bit < 128; bit++)
		set_bit(p.addr, bit, false);
	return p;
}

// A prefix of `family` inside `outer`: its bits, then random ones.
Prefix inside(Entropy &e, const Prefix &outer)
{
	Prefix p = outer;
	int room = maxlen(outer.family) - outer.len;
	p.len = outer.len + (int)e.below((uint32_t)room + 1);
	for (int bit = outer.len; bit < p.len; bit++)
		set_bit(p.addr, bit, e.one_in(2));
	return masked(p);
}

Prefix random_root(Entropy &e, int family, const std::vector<Prefix> &anchors)
{
	if (!anchors.empty() && !e.one_in(8))
		return e.pick(anchors);
	Prefix p;
	p.family = family;
	p.len = family == 4 ? (int)e.pick(std::vector<uint32_t>{0, 8, 16, 24}) : (int)e.pick(std::vector<uint32_t>{0, 32, 48, 64});
	for (int i = 0; i < maxlen(family) / 8; i++)
		p.addr[i] = (uint8_t)e.below(256);
	return masked(p);
}

// A family's prefixes: roots, prefixes nested in them and in each other
// (so they overlap and nest), and hosts.
std::vector<Prefix> prefix_pool(Entropy &e, int family, const std::vector<Prefix> &anchors)
{
	std::vector<Prefix> pool;
	for (uint32_t n = 1 + e.below(3); n; n--)
		pool.push_back(random_root(e, family, anchors));
	for (uint32_t n = 2 + e.below(7); n; n--) {
		Prefix p = inside(e, e.pick(pool));
		if (e.one_in(4)) { // a host inside one of them
			p = e.pick(pool);
			for (int bit = p.len; bit < maxlen(family); bit++)
				set_bit(p.addr, bit, e.one_in(2));
			p.len = maxlen(family);
		}
		pool.push_back(p);
	}
	return pool;
}

// Ranges and single ports, overlapping and nested, with the extremes.
std::vector<PortRange> port_pool(Entropy &e)
{
	std::vector<uint16_t> edges = {1, 65535};
	for (uint32_t n = 2 + e.below(5); n; n--)
		edges.push_back((uint16_t)(1 + e.below(e.one_in(2) ? 1100 : 65535)));
	std::vector<PortRange> pool;
	for (uint32_t n = 2 + e.below(6); n; n--) {
		uint16_t a = e.pick(edges), b = e.one_in(3) ? a : e.pick(edges);
		pool.push_back({std::min(a, b), std::max(a, b)});
	}
	return pool;
}

struct Pools {
	std::vector<Prefix> v4, v6;
	std::vector<PortRange> ports;
	std::vector<uint8_t> protos;
};

uint8_t random_proto(Entropy &e, bool any)
{
	return any && e.one_in(4) ? (uint8_t)e.below(256) : e.pick(kNamedProtos);
}

void add_addresses(Entropy &e, const Pools &pools, Rule &r)
{
	const auto &pool = e.one_in(2) ? pools.v4 : pools.v6;
	switch (e.below(3)) {
	case 0: r.saddr = e.pick(pool); break;
	case 1: r.daddr = e.pick(pool); break;
	default: r.saddr = e.pick(pool), r.daddr = e.pick(pool);
	}
	// "icmp" is IPv4's, "icmpv6" IPv6's: the checker refuses the others.
	int family = r.saddr ? r.saddr->family : r.daddr->family;
	if (r.proto && *r.proto == (family == 4 ? kIcmp6 : kIcmp))
		r.proto = family == 4 ? kIcmp : kIcmp6;
}

Rule random_rule(Entropy &e, const Pools &pools, const GenOptions &o, Chain chain, bool plain)
{
	Rule r;
	r.action = (Action)e.below(3);
	r.log = e.one_in(8);
	if (!plain && !o.ifnames.empty()) {
		if (e.one_in(3))
			r.in = e.pick(o.ifnames);
		if (chain == Chain::forward && e.one_in(3))
			r.out = e.pick(o.ifnames);
	}
	if (e.one_in(3) || (plain && !e.one_in(4)))
		r.proto = e.pick(pools.protos);
	if (!plain && e.one_in(2))
		add_addresses(e, pools, r);
	if (r.matches_everything()) // catch-alls are placed on purpose, below
		r.proto = e.pick(pools.protos);
	if (r.proto && proto_has_ports(*r.proto)) {
		if (e.one_in(2))
			r.sport = e.pick(pools.ports);
		if (!e.one_in(4))
			r.dport = e.pick(pools.ports);
	}
	return r;
}

} // namespace

Ruleset random_ruleset(Entropy &e, const GenOptions &o)
{
	Pools pools{prefix_pool(e, 4, o.anchors4), prefix_pool(e, 6, o.anchors6), port_pool(e), {}};
	for (uint32_t n = 2 + e.below(5); n; n--)
		pools.protos.push_back(random_proto(e, o.random_protos));
	pools.protos.push_back(kTcp);
	pools.protos.push_back(e.one_in(2) ? kUdp : kSctp);
	Ruleset rs;
	rs.policy_input = e.one_in(2) ? Action::accept : Action::drop;
	rs.policy_forward = e.one_in(2) ? Action::accept : Action::drop;
	for (Chain chain : {Chain::input, Chain::forward}) {
		// A third of the chains name no interface or address: the
		// datapath skips those stages for them (FW_CFG_F_CONST_AB).
		bool plain = e.one_in(3);
		auto &rules = chain == Chain::input ? rs.input : rs.forward;
		// Now and then a long chain: rule sets over 64 rules span words.
		uint32_t most = (uint32_t)o.max_rules * (e.one_in(10) ? 6 : 1);
		for (uint32_t n = e.below(most + 1); n; n--)
			rules.push_back(random_rule(e, pools, o, chain, plain));
		if (e.one_in(4)) { // a catch-all ("drop log"), mostly near the end
			Rule all;
			all.action = (Action)e.below(3);
			all.log = e.one_in(2);
			uint32_t from_end = e.below(e.one_in(2) ? 2 : (uint32_t)rules.size() + 1);
			rules.insert(rules.end() - std::min<size_t>(from_end, rules.size()), all);
		}
	}
	return rs;
}

// --- packets -----------------------------------------------------------------

namespace {

void add_edges(std::vector<uint16_t> &edges, const std::optional<PortRange> &r)
{
	if (!r)
		return;
	for (int p : {r->lo - 1, (int)r->lo, (int)r->hi, r->hi + 1})
		if (p >= 0 && p <= 65535)
			edges.push_back((uint16_t)p);
}

// The address one after (+1) or before (-1) a, wrapping within the family.
std::array<uint8_t, 16> step(std::array<uint8_t, 16> a, int family, int delta)
{
	for (int i = maxlen(family) / 8 - 1; i >= 0; i--) {
		a[i] = (uint8_t)(a[i] + delta);
		if (a[i] != (delta > 0 ? 0 : 0xff))
			break;
	}
	return a;
}

void add_edges(PacketPool &pool, const std::optional<Prefix> &p)
{
	if (!p)
		return;
	auto &v = p->family == 4 ? pool.addrs4 : pool.addrs6;
	std::array<uint8_t, 16> last = p->addr;
	for (int bit = p->len; bit < maxlen(p->family); bit++)
		set_bit(last, bit, true);
	for (auto a : {p->addr, last, step(p->addr, p->family, -1), step(last, p->family, 1)})
		v.push_back(a);
}

} // namespace

PacketPool packet_pool(const Ruleset &rs)
{
	PacketPool pool;
	for (const auto *rules : {&rs.input, &rs.forward})
		for (const Rule &r : *rules) {
			add_edges(pool.sports, r.sport);
			add_edges(pool.dports, r.dport);
			add_edges(pool, r.saddr);
			add_edges(pool, r.daddr);
			if (r.proto)
				pool.protos.push_back(*r.proto);
		}
	return pool;
}

uint16_t pool_port(Entropy &e, const std::vector<uint16_t> &edges)
{
	if (!edges.empty() && !e.one_in(5))
		return e.pick(edges);
	return e.one_in(8) ? 0 : (uint16_t)e.below(65536);
}

std::array<uint8_t, 16> pool_addr(Entropy &e, const PacketPool &pool, int family)
{
	const auto &v = family == 4 ? pool.addrs4 : pool.addrs6;
	std::array<uint8_t, 16> a{};
	if (!v.empty() && !e.one_in(5)) {
		a = e.pick(v);
		if (e.one_in(4)) // somewhere past the edge, still near it
			a[maxlen(family) / 8 - 1 - e.below(2)] ^= (uint8_t)(1 + e.below(255));
		return a;
	}
	for (int i = 0; i < maxlen(family) / 8; i++)
		a[i] = (uint8_t)e.below(256);
	return a;
}

uint8_t pool_proto(Entropy &e, const PacketPool &pool, int family)
{
	if (!pool.protos.empty() && !e.one_in(4))
		return e.pick(pool.protos);
	if (e.one_in(3))
		return family == 4 ? kIcmp : kIcmp6;
	return e.one_in(2) ? e.pick(kNamedProtos) : (uint8_t)e.below(256);
}

ClassifierPacket random_packet(Entropy &e, const PacketPool &pool, Chain chain,
			       const std::vector<uint32_t> &ifindexes)
{
	ClassifierPacket p;
	p.family = e.one_in(2) ? 4 : 6;
	p.saddr = pool_addr(e, pool, p.family);
	p.daddr = pool_addr(e, pool, p.family);
	p.proto = pool_proto(e, pool, p.family);
	// A TCP/UDP/SCTP packet has ports (now and then not: a header cut short).
	p.has_ports = proto_has_ports(p.proto) && !e.one_in(16);
	if (p.has_ports) {
		p.sport = pool_port(e, pool.sports);
		p.dport = pool_port(e, pool.dports);
	}
	p.in_ifindex = ifindexes.empty() ? 1 : e.pick(ifindexes);
	p.out_ifindex = chain == Chain::forward && !ifindexes.empty() ? e.pick(ifindexes) : 0;
	return p;
}

std::string describe(const ClassifierPacket &p)
{
	auto end = [&](const std::array<uint8_t, 16> &a, uint16_t port) {
		std::string s = addr_str(p.family, a.data());
		if (!p.has_ports)
			return s;
		return (p.family == 6 ? "[" + s + "]" : s) + ":" + std::to_string(port);
	};
	return "v" + std::to_string(p.family) + " " + end(p.saddr, p.sport) + " -> " + end(p.daddr, p.dport) +
	       " proto " + std::to_string(p.proto) + " in " + std::to_string(p.in_ifindex) + " out " +
	       std::to_string(p.out_ifindex);
}

} // namespace fw::test
