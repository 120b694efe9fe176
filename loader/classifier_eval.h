// The classifier's two references, for tests and the fuzzer (no kernel):
//  - classifier_first_match: the meaning of a chain, a linear first match
//    over the Ruleset, one rule at a time (rules-format.md);
//  - ClassifierImage + classifier_eval: the compiled tables laid out under
//    the keys the runtime writes to the maps (generation included), walked
//    stage by stage exactly as bpf/lib/classify.h walks them.
// The compiler is right when both agree on every packet; tests/unit,
// tests/fuzz and tests/bpf check that (docs/classifier.md).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <vector>

#include "classifier.h"
#include "fw/abi.h"
#include "ruleset.h"

namespace fw {

// What the classifier sees of a packet (struct fw_pkt's fields it reads,
// and the interfaces fw_classify is given).
struct ClassifierPacket {
	uint32_t in_ifindex = 0;
	uint32_t out_ifindex = 0; // 0 in the input chain
	uint8_t family = 4;       // 4 or 6; IPv4 in saddr[0..3]
	std::array<uint8_t, 16> saddr{}, daddr{};
	uint8_t proto = 0;
	bool has_ports = false; // a TCP/UDP/SCTP header: sport and dport are real
	uint16_t sport = 0, dport = 0;
};

// Whether one rule matches the packet (its chain aside).
bool classifier_rule_matches(const Rule &r, const ClassifierPacket &p, const IfindexOf &ifindex_of);

// Index (input rules first, then forward: the generation's numbering) of
// the first rule of `chain` that matches, or FW_RULE_NONE. Interfaces are
// matched by ifindex_of(name) == the packet's ifindex.
uint32_t classifier_first_match(const Ruleset &rs, Chain chain, const ClassifierPacket &p,
				const IfindexOf &ifindex_of);

// The classifier maps of both generations as the runtime fills them: the
// same key structs (fw/abi.h), an LPM trie matched bit by bit over the key
// as the kernel's is, arrays indexed as the datapath indexes them.
struct ClassifierImage {
	std::map<std::vector<uint8_t>, uint32_t> iface, combine; // key bytes -> value
	std::vector<std::pair<fw_addr_key, uint32_t>> addr;
	std::vector<uint32_t> port = std::vector<uint32_t>(FW_PORT_ENTRIES, 0);
	std::vector<uint32_t> proto = std::vector<uint32_t>(FW_PROTO_ENTRIES, 0);
	fw_gen_cfg cfg[FW_GENS] = {};

	// Replaces generation `gen` with `t`, leaving the other one alone (as
	// an apply writes the inactive generation).
	void write(const CompiledTables &t, uint8_t gen);
};

// fw_classify(cfg[gen], gen, chain, ...) over the image: the rule index
// (within the generation) or FW_RULE_NONE.
uint32_t classifier_eval(const ClassifierImage &img, uint8_t gen, uint8_t chain,
			 const ClassifierPacket &p);

} // namespace fw
