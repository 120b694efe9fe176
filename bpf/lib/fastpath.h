/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The forwarding fast path: a forwarded packet that the firewall accepted
 * leaves through bpf_redirect straight from XDP, skipping the stack, when
 * (and only when) the stack would have done nothing more than route it.
 * Every doubt sends the packet to the stack (XDP_PASS), which is always
 * correct, only slower. */
#ifndef FW_FASTPATH_H
#define FW_FASTPATH_H

#include "maps.h"
#include "parse.h"
#include "route.h"

/* Interfaces a redirected frame may leave by: Ethernet devices fwctl is
 * attached to whose driver transmits XDP frames (NDO_XMIT); written at
 * apply. A TUN device (a userspace VPN's) is never here. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} fw_fast_out SEC(".maps");

/* IPsec never takes the fast path: IKE, NAT-T and ESP/AH go to the stack
 * (a local daemon may terminate them, or the kernel decrypt them), and
 * the egress must be an Ethernet device, so traffic routed into a VPN's
 * TUN device (kernel-libipsec) is never redirected. Kernel XFRM policies
 * are invisible here: `apply` refuses "fastpath" while any exist. */
static __always_inline int fw_fastpath_ipsec(const struct fw_pkt *p)
{
	if (p->t.proto == IPPROTO_ESP || p->t.proto == IPPROTO_AH)
		return 1;
	if (p->t.proto == IPPROTO_UDP &&
	    (p->t.sport == 500 || p->t.dport == 500 || p->t.sport == 4500 || p->t.dport == 4500))
		return 1;
	return 0;
}

/* Returns XDP_REDIRECT when it sent the packet, XDP_PASS otherwise. */
static __always_inline int fw_fastpath(struct xdp_md *ctx, const struct fw_gen_cfg *cfg,
				       const struct fw_pkt *p, __u32 in_ifindex)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup f = {};
	struct ethhdr *eth = data;

	if (!(cfg->flags & FW_CFG_F_FASTPATH))
		return XDP_PASS;
	/* NAT rewrites happen on egress (TC), which a redirect skips. */
	if (cfg->nat_count || cfg->pf_count)
		return XDP_PASS;
	if (p->l3_off != sizeof(struct ethhdr) || p->frag != FW_FRAG_NONE || !p->l4_ok)
		return XDP_PASS;
	if (p->hop_limit <= 1 || fw_fastpath_ipsec(p) || fw_is_multi_dest(p))
		return XDP_PASS; /* the stack answers "time exceeded" */
	/* Anything but SUCCESS (no neighbour yet, too big: needs fragmenting
	 * or an ICMP error, local, unreachable...) is the stack's job. */
	if (fw_fib_lookup(ctx, p, in_ifindex, &f) != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_PASS;
	if (!bpf_map_lookup_elem(&fw_fast_out, &f.ifindex))
		return XDP_PASS;
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	if (p->t.family == 4) {
		struct iphdr *iph = data + sizeof(*eth);
		__u32 check;

		if ((void *)(iph + 1) > data_end)
			return XDP_PASS;
		/* TTL - 1 and the incremental checksum update, as
		 * ip_decrease_ttl() does (RFC 1624). */
		check = iph->check;
		check += bpf_htons(0x0100);
		iph->check = (__sum16)(check + (check >= 0xFFFF));
		iph->ttl--;
	} else {
		struct ipv6hdr *ip6 = data + sizeof(*eth);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		ip6->hop_limit--;
	}
	__builtin_memcpy(eth->h_dest, f.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, f.smac, ETH_ALEN);
	fw_stat(FW_STAT_FASTPATH, p->l3_len);
	return bpf_redirect(f.ifindex, 0);
}

#endif
