// watch: covers interfaces that appear after apply (rules-format.md,
// "Interfaces that appear later"). XDP and tcx attach per interface, so a
// TUN device, VLAN or NIC created later would run unfiltered until the next
// apply; this long-running mode listens to rtnetlink link events and
// attaches the programs to every new interface the applied selection covers.
//
// Ordering: the netlink subscription is made before the catch-up scan, so
// an interface created during the scan shows up as an event afterwards
// (attaching twice is a no-op: attach() skips existing pins).
//
// Locking: Runtime::prepare holds the pin dir's flock for the Runtime's
// lifetime. The watcher takes one Runtime per batch of events and drops it
// before sleeping again, so a concurrent `fwctl apply` / `down` never waits
// on an idle watcher. Under that lock "is something applied?" and the attach
// are one step: after `fwctl down` nothing is applied and no pin is
// re-created.
//
// Nothing applied: the watcher keeps listening (fwctl-watch.service may start
// before the first apply) and checks again on each event; `apply` attaches
// everything present itself, so no event is needed to catch up with it.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <map>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "commands.h"
#include "ipsec_guard.h"

namespace fw::cli {

namespace {

struct LinkEvent {
	bool added = false; // RTM_NEWLINK (creation, rename, flag change) or RTM_DELLINK
	bool address = false; // RTM_NEWADDR / RTM_DELADDR (IPv4): masquerade follows it
	uint32_t ifindex = 0;
	std::string name;
};

void say(const std::string &msg)
{
	std::cout << iso_time_utc(realtime_ns()) << " " << msg << std::endl;
}

void warn(const std::string &msg)
{
	std::cerr << iso_time_utc(realtime_ns()) << " fwctl watch: " << msg << std::endl;
}

// A NETLINK_ROUTE socket subscribed to RTMGRP_LINK and RTMGRP_IPV4_IFADDR.
class LinkMonitor {
public:
	LinkMonitor()
	{
		fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
		if (fd_ < 0)
			throw SystemError(errno_message("cannot open a rtnetlink socket", errno));
		// A burst (a hundred VLANs at once) must not overflow the queue;
		// if it does anyway, read() reports it and the caller rescans.
		int sz = 4 << 20;
		if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz) != 0)
			setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		struct sockaddr_nl sa {};
		sa.nl_family = AF_NETLINK;
		sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR;
		if (bind(fd_, (struct sockaddr *)&sa, sizeof sa) != 0) {
			int e = errno;
			close(fd_);
			throw SystemError(errno_message("cannot subscribe to link events", e));
		}
	}
	~LinkMonitor() { close(fd_); }
	LinkMonitor(const LinkMonitor &) = delete;
	int fd() const { return fd_; }

	// Appends every pending event; false when the kernel dropped some
	// (ENOBUFS): the caller must rescan.
	bool read(std::vector<LinkEvent> &out)
	{
		bool complete = true;
		alignas(struct nlmsghdr) char buf[65536];
		for (;;) {
			struct sockaddr_nl from {};
			socklen_t flen = sizeof from;
			ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno == ENOBUFS) {
					complete = false;
					continue;
				}
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return complete;
				throw SystemError(errno_message("reading link events", errno));
			}
			if (from.nl_pid != 0)
				continue; // only the kernel speaks for interfaces
			int len = (int)n;
			for (auto *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
				if (h->nlmsg_type == NLMSG_OVERRUN) {
					complete = false;
					continue;
				}
				if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) {
					if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
						continue;
					auto *ifa = (struct ifaddrmsg *)NLMSG_DATA(h);
					LinkEvent ev;
					ev.address = true;
					ev.ifindex = ifa->ifa_index;
					out.push_back(std::move(ev));
					continue;
				}
				if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK)
					continue;
				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
					continue;
				auto *ifi = (struct ifinfomsg *)NLMSG_DATA(h);
				LinkEvent ev;
				ev.added = h->nlmsg_type == RTM_NEWLINK;
				ev.ifindex = (uint32_t)ifi->ifi_index;
				int alen = (int)IFLA_PAYLOAD(h);
				for (auto *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
					if (a->rta_type == IFLA_IFNAME)
						ev.name.assign((const char *)RTA_DATA(a),
							       strnlen((const char *)RTA_DATA(a), RTA_PAYLOAD(a)));
				out.push_back(std::move(ev));
			}
		}
	}

private:
	int fd_ = -1;
};

// SIGTERM/SIGINT stop the watcher, SIGHUP makes it rescan; read from a
// signalfd so the event loop is one poll().
class Signals {
public:
	Signals()
	{
		sigemptyset(&set_);
		sigaddset(&set_, SIGTERM);
		sigaddset(&set_, SIGINT);
		sigaddset(&set_, SIGHUP);
		if (sigprocmask(SIG_BLOCK, &set_, &old_) != 0)
			throw SystemError(errno_message("cannot block signals", errno));
		fd_ = signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK);
		if (fd_ < 0) {
			int e = errno;
			sigprocmask(SIG_SETMASK, &old_, nullptr);
			throw SystemError(errno_message("cannot create a signalfd", e));
		}
	}
	~Signals()
	{
		close(fd_);
		sigprocmask(SIG_SETMASK, &old_, nullptr);
	}
	Signals(const Signals &) = delete;
	int fd() const { return fd_; }
	// The pending signal number, 0 when none.
	int take()
	{
		struct signalfd_siginfo si {};
		return ::read(fd_, &si, sizeof si) == (ssize_t)sizeof si ? (int)si.ssi_signo : 0;
	}

private:
	sigset_t set_, old_;
	int fd_ = -1;
};

class Watcher {
public:
	explicit Watcher(std::string pin_dir) : pin_dir_(std::move(pin_dir)) {}

	// One batch under one Runtime: takes the pin dir lock and releases it on
	// return. `full`: look at every interface (start, lost events, SIGHUP).
	void reconcile(const std::vector<LinkEvent> &events, bool full)
	{
		auto t0 = std::chrono::steady_clock::now();
		Runtime rt(pin_dir_);
		rt.prepare(false);
		auto st = rt.applied();
		if (!st) {
			if (state_ != State::idle)
				say("nothing is applied at " + pin_dir_ +
				    ": waiting (a later `fwctl apply` attaches by itself; new interfaces are "
				    "covered from then on)");
			state_ = State::idle;
			return;
		}
		if (state_ != State::active || st->hash != hash_) {
			say("ruleset " + st->hash + " is applied: covering " +
			    (st->ruleset.interfaces ? "the interfaces it lists"
								: "every interface but lo") +
			    " as they appear");
			full = true; // a new ruleset may select other interfaces
		}
		bool new_ruleset = state_ != State::active || st->hash != hash_;
		state_ = State::active;
		hash_ = st->hash;
		if (new_ruleset)
			note_nat_addresses(st->ruleset_json());

		bool gone = full, renamed = full;
		std::vector<std::string> names;
		if (full)
			names = netns_interfaces();
		bool address_moved = false;
		for (auto &ev : events) {
			if (ev.address) {
				address_moved = true;
				continue;
			}
			if (!ev.added) {
				gone = true;
				continue;
			}
			renamed = true;
			if (!ev.name.empty() && std::find(names.begin(), names.end(), ev.name) == names.end())
				names.push_back(ev.name);
		}
		// Stale pins first: a new interface may reuse the ifindex of one
		// that vanished, and attach() skips an index whose pin exists.
		if (gone)
			if (int n = rt.tidy_stale_links())
				say("removed " + std::to_string(n) + " link pin(s) of vanished interfaces");
		if (renamed)
			for (auto &n : rt.detach_unselected())
				say("detached " + n + ": not in the ruleset's \"interfaces\" (renamed?)");
		std::vector<std::string> named;
		for (auto &n : names)
			if (attach_one(rt, n, t0) && named_by_rules(st->ruleset_json(), n))
				named.push_back(n);
		if (address_moved && nat_address_changed(st->ruleset_json()))
			named.push_back("the masquerade address");
		if (!named.empty())
			reapply(rt, *st, named);
		if (new_ruleset)
			load_the_other_programs(rt);
	}

	// A first apply verifies only the programs its interfaces need
	// (Runtime::load_fresh); the watcher verifies the rest now, so that an
	// interface appearing later (a TUN device, a VLAN under IPsec) waits for
	// no verifier.
	void load_the_other_programs(Runtime &rt)
	{
		try {
			rt.load_missing_programs(all_programs());
		} catch (const std::exception &e) {
			warn(std::string("the programs not loaded yet load when an interface first needs them: ") +
			     e.what());
		}
	}

	int failures() const { return failures_; }

private:
	enum class State { unknown, idle, active };
	std::string pin_dir_;
	State state_ = State::unknown;
	std::string hash_;
	int failures_ = 0;
	std::map<std::string, uint32_t> nat_addr_; // masquerade interface -> address compiled in

	// NAT rules without "to" masquerade to their interface's address as it
	// is now (rules-format.md, "NAT"); apply compiled the one it found.
	static std::vector<std::string> masquerade_interfaces(const nlohmann::json &rs)
	{
		std::vector<std::string> out;
		if (rs.contains("nat"))
			for (auto &n : rs["nat"])
				if (n.contains("out") && !n.contains("to"))
					out.push_back(n["out"].get<std::string>());
		return out;
	}

	static std::map<std::string, uint32_t> current_nat_addresses(const nlohmann::json &rs)
	{
		std::map<std::string, uint32_t> out;
		for (auto &n : masquerade_interfaces(rs))
			out[n] = primary_ipv4(n);
		return out;
	}

	void note_nat_addresses(const nlohmann::json &rs) { nat_addr_ = current_nat_addresses(rs); }

	// True when a masquerade interface's address differs from the one
	// compiled in (and remembers the new one).
	bool nat_address_changed(const nlohmann::json &rs)
	{
		bool changed = false;
		for (auto &n : masquerade_interfaces(rs)) {
			uint32_t now = primary_ipv4(n);
			auto [it, fresh] = nat_addr_.try_emplace(n, now);
			if (fresh || it->second != now) {
				changed = true;
				it->second = now;
				say("masquerade on " + n + ": " +
				    (now ? "now " + addr_text(4, (const uint8_t *)&now)
					 : std::string("no IPv4 address: its packets are dropped (counted)")));
			}
		}
		return changed;
	}

	bool pinned(uint32_t ifindex) const
	{
		for (const char *k : {"/link_xdp_", "/link_tc_"})
			if (access((pin_dir_ + k + std::to_string(ifindex)).c_str(), F_OK) != 0)
				return false;
		return true;
	}

	// Rules compile interface names to ifindexes at apply (in/out, NAT out,
	// port-forward in).
	static bool named_by_rules(const nlohmann::json &rs, const std::string &name)
	{
		for (const char *k : {"input", "forward", "nat", "port-forward"})
			if (rs.contains(k))
				for (auto &r : rs[k])
					for (const char *f : {"in", "out"})
						if (r.contains(f) && r[f] == name)
							return true;
		return false;
	}

	// A device that rules name appeared (absent at apply, or back with a
	// new ifindex: charon restarted, a new ipsec0), or a masquerade
	// interface's address changed. The same ruleset applied again compiles
	// the new index / address in. Counters of unchanged rules and the
	// connection table survive.
	void reapply(Runtime &rt, const AppliedState &st, const std::vector<std::string> &names)
	{
		std::string list;
		for (auto &n : names)
			list += (list.empty() ? "" : ", ") + n;
		// The addresses are noted as they were before the apply: one that
		// changes while it runs arrives as an event afterwards and must
		// then differ from the note (read after, it would look compiled in
		// and the event would change nothing).
		auto before = current_nat_addresses(st.ruleset_json());
		try {
			// The same extra: a pending --confirm stays pending (its
			// waiter still rolls back at the deadline unless confirmed).
			rt.apply(st.ruleset, st.extra);
			nat_addr_ = before;
			say("re-applied ruleset " + st.hash + " so that rules naming " + list + " follow it");
		} catch (const std::exception &e) {
			failures_++;
			warn("rules naming " + list + " do not match the new device until the next `fwctl apply`: " +
			     e.what());
		}
	}

	// True when it attached now.
	bool attach_one(Runtime &rt, const std::string &name, std::chrono::steady_clock::time_point t0)
	{
		uint32_t idx = if_nametoindex(name.c_str());
		if (!idx || pinned(idx))
			return false; // gone again, or attached already (by apply or earlier)
		try {
			if (!rt.attach_if_covered(name))
				return false;
		} catch (const std::exception &e) {
			if (if_nametoindex(name.c_str()) != idx)
				return false; // vanished while we attached: nothing to cover
			failures_++;
			warn("cannot attach to " + name + ", it is NOT filtered: " + e.what());
			return false;
		}
		std::string how;
		for (auto &a : rt.attachments())
			if (a.live && a.ifindex == idx)
				how += std::string(how.empty() ? "" : ", ") + a.hook + " " + a.mode + " " + a.program;
		auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
				  .count();
		char ms[32];
		snprintf(ms, sizeof ms, "%.1f", us / 1000.0);
		say("attached " + name + " (ifindex " + std::to_string(idx) + "): " + how + " in " + ms + " ms");
		return true;
	}
};

// The fast path's IPsec guard follows XFRM policies (ipsec_guard.h);
// said only when it changes.
void sync_ipsec(const std::string &pin_dir)
{
	static int last = -1;
	try {
		int now = sync_ipsec_guard(pin_dir) ? 1 : 0;
		if (now != last)
			say(now ? "kernel IPsec policies present: the fast path is off"
				: "no kernel IPsec policies: the fast path may run");
		last = now;
	} catch (const std::exception &e) {
		warn(std::string("IPsec guard: ") + e.what());
	}
}

} // namespace

int watch_interfaces(const std::string &pin_dir, bool once, const std::function<void()> &after_subscribe)
{
	LinkMonitor mon; // subscribe before the catch-up scan: nothing slips between
	XfrmPolicyMonitor xfrm; // likewise before the first dump
	Signals sig;
	if (after_subscribe)
		after_subscribe(); // `fwctl run`: the apply, then READY
	Watcher w(pin_dir);
	w.reconcile({}, true);
	sync_ipsec(pin_dir);
	if (once)
		return w.failures() ? 1 : 0;
	say("watching link events and IPv4 addresses (pin dir " + pin_dir + ")");
	struct pollfd p[3] = {{mon.fd(), POLLIN, 0}, {sig.fd(), POLLIN, 0}, {xfrm.fd(), POLLIN, 0}};
	for (;;) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			throw SystemError(errno_message("poll", errno));
		}
		bool full = false;
		if (p[1].revents & POLLIN) {
			int s = sig.take();
			if (s == SIGTERM || s == SIGINT) {
				say(std::string("stopping (") + strsignal(s) + ")");
				return 0;
			}
			full = s == SIGHUP;
			if (full)
				sync_ipsec(pin_dir);
		}
		if ((p[2].revents & POLLIN) && xfrm.drain())
			sync_ipsec(pin_dir);
		std::vector<LinkEvent> events;
		if ((p[0].revents & POLLIN) && !mon.read(events)) {
			warn("link events were lost (queue overflow): rescanning every interface");
			full = true;
		}
		if (events.empty() && !full)
			continue;
		try {
			w.reconcile(events, full);
		} catch (const std::exception &e) {
			// Keep watching: the next event (or SIGHUP) tries again.
			warn(e.what());
		}
	}
}

void register_watch_command(CLI::App &app, Context &ctx)
{
	static bool once = false;
	auto *watch = app.add_subcommand(
		"watch", "keep running: attach to interfaces that appear later, tidy up after those that vanish");
	watch->add_flag("--once", once, "catch up (attach to covered interfaces, remove stale pins) and exit");
	watch->callback([&ctx] {
		require_root();
		ctx.exit_code = watch_interfaces(ctx.pin_dir, once, nullptr);
	});
}

} // namespace fw::cli
