/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Connection tracking. (Filled in by the connection-tracking work; until
 * then every packet is NEW and meets the chains.) */
#ifndef FW_CT_H
#define FW_CT_H

#include "maps.h"
#include "parse.h"

enum fw_ct_result {
	FW_CT_NEW = 0,
	FW_CT_ESTABLISHED,
	FW_CT_RELATED,
	FW_CT_INVALID,
};

/* Ingress: is this packet part of (or related to) a tracked connection? */
static __always_inline int fw_ct_ingress(struct fw_pkt *p, __u32 in_ifindex)
{
	return FW_CT_NEW;
}

/* A rule or policy accepted a NEW packet: remember its connection. */
static __always_inline void fw_ct_create(struct fw_pkt *p, __u32 in_ifindex, __u32 out_ifindex)
{
}

/* Egress (TC): packets this host sends. Returns a TC action. */
static __always_inline int fw_ct_egress(struct fw_pkt *p, __u32 out_ifindex)
{
	return TC_ACT_OK;
}

#endif
