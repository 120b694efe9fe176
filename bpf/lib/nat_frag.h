/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Later fragments of translated datagrams (IPv4). They carry no transport
 * header, so conntrack cannot key them; the first fragment can. When a
 * first fragment is translated, the new address is remembered under the
 * datagram's identity as its fragments arrive at that hook (source,
 * destination, IP id, protocol, and which address changed), and every later
 * fragment of the datagram gets the same address and a fixed IP checksum.
 * The transport checksum lives in the first fragment and was updated
 * there. Linux reassembles before NAT and fragments again; rewriting each
 * fragment gives the receiver the same datagram without holding fragments.
 *
 * A later fragment that arrives before its first has no entry: on ingress
 * it meets the policy (fw_frag), on egress the leak guard drops it when it
 * would leave a masquerade interface with an inside source.
 */
#ifndef FW_NAT_FRAG_H
#define FW_NAT_FRAG_H

#include "maps.h"
#include "parse.h"
#include "nat.h"


/* The first fragment p (tuple before translation: s, d) had address
 * `which` rewritten to addr. */
static __always_inline void fw_frag_nat_remember(const struct fw_pkt *p, __be32 s, __be32 d,
						 int which, __be32 addr)
{
	struct fw_frag_nat_key k = {};

	if (p->frag != FW_FRAG_FIRST || p->t.family != 4)
		return;
	k.saddr = s;
	k.daddr = d;
	k.id = p->frag_id;
	k.proto = p->t.proto;
	k.which = (__u8)which;
	bpf_map_update_elem(&fw_frag_nat, &k, &addr, BPF_ANY);
}

/* The rewrite a later fragment p gets on side `which`; 0 when none. */
static __always_inline int fw_frag_nat_find(const struct fw_pkt *p, int which, __be32 *addr)
{
	struct fw_frag_nat_key k = {};
	__be32 *v;

	if (p->frag != FW_FRAG_LATER || p->t.family != 4)
		return 0;
	__builtin_memcpy(&k.saddr, p->t.saddr, 4);
	__builtin_memcpy(&k.daddr, p->t.daddr, 4);
	k.id = p->frag_id;
	k.proto = p->t.proto;
	k.which = (__u8)which;
	v = bpf_map_lookup_elem(&fw_frag_nat, &k);
	if (!v)
		return 0;
	*addr = *v;
	return 1;
}

/* Ingress (XDP): destination of a later fragment whose first fragment a
 * port forward or a masquerade reply rewrote. 0 or -1 (drop). */
static __always_inline int fw_frag_nat_ingress(void *data, void *data_end, struct fw_pkt *p)
{
	__be32 addr;

	if (!fw_frag_nat_find(p, FW_NAT_DST, &addr))
		return 0;
	return fw_nat_rewrite(data, data_end, p, FW_NAT_DST, addr, 0, 0); /* no transport header */
}

/* Egress (TC): source of a later fragment whose first fragment was
 * masqueraded (or was a port forward's reply). 1 rewritten, 0 no entry,
 * -1 drop. */
static __always_inline int fw_frag_nat_egress(struct __sk_buff *skb, struct fw_pkt *p)
{
	__be32 addr;

	if (!fw_frag_nat_find(p, FW_NAT_SRC, &addr))
		return 0;
	return fw_nat_rewrite_skb(skb, p, FW_NAT_SRC, addr, 0) ? -1 : 1;
}

#endif
