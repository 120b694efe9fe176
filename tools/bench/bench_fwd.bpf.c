/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The `xdp-fwd` reference of the forwarding benchmark: the least an XDP
 * router can do (bpf_fib_lookup, TTL, MACs, bpf_redirect), no filtering.
 * A firewall's XDP fast path can approach this rate, not pass it: it shows
 * what the topology allows, beside plain kernel forwarding (`none`).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2

SEC("xdp")
int fw_bench_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + sizeof(*eth);
	struct bpf_fib_lookup f = {};
	__u32 check;

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5 ||
	    iph->ttl <= 1)
		return XDP_PASS;
	f.family = AF_INET;
	f.tos = iph->tos;
	f.l4_protocol = iph->protocol;
	f.tot_len = bpf_ntohs(iph->tot_len);
	f.ipv4_src = iph->saddr;
	f.ipv4_dst = iph->daddr;
	f.ifindex = ctx->ingress_ifindex;
	if (bpf_fib_lookup(ctx, &f, sizeof(f), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_PASS;
	check = iph->check;
	check += bpf_htons(0x0100);
	iph->check = (__sum16)(check + (check >= 0xFFFF));
	iph->ttl--;
	__builtin_memcpy(eth->h_dest, f.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, f.smac, ETH_ALEN);
	return bpf_redirect(f.ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
