/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The masquerade interface's leak guard (TC egress). A forwarded IPv4
 * packet that belongs to no connection but whose source a `nat` rule of
 * the interface covers would leave with its inside address: a stray RST
 * or ICMP type that opens no state, a later fragment whose first was never
 * seen, an ICMP error that is not RELATED. Linux's conntrack drops such
 * packets as INVALID before NAT only when told to; here they are always
 * dropped and counted (FW_STAT_NAT_LEAK, `fwctl stats`: other.nat_leak).
 *
 * "Forwarded" is an skb that came in by an interface (skb_iif set): what
 * this host sends itself (its own connections, its ICMP errors) has none
 * and is never masqueraded.
 */
#ifndef FW_NAT_GUARD_H
#define FW_NAT_GUARD_H

#include "maps.h"
#include "parse.h"
#include "nat.h"

/* 1 when the packet must not leave by out_ifindex as it is; in_ifindex:
 * the skb's skb_iif (0 when this host sent it). Scalars, not the skb: the
 * verifier refuses context reads through a spilled, offset pointer. */
static __always_inline int fw_nat_would_leak(__u32 out_ifindex, __u32 in_ifindex,
					     const struct fw_pkt *p)
{
	struct fw_active *act;
	struct fw_gen_cfg *cfg;
	__u32 zero = 0, gen;

	if (p->t.family != 4 || !in_ifindex)
		return 0;
	act = bpf_map_lookup_elem(&fw_active, &zero);
	if (!act)
		return 0;
	gen = act->gen & 1;
	cfg = bpf_map_lookup_elem(&fw_gen_cfg, &gen);
	if (!cfg || !cfg->nat_count)
		return 0;
	return fw_nat_match(cfg, (__u8)gen, &p->t, out_ifindex) != NULL;
}

#endif
