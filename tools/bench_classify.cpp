// Per-packet cost of classification as the ruleset grows: the XDP program
// through BPF_PROG_TEST_RUN at 1, 100, 1,000 and 10,000 rules, the packet
// matching the last rule, beside an empty XDP program's cost. Runs in a
// private network namespace (the datapath tests' harness). Needs root.
//   bench_classify [--repeat N] [--json FILE]
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <nlohmann/json.hpp>

#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

double run_ns(int prog, const Packet &p, uint32_t ifindex, uint32_t repeat, int *retval)
{
	TimedRun r = xdp_test_run(prog, p.bytes, ifindex, repeat);
	*retval = r.retval;
	return (double)r.ns; // average ns per run
}

int empty_xdp_prog()
{
	struct bpf_insn insns[] = {
		{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS},
		{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	return bpf_prog_load(BPF_PROG_TYPE_XDP, "empty", "GPL", insns, 2, nullptr);
}

std::string ruleset(int n)
{
	std::string js = R"({"policy": {"input": "drop", "forward": "drop"}, "input": [)";
	for (int i = 0; i < n; i++)
		js += std::string(i ? "," : "") + R"({"action": "accept", "in": "vlan2", "proto": "udp", "dport": )" +
		      std::to_string(10000 + i) + "}";
	return js + "]}";
}

} // namespace

int main(int argc, char **argv)
{
	uint32_t repeat = 1000000;
	std::string json_out;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = (uint32_t)std::stoul(argv[++i]);
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json_out = argv[++i];
	}
	Harness &h = Harness::get();
	int empty = empty_xdp_prog();
	if (empty < 0) {
		perror("loading the empty XDP program");
		return 1;
	}
	nlohmann::json results = nlohmann::json::array();
	printf("%8s %12s %14s %14s %10s\n", "rules", "apply ms", "fwctl ns/pkt", "empty ns/pkt", "vs 1 rule");
	double first = 0;
	for (int n : {1, 100, 1000, 10000}) {
		h.down();
		Runtime &rt = h.runtime();
		h.apply(ruleset(n));
		double apply_ms = (double)rt.apply_duration_ns() / 1e6;
		int prog = bpf_obj_get((h.pin_dir + "/prog_fw_xdp").c_str());
		Packet p = Packet::udp("192.0.2.2", "192.0.2.1", 40000, (uint16_t)(10000 + n - 1));
		int rv = 0, erv = 0;
		// Best of three: the machine is shared; the minimum is the cost.
		double ns = 1e18, ens = 1e18;
		for (int k = 0; k < 3; k++) {
			ns = std::min(ns, run_ns(prog, p, h.ifindex("vlan2"), repeat, &rv));
			ens = std::min(ens, run_ns(empty, p, h.ifindex("vlan2"), repeat, &erv));
		}
		close(prog);
		if (rv != XDP_PASS) {
			fprintf(stderr, "the packet matching rule %d was not accepted (verdict %d)\n", n, rv);
			return 1;
		}
		if (n == 1)
			first = ns;
		printf("%8d %12.1f %14.1f %14.1f %9.2fx\n", n, apply_ms, ns, ens, ns / first);
		results.push_back({{"rules", n}, {"apply_ms", apply_ms}, {"ns_per_packet", ns},
				   {"empty_ns_per_packet", ens}, {"ratio_vs_1", ns / first}, {"repeat", repeat}});
	}
	h.down();
	if (!json_out.empty())
		std::ofstream(json_out) << results.dump(2) << "\n";
	return 0;
}
