// The pending-confirmation record and its waiter (see confirm.h).
#include "confirm.h"
#include "failsafe.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <vector>
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
		{"waiter_pid", waiter_pid},
		{"timer_unit", timer_unit}};
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
		pc.timer_unit = j.value("timer_unit", "");
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

namespace {

// An executable NAME on $PATH, or "".
std::string find_on_path(const char *name)
{
	const char *path = getenv("PATH");
	std::string p = path ? path : "/usr/bin:/bin";
	for (size_t pos = 0; pos <= p.size();) {
		size_t end = p.find(':', pos);
		if (end == std::string::npos)
			end = p.size();
		std::string dir = p.substr(pos, end - pos);
		pos = end + 1;
		if (dir.empty())
			continue;
		std::string cand = dir + "/" + name;
		if (access(cand.c_str(), X_OK) == 0)
			return cand;
	}
	return "";
}

// The process whose namespaces the timer's service gets: systemd, PID 1
// ($FWCTL_SYSTEMD_PID for tests, where PID 1 is something else).
pid_t systemd_pid()
{
	const char *p = getenv("FWCTL_SYSTEMD_PID");
	return p && *p ? (pid_t)atoi(p) : 1;
}

bool same_ns(const char *kind, pid_t pid)
{
	struct stat a {}, b {};
	std::string theirs = "/proc/" + std::to_string(pid) + "/ns/" + kind;
	std::string ours = std::string("/proc/self/ns/") + kind;
	return stat(theirs.c_str(), &a) == 0 && stat(ours.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
	       a.st_dev == b.st_dev;
}

// This process's network namespace as systemd can enter it: "" for PID
// 1's own, a /run/netns/NAME bound to it, or nullopt (none: the waiter).
std::optional<std::string> netns_for_systemd()
{
	if (same_ns("net", systemd_pid()))
		return std::string();
	struct stat self {};
	if (stat("/proc/self/ns/net", &self) != 0)
		return std::nullopt;
	DIR *d = opendir("/run/netns");
	if (!d)
		return std::nullopt;
	std::optional<std::string> found;
	while (auto *e = readdir(d)) {
		if (e->d_name[0] == '.')
			continue;
		std::string p = std::string("/run/netns/") + e->d_name;
		struct stat st {};
		if (stat(p.c_str(), &st) == 0 && st.st_ino == self.st_ino && st.st_dev == self.st_dev) {
			found = p;
			break;
		}
	}
	closedir(d);
	return found;
}

// Runs argv, output to our stderr's /dev/null; its exit status.
int run_quietly(const std::vector<std::string> &argv)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		std::vector<char *> args;
		for (auto &a : argv)
			args.push_back(const_cast<char *>(a.c_str()));
		args.push_back(nullptr);
		execv(args[0], args.data());
		_exit(127);
	}
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

std::string confirm_schedule_timer(const std::string &pin_dir, const PendingConfirm &pc, unsigned seconds)
{
	const char *booted = getenv("FWCTL_SYSTEMD_RUNTIME_DIR");
	if (access(booted && *booted ? booted : "/run/systemd/system", F_OK) != 0)
		return ""; // systemd is not PID 1 (sd_booted)
	std::string systemd_run = find_on_path("systemd-run");
	if (systemd_run.empty() || !same_ns("mnt", systemd_pid()))
		return ""; // the unit would not see this pin dir
	auto netns = netns_for_systemd();
	if (!netns)
		return ""; // systemd cannot enter this network namespace
	char abs_dir[PATH_MAX], self[PATH_MAX];
	if (!realpath(pin_dir.c_str(), abs_dir))
		throw SystemError(errno_message("cannot resolve pin dir " + pin_dir, errno));
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return "";
	self[n] = '\0';
	std::string unit = "fwctl-confirm-" + pc.token;
	std::vector<std::string> argv = {systemd_run,
					 "--unit=" + unit,
					 "--on-active=" + std::to_string(seconds),
					 "--timer-property=AccuracySec=100ms",
					 "--description=fwctl: roll back " + pc.hash + " unless confirmed",
					 "--quiet"};
	if (!netns->empty())
		argv.push_back("--property=NetworkNamespacePath=" + *netns);
	for (std::string a : {std::string(self), std::string("--pin-dir"), std::string(abs_dir),
			      std::string("confirm-timeout"), std::string("--deadline"),
			      std::to_string(pc.deadline_mono_ns), std::string("--expect"), pc.hash,
			      std::string("--token"), pc.token})
		argv.push_back(a);
	if (run_quietly(argv) != 0) {
		fprintf(stderr, "fwctl: warning: systemd-run refused the confirm timer; a detached waiter "
				"process holds the deadline instead\n");
		return "";
	}
	return unit;
}

void confirm_cancel_timer(const std::string &unit)
{
	if (unit.empty())
		return;
	std::string systemctl = find_on_path("systemctl");
	if (!systemctl.empty())
		run_quietly({systemctl, "stop", "--quiet", unit + ".timer"});
}

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
