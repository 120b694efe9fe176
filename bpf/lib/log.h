/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Log events of rules with "log": true, through a ring buffer that `fwctl
 * log` drains. One token bucket (bucket.h, FW_BUCKET_LOG) shared by every
 * rule and every CPU limits them: rate and depth come from the applied
 * generation's fw_gen_cfg (the ruleset's "log" object). An event over the
 * limit is counted in FW_STAT_LOG_SUPPRESSED and never queued; so is one
 * that finds the ring full (nobody has read it for a while): either way the
 * event is lost and the counter says so. Policy verdicts are never logged.
 *
 * Comments are not in the event: user space has them in the applied state
 * and looks them up by (chain, position).
 */
#ifndef FW_LOG_H
#define FW_LOG_H

#include "bucket.h"
#include "maps.h"
#include "parse.h"


static __always_inline void fw_log(const struct fw_gen_cfg *cfg, const struct fw_rule *rule,
				   __u32 in_ifindex, __u32 out_ifindex, const struct fw_pkt *p,
				   __u8 verdict)
{
	__u64 now = fw_clock_ns();
	struct fw_log_event *e;

	if (!fw_bucket_take(FW_BUCKET_LOG, now, cfg->log_interval_ns, cfg->log_burst)) {
		fw_stat_rare(FW_STAT_LOG_SUPPRESSED, p->l3_len);
		return;
	}
	e = bpf_ringbuf_reserve(&fw_log_rb, sizeof(*e), 0);
	if (!e) {
		fw_stat_rare(FW_STAT_LOG_SUPPRESSED, p->l3_len);
		return;
	}
	e->ktime_ns = now;
	e->position = rule->position;
	e->in_ifindex = in_ifindex;
	e->out_ifindex = out_ifindex;
	e->len = p->l3_len;
	e->chain = rule->chain;
	e->verdict = verdict;
	e->proto = p->t.proto;
	e->family = p->t.family;
	e->sport = p->has_ports ? p->t.sport : 0;
	e->dport = p->has_ports ? p->t.dport : 0;
	__builtin_memcpy(e->saddr, p->t.saddr, 16);
	__builtin_memcpy(e->daddr, p->t.daddr, 16);
	bpf_ringbuf_submit(e, 0);
	fw_stat_rare(FW_STAT_LOG_EVENTS, p->l3_len);
}

#endif
