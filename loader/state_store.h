// The applied state: what the last apply installed, kept (compressed) in
// the fw_meta map of its generation, so it lives and dies with the pins.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ruleset.h"

namespace fw {

struct AppliedState {
	Ruleset ruleset;             // as applied (checked when it was applied)
	std::string hash;            // of its canonical JSON (ruleset_hash)
	std::string applied_at;      // ISO 8601 UTC
	uint64_t applied_ns = 0;
	// Counter slot of each rule / NAT rule / port forward, in file order.
	std::vector<uint32_t> slots_input, slots_forward, slots_nat, slots_pf;
	std::string elf_hash;        // the datapath build that wrote it
	int abi = 0;                 // its FW_ABI_VERSION (0: not recorded)
	nlohmann::json extra;        // e.g. a pending `--confirm` (confirm.h)

	// The ruleset's canonical JSON (ruleset_to_json), for printing.
	nlohmann::json ruleset_json() const { return ruleset_to_json(ruleset); }
	// The stored document: {"format": kStateFormat, "ruleset": canonical
	// JSON, "hash", "slots": {...}, ...}.
	nlohmann::json to_json() const;
	// Reads format 2 and the unversioned format 1 (the same fields; the
	// ruleset is read back through the checker). Throws on a document
	// that is neither.
	static AppliedState from_json(const nlohmann::json &j);
};

// The version of the stored document; 1 had no "format" key.
constexpr int kStateFormat = 2;

// A ruleset fwctl itself wrote as canonical JSON, read back. Interfaces are
// not looked up (they existed when it was applied). Throws InputError when
// it does not check.
Ruleset ruleset_from_canonical_json(const nlohmann::json &j);

// The hash of the BPF object this fwctl was built with (load.cpp).
const std::string &datapath_elf_hash();

// The names of the datapath's programs (fw_xdp, fw_tc_egress, ...; load.cpp).
const std::set<std::string> &all_programs();

// The hash `apply` records for a ruleset (of its canonical JSON).
std::string ruleset_hash(const Ruleset &rs);

// The compressed blob generation `gen` of fw_meta holds (magic, length,
// zlib of to_json()). Throws InputError when it exceeds the map.
std::vector<uint8_t> applied_state_blob(const AppliedState &st);
size_t applied_state_capacity();
// The value size of fw_meta (one chunk of the blob).
size_t applied_state_chunk_size();

// Writes a blob (applied_state_blob) into generation `gen` of fw_meta.
void write_applied_state(int meta_fd, uint32_t gen, const std::vector<uint8_t> &blob);
// The state generation `gen` holds; nullopt when absent or unreadable.
std::optional<AppliedState> read_applied_state(int meta_fd, uint32_t gen);

} // namespace fw
