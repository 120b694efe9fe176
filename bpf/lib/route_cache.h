/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The fast path's route cache. A forwarded packet of a known connection
 * needs the route the stack would give it: bpf_fib_lookup, a third of the
 * firewall's own cost per packet. Each direction of a connection keeps
 * the last answer in its entry (fw_ct_entry.route) and reuses it while
 *
 *  - it is younger than two ticks of 2^26 ns (67-134 ms): a route or
 *    neighbour change reaches an established connection within 134 ms
 *    wherever nothing tells the datapath sooner;
 *  - the route epoch is the one it was found in: where the kernel allows
 *    tracing programs, the route hooks (bpf/route_hooks.bpf.c, fentry)
 *    bump fw_route_epoch on every change the kernel tells route and
 *    neighbour offloads about (FIB notifier events: IPv4 and IPv6 routes,
 *    nexthops, rules; netevent: a neighbour's address or state) and on
 *    every IPv4 route cache flush (addresses, links, MTU), and the next
 *    packet looks its route up again;
 *  - the packet came in by the same interface and is no longer than one
 *    the route was found to fit (bpf_fib_lookup checks the MTU).
 *
 * What is cached is only ever a SUCCESS answer; every other answer takes
 * the stack as before. The verdict never depends on it: the connection was
 * accepted already, this is where its packets go.
 *
 * Concurrency: another CPU may read an entry while this one rewrites it.
 * The writer zeroes fits_len first and writes it last; a reader uses its
 * copy only if fits_len is still non-zero after copying. A reader that
 * copied during a rewrite may still mix old and new fields if the rewrite
 * completed in between; old and new differ only when the route changed,
 * and then for that one packet.
 */
#ifndef FW_ROUTE_CACHE_H
#define FW_ROUTE_CACHE_H

#include "maps.h"
#include "parse.h"
#include "route.h"
#include "clock.h"

#define FW_ROUTE_TICK_SHIFT 26 /* 2^26 ns: 67 ms */

static __always_inline __u16 fw_route_tick(void)
{
	return (__u16)(fw_clock_coarse_ns() >> FW_ROUTE_TICK_SHIFT);
}

static __always_inline __u32 fw_route_epoch_now(void)
{
	__u32 zero = 0, *e = bpf_map_lookup_elem(&fw_route_epoch, &zero);

	return e ? *e : 0;
}

/* The route hooks: something routes depend on changed. */
static __always_inline void fw_route_changed(void)
{
	__u32 zero = 0, *e = bpf_map_lookup_elem(&fw_route_epoch, &zero);

	if (e)
		__sync_fetch_and_add(e, 1);
}

static __always_inline void fw_route_remember(struct fw_ct_route *r, __u32 epoch, __u16 tick,
					      __u32 in_ifindex, __u32 l3_len,
					      const struct bpf_fib_lookup *f)
{
	if (in_ifindex >= FW_FAST_IF_MAX || f->ifindex >= FW_FAST_IF_MAX || !l3_len ||
	    l3_len > 0xffff)
		return;
	*(volatile __u16 *)&r->fits_len = 0;
	r->epoch = epoch;
	r->tick = tick;
	r->in_ifindex = (__u16)in_ifindex;
	r->out_ifindex = (__u16)f->ifindex;
	__builtin_memcpy(r->dmac, f->dmac, ETH_ALEN);
	__builtin_memcpy(r->smac, f->smac, ETH_ALEN);
	*(volatile __u16 *)&r->fits_len = (__u16)l3_len;
}

/* The route of packet p (after any rewrite of its destination): this CPU's
 * FIB parameters with ifindex, dmac and smac filled, or NULL when the
 * kernel's answer is not SUCCESS (the stack's job). ct: the entry of the
 * packet's direction, NULL for the packet that opened it. */
static __always_inline struct bpf_fib_lookup *fw_route_of(void *ctx, const struct fw_pkt *p,
							  __u32 in_ifindex, struct fw_ct_entry *ct)
{
	struct bpf_fib_lookup *f = bpf_map_lookup_elem(&fw_fib_scratch, &(__u32){ 0 });
	__u32 epoch = fw_route_epoch_now();
	__u16 tick = fw_route_tick();
	struct fw_ct_route *r;

	if (!f)
		return NULL;
	if (ct) {
		r = &ct->route;
		if (r->epoch == epoch && r->in_ifindex == in_ifindex && p->l3_len <= r->fits_len &&
		    (__u16)(tick - r->tick) <= 1) {
			f->ifindex = r->out_ifindex;
			__builtin_memcpy(f->dmac, r->dmac, ETH_ALEN);
			__builtin_memcpy(f->smac, r->smac, ETH_ALEN);
			if (*(volatile __u16 *)&r->fits_len)
				return f;
		}
	}
	__builtin_memset(f, 0, sizeof(*f));
	if (fw_fib_lookup(ctx, p, in_ifindex, f) != BPF_FIB_LKUP_RET_SUCCESS)
		return NULL;
	if (ct)
		fw_route_remember(&ct->route, epoch, tick, in_ifindex, p->l3_len, f);
	return f;
}

#endif
