// The pending-confirmation record and its waiter (see confirm.h).
#include "confirm.h"
#include "failsafe.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

namespace fw {

uint64_t monotonic_ns()
{
	struct timespec ts {};
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

nlohmann::json PendingConfirm::to_json() const
{
	return {{"token", token},
		{"hash", hash},
		{"deadline_mono_ns", deadline_mono_ns},
		{"deadline_at", deadline_at},
		{"previous", previous ? ruleset_to_json(*previous) : nlohmann::json()},
		{"previous_hash", previous_hash},
		{"waiter_pid", waiter_pid}};
}

std::optional<PendingConfirm> PendingConfirm::from_state(const AppliedState &st)
{
	if (!st.extra.is_object() || !st.extra.contains("confirm"))
		return std::nullopt;
	const auto &j = st.extra["confirm"];
	try {
		PendingConfirm pc;
		pc.token = j.at("token");
		pc.hash = j.at("hash");
		pc.deadline_mono_ns = j.at("deadline_mono_ns");
		pc.deadline_at = j.value("deadline_at", "");
		pc.previous_hash = j.value("previous_hash", "");
		pc.waiter_pid = j.value("waiter_pid", -1);
		if (!j.at("previous").is_null()) {
			try {
				pc.previous = ruleset_from_canonical_json(j["previous"]);
			} catch (const InputError &) {
				pc.previous_unreadable = true; // rolled back to no firewall
			}
		}
		return pc;
	} catch (const std::exception &) {
		return std::nullopt;
	}
}

PendingConfirm confirm_prepare(const std::optional<AppliedState> &current, const Ruleset &rs,
			       unsigned seconds)
{
	PendingConfirm pc;
	std::random_device rd;
	char tok[33];
	snprintf(tok, sizeof tok, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
	pc.token = tok;
	pc.hash = ruleset_hash(rs);
	pc.deadline_mono_ns = monotonic_ns() + (uint64_t)seconds * 1000000000ull;
	pc.deadline_at = iso_time_utc(realtime_ns() + (uint64_t)seconds * 1000000000ull);
	if (current) {
		if (auto earlier = PendingConfirm::from_state(*current)) {
			pc.previous = earlier->previous;
			pc.previous_hash = earlier->previous_hash;
		} else {
			pc.previous = current->ruleset;
			pc.previous_hash = current->hash;
		}
	}
	return pc;
}

namespace {

// In the waiter: report its PID, detach from everything the parent had
// open (its hold on the pin dir's lock above all), wait, roll back.
[[noreturn]] void run_waiter(int report_fd, const std::string &pin_dir, const PendingConfirm &pc)
{
	pid_t self = getpid();
	if (write(report_fd, &self, sizeof self) != (ssize_t)sizeof self)
		_exit(1);
	if (chdir("/") != 0)
		_exit(1);
	close_range(3, ~0u, 0);
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	try {
		confirm_wait_and_revert(pin_dir, pc.deadline_mono_ns, pc.hash, pc.token);
	} catch (const std::exception &e) {
		openlog("fwctl", LOG_PID, LOG_DAEMON);
		syslog(LOG_ERR, "confirm waiter: %s", e.what());
		closelog();
		_exit(1);
	}
	_exit(0);
}

} // namespace

pid_t confirm_spawn_waiter(const std::string &pin_dir, const PendingConfirm &pc)
{
	char abs_dir[PATH_MAX];
	if (!realpath(pin_dir.c_str(), abs_dir))
		throw SystemError(errno_message("cannot resolve pin dir " + pin_dir, errno));
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		throw SystemError(errno_message("pipe", errno));
	pid_t child = fork();
	if (child < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		throw SystemError(errno_message("cannot start the confirm waiter (fork)", e));
	}
	if (child == 0) {
		// Child: new session, then the waiter as a grandchild that init adopts.
		close(p[0]);
		setsid();
		pid_t g = fork();
		if (g != 0)
			_exit(g < 0 ? 1 : 0);
		run_waiter(p[1], abs_dir, pc);
	}
	close(p[1]);
	int status = 0;
	waitpid(child, &status, 0);
	pid_t waiter = -1;
	ssize_t r = read(p[0], &waiter, sizeof waiter);
	close(p[0]);
	if (r != (ssize_t)sizeof waiter || waiter <= 0)
		throw SystemError("cannot start the confirm waiter; nothing was changed");
	return waiter;
}

std::string confirm_wait_and_revert(const std::string &pin_dir, uint64_t deadline_mono_ns,
				    const std::string &expect_hash, const std::string &token)
{
	struct timespec ts {};
	ts.tv_sec = (time_t)(deadline_mono_ns / 1000000000ull);
	ts.tv_nsec = (long)(deadline_mono_ns % 1000000000ull);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
	}
	Runtime rt(pin_dir);
	rt.prepare(false); // blocks while an apply or confirm runs
	auto st = rt.applied();
	if (!st || st->hash != expect_hash)
		return ""; // another ruleset (or none) was applied since
	auto pc = PendingConfirm::from_state(*st);
	if (!pc || pc->token != token)
		return ""; // confirmed, or re-applied with another deadline
	return confirm_revert(rt, *st, *pc);
}

std::string confirm_revert(Runtime &rt, const AppliedState &st, const PendingConfirm &pc)
{
	nlohmann::json note = {{"reverted",
				{{"from", st.hash}, {"to", pc.previous_hash}, {"at", iso_time_utc(realtime_ns())}}}};
	std::string msg;
	if (pc.previous || pc.previous_unreadable) {
		try {
			if (!pc.previous)
				throw InputError("the previous ruleset no longer checks");
			rt.apply(*pc.previous, note);
			msg = "rolled back from " + st.hash + " to " + pc.previous_hash;
		} catch (const std::exception &e) {
			// Neither the unconfirmed ruleset nor "no firewall": the
			// fail-closed one (docs/ops.md), which keeps the operator's
			// management access if failsafe.json grants it.
			std::string source;
			rt.apply(failsafe_ruleset(&source), note);
			msg = std::string("could not re-apply the previous ruleset ") + pc.previous_hash + " (" +
			      e.what() + "); applied the fail-safe ruleset (" + source +
			      ") instead of keeping unconfirmed " + st.hash;
		}
	} else {
		rt.down();
		msg = "rolled back from " + st.hash + " to no firewall (the first apply was unconfirmed)";
	}
	openlog("fwctl", LOG_PID, LOG_DAEMON);
	syslog(LOG_WARNING, "confirm deadline passed: %s", msg.c_str());
	closelog();
	return msg;
}

} // namespace fw
