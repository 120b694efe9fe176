// import weos / export weos: WeOS `ip firewall` commands <-> rules.json.
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "weos.h"

namespace fw::cli {

void register_weos_commands(CLI::App &app, Context &ctx)
{
	static std::string import_file, export_file;

	auto *imp = app.add_subcommand("import", "read another firewall's configuration");
	auto *imp_weos = imp->add_subcommand("weos", "WeOS `ip firewall` commands or a pasted session -> rules.json");
	imp->require_subcommand(1);
	imp_weos->add_option("FILE", import_file, "the commands (- for stdin)")->required();
	imp_weos->callback([] {
		CheckResult r = weos_import(read_input(import_file));
		if (!r.errors.empty()) {
			for (auto &e : r.errors)
				std::cerr << format_error(import_file, e) << "\n";
			throw InputError(std::to_string(r.errors.size()) + " error(s); nothing was printed");
		}
		// The imported ruleset meets the same checks as a file would.
		// A translation never asks this machine about interfaces: the
		// configuration is usually converted elsewhere than where it runs.
		CheckResult c = ruleset_check_json(ruleset_to_json(*r.ruleset),
						   [](const std::string &) { return true; });
		if (!c.errors.empty()) {
			for (auto &e : c.errors)
				std::cerr << format_error(import_file + " (imported)", e) << "\n";
			throw InputError(std::to_string(c.errors.size()) + " error(s); nothing was printed");
		}
		std::cout << ruleset_to_ordered_json(*c.ruleset).dump(2) << "\n";
	});

	auto *exp = app.add_subcommand("export", "print a ruleset as another firewall's configuration");
	auto *exp_weos = exp->add_subcommand("weos", "the applied ruleset (or FILE) as WeOS commands");
	exp->require_subcommand(1);
	exp_weos->add_option("FILE", export_file, "a rules.json instead of the applied ruleset");
	exp_weos->callback([&ctx] {
		Ruleset rs;
		if (!export_file.empty()) {
			rs = load_ruleset_file(export_file);
		} else {
			Runtime rt(ctx.pin_dir);
			rt.prepare(false);
			auto st = rt.applied();
			if (!st)
				throw SystemError("nothing is applied at " + ctx.pin_dir + " (give a FILE to export)");
			rs = st->ruleset;
		}
		std::cout << weos_export(rs);
	});
}

} // namespace fw::cli
