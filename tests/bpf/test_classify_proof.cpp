// The classifier three ways: for random rulesets (tests/support's
// generator, prefixes grown around the harness's subnets) the real runtime
// applies the tables and packets go through the XDP program with
// BPF_PROG_TEST_RUN; the verdict and the counter that moved must be those
// of the linear first match, which the reference walk of the compiled
// tables (classifier_eval) must give too. The unit test
// (tests/unit/test_classifier_proof.cpp) covers far more rulesets; this
// one proves that the maps the runtime writes, and the datapath's walk of
// them, are what the reference reads. FW_CLS_BPF_RULESETS=N runs more.
#include <doctest/doctest.h>

#include <cstdlib>
#include <linux/bpf.h>
#include <net/if.h>
#include <optional>

#include "classifier_eval.h"
#include "classifier_gen.h"
#include "conntrack.h"
#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

Prefix pfx(const char *s)
{
	return *prefix_parse(s);
}

uint32_t ifindex_of(const std::string &n)
{
	return if_nametoindex(n.c_str());
}

// Where the harness's routes send a destination (harness.cpp): its own
// addresses are input; its subnets and routes are forward, out of the
// interface the route names. The rest is left out, as the chain there is
// not a rule's business: no route, a subnet's broadcast or anycast
// address, and multicast or broadcast sources (the kernel's FIB does not
// route an IPv6 packet from ff00::/8 out: it meets the input chain, and
// the stack would drop it as a martian anyway).
struct Route {
	Chain chain;
	const char *out; // "" in input
};

bool within(const char *prefix, int family, const std::array<uint8_t, 16> &addr)
{
	Prefix q = pfx(prefix);
	Prefix host{family, addr, family == 4 ? 32 : 128};
	return q.family == family && q.contains(host);
}

std::optional<Route> route_of(const ClassifierPacket &p)
{
	if (within("224.0.0.0/3", p.family, p.saddr) || within("ff00::/8", p.family, p.saddr))
		return std::nullopt;
	auto in = [&](const char *prefix) { return within(prefix, p.family, p.daddr); };
	auto is = [&](const char *addr) { return in(addr); };
	for (const char *local : {"10.1.0.1", "192.0.2.1", "fd01::1", "2001:db8::1"})
		if (is(local))
			return Route{Chain::input, ""};
	for (const char *edge : {"10.1.0.0", "10.1.255.255", "192.0.2.0", "192.0.2.255", "fd01::", "2001:db8::"})
		if (is(edge))
			return std::nullopt;
	if (in("10.1.0.0/16") || in("fd01::/64"))
		return Route{Chain::forward, "vlan1"};
	if (in("192.0.2.0/24") || in("198.51.100.0/24") || in("2001:db8::/64") || in("2001:db8:1::/48"))
		return Route{Chain::forward, "vlan2"};
	return std::nullopt;
}

// A destination the harness routes: the rules' edges when routed, else an
// address of a local or routed subnet.
std::array<uint8_t, 16> routed_daddr(Entropy &e, const PacketPool &pool, int family)
{
	for (int tries = 0; tries < 4; tries++) {
		ClassifierPacket p;
		p.family = (uint8_t)family;
		p.daddr = pool_addr(e, pool, family);
		if (route_of(p))
			return p.daddr;
	}
	static const std::vector<const char *> v4 = {"10.1.0.1", "192.0.2.1", "10.1.3.4", "192.0.2.77",
						     "198.51.100.9"};
	static const std::vector<const char *> v6 = {"fd01::1", "2001:db8::1", "fd01::42", "2001:db8::99",
						     "2001:db8:1:5::1"};
	return pfx(e.pick(family == 4 ? v4 : v6)).addr;
}

Packet to_packet(const ClassifierPacket &p)
{
	std::string s = addr_str(p.family, p.saddr.data()), d = addr_str(p.family, p.daddr.data());
	switch (p.proto) {
	case 6: return Packet::tcp(s, d, p.sport, p.dport); // SYN
	case 17: return Packet::udp(s, d, p.sport, p.dport);
	case 132: return Packet::sctp(s, d, p.sport, p.dport);
	case 1: return Packet::ip(s, d, 1, {8, 0, 0, 0, 0x42, 0x42, 0, 1});      // echo request
	case 58: return Packet::ip(s, d, 58, {128, 0, 0, 0, 0x42, 0x42, 0, 1}); // echo request
	default: return Packet::ip(s, d, p.proto, std::vector<uint8_t>(24, 0xab));
	}
}

// A packet the XDP program will see as the classifier packet says:
// arriving on vlan1 or vlan2, routed as route_of says.
std::optional<std::pair<ClassifierPacket, Route>> datapath_packet(Entropy &e, const PacketPool &pool,
								  std::string &in)
{
	ClassifierPacket p;
	p.family = e.one_in(2) ? 4 : 6;
	p.saddr = pool_addr(e, pool, p.family);
	p.daddr = routed_daddr(e, pool, p.family);
	p.proto = pool_proto(e, pool, p.family);
	// IPv6 extension headers are walked by the parser, not classified.
	if (p.family == 6 && (p.proto == 0 || p.proto == 43 || p.proto == 44 || p.proto == 60))
		p.proto = 17;
	p.has_ports = proto_has_ports(p.proto);
	if (p.has_ports) {
		p.sport = pool_port(e, pool.sports);
		p.dport = pool_port(e, pool.dports);
	}
	in = e.one_in(2) ? "vlan1" : "vlan2";
	p.in_ifindex = ifindex_of(in);
	auto r = route_of(p);
	if (!r)
		return std::nullopt;
	p.out_ifindex = *r->out ? ifindex_of(r->out) : 0;
	return std::make_pair(p, *r);
}

int xdp_action_of(Action a)
{
	return a == Action::accept ? XDP_PASS : a == Action::drop ? XDP_DROP : XDP_TX;
}

} // namespace

TEST_CASE("random rulesets: datapath, reference tables and linear first match agree")
{
	const char *env = getenv("FW_CLS_BPF_RULESETS");
	const uint32_t n_rulesets = env && *env ? (uint32_t)std::stoul(env) : 40, n_packets = 48;
	Harness &h = Harness::get();
	h.down();
	GenOptions o;
	o.ifnames = {"vlan1", "vlan2", "lan1", "wan1"};
	o.max_rules = 16;
	o.anchors4 = {pfx("10.1.0.0/16"), pfx("192.0.2.0/24"), pfx("198.51.100.0/24"), pfx("10.1.0.1")};
	o.anchors6 = {pfx("fd01::/64"), pfx("2001:db8::/64"), pfx("2001:db8:1::/48"), pfx("2001:db8::1")};
	size_t packets = 0, matched = 0, forward = 0, retried = 0;
	for (uint32_t seed = 1; seed <= n_rulesets; seed++) {
		Entropy e(0xb9f0000 + seed);
		Ruleset rs = random_ruleset(e, o);
		std::string json = ruleset_to_json(rs).dump();
		INFO("seed " << seed << ": " << json);
		h.apply(json); // alternates generations: stale entries must not leak
		ClassifierImage img;
		img.write(classifier_compile(rs, ifindex_of), 0);
		PacketPool pool = packet_pool(rs);
		for (uint32_t k = 0; k < n_packets; k++) {
			std::string in;
			auto dp = datapath_packet(e, pool, in);
			if (!dp)
				continue;
			auto &[p, route] = *dp;
			uint8_t chain = route.chain == Chain::input ? FW_CHAIN_INPUT : FW_CHAIN_FORWARD;
			const char *chain_s = chain_name(route.chain);
			uint32_t want = classifier_first_match(rs, route.chain, p, ifindex_of);
			uint32_t ref = classifier_eval(img, 0, chain, p);
			INFO(chain_s << " " << describe(p) << ": first match " << (int)want << ", tables " << (int)ref);
			REQUIRE(ref == want);
			size_t position = want == FW_RULE_NONE ? 0
							       : want + 1 - (chain == FW_CHAIN_INPUT ? 0 : rs.input.size());
			Action action = want == FW_RULE_NONE ? rs.policy(route.chain) : rs.rules(route.chain)[position - 1].action;
			auto counter = [&] { return position ? h.rule(chain_s, position) : h.policy(chain_s); };
			Packet pkt = to_packet(p);
			// The harness's veth peers send their own IPv6 chatter (MLD,
			// router solicitations) through the same program: a counter
			// that moved by more than the packet is measured once more.
			bool counted = false;
			for (int attempt = 0; attempt < 2 && !counted; attempt++) {
				conntrack_flush(h.runtime()); // a NEW packet, every time
				CounterValue before = counter();
				int action_got = h.xdp(pkt, in).action;
				CounterValue after = counter();
				if (action == Action::reject) // rate-limited answers are drops
					CHECK((action_got == XDP_TX || action_got == XDP_DROP));
				else
					CHECK(action_got == xdp_action_of(action));
				counted = after.packets == before.packets + 1 &&
					  after.bytes == before.bytes + (pkt.bytes.size() - 14);
				retried += !counted;
			}
			CHECK_MESSAGE(counted, "the datapath counted the packet elsewhere");
			packets++;
			matched += position != 0;
			forward += chain == FW_CHAIN_FORWARD;
		}
	}
	conntrack_flush(h.runtime());
	MESSAGE(n_rulesets << " rulesets, " << packets << " packets through the datapath (" << matched
			   << " matched a rule, " << forward << " forwarded; " << retried << " counts measured again)");
	CHECK(packets > n_rulesets * n_packets / 2);
	CHECK(matched * 5 > packets);
	CHECK(forward * 5 > packets);
	CHECK((packets - forward) * 10 > packets);
}
