/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The forwarding fast path: a forwarded packet that the firewall accepted
 * leaves through bpf_redirect straight from XDP, skipping the stack, when
 * (and only when) the stack would have done nothing more than route it and
 * translate it as the connection table says. Every doubt sends the packet
 * to the stack (XDP_PASS), which is always correct, only slower. */
#ifndef FW_FASTPATH_H
#define FW_FASTPATH_H

#include "maps.h"
#include "parse.h"
#include "route.h"
#include "csum.h"
#include "nat.h"
#include "xfrm_fast.h"
#include "route_cache.h"


/* IPsec never takes the fast path: IKE, NAT-T and ESP/AH go to the stack
 * (a local daemon may terminate them, or the kernel decrypt them), and
 * the egress must be an Ethernet device, so traffic routed into a VPN's
 * TUN device (kernel-libipsec) is never redirected. Kernel XFRM policies
 * are invisible here: fw_ipsec_guard turns the fast path off while any
 * exist. */
static __always_inline int fw_fastpath_ipsec(const struct fw_pkt *p)
{
	if (p->t.proto == IPPROTO_ESP || p->t.proto == IPPROTO_AH)
		return 1;
	if (p->t.proto == IPPROTO_UDP &&
	    (p->t.sport == 500 || p->t.dport == 500 || p->t.sport == 4500 || p->t.dport == 4500))
		return 1;
	return 0;
}

/* Was the frame sent to the interface's own MAC (kept in its fw_fast_if
 * value by the loader)? The stack forwards only those (ip_forward and
 * ip6_forward drop broadcast, multicast and other hosts' frames, which a
 * promiscuous interface or a switch flooding an unknown address delivers). */
static __always_inline int fw_fastpath_for_us(void *data, void *data_end, __u64 if_value)
{
	__u64 mine = if_value >> FW_FAST_IF_MAC_SHIFT, dst = 0;
	__u8 *d = data;

	if ((void *)(d + ETH_ALEN) > data_end)
		return 0;
#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++)
		dst = dst << 8 | d[i];
	return mine && dst == mine;
}

/* Returns XDP_REDIRECT when it sent the packet, XDP_PASS otherwise.
 * `ct` is the connection entry the packet's key found (NULL for the
 * packet that opened the connection): its NAT, which TC egress would do
 * and a redirect skips, is done here, and its route cached
 * (lib/route_cache.h). Called after any destination rewrite of the
 * ingress side, so p describes the packet as it is now. */
static __always_inline int fw_fastpath(struct xdp_md *ctx, const struct fw_gen_cfg *cfg,
				       struct fw_pkt *p, __u32 in_ifindex,
				       struct fw_ct_entry *ct)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup *f;
	struct ethhdr *eth = data;
	__u64 *in_flags, *out_flags;
	__u32 zero = 0, *ipsec;

	if (!(cfg->flags & FW_CFG_F_FASTPATH))
		return XDP_PASS;
	ipsec = bpf_map_lookup_elem(&fw_ipsec_guard, &zero);
	if (!ipsec || *ipsec)
		return XDP_PASS;
	/* The first packet of a translated connection: TC egress finds the
	 * entry just made. Later packets come with theirs. */
	if (!ct && (cfg->nat_count || cfg->pf_count))
		return XDP_PASS;
	if (!fw_xfrm_clear_ok(ct))
		return XDP_PASS; /* an XFRM policy may cover it: lib/xfrm_fast.h */
	if (p->l3_off != sizeof(struct ethhdr) || p->frag != FW_FRAG_NONE || !p->l4_ok)
		return XDP_PASS;
	/* IPv4 options and IPv6 hop-by-hop options (router alert, source
	 * routes, ...) are for the stack to act on. */
	if (p->l3_opts)
		return XDP_PASS;
	if (p->hop_limit <= 1 || fw_fastpath_ipsec(p) || fw_is_multi_dest(p))
		return XDP_PASS; /* the stack answers "time exceeded" */
	/* Anything but SUCCESS (no neighbour yet, too big: needs fragmenting
	 * or an ICMP error, local, unreachable...) is the stack's job. */
	f = fw_route_of(ctx, p, in_ifindex, ct);
	if (!f)
		return XDP_PASS;
	out_flags = bpf_map_lookup_elem(&fw_fast_if, &f->ifindex);
	if (!out_flags || !(*out_flags & FW_FAST_IF_OUT))
		return XDP_PASS;
	in_flags = bpf_map_lookup_elem(&fw_fast_if, &in_ifindex);
	if (!in_flags || !fw_fastpath_for_us(data, data_end, *in_flags))
		return XDP_PASS;
	if ((*in_flags & FW_FAST_IF_VERIFY_CSUM) && !fw_xdp_l4_csum_ok(ctx, p))
		return XDP_PASS;
	/* The source rewrite (masquerade, replies of a port forward): plain
	 * incremental checksum updates, right for the complete sums above. */
	if (ct && ct->nat && fw_nat_snat_apply(data, data_end, p, ct))
		return XDP_PASS;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
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
	__builtin_memcpy(eth->h_dest, f->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, f->smac, ETH_ALEN);
	fw_stat(FW_STAT_FASTPATH, p->l3_len);
	return bpf_redirect(f->ifindex, 0);
}

#endif
