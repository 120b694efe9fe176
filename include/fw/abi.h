/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * fwctl's one ABI header: map keys, map values and constants shared by the
 * BPF datapath (bpf/) and the C++ control plane (loader/). Only fixed-width
 * UAPI types; byte order is stated per field; padding is written out so both
 * compilers lay the structs out identically (checked by static asserts).
 */
#ifndef FW_ABI_H
#define FW_ABI_H

#include <linux/types.h>

/* Bumped whenever a struct or map below changes meaning. The loader writes
 * it into the pinned fw_abi map; every fwctl command that opens the pins
 * compares it with its own (and each map's type, key, value, entries and
 * flags with its own object's) and refuses another ABI: a newer fwctl takes
 * over pins of the same ABI in place (maps and connections kept, programs
 * swapped by link update), another ABI only through `fwctl apply
 * --replace-incompatible` (docs/ops.md, "Upgrades"). */
#define FW_ABI_VERSION 4 /* 3: fw_cls_combine became a map of per-generation hashes;
			  * 4: fw_ct_entry caches its route (route), its
			  * times are CLOCK_MONOTONIC */

#define FW_CHAIN_INPUT 0
#define FW_CHAIN_FORWARD 1
#define FW_CHAINS 2

/* The classifier is double-buffered: every classifier map key or index
 * carries a generation; fw_active says which one packets read. An apply
 * writes the other generation completely, then flips fw_active (one
 * 4-byte array update), so no packet ever sees a half-written ruleset. */
#define FW_GENS 2

#define FW_MAX_RULES 65536 /* per generation, both chains together */
#define FW_MAX_COUNTER_SLOTS (2 * FW_MAX_RULES + 2048)
#define FW_RULE_NONE 0xffffffffu

/* Port dimension: one slot per port plus one for "packet has no ports"
 * (ICMP, ESP, non-first fragments...). */
#define FW_PORT_SLOTS 65537
#define FW_NO_PORT 65536

enum fw_verdict {
	FW_VERDICT_ACCEPT = 0,
	FW_VERDICT_DROP = 1,
	FW_VERDICT_REJECT = 2,
};

#define FW_RULE_F_LOG 0x1

/* Direction index of fields that come in pairs (in/out, saddr/daddr,
 * sport/dport). */
#define FW_DIR_SRC 0
#define FW_DIR_DST 1

/* Stages of the equivalence-class classifier. Each stage maps a pair of
 * class ids to a class id (the last one to a rule index); see
 * loader/classifier.cpp for how the tables are built. */
enum fw_stage {
	FW_STAGE_IFACES = 0, /* (in class, out class)        -> A */
	FW_STAGE_ADDRS = 1,  /* (saddr class, daddr class)   -> B */
	FW_STAGE_PROTO_SPORT = 2, /* (proto class, sport class) -> C */
	FW_STAGE_AB = 3,     /* (A, B)                       -> D */
	FW_STAGE_C_DPORT = 4, /* (C, dport class)            -> E */
	FW_STAGE_FINAL = 5,  /* (D, E) -> rule index (lowest match) */
	FW_STAGE_MAX,
};

/* fw_active[0] */
/* fw_abi[0]: the ABI of the datapath pinned here (written at load). */
struct fw_abi_info {
	__u32 version; /* FW_ABI_VERSION of the fwctl that loaded the maps */
	__u32 pad;
};

struct fw_active {
	__u32 gen;   /* generation packets read: 0 or 1 */
	__u32 valid; /* 0 until the first complete apply: until then pass all */
};

/* fw_gen_cfg[gen] */
#define FW_CFG_F_FASTPATH 0x1 /* forward accepted packets with bpf_redirect */
/* No rule of the chain names an interface or an address: the interface and
 * address stages give every packet the same class, fw_gen_cfg.const_ab, so
 * the datapath skips them. Bit per chain: FW_CFG_F_CONST_AB << chain. */
#define FW_CFG_F_CONST_AB 0x2
/* No rule of either chain names a source port: a flow's verdict is the same
 * whatever its source port, and the drop memo keys it without one. */
#define FW_CFG_F_ANY_SPORT 0x8
/* No rule of either chain names a source address, and the namespace routes
 * by destination only (no policy-routing rules at apply, loader/
 * policy_rules.h): a flow's verdict is the same whatever its source
 * address, and the drop memo keys it without one. */
#define FW_CFG_F_ANY_SADDR 0x10

/* A class id meaning "the empty set of rules" (a table miss). */
#define FW_CLASS_NONE 0xffffffffu

/* fw_fast_if: ARRAY (mmapable) indexed by ifindex, of FW_FAST_IF_* flags
 * per attached interface (bpf/lib/fastpath.h); an interface whose ifindex
 * is FW_FAST_IF_MAX or more never takes the fast path. */
#define FW_FAST_IF_MAX 65536
#define FW_FAST_IF_OUT 0x1         /* redirected frames may leave by it */
#define FW_FAST_IF_VERIFY_CSUM 0x2 /* its checksums may be unfinished */
/* Bits 16-63 of the value: the interface's MAC address, first byte in bits
 * 56-63 (0: none known; no frame enters the fast path by it). One 64-bit
 * word, so flags and address change together. */
#define FW_FAST_IF_MAC_SHIFT 16

/* A reject answer built in XDP leaves through TC, not XDP_TX (XDP_TX on a
 * veth whose peer has no NAPI is lost): XDP passes the answer up and notes
 * it in fw_reject_sent, fwctl's TC ingress program finds it there and sends
 * it back out of the same interface, marked FW_REJECT_MARK so TC egress
 * leaves it alone (bpf/lib/reject.h). */
#define FW_REJECT_MARK 0x46575252u

/* fw_reject_sent's key: an answer as TC ingress sees it. l3: its first
 * bytes from the IP header on (IPv4 40, the rest 0; IPv6 56), which tell
 * answers apart (addresses, ports, sequence numbers, checksums). */
#define FW_REJECT_KEY_L3 56
struct fw_reject_key {
	__u32 ifindex; /* the interface it came in by and leaves by */
	__u32 family;  /* 4 or 6 */
	__u8 l3[FW_REJECT_KEY_L3];
};

struct fw_gen_cfg {
	__u8 policy[FW_CHAINS]; /* enum fw_verdict when no rule matches */
	__u8 flags;             /* FW_CFG_F_* */
	__u8 pad0;
	__u32 catchall[FW_CHAINS]; /* first rule of the chain with no match
				    * field, or FW_RULE_NONE (kept out of the
				    * tables so it cannot blow them up) */
	__u32 iface_default_class[FW_CHAINS][2]; /* class of an interface no
						   * rule names, [chain][dir] */
	__u32 nat_count;  /* entries of fw_nat used, this generation */
	__u32 pf_count;   /* entries of fw_pf used, this generation */
	__u32 serial;     /* different for every generation written (one more
			   * than the running one's): a drop remembered under
			   * another serial is forgotten (fw_drop_memo) */
	__u64 log_interval_ns; /* one log token every N ns */
	__u32 log_burst;       /* bucket depth */
	__u32 pad1;
	__u32 const_ab[FW_CHAINS]; /* with FW_CFG_F_CONST_AB: the AB-stage class
				    * of every packet (FW_CLASS_NONE: no rule) */
};

/* fw_cls_iface: HASH; miss -> fw_gen_cfg.iface_default_class */
struct fw_iface_key {
	__u32 ifindex;
	__u8 gen;
	__u8 chain;
	__u8 dir; /* FW_DIR_SRC = in, FW_DIR_DST = out */
	__u8 pad;
};

/* fw_cls_addr: LPM_TRIE. prefixlen counts the 32 bits of gen..dir plus
 * the prefix length; every (gen, chain, family, dir) has a /0 entry so a
 * lookup never misses. IPv4 sits in addr[0..3]. */
struct fw_addr_key {
	__u32 prefixlen;
	__u8 gen;
	__u8 chain;
	__u8 family; /* 4 or 6 */
	__u8 dir;
	__u8 addr[16]; /* network byte order */
};

/* fw_cls_port: ARRAY, index fw_port_index(); value = class id */
static inline __u32 fw_port_index(__u32 gen, __u32 chain, __u32 dir, __u32 port)
{
	return ((gen * FW_CHAINS + chain) * 2 + dir) * FW_PORT_SLOTS + port;
}
#define FW_PORT_ENTRIES (FW_GENS * FW_CHAINS * 2 * FW_PORT_SLOTS)

/* fw_cls_proto: ARRAY, index (gen * FW_CHAINS + chain) * 256 + proto */
#define FW_PROTO_ENTRIES (FW_GENS * FW_CHAINS * 256)

/* fw_cls_combine: ARRAY_OF_MAPS, one HASH per generation (index gen); a
 * miss means "no rule can match". The loader sizes each generation's hash
 * from its compiled tables: at least FW_COMBINE_MIN_ENTRIES, at most
 * FW_COMBINE_MAX_ENTRIES. */
#define FW_COMBINE_MIN_ENTRIES 4096
#define FW_COMBINE_MAX_ENTRIES (4 * 1024 * 1024)
struct fw_combine_key {
	__u32 a;
	__u32 b;
	__u8 gen;
	__u8 chain;
	__u8 stage; /* enum fw_stage */
	__u8 pad;
};

/* fw_rules: ARRAY, index gen * FW_MAX_RULES + rule index */
struct fw_rule {
	__u8 action; /* enum fw_verdict */
	__u8 flags;  /* FW_RULE_F_* */
	__u8 chain;
	__u8 pad;
	__u32 position;     /* 1-based, in its chain, as the file has it */
	__u32 counter_slot; /* slot in fw_rule_cpu_cnt (survives re-applies) */
	__u32 pad1;
};

/* fw_drop_memo (PERCPU_ARRAY, FW_DROP_MEMO_SLOTS): per CPU, the flows whose
 * last new packet a rule or a policy dropped (bpf/lib/drop_memo.h). */
#define FW_DROP_MEMO_BITS 10
#define FW_DROP_MEMO_SLOTS (1u << FW_DROP_MEMO_BITS)
#define FW_DROP_MEMO_POLICY 0xffffffffu /* counter_slot of a policy drop */

struct fw_drop_memo {
	__u32 t[10];        /* the packet's struct fw_tuple, as words; source
	                     * port 0 under FW_CFG_F_ANY_SPORT, source
	                     * address 0 under FW_CFG_F_ANY_SADDR */
	__u32 in_ifindex;
	__u32 serial;       /* fw_gen_cfg.serial of the generation that dropped it */
	__u32 route_epoch;  /* fw_route_epoch then */
	__u32 counter_slot; /* the rule's, or FW_DROP_MEMO_POLICY */
	__u16 tick;         /* coarse clock >> 26 then */
	__u8 chain;
	__u8 valid;
};

/* fw_rule_cpu_cnt (ARRAY, mmapable, FW_MAX_COUNTER_SLOTS entries per
 * possible CPU: key cpu * FW_MAX_COUNTER_SLOTS + slot, each CPU writing
 * only its own region) and fw_stats (PERCPU_ARRAY, FW_STAT_MAX): summed over
 * CPUs in user space. Bytes are layer-3 lengths, as nftables counts. */
struct fw_counter {
	__u64 packets;
	__u64 bytes;
};

enum fw_stat {
	FW_STAT_POLICY_INPUT = 0,
	FW_STAT_POLICY_FORWARD,
	FW_STAT_CT_ESTABLISHED, /* accepted by the connection table */
	FW_STAT_CT_RELATED,     /* ICMP errors about a tracked flow */
	FW_STAT_CT_INVALID,     /* dropped as invalid by the tracker */
	FW_STAT_CT_FULL,        /* a new entry could not be stored */
	FW_STAT_CT_NEW,         /* entries created */
	FW_STAT_NOT_IP,         /* passed: ARP and other non-IP frames */
	FW_STAT_MALFORMED,      /* IP we could not parse: met the policy; or
				 * dropped (IPv6 chains beyond the parser's
				 * walk, tiny first fragments) */
	FW_STAT_ND,             /* IPv6 neighbour discovery to this host, accepted */
	FW_STAT_LOG_EVENTS,
	FW_STAT_LOG_SUPPRESSED,
	FW_STAT_NAT_FAIL,       /* no free source port for masquerade */
	FW_STAT_REJECT_SENT,
	FW_STAT_REJECT_LIMITED, /* rejects answered with a silent drop */
	FW_STAT_FRAG_POLICY,    /* fragments without a known first fragment */
	FW_STAT_FASTPATH,       /* forwarded through bpf_redirect */
	FW_STAT_NAT_LEAK,       /* dropped: would leave a masquerade interface
				 * with its inside source (lib/nat_guard.h) */
	FW_STAT_NAT_NO_ADDR,    /* masquerade while its interface has no IPv4 address: dropped */
	FW_STAT_DROP_MEMO,      /* dropped by a flow's remembered drop (bpf/lib/drop_memo.h) */
	FW_STAT_NAT_CSUM_UNSURE, /* translated as a local stack's unfinished seed,
				  * though it verified as a checksum too (bpf/lib/nat.h) */
	FW_STAT_MAX = 32,
};

/* A parsed packet, as rules see it. Addresses in network byte order,
 * ports in host byte order. */
struct fw_tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport; /* ICMP echo: identifier in both sport and dport */
	__u16 dport;
	__u8 proto;
	__u8 family; /* 4 or 6 */
	__u8 pad[2];
};

/* Connection tracking (bpf/lib/ct.h, read by `fwctl conntrack`).
 *
 * fw_ct is an LRU hash keyed by struct fw_tuple, with two entries per
 * connection, as Linux conntrack has two tuplehashes: the MASTER keyed by
 * the original tuple (what the first packet looked like) holds the state;
 * the ALIAS keyed by the reply tuple (what replies look like) points back at
 * the master. Both carry the other direction's tuple in `other`, so a
 * packet of either direction finds both tuples with its first lookup (what
 * NAT needs to rewrite it); only the alias needs a second lookup, for the
 * state. The reply tuple is stored, never recomputed: NAT makes it differ
 * from the inverted original.
 *
 * Keys: ports in host byte order; TCP, UDP, SCTP: the ports; ICMP/ICMPv6
 * echo: sport = identifier, dport = ICMP type (request in the original,
 * reply in the reply tuple, so a request never matches the reply key); all
 * other protocols: ports 0 (one entry per address pair and protocol). */
/* The table's default size: 131072 map entries = 65536 connections. The
 * loader creates fw_ct with 2 N entries when the ruleset says
 * "conntrack": {"max-connections": N}; programs never use this constant.
 * They reach the table through fw_ct_tables (bpf/lib/maps.h), whose
 * template has FW_CT_TEMPLATE_ENTRIES. */
#define FW_CT_MAX_ENTRIES 131072
#define FW_CT_TEMPLATE_ENTRIES 64

enum fw_ct_dir {
	FW_CT_DIR_ORIG = 0,  /* key is the original tuple: the master */
	FW_CT_DIR_REPLY = 1, /* key is the reply tuple: an alias */
};

enum fw_ct_state {
	FW_CT_S_NONE = 0,        /* non-TCP: see FW_CT_F_SEEN_REPLY */
	FW_CT_S_SYN_SENT,
	FW_CT_S_SYN_RECV,
	FW_CT_S_ESTABLISHED,
	FW_CT_S_FIN_WAIT,        /* one side sent FIN */
	FW_CT_S_TIME_WAIT,       /* both sides sent FIN */
	FW_CT_S_CLOSE,           /* RST seen */
	FW_CT_S_MAX,
};

#define FW_CT_F_SEEN_REPLY 0x01 /* a packet of the reply direction was seen */
#define FW_CT_F_FIN_ORIG 0x02
#define FW_CT_F_FIN_REPLY 0x04
#define FW_CT_F_LOCAL 0x08      /* created on egress: this host opened it */

/* TCP sequence window of one direction (bpf/lib/ct.h, docs/conntrack.md
 * "Sequence window"), host byte order. */
#define FW_CT_TCP_SEQ_KNOWN 0x1 /* seq_next holds a value */
#define FW_CT_TCP_ACK_KNOWN 0x2 /* ack_max holds a value */

struct fw_ct_tcp_dir {
	__u32 seq_next; /* highest seq + length (+1 for SYN and FIN) sent */
	__u32 ack_max;  /* highest acknowledgement sent */
	__u16 win_max;  /* largest window field sent (unscaled) */
	__u8 flags;     /* FW_CT_TCP_* */
	__u8 pad;
};

/* The route a direction of a connection last took on the fast path
 * (bpf/lib/route_cache.h): what bpf_fib_lookup answered, reused while the
 * route epoch (fw_route_epoch) is the one it was found in, for at most two
 * ticks of 2^26 ns (67 ms), for packets from the same interface no longer
 * than one that fitted. fits_len 0: nothing cached. */
struct fw_ct_route {
	__u32 epoch;       /* fw_route_epoch when it was looked up */
	__u16 tick;        /* fw_route_tick() when it was */
	__u16 in_ifindex;  /* the interface the packet came in by */
	__u16 out_ifindex; /* the route's (< FW_FAST_IF_MAX, like in_ifindex) */
	__u16 fits_len;    /* longest IP length found to fit its MTU */
	__u8 dmac[6];
	__u8 smac[6];
};

struct fw_ct_entry {
	struct fw_tuple other; /* master: the reply tuple; alias: the original
				* tuple (= the master's key) */
	__u32 expires;   /* master: CLOCK_MONOTONIC second after which the
			  * entry is dead (bpf_ktime_get_coarse_ns() / 1e9;
			  * the clock Linux conntrack's jiffies follow) */
	__u8 dir;        /* enum fw_ct_dir */
	__u8 state;      /* master: enum fw_ct_state */
	__u8 flags;      /* master: FW_CT_F_* */
	__u8 pad;
	__u32 ifindex;   /* interface of the packet that created it */
	__u32 nat;       /* FW_CT_NAT_*, the same in master and alias */
	struct fw_ct_tcp_dir tcp[2]; /* master, TCP: per enum fw_ct_dir */
	struct fw_ct_route route;    /* this entry's direction (key) */
};

/* fw_ct_entry.nat: how the connection is translated (bpf/lib/nat.h).
 * SNAT: the reply tuple's destination (address, port or ICMP identifier)
 * is the masquerade address and port, not the original source. DNAT: the
 * reply tuple's source is the port-forward's inside host, not the
 * original destination. Destinations are rewritten on ingress (XDP),
 * sources on egress (TC), as netfilter does. */
#define FW_CT_NAT_SNAT 0x1
#define FW_CT_NAT_DNAT 0x2

/* NAT (IPv4 only). fw_nat: ARRAY, index gen * FW_NAT_MAX + i for the
 * generation's fw_gen_cfg.nat_count rules, file order (first match wins);
 * fw_pf likewise with FW_PF_MAX and pf_count. Addresses and masks in
 * network byte order, ports in host byte order. */
#define FW_NAT_MAX 32
#define FW_PF_MAX 64
#define FW_NAT_MAX_EXEMPT 16
#define FW_NAT_PORT_MIN 1024 /* new source ports come from 1024-65535 */

struct fw_prefix4 {
	__be32 addr;
	__be32 mask; /* 0: any */
};

struct fw_nat_rule {
	__u32 out_ifindex;
	__be32 to;            /* the source to write: `to`, or the interface's
			       * primary IPv4 address, rewritten when it changes
			       * (the watcher follows RTM_NEWADDR/DELADDR);
			       * 0 while it has none: its packets are dropped */
	struct fw_prefix4 saddr; /* mask 0: any source but `to` itself */
	__u32 counter_slot;   /* fw_rule_cpu_cnt: connections translated */
	__u32 n_exempt;
	struct fw_prefix4 exempt[FW_NAT_MAX_EXEMPT]; /* destinations left alone */
};

struct fw_pf_rule {
	__u32 in_ifindex;
	__be32 daddr;      /* 0: any address of this host */
	__be32 to_daddr;
	__u16 dport_lo;    /* 0-0 for protocols without ports */
	__u16 dport_hi;
	__u16 to_dport;    /* 0: unchanged; else the new port of dport_lo
			    * (a range keeps its offset) */
	__u8 proto;
	__u8 pad;
	__u32 counter_slot; /* fw_rule_cpu_cnt: connections forwarded */
};

/* Stacked devices (bpf/lib/stack.h, docs/stacked.md): each frame is judged
 * once, as arriving on the device that owns it at layer 3. fw_stack_if:
 * ARRAY (mmapable) indexed by ifindex, FW_STACK_IF_* flags; an ifindex of
 * FW_STACK_IF_MAX or more has none. fw_stack: HASH from fw_stack_key to
 * the owning device's ifindex. */
#define FW_STACK_IF_MAX 65536
#define FW_STACK_IF_VLANS 0x1 /* carries 802.1Q devices judged here (key kind VLAN) */
#define FW_STACK_IF_SLAVE 0x2 /* a bond slave whose frames are its bond's (kind BOND) */
#define FW_STACK_IF_LOWER 0x4 /* a bridge port or bond slave: no layer 3 of its
			       * own, so a connection recorded on it is stale */

#define FW_STACK_KIND_BOND 1 /* {slave, 0} -> bond (native XDP on a bond runs on slaves) */
#define FW_STACK_KIND_VLAN 2 /* {parent, vid} -> the 802.1Q device */

struct fw_stack_key {
	__u32 ifindex;
	__u16 vid;
	__u8 kind; /* FW_STACK_KIND_* */
	__u8 pad;
};

/* Log events (ringbuf fw_log_rb), read by `fwctl log`. */
struct fw_log_event {
	__u64 ktime_ns; /* bpf_ktime_get_ns; user space maps it to wall time */
	__u32 position;
	__u32 in_ifindex;
	__u32 out_ifindex;
	__u32 len;       /* layer-3 length */
	__u8 chain;
	__u8 verdict;
	__u8 proto;
	__u8 family;
	__u16 sport;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* `fwctl trace` (bpf/lib/trace.h). fw_trace_cfg: ARRAY of one, written by
 * the tracer; `on` is the one word every packet reads, and 0 costs nothing
 * more. A tracer renews `lease_ns` (CLOCK_MONOTONIC) every second: a tracer
 * killed without cleaning up stops tracing within a few seconds. Filters:
 * 0 / all-zero masks match anything; addresses compare under byte masks,
 * ports in host order. */
struct fw_trace_cfg {
	__u32 on;
	__u32 in_ifindex;
	__u64 lease_ns;
	__u8 saddr[16];
	__u8 smask[16];
	__u8 daddr[16];
	__u8 dmask[16];
	__u8 family; /* 0: any; else 4 or 6 */
	__u8 proto;
	__u8 match_proto;
	__u8 pad;
	__u16 dport;
	__u16 match_dport;
};

/* What decided a traced packet (fw_trace_event.by). */
enum fw_trace_by {
	FW_TRACE_BY_NONE = 0,
	FW_TRACE_BY_ND,          /* IPv6 neighbour discovery: always passes */
	FW_TRACE_BY_CONNTRACK,   /* established / related / invalid */
	FW_TRACE_BY_RULE,        /* the rule at `position` */
	FW_TRACE_BY_POLICY,      /* no rule matched */
	FW_TRACE_BY_FRAGMENT,    /* a later fragment: its first's verdict or the policy */
	FW_TRACE_BY_NAT_FAIL,    /* accepted, but NAT could not be done: dropped */
};

/* The fast path (fw_trace_event.fast): taken, or why not. */
enum fw_trace_fast {
	FW_TRACE_FAST_NA = 0,      /* not offered: not an accepted forwarded packet */
	FW_TRACE_FAST_TAKEN,       /* bpf_redirect from XDP */
	FW_TRACE_FAST_OFF,         /* the ruleset has no "fastpath": true */
	FW_TRACE_FAST_FIRST_NAT,   /* first packet of a translated connection */
	FW_TRACE_FAST_SHAPE,       /* no plain Ethernet, a fragment, or a short L4 header */
	FW_TRACE_FAST_TTL,         /* TTL / hop limit <= 1 */
	FW_TRACE_FAST_IPSEC,       /* IKE, NAT-T, ESP or AH */
	FW_TRACE_FAST_MULTI,       /* broadcast or multicast */
	FW_TRACE_FAST_FIB,         /* the FIB gave no complete route (fib_rc says why) */
	FW_TRACE_FAST_OUT_DEV,     /* the egress device cannot transmit XDP frames */
	FW_TRACE_FAST_CSUM,        /* a checksum that may be unfinished did not verify */
	FW_TRACE_FAST_NAT,         /* the source rewrite failed */
	FW_TRACE_FAST_TUN,         /* a TUN (L3) device: no redirect */
};

/* One traced packet (ringbuf fw_trace_rb). */
struct fw_trace_event {
	__u64 ktime_ns;
	struct fw_tuple orig;     /* as it arrived (the connection table's key) */
	struct fw_tuple ct_other; /* its connection's other tuple, when ct_found */
	__u32 in_ifindex;
	__u32 out_ifindex;        /* forward chain: the FIB's answer */
	__u32 position;           /* by RULE: the rule, from 1 */
	__u32 len;                /* layer-3 length */
	__u32 xdp_action;         /* what XDP returned */
	__u8 chain;               /* FW_CHAIN_*; FW_TRACE_NO_CHAIN before chain selection */
	__u8 ct;                  /* enum fw_ct_result */
	__u8 by;                  /* enum fw_trace_by */
	__u8 verdict;             /* enum fw_verdict */
	__u8 fast;                /* enum fw_trace_fast */
	__u8 fib_rc;              /* FAST_FIB: BPF_FIB_LKUP_RET_* */
	__u8 ct_found;            /* after the decision, the connection exists */
	__u8 ct_nat;              /* FW_CT_NAT_* of that connection */
	__u8 ct_dir;              /* enum fw_ct_dir of the entry the key found */
	__u8 active;              /* datapath only: this CPU's packet is being traced */
	__u8 pad[2];
};
#define FW_TRACE_NO_CHAIN 0xff

#ifdef __cplusplus
static_assert(sizeof(struct fw_abi_info) == 8, "fw_abi_info");
static_assert(sizeof(struct fw_active) == 8, "fw_active");
static_assert(sizeof(struct fw_gen_cfg) == 64, "fw_gen_cfg");
static_assert(sizeof(struct fw_iface_key) == 8, "fw_iface_key");
static_assert(sizeof(struct fw_addr_key) == 24, "fw_addr_key");
static_assert(sizeof(struct fw_combine_key) == 12, "fw_combine_key");
static_assert(sizeof(struct fw_rule) == 16, "fw_rule");
static_assert(sizeof(struct fw_tuple) == 40, "fw_tuple");
static_assert(sizeof(struct fw_log_event) == 64, "fw_log_event");
static_assert(sizeof(struct fw_ct_tcp_dir) == 12, "fw_ct_tcp_dir");
static_assert(sizeof(struct fw_ct_route) == 24, "fw_ct_route");
static_assert(sizeof(struct fw_ct_entry) == 104, "fw_ct_entry");
static_assert(sizeof(struct fw_trace_cfg) == 88, "fw_trace_cfg");
static_assert(sizeof(struct fw_trace_event) == 120, "fw_trace_event");
static_assert(sizeof(struct fw_nat_rule) == 24 + 8 * FW_NAT_MAX_EXEMPT, "fw_nat_rule");
static_assert(sizeof(struct fw_pf_rule) == 24, "fw_pf_rule");
static_assert(sizeof(struct fw_stack_key) == 8, "fw_stack_key");
#endif

#endif /* FW_ABI_H */
