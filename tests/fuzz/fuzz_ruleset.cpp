// libFuzzer target over the checker and the compiler: any bytes go in as a
// rules.json; nothing may crash, hang or trip a sanitizer. A ruleset the
// checker accepts must survive its canonical round trip unchanged and
// compile (or be refused with a CompileError), with a fake interface table
// instead of the kernel's. Built and run by tools/sanitize.sh.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "classifier.h"
#include "ruleset.h"

using namespace fw;

namespace {

uint32_t fake_ifindex(const std::string &n)
{
	static const char *names[] = {"lo", "vlan1", "vlan2", "eth0", "ipsec0", "wan"};
	for (uint32_t i = 0; i < sizeof names / sizeof *names; i++)
		if (n == names[i])
			return i + 1;
	return 0;
}

bool fake_exists(const std::string &n)
{
	return fake_ifindex(n) != 0;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return -1;
	std::string text(reinterpret_cast<const char *>(data), size);
	CheckResult r = ruleset_check(text, fake_exists);
	for (auto &e : r.errors)
		(void)format_error("fuzz.json", e);
	if (!r.ruleset) {
		if (r.errors.empty())
			abort(); // refused without saying why
		return 0;
	}
	// Canonical JSON is a fixed point: check(to_json(r)) == r.
	nlohmann::json canon = ruleset_to_json(*r.ruleset);
	CheckResult again = ruleset_check_json(canon, fake_exists);
	if (!again.ruleset || ruleset_to_json(*again.ruleset) != canon)
		abort();
	(void)ruleset_to_ordered_json(*r.ruleset).dump();
	try {
		CompiledTables t = classifier_compile(*r.ruleset, fake_ifindex);
		if (t.rules.size() != r.ruleset->input.size() + r.ruleset->forward.size())
			abort();
	} catch (const CompileError &) {
	}
	return 0;
}
