/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Sink of the forwarding benchmark, attached (native XDP) to the dst
 * namespace's veth: counts every frame that made it through the firewall
 * and drops it, so the receiving side costs next to nothing. Having an XDP
 * program there also lets the veth take frames that a firewall forwards
 * with bpf_redirect (ndo_xdp_xmit needs the peer to run XDP or GRO).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_rx SEC(".maps");

/* The IPv4 source of the latest frame, so the driver can tell that a NAT
 * variant really rewrote it (and that the others did not). Written only
 * when it changes: the cache line stays clean at full rate. */
__u32 last_saddr = 0;

SEC("xdp")
int fw_bench_count(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + sizeof(*eth);
	__u32 key = 0;
	__u64 *rx = bpf_map_lookup_elem(&sink_rx, &key);

	if (rx)
		*rx += 1;
	if ((void *)(iph + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IP) &&
	    iph->saddr != last_saddr)
		last_saddr = iph->saddr;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
