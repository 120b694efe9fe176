// A thin RAII layer over BPF maps: owned descriptors, mmaped arrays, batch
// reads, writes and deletes, per-CPU counter sums.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <bpf/bpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include "errors.h"
#include "util.h"

namespace fw {

// An owned file descriptor, closed on destruction (-1: none).
struct Fd {
	int fd = -1;
	explicit Fd(int f) : fd(f) {}
	Fd(Fd &&o) noexcept : fd(o.fd) { o.fd = -1; }
	~Fd()
	{
		if (fd >= 0)
			close(fd);
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
};

// A writable view of a BPF_F_MMAPABLE array. Array maps store each value
// in a multiple of 8 bytes (elem_size is rounded up): the mmap shows that.
struct Mapped {
	void *p = MAP_FAILED;
	size_t len = 0;
	Mapped(int fd, size_t bytes);
	~Mapped();
	Mapped(const Mapped &) = delete;
	Mapped &operator=(const Mapped &) = delete;
	template <class T> T *as() { return static_cast<T *>(p); }
};

// bpf_map_update_elem(BPF_ANY), throwing SystemError("writing WHAT: ...").
void map_update(int fd, const void *key, const void *value, const char *what);

// Every (key, value) pair, one get_next_key and lookup per entry.
template <class K, class V> std::vector<std::pair<K, V>> map_entries_one_by_one(int fd)
{
	std::vector<std::pair<K, V>> out;
	K cur{}, next{};
	const K *prev = nullptr;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		V v{};
		if (bpf_map_lookup_elem(fd, &next, &v) == 0)
			out.emplace_back(next, v);
		cur = next;
		prev = &cur;
	}
	return out;
}

// Every (key, value) pair of a hash map or LPM trie, a few syscalls per
// `batch` entries; one lookup per key where a hash bucket outgrows a batch.
// The batch token is a key for the generic batch code (LPM trie) and a
// bucket number for hash maps: room for either.
template <class K, class V>
std::vector<std::pair<K, V>> map_entries(int fd, const char *what, uint32_t batch = 65536)
{
	std::vector<std::pair<K, V>> out;
	std::vector<K> keys(batch);
	std::vector<V> vals(batch);
	alignas(8) uint8_t in_batch[std::max<size_t>(sizeof(K), 8)] = {};
	alignas(8) uint8_t out_batch[sizeof(in_batch)] = {};
	for (bool first = true;; first = false) {
		uint32_t n = batch;
		int rc = bpf_map_lookup_batch(fd, first ? nullptr : in_batch, out_batch, keys.data(), vals.data(),
					      &n, nullptr);
		int err = rc ? errno : 0;
		for (uint32_t i = 0; i < n; i++)
			out.emplace_back(keys[i], vals[i]);
		if (rc && err == ENOENT)
			break; // the last batch
		if (rc && err == ENOSPC)
			return map_entries_one_by_one<K, V>(fd);
		if (rc)
			throw SystemError(errno_message(std::string("reading ") + what, err));
		memcpy(in_batch, out_batch, sizeof(in_batch));
	}
	return out;
}

// Writes keys[i] -> vals[i], 64k at a time.
template <class K, class V>
void map_update_all(int fd, const std::vector<K> &keys, const std::vector<V> &vals, const char *what)
{
	for (size_t i = 0; i < keys.size(); i += 65536) {
		uint32_t n = (uint32_t)std::min<size_t>(65536, keys.size() - i);
		if (bpf_map_update_batch(fd, keys.data() + i, vals.data() + i, &n, nullptr) != 0)
			throw SystemError(errno_message(std::string("writing ") + what, errno));
	}
}

// Deletes the keys, 64k at a time. A key gone already (LRU eviction,
// expiry) stops a batch: that batch is then deleted one by one.
template <class K> void map_delete_all(int fd, const std::vector<K> &keys, const char *what)
{
	for (size_t i = 0; i < keys.size(); i += 65536) {
		size_t end = std::min(keys.size(), i + 65536);
		uint32_t n = (uint32_t)(end - i);
		if (bpf_map_delete_batch(fd, keys.data() + i, &n, nullptr) == 0)
			continue;
		for (size_t j = i; j < end; j++)
			if (bpf_map_delete_elem(fd, &keys[j]) != 0 && errno != ENOENT)
				throw SystemError(errno_message(std::string("deleting ") + what, errno));
	}
}

// Hash and equality of a map key by its bytes (for unordered containers).
template <class K> struct KeyBytesHash {
	size_t operator()(const K &k) const { return (size_t)fnv1a64(&k, sizeof(K)); }
};
template <class K> struct KeyBytesEq {
	bool operator()(const K &a, const K &b) const { return memcmp(&a, &b, sizeof(K)) == 0; }
};

struct CounterValue {
	uint64_t packets = 0, bytes = 0;
};

// One key of a per-CPU array of fw_counter, summed over the CPUs (zero
// when the lookup fails).
CounterValue percpu_counter_sum(int fd, uint32_t key);

// fw_rule_cpu_cnt mapped: one region of FW_MAX_COUNTER_SLOTS counters per
// possible CPU (fw/abi.h), summed here.
class RuleCounterView {
public:
	explicit RuleCounterView(int fd);
	CounterValue sum(uint32_t slot) const;
	// Zeroes the slots in every CPU's region (before a rule takes them).
	void zero(const std::vector<uint32_t> &slots);
	// Adds to a slot in the first CPU's region (an upgrade's carried counts).
	void add(uint32_t slot, const CounterValue &c);

private:
	uint32_t regions_ = 0;
	std::unique_ptr<Mapped> map_;
};

// Entries of fw_rule_cpu_cnt on this machine.
uint32_t rule_counter_entries();
// Sets per-CPU fw_counter slots to zero on every CPU.
void percpu_counters_zero(int fd, const std::vector<uint32_t> &keys, const char *what);

// The kernel's own figure for a map's memory ("memlock:" in fdinfo).
uint64_t fdinfo_memlock(int fd);

} // namespace fw
