/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Verifying a transport checksum in XDP.
 *
 * Why: a packet a local stack sent over a veth (a container's, or another
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

/* Sums of memory words as bpf_csum_diff computes them (memory order), so
 * constants of the pseudo-header are added in network byte order. */
static __always_inline __u32 fw_csum_mem(void *p, __u32 size, __u32 seed)
{
	return (__u32)bpf_csum_diff(NULL, 0, p, size, seed);
}

/* Longest transport segment verified; longer ones go to the stack. */
#define FW_CSUM_MAX_L4 4096

/* Adds `K` bytes at data+off to *sum when the bit K of *left is set. The
 * sizes are constants, so the verifier can bound every access. */
#define FW_CSUM_STEP(K)                                                                 \
	do {                                                                            \
		if (left & (K)) {                                                       \
			void *q = data + (off & 0x1fff);                                \
			if (q + (K) > data_end)                                         \
				return 0;                                               \
			sum = bpf_csum_diff(NULL, 0, q, (K), (__u32)sum);               \
			off += (K);                                                     \
		}                                                                       \
	} while (0)

/* One's complement sum (unfolded, as bpf_csum_diff keeps it) of `len`
 * bytes at data+off, added to `seed`. Returns 0 when the bytes are not all
 * in the frame (the caller then refuses the packet). */
static __always_inline int fw_csum_pkt_range(void *data, void *data_end, __u32 off, __u32 len,
				       __u32 seed, __u32 *out)
{
	__s64 sum = seed;
	__u32 left = len;
	__u8 tail[4] = {};

	if (len > FW_CSUM_MAX_L4 || off > 1024)
		return 0;
	/* 512 bytes is bpf_csum_diff's largest block. */
	for (int i = 0; i < FW_CSUM_MAX_L4 / 512; i++) {
		void *q;

		if (left < 512)
			break;
		q = data + (off & 0x1fff);
		if (q + 512 > data_end)
			return 0;
		sum = bpf_csum_diff(NULL, 0, q, 512, (__u32)sum);
		off += 512;
		left -= 512;
	}
	FW_CSUM_STEP(256);
	FW_CSUM_STEP(128);
	FW_CSUM_STEP(64);
	FW_CSUM_STEP(32);
	FW_CSUM_STEP(16);
	FW_CSUM_STEP(8);
	FW_CSUM_STEP(4);
	/* 1-3 bytes: padded with zeros on the right, as RFC 1071 pads. */
	for (int i = 0; i < 3; i++) {
		__u8 *b = data + ((off + i) & 0x1fff);

		if ((__u32)i >= (left & 3))
			break;
		if ((void *)(b + 1) > data_end)
			return 0;
		tail[i] = *b;
	}
	if (left & 3)
		sum = bpf_csum_diff(NULL, 0, (__be32 *)tail, 4, (__u32)sum);
	if (sum < 0)
		return 0;
	*out = (__u32)sum;
	return 1;
}

/* 1 when the TCP, UDP, ICMP or ICMPv6 checksum of `p` is right (a UDP/IPv4
 * checksum of zero means none was sent: right); 0 when it is wrong, cannot
 * be checked here, or the protocol is another (SCTP's CRC32c may be
 * offloaded too). */
static __always_inline int fw_l4_csum_ok(void *data, void *data_end, const struct fw_pkt *p)
{
	__u32 l4_len, sum = 0;
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
		struct udphdr *uh = data + (p->l4_off & 0x3ff);

		if ((void *)(uh + 1) > data_end)
			return 0;
		if (uh->check == 0)
			return p->t.family == 4; /* IPv6 requires a checksum */
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
		if (p->t.family == 4) {
			struct {
				__be32 s, d;
				__u8 zero, proto;
				__be16 len;
			} ph = {.zero = 0, .proto = p->t.proto, .len = bpf_htons((__u16)l4_len)};

			__builtin_memcpy(&ph.s, p->t.saddr, 4);
			__builtin_memcpy(&ph.d, p->t.daddr, 4);
			sum = fw_csum_mem(&ph, sizeof(ph), 0);
		} else {
			struct {
				__u8 s[16], d[16];
				__be32 len;
				__u8 zero[3], nh;
			} ph = {.len = bpf_htonl(l4_len), .nh = p->t.proto};

			__builtin_memcpy(ph.s, p->t.saddr, 16);
			__builtin_memcpy(ph.d, p->t.daddr, 16);
			sum = fw_csum_mem(&ph, sizeof(ph), 0);
		}
	}
	if (!fw_csum_pkt_range(data, data_end, p->l4_off, l4_len, sum, &sum))
		return 0;
	return fw_csum_fold(sum) == 0; /* the sum over it all is 0xffff */
}

#endif
