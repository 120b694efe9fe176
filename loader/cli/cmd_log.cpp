// log: the events of rules with "log": true, drained from the datapath's
// ring buffer (fw_log_rb). Reading consumes: an event is printed once, by
// one reader. Several readers may run at once: they take turns draining
// (ConsumeLock), and each event goes to exactly one of them.
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <net/if.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"
#include "log_sink.h"

namespace fw::cli {

namespace {

using nlohmann::json;

volatile sig_atomic_t g_stop = 0;

void on_signal(int)
{
	g_stop = 1;
}

uint64_t clock_ns(clockid_t id)
{
	struct timespec ts {};
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// bpf_ktime_get_ns() is CLOCK_MONOTONIC; the wall time of an event is its
// stamp plus (REALTIME - MONOTONIC) now. Taken per batch, so a clock step
// (NTP) is followed; an event that waited across the step is off by it.
int64_t wall_offset_ns()
{
	uint64_t m1 = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME), m2 = clock_ns(CLOCK_MONOTONIC);
	return (int64_t)r - (int64_t)(m1 / 2 + m2 / 2);
}

// The ring buffer has one consumer position, shared by everyone who maps
// it; two readers draining at the same time would both read records and
// write that position back out of order (duplicates, or a record read
// after the producer reused its space). So each drain holds an flock on a
// root-only file named after the pin dir (/run/fwctl): readers take turns
// batch by batch, none can hold the others off for longer than a batch, and
// an unprivileged user can neither create nor take the lock (the
// single-reader lock this replaces was an abstract socket anyone could
// bind).
class ConsumeLock {
public:
	explicit ConsumeLock(std::string pin_dir) : pin_dir_(std::move(pin_dir)) {}
	~ConsumeLock()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	ConsumeLock(const ConsumeLock &) = delete;
	ConsumeLock &operator=(const ConsumeLock &) = delete;
	// Without /run (a test's private mount namespace, say) there is no
	// lock: a single reader is still right.
	void lock()
	{
		if (fd_ < 0)
			open_file();
		while (fd_ >= 0 && flock(fd_, LOCK_EX) != 0 && errno == EINTR && !g_stop) {
		}
	}
	void unlock()
	{
		if (fd_ >= 0)
			flock(fd_, LOCK_UN);
	}

private:
	std::string pin_dir_;
	int fd_ = -1;

	// Opened at first use: `log --follow` may start before the pin dir exists.
	void open_file()
	{
		struct stat st {};
		if (stat(pin_dir_.c_str(), &st) != 0)
			return;
		mkdir("/run/fwctl", 0700);
		char path[128];
		snprintf(path, sizeof path, "/run/fwctl/log.%llx.%llx.lock", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		fd_ = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
};

std::string ifname_of(uint32_t ifindex)
{
	char buf[IF_NAMESIZE] = {};
	if (if_indextoname(ifindex, buf))
		return buf;
	return "if" + std::to_string(ifindex); // gone since
}

const char *verdict_name(uint8_t v)
{
	switch (v) {
	case FW_VERDICT_ACCEPT:
		return "accept";
	case FW_VERDICT_REJECT:
		return "reject";
	default:
		return "drop";
	}
}

class LogReader {
public:
	enum class Sink { text, json, journal };
	LogReader(std::string pin_dir, Sink sink) : pin_dir_(std::move(pin_dir)), sink_(sink), lock_(pin_dir_) {}
	~LogReader() { close_ring(); }

	// Opens the pinned ring buffer; false when nothing is applied here.
	bool open_ring()
	{
		close_ring();
		rt_ = std::make_unique<Runtime>(pin_dir_);
		if (!rt_->loaded())
			return false;
		int fd = rt_->map_fd("fw_log_rb");
		if (fd < 0)
			return false;
		map_id_ = map_id(fd);
		rb_ = ring_buffer__new(fd, &LogReader::on_event, this, nullptr);
		if (!rb_)
			throw SystemError(errno_message("cannot read the log ring buffer", errno));
		return true;
	}

	// True when the pin now names another map (down + apply) or none.
	bool ring_replaced() const
	{
		int fd = bpf_obj_get((pin_dir_ + "/fw_log_rb").c_str());
		if (fd < 0)
			return true;
		bool changed = map_id(fd) != map_id_;
		close(fd);
		return changed;
	}

	// Prints every event waiting; returns how many, or -errno.
	int drain()
	{
		begin_batch();
		lock_.lock();
		int n = ring_buffer__consume(rb_);
		lock_.unlock();
		return n;
	}
	// Waits up to ms for events, then drains; returns how many, or -errno.
	int poll(int ms)
	{
		struct epoll_event ev {};
		int n = epoll_wait(ring_buffer__epoll_fd(rb_), &ev, 1, ms);
		if (n < 0)
			return -errno;
		return n == 0 ? 0 : drain();
	}

private:
	std::string pin_dir_;
	Sink sink_;
	ConsumeLock lock_;
	bool journal_failed_ = false;
	std::unique_ptr<Runtime> rt_;
	struct ring_buffer *rb_ = nullptr;
	uint32_t map_id_ = 0;
	int64_t offset_ns_ = 0;
	uint32_t rules_gen_ = ~0u;
	json ruleset_;

	static uint32_t map_id(int fd)
	{
		struct bpf_map_info info {};
		uint32_t len = sizeof(info);
		return bpf_map_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
	}

	void close_ring()
	{
		if (rb_)
			ring_buffer__free(rb_);
		rb_ = nullptr;
	}

	// Comments come from the ruleset applied now; re-read when an apply
	// switched generations. An event still queued from before that apply
	// gets the new ruleset's comment at its position (the event carries
	// no generation).
	void begin_batch()
	{
		offset_ns_ = wall_offset_ns();
		int fd = rt_->map_fd("fw_active");
		struct fw_active a {};
		uint32_t zero = 0;
		if (fd >= 0 && bpf_map_lookup_elem(fd, &zero, &a) == 0 && a.gen != rules_gen_) {
			auto st = rt_->applied();
			ruleset_ = st ? st->ruleset_json() : json::object();
			rules_gen_ = a.gen;
		}
	}

	std::string comment(uint8_t chain, uint32_t position) const
	{
		const char *key = chain == FW_CHAIN_INPUT ? "input" : "forward";
		if (!ruleset_.contains(key) || position < 1 || position > ruleset_[key].size())
			return "";
		return ruleset_[key][position - 1].value("comment", "");
	}

	static int on_event(void *ctx, void *data, size_t size)
	{
		if (size < sizeof(fw_log_event))
			return 0;
		fw_log_event e;
		memcpy(&e, data, sizeof e);
		static_cast<LogReader *>(ctx)->print(e);
		return 0;
	}

	void print(const fw_log_event &e)
	{
		LogRecord r;
		r.time = iso_time_utc((uint64_t)((int64_t)e.ktime_ns + offset_ns_));
		r.chain = e.chain == FW_CHAIN_INPUT ? "input" : "forward";
		r.position = e.position;
		r.comment = comment(e.chain, e.position);
		r.verdict = verdict_name(e.verdict);
		r.in = ifname_of(e.in_ifindex);
		r.out = e.out_ifindex ? ifname_of(e.out_ifindex) : "";
		r.src = addr_text(e.family, e.saddr);
		r.dst = addr_text(e.family, e.daddr);
		r.proto = proto_name(e.proto);
		r.proto_is_number = r.proto == std::to_string(e.proto);
		r.has_ports = proto_has_ports(e.proto);
		r.sport = r.has_ports ? e.sport : 0;
		r.dport = r.has_ports ? e.dport : 0;
		r.len = e.len;
		if (sink_ == Sink::journal && !journal_failed_) {
			int rc = log_journal_send(r, pin_dir_);
			if (rc >= 0)
				return;
			// No journald (a container, a chroot) or no libsystemd: say so once, keep the
			// events on stdout rather than lose them.
			journal_failed_ = true;
			std::cerr << "fwctl: cannot write to the journal (" << strerror(-rc)
				  << "); writing events to stdout\n";
		}
		std::cout << (sink_ == Sink::json ? log_json_line(r) : log_text_line(r)) << std::endl;
	}
};

void install_stop_handlers()
{
	struct sigaction sa {};
	sa.sa_handler = on_signal; // no SA_RESTART: epoll_wait returns EINTR
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGHUP, &sa, nullptr);
	signal(SIGPIPE, SIG_IGN);
}

} // namespace

void register_log_commands(CLI::App &app, Context &ctx)
{
	static bool follow = false, as_json = false, journal = false;

	auto *log = app.add_subcommand("log", "print (and consume) log events of rules with \"log\": true");
	log->add_flag("-f,--follow", follow, "keep printing events until stopped");
	auto *j = log->add_flag("--json", as_json, "one JSON object per line");
	log->add_flag("--journal", journal, "write each event to the systemd journal with FWCTL_* fields")
		->excludes(j);
	log->callback([&ctx] {
		install_stop_handlers();
		LogReader r(ctx.pin_dir, journal   ? LogReader::Sink::journal
					 : as_json ? LogReader::Sink::json
						   : LogReader::Sink::text);
		if (!follow) {
			if (!r.open_ring())
				throw SystemError("nothing is applied at " + ctx.pin_dir + " (run `fwctl apply FILE`)");
			int n = r.drain();
			if (n < 0)
				throw SystemError(errno_message("reading the log ring buffer", -n));
			return;
		}
		// Follow: also across `fwctl down` and a new apply (the ring
		// buffer is then a new map), and before the first apply.
		bool said_waiting = false;
		while (!g_stop) {
			if (!r.open_ring()) {
				if (!said_waiting)
					std::cerr << "fwctl: nothing applied at " << ctx.pin_dir << " yet; waiting\n";
				said_waiting = true;
				std::this_thread::sleep_for(std::chrono::seconds(1));
				continue;
			}
			said_waiting = false;
			while (!g_stop) {
				int n = r.poll(1000);
				if (n < 0 && n != -EINTR)
					throw SystemError(errno_message("reading the log ring buffer", -n));
				if (n == 0 && r.ring_replaced()) {
					r.drain(); // what the old ring still holds
					break;
				}
			}
		}
	});
}

} // namespace fw::cli
