// plan_diff: what a planned generation changes against the running one,
// for `fwctl diff FILE` and `fwctl apply FILE --dry-run`.
#include "plan.h"

#include <map>
#include <set>

namespace fw {

namespace {

struct Entry {
	size_t position; // 1-based
	std::string text;
	uint32_t slot;
};

std::vector<Entry> entries(const nlohmann::json &canon, const char *key, const std::vector<uint32_t> &slots)
{
	std::vector<Entry> out;
	if (canon.contains(key))
		for (size_t i = 0; i < canon[key].size() && i < slots.size(); i++)
			out.push_back({i + 1, canon[key][i].dump(), slots[i]});
	return out;
}

// One section: entries whose counter slot survives are the same entry
// (kept, perhaps moved); the others were added or removed, and an added
// and a removed one at the same position read as one change.
void diff_section(const char *key, const std::vector<Entry> &before, const std::vector<Entry> &after,
		  std::vector<std::string> &out, size_t &kept)
{
	std::set<uint32_t> old_slots, new_slots;
	for (auto &e : before)
		old_slots.insert(e.slot);
	for (auto &e : after)
		new_slots.insert(e.slot);
	std::map<size_t, const Entry *> removed;
	for (auto &e : before)
		if (!new_slots.count(e.slot))
			removed[e.position] = &e;
	std::string k = key;
	for (auto &e : after) {
		if (old_slots.count(e.slot)) {
			kept++;
			for (auto &o : before)
				if (o.slot == e.slot && o.position != e.position)
					out.push_back("= " + k + " " + std::to_string(o.position) + " -> " +
						      std::to_string(e.position) + ": " + e.text + " (moved, counters kept)");
			continue;
		}
		auto r = removed.find(e.position);
		if (r != removed.end()) {
			out.push_back("~ " + k + " " + std::to_string(e.position) + ": " + r->second->text + " -> " +
				      e.text + " (counters reset)");
			removed.erase(r);
		} else {
			out.push_back("+ " + k + " " + std::to_string(e.position) + ": " + e.text + " (new counters)");
		}
	}
	for (auto &[pos, e] : removed)
		out.push_back("- " + k + " " + std::to_string(pos) + ": " + e->text + " (counters dropped)");
}

// Top-level settings (policy, interfaces, log, fastpath, conntrack...).
void diff_settings(const nlohmann::json &before, const nlohmann::json &after, std::vector<std::string> &out)
{
	std::set<std::string> keys;
	for (auto &[k, _] : before.items())
		keys.insert(k);
	for (auto &[k, _] : after.items())
		keys.insert(k);
	for (auto &k : keys) {
		if (k == "input" || k == "forward" || k == "nat" || k == "port-forward")
			continue;
		nlohmann::json a = before.value(k, nlohmann::json()), b = after.value(k, nlohmann::json());
		if (a != b)
			out.push_back("~ /" + k + ": " + (a.is_null() ? "(unset)" : a.dump()) + " -> " +
				      (b.is_null() ? "(unset)" : b.dump()));
	}
}

} // namespace

std::vector<std::string> plan_diff(const AppliedState *running, const GenerationImage &img)
{
	std::vector<std::string> out;
	nlohmann::json after = img.state.ruleset_json();
	nlohmann::json before = running ? running->ruleset_json() : nlohmann::json::object();
	if (!running)
		out.push_back("nothing is applied: everything below is new");
	diff_settings(before, after, out);
	size_t kept = 0;
	static const std::pair<const char *, std::vector<uint32_t> AppliedState::*> sections[] = {
		{"input", &AppliedState::slots_input},
		{"forward", &AppliedState::slots_forward},
		{"nat", &AppliedState::slots_nat},
		{"port-forward", &AppliedState::slots_pf}};
	for (auto &[key, slots] : sections) {
		std::vector<Entry> b = running ? entries(before, key, running->*slots) : std::vector<Entry>{};
		diff_section(key, b, entries(after, key, img.state.*slots), out, kept);
	}
	size_t changes = out.size() - (running ? 0 : 1);
	out.push_back(changes ? std::to_string(changes) + " change(s); " + std::to_string(kept) +
					" entries unchanged (counters kept)"
			      : "no changes (" + std::to_string(kept) + " entries, counters kept)");
	return out;
}

} // namespace fw
