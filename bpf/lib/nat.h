/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * NAT, IPv4 only: masquerade / SNAT (`nat`) and port forwards (DNAT,
 * `port-forward`). Where, as netfilter does it:
 *
 *  - destinations are rewritten on ingress (XDP), before routing and the
 *    chains: a port forward's first packet (fw_pf_match), later packets of
 *    port-forwarded connections, and replies to masqueraded ones;
 *  - sources are rewritten on egress (TC): masqueraded packets, and
 *    replies from port-forwarded inside hosts. Rewriting a source on
 *    ingress would make the stack drop the packet as a martian when the
 *    new source is one of its own addresses.
 *
 * The decision is taken once per connection, when its first packet is
 * accepted on ingress (fw_nat_ct_create), and stored in the connection
 * table by lib/ct.h's fw_ct_insert: the master's `other` is the translated
 * reply tuple, the alias is keyed by it, both carry FW_CT_NAT_* in `nat`. Every later packet finds
 * its rewrite with the one lookup conntrack does anyway.
 *
 * Masquerade keeps the source port (ICMP echo identifier) when the reply
 * tuple it makes is free, else tries FW_NAT_TRIES - 1 random ports from
 * 1024-65535 (lib/ct.h fw_ct_claim_one); claiming is an insert with
 * BPF_NOEXIST, so two CPUs never get the same reply tuple. Protocols without ports have one candidate:
 * one ESP flow per (inside host, peer). SCTP keeps its source port too, or
 * fails: its CRC32c covers the ports (not the addresses: no pseudo-header)
 * and is not recomputed here, so an SCTP port never changes (the checker
 * refuses port forwards that would change one). When nothing is free the
 * packet is dropped and FW_STAT_NAT_FAIL counted (sending it with its
 * inside source would leak it).
 *
 * Only connections whose first packet is forwarded (XDP forward chain)
 * are masqueraded, so the host's own traffic is never rewritten.
 * ICMP errors about translated connections: lib/nat_icmp.h; their later
 * fragments: lib/nat_frag.h; what must not leave untranslated:
 * lib/nat_guard.h. Not translated: hairpin (a port-forward whose inside
 * host is reached through a masquerading interface).
 */
#ifndef FW_NAT_H
#define FW_NAT_H

#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "ct_new.h"

#define FW_NAT_SRC 0
#define FW_NAT_DST 1

static __always_inline int fw_nat_is_echo(const struct fw_pkt *p)
{
	return p->t.proto == IPPROTO_ICMP &&
	       (p->icmp_type == FW_ICMP_ECHO || p->icmp_type == FW_ICMP_ECHO_REPLY);
}

/* Keeps the parsed packet in step with the bytes. */
static __always_inline void fw_nat_pkt_set(struct fw_pkt *p, int which, __be32 addr, __u16 port)
{
	if (which == FW_NAT_DST)
		__builtin_memcpy(p->t.daddr, &addr, 4);
	else
		__builtin_memcpy(p->t.saddr, &addr, 4);
	if (p->frag == FW_FRAG_LATER || !p->l4_ok)
		return;
	if (p->has_ports) {
		if (which == FW_NAT_DST)
			p->t.dport = port;
		else
			p->t.sport = port;
		p->cls_sport_slot = p->t.sport;
		p->cls_dport_slot = p->t.dport;
	} else if (fw_nat_is_echo(p)) {
		p->t.sport = port;
		p->t.dport = port;
	}
}

/* The transport half of fw_nat_rewrite: port (ICMP echo: identifier) and
 * checksum, for an address that went from `old` to `addr`. l4 is bounded by
 * the caller. `seed`: the TCP/UDP checksum field holds a local stack's
 * unfinished sum, not a checksum (lib/csum.h, fw_csum_holds_seed): only
 * the address, which its pseudo-header covers, changes it, and with the
 * opposite sign; the port is data, which the sum will cover when it is
 * finished. Returns 0, or -1 when the header is not there (or SCTP would
 * need a new port). */
static __always_inline int fw_nat_rewrite_l4(void *data, void *data_end, const struct fw_pkt *p,
					     int which, __u64 l4, __be32 old, __be32 addr, __be16 np,
					     int seed)
{
	__be16 op;

	switch (p->t.proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = data + l4;
		__u16 c;

		if ((void *)(th + 1) > data_end)
			return -1;
		op = which == FW_NAT_DST ? th->dest : th->source;
		if (which == FW_NAT_DST)
			th->dest = np;
		else
			th->source = np;
		if (seed) {
			th->check = fw_csum_seed_replace4(th->check, old, addr);
			break;
		}
		c = fw_csum_replace4(th->check, old, addr);
		th->check = fw_csum_replace2(c, op, np);
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = data + l4;
		__u16 c;

		if ((void *)(uh + 1) > data_end)
			return -1;
		op = which == FW_NAT_DST ? uh->dest : uh->source;
		if (which == FW_NAT_DST)
			uh->dest = np;
		else
			uh->source = np;
		if (uh->check == 0)
			break; /* no checksum: it stays that way */
		if (seed) {
			uh->check = fw_csum_seed_replace4(uh->check, old, addr); /* never 0 */
			break;
		}
		c = fw_csum_replace4(uh->check, old, addr);
		c = fw_csum_replace2(c, op, np);
		uh->check = c ? c : 0xffff; /* 0 would mean "none" */
		break;
	}
	case IPPROTO_ICMP: {
		struct fw_icmphdr *ih = data + l4;

		if (!fw_nat_is_echo(p))
			break; /* ICMP has no pseudo-header: address only */
		if ((void *)(ih + 1) > data_end)
			return -1;
		op = ih->id;
		ih->id = np;
		ih->checksum = fw_csum_replace2(ih->checksum, op, np);
		break;
	}
	case IPPROTO_SCTP: {
		struct udphdr *sh = data + l4; /* the ports sit where UDP's do */

		if ((void *)(sh + 1) > data_end)
			return -1;
		if ((which == FW_NAT_DST ? sh->dest : sh->source) != np)
			return -1; /* would need a new CRC32c: never sent stale */
		break;
	}
	default:
		break; /* ESP, AH, GRE...: the address is all there is */
	}
	return 0;
}

/* Rewrites the source (FW_NAT_SRC) or destination (FW_NAT_DST) address
 * and port (ICMP echo: identifier) of the IPv4 packet at data..data_end
 * described by p, fixing the IPv4, TCP, UDP and ICMP checksums by hand
 * (a UDP checksum of zero stays zero: the sender sent none). Context
 * agnostic: XDP (incl. a redirecting fast path) and TC alike, for packets
 * with complete checksums (a CHECKSUM_PARTIAL skb in TC wants
 * fw_nat_rewrite_skb). Returns 0, or -1 when the headers are not there. */
static __always_inline int fw_nat_rewrite(void *data, void *data_end, struct fw_pkt *p, int which,
					  __be32 addr, __u16 port, int seed)
{
	__u32 l3 = p->l3_off;
	__u64 l4 = p->l4_off; /* 64-bit: its bound check and its use share one register */
	struct iphdr *ip;
	__be32 old;

	if (p->t.family != 4 || l3 > FW_NAT_L3_OFF_MAX || l4 > FW_NAT_L4_OFF_MAX)
		return -1;
	ip = data + l3;
	if ((void *)(ip + 1) > data_end)
		return -1;
	old = which == FW_NAT_DST ? ip->daddr : ip->saddr;
	if (which == FW_NAT_DST)
		ip->daddr = addr;
	else
		ip->saddr = addr;
	ip->check = fw_csum_replace4(ip->check, old, addr);
	if (p->frag == FW_FRAG_LATER || !p->l4_ok)
		goto out;
	/* Linux 6.1's verifier loses the bound on l4 between the check above
	 * and here (a 32-bit test, then a zero-extension it does not follow,
	 * and a packet pointer plus any u32 gets no range): check it again,
	 * on 64 bits, where the compiler cannot reuse the first test. */
	barrier_var(l4);
	if (l4 > FW_NAT_L4_OFF_MAX)
		return -1;
	if (fw_nat_rewrite_l4(data, data_end, p, which, l4, old, addr, bpf_htons(port), seed))
		return -1;
out:
	fw_nat_pkt_set(p, which, addr, port);
	return 0;
}

/* The same with the TC helpers, which also handle CHECKSUM_PARTIAL skbs
 * (the stack's and veth's offloaded checksums hold only the
 * pseudo-header there). Packet pointers are invalid afterwards. */
static __always_inline int fw_nat_rewrite_skb(struct __sk_buff *skb, struct fw_pkt *p, int which,
					      __be32 addr, __u16 port)
{
	__u32 l3 = p->l3_off, l4 = p->l4_off, csum_off = 0, port_off = 0, flags = 0;
	__be16 np = bpf_htons(port), op = 0;
	__be32 old;

	if (p->t.family != 4)
		return -1;
	__builtin_memcpy(&old, which == FW_NAT_DST ? p->t.daddr : p->t.saddr, 4);
	if (p->frag != FW_FRAG_LATER && p->l4_ok) {
		switch (p->t.proto) {
		case IPPROTO_TCP:
			csum_off = l4 + 16;
			break;
		case IPPROTO_UDP:
			csum_off = l4 + 6;
			flags = BPF_F_MARK_MANGLED_0;
			break;
		case IPPROTO_ICMP:
			if (fw_nat_is_echo(p)) {
				csum_off = l4 + 2;
				port_off = l4 + 4;
				op = bpf_htons(p->t.sport);
			}
			break;
		}
		if (p->has_ports) {
			port_off = l4 + (which == FW_NAT_DST ? 2 : 0);
			op = bpf_htons(which == FW_NAT_DST ? p->t.dport : p->t.sport);
		}
	}
	if (csum_off && p->t.proto != IPPROTO_ICMP &&
	    bpf_l4_csum_replace(skb, csum_off, old, addr, BPF_F_PSEUDO_HDR | flags | 4))
		return -1;
	if (bpf_l3_csum_replace(skb, l3 + 10, old, addr, 4) ||
	    bpf_skb_store_bytes(skb, l3 + (which == FW_NAT_DST ? 16 : 12), &addr, 4, 0))
		return -1;
	if (port_off && op != np) {
		if (p->t.proto == IPPROTO_SCTP)
			return -1; /* see fw_nat_rewrite: no stale CRC32c */
		if (csum_off && bpf_l4_csum_replace(skb, csum_off, op, np, flags | 2))
			return -1;
		if (bpf_skb_store_bytes(skb, port_off, &np, 2, 0))
			return -1;
	}
	fw_nat_pkt_set(p, which, addr, port);
	return 0;
}

/* What a packet that found connection entry `e` becomes. Ingress
 * (FW_NAT_DST): the original direction of a port-forwarded connection
 * goes to the inside host, a reply to a masqueraded one to its inside
 * source: both are the other tuple's source. Egress (FW_NAT_SRC): the
 * masqueraded original direction takes the reply tuple's destination, a
 * port-forwarded reply the original destination: the other tuple's
 * destination. ICMP echo: the identifier is the key's sport on both
 * sides. Returns 0 when `e` asks for no rewrite on this side. */
static __always_inline int fw_nat_target(const struct fw_ct_entry *e, int which, __be32 *addr,
					 __u16 *port)
{
	__u32 nat = e->nat;
	int orig = e->dir == FW_CT_DIR_ORIG;

	if (which == FW_NAT_DST) {
		if (!(orig ? nat & FW_CT_NAT_DNAT : nat & FW_CT_NAT_SNAT))
			return 0;
		__builtin_memcpy(addr, e->other.saddr, 4);
		*port = e->other.sport;
		return 1;
	}
	if (!(orig ? nat & FW_CT_NAT_SNAT : nat & FW_CT_NAT_DNAT))
		return 0;
	__builtin_memcpy(addr, e->other.daddr, 4);
	*port = e->other.proto == IPPROTO_ICMP ? e->other.sport : e->other.dport;
	return 1;
}

/* The fast path's entry point: rewrites the source of a packet of a
 * connection whose table entry (master or alias, as the packet's key
 * found it) is `e`, if that connection translates sources in this
 * direction (masquerade, or replies of a port forward). XDP-safe (plain
 * checksum arithmetic). Returns 0 (rewritten, or nothing to do), -1 on a
 * truncated header. */
static __always_inline int fw_nat_snat_apply(void *data, void *data_end, struct fw_pkt *p,
					     const struct fw_ct_entry *e)
{
	__be32 addr;
	__u16 port;

	if (!e->nat || !fw_nat_target(e, FW_NAT_SRC, &addr, &port))
		return 0;
	return fw_nat_rewrite(data, data_end, p, FW_NAT_SRC, addr, port, 0); /* verified sums only */
}

/* XDP: what the TCP/UDP checksum field of a packet whose destination is
 * about to change holds. A packet that came over a virtual link from a
 * stack on this machine (a veth's peer, a TUN device, generic XDP after
 * GRO: FW_FAST_IF_VERIFY_CSUM) may carry the seed of a checksum that
 * "hardware" finishes later (CHECKSUM_PARTIAL, which the skb knows and XDP
 * cannot see); updated as a checksum, the seed turns wrong, and the sum
 * finished from it on the way out (a NIC, or the stack for a device
 * without offload) is wrong: the receiver drops every such packet.
 *   0: a checksum (a NIC's native XDP sees wire packets only; or the
 *      field is not the seed): RFC 1624;
 *   1: the seed: updated as a seed. Also when the field verifies as a
 *      checksum too, which a seed does once in 65,536 packets (its
 *      finished sum equals it) and a checksum equal to its seed by chance
 *      as often: nothing in the packet tells them apart. From a local
 *      stack seeds are the rule, so the guess is the seed; counted
 *      (FW_STAT_NAT_CSUM_UNSURE), since a wrong one loses the packet at
 *      the receiver. Dropping it instead would lose both kinds. */
static __always_inline int fw_nat_dnat_seed(struct xdp_md *ctx, const struct fw_pkt *p,
					    __u32 in_ifindex)
{
	__u64 *flags = bpf_map_lookup_elem(&fw_fast_if, &in_ifindex);

	/* 0: not known (yet): an interface `fwctl watch` attached later,
	 * a bond's or VLAN's owner, an apply's switch in progress. */
	if (flags && *flags && !(*flags & FW_FAST_IF_VERIFY_CSUM))
		return 0;
	if (!fw_csum_holds_seed((void *)(long)ctx->data, (void *)(long)ctx->data_end, p))
		return 0;
	if (fw_xdp_l4_csum_ok(ctx, p))
		fw_stat_rare(FW_STAT_NAT_CSUM_UNSURE, p->l3_len);
	return 1;
}

/* Ingress side of an established packet: destination rewrite (XDP).
 * Returns 0, or -1 when the headers are not there (drop). */
static __always_inline int fw_nat_dnat_apply(struct xdp_md *ctx, struct fw_pkt *p,
					     const struct fw_ct_entry *e, __u32 in_ifindex)
{
	__be32 addr;
	__u16 port;
	int seed;

	if (!e->nat || !fw_nat_target(e, FW_NAT_DST, &addr, &port))
		return 0;
	seed = fw_nat_dnat_seed(ctx, p, in_ifindex);
	return fw_nat_rewrite((void *)(long)ctx->data, (void *)(long)ctx->data_end, p, FW_NAT_DST,
			      addr, port, seed);
}

/* Egress side in TC, CHECKSUM_PARTIAL-safe. */
static __always_inline int fw_nat_snat_apply_skb(struct __sk_buff *skb, struct fw_pkt *p,
						 const struct fw_ct_entry *e)
{
	__be32 addr;
	__u16 port;

	if (!e->nat || !fw_nat_target(e, FW_NAT_SRC, &addr, &port))
		return 0;
	return fw_nat_rewrite_skb(skb, p, FW_NAT_SRC, addr, port);
}

static __always_inline int fw_nat_prefix_has(const struct fw_prefix4 *pf, __be32 a)
{
	return (a & pf->mask) == pf->addr;
}

/* Rule scans run in bpf_loop callbacks: the verifier checks the body
 * once instead of once per iteration (a bounded loop over 32 rules with 16
 * exempt prefixes each blew its instruction budget). Scalars only in the
 * context; the caller looks the winner up. */
struct fw_nat_scan {
	__u32 gen;
	__u32 n;
	__u32 ifindex;
	__be32 s, d;
	__u32 found; /* index in the generation, or FW_RULE_NONE */
	__u8 proto;
	__u8 has_ports;
	__u16 dport;
};

static long fw_pf_scan_one(__u64 i, void *arg)
{
	struct fw_nat_scan *c = arg;
	__u32 idx = c->gen * FW_PF_MAX + (__u32)i;
	struct fw_pf_rule *r;

	if (i >= c->n || i >= FW_PF_MAX)
		return 1;
	r = bpf_map_lookup_elem(&fw_pf, &idx);
	if (!r)
		return 1;
	if (r->in_ifindex != c->ifindex || r->proto != c->proto)
		return 0;
	if (r->daddr && r->daddr != c->d)
		return 0;
	if (r->dport_hi && (!c->has_ports || c->dport < r->dport_lo || c->dport > r->dport_hi))
		return 0;
	c->found = (__u32)i;
	return 1;
}

/* The first port forward of the generation that takes this packet (its
 * destination is one of this host's addresses: the caller checked), or
 * NULL. */
static __always_inline struct fw_pf_rule *fw_pf_match(const struct fw_gen_cfg *cfg, __u8 gen,
						      const struct fw_pkt *p, __u32 in_ifindex)
{
	struct fw_nat_scan c = {};
	__be32 d;
	__u32 idx;

	if (p->t.family != 4 || !p->l4_ok || p->frag == FW_FRAG_LATER)
		return NULL;
	__builtin_memcpy(&d, p->t.daddr, 4);
	if (d == 0xffffffff || (d & bpf_htonl(0xf0000000)) == bpf_htonl(0xe0000000))
		return NULL;
	c.gen = gen & 1;
	c.n = cfg->pf_count;
	c.ifindex = in_ifindex;
	c.d = d;
	c.found = FW_RULE_NONE;
	c.proto = p->t.proto;
	c.has_ports = p->has_ports;
	c.dport = p->t.dport;
	bpf_loop(FW_PF_MAX, fw_pf_scan_one, &c, 0);
	if (c.found >= FW_PF_MAX)
		return NULL;
	idx = c.gen * FW_PF_MAX + c.found;
	return bpf_map_lookup_elem(&fw_pf, &idx);
}

/* Port-forwards the first packet of a connection: destination rewritten
 * in place. Returns 0, or -1 when the packet could not be rewritten. */
static __always_inline int fw_pf_apply(void *data, void *data_end, struct fw_pkt *p,
				       const struct fw_pf_rule *r, int seed)
{
	__u16 port = p->t.dport;

	if (r->to_dport && p->has_ports)
		port = r->to_dport + (p->t.dport - r->dport_lo);
	fw_rule_count(r->counter_slot, p->l3_len);
	return fw_nat_rewrite(data, data_end, p, FW_NAT_DST, r->to_daddr, port, seed);
}

/* Takes a port forward's rewrite back (a `reject` answers what the client
 * sent, from the address and port it used): ok is the packet's key as it
 * arrived. Returns 0 or -1. */
static __always_inline int fw_pf_undo(void *data, void *data_end, struct fw_pkt *p,
				      const struct fw_tuple *ok)
{
	__be32 a;

	__builtin_memcpy(&a, ok->daddr, 4);
	/* The answer is built with sums of its own: the field may stay stale. */
	return fw_nat_rewrite(data, data_end, p, FW_NAT_DST, a,
			      fw_ct_is_icmp(ok->proto) ? ok->sport : ok->dport, 0);
}

static long fw_nat_scan_one(__u64 i, void *arg)
{
	struct fw_nat_scan *c = arg;
	__u32 idx = c->gen * FW_NAT_MAX + (__u32)i;
	struct fw_nat_rule *r;

	if (i >= c->n || i >= FW_NAT_MAX)
		return 1;
	r = bpf_map_lookup_elem(&fw_nat, &idx);
	if (!r)
		return 1;
	/* to == 0: the interface has no IPv4 address now. The rule still
	 * matches, so that its packets are dropped (fw_nat_ct_create), never
	 * sent with their inside source. */
	if (r->out_ifindex != c->ifindex)
		return 0;
	if (r->saddr.mask ? !fw_nat_prefix_has(&r->saddr, c->s) : c->s == r->to)
		return 0;
	for (__u32 j = 0; j < FW_NAT_MAX_EXEMPT; j++) {
		if (j >= r->n_exempt)
			break;
		if (fw_nat_prefix_has(&r->exempt[j], c->d))
			return 0;
	}
	c->found = (__u32)i;
	return 1;
}

/* The first masquerade rule for a connection (post-DNAT tuple t) leaving
 * by out_ifindex, or NULL. */
static __always_inline struct fw_nat_rule *fw_nat_match(const struct fw_gen_cfg *cfg, __u8 gen,
							const struct fw_tuple *t, __u32 out_ifindex)
{
	struct fw_nat_scan c = {};
	__u32 idx;

	c.gen = gen & 1;
	c.n = cfg->nat_count;
	c.ifindex = out_ifindex;
	__builtin_memcpy(&c.s, t->saddr, 4);
	__builtin_memcpy(&c.d, t->daddr, 4);
	c.found = FW_RULE_NONE;
	bpf_loop(FW_NAT_MAX, fw_nat_scan_one, &c, 0);
	if (c.found >= FW_NAT_MAX)
		return NULL;
	idx = c.gen * FW_NAT_MAX + c.found;
	return bpf_map_lookup_elem(&fw_nat, &idx);
}

/* A rule or policy accepted the first packet of a connection on ingress:
 * decide its translation and remember it (lib/ct.h fw_ct_insert). c is the
 * packet's context (fw_nat_create fills it), p the packet now (after a
 * port forward, when c->dnat). Returns 1 when the connection is not
 * translated after all (the caller inserts it), 0 when it is remembered
 * (or not tracked), -1 when the packet must be dropped: masquerade on an
 * interface without an address, or without a free reply tuple.
 *
 * Not inlined: the rule scan and the port search would not fit on the
 * ingress program's stack next to everything else. */
static __noinline int fw_nat_ct_create(const struct fw_gen_cfg *cfg, const struct fw_pkt *p,
				       const struct fw_ct_new *c)
{
	struct fw_nat_rule *nr = NULL;
	int rc;

	if (!c->keyed || fw_ct_is_icmp_error(p))
		return 0;
	if (c->chain == FW_CHAIN_FORWARD && p->t.family == 4 && cfg->nat_count)
		nr = fw_nat_match(cfg, c->gen, &p->t, c->out_ifindex);
	if (!c->dnat && !nr)
		return 1; /* untranslated: the caller inserts it (stack space) */
	if (nr && !nr->to) {
		/* Masquerade while the interface has no address (DHCP or PPP
		 * not up yet, or the address just went away): drop, counted. */
		fw_stat_rare(FW_STAT_NAT_NO_ADDR, p->l3_len);
		return -1;
	}
	rc = fw_ct_insert(p, &(struct fw_ct_conn){
				     .orig = &c->orig,
				     .key = c->dnat ? &c->key : &c->orig,
				     .ifindex = c->in_ifindex,
				     .snat_to = nr ? nr->to : 0,
				     .nat = (c->dnat ? FW_CT_NAT_DNAT : 0) | (nr ? FW_CT_NAT_SNAT : 0),
			     });
	if (rc > 0 && nr)
		fw_rule_count(nr->counter_slot, p->l3_len);
	return rc < 0 ? -1 : 0;
}

/* Remembers the connection whose first packet p a rule or policy accepted,
 * translated (masquerade when a `nat` rule takes it; dnat: a port forward
 * rewrote it). c: its context (fw_ct_new_of). Returns 0, or -1 when the
 * packet must be dropped. */
static __always_inline int fw_nat_create(const struct fw_gen_cfg *cfg, __u8 gen,
					 const struct fw_pkt *p, struct fw_ct_new *c, int dnat,
					 __u8 chain, __u32 in_ifindex, __u32 out_ifindex)
{
	int rc = 1;

	if (dnat || (chain == FW_CHAIN_FORWARD && cfg->nat_count && p->t.family == 4)) {
		c->gen = gen & 1;
		c->chain = chain;
		c->dnat = !!dnat;
		c->in_ifindex = in_ifindex;
		c->out_ifindex = out_ifindex;
		if (dnat) /* the packet's second shape: its key after the rewrite */
			fw_ct_key_of(p, &c->key);
		rc = fw_nat_ct_create(cfg, p, c);
	}
	if (rc == 1) {
		if (c->keyed && !fw_ct_is_icmp_error(p))
			fw_ct_insert(p, &(struct fw_ct_conn){
						.orig = &c->orig, .key = &c->orig, .ifindex = in_ifindex });
		rc = 0;
	}
	return rc;
}

#endif
