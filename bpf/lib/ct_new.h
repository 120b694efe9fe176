/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * New connections: the one way into the connection table (fw_ct_insert),
 * for connections accepted on ingress, opened by this host on egress, and
 * translated ones, whose NAT decision (lib/nat.h) it takes as an argument.
 * The table, its states and lookups: lib/ct.h.
 */
#ifndef FW_CT_NEW_H
#define FW_CT_NEW_H

#include "ct.h"

/* The state a connection starts in with its first packet `p`; -1 when
 * the packet opens nothing. */
static __always_inline int fw_ct_initial_state(const struct fw_pkt *p, __u8 *state, __u8 *flags)
{
	*state = FW_CT_S_NONE;
	if (p->t.proto == IPPROTO_TCP) {
		__u8 f = p->tcp_flags;

		if (f & FW_TCP_RST)
			return -1; /* nothing left to track */
		if (f & FW_TCP_SYN)
			*state = (f & FW_TCP_ACK) ? FW_CT_S_SYN_RECV : FW_CT_S_SYN_SENT;
		else if (f & FW_TCP_FIN) {
			*state = FW_CT_S_FIN_WAIT;
			*flags |= FW_CT_F_FIN_ORIG;
		} else
			*state = FW_CT_S_ESTABLISHED; /* loose pick-up, see above */
	} else if (fw_ct_is_icmp(p->t.proto) && fw_ct_icmp_echo(p->t.proto, p->icmp_type) != 1) {
		return -1; /* only echo requests open ICMP "connections" */
	}
	return 0;
}

/* A new connection as fw_ct_insert stores it, the NAT decision (lib/nat.h)
 * included. */
struct fw_ct_conn {
	const struct fw_tuple *orig; /* the master's key: the first packet as it arrived */
	const struct fw_tuple *key;  /* that packet now (after a port forward): replies invert it */
	__u32 ifindex;               /* where it came in (egress: where it leaves) */
	__be32 snat_to;              /* FW_CT_NAT_SNAT: the replies' destination */
	__u8 flags;                  /* FW_CT_F_LOCAL: opened by this host */
	__u8 nat;                    /* FW_CT_NAT_* */
};

/* Masquerade's search for a free reply tuple: its own port first, then
 * FW_NAT_TRIES - 1 random ones (lib/nat.h explains the choice). */
#define FW_NAT_TRIES 16

/* Builds the two entries of new connection c in sc: the master, keyed by
 * c->orig, holds the reply tuple (the inverse of c->key, to c->snat_to when
 * masqueraded); the alias, keyed by that tuple, points back at c->orig.
 * The only place entries are made. */
static __always_inline void fw_ct_entries(struct fw_ct_scratch *sc, const struct fw_pkt *p,
					  const struct fw_ct_conn *c, __u8 state, __u8 flags,
					  __u32 now)
{
	struct fw_ct_entry *m = &sc->m, *a = &sc->a;

	__builtin_memset(m, 0, sizeof(*m));
	__builtin_memset(a, 0, sizeof(*a));
	fw_ct_invert(c->key, &m->other);
	if (c->nat & FW_CT_NAT_SNAT)
		__builtin_memcpy(m->other.daddr, &c->snat_to, 4);
	m->dir = FW_CT_DIR_ORIG;
	m->state = state;
	m->flags = flags;
	m->ifindex = c->ifindex;
	m->expires = now + fw_ct_timeout(p->t.proto, state, flags);
	m->nat = c->nat;
	/* A translated connection learns its window from its second packet
	 * on, as it always has; an untranslated one from its first. */
	if (!c->nat && p->t.proto == IPPROTO_TCP)
		fw_ct_tcp_learn(&m->tcp[FW_CT_DIR_ORIG], p);
	fw_tuple_copy(&a->other, c->orig);
	a->dir = FW_CT_DIR_REPLY;
	a->ifindex = c->ifindex;
	a->nat = c->nat;
}

/* Is reply tuple `k` free for a new connection? Taken by a live entry;
 * free when absent (*stale = 0) or when what holds it is dead: an expired
 * master, an alias whose master is gone or moved on (*stale = 1). */
static __always_inline int fw_ct_tuple_free(void *ct, const struct fw_tuple *k, __u32 now,
					    int *stale)
{
	struct fw_ct_entry *e = bpf_map_lookup_elem(ct, k), *m;

	*stale = 0;
	if (!e)
		return 1;
	*stale = 1;
	m = e;
	if (e->dir != FW_CT_DIR_ORIG) {
		m = bpf_map_lookup_elem(ct, &e->other);
		if (!m || m->dir != FW_CT_DIR_ORIG || !fw_tuple_eq(&m->other, k))
			return 1;
	}
	return (__s32)(now - m->expires) > 0;
}

/* One try of masquerade's port allocation, as a bpf_loop callback: verified
 * once, where an open-coded loop of FW_NAT_TRIES made Linux 6.1's verifier
 * walk every iteration separately (over its million-instruction limit).
 * Try 0 is the packet's own port; later tries a random one. Returns 1 (stop)
 * once the reply tuple is claimed, or when there is no port to vary. */
struct fw_ct_claim {
	__u32 now;
	__u8 icmp, ports;
	int claimed;
};

static long fw_ct_claim_one(__u32 i, void *data)
{
	struct fw_ct_claim *c = data;
	struct fw_ct_scratch *sc = bpf_map_lookup_elem(&fw_ct_scratch, &(__u32){ 0 });
	void *ct = fw_ct_table();
	__u32 port;
	int stale;

	if (!sc || !ct)
		return 1;
	if (i > 0) {
		if (!c->ports && !c->icmp)
			return 1; /* no ports: one candidate only */
		port = FW_NAT_PORT_MIN + bpf_get_prandom_u32() % (65536 - FW_NAT_PORT_MIN);
		if (c->icmp)
			sc->m.other.sport = (__u16)port;
		else
			sc->m.other.dport = (__u16)port;
	}
	if (!fw_ct_tuple_free(ct, &sc->m.other, c->now, &stale))
		return 0;
	/* NOEXIST: of two CPUs picking the same tuple at once, one gets it
	 * and the other tries again. */
	if (bpf_map_update_elem(ct, &sc->m.other, &sc->a, stale ? BPF_ANY : BPF_NOEXIST) == 0) {
		c->claimed = 1;
		return 1;
	}
	return 0;
}

/* A translated connection: the alias first, since its key (the reply
 * tuple) is what must be free; masquerade claims one. */
static __always_inline int fw_ct_store_translated(const struct fw_pkt *p,
						  const struct fw_ct_conn *c,
						  struct fw_ct_scratch *sc, __u32 now)
{
	void *ct = fw_ct_table();

	if (!ct) {
		fw_stat_rare(FW_STAT_CT_FULL, p->l3_len);
		return -1;
	}
	if (c->nat & FW_CT_NAT_SNAT) {
		/* The reply's destination port (ICMP: the identifier, which
		 * sits in sport of the key) is what we allocate. SCTP: one
		 * candidate only (its CRC32c covers the ports). */
		struct fw_ct_claim cl = { .now = now, .icmp = fw_ct_is_icmp(c->key->proto),
					  .ports = p->has_ports && c->key->proto != IPPROTO_SCTP };

		bpf_loop(FW_NAT_TRIES, fw_ct_claim_one, &cl, 0);
		if (!cl.claimed) {
			fw_stat_rare(FW_STAT_NAT_FAIL, p->l3_len);
			return -1;
		}
	} else if (bpf_map_update_elem(ct, &sc->m.other, &sc->a, BPF_ANY) != 0) {
		fw_stat_rare(FW_STAT_CT_FULL, p->l3_len);
		return 0;
	}
	/* The master's key from the alias (a copy of c->orig in the
	 * scratch): Linux 6.1 takes map keys from the stack or map values
	 * only, not from a global function's pointer argument. */
	if (bpf_map_update_elem(ct, &sc->a.other, &sc->m, BPF_ANY) != 0) {
		bpf_map_delete_elem(ct, &sc->m.other);
		fw_stat_rare(FW_STAT_CT_FULL, p->l3_len);
		return (c->nat & FW_CT_NAT_SNAT) ? -1 : 0;
	}
	fw_stat(FW_STAT_CT_NEW, p->l3_len);
	return 1;
}

/* Remembers connection c, whose first packet is p. Returns 1 when stored;
 * 0 when not (the packet opens nothing, or the table has no room:
 * counted); -1 when it was to be masqueraded and no reply tuple was free,
 * or there was no room for it: counted, and the caller drops the packet
 * (sent on, it would leave with its inside source). */
static __always_inline int fw_ct_insert_inline(const struct fw_pkt *p, const struct fw_ct_conn *c)
{
	struct fw_ct_scratch *sc = bpf_map_lookup_elem(&fw_ct_scratch, &(__u32){ 0 });
	__u8 state, flags = c->flags;
	__u32 now = fw_ct_now_divided(); /* (its frame: lib/ct.h) */
	void *ct;

	if (!sc || fw_ct_initial_state(p, &state, &flags))
		return 0;
	fw_ct_entries(sc, p, c, state, flags, now);
	if (c->nat)
		return fw_ct_store_translated(p, c, sc, now);
	ct = fw_ct_table();
	if (!ct) {
		fw_stat_rare(FW_STAT_CT_FULL, p->l3_len);
		return 0;
	}
	/* Master first: if the alias cannot be stored, later packets of this
	 * direction still pass and its replies meet the chains. A tuple that
	 * is its own reply (one address talking to itself) has no alias. The
	 * master's key is the alias's copy of c->orig (see above). */
	if (bpf_map_update_elem(ct, &sc->a.other, &sc->m, BPF_ANY) != 0 ||
	    (!fw_tuple_eq(&sc->a.other, &sc->m.other) &&
	     bpf_map_update_elem(ct, &sc->m.other, &sc->a, BPF_ANY) != 0)) {
		fw_stat_rare(FW_STAT_CT_FULL, p->l3_len);
		return 0;
	}
	fw_stat(FW_STAT_CT_NEW, p->l3_len);
	return 1;
}

/* fw_ct_insert as a global function: the verifier checks it once per
 * program, not once for every state of every path that creates a
 * connection (it was a tenth of what fw_xdp's verification walked). The
 * connection travels as scalars: a global function's arguments cannot
 * carry fw_ct_conn's pointers. how: FW_CT_INSERT_HOW(flags, nat). */
#define FW_CT_INSERT_HOW(flags, nat) ((__u32)(flags) | (__u32)(nat) << 8)

__noinline int fw_ct_insert_global(const struct fw_pkt *p, const struct fw_tuple *orig,
				   const struct fw_tuple *key, __u64 ifindex_snat, __u32 how)
{
	struct fw_ct_conn c = {
		.orig = orig,
		.key = key,
		.ifindex = (__u32)ifindex_snat,
		.snat_to = (__be32)(ifindex_snat >> 32),
		.flags = (__u8)how,
		.nat = (__u8)(how >> 8),
	};

	if (!p || !orig || !key)
		return 0;
	return fw_ct_insert_inline(p, &c);
}

static __always_inline int fw_ct_insert(const struct fw_pkt *p, const struct fw_ct_conn *c)
{
	return fw_ct_insert_global(p, c->orig, c->key, (__u64)c->snat_to << 32 | c->ifindex,
				   FW_CT_INSERT_HOW(c->flags, c->nat));
}

/* Packet p as a possible new connection: its key, computed once per packet
 * into the per-CPU fw_key_scratch (zero when it has none). NULL only when
 * the scratch is missing. */
static __always_inline struct fw_ct_new *fw_ct_new_of(const struct fw_pkt *p)
{
	struct fw_ct_new *c = bpf_map_lookup_elem(&fw_key_scratch, &(__u32){ 0 });

	if (!c)
		return NULL;
	c->keyed = !fw_ct_key_of(p, &c->orig);
	if (!c->keyed)
		__builtin_memset(&c->orig, 0, sizeof(c->orig));
	return c;
}

/* k: the key fw_ct_egress computed. */
static __always_inline void fw_ct_egress_insert(struct fw_pkt *p, const struct fw_tuple *k,
						__u32 out_ifindex)
{
	fw_ct_insert(p, &(struct fw_ct_conn){
				.orig = k, .key = k, .ifindex = out_ifindex, .flags = FW_CT_F_LOCAL });
}

#endif
