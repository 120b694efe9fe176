// fwctl: the command line. Global options may stand before or after the
// command; exit codes: 0 done, 1 the system refused, 2 bad input.
#include <cstdlib>
#include <iostream>

#include "commands.h"

int main(int argc, char **argv)
{
	using namespace fw;
	cli::Context ctx;
	if (const char *env = std::getenv("FWCTL_PIN_DIR"); env && *env)
		ctx.pin_dir = env;

	CLI::App app{"fwctl: a stateful eBPF firewall (XDP ingress, TC egress)"};
	app.require_subcommand(1);
	app.fallthrough();
	app.option_defaults()->always_capture_default();
	app.add_option("--pin-dir", ctx.pin_dir, "bpffs directory for maps and links (env FWCTL_PIN_DIR)");

	cli::register_ruleset_commands(app, ctx);
	cli::register_stats_commands(app, ctx);
	cli::register_conntrack_commands(app, ctx);

	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForAllHelp &e) {
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		app.exit(e);
		return 2;
	} catch (const InputError &e) {
		std::cerr << "fwctl: " << e.what() << "\n";
		return 2;
	} catch (const SystemError &e) {
		std::cerr << "fwctl: " << e.what() << "\n";
		return 1;
	} catch (const std::exception &e) {
		std::cerr << "fwctl: " << e.what() << "\n";
		return 1;
	}
	return ctx.exit_code;
}
