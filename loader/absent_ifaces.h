// Interfaces a ruleset names that do not exist now (rules-format.md,
// "Interfaces that appear later"): a warning at check/apply, a list in
// `fwctl status`. Rules match by name, so such a file is valid.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ruleset.h"

namespace fw {

// The existing interface (but lo) whose name is closest to `name` by edit
// distance (a typo shows up here), "" when there is none.
std::string nearest_interface(const std::string &name);

// One stderr line per place: "FILE: /forward/0/in: warning: ...".
void warn_absent_interfaces(const std::string &file, const std::vector<AbsentInterface> &absent);

// The names a ruleset (canonical JSON) uses that do not exist now, sorted,
// each once: `interfaces`, rules' in/out, NAT out, port-forward in.
std::vector<std::string> absent_interface_names(const nlohmann::json &ruleset);

} // namespace fw
