// `fwctl apply FILE --confirm SECONDS`: the safety net against locking
// oneself out over a remote link. The pending confirmation lives in the
// applied state (AppliedState::extra["confirm"]), so it is switched in the
// same atomic step as the ruleset it guards; a detached waiter process,
// started before that switch, rolls back when the deadline passes
// unconfirmed. See docs/reliability.md.
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

#include <nlohmann/json.hpp>

#include "ruleset.h"
#include "runtime.h"

namespace fw {

struct PendingConfirm {
	std::string token;         // ties one waiter to one apply
	std::string hash;          // of the ruleset being applied
	uint64_t deadline_mono_ns = 0; // CLOCK_MONOTONIC: system-wide, immune to clock steps
	std::string deadline_at;   // the same, as wall time, for people
	nlohmann::json previous;   // canonical JSON to roll back to; null: no firewall (down)
	std::string previous_hash; // "" when previous is null
	pid_t waiter_pid = -1;

	nlohmann::json to_json() const;
	static std::optional<PendingConfirm> from_state(const AppliedState &st);
};

uint64_t monotonic_ns();

// What to roll back to when `rs` is applied with --confirm over `current`:
// the current ruleset, or, when that one is itself still unconfirmed, the
// one it would roll back to (never an unconfirmed ruleset).
PendingConfirm confirm_prepare(const std::optional<AppliedState> &current, const Ruleset &rs,
			       unsigned seconds);

// Starts the waiter: `fwctl --pin-dir DIR confirm-timeout ...` from
// /proc/self/exe, double-forked and in its own session, so neither the
// death of this process nor of its terminal stops it. Returns its PID.
pid_t confirm_spawn_waiter(const std::string &pin_dir, const PendingConfirm &pc);

// Rolls back a pending confirmation (lock held by rt): applies the
// previous ruleset, or takes the firewall down when there was none. If
// the previous ruleset cannot be applied any more, applies the fail-safe
// ruleset (failsafe.h), never `down`: the point of --confirm is that an
// unconfirmed ruleset does not stay, and no firewall is worse. Returns a
// sentence saying what it did.
std::string confirm_revert(Runtime &rt, const AppliedState &st, const PendingConfirm &pc);

} // namespace fw
