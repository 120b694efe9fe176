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
#include <exception>
#include <functional>
#include <thread>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fault.h"
#include "fw.skel.h"
#include "big_maps.h"
#include "combine_table.h"
#include "trace.h"
#include "tc_clsact.h"

#include <map>
#include <set>

namespace fw {

// Two map entries per connection (master + alias, fw/abi.h).
static_assert(2 * CT_DEFAULT_CONNECTIONS == FW_CT_MAX_ENTRIES, "the default table is the compiled one");

const std::string &datapath_elf_hash()
{
	// Eight bytes a step, in place: byte-wise FNV-1a over a copy of the
	// ~0.9 MB object took ~1.5 ms of every apply's plan. Only equality
	// with the running state's value matters.
	static const std::string h = [] {
		size_t sz = 0;
		const auto *b = static_cast<const unsigned char *>(fw_bpf__elf_bytes(&sz));
		uint64_t x = 1469598103934665603ull ^ sz;
		size_t i = 0;
		for (; i + 8 <= sz; i += 8) {
			uint64_t w;
			memcpy(&w, b + i, 8);
			x = (x ^ w) * 0x9e3779b97f4a7c15ull;
			x ^= x >> 29;
		}
		for (; i < sz; i++)
			x = (x ^ b[i]) * 1099511628211ull;
		char buf[17];
		snprintf(buf, sizeof buf, "%016llx", (unsigned long long)x);
		return std::string(buf);
	}();
	return h;
}

// This build's BPF object, opened, its counters sized for this machine's
// CPUs (fw_rule_cpu_cnt: a region per CPU). nullptr and errno on failure.
struct fw_bpf *open_datapath_object()
{
	struct fw_bpf *o = fw_bpf__open();
	if (!o)
		return nullptr;
	int err = bpf_map__set_max_entries(o->maps.fw_rule_cpu_cnt, rule_counter_entries());
	if (err) {
		fw_bpf__destroy(o);
		errno = -err;
		return nullptr;
	}
	return o;
}

// The same, for reading what the object holds: libbpf says nothing, a
// failure throws.
static struct fw_bpf *open_datapath_object_quietly()
{
	libbpf_print_fn_t old = libbpf_set_print(nullptr);
	struct fw_bpf *o = open_datapath_object();
	int e = errno;
	libbpf_set_print(old);
	if (!o)
		throw SystemError(errno_message("cannot open the BPF object", e));
	return o;
}

namespace {

// What this build expects of each of its (non-internal) maps.
struct MapLayout {
	uint32_t type, key_size, value_size, max_entries, flags;
};

const std::map<std::string, MapLayout> &expected_map_layouts()
{
	static const std::map<std::string, MapLayout> layouts = [] {
		std::map<std::string, MapLayout> out;
		struct fw_bpf *skel = open_datapath_object_quietly();
		struct bpf_map *m;
		bpf_object__for_each_map(m, skel->obj)
		{
			if (bpf_map__is_internal(m))
				continue;
			out[bpf_map__name(m)] = MapLayout{(uint32_t)bpf_map__type(m), bpf_map__key_size(m),
							  bpf_map__value_size(m), bpf_map__max_entries(m),
							  bpf_map__map_flags(m)};
		}
		// The connection table: fw_ct_tables' inner map, pinned on its own.
		if (struct bpf_map *t = bpf_map__inner_map(skel->maps.fw_ct_tables))
			out["fw_ct"] = MapLayout{(uint32_t)bpf_map__type(t), bpf_map__key_size(t),
						 bpf_map__value_size(t), bpf_map__max_entries(t),
						 bpf_map__map_flags(t)};
		fw_bpf__destroy(skel);
		return out;
	}();
	return layouts;
}

// "" when the pinned map's layout is the one this build has; else what
// differs. The connection table's size is the ruleset's (load_fresh).
std::string layout_difference(const std::string &name, const MapLayout &want, int fd)
{
	struct bpf_map_info info {};
	uint32_t len = sizeof(info);
	if (bpf_map_get_info_by_fd(fd, &info, &len) != 0)
		return "not a map";
	std::string d;
	auto field = [&](const char *what, uint32_t have, uint32_t expect) {
		if (have != expect)
			d += std::string(d.empty() ? "" : ", ") + what + " " + std::to_string(have) +
			     " (this build: " + std::to_string(expect) + ")";
	};
	field("type", info.type, want.type);
	field("key size", info.key_size, want.key_size);
	field("value size", info.value_size, want.value_size);
	if (name != "fw_ct")
		field("entries", info.max_entries, want.max_entries);
	field("flags", info.map_flags, want.flags);
	return d;
}

} // namespace

void Runtime::check_map_layout(const std::string &name, int fd) const
{
	if (replace_incompatible_)
		return;
	auto &layouts = expected_map_layouts();
	auto it = layouts.find(name);
	if (it == layouts.end())
		return; // a program, a link, or no map of ours
	std::string d = layout_difference(name, it->second, fd);
	if (!d.empty())
		throw AbiMismatch("the pinned map " + pin_path(name) + " does not have this fwctl's layout: " + d +
				  ". It was loaded by another build of the same ABI version (" +
				  std::to_string(FW_ABI_VERSION) +
				  "); this fwctl does not read or write it. `fwctl apply --replace-incompatible "
				  "FILE` replaces the datapath without a moment unfiltered (its connection table "
				  "is not kept; docs/ops.md, \"Upgrades\")");
}

void Runtime::remove_all_pins()
{
	hooks_ahead_.clear();
	close_fds();
	for (auto &n : pin_names()) {
		if (n.rfind("link_", 0) == 0)
			detach_pin(n);
		unlink(pin_path(n).c_str());
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

[[noreturn]] static void throw_no_memory_for_maps(int err, uint32_t ct_connections)
{
	throw SystemError(errno_message("the kernel could not allocate the BPF maps; the connection table of " +
						std::to_string(ct_connections) + " connections needs about " +
						std::to_string((uint64_t)ct_connections * 2 * 184 >> 20) +
						" MiB (\"conntrack\": {\"max-connections\"})",
					-err));
}

// Why the connection table was not made (`err`: the negative errno of its
// creation).
[[noreturn]] static void throw_connection_table_error(int err, uint32_t ct_connections)
{
	if (err == -ENOMEM || err == -E2BIG)
		throw_no_memory_for_maps(err, ct_connections);
	throw SystemError(errno_message("cannot create the connection table", -err));
}

// A connection table made for this datapath (fd ct, or -errno), put in
// fw_ct_tables' slot. Throws (closing ct) when it could not be made or put.
static void fill_connection_slot(int outer_fd, int ct, uint32_t ct_connections)
{
	if (ct < 0)
		throw_connection_table_error(ct, ct_connections);
	uint32_t zero = 0;
	if (bpf_map_update_elem(outer_fd, &zero, &ct, BPF_ANY) != 0)
		throw SystemError(errno_message("cannot put the connection table in fw_ct_tables", errno));
}

// Throws what a failed fw_bpf__load means: the verifier's rejection, the
// kernel out of memory for the maps, or libbpf's own messages.
[[noreturn]] static void throw_load_failure(int err, const std::string &libbpf_log, uint32_t ct_connections)
{
	if (auto v = verifier_rejection(libbpf_log); !v.empty()) {
		save_verifier_log(libbpf_log);
		throw SystemError(v);
	}
	fputs(libbpf_log.c_str(), stderr);
	if (err == -ENOMEM || err == -E2BIG)
		throw_no_memory_for_maps(err, ct_connections);
	throw SystemError(errno_message("the kernel refused the BPF programs (libbpf's messages above)", -err));
}

// Loads the opened skeleton (destroying it on failure) and records this
// build's ABI in its fw_abi.
static void load_skeleton(struct fw_bpf *skel, uint32_t ct_connections)
{
	std::string libbpf_log;
	int err;
	{
		LibbpfLogCapture capture;
		err = fw_bpf__load(skel);
		libbpf_log = capture.text();
	}
	if (err) {
		fw_bpf__destroy(skel);
		throw_load_failure(err, libbpf_log, ct_connections);
	}
	uint32_t zero = 0;
	struct fw_abi_info abi {FW_ABI_VERSION, 0};
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.fw_abi), &zero, &abi, BPF_ANY) != 0) {
		int e = errno;
		fw_bpf__destroy(skel);
		throw SystemError(errno_message("cannot write fw_abi", e));
	}
}

namespace {

// The kernel verifies a program on the thread that loads it, and one
// object's programs load one after the other. So programs are verified in
// two objects side by side, each sharing the maps of the one that created
// them (bpf_map__reuse_fd), split about evenly by the verifier's time for
// each: thousands of instructions it processes on Linux 6.18
// (build/verifier_stats), fw_xdp's doubled (it has more states to compare
// per instruction: ~2 us each against ~1 us for the TC programs).
int verifier_weight(const std::string &prog)
{
	static const std::map<std::string, int> weight = {
		{"fw_xdp", 130},	   {"fw_xdp_l3", 48},		  {"fw_tc_egress", 34},
		{"fw_tc_ingress", 25},	   {"fw_tc_ingress_xfrm", 24},	  {"fw_tc_egress_l3", 23},
		{"fw_tc_ingress_xfrm_l3", 17}, {"fw_tc_reject", 0},
	};
	auto it = weight.find(prog);
	return it == weight.end() ? 30 : it->second;
}

// The program objects of a load; destroys them as a whole.
struct ProgramObjects {
	std::vector<struct fw_bpf *> objs;
	ProgramObjects() = default;
	ProgramObjects(const ProgramObjects &) = delete;
	~ProgramObjects()
	{
		for (auto *o : objs)
			fw_bpf__destroy(o);
	}
};

// Loads `programs` in up to two objects on two threads, each object's maps
// the ones map_fd(name) gives (created already). Throws like load_skeleton.
// then_on_second: more work for the second thread once its programs are
// loaded (it has the lighter share); it must not set libbpf's printer.
void load_programs_side_by_side(const std::function<int(const char *)> &map_fd,
				const std::set<std::string> &programs, ProgramObjects &out, uint32_t ct_connections,
				const std::function<void()> &then_on_second = {})
{
	// Heaviest first, each to the lighter group.
	std::vector<std::string> order(programs.begin(), programs.end());
	std::stable_sort(order.begin(), order.end(), [](const std::string &a, const std::string &b) {
		return verifier_weight(a) > verifier_weight(b);
	});
	std::set<std::string> groups[2];
	int load[2] = {0, 0};
	for (auto &p : order) {
		int g = load[1] < load[0] ? 1 : 0;
		groups[g].insert(p);
		load[g] += verifier_weight(p);
	}
	for (auto &group : groups) {
		if (group.empty())
			continue;
		struct fw_bpf *o = open_datapath_object();
		if (!o)
			throw SystemError(errno_message("cannot open the BPF object", errno));
		out.objs.push_back(o);
		struct bpf_map *m;
		bpf_object__for_each_map(m, o->obj)
		{
			int f = map_fd(bpf_map__name(m));
			int err = f >= 0 ? bpf_map__reuse_fd(m, f) : -ENOENT;
			if (err)
				throw SystemError(errno_message(std::string("cannot share the map ") + bpf_map__name(m) +
									" between program objects",
								-err));
		}
		struct bpf_program *p;
		bpf_object__for_each_program(p, o->obj) bpf_program__set_autoload(p, group.count(bpf_program__name(p)));
	}
	int errs[2] = {0, 0};
	std::string libbpf_log;
	{
		LibbpfLogCapture capture;
		std::thread second;
		if (out.objs.size() > 1)
			second = std::thread([&] {
				errs[1] = fw_bpf__load(out.objs[1]);
				if (then_on_second)
					then_on_second();
			});
		if (!out.objs.empty())
			errs[0] = fw_bpf__load(out.objs[0]);
		if (second.joinable())
			second.join();
		libbpf_log = capture.text();
	}
	for (int err : errs)
		if (err)
			throw_load_failure(err, libbpf_log, ct_connections);
}

} // namespace

const std::set<std::string> &all_programs()
{
	static const std::set<std::string> names = [] {
		std::set<std::string> out;
		struct fw_bpf *o = open_datapath_object_quietly();
		struct bpf_program *p;
		bpf_object__for_each_program(p, o->obj) out.insert(bpf_program__name(p));
		fw_bpf__destroy(o);
		return out;
	}();
	return names;
}

void Runtime::pin_programs(const std::vector<struct fw_bpf *> &objs)
{
	for (auto *o : objs) {
		struct bpf_program *p;
		bpf_object__for_each_program(p, o->obj)
		{
			if (!bpf_program__autoload(p))
				continue;
			std::string pin = pin_path(std::string("prog_") + bpf_program__name(p));
			if (bpf_program__pin(p, pin.c_str()) != 0)
				throw SystemError(errno_message("cannot pin program " + pin, errno));
		}
	}
}

void Runtime::load_fresh(uint32_t ct_connections, const std::set<std::string> &programs,
			 uint32_t first_gen, size_t first_combines)
{
	PhaseTimer phase;
	require_kernel_features(); // an older kernel: the missing feature by name
	remove_all_pins(); // leftovers of an apply killed half-way
	struct fw_bpf *skel = open_datapath_object();
	if (!skel)
		throw SystemError(errno_message("cannot open the BPF object", errno));
	phase("  open");
	if (!big_maps_ahead_.started())
		big_maps_ahead_.start(ct_connections);
	big_maps_ahead_.hand_to(skel);
	phase("  create the big maps (what is left)");
	// This object creates the maps; the programs load in two others.
	struct bpf_program *p;
	bpf_object__for_each_program(p, skel->obj) bpf_program__set_autoload(p, false);
	load_skeleton(skel, ct_connections);
	phase("  other maps");
	ProgramObjects progs;
	// The connection table's size is fixed here, for the datapath's life.
	// Made while the programs are verified, and put in its slot then too:
	// the kernel waits out an RCU grace period after each update of an
	// array of maps (8-25 ms on some kernels), time the verifier threads
	// can use. In its slot before anything is pinned or attached.
	Fd ct(-ENOENT);
	int slot_err = 0;
	std::exception_ptr combine_err;
	std::thread slot([&, outer = bpf_map__fd(skel->maps.fw_ct_tables),
			  combine_outer = bpf_map__fd(skel->maps.fw_cls_combine)] {
		ct.fd = big_maps_ahead_.take_connection_table();
		uint32_t zero = 0;
		if (ct.fd >= 0 && bpf_map_update_elem(outer, &zero, &ct.fd, BPF_ANY) != 0)
			slot_err = errno ? errno : EINVAL;
		// The first generation's combine table, empty, in its slot: the
		// apply fills it (write_classifier finds it big enough), and
		// its grace period is spent here too.
		try {
			CombineTable t = combine_table_for(combine_outer, first_gen, first_combines);
			if (t.fresh)
				combine_table_install(combine_outer, first_gen, t.fd.fd);
			fault_point("slots"); // while fw_xdp may still be verifying
		} catch (...) {
			combine_err = std::current_exception();
		}
	});
	try {
		auto map_fd = [&](const char *name) {
			struct bpf_map *m = bpf_object__find_map_by_name(skel->obj, name);
			return m ? bpf_map__fd(m) : -1;
		};
		load_programs_side_by_side(map_fd, programs, progs, ct_connections,
					   [&] { hooks_ahead_.load(map_fd); });
	} catch (...) {
		slot.join();
		fw_bpf__destroy(skel);
		throw;
	}
	phase("  verify programs (two threads)");
	slot.join();
	try {
		if (ct.fd < 0)
			throw_connection_table_error(ct.fd, ct_connections);
		if (slot_err)
			throw SystemError(errno_message("cannot put the connection table in fw_ct_tables", slot_err));
		if (combine_err)
			std::rethrow_exception(combine_err);
	} catch (...) {
		fw_bpf__destroy(skel);
		throw;
	}
	phase("  connection table (what is left)");
	auto fail = [&](const std::string &what, int e) {
		fw_bpf__destroy(skel);
		remove_all_pins();
		throw SystemError(errno_message(what, e));
	};
	struct bpf_map *m;
	bpf_object__for_each_map(m, skel->obj)
	{
		if (bpf_map__pin(m, pin_path(bpf_map__name(m)).c_str()) != 0)
			fail("cannot pin map " + std::string(bpf_map__name(m)), errno);
	}
	if (bpf_obj_pin(ct.fd, pin_path("fw_ct").c_str()) != 0)
		fail("cannot pin map fw_ct", errno);
	fault_point("pin"); // maps pinned, programs not yet
	try {
		pin_programs(progs.objs);
	} catch (...) {
		fw_bpf__destroy(skel);
		remove_all_pins();
		throw;
	}
	fw_bpf__destroy(skel);
	abi_checked_ = true; // ours, just written
}

void Runtime::load_missing_programs(const std::set<std::string> &wanted)
{
	PhaseTimer phase;
	std::set<std::string> missing;
	for (auto &p : wanted)
		if (access(pin_path("prog_" + p).c_str(), F_OK) != 0)
			missing.insert(p);
	if (missing.empty())
		return;
	// Only next to this build's own programs: another build's pins are
	// taken over by an apply first (load_replacement), never mixed.
	auto st = applied();
	if (!st || st->elf_hash != datapath_elf_hash())
		throw SystemError("the program " + *missing.begin() + " is not loaded here and the pinned datapath " +
				  "is another fwctl build's: `fwctl apply` takes it over first");
	ProgramObjects progs;
	load_programs_side_by_side([&](const char *name) { return fd(name); }, missing, progs, ct_capacity());
	pin_programs(progs.objs);
	phase("  verify programs loaded on demand");
}

int Runtime::program_fd(const std::string &prog)
{
	load_missing_programs({prog});
	return fd("prog_" + prog);
}

void Runtime::drop_replacement()
{
	if (!next_)
		return;
	fw_bpf__destroy(next_);
	next_ = nullptr;
	next_new_maps_.clear();
	close_fds(); // reopened from the pins, which are untouched
}

void Runtime::load_replacement(bool keep_maps, uint32_t ct_connections)
{
	PhaseTimer phase;
	require_kernel_features();
	close_fds();
	struct fw_bpf *skel = open_datapath_object();
	if (!skel)
		throw SystemError(errno_message("cannot open the BPF object", errno));
	std::set<std::string> fresh;
	// A pinned map this build cannot use: an upgrade in place cannot keep it.
	auto check_kept = [&](const std::string &name, int fd) {
		auto want = expected_map_layouts().find(name);
		std::string d = want == expected_map_layouts().end() ? std::string("unknown map")
									 : layout_difference(name, want->second, fd);
		if (!d.empty())
			throw AbiMismatch("the pinned map " + pin_path(name) + " does not have this fwctl's layout: " +
					  d +
					  "; it cannot be kept across the upgrade. `fwctl apply "
					  "--replace-incompatible FILE` replaces the datapath (its connection "
					  "table is not kept; docs/ops.md, \"Upgrades\")");
	};
	struct bpf_map *m;
	// The connection table: the pinned one (builds before fw_ct_tables
	// named it in their programs; same layout), else a new one.
	Fd ct(keep_maps ? bpf_obj_get(pin_path("fw_ct").c_str()) : -1);
	try {
		bpf_object__for_each_map(m, skel->obj)
		{
			std::string name = bpf_map__name(m);
			Fd pinned(keep_maps && !bpf_map__is_internal(m) ? bpf_obj_get(pin_path(name).c_str()) : -1);
			if (pinned.fd < 0) {
				fresh.insert(name); // new in this build, or all new
				continue;
			}
			check_kept(name, pinned.fd);
			int err = bpf_map__reuse_fd(m, pinned.fd);
			if (err)
				throw SystemError(errno_message("cannot reuse the pinned map " + name, -err));
		}
		if (ct.fd >= 0) {
			check_kept("fw_ct", ct.fd);
		} else {
			ct.fd = create_connection_table(skel->maps.fw_ct_tables, ct_connections);
			fresh.insert("fw_ct");
		}
	} catch (...) {
		fw_bpf__destroy(skel);
		throw;
	}
	phase("  open, reuse pinned maps");
	load_skeleton(skel, ct_connections); // destroys skel on failure
	phase("  other maps, verify programs");
	try {
		fill_connection_slot(bpf_map__fd(skel->maps.fw_ct_tables), ct.fd, ct_connections);
	} catch (...) {
		fw_bpf__destroy(skel);
		throw;
	}
	fds_["fw_ct"] = dup(ct.fd);
	bpf_object__for_each_map(m, skel->obj) fds_[bpf_map__name(m)] = dup(bpf_map__fd(m));
	struct bpf_program *p;
	bpf_object__for_each_program(p, skel->obj) fds_[std::string("prog_") + bpf_program__name(p)] =
		dup(bpf_program__fd(p));
	next_ = skel;
	next_new_maps_ = fresh;
	abi_checked_ = true;
}

namespace {

// The name of the program an fd (a link's or a program's) runs.
std::string prog_name_of_id(uint32_t id)
{
	Fd pf(bpf_prog_get_fd_by_id(id));
	struct bpf_prog_info pi {};
	uint32_t plen = sizeof(pi);
	if (pf.fd < 0 || bpf_prog_get_info_by_fd(pf.fd, &pi, &plen) != 0)
		return "";
	return pi.name;
}

} // namespace

// Builds before fw_rule_cpu_cnt counted rules in a per-CPU array,
// fw_rule_cnt (same slots): its sums go into the new map's first region,
// so an upgrade keeps every rule's counters.
static void carry_per_cpu_rule_counters(const std::string &old_pin, int new_fd)
{
	Fd old(bpf_obj_get(old_pin.c_str()));
	struct bpf_map_info info {};
	uint32_t len = sizeof(info);
	if (old.fd < 0 || bpf_map_get_info_by_fd(old.fd, &info, &len) != 0 ||
	    info.type != BPF_MAP_TYPE_PERCPU_ARRAY || info.value_size != sizeof(fw_counter))
		return;
	RuleCounterView counters(new_fd);
	const uint32_t slots = std::min<uint32_t>(info.max_entries, FW_MAX_COUNTER_SLOTS);
	for (uint32_t slot = 0; slot < slots; slot++) {
		CounterValue c = percpu_counter_sum(old.fd, slot);
		if (c.packets || c.bytes)
			counters.add(slot, c);
	}
}

void Runtime::swap_datapath()
{
	if (!next_)
		return;
	// 0. Counters of a build with the per-CPU counter map: copied before
	// the programs change (what the old ones count after the copy, for the
	// moment until their swap, is not carried).
	if (next_new_maps_.count("fw_rule_cpu_cnt"))
		carry_per_cpu_rule_counters(pin_path("fw_rule_cnt"), bpf_map__fd(next_->maps.fw_rule_cpu_cnt));
	// 1. Every interface's program, in place: a link update is one
	// pointer swap in the kernel, so each hook runs the old program or the
	// new one, never none.
	for (auto &n : pin_names()) {
		if (n.rfind("link_", 0) != 0 || n.rfind("link_fentry_", 0) == 0)
			continue;
		std::string pin = pin_path(n);
		if (tc_clsact::is_clsact_pin(pin)) {
			uint32_t ifindex = (uint32_t)std::stoul(n.substr(n.rfind('_') + 1));
			auto prog = tc_clsact::attached_program(pin, ifindex);
			if (!prog)
				continue; // gone with its device: detach_others tidies
			auto it = fds_.find("prog_" + *prog);
			if (it == fds_.end())
				throw SystemError("this fwctl has no program " + *prog + " to replace " + pin + " with");
			tc_clsact::replace(it->second, ifindex, pin);
			continue;
		}
		Fd link(bpf_obj_get(pin.c_str()));
		struct bpf_link_info info {};
		uint32_t len = sizeof(info);
		if (link.fd < 0 || bpf_link_get_info_by_fd(link.fd, &info, &len) != 0)
			continue;
		if ((info.type == BPF_LINK_TYPE_XDP ? info.xdp.ifindex : info.tcx.ifindex) == 0)
			continue; // its interface is gone: detach_others tidies the pin
		std::string prog = prog_name_of_id(info.prog_id);
		auto it = fds_.find("prog_" + prog);
		if (it == fds_.end())
			throw SystemError("this fwctl has no program " + prog + " to replace " + pin + " with");
		if (bpf_link_update(link.fd, it->second, nullptr) != 0)
			throw SystemError(errno_message("cannot replace the program of " + pin +
								" (link update); the interfaces not replaced yet keep "
								"the previous datapath: apply again",
							errno));
	}
	fault_point("swap");
	// 2. The pins: each new object pinned aside (bpffs reserves names with
	// a dot), then renamed over the old one (one step each), so a pin
	// always names something.
	auto put = [&](int fd, const std::string &name) {
		std::string aside = pin_path("next_" + name);
		unlink(aside.c_str());
		if (bpf_obj_pin(fd, aside.c_str()) != 0 || rename(aside.c_str(), pin_path(name).c_str()) != 0) {
			int e = errno;
			unlink(aside.c_str());
			throw SystemError(errno_message("cannot pin " + pin_path(name), e));
		}
	};
	std::set<std::string> keep = {"fw_ct"}; // in fw_ct_tables, pinned on its own
	if (next_new_maps_.count("fw_ct"))
		put(fds_.at("fw_ct"), "fw_ct");
	struct bpf_map *m;
	bpf_object__for_each_map(m, next_->obj)
	{
		std::string name = bpf_map__name(m);
		keep.insert(name);
		if (next_new_maps_.count(name))
			put(bpf_map__fd(m), name);
	}
	struct bpf_program *p;
	bpf_object__for_each_program(p, next_->obj)
	{
		std::string name = std::string("prog_") + bpf_program__name(p);
		keep.insert(name);
		put(bpf_program__fd(p), name);
	}
	for (auto &n : pin_names())
		if (n.rfind("link_", 0) != 0 && !keep.count(n))
			unlink(pin_path(n).c_str()); // the old build's, unused now
	fw_bpf__destroy(next_);
	next_ = nullptr;
	next_new_maps_.clear();
	// 3. The kernel IPsec hooks (tracing links cannot be updated): the new
	// ones load against the pins, now this build's; between the two, this
	// host's own connections into a tunnel are not recorded. Attached even
	// where the old build had none (its kernel refused them, or it failed
	// to load them): this build may not.
	if (xfrm_hooks_attached()) {
		for (const char *n : {"link_fentry_xfrm_output", "link_fentry_xfrm_policy"}) {
			detach_pin(n);
			unlink(pin_path(n).c_str());
		}
	}
	attach_xfrm_output();
	// 4. The route hooks likewise; the epoch moves on after, so nothing
	// cached while none was attached is used.
	detach_route_hooks();
	attach_route_hooks();
}

} // namespace fw
