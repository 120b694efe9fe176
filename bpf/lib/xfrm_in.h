/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * What kernel IPsec decrypted (docs/stacked.md, "Kernel IPsec"). The ESP
 * packet itself meets the chains in XDP (`proto esp`). Its decrypted
 * inner packet (tunnel mode) is handed back to the receive path of the
 * same device (gro_cells), past the driver: native XDP never sees it,
 * generic XDP does. This TC ingress program judges exactly those packets,
 * the ones carrying a secpath, and lets every other packet through (XDP
 * judged it). The loader attaches it only where no generic XDP would judge
 * the inner packet again: devices whose XDP runs native, and VLAN devices
 * whose parent judges for them.
 *
 * Same chains, counters, logging and connection table as XDP. Reject
 * answers are drops here; port forwards do not apply to decrypted traffic
 * (it was addressed inside the tunnel).
 */
#ifndef FW_XFRM_IN_H
#define FW_XFRM_IN_H

#include "maps.h"
#include "parse.h"
#include "route.h"
#include "classify.h"
#include "ct.h"
#include "log.h"
#include "nat.h"

static __always_inline int fw_xfrm_decrypted(struct __sk_buff *skb)
{
	struct bpf_xfrm_state x = {};

	return bpf_skb_get_xfrm_state(skb, 0, &x, sizeof(x), 0) == 0;
}

static __always_inline int fw_xfrm_verdict_to_tc(__u8 verdict)
{
	return verdict == FW_VERDICT_ACCEPT ? TC_ACT_OK : TC_ACT_SHOT;
}

static __always_inline int fw_xfrm_ingress(struct __sk_buff *skb, int l3)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 in_ifindex = skb->ifindex, out_ifindex = 0, zero = 0, rule_idx;
	struct fw_ct_new *c;
	struct fw_pkt p = {};
	struct fw_active *act;
	struct fw_gen_cfg *cfg;
	struct fw_ct_entry *hit;
	struct fw_rule *rule;
	__u8 gen, chain, verdict;
	int rc;

	if (!fw_xfrm_decrypted(skb))
		return TC_ACT_OK;
	act = bpf_map_lookup_elem(&fw_active, &zero);
	if (!act || !act->valid)
		return TC_ACT_OK;
	gen = act->gen & 1;
	cfg = bpf_map_lookup_elem(&fw_gen_cfg, &(__u32){ gen });
	if (!cfg)
		return TC_ACT_SHOT;
	rc = l3 ? fw_parse_l3(data, data_end, &p) : fw_parse(data, data_end, &p);
	if (rc == FW_PARSE_NOT_IP)
		return TC_ACT_OK;
	if (rc != FW_PARSE_OK || p.frag == FW_FRAG_LATER || !p.l4_ok) {
		/* Reassembled before decryption: a fragment or a short header
		 * here is not something we can judge. */
		fw_stat(FW_STAT_MALFORMED, 0);
		return TC_ACT_SHOT;
	}
	c = fw_ct_new_of(&p); /* the packet's key, once */
	if (!c)
		return TC_ACT_SHOT;
	switch (fw_ct_ingress(data, data_end, &p, c, &hit)) {
	case FW_CT_ESTABLISHED:
		fw_stat(FW_STAT_CT_ESTABLISHED, p.l3_len);
		return TC_ACT_OK;
	case FW_CT_RELATED:
		fw_stat(FW_STAT_CT_RELATED, p.l3_len);
		return TC_ACT_OK;
	case FW_CT_INVALID:
		fw_stat(FW_STAT_CT_INVALID, p.l3_len);
		return TC_ACT_SHOT;
	default:
		break;
	}
	chain = fw_select_chain(skb, &p, in_ifindex, &out_ifindex);
	rule_idx = fw_classify(cfg, gen, chain, in_ifindex, out_ifindex, &p);
	rule = fw_rule_of(gen, rule_idx, &p);
	if (rule) {
		verdict = rule->action;
		if (rule->flags & FW_RULE_F_LOG)
			fw_log(cfg, rule, in_ifindex, out_ifindex, &p, verdict);
	} else {
		verdict = cfg->policy[chain & 1];
		fw_stat(chain == FW_CHAIN_INPUT ? FW_STAT_POLICY_INPUT : FW_STAT_POLICY_FORWARD,
			p.l3_len);
	}
	if (verdict == FW_VERDICT_ACCEPT) {
		if (!c->keyed)
			return TC_ACT_OK;
		if (fw_nat_create(cfg, gen, &p, c, 0, chain, in_ifindex, out_ifindex))
			return TC_ACT_SHOT; /* masquerade without a free port */
	}
	return fw_xfrm_verdict_to_tc(verdict);
}

#endif
