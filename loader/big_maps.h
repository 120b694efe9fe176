// The largest maps of a first load, created on threads: the kernel
// allocates and zeroes tens of MiB for them. The connection table is the
// longest, ~45 ms for the default one (bpf_lru_populate puts every entry
// on the free list); the programs reach it through an array of maps
// (fw_ct_tables, bpf/lib/maps.h), so it is created while the kernel
// verifies them and goes in its slot afterwards. The others (rule counters,
// classifier arrays, a few MiB each) are handed to the object before it
// loads. An apply that will load fresh starts them all before it compiles
// the ruleset, so that the compile happens meanwhile.
#pragma once

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

struct bpf_map;
struct fw_bpf;

namespace fw {

// This build's BPF object, opened (not loaded; load.cpp). nullptr and
// errno on failure.
struct fw_bpf *open_datapath_object();

// A connection table for `connections` connections (two entries each), of
// the layout of fw_ct_tables' inner map (`outer`): its fd, or -errno.
int create_connection_table(struct bpf_map *outer, uint32_t connections);

class BigMapsAhead {
public:
	BigMapsAhead() = default;
	BigMapsAhead(const BigMapsAhead &) = delete;
	~BigMapsAhead() { clear(); }
	// Starts creating them, the connection table for ct_connections (any
	// maps made earlier and not handed over are closed first).
	void start(uint32_t ct_connections);
	bool started() const { return started_; }
	// Gives the maps of skel's own to skel's maps of the same name and
	// layout (the others, and any that failed here, libbpf creates in
	// fw_bpf__load, which reports a failure). Waits for them; closes them.
	void hand_to(struct fw_bpf *skel);
	// The connection table, once made: its fd, the caller's to close, or
	// -errno (it failed, or was not started).
	int take_connection_table();
	void clear();

private:
	struct Made {
		std::string name;
		uint32_t type, key_size, value_size, max_entries, flags;
		int fd;
	};
	std::thread thread_, ct_thread_;
	std::vector<Made> made_;
	int ct_fd_ = -ENOENT;
	bool started_ = false;
};

} // namespace fw
