// stats and status: what the datapath counted, and where it is attached.
#include <iomanip>
#include <iostream>
#include <set>

#include <csignal>

#include "absent_ifaces.h"
#include "commands.h"
#include "stack.h"
#include "confirm.h"
#include "stats_export.h"

namespace fw::cli {

namespace {

using nlohmann::json;

// A rule's match as one WeOS-style line, e.g. "in vlan2 proto udp dport 500".
std::string match_text(const json &r)
{
	std::string s;
	for (const char *k : {"in", "out", "saddr", "daddr", "proto", "sport", "dport"})
		if (r.contains(k)) {
			const json &v = r[k];
			s += std::string(s.empty() ? "" : " ") + k + " " +
			     (v.is_string() ? v.get<std::string>() : v.dump());
		}
	return s.empty() ? "(any)" : s;
}

json counter_json(const CounterValue &c)
{
	return {{"packets", c.packets}, {"bytes", c.bytes}};
}

} // namespace

json stats_json(const Runtime &rt, const AppliedState &st)
{
	json out;
	json chains = json::object();
	const json rs = st.ruleset_json();
	for (const char *chain : {"input", "forward"}) {
		const auto &slots = std::string(chain) == "input" ? st.slots_input : st.slots_forward;
		CounterValue pol = rt.stat_counter(std::string(chain) == "input" ? FW_STAT_POLICY_INPUT
										  : FW_STAT_POLICY_FORWARD);
		json c;
		c["policy"] = rs.contains("policy") && rs["policy"].contains(chain) ? rs["policy"][chain]
										       : json("accept");
		c["policy_packets"] = pol.packets;
		c["policy_bytes"] = pol.bytes;
		json rules = json::array();
		if (rs.contains(chain))
			for (size_t i = 0; i < rs[chain].size(); i++) {
				const json &r = rs[chain][i];
				CounterValue v = rt.rule_counter(slots.at(i));
				rules.push_back({{"position", i + 1},
						 {"action", r.value("action", "")},
						 {"comment", r.value("comment", "")},
						 {"match", match_text(r)},
						 {"log", r.value("log", false)},
						 {"packets", v.packets},
						 {"bytes", v.bytes}});
			}
		c["rules"] = rules;
		chains[chain] = c;
	}
	out["chains"] = chains;
	for (const char *kind : {"nat", "port-forward"}) {
		const auto &slots = std::string(kind) == "nat" ? st.slots_nat : st.slots_pf;
		json arr = json::array();
		for (size_t i = 0; i < slots.size(); i++) {
			CounterValue v = rt.rule_counter(slots[i]);
			json e = {{"position", i + 1}, {"packets", v.packets}, {"bytes", v.bytes}};
			if (rs.contains(kind) && i < rs[kind].size() && rs[kind][i].contains("comment"))
				e["comment"] = rs[kind][i]["comment"];
			arr.push_back(e);
		}
		out[kind] = arr;
	}
	out["log"] = {{"events", rt.stat_counter(FW_STAT_LOG_EVENTS).packets},
		      {"suppressed", rt.stat_counter(FW_STAT_LOG_SUPPRESSED).packets}};
	out["state"] = {{"established", counter_json(rt.stat_counter(FW_STAT_CT_ESTABLISHED))},
			{"related", counter_json(rt.stat_counter(FW_STAT_CT_RELATED))},
			{"invalid", counter_json(rt.stat_counter(FW_STAT_CT_INVALID))},
			{"new", rt.stat_counter(FW_STAT_CT_NEW).packets},
			{"table_full", rt.stat_counter(FW_STAT_CT_FULL).packets}};
	out["other"] = {{"not_ip", rt.stat_counter(FW_STAT_NOT_IP).packets},
			{"malformed", counter_json(rt.stat_counter(FW_STAT_MALFORMED))},
			{"neighbour_discovery", counter_json(rt.stat_counter(FW_STAT_ND))},
			{"fragments_without_first", counter_json(rt.stat_counter(FW_STAT_FRAG_POLICY))},
			{"nat_port_exhausted", rt.stat_counter(FW_STAT_NAT_FAIL).packets},
			{"nat_leak", counter_json(rt.stat_counter(FW_STAT_NAT_LEAK))},
			{"nat_no_address", counter_json(rt.stat_counter(FW_STAT_NAT_NO_ADDR))},
			{"reject_sent", rt.stat_counter(FW_STAT_REJECT_SENT).packets},
			{"reject_rate_limited", rt.stat_counter(FW_STAT_REJECT_LIMITED).packets},
			{"fastpath", counter_json(rt.stat_counter(FW_STAT_FASTPATH))}};
	return out;
}

namespace {

void print_stats_text(const json &s)
{
	for (const char *chain : {"input", "forward"}) {
		const json &c = s["chains"][chain];
		std::cout << "chain " << chain << " (policy " << c["policy"].get<std::string>() << ")\n";
		std::cout << "  " << std::left << std::setw(4) << "pos" << std::setw(8) << "action"
			  << std::right << std::setw(12) << "packets" << std::setw(14) << "bytes"
			  << "  match / comment\n";
		for (auto &r : c["rules"]) {
			std::cout << "  " << std::left << std::setw(4) << r["position"].get<int>() << std::setw(8)
				  << r["action"].get<std::string>() << std::right << std::setw(12)
				  << r["packets"].get<uint64_t>() << std::setw(14) << r["bytes"].get<uint64_t>()
				  << "  " << r["match"].get<std::string>();
			if (!r["comment"].get<std::string>().empty())
				std::cout << "  \"" << escape_text(r["comment"].get<std::string>()) << "\"";
			std::cout << "\n";
		}
		std::cout << "  " << std::left << std::setw(12) << "policy" << std::right << std::setw(12)
			  << c["policy_packets"].get<uint64_t>() << std::setw(14)
			  << c["policy_bytes"].get<uint64_t>() << "\n";
	}
	for (const char *kind : {"nat", "port-forward"})
		for (auto &e : s[kind])
			std::cout << kind << " " << e["position"].get<int>() << ": " << e["packets"].get<uint64_t>()
				  << " packets, " << e["bytes"].get<uint64_t>() << " bytes\n";
	const json &st = s["state"];
	std::cout << "state: established " << st["established"]["packets"].get<uint64_t>() << ", related "
		  << st["related"]["packets"].get<uint64_t>() << ", invalid "
		  << st["invalid"]["packets"].get<uint64_t>() << ", new " << st["new"].get<uint64_t>()
		  << ", table full " << st["table_full"].get<uint64_t>() << "\n";
	std::cout << "nat: leaks dropped " << s["other"]["nat_leak"]["packets"].get<uint64_t>()
		  << ", port exhausted " << s["other"]["nat_port_exhausted"].get<uint64_t>() << "\n";
	std::cout << "log: " << s["log"]["events"].get<uint64_t>() << " events, "
		  << s["log"]["suppressed"].get<uint64_t>() << " suppressed\n";
}

} // namespace

void register_stats_commands(CLI::App &app, Context &ctx)
{
	static bool as_json = false, prometheus = false, reset = false;

	auto *stats = app.add_subcommand("stats", "per-rule, policy, state, NAT and log counters");
	auto *j = stats->add_flag("--json", as_json, "one JSON document");
	auto *p = stats->add_flag("--prometheus", prometheus, "the Prometheus text exposition format");
	stats->add_flag("--reset", reset, "zero every counter (one atomic switch for the rules'; docs/ops.md)")
		->excludes(j)
		->excludes(p);
	j->excludes(p);
	stats->callback([&ctx] {
		Runtime rt(ctx.pin_dir);
		// A reset holds the apply lock (it cannot interleave with an apply);
		// readers share theirs, so they never delay a confirm's rollback.
		rt.prepare(false, reset ? Runtime::Lock::exclusive : Runtime::Lock::shared);
		auto st = rt.applied();
		if (!st)
			throw SystemError("nothing is applied at " + ctx.pin_dir + " (run `fwctl apply FILE`)");
		if (reset) {
			reset_counters(rt, *st);
			std::cout << "counters reset\n";
			return;
		}
		if (prometheus) {
			std::cout << prometheus_text(rt, *st);
			return;
		}
		json s = stats_json(rt, *st);
		if (as_json)
			std::cout << s.dump(2) << "\n";
		else
			print_stats_text(s);
	});

	auto *status = app.add_subcommand("status", "what is attached where; the applied ruleset");
	status->add_flag("--json", as_json, "one JSON document");
	status->callback([&ctx] {
		Runtime rt(ctx.pin_dir);
		rt.prepare(false, Runtime::Lock::shared);
		auto st = rt.applied();
		json s;
		s["pin_dir"] = ctx.pin_dir;
		s["applied"] = (bool)st;
		if (st) {
			s["hash"] = st->hash;
			s["applied_at"] = st->applied_at;
			if (auto pc = PendingConfirm::from_state(*st)) {
				int64_t left = (int64_t)(pc->deadline_mono_ns - monotonic_ns()) / 1000000000;
				s["confirm"] = {{"pending", true},
						{"deadline_at", pc->deadline_at},
						{"seconds_left", left > 0 ? left : 0},
						{"rolls_back_to", pc->previous_hash},
						{"waiter_pid", pc->waiter_pid},
						{"waiter_alive", pc->waiter_pid > 0 && kill(pc->waiter_pid, 0) == 0}};
			}
			if (st->extra.contains("reverted"))
				s["reverted"] = st->extra["reverted"];
		}
		json att = json::array();
		std::set<std::string> covered;
		for (auto &a : rt.attachments()) {
			att.push_back({{"interface", a.ifname}, {"ifindex", a.ifindex}, {"hook", a.hook},
				       {"mode", a.mode}, {"program", a.program}, {"attached", a.live}});
			if (a.live)
				covered.insert(a.ifname);
		}
		s["attachments"] = att;
		json uncovered = json::array(), stacked = json::array();
		if (st) {
			auto sel = st->ruleset.interfaces ? *st->ruleset.interfaces : netns_interfaces();
			for (auto &[n, why] : stack_covered_now(sel)) { // docs/stacked.md
				stacked.push_back({{"interface", n}, {"why", why}});
				covered.insert(n);
			}
		}
		s["stacked"] = stacked;
		if (st)
			for (auto &n : netns_interfaces())
				if (!covered.count(n)) {
					const auto &names = st->ruleset.interfaces;
					bool selected = !names || std::count(names->begin(), names->end(), n);
					uncovered.push_back(
						{{"interface", n},
						 {"why", selected ? "selected but not attached: it appeared after "
								    "apply and no watcher attached it (run "
								    "fwctl.service / `fwctl run` or `fwctl watch`, or "
								    "re-apply)"
								  : "not in the ruleset's \"interfaces\""}});
				}
		s["uncovered"] = uncovered;
		// Names the ruleset uses that do not exist now (rules match by
		// name: they apply when the interface appears).
		json absent = st ? json(absent_interface_names(st->ruleset_json())) : json::array();
		s["absent"] = absent;
		// Kernel memory of the pinned maps (what a ruleset and the
		// connection table cost); absent when nothing is loaded.
		auto maps = rt.map_memory();
		if (!maps.empty()) {
			json m = json::array();
			uint64_t total = 0;
			for (auto &x : maps) {
				m.push_back({{"name", x.name}, {"type", x.type}, {"max_entries", x.max_entries},
					     {"bytes", x.bytes}});
				total += x.bytes;
			}
			s["memory"] = {{"total_bytes", total}, {"maps", m}};
			s["conntrack"] = {{"max_connections", rt.ct_capacity()}};
		}
		if (as_json) {
			std::cout << s.dump(2) << "\n";
			return;
		}
		if (!st) {
			std::cout << "nothing applied at " << ctx.pin_dir << "\n";
			return;
		}
		std::cout << "ruleset " << st->hash << " applied " << st->applied_at << "\n";
		if (s.contains("confirm"))
			std::cout << "  UNCONFIRMED: rolls back at " << s["confirm"]["deadline_at"].get<std::string>()
				  << " unless `fwctl confirm` runs"
				  << (s["confirm"]["waiter_alive"].get<bool>() ? ""
									   : " (its waiter is gone: `fwctl confirm` "
									     "after the deadline rolls back)")
				  << "\n";
		for (auto &a : att)
			std::cout << "  " << std::left << std::setw(16) << a["interface"].get<std::string>()
				  << std::setw(12) << a["hook"].get<std::string>() << std::setw(10)
				  << a["mode"].get<std::string>() << a["program"].get<std::string>()
				  << (a["attached"].get<bool>() ? "" : "  (detached: interface gone)") << "\n";
		for (auto &u : stacked)
			std::cout << "  " << std::left << std::setw(16) << u["interface"].get<std::string>()
				  << "stacked: " << u["why"].get<std::string>() << "\n";
		for (auto &u : uncovered)
			std::cout << "  " << std::left << std::setw(16) << u["interface"].get<std::string>()
				  << "NOT covered: " << u["why"].get<std::string>() << "\n";
		for (auto &n : absent)
			std::cout << "  " << std::left << std::setw(16) << n.get<std::string>()
				  << "absent: named by the ruleset, does not exist now (its rules apply when it appears)\n";
		if (s.contains("memory")) {
			auto mib = [](uint64_t b) {
				char buf[32];
				snprintf(buf, sizeof buf, "%.1f MiB", (double)b / (1 << 20));
				return std::string(buf);
			};
			uint64_t ct = 0;
			for (auto &x : maps)
				if (x.name == "fw_ct")
					ct = x.bytes;
			std::cout << "memory " << mib(s["memory"]["total_bytes"].get<uint64_t>()) << " in "
				  << maps.size() << " maps; connection table " << mib(ct) << " for "
				  << rt.ct_capacity() << " connections (`status --json` lists every map)\n";
		}
	});
}

} // namespace fw::cli
