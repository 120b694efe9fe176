/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* "reject": answer TCP with RST, others with ICMP port unreachable. (Filled
 * in by the reject work; until then a reject is a drop, never an accept.) */
#ifndef FW_REJECT_H
#define FW_REJECT_H

#include "parse.h"

static __always_inline int fw_reject_xdp(struct xdp_md *ctx, struct fw_pkt *p, int l3)
{
	return XDP_DROP;
}

#endif
