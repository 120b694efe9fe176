// conntrack: list the connection table, or empty it (flush).
#include <iomanip>
#include <iostream>
#include <net/if.h>

#include "commands.h"
#include "conntrack.h"

namespace fw::cli {

namespace {

std::string endpoint(const nlohmann::json &j, const char *addr, const char *port, const char *id)
{
	std::string s = j[addr].get<std::string>();
	bool v6 = s.find(':') != std::string::npos;
	if (j.contains(port))
		return (v6 ? "[" + s + "]" : s) + ":" + std::to_string(j[port].get<int>());
	if (id && j.contains(id))
		return s + " id " + std::to_string(j[id].get<int>());
	return s;
}

void print_text(const nlohmann::json &all)
{
	if (all.empty()) {
		std::cout << "no connections\n";
		return;
	}
	std::cout << std::left << std::setw(7) << "proto" << std::setw(12) << "state" << std::setw(9)
		  << "expires" << "original -> | reply ->\n";
	for (auto &j : all) {
		std::string proto = j["proto"].is_string() ? j["proto"].get<std::string>() : j["proto"].dump();
		std::cout << std::left << std::setw(7) << proto << std::setw(12) << j["state"].get<std::string>()
			  << std::setw(9) << (std::to_string(j["expires_in"].get<int64_t>()) + "s")
			  << endpoint(j, "src", "sport", "id") << " -> " << endpoint(j, "dst", "dport", nullptr)
			  << " | " << endpoint(j, "reply_src", "reply_sport", "reply_id") << " -> "
			  << endpoint(j, "reply_dst", "reply_dport", nullptr)
			  << (j["local"].get<bool>() ? "  (local)" : "") << "\n";
	}
	std::cout << all.size() << " connection" << (all.size() == 1 ? "" : "s") << "\n";
}

} // namespace

void register_conntrack_commands(CLI::App &app, Context &ctx)
{
	static bool as_json = false;

	auto *ct = app.add_subcommand("conntrack", "the connection table (`conntrack flush` empties it)");
	ct->add_flag("--json", as_json, "a JSON array, one object per connection");
	auto *flush = ct->add_subcommand("flush", "forget every connection: their next packets meet the rules");
	ct->callback([&ctx, ct, flush] {
		// Nothing applied means an empty table, not an error: `down`
		// leaves no state behind, and flush is idempotent like down.
		Runtime rt(ctx.pin_dir);
		rt.prepare(false);
		if (ct->got_subcommand(flush)) {
			size_t n = conntrack_flush(rt);
			if (!as_json)
				std::cout << "flushed " << n << " connection" << (n == 1 ? "" : "s") << "\n";
			return;
		}
		nlohmann::json all = nlohmann::json::array();
		for (auto &c : conntrack_list(rt))
			all.push_back(conntrack_json(c));
		if (as_json)
			std::cout << all.dump(2) << "\n";
		else
			print_text(all);
	});
}

} // namespace fw::cli
