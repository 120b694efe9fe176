// run: the boot step (packaging/fwctl.service, docs/ops.md). One process
// applies the start-up ruleset and then keeps covering interfaces as they
// appear and following masquerade addresses, so there is no moment between
// "applied" and "a watcher runs" in which a new interface is unfiltered.
//
// Fail closed: a start-up file that is missing or does not check (or that
// the kernel refuses) is replaced by the fail-safe ruleset (failsafe.h),
// never by nothing. READY=1 goes to systemd after the apply, so that
// network-pre.target (and the network configuration after it) waits for it.
#include <iostream>

#include "commands.h"
#include "failsafe.h"
#include "sd_notify.h"

namespace fw::cli {

namespace {

void log_line(const std::string &msg)
{
	std::cout << iso_time_utc(realtime_ns()) << " " << msg << std::endl;
}

// Applies `file`, or the fail-safe ruleset when that fails; returns what it
// applied, for the log and systemd's STATUS=.
std::string apply_or_failsafe(const std::string &pin_dir, const std::string &file)
{
	Runtime rt(pin_dir);
	rt.prepare(true);
	try {
		Ruleset rs = load_ruleset_file(file);
		rt.apply(rs);
		return "applied " + file + " (" + rt.applied_hash() + ")";
	} catch (const std::exception &e) {
		std::cerr << "fwctl run: " << file << " was not applied: " << e.what() << "\n";
	}
	std::string source, why;
	Ruleset fs = failsafe_ruleset(&source, &why);
	if (!why.empty())
		std::cerr << "fwctl run: fail-safe file not used: " << why << "\n";
	rt.apply(fs); // if even this fails, the unit fails, loudly
	return "FAIL-SAFE ruleset applied (" + source + ", " + rt.applied_hash() + ") because " + file +
	       " could not be";
}

} // namespace

void register_run_command(CLI::App &app, Context &ctx)
{
	static std::string file = "/etc/fwctl/rules.json";
	auto *run = app.add_subcommand(
		"run", "apply FILE (or the fail-safe ruleset), then keep covering new interfaces and addresses");
	run->add_option("FILE", file, "default /etc/fwctl/rules.json");
	run->callback([&ctx] {
		require_root();
		ctx.exit_code = watch_interfaces(ctx.pin_dir, false, [&ctx] {
			std::string what = apply_or_failsafe(ctx.pin_dir, file);
			log_line(what);
			notify_systemd("READY=1\nSTATUS=" + what);
		});
	});
}

} // namespace fw::cli
