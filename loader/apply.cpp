// The apply transaction: compile, write the inactive generation (classifier
// tables, rules with counter slots, NAT, config, applied state), switch,
// attach. Any throw before the switch leaves the running ruleset in place.
#include "ipsec_guard.h"
#include "runtime.h"
#include "policy_rules.h"
#include "combine_table.h"

#include <arpa/inet.h>
#include <chrono>
#include <cstring>
#include <iostream>
#include <net/if.h>
#include <set>
#include <unistd.h>
#include <unordered_map>

#include <bpf/bpf.h>

#include "plan.h"
#include "stack.h"
#include "fault.h"
#include "trace.h"

namespace fw {

namespace {

// What it takes to turn one generation of a classifier map into the new
// tables: the keys it has that the new tables lack, and the entries that
// are new or whose value changed. Entries already equal are left alone, so
// re-applying a similar ruleset writes little.
template <class K> struct GenerationDiff {
	std::vector<K> stale;
	std::vector<K> keys;
	std::vector<uint32_t> vals;

	GenerationDiff(int fd, uint32_t gen, std::vector<K> want_keys, std::vector<uint32_t> want_vals,
		       const char *what)
	{
		std::unordered_map<K, std::pair<uint32_t, bool>, KeyBytesHash<K>, KeyBytesEq<K>> have;
		for (auto &[k, v] : map_entries<K, uint32_t>(fd, what))
			if (k.gen == gen)
				have.emplace(k, std::make_pair(v, false));
		if (have.empty()) {
			keys = std::move(want_keys);
			vals = std::move(want_vals);
			return;
		}
		for (size_t i = 0; i < want_keys.size(); i++) {
			auto it = have.find(want_keys[i]);
			if (it != have.end()) {
				it->second.second = true;
				if (it->second.first == want_vals[i])
					continue;
			}
			keys.push_back(want_keys[i]);
			vals.push_back(want_vals[i]);
		}
		for (auto &[k, v] : have)
			if (!v.second)
				stale.push_back(k);
	}
};

// The interfaces the ruleset selects, with their indexes now.
ApplyTargets resolve_targets(const Ruleset &rs)
{
	ApplyTargets targets;
	for (auto &n : rs.interfaces ? *rs.interfaces : netns_interfaces()) {
		// Absent (not created yet, or gone since the check): the watcher
		// attaches it when it appears; check/apply warned already.
		uint32_t idx = if_nametoindex(n.c_str());
		if (idx)
			targets.emplace_back(n, idx);
	}
	return targets;
}

} // namespace

PlanResult Runtime::plan_against_running(const Ruleset &rs, const nlohmann::json &extra) const
{
	std::optional<AppliedState> running;
	// Replacing another ABI's datapath: nothing of it is read (its
	// counters and connections are not kept).
	if (!replace_incompatible_ && loaded())
		running = check_running(rs);
	return plan(rs, running ? &*running : nullptr, NetView::this_netns(), extra, fresh_counters_);
}

void Runtime::apply(const Ruleset &rs, const nlohmann::json &extra)
{
	PhaseTimer phase;
	// Nothing loaded: this apply loads fresh (commit), and its largest maps
	// take longer than the compile; they start now.
	if (!replace_incompatible_ && !loaded())
		big_maps_ahead_.start(rs.ct_connections());
	PlanResult p = plan_against_running(rs, extra);
	if (!p.image)
		throw PlanRejected(p.errors);
	fault_point("compile");
	phase("plan");
	commit(*p.image);
}

// What a first load verifies: the programs of Ethernet-like interfaces
// (most of what a router has) and those the interfaces this apply attaches
// to need. The others (the L3 variants for TUN and PPP devices, the IPsec
// ingress ones) are verified when an interface first needs them, or by
// the watcher as it starts: the verifier's time is most of a first apply.
static std::set<std::string> programs_needed(const StackPlan &plan)
{
	std::set<std::string> p = {"fw_xdp", "fw_tc_egress", "fw_tc_ingress", "fw_tc_reject"};
	for (auto &[name, idx] : plan.attach)
		if (is_l3_device(name)) {
			p.insert("fw_xdp_l3");
			p.insert("fw_tc_egress_l3");
		}
	for (auto &[name, idx] : plan.xfrm_only)
		p.insert(is_l3_device(name) ? "fw_tc_ingress_xfrm_l3" : "fw_tc_ingress_xfrm");
	return p;
}

void Runtime::commit(const GenerationImage &img)
{
	auto t0 = std::chrono::steady_clock::now();
	PhaseTimer phase;
	// Hook objects loaded ahead belong to this apply's datapath only.
	struct ClearAhead {
		HooksAhead &h;
		BigMapsAhead &m;
		~ClearAhead()
		{
			h.clear();
			m.clear();
		}
	} clear_ahead{hooks_ahead_, big_maps_ahead_};
	const Ruleset &rs = img.state.ruleset;
	ApplyTargets targets = resolve_targets(rs);
	// Stacked devices: who judges for whom (stack.h, docs/stacked.md).
	auto links = stack_read_links();
	StackPlan plan = stack_plan(links, targets);
	datapath_change_.clear();
	bool fresh_load;
	if (replace_incompatible_) {
		fresh_load = access(pin_path("fw_active").c_str(), F_OK) != 0 &&
			     access(pin_path("fw_abi").c_str(), F_OK) != 0;
		if (!fresh_load) {
			load_replacement(false, rs.ct_connections());
			datapath_change_ = "replaced";
		}
	} else {
		fresh_load = !loaded();
		auto running = fresh_load ? std::nullopt : applied();
		if (running && running->elf_hash != datapath_elf_hash()) {
			// Another build of this ABI: take its pins over in place.
			load_replacement(true, ct_capacity());
			datapath_change_ = "upgraded";
		}
	}
	// A fresh datapath's fw_active is zero (not valid): its first
	// generation is 1.
	constexpr uint32_t first_gen = 1;
	if (fresh_load)
		load_fresh(rs.ct_connections(), programs_needed(plan), first_gen, img.tables.combines.size());
	struct fw_active act {};
	uint32_t zero = 0;
	if (bpf_map_lookup_elem(fd("fw_active"), &zero, &act) != 0)
		throw SystemError(errno_message("cannot read fw_active", errno));
	uint32_t gen = act.valid ? (act.gen ^ 1) : first_gen;
	// Before the switch: the new generation's fast path never runs
	// without knowing about IPsec policies (ipsec_guard.h).
	write_ipsec_guard(fd("fw_ipsec_guard"));
	fault_point("load");
	phase(fresh_load ? "load and pin" : "open pins");

	write_classifier(gen, img.tables);
	phase("write tables");
	write_rules(gen, img);
	fault_point("rules");
	phase("rules, counters, config");
	write_applied_state(fd("fw_meta"), gen, img.state_blob);
	fault_point("meta");
	phase("applied state");

	stack_write_maps(fd("fw_stack_if"), fd("fw_stack"), links, targets);
	switch_and_attach(gen, act, fresh_load, plan);
	phase("switch and attach");
	write_fast_if(plan.attach);
	detach_others(plan);
	last_hash_ = img.state.hash;
	last_apply_ns_ = (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(
				 std::chrono::steady_clock::now() - t0)
				 .count();
}

// The running datapath must come from this build and have the table size
// the ruleset asks for; returns its applied state.
std::optional<AppliedState> Runtime::check_running(const Ruleset &rs) const
{
	// Another build of this ABI (fd() refused any other): commit takes
	// its pins over (load_replacement), connections and counters kept.
	std::optional<AppliedState> old = applied();
	// The table cannot be resized under running programs, and a silent
	// reload would drop every connection: refuse, change nothing.
	// An absent key keeps the running table (the default is for loading).
	uint32_t running = ct_capacity();
	if (rs.ct_max_connections && running != rs.ct_connections())
		throw InputError("the running connection table holds " + std::to_string(running) +
				 " connections; this ruleset asks for " + std::to_string(rs.ct_connections()) +
				 " (\"conntrack\": {\"max-connections\"}). The size is fixed while the firewall runs: `fwctl down` first (detaches "
				 "it and forgets every connection), then apply; or keep max-connections at " +
				 std::to_string(running));
	return old;
}

// Brings the inactive generation's classifier maps to the new tables:
// first removes what the new tables lack, then writes what is new or changed.
void Runtime::write_classifier(uint32_t gen, const CompiledTables &t)
{
	PhaseTimer phase;
	std::vector<fw_iface_key> iface_keys;
	std::vector<fw_addr_key> addr_keys;
	std::vector<fw_combine_key> combine_keys;
	std::vector<uint32_t> iface_vals, addr_vals, combine_vals;
	for (auto &e : t.ifaces) {
		iface_keys.push_back(fw_iface_key{e.ifindex, (uint8_t)gen, e.chain, e.dir, 0});
		iface_vals.push_back(e.cls);
	}
	for (auto &e : t.addrs) {
		fw_addr_key k{};
		k.prefixlen = 32u + e.len;
		k.gen = (uint8_t)gen;
		k.chain = e.chain;
		k.family = e.family;
		k.dir = e.dir;
		memcpy(k.addr, e.addr.data(), 16);
		addr_keys.push_back(k);
		addr_vals.push_back(e.cls);
	}
	combine_keys.reserve(t.combines.size());
	combine_vals.reserve(t.combines.size());
	for (auto &e : t.combines) {
		combine_keys.push_back(fw_combine_key{e.a, e.b, (uint8_t)gen, e.chain, e.stage, 0});
		combine_vals.push_back(e.value);
	}
	CombineTable combine = combine_table_for(fd("fw_cls_combine"), gen, combine_keys.size());
	int iface_fd = fd("fw_cls_iface"), addr_fd = fd("fw_cls_addr"), combine_fd = combine.fd.fd;
	GenerationDiff<fw_iface_key> ifaces(iface_fd, gen, std::move(iface_keys), std::move(iface_vals),
					    "interface classes");
	GenerationDiff<fw_addr_key> addrs(addr_fd, gen, std::move(addr_keys), std::move(addr_vals),
					  "address classes");
	GenerationDiff<fw_combine_key> combines(combine_fd, gen, std::move(combine_keys),
						std::move(combine_vals), "classifier combinations");
	map_delete_all(iface_fd, ifaces.stale, "interface classes");
	map_delete_all(addr_fd, addrs.stale, "address classes");
	map_delete_all(combine_fd, combines.stale, "classifier combinations");
	fault_point("empty");
	phase("diff, remove stale entries");

	map_update_all(iface_fd, ifaces.keys, ifaces.vals, "interface classes");
	map_update_all(addr_fd, addrs.keys, addrs.vals, "address classes");
	fault_point("write");
	map_update_all(combine_fd, combines.keys, combines.vals, "classifier combinations");
	if (combine.fresh)
		combine_table_install(fd("fw_cls_combine"), gen, combine_fd);
	write_port_and_proto_classes(gen, t);
}

void Runtime::write_port_and_proto_classes(uint32_t gen, const CompiledTables &t)
{
	Mapped ports(fd("fw_cls_port"), sizeof(uint64_t) * FW_PORT_ENTRIES);
	for (uint32_t c = 0; c < FW_CHAINS; c++)
		for (uint32_t d = 0; d < 2; d++) {
			uint64_t *dst = ports.as<uint64_t>() + fw_port_index(gen, c, d, 0);
			for (uint32_t i = 0; i < FW_PORT_SLOTS; i++)
				dst[i] = t.ports[c][d][i];
		}
	Mapped protos(fd("fw_cls_proto"), sizeof(uint64_t) * FW_PROTO_ENTRIES);
	for (uint32_t c = 0; c < FW_CHAINS; c++)
		for (uint32_t i = 0; i < 256; i++)
			protos.as<uint64_t>()[(gen * FW_CHAINS + c) * 256 + i] = t.protos[c][i];
}

// Rules with their counter slots (new slots zeroed first), NAT, port
// forwards and the generation config.
void Runtime::write_rules(uint32_t gen, const GenerationImage &img)
{
	rule_counters().zero(img.fresh_slots);
	Mapped rules(fd("fw_rules"), sizeof(fw_rule) * FW_GENS * FW_MAX_RULES);
	std::copy(img.rules.begin(), img.rules.end(), rules.as<fw_rule>() + gen * FW_MAX_RULES);
	int nat_fd = fd("fw_nat"), pf_fd = fd("fw_pf");
	for (uint32_t i = 0; i < img.nat.size(); i++) {
		uint32_t k = gen * FW_NAT_MAX + i;
		map_update(nat_fd, &k, &img.nat[i], "NAT rules");
	}
	for (uint32_t i = 0; i < img.port_forwards.size(); i++) {
		uint32_t k = gen * FW_PF_MAX + i;
		map_update(pf_fd, &k, &img.port_forwards[i], "port forwards");
	}
	// A serial the datapath has not seen (its drop memo must forget what
	// other rulesets dropped, bpf/lib/drop_memo.h): one more than either
	// generation's, the one being replaced included (a rolled-back apply
	// may have run it for a moment).
	fw_gen_cfg cfg = img.cfg;
	if (policy_routing_rules_present())
		cfg.flags &= (uint8_t)~FW_CFG_F_ANY_SADDR; // routes may tell sources apart
	for (uint32_t g = 0; g < FW_GENS; g++) {
		fw_gen_cfg seen{};
		if (bpf_map_lookup_elem(fd("fw_gen_cfg"), &g, &seen) == 0 && seen.serial >= cfg.serial)
			cfg.serial = seen.serial + 1;
	}
	map_update(fd("fw_gen_cfg"), &gen, &cfg, "the generation config");
}

// The switch: one array write; every attached program reads the new
// generation from its next packet on. Then attach to interfaces not
// covered yet, so they never run without a complete ruleset. If that
// fails, switch back: the previous ruleset keeps running.
void Runtime::switch_and_attach(uint32_t gen, const fw_active &previous, bool fresh_load,
				const StackPlan &plan)
{
	uint32_t zero = 0;
	struct fw_active next {gen, 1};
	map_update(fd("fw_active"), &zero, &next, "fw_active");
	bool swapped = false;
	try {
		fault_point("flip");
		// A datapath of another build: every link to this build's program
		// (the generation just written is in the maps they read).
		swapped = next_ != nullptr;
		swap_datapath();
		PhaseTimer phase;
		detach_uppers_of(plan); // the kernel refuses XDP below an upper that has one
		for (auto &[name, idx] : plan.attach)
			attach_unless_vanished(idx, name);
		attach_xfrm_ingress(plan);
		phase("  interfaces");
		if (fresh_load) {
			attach_xfrm_output();
			phase("  IPsec hooks");
			attach_route_hooks();
			phase("  route hooks");
		}
		if (xfrm_policies_present())
			xfrm_epoch_bump(); // the fast path's guard on (bpf/lib/xfrm_fast.h)
		fault_point("attach");
	} catch (...) {
		if (fresh_load) {
			remove_all_pins();
		} else if (next_ && !swapped) {
			// Nothing runs the new objects yet: drop them. Reused maps
			// get their previous generation back.
			if (datapath_change_ == "upgraded")
				bpf_map_update_elem(fd("fw_active"), &zero, &previous, BPF_ANY);
			drop_replacement();
		} else if (datapath_change_ != "replaced") {
			bpf_map_update_elem(fd("fw_active"), &zero, &previous, BPF_ANY);
		}
		throw;
	}
}

// An interface deleted between the check and its attach (a PPP link going
// down) is skipped with a warning: the watcher covers it if it comes back,
// and the rest of the ruleset must not fail for it.
void Runtime::attach_unless_vanished(uint32_t ifindex, const std::string &ifname)
{
	try {
		attach(ifindex, ifname);
	} catch (const SystemError &) {
		if (if_nametoindex(ifname.c_str()) == ifindex)
			throw;
		std::cerr << "fwctl: warning: interface " << ifname << " (ifindex " << ifindex
			  << ") vanished during apply: skipped\n";
	}
}

// Where the fast path may send packets, and whose packets it must check
// first; the latter also tells ingress NAT where a checksum field may hold
// a seed (bpf/lib/nat.h fw_nat_dnat_seed), so it is written with the fast
// path off too. Cleared first, then set: in between an interface is at
// worst not fast (its packets take the stack) and treated as one whose
// checksums may be unfinished, never fast unchecked.
void Runtime::write_fast_if(const ApplyTargets &targets)
{
	Mapped m(fd("fw_fast_if"), sizeof(uint64_t) * FW_FAST_IF_MAX);
	uint64_t *flags = m.as<uint64_t>();
	for (uint32_t i = 0; i < FW_FAST_IF_MAX; i++)
		if (flags[i])
			__atomic_store_n(&flags[i], 0ull, __ATOMIC_RELAXED);
	for (auto &[name, idx] : targets)
		if (idx < FW_FAST_IF_MAX)
			__atomic_store_n(&flags[idx], (uint64_t)fast_if_flags(name, idx), __ATOMIC_RELEASE);
}

// Detaches interfaces that left the selection, and links of vanished ones.
void Runtime::detach_others(const StackPlan &plan)
{
	std::set<std::string> wanted = stack_wanted_pins(plan);
	for (auto &a : attachments())
		if (!a.live || !wanted.count(a.pin)) {
			detach_pin(a.pin.substr(pin_dir_.size() + 1));
			unlink(a.pin.c_str());
		}
}

} // namespace fw
