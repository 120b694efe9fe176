#include "absent_ifaces.h"

#include <climits>
#include <iostream>
#include <set>

#include <net/if.h>

#include "netdev.h"

namespace fw {

std::string nearest_interface(const std::string &name)
{
	std::string best;
	size_t best_d = SIZE_MAX;
	for (const auto &c : netns_interfaces()) {
		size_t d = edit_distance(name, c);
		if (d < best_d) {
			best_d = d;
			best = c;
		}
	}
	return best;
}

void warn_absent_interfaces(const std::string &file, const std::vector<AbsentInterface> &absent)
{
	for (const auto &a : absent) {
		std::string near = nearest_interface(a.name);
		std::cerr << file << ": " << a.pointer << ": warning: interface \"" << a.name
			  << "\" does not exist (yet); its rules apply when it appears"
			  << (near.empty() ? "; no other interface exists"
					   : "; nearest existing: \"" + near + "\"")
			  << "\n";
	}
}

std::vector<std::string> absent_interface_names(const nlohmann::json &rs)
{
	std::set<std::string> names;
	auto note = [&](const nlohmann::json &v) {
		if (v.is_string() && !if_nametoindex(v.get<std::string>().c_str()))
			names.insert(v.get<std::string>());
	};
	if (rs.contains("interfaces"))
		for (auto &n : rs["interfaces"])
			note(n);
	for (const char *k : {"input", "forward", "nat", "port-forward"})
		if (rs.contains(k))
			for (auto &r : rs[k])
				for (const char *f : {"in", "out"})
					if (r.contains(f))
						note(r[f]);
	return {names.begin(), names.end()};
}

} // namespace fw
