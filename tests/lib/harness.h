// The datapath test harness. The test binary runs in its own network and
// mount namespaces (unshare at start): it builds a router there (vlan1,
// vlan2 and their veth peers, addresses, routes, neighbours), mounts a
// private bpffs, applies rulesets with the real Runtime, and runs packets
// through the pinned programs with BPF_PROG_TEST_RUN.
#pragma once

#include <string>
#include <vector>

#include "packet.h"
#include "ruleset.h"
#include "runtime.h"

namespace fw::test {

// Router addresses of the test namespace (see harness.cpp):
//   vlan1 10.1.0.1/16, fd01::1/64   peer lan1 10.1.0.2, fd01::2
//   vlan2 192.0.2.1/24, 2001:db8::1/64   peer wan1 192.0.2.2, 2001:db8::2
//   a route to 198.51.100.0/24 via 192.0.2.2; 10.9.0.0/16 is unreachable
struct Harness {
	static Harness &get(); // sets the namespace up once

	std::string pin_dir;
	uint32_t ifindex(const std::string &name) const;

	// Applies a ruleset given as JSON text (checked like a file); throws
	// on errors with the checker's messages.
	// Without a "fastpath" key: the fast path off (see harness.cpp).
	void apply(const std::string &json_text);
	// Exactly as written: the fast path on by default.
	void apply_as_written(const std::string &json_text);
	void down();
	Runtime &runtime();

	struct Result {
		int action;                 // XDP_* or TC_ACT_*
		std::vector<uint8_t> out;   // the packet as the program left it
		bool noted = false;         // XDP: out is noted in fw_reject_sent
		Packet packet() const;      // out, parsed as a Packet
		// A reject answer on its way out: XDP_PASS with the answer noted
		// in fw_reject_sent for fw_tc_ingress (lib/reject.h).
		bool answered() const;
	};
	// Runs the XDP program (fw_xdp) with ingress on `in`.
	Result xdp(const Packet &p, const std::string &in);
	// Runs the TC ingress program (reject answers) on `in`.
	Result tc_ingress(const Packet &p, const std::string &in);
	// Runs the TC egress program on `out` (skb ifindex). With `in`, the
	// skb is a forwarded one that came in by `in` (skb_iif); without, it is
	// one this host sends.
	Result tc_egress(const Packet &p, const std::string &out, const std::string &in = "");

	// The test clock (bpf/lib/clock.h; fw_bpf_tests runs the test build
	// of the datapath): a non-zero value is "now", in ns, for the token
	// buckets, log timestamps and connection expiry; 0 gives time back to
	// the kernel's clocks. Needs a loaded datapath (apply first); down()
	// removes it with the other pins, so every fresh load starts at 0.
	void clock_set(uint64_t ns);
	// The test clock, or CLOCK_MONOTONIC while it is off.
	uint64_t clock_now();
	// Moves the test clock on (starting it at CLOCK_MONOTONIC when off).
	void clock_advance(uint64_t ns);

	// Summed counters.
	CounterValue rule(const std::string &chain, size_t position);
	CounterValue policy(const std::string &chain);
	CounterValue stat(uint32_t id);

private:
	Harness();
	void apply_ruleset(const std::string &json_text, bool as_written);
	Runtime *rt_ = nullptr;
};

// Gives time back to the kernel's clocks when a test that drove the test
// clock ends, however it ends (later tests may not reload the datapath).
struct ClockGuard {
	ClockGuard() = default;
	ClockGuard(const ClockGuard &) = delete;
	~ClockGuard()
	{
		try {
			Harness::get().clock_set(0);
		} catch (...) {
			// nothing loaded: no clock to give back
		}
	}
};

// BPF_PROG_TEST_RUN of the XDP program fd `prog` over `pkt` arriving on
// `ifindex`, `repeat` times: the verdict and the mean ns per run (the
// benchmarks' and load tests' runner; Harness::xdp is the tests' one).
struct TimedRun {
	int retval;
	uint64_t ns;
};
TimedRun xdp_test_run(int prog, const std::vector<uint8_t> &pkt, uint32_t ifindex, uint32_t repeat);

// Takes the datapath down when the scope ends, however a test ends: for
// tests that load another table size or layout than the others expect.
struct DownAtEnd {
	Harness &h;
	~DownAtEnd() { h.down(); }
};

} // namespace fw::test
