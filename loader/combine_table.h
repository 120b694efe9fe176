// The classifier's combine table, one BPF hash per generation behind the
// ARRAY_OF_MAPS fw_cls_combine (fw/abi.h). A hash's bucket array is
// allocated whole when it is created, so each generation's table is sized
// from what its ruleset compiled to instead of the 4 Mi entries a ruleset
// may need at most: a one-rule ruleset costs kilobytes, not 64 MiB.
#pragma once

#include <cstddef>
#include <cstdint>

#include "bpf_map.h"

namespace fw {

// The capacity a table for `need` entries gets: room to grow by a quarter
// (a re-apply that adds a few rules fits and is written as a diff), rounded
// up to a power of two (the kernel rounds the bucket count anyway),
// FW_COMBINE_MIN_ENTRIES..FW_COMBINE_MAX_ENTRIES.
uint32_t combine_capacity_for(size_t need);

// Generation `gen`'s table when it has room for `need` entries and is at
// most twice the size it would get now (a ruleset that shrank gives memory
// back);
// otherwise a new, empty table of combine_capacity_for(need), not yet in the
// slot (`fresh`): fill it, then combine_table_install().
struct CombineTable {
	Fd fd;
	bool fresh = false;
};
CombineTable combine_table_for(int outer_fd, uint32_t gen, size_t need);

// Puts `table` into generation `gen`'s slot; the table it replaces is freed
// by the kernel once no packet reads it.
void combine_table_install(int outer_fd, uint32_t gen, int table_fd);

// Generation `gen`'s table, or -1 when the slot is empty (a fresh load).
int combine_table_open(int outer_fd, uint32_t gen);

} // namespace fw
