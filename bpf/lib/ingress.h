/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The XDP ingress pipeline (fw_xdp, fw_xdp_l3):
 *
 *   fw_ingress_parse    (unwalked IPv6 chain, tiny first fragment: drop)
 *   ND to this host     bypass
 *   conntrack           (-> NAT of known connections; lib/ct.h)
 *   drop memo           a flow dropped a moment ago: drop (lib/drop_memo.h)
 *   fw_select_chain     chain selection (lib/route.h)
 *   fw_ingress_pf       port forward (-> chain selection again)
 *   fw_ingress_later_fragment
 *   fw_ingress_judge    classify -> counters, log -> verdict
 *   fw_ingress_verdict  (-> remember connection, choosing its masquerade)
 *
 * A stage that decides returns 1 with the XDP action in *act, or the
 * action itself where it always decides. tools/bench/bench_stages.bpf.c
 * times prefixes of the same pipeline.
 *
 * Every stage is inlined into one program (but the drop memo's two global
 * functions), yet how the code is cut still matters to the verifier: the
 * conntrack stage and an established packet's path (ct_accept) stay
 * written out in fw_ingress, the latter at its end. Made functions, they
 * cost Linux 6.1's verifier 976k instructions for fw_xdp instead of 599k
 * (6.18: 286k instead of 278k). The drop memo's calls took it from 620k
 * to 217k on 6.1, 286k to 164k on 6.18: a global function's callee is
 * verified once, and after the call the caller's packet fields are
 * unknown to the verifier, so states that differed only in them merge.
 * Measure with build/verifier_stats and the VM lane's 05-load before
 * moving them.
 */
#ifndef FW_INGRESS_H
#define FW_INGRESS_H

#include "maps.h"
#include "parse.h"
#include "route.h"
#include "classify.h"
#include "ct.h"
#include "ct_new.h"
#include "log.h"
#include "reject.h"
#include "nat.h"
#include "nat_frag.h"
#include "nat_icmp.h"
#include "fastpath.h"
#include "trace.h"
#include "stack.h"
#include "drop_memo.h"

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
	       p->frag == FW_FRAG_NONE && p->icmp_type >= FW_ICMPV6_ND_FIRST &&
	       p->icmp_type <= FW_ICMPV6_ND_LAST && p->hop_limit == 255;
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

/* Parses the packet into p. Not IP: pass; an IPv6 chain longer than we
 * walk, a first fragment without its transport header: drop; a broken
 * header: the stricter policy. */
static __always_inline int fw_ingress_parse(struct xdp_md *ctx, void *data, void *data_end,
					    const struct fw_gen_cfg *cfg, struct fw_pkt *p,
					    __u32 in_ifindex, int l3, int *act)
{
	int rc = l3 ? fw_parse_l3(data, data_end, p) : fw_parse(data, data_end, p);

	if (rc == FW_PARSE_NOT_IP) {
		fw_stat_rare(FW_STAT_NOT_IP, 0);
		*act = XDP_PASS;
		return 1;
	}
	if (rc == FW_PARSE_UNWALKED) {
		fw_stat_rare(FW_STAT_MALFORMED, 0);
		*act = XDP_DROP;
		return 1;
	}
	if (rc != FW_PARSE_OK) {
		fw_stat_rare(FW_STAT_MALFORMED, 0);
		*act = fw_xdp_action(ctx, p, fw_strictest_policy(cfg) == FW_VERDICT_ACCEPT ?
						     FW_VERDICT_ACCEPT : FW_VERDICT_DROP, l3);
		return 1;
	}
	fw_trace_start(p, in_ifindex); /* trace */
	if (p->frag == FW_FRAG_FIRST && !p->l4_ok) {
		/* A first fragment without its whole transport header (RFC
		 * 1858, 3128): the rest would come from a later fragment, past
		 * every port and flag rule. Its later fragments follow it. */
		struct fw_frag_key fk = fw_frag_key_of(p);
		__u32 v = FW_VERDICT_DROP;

		bpf_map_update_elem(&fw_frag, &fk, &v, BPF_ANY);
		fw_stat_rare(FW_STAT_MALFORMED, p->l3_len);
		*act = XDP_DROP;
		return 1;
	}
	return 0;
}

/* Port forwards take packets to this host's addresses and rewrite their
 * destination before the chains (the forward chain sees the inside host)
 * and before the stack routes them. Returns 1 when one did (*chain and
 * *out_ifindex chosen again), 0 when none, -1 when the packet could not be
 * rewritten (drop). */
static __always_inline int fw_ingress_pf(struct xdp_md *ctx, void *data, void *data_end,
					 const struct fw_gen_cfg *cfg, __u8 gen, struct fw_pkt *p,
					 __u32 in_ifindex, __u8 *chain, __u32 *out_ifindex)
{
	struct fw_pf_rule *pf;
	int seed;

	if (*chain != FW_CHAIN_INPUT || !cfg->pf_count)
		return 0;
	pf = fw_pf_match(cfg, gen, p, in_ifindex);
	if (!pf)
		return 0;
	seed = fw_nat_dnat_seed(ctx, p, in_ifindex);
	if (fw_pf_apply(data, data_end, p, pf, seed))
		return -1;
	*chain = fw_select_chain(ctx, p, in_ifindex, out_ifindex);
	return 1;
}

/* A later fragment has no ports: it takes its first fragment's verdict,
 * else the policy, so that a fragment never slips past a port rule. */
static __always_inline int fw_ingress_later_fragment(struct xdp_md *ctx, void *data,
						     void *data_end, const struct fw_gen_cfg *cfg,
						     struct fw_pkt *p, __u8 chain, int l3)
{
	struct fw_frag_key fk;
	__u8 verdict;
	__u32 *fv;

	fw_trace_decided(FW_TRACE_BY_FRAGMENT, 0, FW_VERDICT_DROP); /* trace: the verdict is in xdp_action */
	fk = fw_frag_key_of(p);
	fv = bpf_map_lookup_elem(&fw_frag, &fk);
	if (fv && *fv == FW_VERDICT_ACCEPT) {
		/* Its first fragment's destination rewrite, if any. */
		if (fw_frag_nat_ingress(data, data_end, p))
			return XDP_DROP;
		return XDP_PASS;
	}
	if (fv)
		return XDP_DROP;
	fw_stat_rare(FW_STAT_FRAG_POLICY, p->l3_len);
	verdict = cfg->policy[chain & 1];
	return fw_xdp_action(ctx, p, verdict == FW_VERDICT_ACCEPT ? verdict : FW_VERDICT_DROP, l3);
}

/* The first rule of the chain that matches, else its policy: the verdict,
 * counted (and logged when the rule says so); a drop is remembered for the
 * flow's next packets (lib/drop_memo.h). */
static __always_inline __u8 fw_ingress_judge(const struct fw_gen_cfg *cfg, __u8 gen, __u8 chain,
					     __u32 in_ifindex, __u32 out_ifindex, struct fw_pkt *p,
					     int dnat)
{
	struct fw_rule *rule;
	__u32 rule_idx;
	__u8 verdict;

	if (!p->l4_ok)
		rule_idx = FW_RULE_NONE; /* truncated transport header: policy */
	else
		rule_idx = fw_classify(cfg, gen, chain, in_ifindex, out_ifindex, p);
	rule = fw_rule_of(gen, rule_idx, p);
	if (rule) {
		verdict = rule->action;
		if (rule->flags & FW_RULE_F_LOG)
			fw_log(cfg, rule, in_ifindex, out_ifindex, p, verdict);
		fw_trace_decided(FW_TRACE_BY_RULE, rule->position, verdict); /* trace */
	} else {
		verdict = cfg->policy[chain & 1];
		fw_trace_decided(FW_TRACE_BY_POLICY, 0, verdict); /* trace */
		fw_stat(chain == FW_CHAIN_INPUT ? FW_STAT_POLICY_INPUT : FW_STAT_POLICY_FORWARD,
			p->l3_len);
	}
	fw_drop_memo_remember(p, rule, in_ifindex, cfg->serial,
			      FW_DROP_MEMO_HOW(chain, verdict, dnat, fw_drop_memo_any(cfg->flags)));
	return verdict;
}

/* Acts on a new packet's verdict: its later fragments will follow it, a
 * port forward is undone for a reject's answer, an accepted connection is
 * remembered (translated) and a forwarded one takes the fast path. */
static __always_inline int fw_ingress_verdict(struct xdp_md *ctx, void *data, void *data_end,
					      const struct fw_gen_cfg *cfg, __u8 gen,
					      struct fw_pkt *p, struct fw_ct_new *c, __u8 verdict,
					      int dnat, __u8 chain, __u32 in_ifindex,
					      __u32 out_ifindex, int l3)
{
	int rc;

	if (p->frag == FW_FRAG_FIRST) {
		/* Keyed as later fragments arrive: before a port forward. */
		struct fw_frag_key fk = fw_frag_key_of_tuple(p, dnat ? &c->orig : &p->t);
		__u32 v = verdict;

		bpf_map_update_elem(&fw_frag, &fk, &v, BPF_ANY);
	}
	if (verdict == FW_VERDICT_REJECT && dnat && fw_pf_undo(data, data_end, p, &c->orig))
		return XDP_DROP; /* answer from what the client used, or not at all */
	if (verdict == FW_VERDICT_ACCEPT) {
		if (dnat)
			fw_frag_nat_remember(p, *(__be32 *)c->orig.saddr, *(__be32 *)c->orig.daddr,
					     FW_NAT_DST, *(__be32 *)p->t.daddr);
		if (fw_nat_create(cfg, gen, p, c, dnat, chain, in_ifindex, out_ifindex)) {
			FW_TRACE_SET(by, FW_TRACE_BY_NAT_FAIL); /* trace */
			return XDP_DROP; /* masquerade without a free port */
		}
		if (!l3 && chain == FW_CHAIN_FORWARD) {
			rc = fw_fastpath(ctx, cfg, p, in_ifindex, NULL);
			fw_trace_fast(ctx, cfg, p, in_ifindex, NULL, rc); /* trace */
			return rc;
		}
		if (l3 && chain == FW_CHAIN_FORWARD)
			FW_TRACE_SET(fast, FW_TRACE_FAST_TUN); /* trace */
	}
	return fw_xdp_action(ctx, p, verdict, l3);
}

static __always_inline int fw_ingress(struct xdp_md *ctx, int l3)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 in_ifindex = ctx->ingress_ifindex, out_ifindex = 0, zero = 0;
	struct fw_pkt p = {};
	struct fw_active *act;
	struct fw_gen_cfg *cfg;
	struct fw_ct_entry *hit;
	struct fw_ct_new *c;
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

	if (fw_ingress_parse(ctx, data, data_end, cfg, &p, in_ifindex, l3, &rc))
		return rc;
	/* Neighbour discovery for this host (link-local by its hop limit)
	 * passes; a forwarded one is the forward chain's, like any packet.
	 * The FIB lookup is paid by ND packets only. */
	if (fw_is_neighbour_discovery(&p) &&
	    fw_select_chain(ctx, &p, in_ifindex, &out_ifindex) == FW_CHAIN_INPUT) {
		fw_stat_rare(FW_STAT_ND, p.l3_len);
		fw_trace_decided(FW_TRACE_BY_ND, 0, FW_VERDICT_ACCEPT); /* trace */
		return XDP_PASS;
	}

	if (fw_pkt_forget(&p))
		return XDP_DROP;
	c = fw_ct_new_of(&p); /* the packet's key, once */
	if (!c)
		return XDP_DROP;
	ct = fw_ct_ingress(data, data_end, &p, c, &hit);
	if (ct == FW_CT_ESTABLISHED && fw_stack_ct_stale(hit))
		ct = FW_CT_NEW; /* judged at another layer: lib/stack.h */
	if (ct != FW_CT_NEW) /* trace (NEW is 0, as the event starts) */
		fw_trace_conntrack(ct);
	switch (ct) {
	case FW_CT_ESTABLISHED:
		fw_stat(FW_STAT_CT_ESTABLISHED, p.l3_len);
		__builtin_memcpy(&pre_daddr, p.t.daddr, 4);
		if (hit && fw_nat_dnat_apply(ctx, &p, hit, in_ifindex))
			return XDP_DROP;
		goto ct_accept;
	case FW_CT_RELATED:
		/* Translated like its connection, quote included; errors take
		 * the stack (the fast path would not translate the quote). */
		fw_stat_rare(FW_STAT_CT_RELATED, p.l3_len);
		if (hit && fw_nat_icmp_dnat_apply(data, data_end, &p, hit))
			return XDP_DROP;
		return XDP_PASS;
	case FW_CT_INVALID:
		fw_stat_rare(FW_STAT_CT_INVALID, p.l3_len);
		return XDP_DROP;
	default:
		break;
	}
	/* A flow dropped a moment ago, before its route and the rules. */
	if (fw_drop_memo_hit(&p, in_ifindex, cfg->serial, fw_drop_memo_any(cfg->flags)))
		return XDP_DROP;

	chain = fw_select_chain(ctx, &p, in_ifindex, &out_ifindex);

	dnat = fw_ingress_pf(ctx, data, data_end, cfg, gen, &p, in_ifindex, &chain, &out_ifindex);
	if (dnat < 0)
		return XDP_DROP;

	FW_TRACE_SET(chain, chain);             /* trace */
	FW_TRACE_SET(out_ifindex, out_ifindex); /* trace */
	if (p.frag == FW_FRAG_LATER)
		return fw_ingress_later_fragment(ctx, data, data_end, cfg, &p, chain, l3);

	verdict = fw_ingress_judge(cfg, gen, chain, in_ifindex, out_ifindex, &p, dnat);
	return fw_ingress_verdict(ctx, data, data_end, cfg, gen, &p, c, verdict, dnat, chain,
				  in_ifindex, out_ifindex, l3);

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

#endif
