// apply, check, show, save, down: the ruleset's way into the kernel and out.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <net/if.h>
#include <csignal>
#include <unistd.h>

#include "confirm.h"

#include "absent_ifaces.h"
#include "durable_file.h"
#include "plan.h"
#include "commands.h"
#include "trace.h"

namespace fw::cli {

std::string read_input(const std::string &path)
{
	std::stringstream ss;
	if (path == "-") {
		ss << std::cin.rdbuf();
	} else {
		std::ifstream f(path);
		if (!f)
			throw InputError(path + ": cannot read the file");
		ss << f.rdbuf();
	}
	return ss.str();
}

Ruleset load_ruleset_file(const std::string &path)
{
	PhaseTimer phase;
	std::string text = read_input(path);
	phase("read the file");
	CheckResult r = ruleset_check(text, interface_exists_in_netns);
	phase("parse and check");
	if (!r.errors.empty()) {
		for (auto &e : r.errors)
			std::cerr << format_error(path, e) << "\n";
		throw InputError(std::to_string(r.errors.size()) + " error(s); nothing was changed");
	}
	warn_absent_interfaces(path, r.absent);
	return *r.ruleset;
}

namespace {

// The plan's image, or every error printed as "FILE: /pointer: message"
// and InputError (exit 2).
GenerationImage plan_or_report(const std::string &path, PlanResult p)
{
	if (p.image)
		return std::move(*p.image);
	for (auto &e : p.errors)
		std::cerr << format_error(path, e) << "\n";
	throw InputError(std::to_string(p.errors.size()) + " error(s); nothing was changed");
}

// The applied ruleset in the spec's key order (the stored JSON is sorted).
std::string applied_text(const AppliedState &st)
{
	return ruleset_to_ordered_json(st.ruleset).dump(2);
}

std::string file, save_file = "/etc/fwctl/rules.json";
unsigned confirm_secs = 0;
bool dry_run = false;
bool replace_incompatible = false;

// check, diff, apply: a file's way in.
void register_file_commands(CLI::App &app, Context &ctx)
{
	auto *check = app.add_subcommand("check", "check and compile FILE; touch nothing in the kernel");
	check->add_option("FILE", file, "rules.json (- for stdin)")->required();
	check->callback([&ctx] {
		Ruleset rs = load_ruleset_file(file);
		GenerationImage img = plan_or_report(file, plan(rs, nullptr, NetView::this_netns()));
		std::cout << file << ": ok (" << rs.input.size() << " input, " << rs.forward.size()
			  << " forward rules; " << img.tables.combines.size() << " classifier entries)\n";
		ctx.exit_code = 0;
	});

	auto print_diff = [&ctx] {
		Ruleset rs = load_ruleset_file(file);
		Runtime rt(ctx.pin_dir);
		rt.prepare(false);
		GenerationImage img = plan_or_report(file, rt.plan_against_running(rs));
		auto running = rt.applied();
		for (auto &line : plan_diff(running ? &*running : nullptr, img))
			std::cout << line << "\n";
	};
	auto *diff = app.add_subcommand("diff", "what applying FILE would change; touches nothing");
	diff->add_option("FILE", file, "rules.json (- for stdin)")->required();
	diff->callback(print_diff);

	auto *apply = app.add_subcommand("apply", "check FILE, compile it and switch to it atomically");
	apply->add_option("FILE", file, "rules.json (- for stdin)")->required();
	apply->add_option("--confirm", confirm_secs,
			  "roll back unless `fwctl confirm` runs within SECONDS")
		->check(CLI::Range(1u, 86400u));
	apply->add_flag("--dry-run", dry_run, "print what would change (as `fwctl diff`); touch nothing");
	apply->add_flag("--replace-incompatible", replace_incompatible,
			"replace a datapath of another ABI in place (link update, never unfiltered); its "
			"connection table and counters are not kept");
	apply->callback([&ctx, print_diff] {
		if (dry_run)
			return print_diff();
		if (replace_incompatible && confirm_secs)
			throw InputError("--replace-incompatible cannot roll back to the datapath it replaces: "
					 "apply without --confirm");
		Ruleset rs = load_ruleset_file(file);
		require_root();
		Runtime rt(ctx.pin_dir);
		rt.prepare(true);
		if (replace_incompatible)
			rt.replace_incompatible_next_apply();
		nlohmann::json extra = nlohmann::json::object();
		std::optional<PendingConfirm> pc, earlier;
		auto cancel = [&pc] {
			if (!pc)
				return; // ours, and it has nothing to guard
			if (pc->waiter_pid > 0)
				kill(pc->waiter_pid, SIGTERM);
			confirm_cancel_timer(pc->timer_unit);
		};
		if (confirm_secs) {
			// The deadline is set before the switch: if this process dies
			// right after it, the rollback still happens. A systemd timer
			// where systemd runs, else a detached waiter (confirm.h).
			auto current = rt.applied();
			if (current)
				earlier = PendingConfirm::from_state(*current);
			pc = confirm_prepare(current, rs, confirm_secs);
			pc->timer_unit = confirm_schedule_timer(ctx.pin_dir, *pc, confirm_secs);
			if (pc->timer_unit.empty())
				pc->waiter_pid = confirm_spawn_waiter(ctx.pin_dir, *pc);
			extra["confirm"] = pc->to_json();
		}
		try {
			rt.apply(rs, extra);
		} catch (const PlanRejected &e) {
			cancel();
			plan_or_report(file, PlanResult{std::nullopt, e.errors});
		} catch (...) {
			cancel();
			throw;
		}
		// The confirmation this one superseded: its timer has nothing
		// left to do (it would find another token and stop). After a plain
		// apply the timer fires, finds no pending confirmation, stops.
		if (earlier)
			confirm_cancel_timer(earlier->timer_unit);
		std::cout << "applied " << rt.applied_hash() << " (" << rs.input.size() << " input, "
			  << rs.forward.size() << " forward rules) in "
			  << rt.apply_duration_ns() / 1000000.0 << " ms\n";
		if (rt.datapath_change() == "upgraded")
			std::cout << "datapath upgraded in place: programs replaced on every link, maps and "
				     "connections kept\n";
		else if (rt.datapath_change() == "replaced")
			std::cout << "datapath replaced in place: programs replaced on every link; new maps: "
				     "the connection table and counters start empty\n";
		if (pc)
			std::cout << "rolls back to " << (pc->previous_hash.empty() ? "no firewall" : pc->previous_hash)
				  << " at " << pc->deadline_at << " unless `fwctl confirm` runs first\n";
	});

}

// show, save, down: the applied ruleset's way out.
void register_applied_commands(CLI::App &app, Context &ctx)
{
	auto *show = app.add_subcommand("show", "print the applied ruleset as JSON");
	show->callback([&ctx] {
		Runtime rt(ctx.pin_dir);
		rt.prepare(false, Runtime::Lock::shared);
		auto st = rt.applied();
		if (!st)
			throw SystemError("nothing is applied at " + ctx.pin_dir);
		std::cout << applied_text(*st) << "\n";
	});

	auto *save = app.add_subcommand("save", "write the applied ruleset to the start-up file");
	save->add_option("FILE", save_file, "default /etc/fwctl/rules.json");
	save->callback([&ctx] {
		Runtime rt(ctx.pin_dir);
		rt.prepare(false, Runtime::Lock::shared);
		auto st = rt.applied();
		if (!st)
			throw SystemError("nothing is applied at " + ctx.pin_dir + ": nothing to save");
		write_file_durably(save_file, applied_text(*st) + "\n");
		std::cout << "saved " << st->hash << " to " << save_file << "\n";
	});

	auto *down = app.add_subcommand("down", "detach everything and remove the pins");
	down->callback([&ctx] {
		require_root();
		Runtime rt(ctx.pin_dir);
		rt.prepare(false);
		rt.down();
	});
}

} // namespace

void register_ruleset_commands(CLI::App &app, Context &ctx)
{
	register_file_commands(app, ctx);
	register_applied_commands(app, ctx);
}

} // namespace fw::cli
