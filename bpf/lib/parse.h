/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Bounds-checked packet parsing shared by the XDP and TC programs: both
 * hand in their data/data_end pointers. */
#ifndef FW_PARSE_H
#define FW_PARSE_H

#include "common.h"

enum fw_parse_result {
	FW_PARSE_OK = 0,
	FW_PARSE_NOT_IP,    /* ARP, LLDP...: not ours to judge */
	FW_PARSE_MALFORMED, /* IP, but not a header we can trust */
	FW_PARSE_UNWALKED,  /* IPv6 whose header chain goes on beyond what we
			     * walk: its upper layer is out of sight, and the
			     * stack would deliver it whole. Always dropped. */
};

#define FW_FRAG_NONE 0
#define FW_FRAG_FIRST 1
#define FW_FRAG_LATER 2

struct fw_pkt {
	struct fw_tuple t;  /* addresses; ports only when has_ports */
	__u32 l3_off;       /* from data */
	__u32 l4_off;       /* from data; valid when l4_ok */
	__u32 l3_len;       /* layer-3 length, from the IP header */
	__u32 frag_id;      /* IPv4 id or IPv6 fragment identification */
	__u32 cls_sport_slot; /* classifier port slots: the port, or FW_NO_PORT */
	__u32 cls_dport_slot;
	__u8 has_ports;     /* TCP/UDP/SCTP header present: ports are real */
	__u8 l4_ok;         /* the L4 header this packet claims is all there */
	__u8 frag;          /* FW_FRAG_* */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 hop_limit;     /* TTL or hop limit */
	__u8 l3_opts;       /* IPv4 options or an IPv6 hop-by-hop header */
	/* TCP, host byte order (connection window tracking, lib/ct.h) */
	__u32 tcp_seq;
	__u32 tcp_ack;
	__u16 tcp_win;      /* the window field as sent (unscaled) */
	__u16 tcp_len;      /* payload bytes */
};

#define FW_TCP_FIN 0x01
#define FW_TCP_SYN 0x02
#define FW_TCP_RST 0x04
#define FW_TCP_ACK 0x10

/* Does the IP datagram (not merely the frame: Ethernet pads short frames,
 * and what follows the datagram is not part of it) hold `len` bytes of
 * transport header? A first fragment that does not is the RFC 1858 tiny
 * fragment: the rest of its header would come from a later one. */
static __always_inline int fw_l4_fits(const struct fw_pkt *p, __u32 len)
{
	return p->l4_off + len <= p->l3_off + p->l3_len;
}

/* A truncated L4 header is not an error here: the packet still has a
 * chain, and the caller gives it that chain's policy (l4_ok == 0), or
 * drops it when it is a first fragment. */
static __always_inline int fw_parse_l4(void *data, void *data_end, struct fw_pkt *p)
{
	void *l4 = data + p->l4_off;

	p->cls_sport_slot = FW_NO_PORT;
	p->cls_dport_slot = FW_NO_PORT;
	if (p->frag == FW_FRAG_LATER) {
		/* No L4 header in this fragment: the caller gives it its
		 * first fragment's verdict (or the policy). */
		p->l4_ok = 1;
		return FW_PARSE_OK;
	}
	switch (p->t.proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = l4;
		__u32 hl;

		if ((void *)(th + 1) > data_end || th->doff < 5)
			return FW_PARSE_OK;
		hl = th->doff * 4;
		if (!fw_l4_fits(p, hl))
			return FW_PARSE_OK;
		p->t.sport = bpf_ntohs(th->source);
		p->t.dport = bpf_ntohs(th->dest);
		p->tcp_flags = ((__u8 *)th)[13];
		p->tcp_seq = bpf_ntohl(th->seq);
		p->tcp_ack = bpf_ntohl(th->ack_seq);
		p->tcp_win = bpf_ntohs(th->window);
		p->tcp_len = (__u16)(p->l3_off + p->l3_len - p->l4_off - hl);
		p->has_ports = 1;
		break;
	}
	case IPPROTO_UDP:
	case IPPROTO_SCTP: {
		/* SCTP's common header starts with the two ports too. */
		struct udphdr *uh = l4;
		if ((void *)(uh + 1) > data_end || !fw_l4_fits(p, sizeof(*uh)))
			return FW_PARSE_OK;
		p->t.sport = bpf_ntohs(uh->source);
		p->t.dport = bpf_ntohs(uh->dest);
		p->has_ports = 1;
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		struct fw_icmphdr *ih = l4;
		if ((void *)(ih + 1) > data_end || !fw_l4_fits(p, sizeof(*ih)))
			return FW_PARSE_OK;
		p->icmp_type = ih->type;
		p->icmp_code = ih->code;
		/* Echo request/reply: the identifier keys the connection. */
		p->t.sport = bpf_ntohs(ih->id);
		p->t.dport = p->t.sport;
		break;
	}
	case IPPROTO_ESP:
	case IPPROTO_AH: {
		/* SPI is the first word of ESP; AH carries it at offset 4.
		 * Only the presence of the header is checked here. */
		if (l4 + 8 > data_end || !fw_l4_fits(p, 8))
			return FW_PARSE_OK;
		break;
	}
	case IPPROTO_GRE:
		if (l4 + 4 > data_end || !fw_l4_fits(p, 4))
			return FW_PARSE_OK;
		break;
	default:
		break;
	}
	if (p->has_ports) {
		p->cls_sport_slot = p->t.sport;
		p->cls_dport_slot = p->t.dport;
	}
	p->l4_ok = 1;
	return FW_PARSE_OK;
}

static __always_inline int fw_parse_ipv4(void *data, void *data_end, struct fw_pkt *p)
{
	struct iphdr *iph = data + p->l3_off;
	__u32 ihl_bytes;
	__u16 frag_off;

	if ((void *)(iph + 1) > data_end)
		return FW_PARSE_MALFORMED;
	if (iph->version != 4 || iph->ihl < 5)
		return FW_PARSE_MALFORMED;
	ihl_bytes = iph->ihl * 4;
	if (data + p->l3_off + ihl_bytes > data_end)
		return FW_PARSE_MALFORMED;
	p->l3_len = bpf_ntohs(iph->tot_len);
	if (p->l3_len < ihl_bytes)
		return FW_PARSE_MALFORMED;
	p->t.family = 4;
	p->t.proto = iph->protocol;
	__builtin_memcpy(p->t.saddr, &iph->saddr, 4);
	__builtin_memcpy(p->t.daddr, &iph->daddr, 4);
	p->hop_limit = iph->ttl;
	p->l3_opts = iph->ihl > 5;
	frag_off = bpf_ntohs(iph->frag_off);
	p->frag_id = bpf_ntohs(iph->id);
	if (frag_off & FW_IP_OFFMASK)
		p->frag = FW_FRAG_LATER;
	else if (frag_off & 0x2000)
		p->frag = FW_FRAG_FIRST;
	p->l4_off = p->l3_off + ihl_bytes;
	return fw_parse_l4(data, data_end, p);
}

#define FW_IPV6_MAX_EXT 6

static __always_inline int fw_parse_ipv6(void *data, void *data_end, struct fw_pkt *p)
{
	struct ipv6hdr *ip6 = data + p->l3_off;
	__u32 off;
	__u8 next;

	if ((void *)(ip6 + 1) > data_end)
		return FW_PARSE_MALFORMED;
	if (ip6->version != 6)
		return FW_PARSE_MALFORMED;
	p->t.family = 6;
	p->l3_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	__builtin_memcpy(p->t.saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->t.daddr, &ip6->daddr, 16);
	p->hop_limit = ip6->hop_limit;
	next = ip6->nexthdr;
	off = p->l3_off + sizeof(*ip6);

	/* Walk a bounded chain of extension headers to the upper layer. A
	 * chain longer than we walk hides its upper layer from us (and from
	 * every port rule) while the stack would take it: dropped. */
#pragma unroll
	for (int i = 0; i < FW_IPV6_MAX_EXT; i++) {
		__u8 *h = data + off;

		if (off > FW_IPV6_EXT_OFF_MAX)
			return FW_PARSE_UNWALKED;
		if (next == IPPROTO_HOPOPTS)
			p->l3_opts = 1;
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(h + 8) > data_end)
				return FW_PARSE_MALFORMED;
			next = h[0];
			off += (h[1] + 1) * 8;
			continue;
		case IPPROTO_FRAGMENT: {
			struct frag_hdr *fh = (void *)h;
			__u16 fo;
			if ((void *)(fh + 1) > data_end)
				return FW_PARSE_MALFORMED;
			next = fh->nexthdr;
			fo = bpf_ntohs(fh->frag_off);
			p->frag_id = bpf_ntohl(fh->identification);
			off += 8;
			if (fo & 0xfff8) {
				/* A later fragment: what follows is payload, not
				 * headers to walk (the rest of the chain is in the
				 * first fragment). */
				p->frag = FW_FRAG_LATER;
				p->t.proto = next;
				p->l4_off = off;
				return fw_parse_l4(data, data_end, p);
			}
			if (fo & 1)
				p->frag = FW_FRAG_FIRST;
			continue;
		}
		default:
			p->t.proto = next;
			p->l4_off = off;
			return fw_parse_l4(data, data_end, p);
		}
	}
	return FW_PARSE_UNWALKED;
}

/* For L3 devices (TUN: a VPN's decrypted traffic): data starts at IP. */
static __always_inline int fw_parse_l3(void *data, void *data_end, struct fw_pkt *p)
{
	__u8 *v = data;

	if ((void *)(v + 1) > data_end)
		return FW_PARSE_MALFORMED;
	p->l3_off = 0;
	if ((*v >> 4) == 4)
		return fw_parse_ipv4(data, data_end, p);
	if ((*v >> 4) == 6)
		return fw_parse_ipv6(data, data_end, p);
	return FW_PARSE_MALFORMED;
}

/* Parses Ethernet, up to two VLAN tags (802.1Q/802.1ad), then IP. */
static __always_inline int fw_parse(void *data, void *data_end, struct fw_pkt *p)
{
	struct ethhdr *eth = data;
	__u16 proto;
	__u32 off = sizeof(*eth);

	if ((void *)(eth + 1) > data_end)
		return FW_PARSE_NOT_IP; /* not even Ethernet: the stack decides */
	proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
			struct vlan_hdr *vh = data + off;
			if ((void *)(vh + 1) > data_end)
				return FW_PARSE_MALFORMED;
			proto = vh->h_vlan_encapsulated_proto;
			off += sizeof(*vh);
		}
	}
	p->l3_off = off;
	if (proto == bpf_htons(ETH_P_IP))
		return fw_parse_ipv4(data, data_end, p);
	if (proto == bpf_htons(ETH_P_IPV6))
		return fw_parse_ipv6(data, data_end, p);
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD))
		return FW_PARSE_MALFORMED; /* a third tag: deeper than we look */
	return FW_PARSE_NOT_IP;
}

/* Does nothing, as a global function: the verifier assumes it may have
 * written all of *p, so every parse outcome (IPv4 or IPv6, with or without
 * VLAN tags, options, extension headers, ports...) reaches what follows as
 * one state instead of its own copy. What follows checks every field it
 * uses, as it must for a packet anyway. fw_xdp: 76,000 -> 65,000 verified
 * instructions, fw_tc_egress 38,600 -> 33,700 (the TC ingress programs
 * grew with it: they do without); no cost measured per packet
 * (fw_bench_xdp_cost). */
__noinline int fw_pkt_forget(struct fw_pkt *p)
{
	return p ? 0 : 1;
}

#endif
