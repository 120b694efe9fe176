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

void print_header()
{
	std::cout << std::left << std::setw(7) << "proto" << std::setw(12) << "state" << std::setw(9) << "expires"
		  << "original -> | reply ->\n";
}

void print_line(const nlohmann::json &j)
{
	std::string proto = j["proto"].is_string() ? j["proto"].get<std::string>() : j["proto"].dump();
	std::cout << std::left << std::setw(7) << proto << std::setw(12) << j["state"].get<std::string>()
		  << std::setw(9) << (std::to_string(j["expires_in"].get<int64_t>()) + "s")
		  << endpoint(j, "src", "sport", "id") << " -> " << endpoint(j, "dst", "dport", nullptr) << " | "
		  << endpoint(j, "reply_src", "reply_sport", "reply_id") << " -> "
		  << endpoint(j, "reply_dst", "reply_dport", nullptr) << (j["local"].get<bool>() ? "  (local)" : "")
		  << "\n";
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
		bool flushing = ct->got_subcommand(flush);
		rt.prepare(false, flushing ? Runtime::Lock::exclusive : Runtime::Lock::shared);
		if (flushing) {
			size_t n = conntrack_flush(rt);
			if (!as_json)
				std::cout << "flushed " << n << " connection" << (n == 1 ? "" : "s") << "\n";
			return;
		}
		// One connection at a time, not one document of them all: a
		// table of a million connections printed in seconds, not minutes.
		// The output is what dumping the whole array would print.
		auto list = conntrack_list(rt);
		std::ios::sync_with_stdio(false);
		if (as_json) {
			if (list.empty()) {
				std::cout << "[]\n";
				return;
			}
			std::cout << "[\n";
			for (size_t i = 0; i < list.size(); i++) {
				std::string one = conntrack_json(list[i]).dump(2);
				std::string indented = "  ";
				for (char ch : one) {
					indented += ch;
					if (ch == '\n')
						indented += "  ";
				}
				std::cout << indented << (i + 1 < list.size() ? ",\n" : "\n");
			}
			std::cout << "]\n";
			return;
		}
		if (list.empty()) {
			std::cout << "no connections\n";
			return;
		}
		print_header();
		for (auto &c : list)
			print_line(conntrack_json(c));
		std::cout << list.size() << " connection" << (list.size() == 1 ? "" : "s") << "\n";
	});
}

} // namespace fw::cli
