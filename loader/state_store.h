// The applied state: what the last apply installed, kept (compressed) in
// the fw_meta map of its generation, so it lives and dies with the pins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fw {

struct AppliedState {
	nlohmann::json ruleset;      // canonical JSON (ruleset_to_json)
	std::string hash;            // of the canonical JSON
	std::string applied_at;      // ISO 8601 UTC
	uint64_t applied_ns = 0;
	// Counter slot of each rule / NAT rule / port forward, in file order.
	std::vector<uint32_t> slots_input, slots_forward, slots_nat, slots_pf;
	std::string elf_hash;        // the datapath build that wrote it
	nlohmann::json extra;        // room for later features

	nlohmann::json to_json() const;
	static AppliedState from_json(const nlohmann::json &j);
};

// Writes the state into generation `gen` of fw_meta. Throws InputError when
// it does not fit. `st.ruleset` is lent to the document and given back.
void write_applied_state(int meta_fd, uint32_t gen, AppliedState &st);
// The state generation `gen` holds; nullopt when absent or unreadable.
std::optional<AppliedState> read_applied_state(int meta_fd, uint32_t gen);

} // namespace fw
