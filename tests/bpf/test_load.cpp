// Under load: 100 re-applies while a flow runs through the XDP program; no
// packet of the flow may meet anything but its rule. The generator is
// BPF_PROG_TEST_RUN in a loop on another thread (what packets see is the
// same: each run reads fw_active afresh); each apply waits until the
// generator has sent another batch, so batches run across every switch
// without any clock. "Lost" means counted anywhere but on the flow's rule,
// which both rulesets share (an unchanged rule keeps its counter slot
// across re-applies). The rate (>= 100 kpps on the project's VM) is the
// benchmark's to measure: build/bench_reapply.
#include <atomic>
#include <doctest/doctest.h>
#include <thread>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "harness.h"

using namespace fw;
using namespace fw::test;

TEST_CASE("100 re-applies during a flow lose no packet")
{
	Harness &h = Harness::get();
	h.down();
	auto ruleset = [](int i) {
		return std::string(R"({"policy": {"input": "drop", "forward": "drop"}, "input": [
		    {"action": "accept", "in": "vlan2", "proto": "udp", "dport": 500, "comment": "the flow"},
		    {"action": "accept", "proto": "tcp", "dport": )") +
		       std::to_string(1000 + i) + "}]}";
	};
	h.apply(ruleset(0));
	CounterValue rule0 = h.rule("input", 1), est0 = h.stat(FW_STAT_CT_ESTABLISHED);

	int prog = bpf_obj_get((h.pin_dir + "/prog_fw_xdp").c_str());
	REQUIRE(prog >= 0);
	Packet pkt = Packet::udp("192.0.2.2", "192.0.2.1", 4000, 500);
	uint32_t ifindex = h.ifindex("vlan2");
	std::atomic<bool> stop{false};
	std::atomic<uint64_t> sent{0}, bad{0}, errors{0};
	std::thread gen([&] {
		std::vector<uint8_t> out(pkt.bytes.size() + 256);
		while (!stop) {
			struct xdp_md ctx {};
			ctx.data_end = (uint32_t)pkt.bytes.size();
			ctx.ingress_ifindex = ifindex;
			LIBBPF_OPTS(bpf_test_run_opts, o);
			o.data_in = pkt.bytes.data();
			o.data_size_in = (uint32_t)pkt.bytes.size();
			o.data_out = out.data();
			o.data_size_out = (uint32_t)out.size();
			o.ctx_in = &ctx;
			o.ctx_size_in = sizeof(ctx);
			o.repeat = 64;
			if (bpf_prog_test_run_opts(prog, &o) != 0) {
				errors++;
				continue;
			}
			sent += 64;
			if (o.retval != XDP_PASS)
				bad++;
		}
	});
	// Readiness, not time: the next step waits for the generator's next batch.
	auto next_batch = [&] {
		uint64_t seen = sent;
		while (sent == seen && errors == 0)
			std::this_thread::yield();
	};
	next_batch();
	for (int i = 1; i <= 100; i++) {
		h.apply(ruleset(i));
		next_batch();
	}
	stop = true;
	gen.join();
	close(prog);
	uint64_t n = sent.load();
	MESSAGE(n << " packets during 100 re-applies");
	CHECK(errors == 0);
	CHECK(bad == 0);
	CHECK(n >= 101 * 64);
	// Every packet of the flow was accepted by its rule or by its connection. (The policy
	// counter is no witness: the veth peers' own IPv6 chatter, MLD and
	// router solicitations, meets the drop policy meanwhile.)
	// With connection tracking the flow's first packet counts on the rule
	// and the rest on the connection table (re-applying keeps the table).
	uint64_t est = h.stat(FW_STAT_CT_ESTABLISHED).packets - est0.packets;
	uint64_t ruled = h.rule("input", 1).packets - rule0.packets;
	MESSAGE(ruled << " on the rule, " << est << " established");
	CHECK(ruled + est == n);
}
