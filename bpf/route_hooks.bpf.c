/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The route hooks: fentry on what the kernel calls when a route, a
 * neighbour or an address changes, bumping the route epoch that the fast
 * path's route cache checks (lib/route_cache.h). An object of its own, as
 * the IPsec hooks: a kernel refusing tracing programs refuses only these,
 * and a cached route then lives its 134 ms whatever changes
 * (loader/route_hooks.cpp). The map is the firewall's, through its pin.
 *
 * fentry sees every network namespace: a change in any bumps the epoch,
 * which costs this one's connections a lookup each, never a wrong route.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/route_cache.h"

/* Routes, nexthops and rules, IPv4 and IPv6: the events switchdev drivers
 * offload routes from. */
SEC("fentry/call_fib_notifiers")
int fw_route_fib_event(void *ctx)
{
	fw_route_changed();
	return 0;
}

/* A neighbour's link-layer address or state: the event drivers offload
 * neighbours from. */
SEC("fentry/call_netevent_notifiers")
int fw_route_netevent(void *ctx)
{
	fw_route_changed();
	return 0;
}

/* IPv4's own invalidation: addresses, links up and down, MTU, rules. */
SEC("fentry/rt_cache_flush")
int fw_route_cache_flush(void *ctx)
{
	fw_route_changed();
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
