/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Where the time of fwctl's XDP drop path goes. Each program runs a
 * prefix of fw_ingress (bpf/fw.bpf.c) for a NEW packet of the forward
 * chain, using the datapath's own helpers from bpf/lib and, through map
 * reuse, the maps of an applied ruleset; then drops. The difference
 * between two consecutive prefixes is the cost of a stage
 * (fw_bench_xdp_cost runs them with BPF_PROG_TEST_RUN). Keep the order in
 * step with fw_ingress.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/route.h"
#include "lib/classify.h"
#include "lib/ct.h"

/* fw_classify (lib/classify.h) stopped after its stage `upto` (1..6), to
 * split its cost; the same lookups, in the same order. */
static __always_inline __u32 classify_prefix(const struct fw_gen_cfg *cfg, __u8 gen, __u8 chain,
					     __u32 in_ifindex, __u32 out_ifindex,
					     const struct fw_pkt *p, const int upto)
{
	__u32 in_c, out_c, s_c, d_c, proto_c, sp_c, dp_c, a, b, c, d, e;

	in_c = fw_iface_class(cfg, in_ifindex, gen, chain, FW_DIR_SRC);
	out_c = fw_iface_class(cfg, out_ifindex, gen, chain, FW_DIR_DST);
	a = fw_combine(in_c, out_c, gen, chain, FW_STAGE_IFACES);
	if (upto == 1)
		return a;
	s_c = fw_addr_class(p->t.saddr, p->t.family, gen, chain, FW_DIR_SRC);
	d_c = fw_addr_class(p->t.daddr, p->t.family, gen, chain, FW_DIR_DST);
	if (upto == 2)
		return a ^ s_c ^ d_c;
	b = fw_combine(s_c, d_c, gen, chain, FW_STAGE_ADDRS);
	if (upto == 3)
		return a ^ b;
	proto_c = fw_array_class(&fw_cls_proto, (gen * FW_CHAINS + chain) * 256 + p->t.proto);
	sp_c = fw_array_class(&fw_cls_port, fw_port_index(gen, chain, FW_DIR_SRC, p->cls_sport_slot));
	c = fw_combine(proto_c, sp_c, gen, chain, FW_STAGE_PROTO_SPORT);
	if (upto == 4)
		return a ^ b ^ c;
	d = fw_combine(a, b, gen, chain, FW_STAGE_AB);
	dp_c = fw_array_class(&fw_cls_port, fw_port_index(gen, chain, FW_DIR_DST, p->cls_dport_slot));
	e = fw_combine(c, dp_c, gen, chain, FW_STAGE_C_DPORT);
	if (upto == 5)
		return d ^ e;
	return fw_combine(d, e, gen, chain, FW_STAGE_FINAL);
}

#define STAGE_CFG 0      /* fw_active, fw_gen_cfg */
#define STAGE_PARSE 1    /* + fw_parse, ND check */
#define STAGE_CT 2       /* + conntrack lookup (a miss) */
#define STAGE_ROUTE 3    /* + chain selection (bpf_fib_lookup) */
#define STAGE_CLASSIFY 4 /* + ct key copy, fw_classify */
#define STAGE_RULE 5     /* + rule lookup, its counter */

static __always_inline int prefix(struct xdp_md *ctx, const int upto, const int cls_upto)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 in_ifindex = ctx->ingress_ifindex, out_ifindex = 0, zero = 0, rule_idx;
	struct fw_pkt p = {};
	struct fw_active *act;
	struct fw_gen_cfg *cfg;
	struct fw_rule *rule;
	struct fw_ct_entry *hit;
	struct fw_tuple orig_key __attribute__((aligned(8)));
	__u8 gen, chain;

	act = bpf_map_lookup_elem(&fw_active, &zero);
	if (!act || !act->valid)
		return XDP_PASS;
	gen = act->gen & 1;
	cfg = bpf_map_lookup_elem(&fw_gen_cfg, &(__u32){ gen });
	if (!cfg || upto == STAGE_CFG)
		return XDP_DROP;
	if (fw_parse(data, data_end, &p) != FW_PARSE_OK)
		return XDP_PASS;
	if (p.t.family == 6 && p.t.proto == IPPROTO_ICMPV6)
		return XDP_PASS;
	if (upto == STAGE_PARSE)
		return XDP_DROP;
	if (fw_ct_ingress(data, data_end, &p, in_ifindex, &hit) != FW_CT_NEW)
		return XDP_PASS;
	if (upto == STAGE_CT)
		return XDP_DROP;
	chain = fw_select_chain(ctx, &p, in_ifindex, &out_ifindex);
	if (chain != FW_CHAIN_FORWARD)
		return XDP_PASS;
	if (upto == STAGE_ROUTE)
		return XDP_DROP;
	if (fw_ct_key_of(&p, &orig_key))
		__builtin_memset(&orig_key, 0, sizeof(orig_key));
	if (cls_upto)
		return classify_prefix(cfg, gen, chain, in_ifindex, out_ifindex, &p, cls_upto) ==
		       FW_CLASS_NONE - 1 ? XDP_PASS : XDP_DROP;
	rule_idx = fw_classify(cfg, gen, chain, in_ifindex, out_ifindex, &p);
	if (upto == STAGE_CLASSIFY)
		return rule_idx == FW_RULE_NONE ? XDP_PASS : XDP_DROP;
	rule = bpf_map_lookup_elem(&fw_rules, &(__u32){ gen * FW_MAX_RULES + rule_idx });
	if (!rule)
		return XDP_PASS;
	fw_count(&fw_rule_cnt, rule->counter_slot, p.l3_len);
	return rule->action == FW_VERDICT_DROP ? XDP_DROP : XDP_PASS;
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
