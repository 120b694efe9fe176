/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * `fwctl trace`: the decision path of packets that match the tracer's
 * filters, one event each through fw_trace_rb.
 *
 * Off (fw_trace_cfg.on == 0, always unless a tracer runs) a packet pays one
 * array lookup and one compare in fw_trace_start, which then returns NULL;
 * every other hook is `if (tr)` on that NULL. On, a matching packet's event
 * is built in a per-CPU scratch entry (no stack: fw_ingress has little
 * left) and sent when XDP returns. Tracing only observes: no hook changes
 * what happens to the packet.
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

/* The one read of the switch per packet. Returns the event to fill, or
 * NULL (tracing off, lease run out, or the packet does not match). */
static __always_inline struct fw_trace_event *fw_trace_start(const struct fw_pkt *p, __u32 in_ifindex)
{
	__u32 zero = 0;
	struct fw_trace_cfg *c = bpf_map_lookup_elem(&fw_trace_cfg, &zero);
	struct fw_trace_event *e;

	if (!c || !c->on)
		return NULL;
	if (bpf_ktime_get_ns() > c->lease_ns || !fw_trace_match(c, p, in_ifindex))
		return NULL;
	e = bpf_map_lookup_elem(&fw_trace_scratch, &zero);
	if (!e)
		return NULL;
	__builtin_memset(e, 0, sizeof(*e));
	e->ktime_ns = bpf_ktime_get_ns();
	if (fw_ct_key_of(p, &e->orig))
		e->orig = p->t;
	e->in_ifindex = in_ifindex;
	e->len = p->l3_len;
	e->chain = FW_TRACE_NO_CHAIN;
	return e;
}

#define FW_TRACE_SET(tr, field, value)                                                             \
	do {                                                                                       \
		if (tr)                                                                            \
			(tr)->field = (value);                                                     \
	} while (0)

static __always_inline void fw_trace_decided(struct fw_trace_event *tr, __u8 by, __u32 position,
					     __u8 verdict)
{
	if (!tr)
		return;
	tr->by = by;
	tr->position = position;
	tr->verdict = verdict;
}

/* Why fw_fastpath (fastpath.h) passed the packet to the stack: its checks
 * again, in its order, run only for a traced packet it did not take. Keep
 * in step with fw_fastpath. */
static __always_inline __u8 fw_trace_fast_why(struct xdp_md *ctx, const struct fw_gen_cfg *cfg,
					      const struct fw_pkt *p, __u32 in_ifindex,
					      const struct fw_ct_entry *ct, __u8 *fib_rc)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup f = {};
	__u64 *flags;
	int rc;

	if (!(cfg->flags & FW_CFG_F_FASTPATH))
		return FW_TRACE_FAST_OFF;
	if (!ct && (cfg->nat_count || cfg->pf_count))
		return FW_TRACE_FAST_FIRST_NAT;
	if (p->l3_off != sizeof(struct ethhdr) || p->frag != FW_FRAG_NONE || !p->l4_ok)
		return FW_TRACE_FAST_SHAPE;
	if (p->hop_limit <= 1)
		return FW_TRACE_FAST_TTL;
	if (fw_fastpath_ipsec(p))
		return FW_TRACE_FAST_IPSEC;
	if (fw_is_multi_dest(p))
		return FW_TRACE_FAST_MULTI;
	rc = fw_fib_lookup(ctx, p, in_ifindex, &f);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		*fib_rc = (__u8)rc;
		return FW_TRACE_FAST_FIB;
	}
	flags = bpf_map_lookup_elem(&fw_fast_if, &f.ifindex);
	if (!flags || !(*flags & FW_FAST_IF_OUT))
		return FW_TRACE_FAST_OUT_DEV;
	flags = bpf_map_lookup_elem(&fw_fast_if, &in_ifindex);
	if (!flags || ((*flags & FW_FAST_IF_VERIFY_CSUM) && !fw_l4_csum_ok(data, data_end, p)))
		return FW_TRACE_FAST_CSUM;
	return FW_TRACE_FAST_NAT;
}

/* After a fw_fastpath call that returned rc. */
static __always_inline void fw_trace_fast(struct fw_trace_event *tr, struct xdp_md *ctx,
					  const struct fw_gen_cfg *cfg, const struct fw_pkt *p,
					  __u32 in_ifindex, const struct fw_ct_entry *ct, int rc)
{
	if (!tr)
		return;
	if (rc == XDP_REDIRECT)
		tr->fast = FW_TRACE_FAST_TAKEN;
	else
		tr->fast = fw_trace_fast_why(ctx, cfg, p, in_ifindex, ct, &tr->fib_rc);
}

/* When XDP returns: the connection as it stands now (translations chosen
 * for a new one included), then the event. */
static __always_inline int fw_trace_end(struct fw_trace_event *tr, int xdp_action)
{
	struct fw_ct_entry *ct;

	if (!tr)
		return xdp_action;
	tr->xdp_action = xdp_action;
	ct = bpf_map_lookup_elem(&fw_ct, &tr->orig);
	if (ct) {
		tr->ct_found = 1;
		tr->ct_nat = (__u8)ct->nat;
		tr->ct_dir = ct->dir;
		tr->ct_other = ct->other;
	}
	bpf_ringbuf_output(&fw_trace_rb, tr, sizeof(*tr), 0);
	return xdp_action;
}

#endif
