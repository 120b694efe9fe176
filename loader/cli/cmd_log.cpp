// log: the events of rules with "log": true, drained from the datapath's
// ring buffer (fw_log_rb). Reading consumes: an event is printed once, by
// one reader, so readers of one pin dir exclude each other (see ReaderLock).
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "commands.h"

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

// One reader per pin dir: an abstract unix socket named after the pin
// dir's device and inode. It needs no file (a bpffs holds only pins, and
// opening a pinned ring buffer fails with EIO, so it cannot be flock'ed),
// vanishes with the process, and is per network namespace, as an fwctl
// instance is.
class ReaderLock {
public:
	explicit ReaderLock(const std::string &pin_dir)
	{
		struct stat st {};
		if (stat(pin_dir.c_str(), &st) != 0)
			return;
		fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd_ < 0)
			return;
		addr_.sun_family = AF_UNIX;
		len_ = snprintf(addr_.sun_path + 1, sizeof(addr_.sun_path) - 1, "fwctl-log.%llx.%llx",
				(unsigned long long)st.st_dev, (unsigned long long)st.st_ino) +
		       1 + offsetof(struct sockaddr_un, sun_path);
	}
	~ReaderLock()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	ReaderLock(const ReaderLock &) = delete;
	ReaderLock &operator=(const ReaderLock &) = delete;
	// True when taken (or when there is nothing to lock against).
	bool try_take()
	{
		if (fd_ < 0)
			return true;
		return bind(fd_, (struct sockaddr *)&addr_, (socklen_t)len_) == 0 || errno != EADDRINUSE;
	}

private:
	int fd_ = -1;
	struct sockaddr_un addr_ {};
	size_t len_ = 0;
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
	LogReader(std::string pin_dir, bool as_json) : pin_dir_(std::move(pin_dir)), json_(as_json) {}
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
	int drain() { return begin_batch(), ring_buffer__consume(rb_); }
	int poll(int ms) { return begin_batch(), ring_buffer__poll(rb_, ms); }

private:
	std::string pin_dir_;
	bool json_;
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
		std::string time = iso_time_utc((uint64_t)((int64_t)e.ktime_ns + offset_ns_));
		std::string chain = e.chain == FW_CHAIN_INPUT ? "input" : "forward";
		std::string cmt = comment(e.chain, e.position);
		bool ports = proto_has_ports(e.proto);
		std::string proto = proto_name(e.proto);
		if (json_) {
			json j = {{"time", time},
				  {"chain", chain},
				  {"position", e.position},
				  {"comment", cmt},
				  {"in", ifname_of(e.in_ifindex)}};
			if (e.out_ifindex)
				j["out"] = ifname_of(e.out_ifindex);
			j["src"] = addr_text(e.family, e.saddr);
			j["dst"] = addr_text(e.family, e.daddr);
			if (proto == std::to_string(e.proto))
				j["proto"] = e.proto;
			else
				j["proto"] = proto;
			if (ports) {
				j["sport"] = e.sport;
				j["dport"] = e.dport;
			}
			j["verdict"] = verdict_name(e.verdict);
			j["len"] = e.len;
			std::cout << j.dump() << std::endl; // one object a line, flushed
			return;
		}
		// One line, key=value, fit for the journal.
		std::string line = time + " " + chain + " " + std::to_string(e.position);
		if (!cmt.empty())
			line += " \"" + escape_text(cmt) + "\"";
		line += std::string(" ") + verdict_name(e.verdict) + " in=" + ifname_of(e.in_ifindex);
		if (e.out_ifindex)
			line += " out=" + ifname_of(e.out_ifindex);
		line += " src=" + addr_text(e.family, e.saddr) + " dst=" + addr_text(e.family, e.daddr) +
			" proto=" + proto;
		if (ports)
			line += " sport=" + std::to_string(e.sport) + " dport=" + std::to_string(e.dport);
		line += " len=" + std::to_string(e.len);
		std::cout << line << std::endl;
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
	static bool follow = false, as_json = false;

	auto *log = app.add_subcommand("log", "print (and consume) log events of rules with \"log\": true");
	log->add_flag("-f,--follow", follow, "keep printing events until stopped");
	log->add_flag("--json", as_json, "one JSON object per line");
	log->callback([&ctx] {
		install_stop_handlers();
		ReaderLock lock(ctx.pin_dir);
		// A reader that just stopped may take a moment to go; then it is
		// somebody else's stream.
		for (int i = 0; !lock.try_take(); i++) {
			if (i == 20 || g_stop)
				throw SystemError("another `fwctl log` is reading the events of " + ctx.pin_dir +
						  " (reading consumes them; with fwctl-log.service running, "
						  "see `journalctl -u fwctl-log`)");
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		}
		LogReader r(ctx.pin_dir, as_json);
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
