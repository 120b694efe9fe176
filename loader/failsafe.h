// The fail-closed ruleset: what runs when the real one cannot (boot with a
// missing or broken /etc/fwctl/rules.json, a --confirm rollback whose
// previous ruleset no longer applies). Never "no firewall".
//
// The operator's own fail-safe file (default /etc/fwctl/failsafe.json,
// environment FWCTL_FAILSAFE) says what stays reachable, e.g. SSH from the
// LAN port. Without it, or when it is broken too: input and forward drop,
// nothing else (connections the table knows keep flowing).
#pragma once

#include <string>

#include "ruleset.h"

namespace fw {

inline constexpr const char *FAILSAFE_DEFAULT_PATH = "/etc/fwctl/failsafe.json";

// The path in effect: $FWCTL_FAILSAFE, else FAILSAFE_DEFAULT_PATH.
std::string failsafe_path();

// The fail-safe ruleset and where it came from ("/etc/fwctl/failsafe.json"
// or "built-in (input and forward drop)"); *why gets the reason the file
// was not used, if any. The file must have both policies "drop".
Ruleset failsafe_ruleset(std::string *source, std::string *why = nullptr);

} // namespace fw
