// The Runtime's pin directory: prepare and lock it, open pins, read the
// active generation's applied state and counters, and memory figures.
#include "runtime.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

namespace fw {

Runtime::Runtime(std::string pin_dir) : pin_dir_(std::move(pin_dir))
{
	while (pin_dir_.size() > 1 && pin_dir_.back() == '/')
		pin_dir_.pop_back();
}

Runtime::~Runtime()
{
	drop_replacement();
	close_fds();
	if (lock_fd_ >= 0)
		close(lock_fd_); // releases the flock
}

// The root of a bpffs (/sys/fs/bpf itself) holds everyone's pins: `down`
// would remove them all, and chmod 0700 would lock other users out. A
// directory whose parent is on another device is a mount point.
void Runtime::refuse_bpffs_root() const
{
	struct stat self {}, parent {};
	std::string up = pin_dir_ + "/..";
	if (stat(pin_dir_.c_str(), &self) != 0 || stat(up.c_str(), &parent) != 0)
		return;
	if (self.st_dev != parent.st_dev || self.st_ino == parent.st_ino)
		throw InputError("--pin-dir " + pin_dir_ +
				 " is the root of a bpffs, shared with every other BPF user: use a directory "
				 "below it, e.g. " + (pin_dir_ == "/" ? std::string("/fwctl") : pin_dir_ + "/fwctl"));
}

void Runtime::prepare(bool create, Lock lock)
{
	struct stat st {};
	if (stat(pin_dir_.c_str(), &st) != 0) {
		// Only a pin dir that does not exist means "nothing applied"; one
		// we may not look at must not pass for empty.
		if (errno != ENOENT)
			throw SystemError(errno_message("cannot inspect pin dir " + pin_dir_, errno));
		if (!create)
			return; // nothing there: nothing applied
		// Create the missing components, each on whatever fs holds it.
		std::string partial;
		for (size_t pos = 1; pos != std::string::npos;) {
			pos = pin_dir_.find('/', pos + 1);
			partial = pin_dir_.substr(0, pos);
			if (mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
				throw SystemError(errno_message("cannot create pin dir " + partial, errno));
		}
	}
	struct statfs fs {};
	if (statfs(pin_dir_.c_str(), &fs) != 0)
		throw SystemError(errno_message("cannot inspect pin dir " + pin_dir_, errno));
	if ((unsigned long)fs.f_type != BPF_FS_MAGIC)
		throw SystemError("pin dir " + pin_dir_ +
				  " is not on a bpffs: programs pinned there would vanish when fwctl exits. "
				  "Mount one (mount -t bpf bpf /sys/fs/bpf) or pass --pin-dir DIR on a bpffs");
	refuse_bpffs_root();
	chmod(pin_dir_.c_str(), 0700); // pins and state are root's only
	lock_fd_ = open(pin_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock_fd_ < 0)
		throw SystemError(errno_message("cannot open pin dir " + pin_dir_, errno));
	if (flock(lock_fd_, lock == Lock::shared ? LOCK_SH : LOCK_EX) != 0)
		throw SystemError(errno_message("cannot lock pin dir " + pin_dir_, errno));
}

int Runtime::fd(const std::string &name) const
{
	auto it = fds_.find(name);
	if (it != fds_.end())
		return it->second;
	check_abi();
	int f = bpf_obj_get(pin_path(name).c_str());
	if (f < 0)
		throw SystemError(errno_message("cannot open pinned " + pin_path(name) +
							" (is fwctl applied here? try `fwctl apply`)",
						errno));
	try {
		check_map_layout(name, f);
	} catch (...) {
		close(f);
		throw;
	}
	fds_[name] = f;
	return f;
}

namespace {

bool map_value_size_is(int f, uint32_t want)
{
	struct bpf_map_info info {};
	uint32_t len = sizeof(info);
	return f >= 0 && bpf_map_get_info_by_fd(f, &info, &len) == 0 && info.value_size == want &&
	       info.key_size == sizeof(uint32_t);
}

} // namespace

int Runtime::pinned_abi() const
{
	Fd abi(bpf_obj_get(pin_path("fw_abi").c_str()));
	uint32_t zero = 0;
	if (abi.fd >= 0) {
		struct fw_abi_info v {};
		if (!map_value_size_is(abi.fd, sizeof(v)) || bpf_map_lookup_elem(abi.fd, &zero, &v) != 0)
			return 0;
		return (int)v.version;
	}
	// Builds before fw_abi recorded their ABI in the applied state only.
	Fd act(bpf_obj_get(pin_path("fw_active").c_str()));
	if (act.fd < 0)
		return -1;
	struct fw_active a {};
	if (!map_value_size_is(act.fd, sizeof(a)) || bpf_map_lookup_elem(act.fd, &zero, &a) != 0)
		return 0;
	if (!a.valid)
		return -1; // never switched on: leftovers a fresh load replaces
	Fd meta(bpf_obj_get(pin_path("fw_meta").c_str()));
	if (!map_value_size_is(meta.fd, (uint32_t)applied_state_chunk_size()))
		return 0;
	auto st = read_applied_state(meta.fd, a.gen & 1);
	return st ? st->abi : 0;
}

void Runtime::check_abi() const
{
	if (abi_checked_ || replace_incompatible_)
		return;
	int abi = pinned_abi();
	if (abi >= 0 && abi != FW_ABI_VERSION)
		throw AbiMismatch("the datapath pinned at " + pin_dir_ + " was loaded by an fwctl of " +
				  (abi ? "ABI " + std::to_string(abi) : std::string("an unknown ABI")) +
				  "; this fwctl has ABI " + std::to_string(FW_ABI_VERSION) +
				  " and does not read or write its maps. The interfaces stay filtered by it. "
				  "`fwctl apply --replace-incompatible FILE` replaces it without a moment "
				  "unfiltered (its connection table is not kept; docs/ops.md, \"Upgrades\")");
	abi_checked_ = true;
}

int Runtime::map_fd(const std::string &name) const
{
	if (access(pin_path(name).c_str(), F_OK) != 0)
		return -1;
	return fd(name);
}

uint32_t Runtime::ct_capacity() const
{
	int f = map_fd("fw_ct");
	struct bpf_map_info info {};
	uint32_t len = sizeof(info);
	if (f < 0 || bpf_map_get_info_by_fd(f, &info, &len) != 0)
		return 0;
	return info.max_entries / 2;
}


// The maps an ARRAY_OF_MAPS holds (the classifier's per-generation combine
// tables) are pinned nowhere but cost memory all the same: one row each,
// named after their slot ("fw_cls_combine.gen1"). Those pinned on their own
// (fw_ct, in fw_ct_tables) have their row already.
static void add_inner_map_memory(int outer_fd, const std::string &name, uint32_t slots,
				 const std::set<uint32_t> &pinned_ids, std::vector<MapMemory> &out)
{
	for (uint32_t i = 0; i < slots; i++) {
		uint32_t id = 0;
		if (bpf_map_lookup_elem(outer_fd, &i, &id) != 0 || pinned_ids.count(id))
			continue;
		Fd inner(bpf_map_get_fd_by_id(id));
		struct bpf_map_info info {};
		uint32_t len = sizeof(info);
		if (inner.fd < 0 || bpf_map_get_info_by_fd(inner.fd, &info, &len) != 0)
			continue;
		const char *t = libbpf_bpf_map_type_str((enum bpf_map_type)info.type);
		out.push_back(MapMemory{name + ".gen" + std::to_string(i), t ? t : std::to_string(info.type),
					info.max_entries, fdinfo_memlock(inner.fd)});
	}
}

std::vector<MapMemory> Runtime::map_memory() const
{
	std::vector<MapMemory> out;
	std::vector<std::pair<Fd, std::string>> outers;
	std::set<uint32_t> pinned_ids;
	for (auto &n : pin_names()) {
		if (n.rfind("link_", 0) == 0 || n.rfind("prog_", 0) == 0)
			continue;
		// Not every pin is ours or a map: a bpffs root also holds the
		// kernel's maps.debug / progs.debug iterators.
		Fd f(bpf_obj_get(pin_path(n).c_str()));
		struct bpf_map_info info {};
		uint32_t len = sizeof(info);
		if (f.fd < 0 || bpf_map_get_info_by_fd(f.fd, &info, &len) != 0)
			continue;
		MapMemory m;
		m.name = n;
		const char *t = libbpf_bpf_map_type_str((enum bpf_map_type)info.type);
		m.type = t ? t : std::to_string(info.type);
		m.max_entries = info.max_entries;
		m.bytes = fdinfo_memlock(f.fd);
		out.push_back(m);
		pinned_ids.insert(info.id);
		if (info.type == BPF_MAP_TYPE_ARRAY_OF_MAPS)
			outers.emplace_back(Fd(dup(f.fd)), n);
	}
	for (auto &[f, n] : outers) {
		struct bpf_map_info info {};
		uint32_t len = sizeof(info);
		if (bpf_map_get_info_by_fd(f.fd, &info, &len) == 0)
			add_inner_map_memory(f.fd, n, info.max_entries, pinned_ids, out);
	}
	return out;
}

std::vector<std::string> Runtime::pin_names() const
{
	std::vector<std::string> names;
	DIR *d = opendir(pin_dir_.c_str());
	if (!d)
		return names;
	while (auto *e = readdir(d))
		if (e->d_name[0] != '.')
			names.push_back(e->d_name);
	closedir(d);
	std::sort(names.begin(), names.end());
	return names;
}

bool Runtime::loaded() const
{
	if (access(pin_path("fw_active").c_str(), F_OK) != 0)
		return false;
	struct fw_active a {};
	uint32_t zero = 0;
	return bpf_map_lookup_elem(fd("fw_active"), &zero, &a) == 0 && a.valid;
}


std::optional<AppliedState> Runtime::applied() const
{
	if (!loaded())
		return std::nullopt;
	struct fw_active a {};
	uint32_t zero = 0;
	if (bpf_map_lookup_elem(fd("fw_active"), &zero, &a) != 0)
		return std::nullopt;
	return read_applied_state(fd("fw_meta"), a.gen & 1);
}

void Runtime::down()
{
	struct stat st {};
	if (stat(pin_dir_.c_str(), &st) != 0)
		return;
	remove_all_pins();
}

void Runtime::close_fds() const
{
	counter_view_.reset();
	for (auto &[_, f] : fds_)
		if (f >= 0)
			close(f);
	fds_.clear();
}

RuleCounterView &Runtime::rule_counters() const
{
	if (!counter_view_)
		counter_view_ = std::make_unique<RuleCounterView>(fd("fw_rule_cpu_cnt"));
	return *counter_view_;
}

CounterValue Runtime::rule_counter(uint32_t slot) const { return rule_counters().sum(slot); }

CounterValue Runtime::stat_counter(uint32_t stat) const { return percpu_counter_sum(fd("fw_stats"), stat); }

} // namespace fw
