// Fills a running fwctl's connection table the way traffic would: one
// BPF_PROG_TEST_RUN of the pinned fw_xdp per new flow, so every connection
// is created by the datapath itself (master + alias), through the rules.
// Used by tools/bench/mem_report.sh; run it in the firewall's namespace:
//
//   ct_fill --pin-dir DIR --in IFNAME --count N [--dst A.B.C.D] [--dport P]
//           [--reply IFNAME] [--measure]
//
// Flow i: UDP 10.16.0.0+i:40000 -> DST:DPORT (default 198.51.100.7:9000)
// arriving on IFNAME. With --reply, the answer DST:DPORT -> 10.16.0.0+i:40000
// then arrives on that interface, so the flow is replied (a UDP stream:
// 120 s timeout instead of 30, docs/conntrack.md). Prints the verdicts, the
// wall time, and the mean program time per packet as BPF_PROG_TEST_RUN
// reports it. --measure then sends every flow once more (an established
// hit, in a scattered order), one flow as many times with one run per call
// (the floor of a call: no table walk to speak of), and one flow a million
// times in one call (hot cache): the per-packet cost of a hit in a table
// of this size.
#include <algorithm>
#include <chrono>
#include <numeric>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sched.h>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <net/if.h>
#include <unistd.h>

#include "packet.h"

using fw::test::Packet;

namespace {

struct Options {
	std::string pin_dir, in, dst = "198.51.100.7";
	uint32_t count = 0;
	std::string reply;
	uint16_t dport = 9000;
	bool measure = false;
};

[[noreturn]] void usage()
{
	fprintf(stderr, "usage: ct_fill --pin-dir DIR --in IFNAME --count N [--dst ADDR] [--dport P] [--reply IFNAME] "
			"[--measure]\n");
	exit(2);
}

Options parse(int argc, char **argv)
{
	Options o;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		auto val = [&]() -> std::string {
			if (i + 1 >= argc)
				usage();
			return argv[++i];
		};
		if (a == "--pin-dir")
			o.pin_dir = val();
		else if (a == "--in")
			o.in = val();
		else if (a == "--count")
			o.count = (uint32_t)std::stoul(val());
		else if (a == "--dst")
			o.dst = val();
		else if (a == "--dport")
			o.dport = (uint16_t)std::stoul(val());
		else if (a == "--reply")
			o.reply = val();
		else if (a == "--measure")
			o.measure = true;
		else
			usage();
	}
	if (o.pin_dir.empty() || o.in.empty() || !o.count || o.count > (1u << 24))
		usage();
	return o;
}

// Flow i's frame: the template with host 10.16.0.0 + i as the source (as
// the destination for a reply) and its IPv4 header checksum redone (the
// UDP checksum is 0: "none", valid for IPv4).
void set_flow(std::vector<uint8_t> &b, uint32_t i, bool reply = false)
{
	uint32_t host = htonl((10u << 24 | 16u << 16) + i);
	memcpy(&b[14 + (reply ? 16 : 12)], &host, 4);
	b[14 + 10] = b[14 + 11] = 0;
	uint16_t c = fw::test::csum_fold(fw::test::csum_add(0, &b[14], 20));
	b[14 + 10] = (uint8_t)(c >> 8), b[14 + 11] = (uint8_t)c;
}

struct Runner {
	int prog;
	uint32_t ifindex, reply_ifindex = 0;
	std::vector<uint8_t> out = std::vector<uint8_t>(512);

	// Returns the verdict; *ns gets the program's time (repeat runs, mean).
	int run(std::vector<uint8_t> &pkt, uint32_t repeat, uint64_t *ns, bool reply = false)
	{
		struct xdp_md ctx {};
		ctx.data_end = (uint32_t)pkt.size();
		ctx.ingress_ifindex = reply ? reply_ifindex : ifindex;
		LIBBPF_OPTS(bpf_test_run_opts, o);
		o.data_in = pkt.data();
		o.data_size_in = (uint32_t)pkt.size();
		o.data_out = out.data();
		o.data_size_out = (uint32_t)out.size();
		o.ctx_in = &ctx;
		o.ctx_size_in = sizeof(ctx);
		o.repeat = repeat;
		if (bpf_prog_test_run_opts(prog, &o) != 0) {
			perror("BPF_PROG_TEST_RUN of fw_xdp");
			exit(1);
		}
		*ns = o.duration;
		return (int)o.retval;
	}
};

double seconds_since(std::chrono::steady_clock::time_point t)
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

int main(int argc, char **argv)
{
	Options opt = parse(argc, argv);
	// One CPU: the LRU table hands out free entries per CPU; a filler that
	// wandered between CPUs could strand some and evict early flows.
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	sched_setaffinity(0, sizeof set, &set);

	Runner r;
	r.prog = bpf_obj_get((opt.pin_dir + "/prog_fw_xdp").c_str());
	r.ifindex = if_nametoindex(opt.in.c_str());
	if (!opt.reply.empty() && !(r.reply_ifindex = if_nametoindex(opt.reply.c_str()))) {
		fprintf(stderr, "ct_fill: no interface %s\n", opt.reply.c_str());
		return 1;
	}
	if (r.prog < 0 || !r.ifindex) {
		fprintf(stderr, "ct_fill: no prog_fw_xdp in %s or no interface %s\n", opt.pin_dir.c_str(),
			opt.in.c_str());
		return 1;
	}
	std::vector<uint8_t> pkt = Packet::udp("10.16.0.0", opt.dst, 40000, opt.dport).bytes;
	pkt[14 + 20 + 6] = pkt[14 + 20 + 7] = 0; // no UDP checksum
	std::vector<uint8_t> ans = Packet::udp("198.51.100.7", "10.16.0.0", opt.dport, 40000).bytes;
	memcpy(&ans[14 + 12], &pkt[14 + 16], 4); // from DST
	ans[14 + 20 + 6] = ans[14 + 20 + 7] = 0;

	uint64_t verdicts[8] = {}, prog_ns = 0, reply_ns = 0, ns = 0, replies_passed = 0;
	auto t0 = std::chrono::steady_clock::now();
	for (uint32_t i = 0; i < opt.count; i++) {
		set_flow(pkt, i);
		int v = r.run(pkt, 1, &ns);
		verdicts[v >= 0 && v < 8 ? v : 7]++;
		prog_ns += ns;
		if (r.reply_ifindex) {
			set_flow(ans, i, true);
			replies_passed += r.run(ans, 1, &ns, true) == XDP_PASS;
			reply_ns += ns;
		}
	}
	double wall = seconds_since(t0);
	printf("ct_fill: %u new flows in %.2f s (%.0f flows/s); fw_xdp %.0f ns per new flow "
	       "(BPF_PROG_TEST_RUN duration); verdicts: pass %llu, drop %llu, other %llu\n",
	       opt.count, wall, opt.count / wall, (double)prog_ns / opt.count,
	       (unsigned long long)verdicts[XDP_PASS], (unsigned long long)verdicts[XDP_DROP],
	       (unsigned long long)(opt.count - verdicts[XDP_PASS] - verdicts[XDP_DROP]));
	if (r.reply_ifindex)
		printf("ct_fill: replies: %llu passed, %.0f ns per reply\n", (unsigned long long)replies_passed,
		       (double)reply_ns / opt.count);
	bool ok = verdicts[XDP_PASS] == opt.count && (!r.reply_ifindex || replies_passed == opt.count);
	if (!opt.measure)
		return ok ? 0 : 1;

	// Every flow once more, as an established hit, in a scattered order
	// (a stride coprime with the count), so consecutive packets touch
	// unrelated buckets as real traffic of many flows would.
	uint64_t stride = 7919; // prime
	while (std::gcd<uint64_t>(stride, opt.count) != 1)
		stride += 2;
	prog_ns = 0;
	uint64_t passed = 0;
	for (uint64_t k = 0; k < opt.count; k++) {
		set_flow(pkt, (uint32_t)((k * stride) % opt.count));
		passed += r.run(pkt, 1, &ns) == XDP_PASS;
		prog_ns += ns;
	}
	printf("ct_fill: established hit, %u distinct flows, scattered order: %.1f ns per packet "
	       "(%llu passed)\n",
	       opt.count, (double)prog_ns / opt.count, (unsigned long long)passed);
	set_flow(pkt, opt.count / 2);
	prog_ns = 0;
	for (uint64_t k = 0; k < opt.count; k++) {
		r.run(pkt, 1, &ns);
		prog_ns += ns;
	}
	printf("ct_fill: established hit, one flow %u times, one run per call: %.1f ns per packet\n", opt.count,
	       (double)prog_ns / opt.count);
	r.run(pkt, 1000, &ns); // warm up
	int v = r.run(pkt, 1000000, &ns);
	printf("ct_fill: established hit, one flow 1,000,000 times (hot cache): %.1f ns per packet%s\n",
	       (double)ns, v == XDP_PASS ? "" : " (UNEXPECTED VERDICT)");
	close(r.prog);
	return ok ? 0 : 1;
}
