/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Connection tracking: the table (fw_ct, two entries per connection; the
 * layout is explained in fw/abi.h), its state machine and its timeouts.
 *
 *  - Ingress (XDP): a packet of a live connection, either direction, is
 *    ESTABLISHED and accepted before the chains; an ICMP/ICMPv6 error that
 *    quotes one is RELATED; everything else is NEW and meets the chains.
 *    When a rule or a policy accepts a NEW packet, fw_ct_insert
 *    (lib/ct_new.h) remembers its connection, translated as lib/nat.h
 *    decided.
 *  - Egress (TC): nothing is filtered; a packet of a known connection
 *    refreshes it, any other creates one (connections this host opens,
 *    and packets that entered by an interface fwctl does not cover).
 *
 * Mid-stream TCP (no entry, no SYN) is NEW, not INVALID: it meets the
 * chains like nftables without `ct state invalid drop`, and when a rule
 * accepts it the connection is picked up as established (Linux's default
 * nf_conntrack_tcp_loose=1), so flows survive `fwctl conntrack flush`, a
 * `down`/`apply`, or an entry pushed out of a full table. INVALID (dropped,
 * counted) is kept for TCP flag sets no stack sends: SYN with FIN or RST,
 * or none of SYN/ACK/RST/FIN (NULL scans). Linux's tcp_valid_flags also
 * refuses FIN without ACK (FIN and XMAS scans); here those meet the chains,
 * so a "reject" rule can still answer them with a RST.
 *
 * Sequence window: a RST or FIN only moves a connection's state when its
 * sequence number fits what the connection has shown (Linux's
 * nf_conntrack_proto_tcp tcp_in_window is the reference, simplified):
 * for a segment from direction d, with W = the other side's largest
 * advertised window + 64 KiB,
 *     seq       <= seq_next[d] + W   (not beyond what d can have sent)
 *     seq + len >= ack_max[!d] - W   (not before what the peer received)
 * An out-of-window RST or FIN is INVALID (dropped, counted), as Linux marks
 * it; other segments pass either way but only in-window ones move the
 * window (a blind data segment cannot drag it towards a later RST). A
 * direction not seen yet (a connection picked up mid-stream, the first
 * packets of a handshake) is believed, as Linux is liberal with picked-up
 * connections. Window scaling is not parsed: windows count unscaled, which
 * W's 64 KiB of slack absorbs for a RST, whose sequence number is the
 * sender's next one (or the peer's last acknowledgement).
 *
 * Time is CLOCK_MONOTONIC in whole seconds (fw_clock_coarse_ns() / 1e9,
 * clock.h; `fwctl conntrack` reads the same clock). An expired entry is treated as
 * absent; the LRU map reclaims it when space is needed, flush removes it.
 */
#ifndef FW_CT_H
#define FW_CT_H

#include "maps.h"
#include "parse.h"
#include "clock.h"
#include "quote.h"

enum fw_ct_result {
	FW_CT_NEW = 0,
	FW_CT_ESTABLISHED,
	FW_CT_RELATED,
	FW_CT_INVALID,
};

/* Timeouts in seconds. Linux's defaults (nf_conntrack_*_timeout*) unless
 * said otherwise. */
#define FW_CT_TO_TCP_SYN_SENT 120
#define FW_CT_TO_TCP_SYN_RECV 60
#define FW_CT_TO_TCP_ESTABLISHED 432000 /* 5 days, as Linux */
#define FW_CT_TO_TCP_UNREPLIED 300      /* picked up mid-stream, no answer
					 * yet (Linux's "unacknowledged") */
#define FW_CT_TO_TCP_FIN_WAIT 120
#define FW_CT_TO_TCP_TIME_WAIT 120
#define FW_CT_TO_TCP_CLOSE 10
#define FW_CT_TO_UDP 30                 /* one direction only */
#define FW_CT_TO_UDP_REPLIED 120        /* Linux's udp_timeout_stream */
#define FW_CT_TO_ICMP 30
#define FW_CT_TO_GENERIC 600            /* ESP, AH, GRE, SCTP, others */

/* Seconds, by division: for a packet that opens a connection (its insert
 * costs far more), and for tracing programs. fw_ct_insert_global's frame
 * sits in a chain of four calls (fw_xdp, fw_nat_ct_create, it, the port
 * claim's bpf_loop callback) that must fit Linux 6.1's 512 bytes of
 * stack; fw_ct_now's map key took it past them (544). */
static __always_inline __u32 fw_ct_now_divided(void)
{
	return (__u32)(fw_clock_coarse_ns() / 1000000000ull);
}

/* Seconds for every packet of a connection: ns / 1e9 is a 64-bit division,
 * which BPF has no cheaper form of (no multiply-high for the compiler's
 * reciprocal) and which x86 runs in 10-40 cycles or more. Each CPU
 * remembers the second it computed last and the nanosecond it began at,
 * and divides again only when the clock has left it (once a second, or when
 * the test clock jumps back: the unsigned difference is then huge). Exact:
 * the same second as the division. Tracing programs divide. */
static __always_inline __u32 fw_ct_now(void)
{
	__u64 ns = fw_clock_coarse_ns();
#ifndef FW_TRACING_PROG
	struct fw_clock_second *m = bpf_map_lookup_elem(&fw_clock_second, &(__u32){ 0 });
	__u64 second;

	if (m && ns - m->start_ns < 1000000000ull)
		return (__u32)m->second;
	second = ns / 1000000000ull;
	if (m) {
		m->start_ns = second * 1000000000ull;
		m->second = second;
	}
	return (__u32)second;
#else
	return (__u32)(ns / 1000000000ull);
#endif
}

static __always_inline int fw_ct_is_icmp(__u8 proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* Destination unreachable (incl. fragmentation needed), time exceeded,
 * parameter problem; ICMPv6 also packet too big (types 1-4). */
static __always_inline int fw_ct_is_icmp_error(const struct fw_pkt *p)
{
	if (p->t.proto == IPPROTO_ICMP)
		return p->icmp_type == FW_ICMP_DEST_UNREACH || p->icmp_type == FW_ICMP_TIME_EXCEEDED ||
		       p->icmp_type == FW_ICMP_PARAMPROB;
	if (p->t.proto == IPPROTO_ICMPV6)
		return p->icmp_type >= FW_ICMPV6_DEST_UNREACH && p->icmp_type <= FW_ICMPV6_PARAMPROB;
	return 0;
}

static __always_inline int fw_ct_tcp_flags_invalid(__u8 f)
{
	if ((f & FW_TCP_SYN) && (f & (FW_TCP_FIN | FW_TCP_RST)))
		return 1;
	return !(f & (FW_TCP_SYN | FW_TCP_ACK | FW_TCP_RST | FW_TCP_FIN));
}

/* The table key of a packet; -1 when it cannot be tracked (no L4 header:
 * truncated, or a later fragment of a protocol with ports, which gets its
 * first fragment's verdict instead). */
static __always_inline int fw_ct_key_of(const struct fw_pkt *p, struct fw_tuple *k)
{
	if (!p->l4_ok)
		return -1;
	*k = p->t;
	switch (p->t.proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		if (!p->has_ports)
			return -1;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (p->frag == FW_FRAG_LATER)
			return -1;
		k->dport = p->icmp_type; /* sport is the identifier already */
		break;
	default:
		k->sport = 0;
		k->dport = 0;
	}
	return 0;
}

/* What replies to the original tuple `o` look like without NAT. */
static __always_inline void fw_ct_invert(const struct fw_tuple *o, struct fw_tuple *r)
{
	__builtin_memcpy(r->saddr, o->daddr, 16);
	__builtin_memcpy(r->daddr, o->saddr, 16);
	r->proto = o->proto;
	r->family = o->family;
	r->pad[0] = 0;
	r->pad[1] = 0;
	if (fw_ct_is_icmp(o->proto)) {
		r->sport = o->sport;
		r->dport = o->proto == IPPROTO_ICMP ? FW_ICMP_ECHO_REPLY : FW_ICMPV6_ECHO_REPLY;
	} else {
		r->sport = o->dport;
		r->dport = o->sport;
	}
}

/* The key of the opposite direction of packet key `k`, as the packet
 * looks after translation: ICMP echo requests and replies swap types. */
static __always_inline void fw_ct_invert_key(const struct fw_tuple *k, struct fw_tuple *r)
{
	fw_ct_invert(k, r);
	if (fw_ct_is_icmp(k->proto) && k->dport == r->dport)
		r->dport = k->proto == IPPROTO_ICMP ? FW_ICMP_ECHO : FW_ICMPV6_ECHO_REQUEST;
}

static __always_inline int fw_tuple_eq(const struct fw_tuple *a, const struct fw_tuple *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	__u32 d = 0;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*a) / 4); i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

/* *d = *s as 32-bit words, as fw_tuple_eq reads keys (they sit 4-aligned:
 * at the start of map values and entries, aligned(8) on the stack). A
 * plain assignment of the 2-aligned struct is twenty 2-byte loads that the
 * compiler schedules before the stores and spills: 40 bytes of a stack
 * the ingress program does not have (Linux 6.1's 512 across calls). */
static __always_inline void fw_tuple_copy(struct fw_tuple *d, const struct fw_tuple *s)
{
	const __u32 *x = (const __u32 *)s;
	__u32 *y = (__u32 *)d;

#pragma unroll
	for (int i = 0; i < (int)(sizeof(*d) / 4); i++)
		y[i] = x[i];
}

static __always_inline __u32 fw_ct_timeout(__u8 proto, __u8 state, __u8 flags)
{
	switch (proto) {
	case IPPROTO_TCP:
		switch (state) {
		case FW_CT_S_SYN_SENT:
			return FW_CT_TO_TCP_SYN_SENT;
		case FW_CT_S_SYN_RECV:
			return FW_CT_TO_TCP_SYN_RECV;
		case FW_CT_S_ESTABLISHED:
			return (flags & FW_CT_F_SEEN_REPLY) ? FW_CT_TO_TCP_ESTABLISHED
							    : FW_CT_TO_TCP_UNREPLIED;
		case FW_CT_S_FIN_WAIT:
			return FW_CT_TO_TCP_FIN_WAIT;
		case FW_CT_S_TIME_WAIT:
			return FW_CT_TO_TCP_TIME_WAIT;
		default:
			return FW_CT_TO_TCP_CLOSE;
		}
	case IPPROTO_UDP:
		return (flags & FW_CT_F_SEEN_REPLY) ? FW_CT_TO_UDP_REPLIED : FW_CT_TO_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return FW_CT_TO_ICMP;
	default:
		return FW_CT_TO_GENERIC;
	}
}

#define FW_CT_TCP_SLACK 65536u

static __always_inline int fw_seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/* The sequence space segment p of direction `dir` takes up, SYN and FIN
 * counting one each. */
static __always_inline __u32 fw_ct_tcp_end(const struct fw_pkt *p)
{
	return p->tcp_seq + p->tcp_len + !!(p->tcp_flags & FW_TCP_SYN) + !!(p->tcp_flags & FW_TCP_FIN);
}

/* Does segment p (from `dir`) fit the window of master m? See the top. */
static __always_inline int fw_ct_tcp_in_window(const struct fw_ct_entry *m, __u8 dir,
					       const struct fw_pkt *p)
{
	const struct fw_ct_tcp_dir *s = &m->tcp[dir & 1], *r = &m->tcp[(dir & 1) ^ 1];
	__u32 slack = (__u32)r->win_max + FW_CT_TCP_SLACK;

	if (!(s->flags & FW_CT_TCP_SEQ_KNOWN) || !(r->flags & FW_CT_TCP_ACK_KNOWN))
		return 1;
	if (fw_seq_after(p->tcp_seq, s->seq_next + slack))
		return 0;
	return !fw_seq_after(r->ack_max - slack, fw_ct_tcp_end(p));
}

/* Moves direction `dir`'s window forward with segment p. */
static __always_inline void fw_ct_tcp_learn(struct fw_ct_tcp_dir *s, const struct fw_pkt *p)
{
	__u32 end = fw_ct_tcp_end(p);

	if (!(s->flags & FW_CT_TCP_SEQ_KNOWN) || fw_seq_after(end, s->seq_next))
		s->seq_next = end;
	if ((p->tcp_flags & FW_TCP_ACK) &&
	    (!(s->flags & FW_CT_TCP_ACK_KNOWN) || fw_seq_after(p->tcp_ack, s->ack_max))) {
		s->ack_max = p->tcp_ack;
		s->flags |= FW_CT_TCP_ACK_KNOWN;
	}
	if (p->tcp_win > s->win_max)
		s->win_max = p->tcp_win;
	s->flags |= FW_CT_TCP_SEQ_KNOWN;
}

/* One TCP packet of direction `dir` moves the state. Returns FW_CT_NEW
 * when a SYN reopens the tuple of a closed connection: that is a new
 * connection and must meet the chains again. */
static __always_inline int fw_ct_tcp_step(__u8 *state, __u8 *flags, __u8 dir, __u8 f)
{
	if (f & FW_TCP_RST) {
		*state = FW_CT_S_CLOSE;
		return FW_CT_ESTABLISHED;
	}
	if (f & FW_TCP_SYN) {
		if (*state >= FW_CT_S_TIME_WAIT && !(f & FW_TCP_ACK))
			return FW_CT_NEW;
		if ((f & FW_TCP_ACK) && dir == FW_CT_DIR_REPLY && *state == FW_CT_S_SYN_SENT)
			*state = FW_CT_S_SYN_RECV;
		return FW_CT_ESTABLISHED; /* retransmitted SYN or SYN-ACK */
	}
	if (f & FW_TCP_FIN) {
		*flags |= dir == FW_CT_DIR_ORIG ? FW_CT_F_FIN_ORIG : FW_CT_F_FIN_REPLY;
		if ((*flags & (FW_CT_F_FIN_ORIG | FW_CT_F_FIN_REPLY)) ==
		    (FW_CT_F_FIN_ORIG | FW_CT_F_FIN_REPLY))
			*state = FW_CT_S_TIME_WAIT;
		else if (*state < FW_CT_S_FIN_WAIT)
			*state = FW_CT_S_FIN_WAIT;
		return FW_CT_ESTABLISHED;
	}
	/* A plain ACK completes the handshake once the other side answered
	 * (also when the entry was picked up mid-handshake). */
	if (*state < FW_CT_S_ESTABLISHED && (*flags & FW_CT_F_SEEN_REPLY))
		*state = FW_CT_S_ESTABLISHED;
	return FW_CT_ESTABLISHED;
}

/* Finds the connection of key `k`; a live one is updated with this packet
 * and ESTABLISHED returned, else NEW. At most two lookups: the packet's
 * own entry, and for a reply its master.
 *
 * Races: state, flags and expires are plain read-modify-writes of the
 * master, done concurrently by every CPU that has a packet of the
 * connection (both directions, XDP and TC). A lost update costs at most a
 * second of lifetime or one state transition, which the connection's next
 * packet makes again; each field is written whole, so no reader sees a
 * torn value. Locking every packet would cost more than these misses
 * (cilium's conntrack argues the same). The TCP window fields are written
 * by every in-window segment that moves them (each direction by its own
 * packets, mostly on one CPU); a lost update leaves a window slightly
 * behind, which the slack absorbs. */
static __always_inline int fw_ct_lookup_update(const struct fw_tuple *k, const struct fw_pkt *p,
					       __u32 now, struct fw_ct_entry **hit)
{
	void *ct = fw_ct_table();
	struct fw_ct_entry *e, *m;
	__u8 dir, state, flags;
	__u32 expires;

	*hit = NULL;
	if (!ct) /* no table: the chains judge it, and a new one fails to store */
		return FW_CT_NEW;
	e = bpf_map_lookup_elem(ct, k);
	if (!e)
		return FW_CT_NEW;
	dir = e->dir;
	m = e;
	if (dir != FW_CT_DIR_ORIG) {
		m = bpf_map_lookup_elem(ct, &e->other);
		/* The master may be gone (evicted, or replaced by a
		 * connection with another reply tuple): the alias is stale. */
		if (!m || m->dir != FW_CT_DIR_ORIG || !fw_tuple_eq(&m->other, k))
			return FW_CT_NEW;
	}
	if ((__s32)(now - m->expires) > 0)
		return FW_CT_NEW;
	state = m->state;
	flags = m->flags;
	if (dir != FW_CT_DIR_ORIG)
		flags |= FW_CT_F_SEEN_REPLY;
	if (p->t.proto == IPPROTO_TCP) {
		if (!fw_ct_tcp_in_window(m, dir, p)) {
			if (p->tcp_flags & (FW_TCP_RST | FW_TCP_FIN))
				return FW_CT_INVALID; /* a blind reset or close */
		} else {
			fw_ct_tcp_learn(&m->tcp[dir & 1], p);
		}
		if (fw_ct_tcp_step(&state, &flags, dir, p->tcp_flags) == FW_CT_NEW)
			return FW_CT_NEW;
	}
	if (state != m->state)
		m->state = state;
	if (flags != m->flags)
		m->flags = flags;
	expires = now + fw_ct_timeout(p->t.proto, state, flags);
	/* Written at most once a second per connection: no cache line
	 * ping-pong between CPUs for every packet. */
	if (expires != m->expires) {
		m->expires = expires;
		/* A lookup marks an LRU entry as used. Packets of the original
		 * direction never touch the alias otherwise, so a one-way
		 * stream would let it age out of a busy table. */
		if (dir == FW_CT_DIR_ORIG)
			bpf_map_lookup_elem(ct, &m->other);
	}
	*hit = e; /* NAT reads the other tuple and the nat flags */
	return FW_CT_ESTABLISHED;
}

/* The connection an ICMP/ICMPv6 error is about, as the error's own
 * direction keys it: the quoted packet went the other way, so its key
 * inverted (which, under NAT, is the key that direction has on this side
 * of the translation: a masqueraded packet's error arrives quoting the
 * outside view, whose inverse is the reply tuple). RELATED only when the
 * error goes to the quoted packet's sender (fw_quote_to_sender) and the
 * connection is live; *hit is the entry that key found (NAT reads it),
 * *q the parsed quote. */
static __always_inline int fw_ct_related(void *data, void *data_end, const struct fw_pkt *p,
					 __u32 now, struct fw_quote *q, struct fw_ct_entry **hit)
{
	struct fw_tuple k __attribute__((aligned(8)));
	void *ct = fw_ct_table();
	struct fw_ct_entry *e, *m;

	*hit = NULL;
	if (!ct)
		return FW_CT_NEW;
	if (fw_quote_parse(data, data_end, p, q) || !fw_quote_to_sender(p, q))
		return FW_CT_NEW;
	fw_ct_invert_key(&q->t, &k);
	e = bpf_map_lookup_elem(ct, &k);
	if (!e)
		return FW_CT_NEW;
	m = e;
	if (e->dir != FW_CT_DIR_ORIG) {
		m = bpf_map_lookup_elem(ct, &e->other);
		if (!m || m->dir != FW_CT_DIR_ORIG || !fw_tuple_eq(&m->other, &k))
			return FW_CT_NEW;
	}
	if ((__s32)(now - m->expires) > 0)
		return FW_CT_NEW;
	*hit = e;
	return FW_CT_RELATED;
}

/* An ICMP error arriving: RELATED or NEW. Not inlined: the quote and the
 * key it inverts (88 bytes) get their own frame instead of deepening the
 * ingress programs' (whose frame, plus fw_nat_ct_create's, plus a bpf_loop
 * callback's, must fit Linux 6.1's 512 bytes). */
static __noinline int fw_ct_ingress_error(void *data, void *data_end, const struct fw_pkt *p,
					  struct fw_ct_entry **hit)
{
	struct fw_quote q;

	return fw_ct_related(data, data_end, p, fw_ct_now(), &q, hit);
}

/* Ingress: is this packet part of (or related to) a tracked connection?
 * c: the packet's key (fw_ct_new_of). */
static __always_inline int fw_ct_ingress(void *data, void *data_end, struct fw_pkt *p,
					 const struct fw_ct_new *c, struct fw_ct_entry **hit)
{
	*hit = NULL;
	if (!c->keyed)
		return FW_CT_NEW;
	if (p->t.proto == IPPROTO_TCP && fw_ct_tcp_flags_invalid(p->tcp_flags))
		return FW_CT_INVALID;
	if (!fw_ct_is_icmp_error(p))
		return fw_ct_lookup_update(&c->orig, p, fw_ct_now(), hit);
	return fw_ct_ingress_error(data, data_end, p, hit);
}

/* Egress (TC): packets this host sends. Never filters. *k is the packet's
 * key (valid unless FW_CT_EG_UNTRACKED), *hit the entry it found (for
 * NAT), NULL otherwise. Returns
 * FW_CT_EG_KNOWN when the packet belongs to a connection, FW_CT_EG_NEW when
 * it opens one not known yet (the caller remembers it with
 * fw_ct_egress_insert, lib/ct_new.h, unless it drops the packet: a masquerade interface's
 * leak guard, lib/nat_guard.h), FW_CT_EG_UNTRACKED when it cannot be keyed
 * (later fragment, ICMP error, impossible TCP flags). */
#define FW_CT_EG_KNOWN 0
#define FW_CT_EG_NEW 1
#define FW_CT_EG_UNTRACKED 2
static __always_inline int fw_ct_egress(struct fw_pkt *p, struct fw_tuple *k,
					struct fw_ct_entry **hit)
{
	struct fw_tuple r __attribute__((aligned(8)));
	__u32 now;

	*hit = NULL;
	if (fw_ct_key_of(p, k) || fw_ct_is_icmp_error(p))
		return FW_CT_EG_UNTRACKED;
	if (p->t.proto == IPPROTO_TCP && fw_ct_tcp_flags_invalid(p->tcp_flags))
		return FW_CT_EG_UNTRACKED;
	now = fw_ct_now();
	if (fw_ct_lookup_update(k, p, now, hit) != FW_CT_NEW)
		return FW_CT_EG_KNOWN;
	/* A forwarded packet whose destination ingress translated (a
	 * port-forwarded request, a reply to a masqueraded connection) no
	 * longer matches either key of its connection, but its inverse is
	 * the other direction's key. Ingress already accounted for it; a new
	 * entry here would overwrite that connection. */
	fw_ct_invert_key(k, &r);
	{
		void *ct = fw_ct_table();
		struct fw_ct_entry *e = ct ? bpf_map_lookup_elem(ct, &r) : NULL;

		if (e && e->nat)
			return FW_CT_EG_KNOWN;
	}
	return FW_CT_EG_NEW;
}

#endif
