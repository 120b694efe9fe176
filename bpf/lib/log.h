/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Log events of rules with "log": true. (Filled in by the logging work.) */
#ifndef FW_LOG_H
#define FW_LOG_H

#include "maps.h"
#include "parse.h"

static __always_inline void fw_log(const struct fw_gen_cfg *cfg, const struct fw_rule *rule,
				   __u32 in_ifindex, __u32 out_ifindex, const struct fw_pkt *p,
				   __u8 verdict)
{
}

#endif
