// stats: what the datapath counted (status: cmd_status.cpp).
#include <iomanip>
#include <iostream>

#include "commands.h"
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
			{"fastpath", counter_json(rt.stat_counter(FW_STAT_FASTPATH))},
			{"drop_memo", counter_json(rt.stat_counter(FW_STAT_DROP_MEMO))},
			{"nat_checksum_unsure", counter_json(rt.stat_counter(FW_STAT_NAT_CSUM_UNSURE))}};
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
		  << ", port exhausted " << s["other"]["nat_port_exhausted"].get<uint64_t>()
		  << ", checksum unsure " << s["other"]["nat_checksum_unsure"]["packets"].get<uint64_t>()
		  << "\n";
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
}

} // namespace fw::cli
