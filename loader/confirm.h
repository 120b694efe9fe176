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
	std::optional<Ruleset> previous; // to roll back to; none: no firewall (down)
	std::string previous_hash; // "" when there was no firewall
	bool previous_unreadable = false; // stored, but it no longer checks
	pid_t waiter_pid = -1;
	std::string timer_unit;    // "fwctl-confirm-<token>" when systemd holds the deadline

	nlohmann::json to_json() const;
	static std::optional<PendingConfirm> from_state(const AppliedState &st);
};

uint64_t monotonic_ns();

// What to roll back to when `rs` is applied with --confirm over `current`:
// the current ruleset, or, when that one is itself still unconfirmed, the
// one it would roll back to (never an unconfirmed ruleset).
PendingConfirm confirm_prepare(const std::optional<AppliedState> &current, const Ruleset &rs,
			       unsigned seconds);

// Starts the waiter: a double-forked process in its own session running
// confirm_wait_and_revert, so neither the death of this process nor of its
// terminal stops it. Returns its PID. Call before any thread starts.
pid_t confirm_spawn_waiter(const std::string &pin_dir, const PendingConfirm &pc);

// Where systemd runs (PID 1 is systemd: /run/systemd/system exists;
// systemd-run on PATH; this process in PID 1's mount namespace, and in its
// network namespace or one bound under /run/netns): the deadline is a
// transient systemd timer,
//   systemd-run --unit=fwctl-confirm-<token> --on-active=SECONDS
//     [-p NetworkNamespacePath=/run/netns/NAME] FWCTL --pin-dir DIR
//     confirm-timeout --deadline NS --expect HASH --token TOKEN
// which outlives the SSH session, the terminal and this process's cgroup
// (a logind session's processes are killed with it where KillUserProcesses
// is set). Returns the unit name ("fwctl-confirm-<token>"), or "" where
// systemd does not run or refused (then the caller starts the waiter).
// Tests (tests/e2e/confirm_timer.sh) stand in for PID 1 with
// $FWCTL_SYSTEMD_RUNTIME_DIR (for /run/systemd/system) and $FWCTL_SYSTEMD_PID.
std::string confirm_schedule_timer(const std::string &pin_dir, const PendingConfirm &pc, unsigned seconds);

// Stops the timer of a pending confirmation that no longer guards
// anything (confirmed, re-applied, apply failed). Best effort: the
// confirm-timeout it would start checks the token and does nothing.
void confirm_cancel_timer(const std::string &unit);

// The waiter: sleeps until deadline_mono_ns (CLOCK_MONOTONIC), takes the
// pin dir's lock, and rolls back when the applied ruleset is still
// `expect_hash` with the pending confirmation `token`. Returns what it did
// ("" when there was nothing to do). Also the body of `fwctl
// confirm-timeout`, for a timer that starts it instead of a waiter.
std::string confirm_wait_and_revert(const std::string &pin_dir, uint64_t deadline_mono_ns,
				    const std::string &expect_hash, const std::string &token);

// Rolls back a pending confirmation (lock held by rt): applies the
// previous ruleset, or takes the firewall down when there was none. If
// the previous ruleset cannot be applied any more, applies the fail-safe
// ruleset (failsafe.h), never `down`: the point of --confirm is that an
// unconfirmed ruleset does not stay, and no firewall is worse. Returns a
// sentence saying what it did.
std::string confirm_revert(Runtime &rt, const AppliedState &st, const PendingConfirm &pc);

} // namespace fw
