// The classifier compiler (loader/classifier.cpp) proven without a kernel:
// on random rulesets and packets drawn at the rules' edges, the compiled
// tables walked as bpf/lib/classify.h walks them (classifier_eval) give
// the same rule as a linear first match over the Ruleset. Seeds are fixed;
// FW_CLS_RULESETS=N runs more rulesets (say 100000 for a long hunt).
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "classifier_eval.h"
#include "classifier_gen.h"

using namespace fw;
using namespace fw::test;

namespace {

uint32_t fake_ifindex(const std::string &n)
{
	static const std::vector<std::string> names = {"eth0", "eth1", "vlan1", "vlan2"};
	for (size_t i = 0; i < names.size(); i++)
		if (n == names[i])
			return (uint32_t)(2 * i + 2); // 2, 4, 6, 8: not dense, not 1
	return 0;
}

const std::vector<uint32_t> kIfindexes = {2, 4, 6, 8, 9}; // 9: named by no rule

GenOptions options()
{
	GenOptions o;
	o.ifnames = {"eth0", "eth1", "vlan1", "vlan2"};
	return o;
}

uint32_t env_count(const char *name, uint32_t dflt)
{
	const char *v = getenv(name);
	return v && *v ? (uint32_t)std::stoul(v) : dflt;
}

// How much of the space the cases covered: a generator that drifted into
// only trivial rulesets would pass the comparison and prove nothing.
struct Coverage {
	size_t rulesets = 0, packets = 0, matched = 0, policy = 0, shadowed = 0, catchall = 0,
	       const_ab = 0, port_rules = 0, v6 = 0, long_chains = 0;
};

} // namespace

TEST_CASE("compiled classifier tables agree with a linear first match (random rulesets)")
{
	const uint32_t n_rulesets = env_count("FW_CLS_RULESETS", 1500);
	const uint32_t n_packets = 64;
	GenOptions o = options();
	auto exists = [](const std::string &n) { return fake_ifindex(n) != 0; };
	ClassifierImage img; // both generations: each ruleset replaces the older one
	Coverage cov;
	for (uint32_t seed = 1; seed <= n_rulesets; seed++) {
		Entropy e(seed);
		Ruleset rs = random_ruleset(e, o);
		// The generator only writes what the checker accepts.
		CheckResult chk = ruleset_check_json(ruleset_to_json(rs), exists);
		INFO("seed " << seed << ": " << ruleset_to_json(rs).dump());
		REQUIRE(chk.errors.empty());
		REQUIRE(chk.ruleset->input == rs.input);
		REQUIRE(chk.ruleset->forward == rs.forward);

		CompiledTables t = classifier_compile(rs, fake_ifindex);
		uint8_t gen = seed & 1;
		img.write(t, gen);
		cov.rulesets++;
		cov.long_chains += (rs.input.size() > 64) + (rs.forward.size() > 64);
		for (int c = 0; c < FW_CHAINS; c++)
			cov.const_ab += t.ab_constant[c], cov.catchall += t.catchall[c] != FW_RULE_NONE;

		PacketPool pool = packet_pool(rs);
		for (uint32_t k = 0; k < n_packets; k++) {
			Chain chain = e.one_in(2) ? Chain::input : Chain::forward;
			ClassifierPacket p = random_packet(e, pool, chain, kIfindexes);
			uint8_t c = chain == Chain::input ? FW_CHAIN_INPUT : FW_CHAIN_FORWARD;
			uint32_t want = classifier_first_match(rs, chain, p, fake_ifindex);
			uint32_t got = classifier_eval(img, gen, c, p);
			if (want != got) {
				FAIL_CHECK(std::string(chain_name(chain)) << " " << describe(p) << ": tables give rule index "
							     << (int)got << ", first match is " << (int)want);
				break;
			}
			cov.packets++;
			cov.v6 += p.family == 6;
			if (want == FW_RULE_NONE) {
				cov.policy++;
				continue;
			}
			cov.matched++;
			const Rule &r = chain == Chain::input ? rs.input[want] : rs.forward[want - rs.input.size()];
			cov.port_rules += r.sport || r.dport;
			const auto &rules = rs.rules(chain);
			size_t first = want - (chain == Chain::input ? 0 : rs.input.size());
			for (size_t i = first + 1; i < rules.size(); i++)
				if (classifier_rule_matches(rules[i], p, fake_ifindex)) {
					cov.shadowed++; // a later rule matched too: order mattered
					break;
				}
		}
	}
	MESSAGE(cov.rulesets << " rulesets, " << cov.packets << " packets: " << cov.matched << " matched a rule ("
			     << cov.shadowed << " of them with a later rule matching too, " << cov.port_rules
			     << " by a port rule), " << cov.policy << " met the policy; " << cov.v6 << " IPv6; "
			     << cov.const_ab << " chains without interface/address stages, " << cov.catchall
			     << " with a catch-all, " << cov.long_chains << " of over 64 rules");
	CHECK(cov.packets == (size_t)n_rulesets * n_packets);
	CHECK(cov.matched * 5 > cov.packets);  // over 20 % hit a rule...
	CHECK(cov.policy * 10 > cov.packets);  // ...over 10 % none
	CHECK(cov.shadowed * 20 > cov.matched);
	CHECK(cov.port_rules * 10 > cov.matched);  // over 10 % by a port rule
	CHECK(cov.const_ab * 10 > cov.rulesets);
	CHECK(cov.catchall * 10 > cov.rulesets);
	CHECK(cov.long_chains * 50 > cov.rulesets);
}

TEST_CASE("the reference evaluator reads the generation bit and the shortcut as the datapath does")
{
	auto ifx = [](const std::string &n) { return n == "vlan1" ? 6u : 0u; };
	Ruleset a, b;
	Rule port53;
	port53.proto = 17, port53.dport = PortRange{53, 53};
	a.input = {port53};
	Rule lan;
	lan.in = "vlan1", lan.saddr = prefix_parse("10.0.0.0/8");
	b.input = {lan, port53};
	ClassifierImage img;
	img.write(classifier_compile(a, ifx), 0);
	img.write(classifier_compile(b, ifx), 1);
	CHECK((img.cfg[0].flags & FW_CFG_F_CONST_AB) != 0); // a names no interface or address
	CHECK((img.cfg[1].flags & FW_CFG_F_CONST_AB) == 0);
	ClassifierPacket dns;
	dns.proto = 17, dns.has_ports = true, dns.sport = 1000, dns.dport = 53, dns.in_ifindex = 6;
	dns.saddr = {10, 1, 2, 3};
	CHECK(classifier_eval(img, 0, FW_CHAIN_INPUT, dns) == 0);
	CHECK(classifier_eval(img, 1, FW_CHAIN_INPUT, dns) == 0); // b's rule 0: vlan1 and 10/8
	dns.saddr = {11, 1, 2, 3};
	CHECK(classifier_eval(img, 1, FW_CHAIN_INPUT, dns) == 1);
	dns.dport = 54;
	CHECK(classifier_eval(img, 0, FW_CHAIN_INPUT, dns) == FW_RULE_NONE);
	CHECK(classifier_eval(img, 1, FW_CHAIN_INPUT, dns) == FW_RULE_NONE);
	// Rewriting generation 0 leaves generation 1 as it was.
	img.write(classifier_compile(Ruleset{}, ifx), 0);
	dns.dport = 53;
	CHECK(classifier_eval(img, 0, FW_CHAIN_INPUT, dns) == FW_RULE_NONE);
	CHECK(classifier_eval(img, 1, FW_CHAIN_INPUT, dns) == 1);
}
