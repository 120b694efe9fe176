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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4 * 1024 * 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fw_combine_key);
	__type(value, __u32);
} fw_cls_combine SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FW_GENS * FW_MAX_RULES);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct fw_rule);
} fw_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FW_MAX_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct fw_counter);
} fw_rule_cnt SEC(".maps");

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
 * figures: docs/conntrack.md). max_entries below is the default; the
 * loader sets the ruleset's "conntrack" size before loading. When it is
 * full, an insert evicts the least recently used entries instead of
 * failing; FW_STAT_CT_FULL counts the inserts that failed anyway. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, FW_CT_MAX_ENTRIES);
	__type(key, struct fw_tuple);
	__type(value, struct fw_ct_entry);
} fw_ct SEC(".maps");

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

/* Per-CPU room for the two entries fw_ct_insert (lib/ct.h) builds: the
 * ingress program's stack has no 160 bytes left for them. */
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

/* A new connection's key as its first packet arrived (before a port
 * forward rewrites it), kept here rather than on the stack for the same
 * 512-byte reason as fw_fib_scratch. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fw_tuple);
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

static __always_inline void fw_count(void *map, __u32 idx, __u32 len)
{
	struct fw_counter *c = bpf_map_lookup_elem(map, &idx);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline void fw_stat(__u32 stat, __u32 len)
{
	fw_count(&fw_stats, stat, len);
}

#endif
