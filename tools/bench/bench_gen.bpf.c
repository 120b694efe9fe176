/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Load generator for the forwarding benchmark. Never attached: user space
 * runs it with BPF_PROG_TEST_RUN + BPF_F_TEST_XDP_LIVE_FRAMES, and every
 * frame it returns XDP_REDIRECT for is transmitted out of `out_ifindex`
 * (the src namespace's veth) as a real frame.
 *
 * Live-frame mode recycles its pages: a frame's content is only the test
 * input the first time a page is used, and whatever the previous run left
 * (or the stack scribbled) afterwards. So the headers are written on every
 * run, from a template user space fills in before load.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define HDR_LEN (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))

/* Set by user space between open and load (.rodata: the verifier sees
 * constants). hdr is Ethernet + IPv4 + UDP, checksums filled in for
 * source port sport_base; other source ports fix the UDP checksum up. */
const volatile __u32 out_ifindex = 0;
const volatile __u32 flows = 1;      /* distinct UDP source ports */
const volatile __u32 sources = 1;    /* distinct source addresses: the template's, last octet + 0..sources-1 */
const volatile __u16 sport_base = 10000;
const volatile __u8 hdr[HDR_LEN] = {};

/* Frames handed to bpf_redirect, per CPU. A frame the veth then refuses
 * (ring full) is still counted: this is the offered load. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gen_sent SEC(".maps");

/* RFC 1624: HC' = ~(~HC + ~m + m'), one 16-bit word m -> m' (host order).
 * A UDP sum of 0 is sent as 0xffff (0 means "no checksum"). */
static __always_inline __be16 csum_fix(__be16 check, __u16 m, __u16 m2, int udp)
{
	__u32 c = (__u16)~bpf_ntohs(check);

	c += (__u16)~m;
	c += m2;
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	if (udp && !(__u16)~c)
		return bpf_htons(0xffff);
	return bpf_htons((__u16)~c);
}

SEC("xdp")
int fw_bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	__u32 key = 0;
	__u64 *sent;

	if (data + HDR_LEN > data_end)
		return XDP_ABORTED;
#pragma unroll
	for (int i = 0; i < (int)HDR_LEN; i++)
		p[i] = hdr[i];

	sent = bpf_map_lookup_elem(&gen_sent, &key);
	if (!sent)
		return XDP_ABORTED;
	if (flows > 1) {
		struct udphdr *udp = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
		__u16 port = sport_base + (__u16)(*sent % flows);

		udp->check = csum_fix(udp->check, sport_base, port, 1);
		udp->source = bpf_htons(port);
	}
	if (sources > 1) {
		/* The next source address once every port was used: with
		 * --flows 64000 --sources 250, 16 million flows before one
		 * repeats, so every packet opens a connection. */
		struct iphdr *ip = data + sizeof(struct ethhdr);
		struct udphdr *udp = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
		__u16 *low = (__u16 *)&ip->saddr + 1; /* the last two octets, one checksum word */
		__u16 old = bpf_ntohs(*low);
		__u16 new = old + (__u16)((*sent / flows) % sources);

		ip->check = csum_fix(ip->check, old, new, 0);
		udp->check = csum_fix(udp->check, old, new, 1); /* the pseudo-header */
		*low = bpf_htons(new);
	}
	*sent += 1;
	return bpf_redirect(out_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
