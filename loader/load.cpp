// Loading the datapath: open the BPF object, create its maps, verify and
// pin its programs; and removing every pin again.
#include "runtime.h"
#include "bpf_load_log.h"
#include "kernel_features.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <thread>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fault.h"
#include "fw.skel.h"
#include "trace.h"

namespace fw {

// Two map entries per connection (master + alias, fw/abi.h).
static_assert(2 * CT_DEFAULT_CONNECTIONS == FW_CT_MAX_ENTRIES, "the default table is the compiled one");

const std::string &datapath_elf_hash()
{
	static const std::string h = [] {
		size_t sz = 0;
		const void *data = fw_bpf__elf_bytes(&sz);
		return hash_hex(std::string(static_cast<const char *>(data), sz));
	}();
	return h;
}

void Runtime::remove_all_pins()
{
	for (auto &[_, f] : fds_)
		if (f >= 0)
			close(f);
	fds_.clear();
	for (auto &n : pin_names()) {
		if (n.rfind("link_", 0) == 0)
			detach_pin(n);
		unlink(pin_path(n).c_str());
	}
}

// The largest maps (the connection table, the per-CPU counters, then a
// few of some MiB) take most of a first apply: the kernel allocates and
// zeroes tens of MiB for each. Created side by side on their own threads and
// handed to libbpf, they cost the longest one instead of their sum. Plain
// key/value maps (no BTF-described fields), so no BTF is needed.
static void precreate_big_maps(struct fw_bpf *skel)
{
	struct bpf_map *maps[] = {skel->maps.fw_ct,   skel->maps.fw_rule_cnt, skel->maps.fw_cls_port,
				  skel->maps.fw_meta, skel->maps.fw_rules,    skel->maps.fw_frag};
	constexpr size_t n = sizeof(maps) / sizeof(maps[0]);
	int fds[n];
	std::vector<std::thread> threads;
	for (size_t i = 0; i < n; i++)
		threads.emplace_back([&, i] {
			LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = bpf_map__map_flags(maps[i]));
			fds[i] = bpf_map_create(bpf_map__type(maps[i]), bpf_map__name(maps[i]),
						bpf_map__key_size(maps[i]), bpf_map__value_size(maps[i]),
						bpf_map__max_entries(maps[i]), &o);
		});
	for (auto &t : threads)
		t.join();
	// A map that failed here (or cannot be reused) is left to libbpf,
	// which creates it in fw_bpf__load and reports a failure there.
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			bpf_map__reuse_fd(maps[i], fds[i]);
			close(fds[i]); // reuse_fd keeps its own copy
		}
}

// FWCTL_VERIFIER_LOG=FILE keeps the whole log of a rejected load (the
// error message carries only its last lines).
static void save_verifier_log(const std::string &log)
{
	const char *path = getenv("FWCTL_VERIFIER_LOG");
	if (!path || !*path)
		return;
	if (FILE *f = fopen(path, "w")) {
		fputs(log.c_str(), f);
		fclose(f);
	}
}

void Runtime::load_fresh(uint32_t ct_connections)
{
	PhaseTimer phase;
	require_kernel_features(); // an older kernel: the missing feature by name
	remove_all_pins(); // leftovers of an apply killed half-way
	struct fw_bpf *skel = fw_bpf__open();
	if (!skel)
		throw SystemError(errno_message("cannot open the BPF object", errno));
	// The connection table's size is fixed here, for the datapath's life.
	int err = bpf_map__set_max_entries(skel->maps.fw_ct, 2 * ct_connections);
	if (err) {
		fw_bpf__destroy(skel);
		throw SystemError(errno_message("cannot size the connection table", -err));
	}
	phase("  open");
	precreate_big_maps(skel);
	phase("  create the big maps");
	std::string libbpf_log;
	{
		LibbpfLogCapture capture;
		err = fw_bpf__load(skel);
		libbpf_log = capture.text();
	}
	phase("  other maps, verify programs");
	if (err) {
		fw_bpf__destroy(skel);
		if (auto v = verifier_rejection(libbpf_log); !v.empty()) {
			save_verifier_log(libbpf_log);
			throw SystemError(v);
		}
		fputs(libbpf_log.c_str(), stderr);
		if (err == -ENOMEM || err == -E2BIG)
			throw SystemError(errno_message("the kernel could not allocate the BPF maps; the connection "
							"table of " + std::to_string(ct_connections) +
							" connections needs about " +
							std::to_string((uint64_t)ct_connections * 2 * 184 >> 20) +
							" MiB (\"conntrack\": {\"max-connections\"})",
							-err));
		throw SystemError(errno_message("the kernel refused the BPF programs (libbpf's messages above)", -err));
	}
	struct bpf_map *m;
	bpf_object__for_each_map(m, skel->obj)
	{
		if (bpf_map__pin(m, pin_path(bpf_map__name(m)).c_str()) != 0) {
			int e = errno;
			fw_bpf__destroy(skel);
			remove_all_pins();
			throw SystemError(errno_message("cannot pin map " + std::string(bpf_map__name(m)), e));
		}
	}
	fault_point("pin"); // maps pinned, programs not yet
	struct bpf_program *p;
	bpf_object__for_each_program(p, skel->obj)
	{
		std::string pin = pin_path(std::string("prog_") + bpf_program__name(p));
		if (bpf_program__pin(p, pin.c_str()) != 0) {
			int e = errno;
			fw_bpf__destroy(skel);
			remove_all_pins();
			throw SystemError(errno_message("cannot pin program " + pin, e));
		}
	}
	fw_bpf__destroy(skel);
}

} // namespace fw
