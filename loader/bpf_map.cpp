#include "bpf_map.h"

#include <cstdio>

#include <bpf/libbpf.h>

#include "fw/abi.h"

namespace fw {

Mapped::Mapped(int fd, size_t bytes)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	len = (bytes + page - 1) / page * page;
	p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		throw SystemError(errno_message("mmap of a BPF map", errno));
}

Mapped::~Mapped()
{
	if (p != MAP_FAILED)
		munmap(p, len);
}

void map_update(int fd, const void *key, const void *value, const char *what)
{
	if (bpf_map_update_elem(fd, key, value, BPF_ANY) != 0)
		throw SystemError(errno_message(std::string("writing ") + what, errno));
}

static size_t possible_cpus()
{
	int n = libbpf_num_possible_cpus();
	return (size_t)std::max(n, 1);
}

CounterValue percpu_counter_sum(int fd, uint32_t key)
{
	std::vector<fw_counter> v(possible_cpus());
	CounterValue c;
	if (bpf_map_lookup_elem(fd, &key, v.data()) == 0)
		for (auto &x : v) {
			c.packets += x.packets;
			c.bytes += x.bytes;
		}
	return c;
}

uint32_t rule_counter_entries() { return FW_MAX_COUNTER_SLOTS * (uint32_t)possible_cpus(); }

RuleCounterView::RuleCounterView(int fd)
{
	struct bpf_map_info info {};
	uint32_t len = sizeof(info);
	if (bpf_map_get_info_by_fd(fd, &info, &len) != 0)
		throw SystemError(errno_message("cannot read the counters map", errno));
	if (info.value_size != sizeof(fw_counter) || info.max_entries % FW_MAX_COUNTER_SLOTS != 0)
		throw SystemError("the counters map has " + std::to_string(info.max_entries) + " entries of " +
				  std::to_string(info.value_size) + " bytes, not CPUs x " +
				  std::to_string(FW_MAX_COUNTER_SLOTS) + " of " + std::to_string(sizeof(fw_counter)));
	regions_ = info.max_entries / FW_MAX_COUNTER_SLOTS;
	map_ = std::make_unique<Mapped>(fd, (size_t)info.max_entries * sizeof(fw_counter));
}

CounterValue RuleCounterView::sum(uint32_t slot) const
{
	CounterValue c;
	if (slot >= FW_MAX_COUNTER_SLOTS)
		return c;
	// Each CPU's program writes its own region while this reads: a word
	// read is whole on 64-bit; packets and bytes may be one packet apart.
	const volatile fw_counter *all = map_->as<fw_counter>();
	for (uint32_t r = 0; r < regions_; r++) {
		c.packets += all[(size_t)r * FW_MAX_COUNTER_SLOTS + slot].packets;
		c.bytes += all[(size_t)r * FW_MAX_COUNTER_SLOTS + slot].bytes;
	}
	return c;
}

void RuleCounterView::zero(const std::vector<uint32_t> &slots)
{
	fw_counter *all = map_->as<fw_counter>();
	for (uint32_t slot : slots)
		if (slot < FW_MAX_COUNTER_SLOTS)
			for (uint32_t r = 0; r < regions_; r++)
				all[(size_t)r * FW_MAX_COUNTER_SLOTS + slot] = fw_counter{};
}

void RuleCounterView::add(uint32_t slot, const CounterValue &c)
{
	if (slot >= FW_MAX_COUNTER_SLOTS)
		return;
	fw_counter &first = map_->as<fw_counter>()[slot];
	first.packets += c.packets;
	first.bytes += c.bytes;
}

void percpu_counters_zero(int fd, const std::vector<uint32_t> &keys, const char *what)
{
	if (keys.empty())
		return;
	std::vector<fw_counter> zeros(possible_cpus() * keys.size());
	uint32_t n = (uint32_t)keys.size();
	if (bpf_map_update_batch(fd, keys.data(), zeros.data(), &n, nullptr) != 0)
		throw SystemError(errno_message(std::string("zeroing ") + what, errno));
}

// "memlock:\t<bytes>": since 6.4 computed per map type from what the
// kernel allocated, not a page estimate.
uint64_t fdinfo_memlock(int fd)
{
	FILE *f = fopen(("/proc/self/fdinfo/" + std::to_string(fd)).c_str(), "re");
	if (!f)
		return 0;
	char line[256];
	unsigned long long v = 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

} // namespace fw
