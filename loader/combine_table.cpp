// Per-generation combine tables (combine_table.h).
#include "combine_table.h"

#include <cerrno>

#include <bpf/bpf.h>

#include "errors.h"
#include "fw/abi.h"
#include "util.h"

namespace fw {

uint32_t combine_capacity_for(size_t need)
{
	size_t want = need + need / 4, cap = FW_COMBINE_MIN_ENTRIES;
	while (cap < want && cap < FW_COMBINE_MAX_ENTRIES)
		cap *= 2;
	return (uint32_t)cap;
}

int combine_table_open(int outer_fd, uint32_t gen)
{
	uint32_t id = 0;
	if (bpf_map_lookup_elem(outer_fd, &gen, &id) != 0)
		return -1; // ENOENT: the slot is empty
	int f = bpf_map_get_fd_by_id(id);
	if (f < 0)
		throw SystemError(errno_message("cannot open the classifier's combine table", errno));
	return f;
}

static uint32_t max_entries_of(int map_fd)
{
	struct bpf_map_info info {};
	uint32_t len = sizeof(info);
	if (bpf_map_get_info_by_fd(map_fd, &info, &len) != 0)
		throw SystemError(errno_message("cannot read the combine table's size", errno));
	return info.max_entries;
}

CombineTable combine_table_for(int outer_fd, uint32_t gen, size_t need)
{
	uint32_t cap = combine_capacity_for(need);
	int cur = combine_table_open(outer_fd, gen);
	if (cur >= 0) {
		uint32_t have = max_entries_of(cur);
		if (have >= need && have <= 2 * cap)
			return CombineTable{Fd(cur), false};
		close(cur);
	}
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	int f = bpf_map_create(BPF_MAP_TYPE_HASH, "fw_cls_comb_gen", sizeof(fw_combine_key),
			       sizeof(uint32_t), cap, &o);
	if (f < 0)
		throw SystemError(errno_message("cannot create a combine table of " + std::to_string(cap) +
							" entries",
						errno));
	return CombineTable{Fd(f), true};
}

void combine_table_install(int outer_fd, uint32_t gen, int table_fd)
{
	uint32_t v = (uint32_t)table_fd;
	if (bpf_map_update_elem(outer_fd, &gen, &v, BPF_ANY) != 0)
		throw SystemError(errno_message("cannot install the combine table", errno));
}

} // namespace fw
