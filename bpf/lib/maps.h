/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Every map of the datapath. Keys and values come from fw/abi.h. */
#ifndef FW_MAPS_H
#define FW_MAPS_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_active);
} fw_active SEC(".maps");

/* Read by user space only: the ABI of the pinned maps (fw/abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_abi_info);
} fw_abi SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_GENS);
	__type(key, __u32);
	__type(value, struct fw_gen_cfg);
} fw_gen_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fw_iface_key);
	__type(value, __u32);
} fw_cls_iface SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4 * FW_MAX_RULES + 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fw_addr_key);
	__type(value, __u32);
} fw_cls_addr SEC(".maps");

/* Written by user space through mmap: one memcpy per apply. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_PORT_ENTRIES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
} fw_cls_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_PROTO_ENTRIES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
} fw_cls_proto SEC(".maps");

/* One combine table per generation, created by the loader with room for
 * exactly what its ruleset compiled to (a hash's bucket array is allocated
 * whole at creation: 4 Mi entries would cost 64 MiB whatever the ruleset).
 * A re-apply that outgrows the inactive generation's table fills a new one
 * and swaps it into the slot before the switch (loader/combine_table.cpp). */
struct fw_cls_combine_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FW_COMBINE_MIN_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	/* Sizes, not types: BTF describes a struct reached only through the
	 * outer map's pointer as a forward declaration, of no size. */
	__uint(key_size, sizeof(struct fw_combine_key));
	__uint(value_size, sizeof(__u32));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, FW_GENS);
	__type(key, __u32);
	__array(values, struct fw_cls_combine_inner);
} fw_cls_combine SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_GENS * FW_MAX_RULES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fw_rule);
} fw_rules SEC(".maps");

/* Rule counters, one region of FW_MAX_COUNTER_SLOTS per possible CPU (the
 * loader sets max_entries to that times the CPU count; fw/abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_MAX_COUNTER_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fw_counter);
} fw_rule_cpu_cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_STAT_MAX);
	__type(key, __u32);
	__type(value, struct fw_counter);
} fw_stats SEC(".maps");

/* Verdicts of first fragments, so that later fragments (which carry no
 * ports) get the same verdict instead of slipping past port rules. */
struct fw_frag_key {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 id;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct fw_frag_key);
	__type(value, __u32); /* enum fw_verdict */
} fw_frag SEC(".maps");

/* The connection table (see fw/abi.h and ct.h). Preallocated (LRU maps
 * always are): 160 bytes an entry, two entries a connection (kernel
 * figures: docs/conntrack.md). When it is full, an insert evicts the least
 * recently used entries instead of failing; FW_STAT_CT_FULL counts the
 * inserts that failed anyway.
 *
 * Reached through fw_ct_tables' one slot, not named by the programs: the
 * loader creates the table (sized by the ruleset's "conntrack", pinned as
 * fw_ct) while the kernel verifies the programs, and puts it in the slot
 * before anything is attached. Creating it is ~45 ms of a first apply
 * (every entry goes on the LRU's free list); named by the programs, their
 * load had to wait for it. max_entries here is the template's only: a
 * hash's size is not part of what an inner map must match. */
struct fw_ct_table {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FW_CT_TEMPLATE_ENTRIES);
	/* Sizes, not types: see fw_cls_combine_inner. */
	__uint(key_size, sizeof(struct fw_tuple));
	__uint(value_size, sizeof(struct fw_ct_entry));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct fw_ct_table);
} fw_ct_tables SEC(".maps");

/* The connection table, NULL only before the loader filled the slot (no
 * program is attached then): callers fail closed. One inlined array
 * lookup. */
static __always_inline void *fw_ct_table(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&fw_ct_tables, &zero);
}

/* NAT rules and port forwards of both generations (fw/abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_GENS * FW_NAT_MAX);
	__type(key, __u32);
	__type(value, struct fw_nat_rule);
} fw_nat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_GENS * FW_PF_MAX);
	__type(key, __u32);
	__type(value, struct fw_pf_rule);
} fw_pf SEC(".maps");

/* The applied ruleset and its bookkeeping, zlib-compressed JSON written in
 * chunks by user space (never read by programs): the state lives with the
 * pins, so `down` removes all of it and nothing else can go stale. */
struct fw_meta_chunk {
	__u8 data[16384];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_GENS * 128);
	__type(key, __u32);
	__type(value, struct fw_meta_chunk);
} fw_meta SEC(".maps");

/* Per-CPU room for the two entries fw_ct_insert (lib/ct.h) builds, with
 * or without NAT: the ingress program's stack has no 160 bytes left for
 * them. */
struct fw_ct_scratch {
	struct fw_ct_entry m, a;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_ct_scratch);
} fw_ct_scratch SEC(".maps");

/* `fwctl trace` (lib/trace.h): the switch and filters, one packet's event
 * while it is being built (per CPU: no stack), and the events. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_trace_cfg);
} fw_trace_cfg SEC(".maps");

/* The packet being judged as a possible new connection: its connection
 * key, computed once (lib/ct.h fw_ct_new_of), and the context lib/nat.h's
 * fw_nat_ct_create takes in place of five packed arguments (BPF calls take
 * five registers). Here rather than on the stack for the same 512-byte
 * reason as fw_fib_scratch. Per CPU, used within one program run. */
struct fw_ct_new {
	struct fw_tuple orig; /* the key as the packet arrived (before a port forward) */
	struct fw_tuple key;  /* the key after a port forward rewrote it (dnat) */
	__u32 in_ifindex;
	__u32 out_ifindex;
	__u8 keyed;           /* 0: the packet has no key (orig is zero), not tracked */
	__u8 gen;
	__u8 chain;
	__u8 dnat;            /* a port forward rewrote the packet */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_ct_new);
} fw_key_scratch SEC(".maps");

/* The FIB lookup's parameters (64 bytes) live here, not on the stack:
 * with them there fw_xdp's frame plus fw_nat_ct_create's plus a bpf_loop
 * callback's passed the 512-byte limit on Linux 6.1. Per CPU, used within
 * one program run. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_fib_lookup);
} fw_fib_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_trace_event);
} fw_trace_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} fw_trace_rb SEC(".maps");
/* Stacked devices (fw/abi.h, lib/stack.h), written by the loader from the
 * kernel's view of bridges, bonds and VLANs at apply. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_STACK_IF_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
} fw_stack_if SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct fw_stack_key);
	__type(value, __u32);
} fw_stack SEC(".maps");

/* The fast path (lib/fastpath.h). */
/* Interfaces fwctl is attached to, with FW_FAST_IF_* flags; written at
 * apply, whether the fast path is on or not (ingress NAT reads
 * FW_FAST_IF_VERIFY_CSUM too: lib/nat.h). FW_FAST_IF_OUT: a redirected
 * frame may leave by it (an Ethernet device whose driver transmits XDP
 * frames, NDO_XMIT; never a TUN device, a userspace VPN's). FW_FAST_IF_VERIFY_CSUM: its packets may come from a
 * local stack with unfinished checksums (lib/csum.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY); /* two lookups a packet: no hashing */
	__uint(max_entries, FW_FAST_IF_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64); /* mmapable arrays lay values out 8 bytes apart */
} fw_fast_if SEC(".maps");

/* fw_ipsec_guard[0]: non-zero while kernel XFRM policies for forwarded
 * packets (out, fwd) exist; then nothing takes the fast path, since a
 * redirect would skip their encryption. Written by apply and kept current
 * by `fwctl watch` from XFRM policy events (loader/ipsec_guard.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fw_ipsec_guard SEC(".maps");

/* Later fragments of translated datagrams (lib/nat_frag.h). */
struct fw_frag_nat_key {
	__be32 saddr;
	__be32 daddr;
	__u32 id;
	__u8 proto;
	__u8 which; /* FW_NAT_SRC / FW_NAT_DST */
	__u16 pad;
};

/* As fw_frag: reassembly gives up after 30 s, an LRU keeps the last
 * datagrams. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct fw_frag_nat_key);
	__type(value, __be32);
} fw_frag_nat SEC(".maps");

/* Log events (lib/log.h). 256 KiB: ~3,600 events of 72 bytes (with the ring's header), i.e. six
 * minutes of the default 10/second with no reader. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} fw_log_rb SEC(".maps");

/* The tests' clock (lib/clock.h), in their build only. */
#ifdef FW_TEST_CLOCK
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} fw_test_clock SEC(".maps");
#endif

/* The second this CPU last computed of the connection clock, and where it
 * began (lib/ct.h: fw_ct_now). */
struct fw_clock_second {
	__u64 start_ns;
	__u64 second;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_clock_second);
} fw_clock_second SEC(".maps");

/* Reject answers (lib/reject.h). */
#define FW_QUOTE_MAX 512 /* bpf_csum_diff's limit too */

struct fw_quote_buf {
	__u8 b[FW_QUOTE_MAX];
};

/* Scratch space to checksum the quote: a variable-length packet range
 * cannot be handed to bpf_csum_diff directly, a map value can. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_quote_buf);
} fw_reject_scratch SEC(".maps");

/* Reject answers on their way from XDP to TC ingress (lib/reject.h): the
 * answer's interface and first L3 bytes (struct fw_reject_key, fw/abi.h),
 * written when XDP builds it, taken (deleted) when TC ingress sends it. A
 * frame TC finds no entry for is never sent back out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 256); /* answers are 100 a second, burst 50 */
	__type(key, struct fw_reject_key);
	__type(value, __u64); /* built at, fw_clock_ns() */
} fw_reject_sent SEC(".maps");

/* Rate limits (lib/bucket.h). */
#define FW_BUCKET_LOG 0
#define FW_BUCKET_REJECT 1
#define FW_BUCKETS 2

struct fw_bucket {
	struct bpf_spin_lock lock;
	__u32 burst;     /* the configuration tat was computed under */
	__u64 tat;       /* theoretical arrival time, fw_clock_ns() clock */
	__u64 interval;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_BUCKETS);
	__type(key, __u32);
	__type(value, struct fw_bucket);
} fw_buckets SEC(".maps");

/* The XFRM policy epoch (lib/xfrm_fast.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fw_xfrm_epoch SEC(".maps");

/* The route epoch (lib/route_cache.h): bumped by the route hooks on every
 * route, neighbour and address change, and by the loader when it attaches
 * them. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fw_route_epoch SEC(".maps");

/* Flows whose last new packet was dropped, per CPU (lib/drop_memo.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_DROP_MEMO_SLOTS);
	__type(key, __u32);
	__type(value, struct fw_drop_memo);
} fw_drop_memo SEC(".maps");

static __always_inline void fw_count(void *map, __u32 idx, __u32 len)
{
	struct fw_counter *c = bpf_map_lookup_elem(map, &idx);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* A rule's counter slot, in this CPU's region: no other CPU writes it, as
 * with a per-CPU map, whose creation allocates slot by slot (~60 ms). */
static __always_inline void fw_rule_count(__u32 slot, __u32 len)
{
	if (slot >= FW_MAX_COUNTER_SLOTS)
		return;
	fw_count(&fw_rule_cpu_cnt, bpf_get_smp_processor_id() * FW_MAX_COUNTER_SLOTS + slot, len);
}

/* A datapath counter (FW_STAT_*), inlined: for what most packets count. */
static __always_inline void fw_stat(__u32 stat, __u32 len)
{
	fw_count(&fw_stats, stat, len);
}

/* The same for what few packets count (malformed, failures, logging):
 * one function, so that the verifier inlines its map lookup once instead
 * of at each of ~20 places (each inlined lookup is a patch of the whole
 * program, a tenth of fw_xdp's verification time all together). Not in
 * lib/xfrm_in.h: there the calls made fw_tc_ingress's verification walk
 * a quarter more instructions (25.7k -> 32.3k on 6.18). */
static __noinline void fw_stat_rare(__u32 stat, __u32 len)
{
	fw_count(&fw_stats, stat, len);
}

#endif
