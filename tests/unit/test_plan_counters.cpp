// Counter slots across applies (loader/plan.cpp): a comment-only edit keeps
// a rule's slot (and `diff` says so); `stats --reset` (fresh_counters) gives
// every entry a new slot that the running generation does not count in.
#include <doctest/doctest.h>

#include "plan.h"

#include <arpa/inet.h>
#include <set>

using namespace fw;

namespace {

NetView net()
{
	return {[](const std::string &n) -> uint32_t { return n == "lan" ? 2 : n == "wan" ? 3 : 0; },
		[](const std::string &n) -> uint32_t { return n == "wan" ? inet_addr("192.0.2.7") : 0; }};
}

Ruleset rules(const std::string &comment)
{
	std::string text = R"({ "version": 1, "input": [
	  {"action": "accept", "proto": "udp", "dport": 500, "comment": ")" + comment + R"("},
	  {"action": "drop", "proto": "tcp", "dport": 23} ],
	  "nat": [ {"out": "wan"} ] })";
	CheckResult r = ruleset_check(text, [](const std::string &n) { return n == "lan" || n == "wan"; });
	REQUIRE(r.ruleset);
	return *r.ruleset;
}

} // namespace

TEST_CASE("plan: editing only a comment keeps the rule's counter slot")
{
	GenerationImage a = *plan(rules("IKE"), nullptr, net()).image;
	GenerationImage b = *plan(rules("IKE, renamed"), &a.state, net()).image;
	CHECK(b.state.slots_input == a.state.slots_input);
	CHECK(b.state.slots_nat == a.state.slots_nat);
	CHECK(b.fresh_slots.empty());
	bool said = false;
	for (auto &l : plan_diff(&a.state, b))
		said |= l.find("comment only, counters kept") != std::string::npos;
	CHECK(said);
}

TEST_CASE("plan: fresh counters (stats --reset) take new slots, none the running generation uses")
{
	GenerationImage a = *plan(rules("IKE"), nullptr, net()).image;
	GenerationImage b = *plan(rules("IKE"), &a.state, net(), nlohmann::json::object(), true).image;
	std::set<uint32_t> old(a.state.slots_input.begin(), a.state.slots_input.end());
	old.insert(a.state.slots_nat.begin(), a.state.slots_nat.end());
	REQUIRE(b.state.slots_input.size() == 2);
	for (uint32_t s : b.state.slots_input)
		CHECK(!old.count(s));
	for (uint32_t s : b.state.slots_nat)
		CHECK(!old.count(s));
	CHECK(b.fresh_slots.size() == 3); // all zeroed before the switch
}
