/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The drop memo. A flood is mostly one flow sending again and again what
 * a rule (or the policy) drops; each of its packets would pay the route
 * lookup that picks the chain and the classifier, ~80 of the ~140 ns a
 * dropped packet costs (tools/bench/RESULTS.md). When a new packet is
 * dropped, this CPU remembers its flow; the flow's next packets that find
 * no connection are dropped and counted against the same rule right after
 * the connection lookup.
 *
 * Only drops are remembered, so a memory that is out of date can only drop
 * what the ruleset would now let through, never the other way round. It is
 * out of date
 *  - at once after an apply: each generation has its own serial
 *    (fw_gen_cfg.serial);
 *  - at once after a route change where the route hooks run
 *    (fw_route_epoch, lib/route_cache.h);
 *  - otherwise after at most two ticks of 2^26 ns (67-134 ms): a route
 *    change that moves the flow to another chain or interface, a device
 *    that appears (its interface class is written in place).
 * A connection opened the other way is found before the memo is read.
 *
 * Never remembered: a rule that logs (each packet is an event), a reject
 * (each packet is answered), fragments and packets without ports (their
 * verdict depends on more than the flow), port forwards. Each slot is one
 * flow, picked by a hash of the tuple; a colliding flow takes it over.
 * Where no rule names a source port (FW_CFG_F_ANY_SPORT: the verdict is
 * the same for every source port), the memo leaves the source port out:
 * a flood whose source port changes every packet is remembered too. Where
 * no rule names a source address and routes depend on the destination
 * only (FW_CFG_F_ANY_SADDR), it leaves the source address out as well: a
 * flood from spoofed random sources is dropped from memory, its packets
 * one connection lookup and one memo lookup each.
 */
#ifndef FW_DROP_MEMO_H
#define FW_DROP_MEMO_H

#include "maps.h"
#include "parse.h"
#include "route_cache.h"
#include "trace.h"

static __always_inline int fw_drop_memo_applies(const struct fw_pkt *p)
{
	return p->frag == FW_FRAG_NONE && p->has_ports && p->l4_ok;
}

/* What the memo leaves out of a flow (FW_DROP_MEMO_ANY_*): the `any`
 * argument of the functions below, from the running generation's flags. */
#define FW_DROP_MEMO_ANY_SPORT 0x1
#define FW_DROP_MEMO_ANY_SADDR 0x2

static __always_inline __u32 fw_drop_memo_any(__u8 cfg_flags)
{
	return (cfg_flags & FW_CFG_F_ANY_SPORT ? FW_DROP_MEMO_ANY_SPORT : 0) |
	       (cfg_flags & FW_CFG_F_ANY_SADDR ? FW_DROP_MEMO_ANY_SADDR : 0);
}

/* The tuple's ports word (struct fw_tuple: sport, then dport, host byte
 * order) with the source port left out when the ruleset never looks at it. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FW_DROP_MEMO_DPORT_MASK 0xffff0000u /* sport is the low half */
#else
#define FW_DROP_MEMO_DPORT_MASK 0x0000ffffu
#endif

/* k: p's tuple as words (struct fw_drop_memo.t), less what `any` leaves
 * out. */
static __always_inline void fw_drop_memo_key(const struct fw_pkt *p, __u32 any, __u32 *k)
{
	const __u32 *w = (const __u32 *)&p->t;
	__u32 keep_saddr = any & FW_DROP_MEMO_ANY_SADDR ? 0 : 0xffffffffu;

#pragma unroll
	for (int i = 0; i < 10; i++)
		k[i] = w[i];
#pragma unroll
	for (int i = 0; i < 4; i++)
		k[i] &= keep_saddr;
	if (any & FW_DROP_MEMO_ANY_SPORT)
		k[8] &= FW_DROP_MEMO_DPORT_MASK;
}

static __always_inline __u32 fw_drop_memo_slot(const __u32 *k, __u32 in_ifindex)
{
	/* XOR-folded, then one multiply (Fibonacci hashing): a chain of ten
	 * multiplies cost a dropped packet ~8 ns. Only picks a slot: a flow
	 * colliding with another just takes its place. */
	__u32 h = (k[0] ^ k[1] ^ k[2] ^ k[3]) ^ ((k[4] ^ k[5] ^ k[6] ^ k[7]) << 7 | (k[4] ^ k[5] ^ k[6] ^ k[7]) >> 25) ^
		  k[8] * 31 ^ k[9] ^ in_ifindex << 20;

	h *= 0x9e3779b1u;
	return h >> (32 - FW_DROP_MEMO_BITS);
}

/* 1 when p's flow was dropped and still would be as far as the memo can
 * tell: counted as then; the caller drops it. serial: the running
 * generation's; any: fw_drop_memo_any() of its flags.
 *
 * Both functions are global (never inlined): the verifier checks each once
 * on its own instead of once for every state of fw_ingress that reaches
 * it (inlined, they cost fw_xdp 35,000 more verified instructions). Hence
 * scalars and a packet pointer they test for NULL. */
__noinline int fw_drop_memo_hit(const struct fw_pkt *p, __u32 in_ifindex, __u32 serial, __u32 any)
{
	struct fw_drop_memo *m;
	__u32 slot, k[10];

	if (!p || !fw_drop_memo_applies(p))
		return 0;
	fw_drop_memo_key(p, any, k);
	slot = fw_drop_memo_slot(k, in_ifindex);
	m = bpf_map_lookup_elem(&fw_drop_memo, &slot);
	if (!m || !m->valid || m->serial != serial || m->in_ifindex != in_ifindex)
		return 0;
#pragma unroll
	for (int i = 0; i < 10; i++)
		if (m->t[i] != k[i])
			return 0;
	if (m->route_epoch != fw_route_epoch_now() || (__u16)(fw_route_tick() - m->tick) > 1)
		return 0;
	/* A packet `fwctl trace` follows is judged: its event shows the
	 * route and the rule as they are now. */
	if (fw_trace_now()) /* trace */
		return 0;
	if (m->counter_slot == FW_DROP_MEMO_POLICY)
		fw_stat(m->chain == FW_CHAIN_INPUT ? FW_STAT_POLICY_INPUT : FW_STAT_POLICY_FORWARD,
			p->l3_len);
	else
		fw_rule_count(m->counter_slot, p->l3_len);
	fw_stat(FW_STAT_DROP_MEMO, p->l3_len);
	return 1;
}

#define FW_DROP_MEMO_HOW(chain, verdict, dnat, any)                                                \
	((chain) | (__u32)(verdict) << 8 | (__u32) !!(dnat) << 16 | (__u32)(any) << 24)

/* After a new packet's verdict: remembers a drop it may. rule: the one that
 * dropped it, NULL for the policy; how: FW_DROP_MEMO_HOW(chain, verdict,
 * whether a port forward rewrote it, fw_drop_memo_any()). */
__noinline int fw_drop_memo_remember(const struct fw_pkt *p, const struct fw_rule *rule,
				     __u32 in_ifindex, __u32 serial, __u32 how)
{
	struct fw_drop_memo *m;
	__u32 slot, k[10];

	if (!p || ((how >> 8) & 0xff) != FW_VERDICT_DROP || ((how >> 16) & 0xff) ||
	    !fw_drop_memo_applies(p) || (rule && (rule->flags & FW_RULE_F_LOG)))
		return 0;
	fw_drop_memo_key(p, how >> 24, k);
	slot = fw_drop_memo_slot(k, in_ifindex);
	m = bpf_map_lookup_elem(&fw_drop_memo, &slot);
	if (!m)
		return 0;
#pragma unroll
	for (int i = 0; i < 10; i++)
		m->t[i] = k[i];
	m->in_ifindex = in_ifindex;
	m->serial = serial;
	m->route_epoch = fw_route_epoch_now();
	m->tick = fw_route_tick();
	m->counter_slot = rule ? rule->counter_slot : FW_DROP_MEMO_POLICY;
	m->chain = how & 0xff;
	m->valid = 1;
	return 1;
}

#endif
