/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The datapath's clocks, and the test clock that can stand in for them.
 *
 *  - fw_clock_ns(): CLOCK_MONOTONIC (bpf_ktime_get_ns), for the token
 *    buckets and log timestamps;
 *  - fw_clock_coarse_ns(): CLOCK_MONOTONIC_COARSE
 *    (bpf_ktime_get_coarse_ns), for connection expiry, which counts whole
 *    seconds and reads it for every packet: the coarse clock is the time of
 *    the last tick, a load where bpf_ktime_get_ns reads the clocksource (in
 *    a VM a paravirtual clock, ~10 % of a forwarded packet's cost). `fwctl
 *    conntrack` reads CLOCK_MONOTONIC; Linux conntrack counts jiffies, which
 *    likewise stop while the machine sleeps.
 *
 * The test clock (as cilium's bpf/tests mock ktime_get_ns): when the
 * object is compiled with -DFW_TEST_CLOCK, an ARRAY map fw_test_clock of
 * one __u64 exists, and a non-zero value in it is "now" for both clocks, so
 * the datapath tests (tests/bpf) drive rate limits and timeouts to the
 * nanosecond instead of sleeping; 0 leaves the real clocks in charge.
 *
 * Production loads cannot enable it: the object fwctl embeds is compiled
 * without FW_TEST_CLOCK, so neither the map nor the branch exists in it
 * (nothing to set, no instruction spent). Only the datapath test binary
 * links a library built around the second object (CMakeLists.txt:
 * fw_test_skel, fwcore_test). A `const volatile` switch in .rodata would
 * also cost nothing once the verifier prunes it, but the production loader
 * would then need a code path that sets it.
 */
#ifndef FW_CLOCK_H
#define FW_CLOCK_H

#include "common.h"
#include "maps.h"
#ifdef FW_TEST_CLOCK
static __always_inline __u64 fw_test_clock_now(void)
{
	__u64 *t = bpf_map_lookup_elem(&fw_test_clock, &(__u32){ 0 });

	return t ? *t : 0;
}
#endif

static __always_inline __u64 fw_clock_ns(void)
{
#ifdef FW_TEST_CLOCK
	__u64 t = fw_test_clock_now();

	if (t)
		return t;
#endif
	return bpf_ktime_get_ns();
}

static __always_inline __u64 fw_clock_coarse_ns(void)
{
#ifdef FW_TEST_CLOCK
	__u64 t = fw_test_clock_now();

	if (t)
		return t;
#endif
#ifdef FW_TRACING_PROG
	/* Tracing programs (fentry) may not read the coarse clock, which is
	 * not safe in NMI: the same CLOCK_MONOTONIC, read finely. */
	return bpf_ktime_get_ns();
#else
	return bpf_ktime_get_coarse_ns();
#endif
}

#endif
