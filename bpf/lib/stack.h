/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Stacked devices: bridges and their ports, bonds and their slaves, 802.1Q
 * VLAN devices and their parents (docs/stacked.md). A frame is judged once,
 * as arriving on the device that owns it at layer 3 (the one the stack
 * routes it from):
 *
 *  - a bridge: its generic XDP sees what the bridge passes up to the host;
 *    the loader attaches nothing to its ports (bridged frames are layer 2,
 *    which the chains do not see, as nftables' inet tables do not);
 *  - a bond: native XDP on a bond runs on its slaves and reports the
 *    slave's ifindex, so a slave's frames are taken as the bond's;
 *  - a VLAN device whose parent fwctl covers: the parent's XDP judges a
 *    frame tagged with its id as arriving on the VLAN device, and the loader
 *    attaches no XDP to the VLAN device itself (that would judge it twice).
 *
 * The maps are written by the loader (loader/stack.cpp).
 */
#ifndef FW_STACK_H
#define FW_STACK_H

#include "maps.h"

static __always_inline __u32 fw_stack_flags(__u32 ifindex)
{
	__u32 *f;

	if (ifindex >= FW_STACK_IF_MAX)
		return 0;
	f = bpf_map_lookup_elem(&fw_stack_if, &ifindex);
	return f ? *f : 0;
}

static __always_inline __u32 fw_stack_up(__u32 ifindex, __u16 vid, __u8 kind)
{
	struct fw_stack_key k = { .ifindex = ifindex, .vid = vid, .kind = kind };
	__u32 *up = bpf_map_lookup_elem(&fw_stack, &k);

	return up ? *up : 0;
}

/* The device that owns an Ethernet frame received on `ifindex`. One array
 * lookup for a device that is no part of a stack. A frame taken for a VLAN
 * device keeps its tag; the fast path leaves tagged frames to the stack
 * (it takes only l3_off == ETH_HLEN). */
static __always_inline __u32 fw_stack_owner(void *data, void *data_end, __u32 ifindex)
{
	__u32 flags = fw_stack_flags(ifindex), up;
	struct ethhdr *eth = data;
	struct vlan_hdr *vh = (void *)(eth + 1);

	if (!flags)
		return ifindex;
	if (flags & FW_STACK_IF_SLAVE) {
		up = fw_stack_up(ifindex, 0, FW_STACK_KIND_BOND);
		if (up) {
			ifindex = up;
			flags = fw_stack_flags(ifindex);
		}
	}
	if (!(flags & FW_STACK_IF_VLANS) || (void *)(vh + 1) > data_end ||
	    eth->h_proto != bpf_htons(ETH_P_8021Q))
		return ifindex;
	up = fw_stack_up(ifindex, bpf_ntohs(vh->h_vlan_TCI) & 0x0fff, FW_STACK_KIND_VLAN);
	if (!up)
		return ifindex; /* no device for this id: the stack drops it */
	return up;
}

/* A connection recorded on a device that has since become a bridge port or
 * bond slave was judged at a layer that no longer owns its packets: its
 * packets meet the chains again, as the upper device's. */
static __always_inline int fw_stack_ct_stale(const struct fw_ct_entry *e)
{
	return e && (fw_stack_flags(e->ifindex) & FW_STACK_IF_LOWER);
}

#endif
