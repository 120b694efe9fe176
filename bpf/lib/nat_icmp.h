/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * ICMP errors about translated connections (IPv4; NAT is IPv4 only), as
 * Linux's nf_nat_icmp_reply_translation does: the outer header gets the
 * connection's rewrite of this side, the quoted packet the mirror image.
 *
 *  - Ingress (XDP), FW_NAT_DST: an error about a packet that left
 *    translated (a router beyond the firewall says "time exceeded" or
 *    "fragmentation needed" to the masquerade address, quoting it) goes to
 *    the inside host, quoting what that host sent: outer destination and
 *    quoted source (address, port or echo identifier) rewritten.
 *  - Egress (TC), FW_NAT_SRC: an error about a packet that arrived
 *    translated (from an inside host, a router on the LAN, or this host's
 *    own stack when a forwarded packet does not fit or its TTL runs out)
 *    leaves with the outside view: outer source and quoted destination
 *    rewritten.
 *
 * Checksums: outer IPv4 header; the quoted IPv4 header; the quoted
 * transport checksum where the quote holds it (UDP unless it is 0, TCP
 * when the quote reaches byte 18, ICMP echo); the ICMP checksum, which
 * covers every quoted byte changed. Every quoted field sits at an even
 * offset from the ICMP header, so RFC 1624 updates of the ICMP sum with
 * the words as they sit in the packet are exact. ICMP errors carry
 * complete checksums (no offload), so plain arithmetic serves TC too.
 */
#ifndef FW_NAT_ICMP_H
#define FW_NAT_ICMP_H

#include "quote.h"
#include "nat.h"

/* Writes 16-bit word *w = v, keeping the ICMP checksum *ic right. */
static __always_inline void fw_icmp_put16(__u16 *ic, __u16 *w, __u16 v)
{
	*ic = fw_csum_replace2(*ic, *w, v);
	*w = v;
}

/* The quoted transport header's port (echo: identifier) of side `which`
 * becomes np; its checksum follows the address change old -> addr too. */
static __always_inline int fw_nat_icmp_quote_l4(void *data, void *data_end, const struct fw_quote *q,
						__u16 *ic, int which, __be32 old, __be32 addr,
						__be16 np)
{
	__u32 off = q->l4_off & FW_OFF_MASK;
	__u8 *l4 = data + off;
	__u16 *pp, *cp = NULL, c;

	if ((void *)(l4 + 8) > data_end)
		return -1;
	switch (q->t.proto) {
	case IPPROTO_TCP:
		if ((void *)(l4 + 18) <= data_end)
			cp = (__u16 *)(l4 + 16);
		/* fall through */
	case IPPROTO_UDP:
	case IPPROTO_SCTP: /* CRC32c lies beyond the quote's 8 bytes */
		if (q->t.proto == IPPROTO_UDP && *(__u16 *)(l4 + 6))
			cp = (__u16 *)(l4 + 6);
		pp = (__u16 *)(l4 + (which == FW_NAT_SRC ? 0 : 2));
		if (cp) {
			c = fw_csum_replace4(*cp, old, addr);
			c = fw_csum_replace2(c, *pp, np);
			if (q->t.proto == IPPROTO_UDP && !c)
				c = 0xffff;
			fw_icmp_put16(ic, cp, c);
		}
		fw_icmp_put16(ic, pp, np);
		break;
	case IPPROTO_ICMP:
		pp = (__u16 *)(l4 + 4);
		cp = (__u16 *)(l4 + 2);
		fw_icmp_put16(ic, cp, fw_csum_replace2(*cp, *pp, np));
		fw_icmp_put16(ic, pp, np);
		break;
	default:
		break; /* ESP, GRE...: the address is all there is */
	}
	return 0;
}

/* Rewrites the ICMPv4 error p with quote q: outer field `which` becomes
 * addr, the quoted packet's opposite field addr:port. Returns 0 or -1. */
static __always_inline int fw_nat_icmp_rewrite(void *data, void *data_end, struct fw_pkt *p,
					       const struct fw_quote *q, int which, __be32 addr,
					       __u16 port)
{
	__u32 l3 = p->l3_off, l4 = p->l4_off, qip = q->ip_off & FW_OFF_MASK;
	struct iphdr *ip, *in;
	struct fw_icmphdr *ih;
	__be32 old, qold;
	__u16 *ic;

	if (p->t.family != 4 || q->t.family != 4 || l3 > FW_NAT_L3_OFF_MAX || l4 > FW_NAT_L4_OFF_MAX)
		return -1;
	ip = data + l3;
	ih = data + l4;
	in = data + qip;
	if ((void *)(ip + 1) > data_end || (void *)(ih + 1) > data_end ||
	    (void *)(in + 1) > data_end)
		return -1;
	ic = &ih->checksum;

	/* The outer header: no pseudo-header in ICMPv4's checksum. */
	old = which == FW_NAT_DST ? ip->daddr : ip->saddr;
	if (which == FW_NAT_DST)
		ip->daddr = addr;
	else
		ip->saddr = addr;
	ip->check = fw_csum_replace4(ip->check, old, addr);

	/* The quote: its source when the outer destination changed, and
	 * the other way round. */
	qold = which == FW_NAT_DST ? in->saddr : in->daddr;
	fw_icmp_put16(ic, &in->check, fw_csum_replace4(in->check, qold, addr));
	*ic = fw_csum_replace4(*ic, qold, addr);
	if (which == FW_NAT_DST)
		in->saddr = addr;
	else
		in->daddr = addr;
	if (fw_nat_icmp_quote_l4(data, data_end, q, ic, which == FW_NAT_DST ? FW_NAT_SRC : FW_NAT_DST,
				 qold, addr, bpf_htons(port)))
		return -1;
	if (which == FW_NAT_DST)
		__builtin_memcpy(p->t.daddr, &addr, 4);
	else
		__builtin_memcpy(p->t.saddr, &addr, 4);
	return 0;
}

/* Ingress: translates a RELATED error whose connection entry (as the
 * inverted quote found it) is e. 0: done or nothing to do; -1: drop. */
static __always_inline int fw_nat_icmp_dnat_apply(void *data, void *data_end, struct fw_pkt *p,
						  const struct fw_ct_entry *e)
{
	struct fw_quote q;
	__be32 addr;
	__u16 port;

	if (!e->nat || p->t.family != 4 || !fw_nat_target(e, FW_NAT_DST, &addr, &port))
		return 0;
	if (fw_quote_parse(data, data_end, p, &q))
		return -1;
	return fw_nat_icmp_rewrite(data, data_end, p, &q, FW_NAT_DST, addr, port);
}

/* Egress (TC): an ICMPv4 error leaving. Returns 1 when it belongs to a
 * connection (translated when that connection translates sources this
 * way), 0 when it does not (the leak guard decides), -1: drop. */
static __always_inline int fw_nat_icmp_egress(struct __sk_buff *skb, struct fw_pkt *p)
{
	struct fw_ct_entry *e;
	struct fw_quote q;
	void *data, *data_end;
	__be32 addr;
	__u16 port;
	__u32 len = skb->len;

	if (p->t.family != 4)
		return 1;
	/* The quote must be in the linear part for direct access. */
	if (bpf_skb_pull_data(skb, len < 256 ? len : 256))
		return 0;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (fw_ct_related(data, data_end, p, fw_ct_now(), &q, &e) != FW_CT_RELATED || !e)
		return 0;
	if (!e->nat || !fw_nat_target(e, FW_NAT_SRC, &addr, &port))
		return 1;
	return fw_nat_icmp_rewrite(data, data_end, p, &q, FW_NAT_SRC, addr, port) ? -1 : 1;
}

#endif
