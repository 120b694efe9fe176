#include "plan.h"
#include "trace.h"

#include <arpa/inet.h>
#include <cstring>
#include <net/if.h>
#include <unordered_map>
#include <unordered_set>

#include "netdev.h"
#include "util.h"

namespace fw {

NetView NetView::this_netns()
{
	return {[](const std::string &n) { return (uint32_t)if_nametoindex(n.c_str()); },
		[](const std::string &n) { return primary_ipv4(n); }};
}

namespace {

// Assigns counter slots: a rule identical to one of the running ruleset
// (same chain, same JSON) keeps that rule's slot, so its counters survive;
// others get a slot used by neither ruleset (the old one still counts
// until the switch), zeroed before use.
struct SlotAllocator {
	std::unordered_map<std::string, std::vector<uint32_t>> reusable; // identity -> old slots, in order
	std::unordered_map<std::string, size_t> reused;                  // identity -> how many taken
	std::vector<bool> taken = std::vector<bool>(FW_MAX_COUNTER_SLOTS); // by the running ruleset
	std::vector<uint32_t> fresh;                                     // allocated now, to zero
	uint32_t next = 0;

	void add_old(std::string identity, uint32_t slot)
	{
		if (slot < FW_MAX_COUNTER_SLOTS)
			taken[slot] = true;
		reusable[std::move(identity)].push_back(slot);
	}
	uint32_t take(const std::string &identity)
	{
		auto it = reusable.find(identity);
		if (it != reusable.end()) {
			size_t &used = reused[identity];
			if (used < it->second.size())
				return it->second[used++];
		}
		while (next < FW_MAX_COUNTER_SLOTS && taken[next])
			next++;
		if (next >= FW_MAX_COUNTER_SLOTS)
			throw InputError("out of counter slots");
		taken[next] = true;
		fresh.push_back(next);
		return next++;
	}
};

// What a rule matches and does: its JSON without the comment, so that
// editing only a comment keeps the rule's counters.
std::string identity(const char *kind, const nlohmann::json &j)
{
	if (!j.is_object() || !j.contains("comment"))
		return std::string(kind) + ":" + j.dump();
	nlohmann::json k = j;
	k.erase("comment");
	return std::string(kind) + ":" + k.dump();
}

// Every limit of the datapath's tables the checker does not know, as an
// error pointing at the first thing over it.
std::vector<CheckError> limit_errors(const Ruleset &rs)
{
	std::vector<CheckError> errs;
	if (rs.nat.size() > FW_NAT_MAX)
		errs.push_back({"/nat/" + std::to_string(FW_NAT_MAX),
				"at most " + std::to_string(FW_NAT_MAX) + " nat rules are supported (this file has " +
					std::to_string(rs.nat.size()) + ")"});
	if (rs.port_forward.size() > FW_PF_MAX)
		errs.push_back({"/port-forward/" + std::to_string(FW_PF_MAX),
				"at most " + std::to_string(FW_PF_MAX) + " port forwards are supported (this file has " +
					std::to_string(rs.port_forward.size()) + ")"});
	for (size_t i = 0; i < rs.nat.size(); i++)
		if (rs.nat[i].exempt.size() > FW_NAT_MAX_EXEMPT)
			errs.push_back({"/nat/" + std::to_string(i) + "/exempt/" + std::to_string(FW_NAT_MAX_EXEMPT),
					"at most " + std::to_string(FW_NAT_MAX_EXEMPT) + " exempt prefixes are supported"});
	return errs;
}

fw_prefix4 prefix4(const Prefix &p)
{
	fw_prefix4 r{};
	memcpy(&r.addr, p.addr.data(), 4);
	r.mask = p.len ? htonl(~0u << (32 - p.len)) : 0;
	return r;
}

// A NAT rule as the datapath reads it. Masquerade takes the interface's
// address now; the watcher (`fwctl run` / `fwctl watch`) applies again when
// it changes (address events), so masquerade follows DHCP and PPP. 0 while
// there is none: the datapath drops those packets (counted).
fw_nat_rule nat_entry(const NatRule &n, uint32_t slot, const NetView &net)
{
	fw_nat_rule r{};
	r.out_ifindex = net.ifindex(n.out);
	if (n.to)
		memcpy(&r.to, n.to->addr.data(), 4);
	else
		r.to = net.ipv4(n.out);
	if (n.saddr)
		r.saddr = prefix4(*n.saddr);
	r.counter_slot = slot;
	r.n_exempt = (uint32_t)n.exempt.size();
	for (size_t j = 0; j < n.exempt.size(); j++)
		r.exempt[j] = prefix4(n.exempt[j]);
	return r;
}

fw_pf_rule pf_entry(const PortForward &f, uint32_t slot, const NetView &net)
{
	fw_pf_rule r{};
	r.in_ifindex = net.ifindex(f.in);
	if (f.daddr)
		memcpy(&r.daddr, f.daddr->addr.data(), 4);
	memcpy(&r.to_daddr, f.to_daddr.addr.data(), 4);
	if (f.dport) {
		r.dport_lo = f.dport->lo;
		r.dport_hi = f.dport->hi;
	}
	r.to_dport = f.to_dport.value_or(0);
	r.proto = f.proto;
	r.counter_slot = slot;
	return r;
}

fw_gen_cfg gen_config(const Ruleset &rs, const CompiledTables &t)
{
	fw_gen_cfg cfg{};
	cfg.policy[FW_CHAIN_INPUT] = rs.policy_input == Action::accept ? FW_VERDICT_ACCEPT : FW_VERDICT_DROP;
	cfg.policy[FW_CHAIN_FORWARD] =
		rs.policy_forward == Action::accept ? FW_VERDICT_ACCEPT : FW_VERDICT_DROP;
	for (int c = 0; c < FW_CHAINS; c++) {
		cfg.catchall[c] = t.catchall[c];
		if (t.ab_constant[c]) {
			cfg.flags |= FW_CFG_F_CONST_AB << c;
			cfg.const_ab[c] = t.const_ab[c];
		}
		cfg.iface_default_class[c][0] = t.iface_default_class[c][0];
		cfg.iface_default_class[c][1] = t.iface_default_class[c][1];
	}
	cfg.log_interval_ns = rs.log.interval_ns();
	cfg.log_burst = rs.log.burst;
	cfg.nat_count = (uint32_t)rs.nat.size();
	cfg.pf_count = (uint32_t)rs.port_forward.size();
	cfg.flags |= rs.fastpath ? FW_CFG_F_FASTPATH : 0;
	// No rule looks at a source port (port forwards never do): the drop
	// memo remembers a dropped flow for all of its source ports, so a
	// flood from changing ports is dropped from memory too.
	// Likewise for source addresses (port forwards never look at them,
	// masquerade acts on accepted packets only); apply clears it where
	// policy routing could route two sources apart (policy_rules.h).
	bool any_sport = true, any_saddr = true;
	for (const auto *chain : {&rs.input, &rs.forward})
		for (const auto &r : *chain) {
			any_sport = any_sport && !r.sport;
			any_saddr = any_saddr && !r.saddr;
		}
	cfg.flags |= any_sport ? FW_CFG_F_ANY_SPORT : 0;
	cfg.flags |= any_saddr ? FW_CFG_F_ANY_SADDR : 0;
	return cfg;
}

// The sections whose entries have counter slots, with their identity kind.
struct Section {
	const char *key, *kind;
	std::vector<uint32_t> AppliedState::*slots;
};
constexpr Section kSections[] = {{"input", "input", &AppliedState::slots_input},
				 {"forward", "forward", &AppliedState::slots_forward},
				 {"nat", "nat", &AppliedState::slots_nat},
				 {"port-forward", "pf", &AppliedState::slots_pf}};

// Gives every entry of `st` its counter slot (kept where the running
// ruleset has the same entry, unless `fresh`: `stats --reset`); returns the
// slots newly taken, to zero.
std::vector<uint32_t> assign_slots(const AppliedState *running, const nlohmann::json &canon, AppliedState &st,
				   bool fresh)
{
	SlotAllocator slots;
	if (running) {
		nlohmann::json old = running->ruleset_json();
		for (auto &s : kSections)
			if (old.contains(s.key))
				for (size_t i = 0; i < old[s.key].size() && i < (running->*s.slots).size(); i++)
					// fresh: still counting until the switch, so taken, never reused
					slots.add_old(fresh ? "" : identity(s.kind, old[s.key][i]),
						      (running->*s.slots)[i]);
	}
	// The canonical JSON holds each rule as rule_to_json() gives it.
	for (auto &s : kSections)
		if (canon.contains(s.key))
			for (auto &j : canon[s.key])
				(st.*s.slots).push_back(slots.take(identity(s.kind, j)));
	return std::move(slots.fresh);
}

// The new applied state, with its counter slots.
AppliedState new_state(const Ruleset &rs, const nlohmann::json &canon, const nlohmann::json &extra)
{
	AppliedState st;
	st.ruleset = rs;
	st.hash = hash_hex(canon.dump());
	st.applied_ns = realtime_ns();
	st.applied_at = iso_time_utc(st.applied_ns);
	st.elf_hash = datapath_elf_hash();
	st.extra = extra.is_object() ? extra : nlohmann::json::object();
	return st;
}

void fill_entries(const Ruleset &rs, const NetView &net, GenerationImage &img)
{
	const AppliedState &st = img.state;
	img.rules = img.tables.rules;
	for (size_t i = 0; i < img.rules.size(); i++)
		img.rules[i].counter_slot = img.rules[i].chain == FW_CHAIN_INPUT
						    ? st.slots_input.at(i)
						    : st.slots_forward.at(i - rs.input.size());
	for (size_t i = 0; i < rs.nat.size(); i++)
		img.nat.push_back(nat_entry(rs.nat[i], st.slots_nat.at(i), net));
	for (size_t i = 0; i < rs.port_forward.size(); i++)
		img.port_forwards.push_back(pf_entry(rs.port_forward[i], st.slots_pf.at(i), net));
	img.cfg = gen_config(rs, img.tables);
}

} // namespace

static std::string joined(const std::vector<CheckError> &errs)
{
	std::string m;
	for (auto &e : errs)
		m += (m.empty() ? "" : "; ") + (e.pointer.empty() ? "" : e.pointer + ": ") + e.message;
	return m;
}

PlanRejected::PlanRejected(std::vector<CheckError> e) : InputError(joined(e)), errors(std::move(e)) {}

PlanResult plan(const Ruleset &rs, const AppliedState *running, const NetView &net, const nlohmann::json &extra,
		bool fresh_counters)
{
	PlanResult res;
	res.errors = limit_errors(rs);
	if (!res.errors.empty())
		return res;
	GenerationImage img;
	try {
		PhaseTimer phase;
		img.tables = classifier_compile(rs, net.ifindex);
		phase("  compile");
		nlohmann::json canon = ruleset_to_json(rs);
		img.state = new_state(rs, canon, extra);
		phase("  state");
		img.fresh_slots = assign_slots(running, canon, img.state, fresh_counters);
		fill_entries(rs, net, img);
		phase("  entries");
		img.state_blob = applied_state_blob(img.state);
		phase("  state blob");
	} catch (const CompileError &e) {
		res.errors.push_back({"", e.what()});
		return res;
	} catch (const InputError &e) {
		res.errors.push_back({"", e.what()});
		return res;
	}
	res.image = std::move(img);
	return res;
}

} // namespace fw
