// confirm, and the hidden confirm-timeout that `apply --confirm` starts.
#include <iostream>
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
			std::string did = confirm_revert(rt, *st, *pc);
			confirm_cancel_timer(pc->timer_unit);
			throw SystemError("too late: the deadline passed; " + did);
		}
		// Clear the flag through an ordinary apply of the same ruleset:
		// the state changes with the generation switch, never in place.
		rt.apply(st->ruleset, nlohmann::json{{"confirmed_at", iso_time_utc(realtime_ns())}});
		confirm_cancel_timer(pc->timer_unit);
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
		std::string did = confirm_wait_and_revert(ctx.pin_dir, deadline, expect, token);
		if (!did.empty())
			std::cerr << "fwctl: " << did << "\n";
	});
}

} // namespace fw::cli
