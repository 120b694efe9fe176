// libFuzzer target over the checker and the compiler: any bytes go in as a
// rules.json; nothing may crash, hang or trip a sanitizer. A ruleset the
// checker accepts must survive its canonical round trip unchanged and
// compile (or be refused with a CompileError), with a fake interface table
// instead of the kernel's. Every ruleset that compiles must classify
// packets drawn at its edges as a linear first match does (the reference
// evaluator walks the tables as bpf/lib/classify.h does). An input that
// starts with a NUL byte (never JSON) is instead the choices of the random
// ruleset generator of tests/unit (corpus/gen-*.bin), so the fuzzer steers
// rulesets no JSON mutation would reach; kept apart because a compile per
// input would slow the JSON fuzzing tenfold. Built and run by
// tools/sanitize.sh.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "classifier.h"
#include "classifier_eval.h"
#include "classifier_gen.h"
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

const std::vector<uint32_t> kIfindexes = {1, 2, 3, 4, 5, 6, 7}; // 7: named by no rule

// Compiles rs and compares the tables with the linear first match on
// packets at its edges; aborts on the first disagreement.
void check_classifier(const Ruleset &rs, test::Entropy &e)
{
	static ClassifierImage img; // kept: its arrays are large to allocate
	CompiledTables t;
	try {
		t = classifier_compile(rs, fake_ifindex);
	} catch (const CompileError &) {
		return;
	}
	if (t.rules.size() != rs.input.size() + rs.forward.size())
		abort();
	uint8_t gen = (uint8_t)e.below(2);
	img.write(t, gen);
	test::PacketPool pool = test::packet_pool(rs);
	for (int k = 0; k < 32; k++) {
		Chain chain = e.one_in(2) ? Chain::input : Chain::forward;
		ClassifierPacket p = test::random_packet(e, pool, chain, kIfindexes);
		uint32_t want = classifier_first_match(rs, chain, p, fake_ifindex);
		uint32_t got = classifier_eval(img, gen, chain == Chain::input ? FW_CHAIN_INPUT : FW_CHAIN_FORWARD, p);
		if (want != got) {
			fprintf(stderr, "classifier disagrees: %s %s: tables give %d, first match is %d\n%s\n",
				chain_name(chain), test::describe(p).c_str(), (int)got, (int)want,
				ruleset_to_json(rs).dump().c_str());
			abort();
		}
	}
}

// The input's bytes as the random generator's choices: a ruleset the
// checker must accept, then packets.
void check_generated(const uint8_t *data, size_t size)
{
	test::Entropy e(data, size);
	test::GenOptions o;
	o.ifnames = {"vlan1", "vlan2", "eth0", "ipsec0", "wan"};
	o.max_rules = 12;
	Ruleset rs = test::random_ruleset(e, o);
	CheckResult r = ruleset_check_json(ruleset_to_json(rs), fake_exists);
	if (!r.ruleset || r.ruleset->input != rs.input || r.ruleset->forward != rs.forward)
		abort(); // the generator wrote a ruleset the checker refuses
	check_classifier(rs, e);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return -1;
	if (size && data[0] == 0) {
		check_generated(data + 1, size - 1);
		return 0;
	}
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
	test::Entropy e(data, size); // packets from the input's bytes
	check_classifier(*r.ruleset, e);
	return 0;
}
