// Packets per second through the XDP program while the ruleset is
// re-applied 100 times (the rate tests/bpf/test_load.cpp used to assert):
// a BPF_PROG_TEST_RUN flow on another thread, 64 packets a call, every
// packet accepted by its rule or its connection. Exits 1 when a packet was
// not accepted or the rate is under --min-kpps (default 100, the figure
// the project's 2-core VM keeps while other jobs run). Runs in a private
// network namespace (the datapath tests' harness). Needs root.
//   bench_reapply [--applies N] [--min-kpps K] [--json FILE]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <nlohmann/json.hpp>

#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

std::string ruleset(int i)
{
	return std::string(R"({"policy": {"input": "drop", "forward": "drop"}, "input": [
	    {"action": "accept", "in": "vlan2", "proto": "udp", "dport": 500, "comment": "the flow"},
	    {"action": "accept", "proto": "tcp", "dport": )") +
	       std::to_string(1000 + i) + "}]}";
}

} // namespace

int main(int argc, char **argv)
{
	int applies = 100;
	double min_kpps = 100;
	std::string json_out;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--applies") && i + 1 < argc)
			applies = std::stoi(argv[++i]);
		else if (!strcmp(argv[i], "--min-kpps") && i + 1 < argc)
			min_kpps = std::stod(argv[++i]);
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json_out = argv[++i];
	}
	Harness &h = Harness::get();
	h.down();
	h.apply(ruleset(0));
	int prog = bpf_obj_get((h.pin_dir + "/prog_fw_xdp").c_str());
	if (prog < 0) {
		perror("the pinned XDP program");
		return 1;
	}
	Packet pkt = Packet::udp("192.0.2.2", "192.0.2.1", 4000, 500);
	uint32_t ifindex = h.ifindex("vlan2");
	std::atomic<bool> stop{false};
	std::atomic<uint64_t> sent{0}, bad{0};
	std::thread gen([&] {
		while (!stop) {
			if (xdp_test_run(prog, pkt.bytes, ifindex, 64).retval != XDP_PASS)
				bad++;
			sent += 64;
		}
	});
	auto t0 = std::chrono::steady_clock::now();
	for (int i = 1; i <= applies; i++)
		h.apply(ruleset(i));
	double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	stop = true;
	gen.join();
	close(prog);
	h.down();
	double kpps = (double)sent / secs / 1000.0;
	printf("%d re-applies in %.2f s (%.1f ms each); %llu packets meanwhile: %.0f kpps; %llu not accepted\n",
	       applies, secs, secs * 1000 / applies, (unsigned long long)sent.load(), kpps,
	       (unsigned long long)bad.load());
	if (!json_out.empty())
		std::ofstream(json_out) << nlohmann::json{{"applies", applies}, {"seconds", secs},
						     {"packets", sent.load()}, {"kpps", kpps},
						     {"not_accepted", bad.load()}}
						  .dump(2)
					<< "\n";
	if (bad) {
		fprintf(stderr, "%llu packets of the flow were not accepted during re-applies\n",
			(unsigned long long)bad.load());
		return 1;
	}
	if (kpps < min_kpps) {
		fprintf(stderr, "%.0f kpps is under the %.0f kpps floor\n", kpps, min_kpps);
		return 1;
	}
	return 0;
}
