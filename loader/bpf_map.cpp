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
		throw SystemError(errno_message("mmap of a classifier map", errno));
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
