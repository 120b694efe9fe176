/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The packet an ICMP/ICMPv6 error quotes: the offending packet's IP header
 * and at least the first 8 bytes of its payload (RFC 792, RFC 4443), right
 * after the 8-byte ICMP header. Read by conntrack (is the error RELATED?)
 * and NAT (translate the quote as well as the outer header).
 */
#ifndef FW_QUOTE_H
#define FW_QUOTE_H

#include "parse.h"

/* Offsets past which a quote is not looked at: an outer header chain this
 * long is not one a router sends. */
#define FW_QUOTE_MAX_OFF 600

struct fw_quote {
	struct fw_tuple t; /* the quoted packet as it was sent, keyed as
			    * conntrack keys packets (ICMP echo: sport = the
			    * identifier, dport = the type) */
	__u32 ip_off;      /* its IP header, from data */
	__u32 l4_off;      /* its transport header (8 bytes at least), from data */
};

/* The ICMP types whose connection is keyed by identifier: 0 none, 1 a
 * request, 2 a reply. */
static __always_inline int fw_ct_icmp_echo(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == FW_ICMP_ECHO ? 1 : type == FW_ICMP_ECHO_REPLY ? 2 : 0;
	return type == FW_ICMPV6_ECHO_REQUEST ? 1 : type == FW_ICMPV6_ECHO_REPLY ? 2 : 0;
}

/* Parses the quote of the ICMP error p. Returns 0, or -1 when there is no
 * quote we can key: a fragmented error, a quote of a later fragment, a
 * quote shorter than header + 8 bytes, a quoted ICMP message that is not
 * an echo (errors about errors open nothing). IPv6 extension headers in
 * the quote are not followed. */
static __always_inline int fw_quote_parse(void *data, void *data_end, const struct fw_pkt *p,
					  struct fw_quote *q)
{
	__u32 off = p->l4_off + 8;
	__u8 *l4;

	__builtin_memset(q, 0, sizeof(*q));
	if (p->frag != FW_FRAG_NONE || off > FW_QUOTE_MAX_OFF)
		return -1;
	q->ip_off = off;
	if (p->t.family == 4) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5 ||
		    (ip->frag_off & bpf_htons(FW_IP_OFFMASK)))
			return -1;
		q->t.family = 4;
		q->t.proto = ip->protocol;
		__builtin_memcpy(q->t.saddr, &ip->saddr, 4);
		__builtin_memcpy(q->t.daddr, &ip->daddr, 4);
		off += ip->ihl * 4;
	} else {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return -1;
		q->t.family = 6;
		q->t.proto = ip6->nexthdr;
		__builtin_memcpy(q->t.saddr, &ip6->saddr, 16);
		__builtin_memcpy(q->t.daddr, &ip6->daddr, 16);
		off += sizeof(*ip6);
	}
	if (off > FW_QUOTE_MAX_OFF + 64)
		return -1;
	/* clang may keep the bound check on a copy of `off` the verifier
	 * cannot tie to this one: hide the value from clang and bound it
	 * where it is used. */
	asm volatile("" : "+r"(off));
	off &= FW_OFF_MASK;
	q->l4_off = off;
	l4 = data + off;
	if ((void *)(l4 + 8) > data_end)
		return -1;
	switch (q->t.proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		q->t.sport = (__u16)(l4[0] << 8 | l4[1]);
		q->t.dport = (__u16)(l4[2] << 8 | l4[3]);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (!fw_ct_icmp_echo(q->t.proto, l4[0]))
			return -1;
		q->t.sport = (__u16)(l4[4] << 8 | l4[5]);
		q->t.dport = l4[0];
		break;
	default:
		break;
	}
	return 0;
}

/* An error is about a packet its destination sent: the outer destination
 * is the quoted source. An error quoting someone else's packet is not
 * RELATED to anything (and is never translated into a connection). */
static __always_inline int fw_quote_to_sender(const struct fw_pkt *p, const struct fw_quote *q)
{
	const __u32 *a = (const __u32 *)p->t.daddr, *b = (const __u32 *)q->t.saddr;

	if (p->t.family == 4)
		return a[0] == b[0];
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;
}

#endif
