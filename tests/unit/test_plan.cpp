// plan (loader/plan.cpp), plan_diff and the stored applied state, without
// root or a kernel: interfaces come from a fake NetView.
#include <doctest/doctest.h>

#include "plan.h"

#include <algorithm>
#include <arpa/inet.h>
#include <string>
#include <vector>

using namespace fw;

namespace {

bool known(const std::string &n) { return n == "lan" || n == "wan"; }

NetView fake_net()
{
	return {[](const std::string &n) -> uint32_t { return n == "lan" ? 2 : n == "wan" ? 3 : 0; },
		[](const std::string &n) -> uint32_t { return n == "wan" ? inet_addr("192.0.2.7") : 0; }};
}

Ruleset parse(const std::string &text)
{
	CheckResult r = ruleset_check(text, known);
	std::string errs;
	for (auto &e : r.errors)
		errs += format_error("t", e) + "\n";
	INFO(errs);
	REQUIRE(r.ruleset);
	return *r.ruleset;
}

std::string with_nat(size_t n, size_t exempt = 0)
{
	std::string ex;
	for (size_t i = 0; i < exempt; i++)
		ex += (i ? "," : "") + std::string("\"10.") + std::to_string(i) + ".0.0/16\"";
	std::string nat;
	for (size_t i = 0; i < n; i++)
		nat += (i ? "," : "") + std::string(R"({"out":"wan","exempt":[)") + ex + "]}";
	return R"({"version":1,"nat":[)" + nat + "]}";
}

std::string with_forwards(size_t n)
{
	std::string pf;
	for (size_t i = 0; i < n; i++)
		pf += (i ? "," : "") + std::string(R"({"in":"wan","proto":"tcp","dport":)") + std::to_string(1000 + i) +
		      R"(,"to-daddr":"192.168.1.2"})";
	return R"({"version":1,"port-forward":[)" + pf + "]}";
}

const char *base = R"({
  "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "proto": "tcp", "dport": 22, "comment": "ssh" },
    { "action": "accept", "proto": "icmp" }
  ],
  "forward": [ { "action": "accept", "in": "lan", "out": "wan" } ],
  "nat": [ { "out": "wan" } ]
})";

const char *changed = R"({
  "version": 1,
  "policy": { "input": "drop", "forward": "accept" },
  "input": [
    { "action": "accept", "proto": "tcp", "dport": 2222, "comment": "ssh" },
    { "action": "accept", "proto": "icmp" },
    { "action": "accept", "proto": "udp", "dport": 53 }
  ],
  "nat": [ { "out": "wan" } ]
})";

bool has_line(const std::vector<std::string> &lines, const std::string &prefix)
{
	return std::any_of(lines.begin(), lines.end(), [&](const std::string &l) { return l.rfind(prefix, 0) == 0; });
}

} // namespace

TEST_CASE("plan: NAT and port-forward limits are checker errors with a JSON pointer")
{
	PlanResult ok = plan(parse(with_nat(FW_NAT_MAX)), nullptr, fake_net());
	CHECK(ok.errors.empty());
	CHECK(ok.image);

	PlanResult nat = plan(parse(with_nat(FW_NAT_MAX + 1)), nullptr, fake_net());
	REQUIRE(nat.errors.size() == 1);
	CHECK(nat.errors[0].pointer == "/nat/32");
	CHECK_FALSE(nat.image);

	PlanResult pf = plan(parse(with_forwards(FW_PF_MAX + 1)), nullptr, fake_net());
	REQUIRE(pf.errors.size() == 1);
	CHECK(pf.errors[0].pointer == "/port-forward/64");
	CHECK(plan(parse(with_forwards(FW_PF_MAX)), nullptr, fake_net()).image);

	PlanResult ex = plan(parse(with_nat(1, FW_NAT_MAX_EXEMPT + 1)), nullptr, fake_net());
	REQUIRE(ex.errors.size() == 1);
	CHECK(ex.errors[0].pointer == "/nat/0/exempt/16");
	CHECK(plan(parse(with_nat(1, FW_NAT_MAX_EXEMPT)), nullptr, fake_net()).image);
}

TEST_CASE("plan: PlanRejected carries every error and names its pointers")
{
	PlanResult r = plan(parse(with_nat(FW_NAT_MAX + 1)), nullptr, fake_net());
	PlanRejected e(r.errors);
	CHECK(e.errors.size() == 1);
	CHECK(std::string(e.what()).find("/nat/32: at most 32 nat rules") != std::string::npos);
}

TEST_CASE("plan: the image holds rules with counter slots, NAT entries and the config")
{
	PlanResult r = plan(parse(base), nullptr, fake_net());
	REQUIRE(r.image);
	const GenerationImage &img = *r.image;
	REQUIRE(img.rules.size() == 3);
	CHECK(img.state.slots_input.size() == 2);
	CHECK(img.state.slots_forward.size() == 1);
	CHECK(img.rules[0].counter_slot == img.state.slots_input[0]);
	CHECK(img.rules[2].counter_slot == img.state.slots_forward[0]);
	// every slot distinct, every one new (nothing ran before)
	std::vector<uint32_t> all = img.state.slots_input;
	all.insert(all.end(), img.state.slots_forward.begin(), img.state.slots_forward.end());
	all.insert(all.end(), img.state.slots_nat.begin(), img.state.slots_nat.end());
	std::sort(all.begin(), all.end());
	CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
	CHECK(img.fresh_slots.size() == all.size());
	REQUIRE(img.nat.size() == 1);
	CHECK(img.nat[0].out_ifindex == 3);
	CHECK(img.nat[0].to == inet_addr("192.0.2.7"));
	CHECK(img.cfg.policy[FW_CHAIN_INPUT] == FW_VERDICT_DROP);
	CHECK(img.cfg.nat_count == 1);
	CHECK_FALSE(img.state_blob.empty());
	CHECK(img.state.hash == ruleset_hash(parse(base)));
}

TEST_CASE("plan: rules the running generation has keep their counter slots")
{
	GenerationImage first = *plan(parse(base), nullptr, fake_net()).image;
	GenerationImage second = *plan(parse(changed), &first.state, fake_net()).image;
	// icmp (input 2) and the NAT rule are the same entries: same slots.
	CHECK(second.state.slots_input[1] == first.state.slots_input[1]);
	CHECK(second.state.slots_nat[0] == first.state.slots_nat[0]);
	// the changed ssh rule and the new udp rule get slots the old one did
	// not use (it still counts until the switch), zeroed before use.
	for (uint32_t s : {second.state.slots_input[0], second.state.slots_input[2]}) {
		CHECK(s != first.state.slots_input[0]);
		CHECK(s != first.state.slots_forward[0]);
		CHECK(std::count(second.fresh_slots.begin(), second.fresh_slots.end(), s) == 1);
	}
	CHECK(second.fresh_slots.size() == 2);
}

TEST_CASE("plan_diff: rules added, removed, changed; counters kept or reset")
{
	GenerationImage first = *plan(parse(base), nullptr, fake_net()).image;
	GenerationImage second = *plan(parse(changed), &first.state, fake_net()).image;
	auto lines = plan_diff(&first.state, second);
	std::string all;
	for (auto &l : lines)
		all += l + "\n";
	INFO(all);
	CHECK(has_line(lines, "~ input 1: "));
	CHECK(all.find("2222") != std::string::npos);
	CHECK(all.find("(counters reset)") != std::string::npos);
	CHECK(has_line(lines, "+ input 3: "));
	CHECK(has_line(lines, "- forward 1: "));
	CHECK(has_line(lines, "~ /policy: "));
	CHECK_FALSE(has_line(lines, "~ input 2"));
	CHECK(lines.back() == "4 change(s); 2 entries unchanged (counters kept)");

	GenerationImage same = *plan(parse(base), &first.state, fake_net()).image;
	auto none = plan_diff(&first.state, same);
	REQUIRE(none.size() == 1);
	CHECK(none[0] == "no changes (4 entries, counters kept)");

	auto fresh = plan_diff(nullptr, first);
	CHECK(fresh.front().rfind("nothing is applied", 0) == 0);
	CHECK(has_line(fresh, "+ input 1: "));
}

TEST_CASE("applied state: typed round trip, format version, the unversioned format 1")
{
	GenerationImage img = *plan(parse(base), nullptr, fake_net()).image;
	nlohmann::json j = img.state.to_json();
	CHECK(j["format"] == kStateFormat);
	AppliedState back = AppliedState::from_json(j);
	CHECK(back.ruleset == img.state.ruleset);
	CHECK(back.slots_input == img.state.slots_input);
	CHECK(back.hash == img.state.hash);

	nlohmann::json v1 = j;
	v1.erase("format"); // what fwctl before the format number wrote
	CHECK(AppliedState::from_json(v1).ruleset == img.state.ruleset);

	nlohmann::json future = j;
	future["format"] = kStateFormat + 1;
	CHECK_THROWS_AS(AppliedState::from_json(future), InputError);
}
