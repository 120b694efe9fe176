// Random rulesets and packets for proving the classifier (tests/unit,
// tests/fuzz, tests/bpf): rules share a few prefixes (nested, overlapping,
// both families), port ranges (nested, overlapping, the extremes),
// protocols and interfaces, so they overlap; packets are drawn mostly at
// the rules' edges (a range's first and last port and the ports beside
// them, a prefix's first and last address and the addresses beside them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "classifier_eval.h"
#include "ruleset.h"

namespace fw::test {

// Where choices come from: a seeded generator (splitmix64; the same on
// every platform) or a fuzzer's bytes (then, once they run out, the
// generator seeded with their hash).
class Entropy {
public:
	explicit Entropy(uint64_t seed) : state_(seed) {}
	Entropy(const uint8_t *data, size_t size);
	uint64_t next();
	uint32_t below(uint32_t n); // [0, n); 0 when n is 0
	bool one_in(uint32_t n) { return below(n) == 0; }
	template <class T> const T &pick(const std::vector<T> &v) { return v[below((uint32_t)v.size())]; }

private:
	uint64_t state_ = 0;
	const uint8_t *data_ = nullptr;
	size_t size_ = 0, pos_ = 0;
	bool bytes_ = false;
};

struct GenOptions {
	std::vector<std::string> ifnames; // names rules may give in "in"/"out"
	size_t max_rules = 24;            // per chain (one chain in ten: 6 times as many)
	// Rule prefixes grow inside these (plus random ones when empty).
	std::vector<Prefix> anchors4, anchors6;
	bool random_protos = true; // any protocol number, not only the named ones
};

Ruleset random_ruleset(Entropy &e, const GenOptions &o);

// The values a ruleset's edges suggest, to draw packets from.
struct PacketPool {
	std::vector<uint16_t> sports, dports;
	std::vector<std::array<uint8_t, 16>> addrs4, addrs6;
	std::vector<uint8_t> protos;
};
PacketPool packet_pool(const Ruleset &rs);

uint16_t pool_port(Entropy &e, const std::vector<uint16_t> &edges);
std::array<uint8_t, 16> pool_addr(Entropy &e, const PacketPool &pool, int family);
uint8_t pool_proto(Entropy &e, const PacketPool &pool, int family);

// A packet for `chain`: in from ifindexes (out too, in forward; 0 in input).
ClassifierPacket random_packet(Entropy &e, const PacketPool &pool, Chain chain,
			       const std::vector<uint32_t> &ifindexes);

// For failure messages: "v4 10.0.0.1:5 -> 10.0.0.2:80 proto 6 in 2 out 3".
std::string describe(const ClassifierPacket &p);

} // namespace fw::test
