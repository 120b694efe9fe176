// The largest maps of a first load (the connection table, the rule
// counters, a few of some MiB), created on threads: the kernel allocates and
// zeroes tens of MiB for them, ~50 ms for the default connection table
// (bpf_lru_populate puts every entry on the free list). Side by side they
// cost the longest one instead of their sum, and an apply that will load
// fresh starts them before it compiles the ruleset, so that the compile
// (~8 ms for one rule, most of it hashing) happens meanwhile.
#pragma once

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

struct fw_bpf;

namespace fw {

// This build's BPF object, opened (not loaded), its connection table sized
// for ct_connections (load.cpp). nullptr and errno on failure.
struct fw_bpf *open_datapath_object_sized(uint32_t ct_connections);

class BigMapsAhead {
public:
	BigMapsAhead() = default;
	BigMapsAhead(const BigMapsAhead &) = delete;
	~BigMapsAhead() { clear(); }
	// Starts creating them for a table of ct_connections connections (any
	// maps made earlier and not handed over are closed first).
	void start(uint32_t ct_connections);
	bool started() const { return started_; }
	// Gives them to skel's maps of the same name and layout (the others,
	// and any that failed here, libbpf creates in fw_bpf__load, which
	// reports a failure). Waits for the threads; closes what it made.
	void hand_to(struct fw_bpf *skel);
	void clear();

private:
	struct Made {
		std::string name;
		uint32_t type, key_size, value_size, max_entries, flags;
		int fd;
	};
	std::thread thread_;
	std::vector<Made> made_;
	bool started_ = false;
};

} // namespace fw
