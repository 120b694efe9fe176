/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Connections this host opens through kernel IPsec (docs/stacked.md). A
 * packet the host sends into a tunnel is encrypted before any device sees
 * it: TC egress sees only the ESP packet, so the inner connection would be
 * unknown and its decrypted replies would meet the input chain (the seed's
 * Scenario 1: a gateway pinging the other side's LAN). This program runs at
 * the entry of xfrm_output() (fentry), where the packet is still in the
 * clear, and records the connection as TC egress records what leaves in
 * the clear. It never drops or changes a packet; forwarded packets (no
 * socket) were judged on ingress already and are skipped.
 *
 * Loaded only where the kernel's BTF has xfrm_output (the loader checks),
 * attached best-effort: without it, a gateway's own tunnel connections need
 * input rules for their replies, as with any kernel that has no such hook.
 */
#ifndef FW_XFRM_OUT_H
#define FW_XFRM_OUT_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "ct_new.h"

/* The fields used, relocated against the running kernel's BTF (CO-RE). */
struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

struct fw_possible_net {
	struct net *net;
};

struct sock_common {
	struct fw_possible_net skc_net;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
} __attribute__((preserve_access_index));

struct sk_buff {
	unsigned char *head;
	__u16 network_header;
	struct sock *sk;
} __attribute__((preserve_access_index));

/* The header of a packet at xfrm_output: IPv4 or IPv6 (fixed header only),
 * then the first 8 bytes of the transport header. */
static __always_inline int fw_xfrm_out_pkt(struct sk_buff *skb, struct fw_pkt *p)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u8 buf[40] = {}, l4[8] = {};
	__u32 l4off;

	if (bpf_probe_read_kernel(buf, 20, head + nh))
		return -1;
	if ((buf[0] >> 4) == 4) {
		if ((buf[0] & 0xf) < 5 || (buf[6] & 0x3f) || buf[7]) /* fragments: later */
			return -1;
		p->t.family = 4;
		p->t.proto = buf[9];
		__builtin_memcpy(p->t.saddr, buf + 12, 4);
		__builtin_memcpy(p->t.daddr, buf + 16, 4);
		p->l3_len = (__u32)buf[2] << 8 | buf[3];
		l4off = (buf[0] & 0xf) * 4;
	} else if ((buf[0] >> 4) == 6) {
		if (bpf_probe_read_kernel(buf, 40, head + nh))
			return -1;
		p->t.family = 6;
		p->t.proto = buf[6]; /* extension headers: not followed */
		__builtin_memcpy(p->t.saddr, buf + 8, 16);
		__builtin_memcpy(p->t.daddr, buf + 24, 16);
		p->l3_len = ((__u32)buf[4] << 8 | buf[5]) + 40;
		l4off = 40;
	} else {
		return -1;
	}
	if (bpf_probe_read_kernel(l4, 8, head + nh + l4off))
		return -1;
	switch (p->t.proto) {
	case IPPROTO_TCP:
		if (bpf_probe_read_kernel(&p->tcp_flags, 1, head + nh + l4off + 13))
			return -1;
		/* fall through */
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		p->t.sport = (__u16)(l4[0] << 8 | l4[1]);
		p->t.dport = (__u16)(l4[2] << 8 | l4[3]);
		p->has_ports = 1;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		p->icmp_type = l4[0];
		p->icmp_code = l4[1];
		p->t.sport = (__u16)(l4[4] << 8 | l4[5]);
		p->t.dport = p->t.sport;
		break;
	default:
		break;
	}
	p->l4_ok = 1;
	return 0;
}

/* netns_inum: the inode of the firewall's network namespace. fentry sees
 * every namespace's packets; another namespace's connections are not ours
 * (recorded here, they would let that namespace's replies in). */
static __always_inline int fw_xfrm_out(struct sk_buff *skb, __u32 netns_inum)
{
	struct fw_tuple k __attribute__((aligned(8)));
	struct fw_pkt p = {};
	struct fw_ct_entry *hit;
	struct fw_active *act;
	struct sock *sk;
	__u32 zero = 0;

	act = bpf_map_lookup_elem(&fw_active, &zero);
	sk = BPF_CORE_READ(skb, sk);
	if (!act || !act->valid || !sk)
		return 0;
	if (!netns_inum || BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) != netns_inum)
		return 0;
	if (fw_xfrm_out_pkt(skb, &p))
		return 0;
	if (fw_ct_egress(&p, &k, &hit) == FW_CT_EG_NEW)
		fw_ct_egress_insert(&p, &k, 0);
	return 0;
}

#endif
