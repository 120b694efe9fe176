/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The fast path and kernel IPsec policies (docs/stacked.md). A packet
 * redirected from XDP skips the stack, and with it any XFRM policy that
 * would have encrypted it. XDP cannot ask the kernel's policy database, so
 * the fast path takes a direction of a connection only once the stack has
 * sent a packet of it *in the clear* since the last policy change:
 *
 *  - TC egress stamps the direction's connection entry (its `pad` byte)
 *    with the current policy epoch when one of its packets leaves in the
 *    clear. A packet the kernel encrypts leaves as ESP: its inner tuple is
 *    never seen on egress, never stamped, and stays on the stack.
 *  - fentry on xfrm_policy_insert (every policy added or updated, by
 *    netlink or PF_KEY) bumps the epoch: every stamp goes stale, and each
 *    direction's next packet takes the stack again, which encrypts it if a
 *    new policy covers it.
 *
 * `apply` starts the epoch at 1 when policies exist; while it is 0 (no
 * policy seen) the guard is off and nothing changes. With it on, the first
 * packet of each direction of a connection (and the first after a policy
 * change) takes the stack.
 */
#ifndef FW_XFRM_FAST_H
#define FW_XFRM_FAST_H

#include "ct.h"


static __always_inline __u32 fw_xfrm_epoch_now(void)
{
	__u32 zero = 0, *e = bpf_map_lookup_elem(&fw_xfrm_epoch, &zero);

	return e ? *e : 0;
}

/* The stamp of an epoch: never 0, so a fresh entry is unstamped. */
static __always_inline __u8 fw_xfrm_stamp_of(__u32 epoch)
{
	return 0x80 | (epoch & 0x7f);
}

/* Fast path: may this packet (its direction's entry `ct`) skip the stack?
 * Epoch 0: no XFRM policy was ever seen (none at apply, none added since):
 * nothing to guard. */
static __always_inline int fw_xfrm_clear_ok(const struct fw_ct_entry *ct)
{
	__u32 epoch = fw_xfrm_epoch_now();

	return !epoch || (ct && ct->pad == fw_xfrm_stamp_of(epoch));
}

static __always_inline void fw_xfrm_stamp_entry(struct fw_ct_entry *e)
{
	__u8 s = fw_xfrm_stamp_of(fw_xfrm_epoch_now());

	if (e->pad != s)
		e->pad = s;
}

/* TC egress: the packet of key `k` leaves in the clear; `hit` is the entry
 * its key found (NULL when ingress rewrote its destination: a reply of a
 * masqueraded connection, a port-forwarded request). Stamps the entry of
 * the packet's direction as XDP will look it up. */
static __always_inline void fw_xfrm_egress_clear(const struct fw_tuple *k, struct fw_ct_entry *hit)
{
	struct fw_tuple r __attribute__((aligned(8)));
	struct fw_ct_entry *e;
	void *ct;

	if (hit) {
		fw_xfrm_stamp_entry(hit);
		return;
	}
	ct = fw_ct_table();
	if (!ct)
		return;
	/* The inverse of the translated packet is the other direction's key;
	 * its entry's `other` is this direction's key as XDP sees it. */
	fw_ct_invert_key(k, &r);
	e = bpf_map_lookup_elem(ct, &r);
	if (!e || !e->nat)
		return;
	e = bpf_map_lookup_elem(ct, &e->other);
	if (e)
		fw_xfrm_stamp_entry(e);
}

static __always_inline void fw_xfrm_policy_changed(void)
{
	__u32 zero = 0, *e = bpf_map_lookup_elem(&fw_xfrm_epoch, &zero);

	if (e)
		__sync_fetch_and_add(e, 1);
}

#endif
