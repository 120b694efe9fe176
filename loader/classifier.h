// The compiler: a checked Ruleset -> the classifier tables of one
// generation (see bpf/lib/classify.h for how the datapath reads them).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "fw/abi.h"
#include "ruleset.h"

namespace fw {

// ifindex of an interface in this network namespace, 0 when it has none.
using IfindexOf = std::function<uint32_t(const std::string &)>;

struct CompileError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

struct IfaceEntry {
	uint32_t ifindex;
	uint8_t chain, dir;
	uint32_t cls;
};

struct AddrEntry {
	uint8_t chain, family, dir;
	uint8_t len; // prefix length
	std::array<uint8_t, 16> addr;
	uint32_t cls;
};

struct CombineEntry {
	uint8_t chain, stage;
	uint32_t a, b, value;
};

// Everything but the generation number, which the runtime adds when it
// writes the tables into the inactive generation.
struct CompiledTables {
	std::vector<IfaceEntry> ifaces;
	std::vector<AddrEntry> addrs;
	std::vector<CombineEntry> combines;
	std::vector<uint32_t> ports[FW_CHAINS][2]; // FW_PORT_SLOTS each
	std::vector<uint32_t> protos[FW_CHAINS];   // 256 each
	std::vector<fw_rule> rules;                // by rule index; counter_slot left 0
	uint32_t catchall[FW_CHAINS] = {FW_RULE_NONE, FW_RULE_NONE};
	uint32_t iface_default_class[FW_CHAINS][2] = {};
	// Per chain: no rule names an interface or address, so every packet
	// has the same AB class, const_ab (FW_CLASS_NONE: the empty set).
	bool ab_constant[FW_CHAINS] = {};
	uint32_t const_ab[FW_CHAINS] = {FW_CLASS_NONE, FW_CLASS_NONE};
};

// Throws CompileError when the ruleset cannot be compiled (too many rules,
// tables over their limits, an interface that vanished).
CompiledTables classifier_compile(const Ruleset &rs, const IfindexOf &ifindex_of);

} // namespace fw
