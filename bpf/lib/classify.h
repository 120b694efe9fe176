/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The equivalence-class classifier (in the spirit of Recursive Flow
 * Classification). Each field maps to a class id (the set of rules that
 * field value can match); pairs of classes map to the class of their
 * intersection, stage by stage, until the last stage yields the first
 * matching rule. The cost is the same handful of lookups whatever the
 * number of rules; user space (loader/classifier.cpp) builds the tables. */
#ifndef FW_CLASSIFY_H
#define FW_CLASSIFY_H

#include "maps.h"
#include "parse.h"

static __always_inline __u32 fw_combine(__u32 a, __u32 b, __u8 gen, __u8 chain, __u8 stage)
{
	struct fw_combine_key k = { .a = a, .b = b, .gen = gen, .chain = chain, .stage = stage };
	__u32 slot = gen;
	void *table = bpf_map_lookup_elem(&fw_cls_combine, &slot);
	__u32 *v;

	if (!table) /* never for the active generation: filled before the switch */
		return FW_CLASS_NONE;
	v = bpf_map_lookup_elem(table, &k);

	return v ? *v : FW_CLASS_NONE; /* a miss: the intersection is empty */
}

static __always_inline __u32 fw_iface_class(const struct fw_gen_cfg *cfg, __u32 ifindex,
					    __u8 gen, __u8 chain, __u8 dir)
{
	struct fw_iface_key k = { .ifindex = ifindex, .gen = gen, .chain = chain, .dir = dir };
	__u32 *v = bpf_map_lookup_elem(&fw_cls_iface, &k);

	if (v)
		return *v;
	return cfg->iface_default_class[chain & 1][dir & 1];
}

static __always_inline __u32 fw_addr_class(const __u8 *addr, __u8 family, __u8 gen, __u8 chain,
					   __u8 dir)
{
	struct fw_addr_key k = {
		.prefixlen = 32 + (family == 4 ? 32 : 128),
		.gen = gen, .chain = chain, .family = family, .dir = dir,
	};
	__u32 *v;

	__builtin_memcpy(k.addr, addr, 16);
	v = bpf_map_lookup_elem(&fw_cls_addr, &k);
	return v ? *v : FW_CLASS_NONE;
}

static __always_inline __u32 fw_array_class(void *map, __u32 idx)
{
	__u32 *v = bpf_map_lookup_elem(map, &idx);

	return v ? *v : FW_CLASS_NONE;
}

/* fw_classify's stages, each yielding a class (FW_CLASS_NONE: no rule
 * left); tools/bench/bench_stages.bpf.c times them one by one. */
static __always_inline __u32 fw_cls_ifaces(const struct fw_gen_cfg *cfg, __u8 gen, __u8 chain,
					   __u32 in_ifindex, __u32 out_ifindex)
{
	__u32 in_c = fw_iface_class(cfg, in_ifindex, gen, chain, FW_DIR_SRC);
	__u32 out_c = fw_iface_class(cfg, out_ifindex, gen, chain, FW_DIR_DST);

	return fw_combine(in_c, out_c, gen, chain, FW_STAGE_IFACES);
}

static __always_inline __u32 fw_cls_addrs(__u8 gen, __u8 chain, const struct fw_pkt *p)
{
	__u32 s_c = fw_addr_class(p->t.saddr, p->t.family, gen, chain, FW_DIR_SRC);
	__u32 d_c = fw_addr_class(p->t.daddr, p->t.family, gen, chain, FW_DIR_DST);

	return fw_combine(s_c, d_c, gen, chain, FW_STAGE_ADDRS);
}

static __always_inline __u32 fw_cls_proto_sport(__u8 gen, __u8 chain, const struct fw_pkt *p)
{
	__u32 proto_c = fw_array_class(&fw_cls_proto, (gen * FW_CHAINS + chain) * 256 + p->t.proto);
	__u32 sp_c = fw_array_class(&fw_cls_port,
				    fw_port_index(gen, chain, FW_DIR_SRC, p->cls_sport_slot));

	return fw_combine(proto_c, sp_c, gen, chain, FW_STAGE_PROTO_SPORT);
}

/* c: fw_cls_proto_sport's class. */
static __always_inline __u32 fw_cls_dport(__u32 c, __u8 gen, __u8 chain, const struct fw_pkt *p)
{
	__u32 dp_c = fw_array_class(&fw_cls_port,
				    fw_port_index(gen, chain, FW_DIR_DST, p->cls_dport_slot));

	return fw_combine(c, dp_c, gen, chain, FW_STAGE_C_DPORT);
}

/* Returns the index (within the generation) of the first rule of `chain`
 * that matches, or FW_RULE_NONE. */
static __always_inline __u32 fw_classify(const struct fw_gen_cfg *cfg, __u8 gen, __u8 chain,
					 __u32 in_ifindex, __u32 out_ifindex,
					 const struct fw_pkt *p)
{
	__u32 a, b, c, d, e, rule;
	__u32 catchall = cfg->catchall[chain & 1];

	if (cfg->flags & (FW_CFG_F_CONST_AB << (chain & 1))) {
		/* No rule names an interface or address: skip 4 lookups and 3
		 * combines (about 90 of a new packet's 230 ns). */
		d = cfg->const_ab[chain & 1];
		if (d == FW_CLASS_NONE)
			return catchall;
		goto ports;
	}

	a = fw_cls_ifaces(cfg, gen, chain, in_ifindex, out_ifindex);
	if (a == FW_CLASS_NONE)
		return catchall;
	b = fw_cls_addrs(gen, chain, p);
	if (b == FW_CLASS_NONE)
		return catchall;
	d = fw_combine(a, b, gen, chain, FW_STAGE_AB);
	if (d == FW_CLASS_NONE)
		return catchall;

ports:
	c = fw_cls_proto_sport(gen, chain, p);
	if (c == FW_CLASS_NONE)
		return catchall;
	e = fw_cls_dport(c, gen, chain, p);
	if (e == FW_CLASS_NONE)
		return catchall;
	rule = fw_combine(d, e, gen, chain, FW_STAGE_FINAL);
	/* Rules are numbered in file order across the generation, so the
	 * smaller index is the earlier rule. */
	return rule < catchall ? rule : catchall;
}

/* The rule of index rule_idx (fw_classify's answer) in generation gen,
 * its counter counted; NULL for FW_RULE_NONE. */
static __always_inline struct fw_rule *fw_rule_of(__u8 gen, __u32 rule_idx, const struct fw_pkt *p)
{
	struct fw_rule *rule;

	if (rule_idx == FW_RULE_NONE)
		return NULL;
	rule = bpf_map_lookup_elem(&fw_rules, &(__u32){ gen * FW_MAX_RULES + rule_idx });
	if (rule)
		fw_rule_count(rule->counter_slot, p->l3_len);
	return rule;
}

#endif
