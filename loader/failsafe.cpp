#include "failsafe.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fw {

std::string failsafe_path()
{
	const char *env = getenv("FWCTL_FAILSAFE");
	return env && *env ? env : FAILSAFE_DEFAULT_PATH;
}

namespace {

Ruleset built_in()
{
	Ruleset rs;
	rs.policy_input = Action::drop;
	rs.policy_forward = Action::drop;
	return rs;
}

} // namespace

Ruleset failsafe_ruleset(std::string *source, std::string *why)
{
	std::string path = failsafe_path();
	std::ifstream f(path);
	std::string reason;
	if (f) {
		std::stringstream ss;
		ss << f.rdbuf();
		// Interfaces may be absent (boot): rules match them by name.
		CheckResult r = ruleset_check(ss.str(), [](const std::string &) { return true; });
		if (!r.ruleset)
			reason = path + ": " + (r.errors.empty() ? "invalid" : format_error(path, r.errors.front()));
		else if (r.ruleset->policy_input != Action::drop || r.ruleset->policy_forward != Action::drop)
			reason = path + ": a fail-safe ruleset must have both policies \"drop\"";
		else {
			if (source)
				*source = path;
			return *r.ruleset;
		}
	} else {
		reason = path + " does not exist";
	}
	if (why)
		*why = reason;
	if (source)
		*source = "built-in (input and forward drop)";
	return built_in();
}

} // namespace fw
