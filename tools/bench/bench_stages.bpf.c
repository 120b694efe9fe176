/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Where the time of fwctl's XDP drop path goes. Each program runs a
 * prefix of the ingress pipeline for a NEW packet of the forward chain:
 * the datapath's own stages (bpf/lib/ingress.h, lib/ct.h) and classifier
 * stages (bpf/lib/classify.h), in fw_ingress's order, on the maps of an applied
 * ruleset (map reuse); then drops. The difference between two consecutive
 * prefixes is the cost of a stage (fw_bench_xdp_cost runs them with
 * BPF_PROG_TEST_RUN).
 */
#include "lib/ingress.h"

/* fw_classify's stages (lib/classify.h) up to `upto` (1..6), to split its
 * cost; without its shortcuts (a class of none, rules naming no interface
 * or address), which a benchmark of every stage must not take. */
static __always_inline __u32 classify_prefix(const struct fw_gen_cfg *cfg, __u8 gen, __u8 chain,
					     __u32 in_ifindex, __u32 out_ifindex,
					     const struct fw_pkt *p, const int upto)
{
	__u32 a, b, c, d, e;

	a = fw_cls_ifaces(cfg, gen, chain, in_ifindex, out_ifindex);
	if (upto == 1)
		return a;
	if (upto == 2) /* the two LPM lookups of fw_cls_addrs alone */
		return a ^ fw_addr_class(p->t.saddr, p->t.family, gen, chain, FW_DIR_SRC) ^
		       fw_addr_class(p->t.daddr, p->t.family, gen, chain, FW_DIR_DST);
	b = fw_cls_addrs(gen, chain, p);
	if (upto == 3)
		return a ^ b;
	c = fw_cls_proto_sport(gen, chain, p);
	if (upto == 4)
		return a ^ b ^ c;
	d = fw_combine(a, b, gen, chain, FW_STAGE_AB);
	e = fw_cls_dport(c, gen, chain, p);
	if (upto == 5)
		return d ^ e;
	return fw_combine(d, e, gen, chain, FW_STAGE_FINAL);
}

#define STAGE_CFG 0      /* fw_active, fw_gen_cfg */
#define STAGE_PARSE 1    /* + fw_ingress_parse, ND check */
#define STAGE_CT 2       /* + the key, conntrack lookup (a miss) */
#define STAGE_ROUTE 3    /* + chain selection (bpf_fib_lookup) */
#define STAGE_CLASSIFY 4 /* + fw_classify */
#define STAGE_RULE 5     /* + rule lookup, its counter */

static __always_inline int prefix(struct xdp_md *ctx, const int upto, const int cls_upto)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 in_ifindex = ctx->ingress_ifindex, out_ifindex = 0, rule_idx;
	struct fw_pkt p = {};
	struct fw_active *active;
	struct fw_gen_cfg *cfg;
	struct fw_rule *rule;
	struct fw_ct_entry *hit;
	struct fw_ct_new *c;
	__u8 gen, chain;
	int act;

	active = bpf_map_lookup_elem(&fw_active, &(__u32){ 0 });
	if (!active || !active->valid)
		return XDP_PASS;
	gen = active->gen & 1;
	cfg = bpf_map_lookup_elem(&fw_gen_cfg, &(__u32){ gen });
	if (!cfg || upto == STAGE_CFG)
		return XDP_DROP;
	if (fw_ingress_parse(ctx, data, data_end, cfg, &p, in_ifindex, 0, &act) ||
	    fw_is_neighbour_discovery(&p))
		return XDP_PASS;
	if (upto == STAGE_PARSE)
		return XDP_DROP;
	c = fw_ct_new_of(&p);
	if (!c || fw_ct_ingress(data, data_end, &p, c, &hit) != FW_CT_NEW)
		return XDP_PASS;
	if (upto == STAGE_CT)
		return XDP_DROP;
	chain = fw_select_chain(ctx, &p, in_ifindex, &out_ifindex);
	if (chain != FW_CHAIN_FORWARD)
		return XDP_PASS;
	if (upto == STAGE_ROUTE)
		return XDP_DROP;
	if (cls_upto)
		return classify_prefix(cfg, gen, chain, in_ifindex, out_ifindex, &p, cls_upto) ==
		       FW_CLASS_NONE - 1 ? XDP_PASS : XDP_DROP;
	rule_idx = fw_classify(cfg, gen, chain, in_ifindex, out_ifindex, &p);
	if (upto == STAGE_CLASSIFY)
		return rule_idx == FW_RULE_NONE ? XDP_PASS : XDP_DROP;
	rule = fw_rule_of(gen, rule_idx, &p);
	return rule && rule->action == FW_VERDICT_DROP ? XDP_DROP : XDP_PASS;
}

SEC("xdp") int stage_cfg(struct xdp_md *ctx) { return prefix(ctx, STAGE_CFG, 0); }
SEC("xdp") int stage_parse(struct xdp_md *ctx) { return prefix(ctx, STAGE_PARSE, 0); }
SEC("xdp") int stage_ct(struct xdp_md *ctx) { return prefix(ctx, STAGE_CT, 0); }
SEC("xdp") int stage_route(struct xdp_md *ctx) { return prefix(ctx, STAGE_ROUTE, 0); }
SEC("xdp") int stage_cls_ifaces(struct xdp_md *ctx) { return prefix(ctx, STAGE_CLASSIFY, 1); }
SEC("xdp") int stage_cls_addr_lpm(struct xdp_md *ctx) { return prefix(ctx, STAGE_CLASSIFY, 2); }
SEC("xdp") int stage_cls_addrs(struct xdp_md *ctx) { return prefix(ctx, STAGE_CLASSIFY, 3); }
SEC("xdp") int stage_cls_proto_sport(struct xdp_md *ctx) { return prefix(ctx, STAGE_CLASSIFY, 4); }
SEC("xdp") int stage_cls_dport(struct xdp_md *ctx) { return prefix(ctx, STAGE_CLASSIFY, 5); }
SEC("xdp") int stage_classify(struct xdp_md *ctx) { return prefix(ctx, STAGE_CLASSIFY, 0); }
SEC("xdp") int stage_rule(struct xdp_md *ctx) { return prefix(ctx, STAGE_RULE, 0); }

char LICENSE[] SEC("license") = "Dual MIT/GPL";
