// `fwctl stats --reset`: every counter back to zero.
//
// Atomicity. Rule, NAT and port-forward counters live in per-rule slots
// that the applied generation names. The reset re-applies the running
// ruleset with every slot fresh (zeroed before use, never one the running
// generation counts in), so the switch to zero is the same one-word flip of
// fw_active as any apply: each packet counts entirely before the reset (old
// slots, no longer read) or after it (new slots); no reader ever sees some
// rules reset and others not. The policy, state, log and other counters
// (fw_stats, fixed slots) are zeroed right after the flip in one
// BPF_MAP_UPDATE_BATCH call: each one atomically per CPU, but a packet
// counted between the flip and that call (microseconds) lands on either
// side of the reset. The apply lock (held by the caller through
// Runtime::prepare) keeps a concurrent apply from interleaving.
#include <unistd.h>
#include <vector>

#include "bpf_map.h"
#include "stats_export.h"

namespace fw::cli {

void reset_counters(Runtime &rt, const AppliedState &st)
{
	if (geteuid() != 0)
		throw SystemError("resetting counters changes the kernel and needs root (run it with sudo)");
	rt.fresh_counters_next_apply();
	rt.apply(st.ruleset, st.extra); // the running ruleset again; a pending --confirm stays pending

	int fd = rt.map_fd("fw_stats");
	if (fd < 0)
		throw SystemError("the statistics map is not pinned");
	std::vector<uint32_t> keys(FW_STAT_MAX);
	for (uint32_t i = 0; i < FW_STAT_MAX; i++)
		keys[i] = i;
	percpu_counters_zero(fd, keys, "the statistics counters"); // one batch update
}

} // namespace fw::cli
