/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * `fwctl trace`: the decision path of packets that match the tracer's
 * filters, one event each through fw_trace_rb.
 *
 * fw_trace_start, at the packet's start, reads the switch
 * (fw_trace_cfg.on, 0 unless a tracer runs); on, it marks this CPU's event
 * active for a matching packet. The event is built in that per-CPU scratch
 * entry (no stack: fw_ingress has little left) and sent, and marked
 * inactive, when XDP returns (fw_trace_end, which every return of
 * fw_ingress passes). So every later hook reads only `active`: one per-CPU
 * array lookup (inlined by the verifier: no call) and one compare. Not the
 * switch as well: each inlined lookup is a patch of the program the
 * verifier pays for in copies of it (28 hooks in fw_xdp). Tracing only
 * observes: no hook changes what happens to the packet.
 *
 * Why every hook reads the switch again instead of the packet carrying a
 * pointer or a flag: a pointer that may be NULL, or a flag the verifier
 * once saw as a constant, splits every verifier state of fw_ingress in
 * two for the rest of the program (the verifier cannot merge them), which
 * took fw_xdp past the million-instruction limit. A value loaded from a
 * map is unknown to the verifier, so the states after a hook merge.
 *
 * The hooks in fw.bpf.c are marked "trace:".
 */
#ifndef FW_TRACE_H
#define FW_TRACE_H

#include "maps.h"
#include "parse.h"
#include "route.h"
#include "csum.h"
#include "ct.h"
#include "fastpath.h"
#include "xfrm_fast.h"

static __always_inline int fw_trace_addr_match(const __u8 *a, const __u8 *want, const __u8 *mask)
{
#pragma unroll
	for (int i = 0; i < 16; i++)
		if ((a[i] & mask[i]) != want[i])
			return 0;
	return 1;
}

static __always_inline int fw_trace_match(const struct fw_trace_cfg *c, const struct fw_pkt *p,
					  __u32 in_ifindex)
{
	if (c->in_ifindex && c->in_ifindex != in_ifindex)
		return 0;
	if (c->family && c->family != p->t.family)
		return 0;
	if (c->match_proto && c->proto != p->t.proto)
		return 0;
	if (c->match_dport && (!p->has_ports || c->dport != p->t.dport))
		return 0;
	return fw_trace_addr_match(p->t.saddr, c->saddr, c->smask) &&
	       fw_trace_addr_match(p->t.daddr, c->daddr, c->dmask);
}

/* The event of the packet this CPU is handling when it is traced, else
 * NULL. */
static __always_inline struct fw_trace_event *fw_trace_now(void)
{
	__u32 zero = 0;
	struct fw_trace_event *e = bpf_map_lookup_elem(&fw_trace_scratch, &zero);

	return e && e->active ? e : NULL;
}

/* Decides whether this packet is traced; if so starts its event. While
 * tracing is on, every packet sets or clears `active`; while it is off,
 * `active` stays 0 (fw_trace_end cleared it). */
static __always_inline void fw_trace_start(const struct fw_pkt *p, __u32 in_ifindex)
{
	__u32 zero = 0;
	struct fw_trace_cfg *c = bpf_map_lookup_elem(&fw_trace_cfg, &zero);
	struct fw_trace_event *e;

	if (!c || !c->on)
		return;
	e = bpf_map_lookup_elem(&fw_trace_scratch, &zero);
	if (!e)
		return;
	e->active = 0;
	if (bpf_ktime_get_ns() > c->lease_ns || !fw_trace_match(c, p, in_ifindex))
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->active = 1;
	e->ktime_ns = bpf_ktime_get_ns();
	if (fw_ct_key_of(p, &e->orig))
		e->orig = p->t;
	e->in_ifindex = in_ifindex;
	e->len = p->l3_len;
	e->chain = FW_TRACE_NO_CHAIN;
}

#define FW_TRACE_SET(field, value)                                                                 \
	do {                                                                                       \
		struct fw_trace_event *e_ = fw_trace_now();                                        \
		if (e_)                                                                            \
			e_->field = (value);                                                       \
	} while (0)

static __always_inline void fw_trace_decided(__u8 by, __u32 position, __u8 verdict)
{
	struct fw_trace_event *e = fw_trace_now();

	if (!e)
		return;
	e->by = by;
	e->position = position;
	e->verdict = verdict;
}

/* The connection table decided (ct: ESTABLISHED, RELATED or INVALID): one
 * hook, as every packet of a connection passes it. */
static __always_inline void fw_trace_conntrack(int ct)
{
	struct fw_trace_event *e = fw_trace_now();

	if (!e)
		return;
	e->ct = ct;
	e->by = FW_TRACE_BY_CONNTRACK;
	e->position = 0;
	e->verdict = ct == FW_CT_INVALID ? FW_VERDICT_DROP : FW_VERDICT_ACCEPT;
}

/* Why fw_fastpath (fastpath.h) passed the packet to the stack: its checks
 * again, in its order, run only for a traced packet it did not take. Keep
 * in step with fw_fastpath. Returns FW_TRACE_FAST_* | fib_rc << 8.
 *
 * A global function (not static, never inlined): the verifier checks it
 * once, on its own, instead of once for every state of fw_ingress that
 * reaches a hook (inlined, it cost fw_xdp ~450,000 verified instructions,
 * past the limit). Hence scalars, not the generation's config or the
 * connection's entry (the caller checks those first), and a packet pointer
 * it must test for NULL. */
__noinline int fw_trace_fast_why(struct xdp_md *ctx, const struct fw_pkt *p, __u32 in_ifindex)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup *f;
	__u64 *flags;
	int rc;

	if (!p)
		return FW_TRACE_FAST_SHAPE;
	if (p->l3_off != sizeof(struct ethhdr) || p->frag != FW_FRAG_NONE || !p->l4_ok ||
	    p->l3_opts)
		return FW_TRACE_FAST_SHAPE;
	if (p->hop_limit <= 1)
		return FW_TRACE_FAST_TTL;
	if (fw_fastpath_ipsec(p))
		return FW_TRACE_FAST_IPSEC;
	if (fw_is_multi_dest(p))
		return FW_TRACE_FAST_MULTI;
	f = fw_fib_params();
	if (!f)
		return FW_TRACE_FAST_FIB;
	rc = fw_fib_lookup(ctx, p, in_ifindex, f);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return FW_TRACE_FAST_FIB | (rc & 0xff) << 8;
	flags = bpf_map_lookup_elem(&fw_fast_if, &f->ifindex);
	if (!flags || !(*flags & FW_FAST_IF_OUT))
		return FW_TRACE_FAST_OUT_DEV;
	flags = bpf_map_lookup_elem(&fw_fast_if, &in_ifindex);
	if (!flags || !fw_fastpath_for_us(data, data_end, *flags))
		return FW_TRACE_FAST_SHAPE;
	if ((*flags & FW_FAST_IF_VERIFY_CSUM) && !fw_xdp_l4_csum_ok(ctx, p))
		return FW_TRACE_FAST_CSUM;
	return FW_TRACE_FAST_NAT;
}

/* After a fw_fastpath call that returned rc. */
static __always_inline void fw_trace_fast(struct xdp_md *ctx, const struct fw_gen_cfg *cfg,
					  const struct fw_pkt *p, __u32 in_ifindex,
					  const struct fw_ct_entry *ct, int rc)
{
	struct fw_trace_event *e = fw_trace_now();
	int why;

	if (!e)
		return;
	if (rc == XDP_REDIRECT) {
		e->fast = FW_TRACE_FAST_TAKEN;
		return;
	}
	if (!(cfg->flags & FW_CFG_F_FASTPATH))
		why = FW_TRACE_FAST_OFF;
	else if (!ct && (cfg->nat_count || cfg->pf_count))
		why = FW_TRACE_FAST_FIRST_NAT;
	else if (!fw_xfrm_clear_ok(ct))
		why = FW_TRACE_FAST_IPSEC;
	else
		why = fw_trace_fast_why(ctx, p, in_ifindex);
	e = fw_trace_now(); /* a call later: the verifier forgot it */
	if (!e)
		return;
	e->fast = (__u8)why;
	e->fib_rc = (__u8)(why >> 8);
}

/* When XDP returns: the connection as it stands now (translations chosen
 * for a new one included), then the event. */
static __always_inline int fw_trace_end(int xdp_action)
{
	struct fw_trace_event *e = fw_trace_now();
	struct fw_ct_entry *ct = NULL;
	void *table;

	if (!e)
		return xdp_action;
	e->active = 0;
	e->xdp_action = xdp_action;
	table = fw_ct_table();
	if (table)
		ct = bpf_map_lookup_elem(table, &e->orig);
	if (ct) {
		e->ct_found = 1;
		e->ct_nat = (__u8)ct->nat;
		e->ct_dir = ct->dir;
		e->ct_other = ct->other;
	}
	bpf_ringbuf_output(&fw_trace_rb, e, sizeof(*e), 0);
	return xdp_action;
}

#endif
