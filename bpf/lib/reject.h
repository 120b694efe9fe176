/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * "reject": answer TCP with a RST and every other protocol with ICMP port
 * unreachable (ICMPv6 port unreachable, type 1 code 4, for IPv6), built in
 * XDP by turning the offending packet around in place and sending it back
 * out of the interface it came in by (XDP_TX).
 *
 *  - TCP: the headers are rewritten at the same place (IP header without
 *    options, TCP header without options) and the tail is cut. Sequence
 *    numbers as RFC 9293 3.10.7.1 and Linux's tcp_v4_send_reset: if the
 *    segment had ACK, RST with seq = its ack; else RST|ACK with seq 0 and
 *    ack = its seq + payload length (+1 for SYN, +1 for FIN).
 *  - ICMP: new IP and ICMP headers are pushed in front of the original IP
 *    header (bpf_xdp_adjust_head), so the quote (original IP header with
 *    options or extension headers, plus the first 8 bytes of its payload,
 *    RFC 792 / RFC 4443) is already in place; the tail is cut after it.
 *
 * The answer comes from the address the packet was sent to (for forwarded
 * packets that is the remote host's address, as nftables' reject does for
 * RSTs). Not answered (silent drop, as RFC 1122 3.2.2 / RFC 4443 2.4(e)
 * ask): RSTs, ICMP errors, non-first fragments, and packets to or from
 * broadcast/multicast addresses or in broadcast/multicast frames.
 *
 * Rate limit: answers share one token bucket (bucket.h, FW_BUCKET_REJECT,
 * 100/second, burst 50, all CPUs together) so that a flood of rejected
 * packets cannot turn the firewall into a packet reflector; over it the
 * packet is dropped silently and counted in FW_STAT_REJECT_LIMITED. Sent
 * answers count in FW_STAT_REJECT_SENT (bytes: the answer's L3 length).
 *
 * L3 devices (TUN, fw_xdp_l3): a reject is a drop. There is no link-layer
 * header to turn around, and XDP_TX on a TUN device hands the packet to the
 * user-space reader of the device (e.g. the VPN daemon) rather than back to
 * the sender, so there is no way to answer from XDP there.
 *
 * Delivery: not XDP_TX. On a veth, native XDP_TX hands the answer to the
 * peer's NAPI, which exists only when the peer has GRO on or an XDP
 * program, else the kernel drops it silently; and whether the peer has one
 * can change after apply. So the answer, built here, goes up (XDP_PASS)
 * and is noted in fw_reject_sent (its interface and first L3 bytes); fwctl's
 * TC ingress program (fw_tc_ingress) finds it there, takes the note and
 * redirects it out of the interface it came in by, through the ordinary
 * transmit path, which works on every device. Not XDP metadata: some
 * kernels build XDP without bpf_xdp_adjust_meta (seen on a 6.18), and a
 * note in a map works the same on every driver and in generic mode. That
 * keeps XDP native everywhere (drops stay cheap); answers are rate limited,
 * so the detour through an skb costs nothing that matters. An answer that
 * meets no TC program (none attached) or finds no note (never more than one
 * send per note) is addressed to another host's MAC: the stack drops it as
 * PACKET_OTHERHOST, nothing leaks.
 */
#ifndef FW_REJECT_H
#define FW_REJECT_H

#include "bucket.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"

#define FW_REJECT_INTERVAL_NS (1000000000ull / 100) /* 100 answers a second */
#define FW_REJECT_BURST 50
#define FW_REJECT_TTL 64
/* l3_off is at most 22 (two VLAN tags) where it is used. The compiler
 * knows and would drop a plain mask; Linux 6.1's verifier forgets the bound
 * when the value comes back from a 32-bit stack slot ("R9 offset is outside
 * of the packet"). The barrier hides the value from the compiler so the
 * mask stays for the verifier. */
static __always_inline __u32 fw_reject_l3_off(__u32 l3_off)
{
	barrier_var(l3_off);
	return l3_off & FW_L3_OFF_MASK;
}

static __always_inline int fw_reject_eligible(void *data, void *data_end, const struct fw_pkt *p)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end || (eth->h_dest[0] & 1) || (eth->h_source[0] & 1))
		return 0; /* broadcast or multicast frame, or no sender to answer */
	if (p->frag == FW_FRAG_LATER)
		return 0;
	if (p->t.family == 4) {
		__u8 s0 = p->t.saddr[0], d0 = p->t.daddr[0];
		__u32 s, d;

		__builtin_memcpy(&s, p->t.saddr, 4);
		__builtin_memcpy(&d, p->t.daddr, 4);
		if (s0 >= 224 || d0 >= 224 || s == 0 || d == 0)
			return 0; /* multicast, class E, broadcast, unspecified */
		if (p->t.proto == IPPROTO_ICMP) {
			__u8 t = p->icmp_type;
			if (t == 3 || t == 4 || t == 5 || t == 11 || t == 12)
				return 0; /* an error: never answer one */
		}
	} else {
		__u64 hi, lo;

		if (p->t.saddr[0] == 0xff || p->t.daddr[0] == 0xff)
			return 0;
		__builtin_memcpy(&hi, p->t.saddr, 8);
		__builtin_memcpy(&lo, p->t.saddr + 8, 8);
		if (!hi && !lo)
			return 0;
		if (p->t.proto == IPPROTO_ICMPV6 && p->icmp_type < 128)
			return 0;
	}
	if (p->t.proto == IPPROTO_TCP && (!p->has_ports || (p->tcp_flags & FW_TCP_RST)))
		return 0;
	return 1;
}

static __always_inline void fw_swap_mac(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
}

/* Returns the answer's L3 length, or 0 when nothing can be sent. */
static __always_inline __u32 fw_reject_tcp(struct xdp_md *ctx, const struct fw_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l3_off = p->l3_off, l4_off = p->l4_off, hdrs, payload, l3_hdr, new_len, sum;
	__be32 seq, ack;
	__u8 flags;
	struct tcphdr *th, *nt;
	int delta;

	if (l3_off > FW_L3_OFF_MAX || l4_off > FW_REJECT_L4_OFF_MAX)
		return 0;
	th = data + l4_off;
	if ((void *)(th + 1) > data_end)
		return 0;
	hdrs = l4_off - l3_off + th->doff * 4;
	if (p->l3_len < hdrs)
		return 0;
	payload = p->l3_len - hdrs;
	if (p->tcp_flags & FW_TCP_ACK) {
		seq = th->ack_seq;
		ack = 0;
		flags = FW_TCP_RST;
	} else {
		payload += !!(p->tcp_flags & FW_TCP_SYN) + !!(p->tcp_flags & FW_TCP_FIN);
		seq = 0;
		ack = bpf_htonl(bpf_ntohl(th->seq) + payload);
		flags = FW_TCP_RST | FW_TCP_ACK;
	}
	l3_hdr = p->t.family == 4 ? 20 : 40;
	new_len = l3_off + l3_hdr + 20;
	/* The frame length from a helper, not data_end - data: clang folds
	 * the latter into pointer arithmetic the verifier refuses. */
	delta = (int)new_len - (int)bpf_xdp_get_buff_len(ctx);
	if (delta > 0 || data + sizeof(struct ethhdr) > data_end)
		return 0;

	fw_swap_mac(data);
	if (p->t.family == 4) {
		struct iphdr *ip = data + fw_reject_l3_off(l3_off);

		if ((void *)ip + 40 > data_end)
			return 0;
		*(__u16 *)ip = bpf_htons(0x4500);
		ip->tot_len = bpf_htons(40);
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000); /* DF, as Linux's RSTs */
		ip->ttl = FW_REJECT_TTL;
		ip->protocol = IPPROTO_TCP;
		ip->check = 0;
		__builtin_memcpy(&ip->saddr, p->t.daddr, 4);
		__builtin_memcpy(&ip->daddr, p->t.saddr, 4);
		ip->check = fw_csum_fold(fw_csum_mem(ip, 20, 0));
		nt = (void *)ip + 20;
		sum = fw_csum_mem(&ip->saddr, 8, 0);
	} else {
		struct ipv6hdr *ip6 = data + fw_reject_l3_off(l3_off);

		if ((void *)ip6 + 60 > data_end)
			return 0;
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(20);
		ip6->nexthdr = IPPROTO_TCP;
		ip6->hop_limit = FW_REJECT_TTL;
		__builtin_memcpy(&ip6->saddr, p->t.daddr, 16);
		__builtin_memcpy(&ip6->daddr, p->t.saddr, 16);
		nt = (void *)ip6 + 40;
		sum = fw_csum_mem(&ip6->saddr, 32, 0);
	}
	if ((void *)(nt + 1) > data_end)
		return 0;
	__builtin_memset(nt, 0, sizeof(*nt));
	nt->source = bpf_htons(p->t.dport);
	nt->dest = bpf_htons(p->t.sport);
	nt->seq = seq;
	nt->ack_seq = ack;
	((__u8 *)nt)[12] = 5 << 4;
	((__u8 *)nt)[13] = flags;
	sum = fw_csum_add(sum, bpf_htons(IPPROTO_TCP));
	sum = fw_csum_add(sum, bpf_htons(20));
	nt->check = fw_csum_fold(fw_csum_mem(nt, 20, sum));

	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return 0;
	return l3_hdr + 20;
}

/* The link-layer header (with up to two VLAN tags), `grow` bytes further
 * in after bpf_xdp_adjust_head, moved to the new start and turned around.
 * Returns 0, or -1 when the frame is too short. */
static __always_inline int fw_reject_turn_l2(void *data, void *data_end, __u32 grow, __u32 l3_off)
{
	struct ethhdr *eth = data, *old = data + grow;

	if ((void *)(old + 1) > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, old->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, old->h_dest, ETH_ALEN);
	eth->h_proto = old->h_proto;
	if (l3_off >= 18) {
		if (data + grow + 18 > data_end)
			return -1;
		__builtin_memcpy(data + 14, data + grow + 14, 4);
	}
	if (l3_off >= 22) {
		if (data + grow + 22 > data_end)
			return -1;
		__builtin_memcpy(data + 18, data + grow + 18, 4);
	}
	return 0;
}

/* The IP header of an ICMP error of qlen quoted bytes, back to p's source:
 * returns where its ICMP header goes (NULL when the frame is too short),
 * with *sum the ICMPv6 pseudo-header's sum (ICMP has none: 0). */
static __always_inline struct fw_icmphdr *fw_reject_icmp_l3(void *data, void *data_end,
							     const struct fw_pkt *p, __u32 l3_off,
							     __u32 qlen, __u32 *sum)
{
	if (p->t.family == 4) {
		struct iphdr *ip = data + fw_reject_l3_off(l3_off);

		if ((void *)ip + 28 > data_end)
			return NULL;
		*(__u16 *)ip = bpf_htons(0x45c0); /* tos: internetwork control */
		ip->tot_len = bpf_htons(28 + qlen);
		ip->id = 0;
		ip->frag_off = 0;
		ip->ttl = FW_REJECT_TTL;
		ip->protocol = IPPROTO_ICMP;
		ip->check = 0;
		__builtin_memcpy(&ip->saddr, p->t.daddr, 4);
		__builtin_memcpy(&ip->daddr, p->t.saddr, 4);
		ip->check = fw_csum_fold(fw_csum_mem(ip, 20, 0));
		*sum = 0;
		return (void *)ip + 20;
	} else {
		struct ipv6hdr *ip6 = data + fw_reject_l3_off(l3_off);

		if ((void *)ip6 + 48 > data_end)
			return NULL;
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(8 + qlen);
		ip6->nexthdr = IPPROTO_ICMPV6;
		ip6->hop_limit = FW_REJECT_TTL;
		__builtin_memcpy(&ip6->saddr, p->t.daddr, 16);
		__builtin_memcpy(&ip6->daddr, p->t.saddr, 16);
		*sum = fw_csum_mem(&ip6->saddr, 32, 0);
		*sum = fw_csum_add(*sum, bpf_htons(8 + qlen));
		*sum = fw_csum_add(*sum, bpf_htons(IPPROTO_ICMPV6));
		return (void *)ip6 + 40;
	}
}

/* ICMP (v4) or ICMPv6 port unreachable, quoting the original L3 headers and
 * the first 8 bytes after them. */
static __always_inline __u32 fw_reject_icmp(struct xdp_md *ctx, const struct fw_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 l3_off = p->l3_off, qlen, grow, new_len, sum, zero = 0;
	struct fw_quote_buf *buf;
	struct fw_icmphdr *ic;
	int v4 = p->t.family == 4, delta;

	if (l3_off > FW_L3_OFF_MAX || p->l4_off < l3_off)
		return 0;
	qlen = p->l4_off - l3_off + 8;
	if (qlen > FW_QUOTE_MAX - 4 || (qlen & 3) || qlen > p->l3_len ||
	    data + l3_off + qlen > data_end)
		return 0; /* shorter than header + 8, or an absurd header chain */
	buf = bpf_map_lookup_elem(&fw_reject_scratch, &zero);
	if (!buf)
		return 0;
	grow = v4 ? 20 + 8 : 40 + 8;
	if (bpf_xdp_adjust_head(ctx, -(int)grow))
		return 0;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;

	if (fw_reject_turn_l2(data, data_end, grow, l3_off))
		return 0;
	ic = fw_reject_icmp_l3(data, data_end, p, l3_off, qlen, &sum);
	if (!ic || (void *)(ic + 1) > data_end)
		return 0;
	ic->type = v4 ? FW_ICMP_DEST_UNREACH : FW_ICMPV6_DEST_UNREACH;
	ic->code = v4 ? FW_ICMP_PORT_UNREACH : FW_ICMPV6_PORT_UNREACH;
	ic->checksum = 0;
	ic->id = 0;
	ic->sequence = 0;
	sum = fw_csum_mem(ic, 8, sum);

	/* The quote sits right after the new headers already. */
	qlen &= FW_QUOTE_MAX - 4;
	if (qlen < 8)
		return 0;
	/* Linux 6.1's verifier takes the size from a copy spilled before the
	 * test above (no lower bound: "size=0"); test the very register
	 * passed, on 64 bits, right at the call. */
	__u64 size = qlen;
	barrier_var(size);
	if (size < 8 || size > FW_QUOTE_MAX - 4)
		return 0;
	if (bpf_xdp_load_bytes(ctx, l3_off + grow, buf->b, size))
		return 0;
	ic->checksum = fw_csum_fold(fw_csum_mem(buf->b, qlen, sum));

	new_len = l3_off + grow + qlen;
	delta = (int)new_len - (int)bpf_xdp_get_buff_len(ctx);
	if (delta > 0)
		return 0;
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return 0;
	return grow + qlen;
}

/* XDP_PASS with the answer (the frame in ctx, its L3 header at l3_off)
 * noted in fw_reject_sent for fw_tc_ingress; XDP_DROP when it cannot be
 * noted. A global function: the verifier checks it once, not at every
 * verdict of fw_ingress that may reject. */
__noinline int fw_reject_hand_to_tc(struct xdp_md *ctx, __u32 l3_off, __u32 family)
{
	struct fw_quote_buf *buf = bpf_map_lookup_elem(&fw_reject_scratch, &(__u32){ 0 });
	struct fw_reject_key *k;
	__u64 now;
	int err;

	if (!buf)
		return XDP_DROP;
	k = (void *)buf->b;
	__builtin_memset(k, 0, sizeof(*k));
	k->ifindex = ctx->ingress_ifindex;
	k->family = family;
	l3_off = fw_reject_l3_off(l3_off);
	if (family == 4)
		err = bpf_xdp_load_bytes(ctx, l3_off, k->l3, 40);
	else
		err = bpf_xdp_load_bytes(ctx, l3_off, k->l3, FW_REJECT_KEY_L3);
	if (err)
		return XDP_DROP;
	now = fw_clock_ns();
	if (bpf_map_update_elem(&fw_reject_sent, k, &now, BPF_ANY))
		return XDP_DROP;
	return XDP_PASS;
}

static __always_inline int fw_reject_xdp(struct xdp_md *ctx, struct fw_pkt *p, int l3)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 sent;

	if (l3)
		return XDP_DROP; /* TUN: see above */
	if (!fw_reject_eligible(data, data_end, p))
		return XDP_DROP;
	if (!fw_bucket_take(FW_BUCKET_REJECT, fw_clock_ns(), FW_REJECT_INTERVAL_NS,
			    FW_REJECT_BURST)) {
		fw_stat_rare(FW_STAT_REJECT_LIMITED, p->l3_len);
		return XDP_DROP;
	}
	if (p->t.proto == IPPROTO_TCP)
		sent = fw_reject_tcp(ctx, p);
	else
		sent = fw_reject_icmp(ctx, p);
	if (!sent)
		return XDP_DROP;
	fw_stat_rare(FW_STAT_REJECT_SENT, sent);
	return fw_reject_hand_to_tc(ctx, p->l3_off, p->t.family);
}

/* TC ingress: a reject answer from fw_reject_xdp goes back out of the
 * interface it arrived on. The answer is addressed to its sender, so the
 * stack sees another host's frame (PACKET_OTHERHOST, which it drops): only
 * those are looked up. Everything else continues (TCX_NEXT) untouched. */
static __always_inline int fw_reject_tc_ingress(struct __sk_buff *skb)
{
	struct fw_quote_buf *buf;
	struct fw_reject_key *k;
	__u32 off = sizeof(struct ethhdr), family;
	__be16 proto;
	__u64 *built;
	int err, fresh;

	if (skb->pkt_type != PACKET_OTHERHOST)
		return TC_ACT_UNSPEC;
	if (bpf_skb_load_bytes(skb, 12, &proto, sizeof(proto)))
		return TC_ACT_UNSPEC;
	/* Tags the stack left in the frame (it takes the outer one out). */
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if (bpf_skb_load_bytes(skb, off + 2, &proto, sizeof(proto)))
			return TC_ACT_UNSPEC;
		off += 4;
	}
	if (proto == bpf_htons(ETH_P_IP))
		family = 4;
	else if (proto == bpf_htons(ETH_P_IPV6))
		family = 6;
	else
		return TC_ACT_UNSPEC;
	buf = bpf_map_lookup_elem(&fw_reject_scratch, &(__u32){ 0 });
	if (!buf)
		return TC_ACT_UNSPEC;
	k = (void *)buf->b;
	__builtin_memset(k, 0, sizeof(*k));
	k->ifindex = skb->ifindex;
	k->family = family;
	if (family == 4)
		err = bpf_skb_load_bytes(skb, off, k->l3, 40);
	else
		err = bpf_skb_load_bytes(skb, off, k->l3, FW_REJECT_KEY_L3);
	if (err)
		return TC_ACT_UNSPEC;
	built = bpf_map_lookup_elem(&fw_reject_sent, k);
	if (!built)
		return TC_ACT_UNSPEC;
	/* Each answer goes out once, while it is fresh. */
	fresh = fw_clock_ns() - *built < 1000000000ull;
	bpf_map_delete_elem(&fw_reject_sent, k);
	if (!fresh)
		return TC_ACT_UNSPEC;
	skb->mark = FW_REJECT_MARK;
	return bpf_redirect(skb->ifindex, 0);
}

#endif
