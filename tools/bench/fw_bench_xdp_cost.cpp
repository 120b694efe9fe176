// fw_bench_xdp_cost: the firewall's own cost per packet on one core, with
// BPF_PROG_TEST_RUN (no veth, no generator): the ceiling that the
// end-to-end figures of fw_bench_forward approach from below.
//
// A NEW UDP packet of the forward chain that matches the last of N drop
// rules (forward policy accept: fw_bench_forward's fwctl-drop), through
// the pinned fw_xdp, and through prefixes of its drop path
// (bench_stages.bpf.c) to show where the time goes. The drop path leaves
// the packet as it is, so a repeat measures it faithfully.
//
// Then an ESTABLISHED packet of an accepted forwarded connection through
// the fast path (fw_bench_forward's fwctl row: the same rules with the last
// one accepting): it leaves by XDP_REDIRECT rewritten (MACs, TTL), so a
// repeat would not be the same packet: one run per call, many calls,
// beside the empty program measured the same way. Its route comes from the
// connection entry (lib/route_cache.h) as in a run of fw_bench_forward.
//
// Runs in private namespaces (the datapath tests' harness). Needs root.
//   fw_bench_xdp_cost [--repeat R] [--n 1,10000] [--json FILE]
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <nlohmann/json.hpp>

#include "bench_stages.skel.h"
#include "harness.h"

using namespace fw;
using namespace fw::test;
using json = nlohmann::json;

namespace {

constexpr uint16_t DPORT = 9000, OTHER_PORT0 = 20000;

// Average ns per run of `repeat` runs, best of three (the machine is
// shared: the minimum is the cost). *retval: the program's verdict.
double run_ns(int prog, const Packet &p, uint32_t ifindex, uint32_t repeat, int *retval)
{
	double best = 1e18;
	for (int k = 0; k < 3; k++) {
		TimedRun r = xdp_test_run(prog, p.bytes, ifindex, repeat);
		*retval = r.retval;
		best = std::min(best, (double)r.ns);
	}
	return best;
}

int empty_xdp_prog()
{
	struct bpf_insn insns[] = {
		{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_DROP},
		{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	return bpf_prog_load(BPF_PROG_TYPE_XDP, "empty", "GPL", insns, 2, nullptr);
}

// An XDP program on the peer of the way out (wan1) makes vlan2 able to
// transmit redirected frames, as a real NIC always is.
struct PeerXdp {
	int prog = -1;
	int ifindex;
	explicit PeerXdp(uint32_t peer) : ifindex((int)peer)
	{
		struct bpf_insn insns[] = {
			{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS},
			{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
		};
		prog = bpf_prog_load(BPF_PROG_TYPE_XDP, "peer", "GPL", insns, 2, nullptr);
		if (prog < 0 || bpf_xdp_attach(ifindex, prog, XDP_FLAGS_DRV_MODE, nullptr) != 0)
			throw std::runtime_error("attaching an XDP program to wan1");
	}
	~PeerXdp()
	{
		bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, nullptr);
		close(prog);
	}
};

// fw_bench_forward's fwctl rules: N-1 `udp dport P drop`, then `udp dport
// 9000 accept`, forward policy drop; "fastpath" named, as the harness
// turns the default fast path off for the datapath tests.
// masquerade: out of vlan2, as fw_bench_forward's fwctl-nat.
std::string accept_ruleset(int n, bool masquerade)
{
	std::ostringstream s;
	s << R"({"fastpath": true, "interfaces": ["vlan1", "vlan2"], "policy": {"input": "accept", "forward": "drop"}, "forward": [)";
	for (int i = 0; i < n - 1; i++)
		s << R"({"action": "drop", "proto": "udp", "dport": )" << OTHER_PORT0 + i << "},";
	s << R"({"action": "accept", "proto": "udp", "dport": )" << DPORT << "}]";
	if (masquerade)
		s << R"(, "nat": [{"out": "vlan2"}])";
	return s.str() + "}";
}

// One run per call, `calls` calls: the mean ns of the fastest 90 % (the
// machine is shared). A call's fixed cost (its timer) is in it: compare
// with the empty program measured the same way.
double run_calls_ns(int prog, const Packet &p, uint32_t ifindex, int calls, int want, int *retval)
{
	std::vector<double> t;
	for (int k = 0; k < calls; k++) {
		TimedRun r = xdp_test_run(prog, p.bytes, ifindex, 1);
		*retval = r.retval;
		if (r.retval != want)
			return 0;
		t.push_back((double)r.ns);
	}
	std::sort(t.begin(), t.end());
	t.resize(std::max<size_t>(1, t.size() * 9 / 10));
	double sum = 0;
	for (double x : t)
		sum += x;
	return sum / (double)t.size();
}

// fw_bench_forward's fwctl-drop rules (forward chain only): N-1
// `udp dport P drop`, then `udp dport 9000 drop`, policy accept.
std::string ruleset(int n)
{
	std::ostringstream s;
	s << R"({"policy": {"input": "accept", "forward": "accept"}, "forward": [)";
	for (int i = 0; i < n - 1; i++)
		s << R"({"action": "drop", "proto": "udp", "dport": )" << OTHER_PORT0 + i << "},";
	s << R"({"action": "drop", "proto": "udp", "dport": )" << DPORT << "}]";
	return s.str() + "}";
}

const char *verdict(int v)
{
	switch (v) {
	case XDP_DROP: return "DROP";
	case XDP_PASS: return "PASS";
	case XDP_TX: return "TX";
	case XDP_REDIRECT: return "REDIRECT";
	default: return "?";
	}
}

// The stage programs, their maps replaced by the applied ruleset's pins.
struct Stages {
	bench_stages *skel = nullptr;
	explicit Stages(const std::string &pin_dir)
	{
		skel = bench_stages::open();
		if (!skel)
			throw std::runtime_error("opening bench_stages");
		bpf_map *m;
		bpf_object__for_each_map(m, skel->obj)
		{
			std::string path = pin_dir + "/" + bpf_map__name(m);
			int fd = bpf_obj_get(path.c_str());
			if (fd < 0)
				continue; // .rodata and the like
			if (bpf_map__reuse_fd(m, fd) != 0)
				throw std::runtime_error("reusing " + path);
			close(fd);
		}
		if (bench_stages::load(skel) != 0)
			throw std::runtime_error(std::string("loading bench_stages: ") + strerror(errno));
	}
	~Stages() { bench_stages::destroy(skel); }
	std::vector<std::pair<std::string, int>> progs() const
	{
		return {{"cfg", bpf_program__fd(skel->progs.stage_cfg)},
			{"+parse", bpf_program__fd(skel->progs.stage_parse)},
			{"+ct lookup", bpf_program__fd(skel->progs.stage_ct)},
			{"+fib (chain)", bpf_program__fd(skel->progs.stage_route)},
			{"+cls: 2 iface hash, combine", bpf_program__fd(skel->progs.stage_cls_ifaces)},
			{"+cls: 2 addr LPM", bpf_program__fd(skel->progs.stage_cls_addr_lpm)},
			{"+cls: combine addrs", bpf_program__fd(skel->progs.stage_cls_addrs)},
			{"+cls: proto, sport, combine", bpf_program__fd(skel->progs.stage_cls_proto_sport)},
			{"+cls: dport, 2 combines", bpf_program__fd(skel->progs.stage_cls_dport)},
			{"+cls: final combine", bpf_program__fd(skel->progs.stage_classify)},
			{"+rule, counter", bpf_program__fd(skel->progs.stage_rule)}};
	}
};

} // namespace

int main(int argc, char **argv)
{
	uint32_t repeat = 1000000;
	std::vector<int> ns = {1, 10000};
	std::string json_out;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			repeat = (uint32_t)std::stoul(argv[++i]);
		} else if (!strcmp(argv[i], "--n") && i + 1 < argc) {
			ns.clear();
			std::stringstream ss(argv[++i]);
			for (std::string t; std::getline(ss, t, ',');)
				ns.push_back(std::stoi(t));
		} else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			json_out = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--repeat R] [--n 1,10000] [--json FILE]\n", argv[0]);
			return 2;
		}
	}
	libbpf_set_print([](enum libbpf_print_level lvl, const char *f, va_list ap) {
		return lvl == LIBBPF_WARN ? vfprintf(stderr, f, ap) : 0;
	});
	Harness &h = Harness::get();
	uint32_t in = h.ifindex("vlan1");
	int empty = empty_xdp_prog();
	if (empty < 0)
		return perror("loading the empty XDP program"), 1;
	json results = json::array();
	auto row = [&](const std::string &what, int n, double ns_pkt, int v) {
		printf("%-58s %6d %9.1f %9.2f %s\n", what.c_str(), n, ns_pkt, 1e3 / ns_pkt, verdict(v));
		results.push_back({{"what", what}, {"n", n}, {"ns_per_packet", ns_pkt},
				   {"mpps_per_core", 1e3 / ns_pkt}, {"verdict", verdict(v)}, {"repeat", repeat}});
	};
	printf("BPF_PROG_TEST_RUN, repeat %u, best of 3; one core; no driver, no generator\n", repeat);
	printf("%-58s %6s %9s %9s %s\n", "program / path", "N", "ns/pkt", "Mpps", "verdict");
	int v = 0;
	Packet drop_pkt = Packet::udp("10.1.0.2", "198.51.100.2", 10000, DPORT);
	double t = run_ns(empty, drop_pkt, in, repeat, &v); // (v is set by the call)
	row("empty XDP program (return DROP)", 0, t, v);
	for (int n : ns) {
		h.down();
		h.apply(ruleset(n));
		int prog = bpf_obj_get((h.pin_dir + "/prog_fw_xdp").c_str());
		if (prog < 0)
			return fprintf(stderr, "no pinned fw_xdp\n"), 1;
		t = run_ns(prog, drop_pkt, in, repeat, &v);
		row("fw_xdp: forward, drop at last rule", n, t, v);
		if (v != XDP_DROP)
			return fprintf(stderr, "the packet was not dropped (%s)\n", verdict(v)), 1;
		close(prog);
		Stages st(h.pin_dir);
		for (auto &[name, fd] : st.progs()) {
			t = run_ns(fd, drop_pkt, in, repeat, &v);
			row("  drop path prefix: " + name, n, t, v);
		}
		for (bool masq : {false, true}) {
			h.down();
			PeerXdp peer(h.ifindex("wan1"));
			h.apply(accept_ruleset(n, masq));
			prog = bpf_obj_get((h.pin_dir + "/prog_fw_xdp").c_str());
			if (prog < 0)
				return fprintf(stderr, "no pinned fw_xdp\n"), 1;
			Packet est = Packet::udp("10.1.0.2", "198.51.100.2", 10000, DPORT);
			xdp_test_run(prog, est.bytes, in, 1); // opens the connection
			int calls = (int)std::max<uint32_t>(1000, repeat / 50);
			t = run_calls_ns(empty, est, in, calls, XDP_DROP, &v);
			row("empty XDP program, one run per call", n, t, v);
			t = run_calls_ns(prog, est, in, calls, XDP_REDIRECT, &v);
			row(masq ? "fw_xdp: forward, established, masquerade, fast path, one run per call"
				 : "fw_xdp: forward, established, fast path, one run per call",
			    n, t, v);
			if (v != XDP_REDIRECT)
				return fprintf(stderr, "the established packet was not redirected (%s)\n", verdict(v)), 1;
			close(prog);
		}
	}
	h.down();
	close(empty);
	if (!json_out.empty())
		std::ofstream(json_out) << results.dump(2) << "\n";
	return 0;
}
