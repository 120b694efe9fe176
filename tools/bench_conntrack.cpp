// BPF_PROG_TEST_RUN benchmark of the connection table's established path,
// with 10,000 rules applied and 100,000 tracked connections, beside the cost
// of an empty XDP program. Runs in the test harness's private namespaces
// (tests/lib/harness.h): nothing touches the host.
//
//   sudo build/bench_conntrack [repeat]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <unistd.h>

#include "conntrack.h"
#include "harness.h"

using namespace fw;
using namespace fw::test;

namespace {

constexpr int kRules = 10000;
constexpr int kConns = 100000;

int empty_xdp()
{
	struct bpf_insn insns[] = {
		{BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS},
		{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "empty", "GPL", insns, 2, nullptr);
	if (fd < 0) {
		perror("loading the empty XDP program");
		exit(1);
	}
	return fd;
}

struct Run {
	double ns;
	int action;
};

Run run(int prog, const Packet &p, uint32_t ifindex, bool xdp, uint32_t repeat)
{
	std::vector<uint8_t> out(p.bytes.size() + 256);
	struct xdp_md xctx {};
	struct __sk_buff sctx {};
	LIBBPF_OPTS(bpf_test_run_opts, o);
	o.data_in = p.bytes.data();
	o.data_size_in = (uint32_t)p.bytes.size();
	o.data_out = out.data();
	o.data_size_out = (uint32_t)out.size();
	if (xdp) {
		xctx.data_end = (uint32_t)p.bytes.size();
		xctx.ingress_ifindex = ifindex;
		o.ctx_in = &xctx;
		o.ctx_size_in = sizeof(xctx);
	} else {
		sctx.ifindex = ifindex;
		o.ctx_in = &sctx;
		o.ctx_size_in = sizeof(sctx);
	}
	o.repeat = repeat;
	if (bpf_prog_test_run_opts(prog, &o) != 0) {
		perror("BPF_PROG_TEST_RUN");
		exit(1);
	}
	return {(double)o.duration, (int)o.retval};
}

std::string lan_host(int i)
{
	return "10." + std::to_string(16 + (i >> 16)) + "." + std::to_string((i >> 8) & 255) + "." +
	       std::to_string(i & 255);
}

// Stores connection i (LAN host i, UDP 40000 -> 198.51.100.7:53, replied)
// as the datapath would: master + alias.
void add_conn(int fd, int i, uint32_t expires)
{
	Packet p = Packet::udp(lan_host(i), "198.51.100.7", 40000, 53);
	fw_tuple k{};
	k.family = 4;
	k.proto = 17;
	memcpy(k.saddr, &p.bytes[14 + 12], 4);
	memcpy(k.daddr, &p.bytes[14 + 16], 4);
	k.sport = 40000;
	k.dport = 53;
	fw_ct_entry m{}, a{};
	m.other = k;
	memcpy(m.other.saddr, k.daddr, 16);
	memcpy(m.other.daddr, k.saddr, 16);
	m.other.sport = 53;
	m.other.dport = 40000;
	m.dir = FW_CT_DIR_ORIG;
	m.flags = FW_CT_F_SEEN_REPLY;
	m.expires = expires;
	a.other = k;
	a.dir = FW_CT_DIR_REPLY;
	if (bpf_map_update_elem(fd, &k, &m, BPF_ANY) || bpf_map_update_elem(fd, &m.other, &a, BPF_ANY)) {
		perror("filling fw_ct");
		exit(1);
	}
}

} // namespace

int main(int argc, char **argv)
{
	uint32_t repeat = argc > 1 ? (uint32_t)atoi(argv[1]) : 1000000;
	Harness &h = Harness::get();
	std::string js = R"({"policy": {"input": "drop", "forward": "drop"}, "input": [)";
	for (int i = 0; i < kRules - 1; i++)
		js += std::string(i ? "," : "") + R"({"action": "accept", "in": "vlan2", "proto": "udp", "dport": )" +
		      std::to_string(10000 + i) + "}";
	js += R"(], "forward": [{"action": "accept", "in": "vlan1", "out": "vlan2"}]})";
	h.apply(js);

	int ct = h.runtime().map_fd("fw_ct");
	uint32_t expires = ct_now() + 3600;
	for (int i = 0; i < kConns; i++)
		add_conn(ct, i, expires);
	size_t live = conntrack_list(h.runtime()).size();

	int xdp = bpf_obj_get((h.pin_dir + "/prog_fw_xdp").c_str());
	int tc = bpf_obj_get((h.pin_dir + "/prog_fw_tc_egress").c_str());
	int empty = empty_xdp();
	uint32_t v1 = h.ifindex("vlan1"), v2 = h.ifindex("vlan2");
	struct bpf_prog_info info {};
	uint32_t ilen = sizeof(info);
	bpf_prog_get_info_by_fd(xdp, &info, &ilen);

	printf("fw_xdp: %u BPF instructions (xlated); %d rules applied; %zu live connections\n",
	       info.xlated_prog_len / 8, kRules, live);
	printf("%u runs each, ns per packet (BPF_PROG_TEST_RUN, the same packet every run):\n", repeat);
	struct Case {
		const char *what;
		int prog;
		Packet pkt;
		uint32_t ifindex;
		bool xdp;
		int want;
	};
	const int k = kConns / 2;
	Case cases[] = {
		{"empty XDP program (XDP_PASS)", empty, Packet::udp(lan_host(k), "198.51.100.7", 40000, 53), v1, true, XDP_PASS},
		{"established, original direction (1 lookup)", xdp, Packet::udp(lan_host(k), "198.51.100.7", 40000, 53), v1, true, XDP_PASS},
		{"established, reply direction (2 lookups)", xdp, Packet::udp("198.51.100.7", lan_host(k), 53, 40000), v2, true, XDP_PASS},
		{"not tracked: 10,000-rule classifier, policy drop", xdp, Packet::udp("192.0.2.2", "192.0.2.1", 9, 30000), v2, true, XDP_DROP},
		{"TC egress, established (refresh only)", tc, Packet::udp(lan_host(k), "198.51.100.7", 40000, 53), v2, false, TC_ACT_OK},
	};
	for (auto &c : cases) {
		run(c.prog, c.pkt, c.ifindex, c.xdp, 1000); // warm up
		Run r = run(c.prog, c.pkt, c.ifindex, c.xdp, repeat);
		printf("  %-52s %7.1f ns%s\n", c.what, r.ns, r.action == c.want ? "" : "  (UNEXPECTED VERDICT)");
	}
	printf("established packets counted: %llu\n", (unsigned long long)h.stat(FW_STAT_CT_ESTABLISHED).packets);
	close(xdp);
	close(tc);
	close(empty);
	h.down();
	return 0;
}
