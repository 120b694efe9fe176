// What `fwctl stats` reads, in the shapes other tools take: the JSON of
// cli.md, the Prometheus text exposition format, and the counter reset.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "runtime.h"

namespace fw::cli {

// The `stats --json` document (cli.md).
nlohmann::json stats_json(const Runtime &rt, const AppliedState &st);

// The counters, connection table fill and map memory in the Prometheus text
// exposition format (version 0.0.4), one family per counter kind.
std::string prometheus_text(const Runtime &rt, const AppliedState &st);

// Zeroes every counter: rule, NAT and port-forward counters through a
// re-apply of the running ruleset with fresh slots (one atomic switch),
// then the policy/state/log counters in one batch update. Needs root.
void reset_counters(Runtime &rt, const AppliedState &st);

} // namespace fw::cli
