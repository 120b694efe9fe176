#include "big_maps.h"

#include <cerrno>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fw.skel.h"

namespace fw {

namespace {

// Plain key/value maps (no BTF-described fields): no BTF needed to make them.
std::vector<struct bpf_map *> big_maps_of(struct fw_bpf *skel)
{
	return {skel->maps.fw_rule_cpu_cnt, skel->maps.fw_cls_port, skel->maps.fw_meta, skel->maps.fw_rules,
		skel->maps.fw_frag};
}

} // namespace

int create_connection_table(struct bpf_map *outer, uint32_t connections)
{
	struct bpf_map *t = bpf_map__inner_map(outer);
	if (!t)
		return -EINVAL;
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = bpf_map__map_flags(t));
	int fd = bpf_map_create(bpf_map__type(t), "fw_ct", bpf_map__key_size(t), bpf_map__value_size(t),
				2 * connections, &opts);
	return fd >= 0 ? fd : -errno;
}

void BigMapsAhead::start(uint32_t ct_connections)
{
	clear();
	started_ = true;
	// Each thread opens its own copy of the object, for the layouts. The
	// connection table, the longest, on a thread of its own.
	ct_thread_ = std::thread([this, ct_connections] {
		struct fw_bpf *o = open_datapath_object();
		ct_fd_ = o ? create_connection_table(o->maps.fw_ct_tables, ct_connections) : -errno;
		fw_bpf__destroy(o);
	});
	thread_ = std::thread([this] {
		struct fw_bpf *o = open_datapath_object();
		if (!o)
			return;
		for (auto *m : big_maps_of(o))
			made_.push_back({bpf_map__name(m), (uint32_t)bpf_map__type(m), bpf_map__key_size(m),
					 bpf_map__value_size(m), bpf_map__max_entries(m), bpf_map__map_flags(m), -1});
		fw_bpf__destroy(o);
		std::vector<std::thread> each;
		for (auto &m : made_)
			each.emplace_back([&m] {
				LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = m.flags);
				m.fd = bpf_map_create((enum bpf_map_type)m.type, m.name.c_str(), m.key_size,
						      m.value_size, m.max_entries, &opts);
			});
		for (auto &t : each)
			t.join();
	});
}

void BigMapsAhead::hand_to(struct fw_bpf *skel)
{
	if (thread_.joinable())
		thread_.join();
	for (auto *m : big_maps_of(skel))
		for (auto &d : made_)
			if (d.fd >= 0 && d.name == bpf_map__name(m) && d.type == (uint32_t)bpf_map__type(m) &&
			    d.key_size == bpf_map__key_size(m) && d.value_size == bpf_map__value_size(m) &&
			    d.max_entries == bpf_map__max_entries(m) && d.flags == bpf_map__map_flags(m))
				bpf_map__reuse_fd(m, d.fd); // keeps its own copy
	for (auto &d : made_)
		if (d.fd >= 0)
			close(d.fd);
	made_.clear();
}

int BigMapsAhead::take_connection_table()
{
	if (ct_thread_.joinable())
		ct_thread_.join();
	int fd = ct_fd_;
	ct_fd_ = -ENOENT;
	return fd;
}

void BigMapsAhead::clear()
{
	if (thread_.joinable())
		thread_.join();
	if (ct_thread_.joinable())
		ct_thread_.join();
	for (auto &d : made_)
		if (d.fd >= 0)
			close(d.fd);
	made_.clear();
	if (ct_fd_ >= 0)
		close(ct_fd_);
	ct_fd_ = -ENOENT;
	started_ = false;
}

} // namespace fw
