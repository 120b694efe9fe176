/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Checksum arithmetic: RFC 1624 incremental updates (NAT), RFC 1071 sums
 * (reject answers), and verifying a transport checksum in XDP.
 *
 * Why verify: a packet a local stack sent over a veth (a container's, or another
 * namespace's) carries CHECKSUM_PARTIAL: its TCP/UDP checksum field holds
 * only the pseudo-header sum, and the skb says "finish me". XDP cannot see
 * that flag. The stack keeps it and is right; a frame redirected from XDP
 * loses it and arrives with a wrong checksum (the receiver drops it), and
 * an incremental NAT update of such a field is wrong too. So before the
 * fast path rewrites or redirects a packet from such a device, it checks
 * the sum; a packet that fails goes to the stack, which handles both the
 * partial and the corrupt ones correctly. */
#ifndef FW_CSUM_H
#define FW_CSUM_H

#include "common.h"
#include "parse.h"

static __always_inline __u32 fw_csum_add(__u32 a, __u32 b)
{
	__u32 r = a + b;

	return r + (r < a);
}

/* The 16-bit checksum (complemented) of an unfolded sum. */
static __always_inline __u16 fw_csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* RFC 1624 incremental update, HC' = ~(~HC + ~m + m'), of a 16-bit
 * checksum for a 32-bit word changing from `from` to `to`. One's
 * complement sums do not care about byte order, so words go in as they
 * sit in the packet. Plain arithmetic, so XDP can use it too (the skb
 * helpers exist only in TC). */
static __always_inline __u16 fw_csum_replace4(__u16 csum, __u32 from, __u32 to)
{
	__u32 s = (__u16)~csum;

	s += (__u16)~(from & 0xffff);
	s += (__u16)~(from >> 16);
	s += to & 0xffff;
	s += to >> 16;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __always_inline __u16 fw_csum_replace2(__u16 csum, __u16 from, __u16 to)
{
	return fw_csum_replace4(csum, from, to);
}

/* The same change for a field holding a seed (fw_csum_holds_seed): a sum,
 * not its complement, so the word comes out and goes in the other way
 * round, as inet_proto_csum_replace4() does for CHECKSUM_PARTIAL. */
static __always_inline __u16 fw_csum_seed_replace4(__u16 seed, __u32 from, __u32 to)
{
	return (__u16)~fw_csum_replace4((__u16)~seed, from, to);
}

/* Sums of memory words as bpf_csum_diff computes them (memory order), so
 * constants of the pseudo-header are added in network byte order. */
static __always_inline __u32 fw_csum_mem(void *p, __u32 size, __u32 seed)
{
	return (__u32)bpf_csum_diff(NULL, 0, p, size, seed);
}

/* Longest transport segment verified; longer ones go to the stack. */
#define FW_CSUM_MAX_L4 4096

/* Sums are kept as 64-bit accumulators of 32-bit memory words (memory
 * order, as bpf_csum_diff sums), folded once at the end: one's complement
 * addition does not care how the carries are collected. */

/* Where the block of bit K of len starts: the blocks go largest first, so
 * after every higher bit of len. Computed afresh for every block, not
 * carried in a running offset: with a running offset each of the 2^n ways
 * through the blocks reached the next one with another offset, and the
 * verifier walked them all (63,000 of fw_xdp's 164,000 instructions).
 * Constant sizes: the verifier bounds every access. */
#define FW_CSUM_STEP_OFF(K) ((off + (len & ~(2u * (K) - 1))) & FW_CSUM_OFF_MASK)

/* Adds `K` (64..256) bytes with the helper when bit K of len is set. */
#define FW_CSUM_HELPER_STEP(K)                                                                     \
	do {                                                                                       \
		if (len & (K)) {                                                                   \
			void *q = data + FW_CSUM_STEP_OFF(K);                                      \
			__s64 r;                                                                   \
			if (q + (K) > data_end)                                                    \
				return 0;                                                          \
			r = bpf_csum_diff(NULL, 0, q, (K), 0);                                     \
			if (r < 0)                                                                 \
				return 0;                                                          \
			sum += (__u32)r;                                                           \
		}                                                                                  \
	} while (0)

/* The same for 4..32 bytes with plain loads: cheaper than a helper call
 * for the short segments that make up most packets. */
#define FW_CSUM_LOAD_STEP(K)                                                                       \
	do {                                                                                       \
		if (len & (K)) {                                                                   \
			__u32 *w = data + FW_CSUM_STEP_OFF(K);                                     \
			if ((void *)w + (K) > data_end)                                            \
				return 0;                                                          \
			_Pragma("unroll") for (int j = 0; j < (K) / 4; j++) sum += w[j];           \
		}                                                                                  \
	} while (0)

static __always_inline __u16 fw_csum_fold64(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	return fw_csum_fold((__u32)s);
}

/* Adds the `len` bytes at data+off to *sum. Returns 0 when they are not
 * all in the frame (the caller then refuses the packet). */
static __always_inline int fw_csum_pkt_range(void *data, void *data_end, __u32 off, __u32 len,
					     __u64 *acc)
{
	__u64 sum = *acc;
	__u8 tail[4] = {};

	if (len > FW_CSUM_MAX_L4 || off > FW_CSUM_OFF_MAX)
		return 0;
	/* Segments of 64 bytes or more (the helper's blocks): one test spares
	 * the short ones, most of a small-packet flood and every bare TCP ACK,
	 * the block loop and three block tests. */
	if (len >= 64) {
		/* 512 bytes is bpf_csum_diff's largest block. */
		for (int i = 0; i < FW_CSUM_MAX_L4 / 512; i++) {
			void *q;
			__s64 r;

			if ((__u32)(i + 1) * 512 > len)
				break;
			q = data + ((off + i * 512) & FW_CSUM_OFF_MASK);
			if (q + 512 > data_end)
				return 0;
			r = bpf_csum_diff(NULL, 0, q, 512, 0);
			if (r < 0)
				return 0;
			sum += (__u32)r;
		}
		FW_CSUM_HELPER_STEP(256);
		FW_CSUM_HELPER_STEP(128);
		FW_CSUM_HELPER_STEP(64);
	}
	FW_CSUM_LOAD_STEP(32);
	FW_CSUM_LOAD_STEP(16);
	FW_CSUM_LOAD_STEP(8);
	FW_CSUM_LOAD_STEP(4);
	/* 1-3 bytes: padded with zeros on the right, as RFC 1071 pads. */
	for (int i = 0; i < 3; i++) {
		__u8 *b = data + ((off + (len & ~3u) + i) & FW_CSUM_OFF_MASK);

		if ((__u32)i >= (len & 3))
			break;
		if ((void *)(b + 1) > data_end)
			return 0;
		tail[i] = *b;
	}
	sum += *(__u32 *)tail;
	*acc = sum;
	return 1;
}

/* 1 when the TCP, UDP, ICMP or ICMPv6 checksum of `p` is right; 0 when it
 * is wrong, cannot be checked here, or the protocol is another (SCTP's
 * CRC32c may be offloaded too). A UDP datagram without a checksum (zero,
 * IPv4) is 0: nothing to check it by, and a tunnel sends its outer header
 * without one while the sum left unfinished is the inner packet's (VXLAN:
 * the redirected frame would arrive with an inner seed for a checksum). */
static __always_inline int fw_l4_csum_ok(void *data, void *data_end, const struct fw_pkt *p)
{
	__u64 sum = 0;
	__u32 l4_len;
	int pseudo = 1;

	if (!p->l4_ok || p->frag != FW_FRAG_NONE || p->l4_off < p->l3_off)
		return 0;
	l4_len = p->l3_off + p->l3_len - p->l4_off;
	if (l4_len > FW_CSUM_MAX_L4)
		return 0;
	switch (p->t.proto) {
	case IPPROTO_TCP:
		break;
	case IPPROTO_UDP: {
		struct udphdr *uh = data + (p->l4_off & FW_OFF_MASK);

		if ((void *)(uh + 1) > data_end)
			return 0;
		if (uh->check == 0)
			return 0;
		break;
	}
	case IPPROTO_ICMP:
		pseudo = 0;
		break;
	case IPPROTO_ICMPV6:
		break;
	default:
		return 0;
	}
	if (pseudo) {
		__u32 a[4], b[4];

		if (p->t.family == 4) {
			__builtin_memcpy(a, p->t.saddr, 4);
			__builtin_memcpy(b, p->t.daddr, 4);
			sum = (__u64)a[0] + b[0] + bpf_htons((__u16)p->t.proto) + bpf_htons((__u16)l4_len);
		} else {
			__builtin_memcpy(a, p->t.saddr, 16);
			__builtin_memcpy(b, p->t.daddr, 16);
			sum = (__u64)a[0] + a[1] + a[2] + a[3] + b[0] + b[1] + b[2] + b[3] +
			      bpf_htonl(l4_len) + bpf_htonl((__u32)p->t.proto);
		}
	}
	if (!fw_csum_pkt_range(data, data_end, p->l4_off, l4_len, &sum))
		return 0;
	return fw_csum_fold64(sum) == 0; /* the sum over it all is 0xffff */
}

/* 1 when the TCP or UDP checksum field of the IPv4 packet p holds exactly
 * the seed a local stack leaves for "hardware" to finish (CHECKSUM_PARTIAL):
 * the sum of the pseudo-header, folded, not complemented
 * (tcp_v4_send_check, udp4_hwcsum, the GRO merges). A finished checksum
 * holds that value by chance once in 65,536 packets; fw_nat_dnat_seed
 * tells those apart. */
static __always_inline int fw_csum_holds_seed(void *data, void *data_end, const struct fw_pkt *p)
{
	__u32 l4_len = p->l3_off + p->l3_len - p->l4_off;
	__u32 sa, da;
	__u16 field;
	__u64 sum;

	if (p->t.family != 4 || !p->l4_ok || p->frag != FW_FRAG_NONE)
		return 0;
	if (p->t.proto == IPPROTO_TCP) {
		struct tcphdr *th = data + (p->l4_off & FW_OFF_MASK);

		if ((void *)(th + 1) > data_end)
			return 0;
		field = th->check;
	} else if (p->t.proto == IPPROTO_UDP) {
		struct udphdr *uh = data + (p->l4_off & FW_OFF_MASK);

		if ((void *)(uh + 1) > data_end)
			return 0;
		field = uh->check;
	} else {
		return 0;
	}
	__builtin_memcpy(&sa, p->t.saddr, 4);
	__builtin_memcpy(&da, p->t.daddr, 4);
	sum = (__u64)sa + da + bpf_htons((__u16)p->t.proto) + bpf_htons((__u16)l4_len);
	return field && field == (__u16)~fw_csum_fold64(sum);
}

/* fw_l4_csum_ok on an XDP frame, as a global function (not static, never
 * inlined): the verifier checks its unrolled sums once, on their own,
 * instead of once for every state of fw_ingress that reaches a caller
 * (inlined, they were half of fw_xdp's verified instructions). Global
 * functions take the context, not packet pointers; `p` may be NULL to the
 * verifier, so it is tested. */
__noinline int fw_xdp_l4_csum_ok(struct xdp_md *ctx, const struct fw_pkt *p)
{
	if (!p)
		return 0;
	return fw_l4_csum_ok((void *)(long)ctx->data, (void *)(long)ctx->data_end, p);
}

#endif
