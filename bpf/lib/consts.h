/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Constants of the datapath, named once: protocol numbers the UAPI headers
 * BPF can include do not give, and the bounds the verifier needs to see on
 * packet offsets. Map sizes and what user space shares are in fw/abi.h. */
#ifndef FW_CONSTS_H
#define FW_CONSTS_H

/* ICMP types and codes (RFC 792): linux/icmp.h drags in libc headers. */
#define FW_ICMP_ECHO_REPLY 0
#define FW_ICMP_DEST_UNREACH 3
#define FW_ICMP_PORT_UNREACH 3 /* a code of FW_ICMP_DEST_UNREACH */
#define FW_ICMP_ECHO 8
#define FW_ICMP_TIME_EXCEEDED 11
#define FW_ICMP_PARAMPROB 12

/* ICMPv6 (RFC 4443, RFC 4861). Types 1-4 are the errors. */
#define FW_ICMPV6_DEST_UNREACH 1
#define FW_ICMPV6_PORT_UNREACH 4 /* a code of FW_ICMPV6_DEST_UNREACH */
#define FW_ICMPV6_PARAMPROB 4
#define FW_ICMPV6_ECHO_REQUEST 128
#define FW_ICMPV6_ECHO_REPLY 129
#define FW_ICMPV6_ND_FIRST 133 /* router solicitation */
#define FW_ICMPV6_ND_LAST 137  /* redirect */

/* The fragment offset field of the IPv4 header (the rest are flags). */
#define FW_IP_OFFMASK 0x1fff

/* Bounds on packet offsets, for the verifier: a packet pointer plus an
 * offset it cannot bound gets no range. Each is above what any packet we
 * handle needs.
 *
 * The IP header: Ethernet and at most two VLAN tags (14 + 2 * 4 bytes). */
#define FW_L3_OFF_MAX 22
#define FW_L3_OFF_MASK 0x1f /* covers FW_L3_OFF_MAX */
/* The same with room to spare, where NAT rewrites an IPv4 header; the
 * transport header follows at most 60 bytes of IPv4 header later. */
#define FW_NAT_L3_OFF_MAX 64
#define FW_NAT_L4_OFF_MAX 128
/* Offsets masked before they are added to a packet pointer (1 KiB). */
#define FW_OFF_MASK 0x3ff
/* The end of the IPv6 extension headers we walk. */
#define FW_IPV6_EXT_OFF_MAX 512
/* A transport header a reject answers: past an IPv6 chain we walk. */
#define FW_REJECT_L4_OFF_MAX 600
/* Checksummed ranges (lib/csum.h): start within 1 KiB, masked to 8 KiB. */
#define FW_CSUM_OFF_MAX 1024
#define FW_CSUM_OFF_MASK 0x1fff

#endif
