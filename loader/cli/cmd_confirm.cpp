// confirm, and the hidden confirm-timeout that `apply --confirm` starts.
#include <cerrno>
#include <iostream>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "confirm.h"

namespace fw::cli {

void register_confirm_commands(CLI::App &app, Context &ctx)
{
	auto *confirm = app.add_subcommand("confirm", "keep the ruleset applied with --confirm");
	confirm->callback([&ctx] {
		require_root();
		Runtime rt(ctx.pin_dir);
		rt.prepare(false);
		auto st = rt.applied();
		if (!st)
			throw SystemError("nothing is applied at " + ctx.pin_dir +
					  " (an unconfirmed first apply is rolled back to no firewall)");
		auto pc = PendingConfirm::from_state(*st);
		if (!pc) {
			if (st->extra.contains("reverted"))
				throw SystemError("too late: " + st->extra["reverted"].value("from", std::string("?")) +
						  " was rolled back at " +
						  st->extra["reverted"].value("at", std::string("?")) +
						  "; apply it again");
			std::cout << "nothing to confirm: " << st->hash << " is applied\n";
			return;
		}
		if (monotonic_ns() >= pc->deadline_mono_ns) {
			// The waiter is late or was killed: do its job, never confirm
			// after the deadline.
			throw SystemError("too late: the deadline passed; " + confirm_revert(rt, *st, *pc));
		}
		// Clear the flag through an ordinary apply of the same ruleset:
		// the state changes with the generation switch, never in place.
		CheckResult r = ruleset_check_json(st->ruleset, [](const std::string &) { return true; });
		if (!r.ruleset)
			throw SystemError("the applied ruleset no longer checks; nothing was changed");
		rt.apply(*r.ruleset, nlohmann::json{{"confirmed_at", iso_time_utc(realtime_ns())}});
		std::cout << "confirmed " << st->hash << "\n";
	});

	static uint64_t deadline = 0;
	static std::string expect, token;
	auto *wait = app.add_subcommand("confirm-timeout", "");
	wait->group(""); // internal: started by apply --confirm
	wait->add_option("--deadline", deadline)->required();
	wait->add_option("--expect", expect)->required();
	wait->add_option("--token", token)->required();
	wait->callback([&ctx] {
		struct timespec ts {};
		ts.tv_sec = (time_t)(deadline / 1000000000ull);
		ts.tv_nsec = (long)(deadline % 1000000000ull);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
		}
		Runtime rt(ctx.pin_dir);
		rt.prepare(false); // blocks while an apply or confirm runs
		auto st = rt.applied();
		if (!st || st->hash != expect)
			return; // another ruleset (or none) was applied since
		auto pc = PendingConfirm::from_state(*st);
		if (!pc || pc->token != token)
			return; // confirmed, or re-applied with another deadline
		std::cerr << "fwctl: " << confirm_revert(rt, *st, *pc) << "\n";
	});
}

} // namespace fw::cli
