/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Sink of the forwarding benchmark, attached (native XDP) to the dst
 * namespace's veth: counts every frame that made it through the firewall
 * and drops it, so the receiving side costs next to nothing. Having an XDP
 * program there also lets the veth take frames that a firewall forwards
 * with bpf_redirect (ndo_xdp_xmit needs the peer to run XDP or GRO).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_rx SEC(".maps");

SEC("xdp")
int fw_bench_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *rx = bpf_map_lookup_elem(&sink_rx, &key);

	if (rx)
		*rx += 1;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
