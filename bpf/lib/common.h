/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef FW_COMMON_H
#define FW_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fw/abi.h"
#include "consts.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

/* linux/icmp.h drags in libc socket headers, which BPF cannot build. ICMP
 * and ICMPv6 share this first part. */
struct fw_icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

struct frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

/* linux/if_packet.h: skb->pkt_type of a frame for another host's MAC. */
#ifndef PACKET_OTHERHOST
#define PACKET_OTHERHOST 3
#endif

#endif
