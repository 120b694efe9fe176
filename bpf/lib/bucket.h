/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Token buckets shared by all CPUs: one for log events (rate and depth from
 * fw_gen_cfg, i.e. the ruleset's "log" object), one for rejects (fixed).
 *
 * Design: GCRA ("virtual scheduling"), the token bucket expressed as one
 * timestamp, tat = the time at which the bucket will be full again plus one
 * interval. An event at time now conforms when tat <= now + (burst-1) *
 * interval; it then moves tat to max(tat, now) + interval. Back-to-back
 * events get exactly `burst` through, then one per interval: the same
 * budget as nftables' "limit rate R burst B".
 *
 * Why bpf_spin_lock and not a lock-free compare-and-swap on tat: the
 * read-test-write must be atomic across CPUs or two CPUs would both spend the
 * last token. A cmpxchg loop needs -mcpu=v3 for the whole object and a
 * bounded retry count (and a policy for running out of retries); the spin
 * lock needs neither, the critical section is a handful of instructions with
 * no helper calls, and log/reject traffic is by definition rate-limited, so
 * contention is rare. The clock (fw_clock_ns, clock.h) is read before
 * taking the lock (helpers are not allowed under it); a CPU that loses the
 * race therefore tests with a slightly older `now`, and may find tat beyond
 * now + burst * interval. That must only make it stricter: the bucket keeps
 * the configuration tat was computed under, and only a changed one may
 * reset tat (a stale `now` once read as "the rate was made faster" and
 * handed out a fresh burst).
 *
 * The map is an ARRAY pinned with the others, so the buckets survive
 * re-applies (a re-apply does not hand out a fresh burst); they start full
 * after the first apply.
 */
#ifndef FW_BUCKET_H
#define FW_BUCKET_H

#include "common.h"
#include "clock.h"
#include "maps.h"


/* Longest interval and deepest bucket we compute with: (burst - 1) *
 * interval stays far below 2^64 (one per hour times a million). */
#define FW_BUCKET_MAX_INTERVAL 3600000000000ull
#define FW_BUCKET_MAX_BURST 1000000u

/* Returns 1 when a token was taken (the event may go), 0 when over limit. */
static __always_inline int fw_bucket_take(__u32 idx, __u64 now, __u64 interval, __u32 burst)
{
	struct fw_bucket *b = bpf_map_lookup_elem(&fw_buckets, &idx);
	__u64 limit, full, tat;
	int ok = 0;

	if (!b)
		return 0;
	if (interval > FW_BUCKET_MAX_INTERVAL)
		interval = FW_BUCKET_MAX_INTERVAL;
	if (burst < 1)
		burst = 1;
	if (burst > FW_BUCKET_MAX_BURST)
		burst = FW_BUCKET_MAX_BURST;
	limit = now + (__u64)(burst - 1) * interval;
	full = limit + interval;

	bpf_spin_lock(&b->lock);
	tat = b->tat;
	if (b->interval != interval || b->burst != burst) {
		/* A re-apply changed the limit. When the rate was made
		 * faster, tat may lie beyond now + burst * interval: start
		 * that bucket full, as nftables does with a new limit. */
		if (tat > full)
			tat = 0;
		b->interval = interval;
		b->burst = burst;
	}
	/* Under one configuration, tat > full only means this CPU's `now`
	 * is older than the one that last moved tat: no token for it. */
	if (tat <= limit) {
		b->tat = (tat > now ? tat : now) + interval;
		ok = 1;
	}
	bpf_spin_unlock(&b->lock);
	return ok;
}

#endif
