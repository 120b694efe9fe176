// status: what is attached where, what the ruleset names that is not
// covered, and what the pinned maps cost.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <set>

#include <csignal>
#include <unistd.h>
#include <bpf/bpf.h>

#include "absent_ifaces.h"
#include "commands.h"
#include "confirm.h"
#include "stack.h"

namespace fw::cli {

namespace {

using nlohmann::json;

// An unconfirmed apply (`apply --confirm`): when it rolls back, to what.
void add_confirm(json &s, const AppliedState &st)
{
	if (auto pc = PendingConfirm::from_state(st)) {
		int64_t left = (int64_t)(pc->deadline_mono_ns - monotonic_ns()) / 1000000000;
		s["confirm"] = {{"pending", true},
				{"deadline_at", pc->deadline_at},
				{"seconds_left", left > 0 ? left : 0},
				{"rolls_back_to", pc->previous_hash},
				{"waiter_pid", pc->waiter_pid},
				{"waiter_alive", pc->waiter_pid > 0 && kill(pc->waiter_pid, 0) == 0}};
	}
	if (st.extra.contains("reverted"))
		s["reverted"] = st.extra["reverted"];
}

// Interfaces: attached, judged at a stacked device's owner, or not covered.
void add_coverage(json &s, const Runtime &rt, const std::optional<AppliedState> &st)
{
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
	s["absent"] = st ? json(absent_interface_names(st->ruleset_json())) : json::array();
}

// Kernel memory of the pinned maps (what a ruleset and the connection
// table cost); absent when nothing is loaded.
void add_memory(json &s, const Runtime &rt)
{
	auto maps = rt.map_memory();
	if (maps.empty())
		return;
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

// The fast path's route cache (bpf/lib/route_cache.h): whether the route
// hooks tell it of changes at once, or only its 134 ms age limit does.
void add_route_cache(json &s, const Runtime &rt)
{
	int f = rt.map_fd("fw_route_epoch");
	if (f < 0)
		return;
	uint32_t zero = 0, epoch = 0;
	bpf_map_lookup_elem(f, &zero, &epoch);
	close(f);
	s["route_cache"] = {{"hooks", rt.route_hooks_attached()}, {"epoch", epoch}, {"max_age_ms", 134}};
}

json status_json(const Runtime &rt, const std::optional<AppliedState> &st, const std::string &pin_dir)
{
	json s;
	s["pin_dir"] = pin_dir;
	s["applied"] = (bool)st;
	if (st) {
		s["hash"] = st->hash;
		s["applied_at"] = st->applied_at;
		add_confirm(s, *st);
	}
	add_coverage(s, rt, st);
	add_memory(s, rt);
	add_route_cache(s, rt);
	return s;
}

void print_memory_text(const json &s)
{
	auto mib = [](uint64_t b) {
		char buf[32];
		snprintf(buf, sizeof buf, "%.1f MiB", (double)b / (1 << 20));
		return std::string(buf);
	};
	const json &maps = s["memory"]["maps"];
	uint64_t ct = 0;
	for (auto &x : maps)
		if (x["name"] == "fw_ct")
			ct = x["bytes"].get<uint64_t>();
	std::cout << "memory " << mib(s["memory"]["total_bytes"].get<uint64_t>()) << " in " << maps.size()
		  << " maps; connection table " << mib(ct) << " for "
		  << s["conntrack"]["max_connections"].get<uint32_t>()
		  << " connections (`status --json` lists every map)\n";
}

void print_status_text(const json &s, const AppliedState &st)
{
	std::cout << "ruleset " << st.hash << " applied " << st.applied_at << "\n";
	if (s.contains("confirm"))
		std::cout << "  UNCONFIRMED: rolls back at " << s["confirm"]["deadline_at"].get<std::string>()
			  << " unless `fwctl confirm` runs"
			  << (s["confirm"]["waiter_alive"].get<bool>() ? ""
								   : " (its waiter is gone: `fwctl confirm` "
								     "after the deadline rolls back)")
			  << "\n";
	for (auto &a : s["attachments"])
		std::cout << "  " << std::left << std::setw(16) << a["interface"].get<std::string>()
			  << std::setw(12) << a["hook"].get<std::string>() << std::setw(10)
			  << a["mode"].get<std::string>() << a["program"].get<std::string>()
			  << (a["attached"].get<bool>() ? "" : "  (detached: interface gone)") << "\n";
	for (auto &u : s["stacked"])
		std::cout << "  " << std::left << std::setw(16) << u["interface"].get<std::string>()
			  << "stacked: " << u["why"].get<std::string>() << "\n";
	for (auto &u : s["uncovered"])
		std::cout << "  " << std::left << std::setw(16) << u["interface"].get<std::string>()
			  << "NOT covered: " << u["why"].get<std::string>() << "\n";
	for (auto &n : s["absent"])
		std::cout << "  " << std::left << std::setw(16) << n.get<std::string>()
			  << "absent: named by the ruleset, does not exist now (its rules apply when it appears)\n";
	if (s.contains("memory"))
		print_memory_text(s);
	if (s.contains("route_cache") && !s["route_cache"]["hooks"].get<bool>())
		std::cout << "route cache without hooks (the kernel refused them): a route change "
			     "reaches established connections within 134 ms\n";
}

} // namespace

void register_status_command(CLI::App &app, Context &ctx)
{
	static bool as_json = false;

	auto *status = app.add_subcommand("status", "what is attached where; the applied ruleset");
	status->add_flag("--json", as_json, "one JSON document");
	status->callback([&ctx] {
		Runtime rt(ctx.pin_dir);
		rt.prepare(false, Runtime::Lock::shared);
		auto st = rt.applied();
		json s = status_json(rt, st, ctx.pin_dir);
		if (as_json)
			std::cout << s.dump(2) << "\n";
		else if (!st)
			std::cout << "nothing applied at " << ctx.pin_dir << "\n";
		else
			print_status_text(s, *st);
	});
}

} // namespace fw::cli
