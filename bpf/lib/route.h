/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Chain selection: input (for this host) or forward (routed through). */
#ifndef FW_ROUTE_H
#define FW_ROUTE_H

#include "maps.h"
#include "parse.h"

/* Asks the kernel's FIB what it will do with the packet, as the stack
 * would: a local, broadcast or multicast destination is `input`, anything
 * routed is `forward` with the egress interface. A host with forwarding
 * disabled gets FWD_DISABLED for every packet: it can only deliver
 * locally (the stack drops the rest), so that is `input` too. */
/* Broadcast and multicast destinations: always `input`. */
static __always_inline int fw_is_multi_dest(const struct fw_pkt *p)
{
	if (p->t.family == 4) {
		__u32 d;
		__builtin_memcpy(&d, p->t.daddr, 4);
		return d == 0xffffffff || (d & bpf_htonl(0xf0000000)) == bpf_htonl(0xe0000000);
	}
	return p->t.daddr[0] == 0xff;
}

/* The packet's route, as the stack would look it up. */
static __always_inline int fw_fib_lookup(void *ctx, const struct fw_pkt *p, __u32 in_ifindex,
					 struct bpf_fib_lookup *f)
{
	if (p->t.family == 4) {
		f->family = AF_INET;
		__builtin_memcpy(&f->ipv4_src, p->t.saddr, 4);
		__builtin_memcpy(&f->ipv4_dst, p->t.daddr, 4);
	} else {
		f->family = AF_INET6;
		__builtin_memcpy(f->ipv6_src, p->t.saddr, 16);
		__builtin_memcpy(f->ipv6_dst, p->t.daddr, 16);
	}
	f->l4_protocol = p->t.proto;
	if (p->has_ports) {
		f->sport = bpf_htons(p->t.sport);
		f->dport = bpf_htons(p->t.dport);
	}
	f->tot_len = p->l3_len;
	f->ifindex = in_ifindex;
	return bpf_fib_lookup(ctx, f, sizeof(*f), 0);
}

/* This CPU's FIB lookup parameters, zeroed (maps.h: fw_fib_scratch). */
static __always_inline struct bpf_fib_lookup *fw_fib_params(void)
{
	struct bpf_fib_lookup *f = bpf_map_lookup_elem(&fw_fib_scratch, &(__u32){ 0 });

	if (f)
		__builtin_memset(f, 0, sizeof(*f));
	return f;
}

static __always_inline __u8 fw_select_chain(void *ctx, const struct fw_pkt *p, __u32 in_ifindex,
					    __u32 *out_ifindex)
{
	struct bpf_fib_lookup *f;
	int rc;

	*out_ifindex = 0;
	if (fw_is_multi_dest(p))
		return FW_CHAIN_INPUT;
	f = fw_fib_params();
	if (!f)
		return FW_CHAIN_FORWARD; /* cannot happen: the stricter guess */
	rc = fw_fib_lookup(ctx, p, in_ifindex, f);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
	case BPF_FIB_LKUP_RET_NO_NEIGH:
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		*out_ifindex = f->ifindex;
		return FW_CHAIN_FORWARD;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return FW_CHAIN_INPUT;
	default:
		/* blackhole, unreachable, prohibit...: routed, to nowhere */
		return FW_CHAIN_FORWARD;
	}
}

#endif
