/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fwctl datapath: its programs. XDP on ingress decides (lib/ingress.h,
 * stage by stage); TC on egress tracks what this host sends.
 *
 * TC on egress rewrites sources of translated connections (lib/nat.h),
 * ICMP errors about them (lib/nat_icmp.h) and their later fragments
 * (lib/nat_frag.h), and drops what would leak an inside address out of a
 * masquerade interface (lib/nat_guard.h).
 *
 * Anything we cannot understand meets a policy, never a silent accept.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/route.h"
#include "lib/classify.h"
#include "lib/ct.h"
#include "lib/ct_new.h"
#include "lib/log.h"
#include "lib/reject.h"
#include "lib/nat.h"
#include "lib/nat_icmp.h"
#include "lib/nat_frag.h"
#include "lib/nat_guard.h"
#include "lib/fastpath.h"
#include "lib/trace.h"
#include "lib/stack.h"
#include "lib/xfrm_in.h"
#include "lib/ingress.h"

SEC("xdp")
int fw_xdp(struct xdp_md *ctx)
{
	return fw_trace_end(fw_ingress(ctx, 0)); /* trace */
}

/* For devices without an Ethernet header (TUN, e.g. a VPN's). */
SEC("xdp")
int fw_xdp_l3(struct xdp_md *ctx)
{
	return fw_trace_end(fw_ingress(ctx, 1)); /* trace */
}

/* A packet of no connection leaving: dropped when it would leak an inside
 * address out of a masquerade interface, else remembered (insert: it opens
 * a connection of this host, or of an interface fwctl does not cover): its key. */
static __always_inline int fw_egress_unknown(__u32 out_ifindex, __u32 in_ifindex, struct fw_pkt *p,
					     const struct fw_tuple *insert)
{
	if (fw_nat_would_leak(out_ifindex, in_ifindex, p)) {
		fw_stat_rare(FW_STAT_NAT_LEAK, p->l3_len);
		return TC_ACT_SHOT;
	}
	if (insert)
		fw_ct_egress_insert(p, insert, out_ifindex);
	return TC_ACT_OK;
}

static __always_inline int fw_egress(struct __sk_buff *skb, int l3)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct fw_pkt p = {};
	struct fw_active *act;
	struct fw_ct_entry *hit;
	struct fw_tuple k __attribute__((aligned(8)));
	__u32 zero = 0;
	__u32 ifindex = skb->ifindex, iif = skb->ingress_ifindex;
	__be32 pre_saddr;
	int rc;

	if (skb->mark == FW_REJECT_MARK) {
		skb->mark = 0; /* our own reject answer (fw_tc_ingress) */
		return TC_ACT_OK;
	}
	act = bpf_map_lookup_elem(&fw_active, &zero);
	if (!act || !act->valid)
		return TC_ACT_OK;
	rc = l3 ? fw_parse_l3(data, data_end, &p) : fw_parse(data, data_end, &p);
	if (rc != FW_PARSE_OK)
		return TC_ACT_OK; /* egress is not filtered: no output chain */
	if (fw_pkt_forget(&p))
		return TC_ACT_SHOT;
	if (fw_ct_is_icmp_error(&p)) {
		rc = fw_nat_icmp_egress(skb, &p);
		if (rc)
			return rc > 0 ? TC_ACT_OK : TC_ACT_SHOT;
		return fw_egress_unknown(ifindex, iif, &p, NULL);
	}
	if (p.frag == FW_FRAG_LATER) {
		rc = fw_frag_nat_egress(skb, &p);
		if (rc)
			return rc > 0 ? TC_ACT_OK : TC_ACT_SHOT;
		return fw_egress_unknown(ifindex, iif, &p, NULL);
	}
	rc = fw_ct_egress(&p, &k, &hit); /* the packet's key, once */
	if (rc != FW_CT_EG_KNOWN)
		return fw_egress_unknown(ifindex, iif, &p, rc == FW_CT_EG_NEW ? &k : NULL);
	fw_xfrm_egress_clear(&k, hit); /* it leaves in the clear: lib/xfrm_fast.h */
	/* A packet we cannot translate would leave with its inside source. */
	__builtin_memcpy(&pre_saddr, p.t.saddr, 4);
	if (hit && fw_nat_snat_apply_skb(skb, &p, hit))
		return TC_ACT_SHOT;
	if (p.t.family == 4 && pre_saddr != *(__be32 *)p.t.saddr)
		fw_frag_nat_remember(&p, pre_saddr, *(__be32 *)p.t.daddr, FW_NAT_SRC,
				     *(__be32 *)p.t.saddr);
	return TC_ACT_OK;
}

SEC("tc")
int fw_tc_egress(struct __sk_buff *skb)
{
	return fw_egress(skb, 0);
}

/* Sends reject answers back out (lib/reject.h) and judges decrypted IPsec;
 * L3 devices have no reject answers (fw_tc_ingress_xfrm_l3). */
SEC("tc")
int fw_tc_ingress(struct __sk_buff *skb)
{
	int rc = fw_reject_tc_ingress(skb);

	if (rc != TC_ACT_UNSPEC)
		return rc;
	/* What kernel IPsec decrypted, where XDP never saw it (lib/xfrm_in.h);
	 * everything else goes on to the next program (TCX_NEXT). */
	rc = fw_xfrm_ingress(skb, 0);
	return rc == TC_ACT_OK ? TC_ACT_UNSPEC : rc;
}

/* Reject answers only: where XDP runs generic, it judges decrypted IPsec
 * itself (lib/xfrm_in.h); a second judge here would count it twice. */
SEC("tc")
int fw_tc_reject(struct __sk_buff *skb)
{
	return fw_reject_tc_ingress(skb);
}

SEC("tc")
int fw_tc_egress_l3(struct __sk_buff *skb)
{
	return fw_egress(skb, 1);
}

/* TC ingress: what kernel IPsec decrypted (lib/xfrm_in.h). */
SEC("tc")
int fw_tc_ingress_xfrm(struct __sk_buff *skb)
{
	return fw_xfrm_ingress(skb, 0);
}

SEC("tc")
int fw_tc_ingress_xfrm_l3(struct __sk_buff *skb)
{
	return fw_xfrm_ingress(skb, 1);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
