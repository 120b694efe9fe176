// WeOS `ip firewall` configuration <-> ruleset model: `fwctl import weos`
// and `fwctl export weos`. See docs/weos.md for the accepted syntax.
#pragma once

#include <string>

#include "ruleset.h"

namespace fw {

// Reads WeOS firewall commands: a script (one command per line, framed by
// `configure` / `ip firewall` / `leave` or not) or a session pasted from a
// terminal, prompts (`fw:/config/ip/firewall/#>`) and device output included,
// several prompts on one line allowed. Reports every command it cannot take,
// each with pointer "" and a 1-based line and column (columns count
// characters, not bytes). Interfaces are not looked up: the caller checks the
// result like any ruleset, e.g.
// ruleset_check_json(ruleset_to_json(*res.ruleset), interface_exists_in_netns).
CheckResult weos_import(const std::string &text);

// The ruleset as WeOS commands, one per line, framed by `configure`,
// `ip firewall` and `leave` so that it can be pasted at a WeOS top-level
// prompt. weos_import(weos_export(r)).ruleset == r.
std::string weos_export(const Ruleset &r);

} // namespace fw
