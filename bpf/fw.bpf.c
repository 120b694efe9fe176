/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fwctl datapath. XDP on ingress decides; TC on egress tracks what this
 * host sends. Stages of an ingress packet:
 *
 *   parse (unwalked IPv6 chain, tiny first fragment: drop)
 *         -> (ND to this host: bypass) -> conntrack (-> NAT of known connections)
 *         -> chain selection -> port forward (-> chain selection again)
 *         -> fragments -> classify -> counters, log -> verdict
 *         (-> remember connection, choosing its masquerade)
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

/* The stricter of the two policies, for packets whose chain we cannot
 * tell (a broken IP header). */
static __always_inline __u8 fw_strictest_policy(const struct fw_gen_cfg *cfg)
{
	if (cfg->policy[FW_CHAIN_INPUT] != FW_VERDICT_ACCEPT)
		return cfg->policy[FW_CHAIN_INPUT];
	return cfg->policy[FW_CHAIN_FORWARD];
}

static __always_inline int fw_xdp_action(struct xdp_md *ctx, struct fw_pkt *p, __u8 verdict, int l3)
{
	switch (verdict) {
	case FW_VERDICT_ACCEPT:
		return XDP_PASS;
	case FW_VERDICT_REJECT:
		return fw_reject_xdp(ctx, p, l3);
	default:
		return XDP_DROP;
	}
}

static __always_inline int fw_is_neighbour_discovery(const struct fw_pkt *p)
{
	return p->t.family == 6 && p->t.proto == IPPROTO_ICMPV6 && p->l4_ok &&
	       p->frag == FW_FRAG_NONE && p->icmp_type >= 133 && p->icmp_type <= 137 &&
	       p->hop_limit == 255;
}

/* t: the addresses as the fragments arrive (before a port forward). */
static __always_inline struct fw_frag_key fw_frag_key_of_tuple(const struct fw_pkt *p,
								const struct fw_tuple *t)
{
	struct fw_frag_key k = {};

	__builtin_memcpy(k.saddr, t->saddr, 16);
	__builtin_memcpy(k.daddr, t->daddr, 16);
	k.id = p->frag_id;
	/* IPv6 reassembles by (src, dst, id) (RFC 8200): a later fragment's
	 * next header is the first header after the fragment header, not the
	 * upper-layer protocol the first fragment was judged by. */
	k.proto = t->family == 4 ? t->proto : 0;
	k.family = t->family;
	return k;
}

static __always_inline struct fw_frag_key fw_frag_key_of(const struct fw_pkt *p)
{
	return fw_frag_key_of_tuple(p, &p->t);
}

static __always_inline int fw_ingress(struct xdp_md *ctx, int l3)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 in_ifindex = ctx->ingress_ifindex, out_ifindex = 0, zero = 0, rule_idx;
	struct fw_pkt p = {};
	struct fw_active *act;
	struct fw_gen_cfg *cfg;
	struct fw_rule *rule;
	struct fw_ct_entry *hit;
	struct fw_tuple *orig_key;
	__u8 gen, chain, verdict;
	__be32 pre_daddr = 0; /* an established packet's destination before NAT */
	int rc, ct, dnat = 0;

	act = bpf_map_lookup_elem(&fw_active, &zero);
	if (!act || !act->valid)
		return XDP_PASS; /* nothing applied yet: no firewall */
	if (!l3) /* a bond's slave, a VLAN's tagged frame: lib/stack.h */
		in_ifindex = fw_stack_owner(data, data_end, in_ifindex);
	gen = act->gen & 1;
	cfg = bpf_map_lookup_elem(&fw_gen_cfg, &(__u32){ gen });
	if (!cfg)
		return XDP_DROP;

	rc = l3 ? fw_parse_l3(data, data_end, &p) : fw_parse(data, data_end, &p);
	if (rc == FW_PARSE_NOT_IP) {
		fw_stat(FW_STAT_NOT_IP, 0);
		return XDP_PASS;
	}
	if (rc == FW_PARSE_UNWALKED) {
		fw_stat(FW_STAT_MALFORMED, 0);
		return XDP_DROP;
	}
	if (rc != FW_PARSE_OK) {
		fw_stat(FW_STAT_MALFORMED, 0);
		return fw_xdp_action(ctx, &p, fw_strictest_policy(cfg) == FW_VERDICT_ACCEPT ?
						 FW_VERDICT_ACCEPT : FW_VERDICT_DROP, l3);
	}
	fw_trace_start(&p, in_ifindex); /* trace */
	if (p.frag == FW_FRAG_FIRST && !p.l4_ok) {
		/* A first fragment without its whole transport header (RFC
		 * 1858, 3128): the rest would come from a later fragment, past
		 * every port and flag rule. Its later fragments follow it. */
		struct fw_frag_key fk = fw_frag_key_of(&p);
		__u32 v = FW_VERDICT_DROP;

		bpf_map_update_elem(&fw_frag, &fk, &v, BPF_ANY);
		fw_stat(FW_STAT_MALFORMED, p.l3_len);
		return XDP_DROP;
	}
	/* Neighbour discovery for this host (link-local by its hop limit)
	 * passes; a forwarded one is the forward chain's, like any packet.
	 * The FIB lookup is paid by ND packets only. */
	if (fw_is_neighbour_discovery(&p) &&
	    fw_select_chain(ctx, &p, in_ifindex, &out_ifindex) == FW_CHAIN_INPUT) {
		fw_stat(FW_STAT_ND, p.l3_len);
		fw_trace_decided(FW_TRACE_BY_ND, 0, FW_VERDICT_ACCEPT); /* trace */
		return XDP_PASS;
	}

	ct = fw_ct_ingress(data, data_end, &p, in_ifindex, &hit);
	if (ct == FW_CT_ESTABLISHED && fw_stack_ct_stale(hit))
		ct = FW_CT_NEW; /* judged at another layer: lib/stack.h */
	FW_TRACE_SET(ct, ct); /* trace */
	if (ct != FW_CT_NEW) /* trace */
		fw_trace_decided(FW_TRACE_BY_CONNTRACK, 0,
				 ct == FW_CT_INVALID ? FW_VERDICT_DROP : FW_VERDICT_ACCEPT);
	switch (ct) {
	case FW_CT_ESTABLISHED:
		fw_stat(FW_STAT_CT_ESTABLISHED, p.l3_len);
		__builtin_memcpy(&pre_daddr, p.t.daddr, 4);
		if (hit && fw_nat_dnat_apply(data, data_end, &p, hit))
			return XDP_DROP;
		goto ct_accept;
	case FW_CT_RELATED:
		/* Translated like its connection, quote included; errors take
		 * the stack (the fast path would not translate the quote). */
		fw_stat(FW_STAT_CT_RELATED, p.l3_len);
		if (hit && fw_nat_icmp_dnat_apply(data, data_end, &p, hit))
			return XDP_DROP;
		return XDP_PASS;
	case FW_CT_INVALID:
		fw_stat(FW_STAT_CT_INVALID, p.l3_len);
		return XDP_DROP;
	default:
		break;
	}

	chain = fw_select_chain(ctx, &p, in_ifindex, &out_ifindex);

	/* Port forwards take packets to this host's addresses and rewrite
	 * their destination before the chains (the forward chain sees the
	 * inside host) and before the stack routes them. */
	orig_key = bpf_map_lookup_elem(&fw_key_scratch, &zero);
	if (!orig_key)
		return XDP_DROP;
	if (fw_ct_key_of(&p, orig_key))
		__builtin_memset(orig_key, 0, sizeof(*orig_key));
	if (chain == FW_CHAIN_INPUT && cfg->pf_count) {
		struct fw_pf_rule *pf = fw_pf_match(cfg, gen, &p, in_ifindex);

		if (pf) {
			if (fw_pf_apply(data, data_end, &p, pf))
				return XDP_DROP;
			dnat = 1;
			chain = fw_select_chain(ctx, &p, in_ifindex, &out_ifindex);
		}
	}

	FW_TRACE_SET(chain, chain);             /* trace */
	FW_TRACE_SET(out_ifindex, out_ifindex); /* trace */
	if (p.frag == FW_FRAG_LATER) {
		fw_trace_decided(FW_TRACE_BY_FRAGMENT, 0, FW_VERDICT_DROP); /* trace: the verdict is in xdp_action */
		/* No ports here: take the first fragment's verdict, else the
		 * policy, so a fragment never slips past a port rule. */
		struct fw_frag_key fk = fw_frag_key_of(&p);
		__u32 *fv = bpf_map_lookup_elem(&fw_frag, &fk);

		if (fv && *fv == FW_VERDICT_ACCEPT) {
			/* Its first fragment's destination rewrite, if any. */
			if (fw_frag_nat_ingress(data, data_end, &p))
				return XDP_DROP;
			return XDP_PASS;
		}
		if (fv)
			return XDP_DROP;
		fw_stat(FW_STAT_FRAG_POLICY, p.l3_len);
		verdict = cfg->policy[chain & 1];
		return fw_xdp_action(ctx, &p, verdict == FW_VERDICT_ACCEPT ? verdict : FW_VERDICT_DROP,
				     l3);
	}

	if (!p.l4_ok)
		rule_idx = FW_RULE_NONE; /* truncated transport header: policy */
	else
		rule_idx = fw_classify(cfg, gen, chain, in_ifindex, out_ifindex, &p);

	rule = NULL;
	if (rule_idx != FW_RULE_NONE)
		rule = bpf_map_lookup_elem(&fw_rules, &(__u32){ gen * FW_MAX_RULES + rule_idx });
	if (rule) {
		verdict = rule->action;
		fw_count(&fw_rule_cnt, rule->counter_slot, p.l3_len);
		if (rule->flags & FW_RULE_F_LOG)
			fw_log(cfg, rule, in_ifindex, out_ifindex, &p, verdict);
		fw_trace_decided(FW_TRACE_BY_RULE, rule->position, verdict); /* trace */
	} else {
		verdict = cfg->policy[chain & 1];
		fw_trace_decided(FW_TRACE_BY_POLICY, 0, verdict); /* trace */
		fw_stat(chain == FW_CHAIN_INPUT ? FW_STAT_POLICY_INPUT : FW_STAT_POLICY_FORWARD,
			p.l3_len);
	}

	if (p.frag == FW_FRAG_FIRST) {
		/* Keyed as later fragments arrive: before a port forward. */
		struct fw_frag_key fk = fw_frag_key_of_tuple(&p, dnat ? orig_key : &p.t);
		__u32 v = verdict;

		bpf_map_update_elem(&fw_frag, &fk, &v, BPF_ANY);
	}
	if (verdict == FW_VERDICT_REJECT && dnat && fw_pf_undo(data, data_end, &p, orig_key))
		return XDP_DROP; /* answer from what the client used, or not at all */
	if (verdict == FW_VERDICT_ACCEPT) {
		if (dnat)
			fw_frag_nat_remember(&p, *(__be32 *)orig_key->saddr, *(__be32 *)orig_key->daddr,
					     FW_NAT_DST, *(__be32 *)p.t.daddr);
		if (fw_nat_create(cfg, gen, &p, orig_key, dnat, chain, in_ifindex, out_ifindex)) {
			FW_TRACE_SET(by, FW_TRACE_BY_NAT_FAIL); /* trace */
			return XDP_DROP; /* masquerade without a free port */
		}
		if (!l3 && chain == FW_CHAIN_FORWARD) {
			rc = fw_fastpath(ctx, cfg, &p, in_ifindex, NULL);
			fw_trace_fast(ctx, cfg, &p, in_ifindex, NULL, rc); /* trace */
			return rc;
		}
		if (l3 && chain == FW_CHAIN_FORWARD)
			FW_TRACE_SET(fast, FW_TRACE_FAST_TUN); /* trace */
	}
	return fw_xdp_action(ctx, &p, verdict, l3);

ct_accept:
	/* Later fragments carry no ports: they follow their first. */
	if (p.frag == FW_FRAG_FIRST) {
		struct fw_frag_key fk = fw_frag_key_of(&p);
		__u32 v = FW_VERDICT_ACCEPT;

		/* Keyed as later fragments arrive: before the rewrite, which
		 * they get too. */
		if (p.t.family == 4 && pre_daddr != *(__be32 *)p.t.daddr) {
			fw_frag_nat_remember(&p, *(__be32 *)p.t.saddr, pre_daddr, FW_NAT_DST,
					     *(__be32 *)p.t.daddr);
			__builtin_memcpy(fk.daddr, &pre_daddr, 4);
		}
		bpf_map_update_elem(&fw_frag, &fk, &v, BPF_ANY);
	}
	if (l3) {
		FW_TRACE_SET(fast, FW_TRACE_FAST_TUN); /* trace */
		return XDP_PASS;
	}
	rc = fw_fastpath(ctx, cfg, &p, in_ifindex, hit);
	fw_trace_fast(ctx, cfg, &p, in_ifindex, hit, rc); /* trace */
	return rc;
}

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
 * a connection of this host, or of an interface fwctl does not cover). */
static __always_inline int fw_egress_unknown(__u32 out_ifindex, __u32 in_ifindex, struct fw_pkt *p,
					     int insert)
{
	if (fw_nat_would_leak(out_ifindex, in_ifindex, p)) {
		fw_stat(FW_STAT_NAT_LEAK, p->l3_len);
		return TC_ACT_SHOT;
	}
	if (insert)
		fw_ct_egress_insert(p, out_ifindex);
	return TC_ACT_OK;
}

static __always_inline int fw_egress(struct __sk_buff *skb, int l3)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct fw_pkt p = {};
	struct fw_active *act;
	struct fw_ct_entry *hit;
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
	if (fw_ct_is_icmp_error(&p)) {
		rc = fw_nat_icmp_egress(skb, &p);
		if (rc)
			return rc > 0 ? TC_ACT_OK : TC_ACT_SHOT;
		return fw_egress_unknown(ifindex, iif, &p, 0);
	}
	if (p.frag == FW_FRAG_LATER) {
		rc = fw_frag_nat_egress(skb, &p);
		if (rc)
			return rc > 0 ? TC_ACT_OK : TC_ACT_SHOT;
		return fw_egress_unknown(ifindex, iif, &p, 0);
	}
	rc = fw_ct_egress(&p, ifindex, &hit);
	if (rc != FW_CT_EG_KNOWN)
		return fw_egress_unknown(ifindex, iif, &p, rc == FW_CT_EG_NEW);
	fw_xfrm_egress_clear(&p, hit); /* it leaves in the clear: lib/xfrm_fast.h */
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
