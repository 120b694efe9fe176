/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Hooks into the kernel's IPsec (XFRM) code, in an object of their own so
 * that a kernel refusing tracing programs (no BTF, lockdown, no fentry)
 * refuses only these, never the firewall (loader/stack_attach.cpp). The
 * maps are the firewall's, shared through their pins.
 *
 *  - fentry/xfrm_output: connections this host opens into a tunnel
 *    (lib/xfrm_out.h);
 *  - fentry/xfrm_policy_insert: a policy added or updated makes every fast
 *    path stamp stale (lib/xfrm_fast.h).
 */
#define FW_TRACING_PROG 1 /* lib/clock.h */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/ct.h"
#include "lib/xfrm_fast.h"
#include "lib/xfrm_out.h"

/* The inode of the network namespace whose firewall this is (the loader
 * sets it before load: /proc/self/ns/net). */
const volatile __u32 fw_netns_inum = 0;

SEC("fentry/xfrm_output")
int BPF_PROG(fw_xfrm_output, struct sock *sk, struct sk_buff *skb)
{
	return fw_xfrm_out(skb, fw_netns_inum);
}

SEC("fentry/xfrm_policy_insert")
int BPF_PROG(fw_xfrm_policy_insert, int dir, void *policy, int excl)
{
	fw_xfrm_policy_changed();
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
