// Plan, then commit. plan() turns a checked ruleset (and the state of the
// running generation, for counter slots) into everything the inactive
// generation will hold, touching no kernel object; Runtime::commit writes
// that image and switches to it. `fwctl check` runs plan too, so check and
// apply cannot disagree on a limit.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "classifier.h"
#include "errors.h"
#include "fw/abi.h"
#include "ruleset.h"
#include "state_store.h"

namespace fw {

// What plan may know about interfaces (read-only questions).
struct NetView {
	std::function<uint32_t(const std::string &)> ifindex; // 0: absent
	std::function<uint32_t(const std::string &)> ipv4;    // primary IPv4 (network order), 0: none
	// The network namespace fwctl runs in.
	static NetView this_netns();
};

// Everything one generation holds, but the generation number.
struct GenerationImage {
	CompiledTables tables;
	std::vector<fw_rule> rules; // tables.rules with their counter slots
	std::vector<fw_nat_rule> nat;
	std::vector<fw_pf_rule> port_forwards;
	fw_gen_cfg cfg{};
	AppliedState state;                // what `applied()` will return
	std::vector<uint32_t> fresh_slots; // counter slots to zero before use
	std::vector<uint8_t> state_blob;   // the state as stored in fw_meta
};

struct PlanResult {
	std::optional<GenerationImage> image; // set when errors is empty
	std::vector<CheckError> errors;       // each with a JSON pointer
};

// `running` is the applied state of the running generation (nullptr: none);
// rules it has keep their counter slots. `extra` goes into the state.
PlanResult plan(const Ruleset &rs, const AppliedState *running, const NetView &net,
		const nlohmann::json &extra = nlohmann::json::object());

// apply's refusal: the plan's errors, each "pointer: message".
struct PlanRejected : InputError {
	std::vector<CheckError> errors;
	explicit PlanRejected(std::vector<CheckError> e);
};

// What the image changes against the running state, one line a change
// ("+ input 3: {...} (new counters)", "- ...", "~ ...", "= ..."), then a
// summary line. "no changes" when there is none.
std::vector<std::string> plan_diff(const AppliedState *running, const GenerationImage &img);

} // namespace fw
