// Pin directory, load, attach, and the generation switch.
#include "runtime.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <linux/if_link.h>
#include <linux/ethtool.h>
#include <linux/magic.h>
#include <linux/netdev.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <set>
#include <thread>
#include <unordered_map>
#include <csignal>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <zlib.h>

#include "classifier.h"
#include "trace.h"
#include "fw.skel.h"
#include "stack.h"

namespace fw {

namespace {

// Two map entries per connection (master + alias, fw/abi.h).
static_assert(2 * CT_DEFAULT_CONNECTIONS == FW_CT_MAX_ENTRIES, "the default table is the compiled one");

constexpr uint32_t kMetaMagic = 0x66776d31; // "fwm1"
constexpr uint32_t kMetaChunks = 128;
constexpr size_t kMetaChunkSize = 16384;

struct Fd {
	int fd = -1;
	explicit Fd(int f) : fd(f) {}
	~Fd()
	{
		if (fd >= 0)
			close(fd);
	}
	Fd(const Fd &) = delete;
};

// A writable view of a BPF_F_MMAPABLE array.
struct Mapped {
	void *p = MAP_FAILED;
	size_t len = 0;
	Mapped(int fd, size_t bytes)
	{
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		len = (bytes + page - 1) / page * page;
		p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			throw SystemError(errno_message("mmap of a classifier map", errno));
	}
	~Mapped()
	{
		if (p != MAP_FAILED)
			munmap(p, len);
	}
	template <class T> T *as() { return static_cast<T *>(p); }
};

bool is_l3_device(const std::string &ifname)
{
	Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	struct ifreq ifr {};
	strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
	if (s.fd < 0 || ioctl(s.fd, SIOCGIFHWADDR, &ifr) < 0)
		return false;
	return ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER;
}

// The kernel driver behind an interface ("veth", "tun"...), "" if unknown.
std::string driver_name(const std::string &ifname)
{
	Fd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	struct ethtool_drvinfo info {};
	struct ifreq ifr {};
	info.cmd = ETHTOOL_GDRVINFO;
	strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
	ifr.ifr_data = (char *)&info;
	if (s.fd < 0 || ioctl(s.fd, SIOCETHTOOL, &ifr) < 0)
		return "";
	return info.driver;
}

// Native XDP on a veth transmits XDP_TX frames (reject answers) through the
// peer's NAPI, which exists only while the peer has GRO on or an XDP program;
// without it the kernel drops them silently. A veth advertises NDO_XMIT in
// its xdp_features exactly when its peer can take frames; when it does not,
// attach in generic mode, where XDP_TX goes through the peer's ordinary xmit.
// Decided at attach time (a later change of the peer is not followed).
bool veth_without_xdp_peer(const std::string &ifname, uint32_t ifindex)
{
	if (driver_name(ifname) != "veth")
		return false;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	if (bpf_xdp_query((int)ifindex, 0, &q) != 0)
		return false;
	return !(q.feature_flags & NETDEV_XDP_ACT_NDO_XMIT);
}

// Whether a redirected XDP frame can leave by this device: its driver
// transmits XDP frames (for a veth: its peer can take them), and it is an
// Ethernet device (a TUN device would hand the frame to its daemon).
bool xdp_redirect_target(const std::string &ifname, uint32_t ifindex)
{
	if (is_l3_device(ifname))
		return false;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	return bpf_xdp_query((int)ifindex, 0, &q) == 0 && (q.feature_flags & NETDEV_XDP_ACT_NDO_XMIT);
}

// The fast path's view of an attached interface (FW_FAST_IF_*, see
// bpf/lib/fastpath.h). Checksums need checking where a packet may come
// from a stack on this machine with its checksum left to "hardware"
// (CHECKSUM_PARTIAL): virtual links to other namespaces or to userspace,
// and any device where XDP runs in generic mode (after GRO, which leaves
// merged packets the same way). A NIC's native XDP sees wire packets.
uint32_t fast_if_flags(const std::string &ifname, uint32_t ifindex)
{
	uint32_t flags = 0;
	if (xdp_redirect_target(ifname, ifindex))
		flags |= FW_FAST_IF_OUT;
	std::string drv = driver_name(ifname);
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	bool generic = bpf_xdp_query((int)ifindex, 0, &q) != 0 || q.attach_mode != XDP_ATTACHED_DRV;
	if (generic || drv == "veth" || drv == "tun" || drv == "netkit" || drv.empty())
		flags |= FW_FAST_IF_VERIFY_CSUM;
	return flags;
}

// Kernel IPsec (XFRM) policies decide in the stack what gets encrypted; a
// packet redirected from XDP would skip them. True when any exists.
bool xfrm_policies_present()
{
	Fd s(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM));
	if (s.fd < 0)
		return false; // no XFRM in this kernel
	struct {
		struct nlmsghdr nh;
		struct xfrm_userpolicy_id id;
	} req{};
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = XFRM_MSG_GETPOLICY;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (send(s.fd, &req, sizeof(req), 0) < 0)
		return false;
	char buf[8192];
	for (;;) {
		ssize_t n = recv(s.fd, buf, sizeof buf, 0);
		if (n <= 0)
			return false;
		for (auto *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type == XFRM_MSG_NEWPOLICY)
				return true;
			if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR)
				return false;
		}
	}
}

const std::string &elf_hash()
{
	static const std::string h = [] {
		size_t sz = 0;
		const void *data = fw_bpf__elf_bytes(&sz);
		return hash_hex(std::string(static_cast<const char *>(data), sz));
	}();
	return h;
}

template <class K> std::vector<K> map_keys(int fd)
{
	std::vector<K> keys;
	K cur{}, next{};
	const K *prev = nullptr;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		keys.push_back(next);
		cur = next;
		prev = &cur;
	}
	return keys;
}

// All (key, value) pairs of a hash map or LPM trie with u32 values, a few
// syscalls per 64k entries. The batch token is a key for the generic batch
// code (LPM trie) and a bucket number for hash maps: room for either.
template <class K> std::vector<std::pair<K, uint32_t>> map_entries(int fd, const char *what)
{
	std::vector<std::pair<K, uint32_t>> out;
	std::vector<K> keys(65536);
	std::vector<uint32_t> vals(65536);
	alignas(8) uint8_t in_batch[std::max<size_t>(sizeof(K), 8)] = {};
	alignas(8) uint8_t out_batch[sizeof(in_batch)] = {};
	for (bool first = true;; first = false) {
		uint32_t n = (uint32_t)keys.size();
		int rc = bpf_map_lookup_batch(fd, first ? nullptr : in_batch, out_batch, keys.data(), vals.data(),
					      &n, nullptr);
		int err = rc ? errno : 0;
		for (uint32_t i = 0; i < n; i++)
			out.emplace_back(keys[i], vals[i]);
		if (rc && err == ENOENT)
			break; // the last batch
		if (rc)
			throw SystemError(errno_message(std::string("reading ") + what, err));
		memcpy(in_batch, out_batch, sizeof(in_batch));
	}
	return out;
}

template <class K> struct KeyBytesHash {
	size_t operator()(const K &k) const
	{
		const auto *b = reinterpret_cast<const uint8_t *>(&k);
		uint64_t h = 1469598103934665603ull;
		for (size_t i = 0; i < sizeof(K); i++)
			h = (h ^ b[i]) * 1099511628211ull;
		return (size_t)h;
	}
};
template <class K> struct KeyBytesEq {
	bool operator()(const K &a, const K &b) const { return memcmp(&a, &b, sizeof(K)) == 0; }
};

// What it takes to turn one generation of a classifier map into the new
// tables: the keys it has that the new tables lack, and the entries that
// are new or whose value changed. Entries already equal are left alone, so
// re-applying a similar ruleset writes little.
template <class K> struct GenerationDiff {
	std::vector<K> stale;
	std::vector<K> keys;
	std::vector<uint32_t> vals;

	GenerationDiff(int fd, uint32_t gen, std::vector<K> want_keys, std::vector<uint32_t> want_vals,
		       const char *what)
	{
		std::unordered_map<K, std::pair<uint32_t, bool>, KeyBytesHash<K>, KeyBytesEq<K>> have;
		for (auto &[k, v] : map_entries<K>(fd, what))
			if (k.gen == gen)
				have.emplace(k, std::make_pair(v, false));
		if (have.empty()) {
			keys = std::move(want_keys);
			vals = std::move(want_vals);
			return;
		}
		for (size_t i = 0; i < want_keys.size(); i++) {
			auto it = have.find(want_keys[i]);
			if (it != have.end()) {
				it->second.second = true;
				if (it->second.first == want_vals[i])
					continue;
			}
			keys.push_back(want_keys[i]);
			vals.push_back(want_vals[i]);
		}
		for (auto &[k, v] : have)
			if (!v.second)
				stale.push_back(k);
	}

	void remove_stale(int fd)
	{
		for (size_t i = 0; i < stale.size(); i += 65536) {
			uint32_t n = (uint32_t)std::min<size_t>(65536, stale.size() - i);
			if (bpf_map_delete_batch(fd, stale.data() + i, &n, nullptr) != 0)
				for (size_t j = i; j < std::min(stale.size(), i + 65536); j++)
					bpf_map_delete_elem(fd, &stale[j]); // a key gone already stops a batch
		}
	}

	void write(int fd, const char *what)
	{
		for (size_t i = 0; i < keys.size(); i += 65536) {
			uint32_t n = (uint32_t)std::min<size_t>(65536, keys.size() - i);
			if (bpf_map_update_batch(fd, keys.data() + i, vals.data() + i, &n, nullptr) != 0)
				throw SystemError(errno_message(std::string("writing ") + what, errno));
		}
	}
};

void map_update(int fd, const void *k, const void *v, const char *what)
{
	if (bpf_map_update_elem(fd, k, v, BPF_ANY) != 0)
		throw SystemError(errno_message(std::string("writing ") + what, errno));
}

// The interface's primary IPv4 address (the first the kernel lists, as
// the stack picks for masquerade), network byte order; 0 when it has none.
uint32_t primary_ipv4(const std::string &ifname)
{
	struct ifaddrs *list = nullptr;
	uint32_t a = 0;
	if (getifaddrs(&list) != 0)
		return 0;
	for (auto *i = list; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && ifname == i->ifa_name) {
			a = reinterpret_cast<sockaddr_in *>(i->ifa_addr)->sin_addr.s_addr;
			break;
		}
	freeifaddrs(list);
	return a;
}

fw_prefix4 prefix4(const Prefix &p)
{
	fw_prefix4 r{};
	memcpy(&r.addr, p.addr.data(), 4);
	r.mask = p.len ? htonl(~0u << (32 - p.len)) : 0;
	return r;
}

// NAT rules and port forwards of one generation (fw/abi.h). Interface
// addresses are resolved now: an address change needs a re-apply.
void write_nat(int nat_fd, int pf_fd, uint32_t gen, const Ruleset &rs, const AppliedState &st)
{
	if (rs.nat.size() > FW_NAT_MAX)
		throw InputError("at most " + std::to_string(FW_NAT_MAX) + " nat rules are supported");
	if (rs.port_forward.size() > FW_PF_MAX)
		throw InputError("at most " + std::to_string(FW_PF_MAX) + " port forwards are supported");
	for (size_t i = 0; i < rs.nat.size(); i++) {
		const NatRule &n = rs.nat[i];
		if (n.exempt.size() > FW_NAT_MAX_EXEMPT)
			throw InputError("/nat/" + std::to_string(i) + "/exempt: at most " +
					 std::to_string(FW_NAT_MAX_EXEMPT) + " prefixes are supported");
		fw_nat_rule r{};
		r.out_ifindex = if_nametoindex(n.out.c_str());
		if (n.to)
			memcpy(&r.to, n.to->addr.data(), 4);
		else
			r.to = primary_ipv4(n.out);
		if (n.saddr)
			r.saddr = prefix4(*n.saddr);
		r.counter_slot = st.slots_nat.at(i);
		r.n_exempt = (uint32_t)n.exempt.size();
		for (size_t j = 0; j < n.exempt.size(); j++)
			r.exempt[j] = prefix4(n.exempt[j]);
		uint32_t k = gen * FW_NAT_MAX + (uint32_t)i;
		map_update(nat_fd, &k, &r, "NAT rules");
	}
	for (size_t i = 0; i < rs.port_forward.size(); i++) {
		const PortForward &f = rs.port_forward[i];
		fw_pf_rule r{};
		r.in_ifindex = if_nametoindex(f.in.c_str());
		if (f.daddr)
			memcpy(&r.daddr, f.daddr->addr.data(), 4);
		memcpy(&r.to_daddr, f.to_daddr.addr.data(), 4);
		if (f.dport) {
			r.dport_lo = f.dport->lo;
			r.dport_hi = f.dport->hi;
		}
		r.to_dport = f.to_dport.value_or(0);
		r.proto = f.proto;
		r.counter_slot = st.slots_pf.at(i);
		uint32_t k = gen * FW_PF_MAX + (uint32_t)i;
		map_update(pf_fd, &k, &r, "port forwards");
	}
}


} // namespace

std::string errno_message(const std::string &what, int err)
{
	std::string m = what + ": " + strerror(err);
	if (err == EPERM || err == EACCES)
		m += " (fwctl needs root, or CAP_BPF and CAP_NET_ADMIN)";
	else if (err == ENOMEM || err == E2BIG)
		m += " (a map is full, or the memory limit for BPF was reached)";
	return m;
}

std::string ruleset_hash(const Ruleset &rs)
{
	return hash_hex(ruleset_to_json(rs).dump());
}

void fault_point(const char *point)
{
	static const char *spec = getenv("FWCTL_TEST_FAULT");
	if (!spec || !*spec)
		return;
	std::string s = spec;
	bool kill = s.rfind("kill:", 0) == 0;
	if (kill)
		s = s.substr(5);
	if (s != point)
		return;
	if (kill)
		raise(SIGKILL);
	if (s == "write") // as the kernel says it when a map is full
		throw SystemError(errno_message("writing classifier combinations (FWCTL_TEST_FAULT=write)", E2BIG));
	throw SystemError(std::string("injected fault at \"") + point + "\" (FWCTL_TEST_FAULT)");
}

uint64_t realtime_ns()
{
	return (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(
		       std::chrono::system_clock::now().time_since_epoch())
		.count();
}

std::string iso_time_utc(uint64_t ns)
{
	time_t secs = (time_t)(ns / 1000000000ull);
	struct tm tm {};
	gmtime_r(&secs, &tm);
	char buf[64];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	char out[80];
	snprintf(out, sizeof out, "%s.%03uZ", buf, (unsigned)((ns / 1000000ull) % 1000));
	return out;
}

std::string hash_hex(const std::string &text)
{
	uint64_t h = 1469598103934665603ull;
	for (unsigned char c : text)
		h = (h ^ c) * 1099511628211ull;
	char buf[17];
	snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
	return buf;
}

std::vector<std::string> netns_interfaces()
{
	std::vector<std::string> names;
	struct if_nameindex *list = if_nameindex();
	if (!list)
		return names;
	for (auto *i = list; i->if_index; i++)
		if (strcmp(i->if_name, "lo") != 0)
			names.push_back(i->if_name);
	if_freenameindex(list);
	return names;
}

nlohmann::json AppliedState::to_json() const
{
	return {{"abi", FW_ABI_VERSION}, {"ruleset", ruleset},	 {"hash", hash},
		{"applied_at", applied_at}, {"applied_ns", applied_ns}, {"elf_hash", elf_hash},
		{"slots",
		 {{"input", slots_input}, {"forward", slots_forward}, {"nat", slots_nat}, {"port-forward", slots_pf}}},
		{"extra", extra}};
}

AppliedState AppliedState::from_json(const nlohmann::json &j)
{
	AppliedState s;
	s.ruleset = j.at("ruleset");
	s.hash = j.at("hash");
	s.applied_at = j.at("applied_at");
	s.applied_ns = j.value("applied_ns", 0ull);
	s.elf_hash = j.value("elf_hash", "");
	const auto &sl = j.at("slots");
	s.slots_input = sl.at("input").get<std::vector<uint32_t>>();
	s.slots_forward = sl.at("forward").get<std::vector<uint32_t>>();
	s.slots_nat = sl.at("nat").get<std::vector<uint32_t>>();
	s.slots_pf = sl.at("port-forward").get<std::vector<uint32_t>>();
	s.extra = j.value("extra", nlohmann::json::object());
	return s;
}

Runtime::Runtime(std::string pin_dir) : pin_dir_(std::move(pin_dir))
{
	while (pin_dir_.size() > 1 && pin_dir_.back() == '/')
		pin_dir_.pop_back();
}

Runtime::~Runtime()
{
	for (auto &[_, f] : fds_)
		if (f >= 0)
			close(f);
	if (lock_fd_ >= 0)
		close(lock_fd_); // releases the flock
}

void Runtime::prepare(bool create)
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
	chmod(pin_dir_.c_str(), 0700); // pins and state are root's only
	lock_fd_ = open(pin_dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock_fd_ < 0)
		throw SystemError(errno_message("cannot open pin dir " + pin_dir_, errno));
	if (flock(lock_fd_, LOCK_EX) != 0)
		throw SystemError(errno_message("cannot lock pin dir " + pin_dir_, errno));
}

int Runtime::fd(const std::string &name) const
{
	auto it = fds_.find(name);
	if (it != fds_.end())
		return it->second;
	int f = bpf_obj_get(pin_path(name).c_str());
	if (f < 0)
		throw SystemError(errno_message("cannot open pinned " + pin_path(name) +
							" (is fwctl applied here? try `fwctl apply`)",
						errno));
	fds_[name] = f;
	return f;
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

namespace {

// The kernel's own figure for a map: "memlock:\t<bytes>" in fdinfo (since
// 6.4 computed per map type from what it allocated, not a page estimate).
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

} // namespace

std::vector<MapMemory> Runtime::map_memory() const
{
	std::vector<MapMemory> out;
	DIR *d = opendir(pin_dir_.c_str());
	if (!d)
		return out;
	std::vector<std::string> names;
	while (auto *e = readdir(d))
		if (e->d_name[0] != '.' && strncmp(e->d_name, "link_", 5) != 0 && strncmp(e->d_name, "prog_", 5) != 0)
			names.push_back(e->d_name);
	closedir(d);
	std::sort(names.begin(), names.end());
	for (auto &n : names) {
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
	}
	return out;
}

bool Runtime::loaded() const
{
	if (access(pin_path("fw_active").c_str(), F_OK) != 0)
		return false;
	struct fw_active a {};
	uint32_t zero = 0;
	return bpf_map_lookup_elem(fd("fw_active"), &zero, &a) == 0 && a.valid;
}

void Runtime::remove_all_pins()
{
	for (auto &[_, f] : fds_)
		if (f >= 0)
			close(f);
	fds_.clear();
	DIR *d = opendir(pin_dir_.c_str());
	if (!d)
		return;
	std::vector<std::string> names;
	while (auto *e = readdir(d))
		if (e->d_name[0] != '.')
			names.push_back(e->d_name);
	closedir(d);
	for (auto &n : names) {
		if (n.rfind("link_", 0) == 0)
			detach_pin(n);
		unlink(pin_path(n).c_str());
	}
}

// The largest maps (the classifier's combine table, the connection table,
// the per-CPU counters, then a few of some MiB) take most of a first apply: the kernel allocates and
// zeroes tens of MiB for each. Created side by side on their own threads and
// handed to libbpf, they cost the longest one instead of their sum. Plain
// key/value maps (no BTF-described fields), so no BTF is needed.
void precreate_big_maps(struct fw_bpf *skel)
{
	struct bpf_map *maps[] = {skel->maps.fw_cls_combine, skel->maps.fw_ct,	  skel->maps.fw_rule_cnt,
				  skel->maps.fw_cls_port,    skel->maps.fw_meta, skel->maps.fw_rules,
				  skel->maps.fw_frag};
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

void Runtime::load_fresh(uint32_t ct_connections)
{
	PhaseTimer phase;
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
	err = fw_bpf__load(skel);
	phase("  other maps, verify programs");
	if (err) {
		fw_bpf__destroy(skel);
		if (err == -ENOMEM || err == -E2BIG)
			throw SystemError(errno_message("the kernel could not allocate the BPF maps; the connection "
							"table of " + std::to_string(ct_connections) +
							" connections needs about " +
							std::to_string((uint64_t)ct_connections * 2 * 160 >> 20) +
							" MiB (\"conntrack\": {\"max-connections\"})",
							-err));
		throw SystemError(errno_message("the kernel refused the BPF programs (verifier log above)", -err));
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

std::vector<std::string> Runtime::selected_interfaces(const Ruleset &rs) const
{
	if (rs.interfaces)
		return *rs.interfaces;
	return netns_interfaces();
}

void Runtime::detach_pin(const std::string &name)
{
	int f = bpf_obj_get(pin_path(name).c_str());
	if (f >= 0) {
		bpf_link_detach(f);
		close(f);
	}
}

void Runtime::attach(uint32_t ifindex, const std::string &ifname)
{
	bool l3 = is_l3_device(ifname);
	std::string xdp_pin = pin_path("link_xdp_" + std::to_string(ifindex));
	std::string tc_pin = pin_path("link_tc_" + std::to_string(ifindex));
	if (access(xdp_pin.c_str(), F_OK) != 0) {
		int prog = fd(l3 ? "prog_fw_xdp_l3" : "prog_fw_xdp");
		LIBBPF_OPTS(bpf_link_create_opts, o);
		o.flags = veth_without_xdp_peer(ifname, ifindex) ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
		int link = bpf_link_create(prog, (int)ifindex, BPF_XDP, &o);
		if (link < 0 && o.flags == XDP_FLAGS_DRV_MODE) {
			o.flags = XDP_FLAGS_SKB_MODE; // the driver has no native XDP
			link = bpf_link_create(prog, (int)ifindex, BPF_XDP, &o);
		}
		if (link < 0)
			throw SystemError(errno_message("cannot attach XDP to " + ifname +
								" (another XDP program there?)",
							errno));
		Fd l(link);
		if (bpf_obj_pin(link, xdp_pin.c_str()) != 0)
			throw SystemError(errno_message("cannot pin " + xdp_pin, errno));
	}
	if (access(tc_pin.c_str(), F_OK) != 0) {
		int prog = fd(l3 ? "prog_fw_tc_egress_l3" : "prog_fw_tc_egress");
		LIBBPF_OPTS(bpf_link_create_opts, o);
		int link = bpf_link_create(prog, (int)ifindex, BPF_TCX_EGRESS, &o);
		if (link < 0)
			throw SystemError(errno_message("cannot attach TC egress (tcx) to " + ifname, errno));
		Fd l(link);
		if (bpf_obj_pin(link, tc_pin.c_str()) != 0)
			throw SystemError(errno_message("cannot pin " + tc_pin, errno));
	}
}

bool Runtime::attach_if_covered(const std::string &ifname)
{
	auto st = applied();
	if (!st)
		return false;
	Ruleset rs;
	if (st->ruleset.contains("interfaces")) {
		auto names = st->ruleset["interfaces"].get<std::vector<std::string>>();
		if (std::find(names.begin(), names.end(), ifname) == names.end())
			return false;
	} else if (ifname == "lo") {
		return false;
	}
	uint32_t ifindex = if_nametoindex(ifname.c_str());
	if (!ifindex)
		return false;
	if (attach_stacked_if_covered(ifname, st->ruleset))
		return true; // judged by its bridge, bond or VLAN parent
	attach(ifindex, ifname);
	return true;
}

int Runtime::tidy_stale_links()
{
	int removed = 0;
	for (auto &a : attachments())
		if (!a.live) {
			unlink(a.pin.c_str());
			removed++;
		}
	return removed;
}

std::vector<std::string> Runtime::detach_unselected()
{
	std::vector<std::string> gone;
	auto st = applied();
	if (!st || !st->ruleset.contains("interfaces"))
		return gone; // the default selection follows renames by itself
	auto names = st->ruleset["interfaces"].get<std::vector<std::string>>();
	for (auto &a : attachments())
		if (a.live && std::find(names.begin(), names.end(), a.ifname) == names.end()) {
			detach_pin(a.pin.substr(pin_dir_.size() + 1));
			unlink(a.pin.c_str());
			if (std::find(gone.begin(), gone.end(), a.ifname) == gone.end())
				gone.push_back(a.ifname);
		}
	return gone;
}

void Runtime::write_meta(uint32_t gen, AppliedState &st)
{
	// to_json() would copy the ruleset (65,536 rules: half a million
	// small allocations); lend it to the document instead.
	nlohmann::json rules = std::move(st.ruleset);
	nlohmann::json doc = st.to_json();
	doc["ruleset"] = std::move(rules);
	std::string text = doc.dump();
	st.ruleset = std::move(doc["ruleset"]);
	uLongf clen = compressBound(text.size());
	std::vector<uint8_t> buf(8 + clen);
	// Fastest level: a 6.7 MB ruleset compresses to 275 kB instead of 246
	// kB (2 MB fit), in two thirds of the time.
	if (compress2(buf.data() + 8, &clen, (const Bytef *)text.data(), text.size(), Z_BEST_SPEED) != Z_OK)
		throw SystemError("cannot compress the applied state");
	buf.resize(8 + clen);
	uint32_t hdr[2] = {kMetaMagic, (uint32_t)clen};
	memcpy(buf.data(), hdr, 8);
	if (buf.size() > kMetaChunks * kMetaChunkSize)
		throw InputError("the ruleset is too large to record (" + std::to_string(buf.size()) +
				 " bytes compressed)");
	int f = fd("fw_meta");
	std::vector<uint8_t> chunk(kMetaChunkSize);
	for (uint32_t i = 0; i * kMetaChunkSize < buf.size(); i++) {
		size_t n = std::min(kMetaChunkSize, buf.size() - i * kMetaChunkSize);
		std::fill(chunk.begin(), chunk.end(), 0);
		memcpy(chunk.data(), buf.data() + i * kMetaChunkSize, n);
		uint32_t key = gen * kMetaChunks + i;
		map_update(f, &key, chunk.data(), "the applied state");
	}
}

std::optional<AppliedState> Runtime::read_meta(uint32_t gen) const
{
	int f = fd("fw_meta");
	std::vector<uint8_t> chunk(kMetaChunkSize), buf;
	uint32_t key = gen * kMetaChunks;
	if (bpf_map_lookup_elem(f, &key, chunk.data()) != 0)
		return std::nullopt;
	uint32_t hdr[2];
	memcpy(hdr, chunk.data(), 8);
	if (hdr[0] != kMetaMagic || 8 + (size_t)hdr[1] > kMetaChunks * kMetaChunkSize)
		return std::nullopt;
	size_t total = 8 + hdr[1];
	buf.insert(buf.end(), chunk.begin(), chunk.end());
	for (uint32_t i = 1; i * kMetaChunkSize < total; i++) {
		key = gen * kMetaChunks + i;
		if (bpf_map_lookup_elem(f, &key, chunk.data()) != 0)
			return std::nullopt;
		buf.insert(buf.end(), chunk.begin(), chunk.end());
	}
	std::string text(1 << 20, '\0');
	for (;;) {
		uLongf out = text.size();
		int rc = uncompress((Bytef *)text.data(), &out, buf.data() + 8, hdr[1]);
		if (rc == Z_BUF_ERROR) {
			text.resize(text.size() * 4);
			continue;
		}
		if (rc != Z_OK)
			return std::nullopt;
		text.resize(out);
		break;
	}
	try {
		return AppliedState::from_json(nlohmann::json::parse(text));
	} catch (const std::exception &) {
		return std::nullopt;
	}
}

std::optional<AppliedState> Runtime::applied() const
{
	if (!loaded())
		return std::nullopt;
	struct fw_active a {};
	uint32_t zero = 0;
	if (bpf_map_lookup_elem(fd("fw_active"), &zero, &a) != 0)
		return std::nullopt;
	return read_meta(a.gen & 1);
}

namespace {

// Assigns counter slots: a rule identical to one of the running ruleset
// (same chain, same JSON) keeps that rule's slot, so its counters survive;
// others get a slot used by neither ruleset (the old one still counts
// until the switch), zeroed before use.
struct SlotAllocator {
	std::unordered_map<std::string, std::vector<uint32_t>> reusable; // identity -> old slots, in order
	std::unordered_map<std::string, size_t> reused;                  // identity -> how many taken
	std::vector<bool> taken = std::vector<bool>(FW_MAX_COUNTER_SLOTS); // by the running ruleset
	std::vector<uint32_t> fresh;                                     // allocated now, to zero
	uint32_t next = 0;

	void add_old(std::string identity, uint32_t slot)
	{
		if (slot < FW_MAX_COUNTER_SLOTS)
			taken[slot] = true;
		reusable[std::move(identity)].push_back(slot);
	}
	uint32_t take(const std::string &identity)
	{
		auto it = reusable.find(identity);
		if (it != reusable.end()) {
			size_t &used = reused[identity];
			if (used < it->second.size())
				return it->second[used++];
		}
		while (next < FW_MAX_COUNTER_SLOTS && taken[next])
			next++;
		if (next >= FW_MAX_COUNTER_SLOTS)
			throw InputError("out of counter slots");
		taken[next] = true;
		fresh.push_back(next);
		return next++;
	}
};

std::string identity(const char *kind, const nlohmann::json &j)
{
	return std::string(kind) + ":" + j.dump();
}

} // namespace

void Runtime::apply(const Ruleset &rs, const nlohmann::json &extra)
{
	auto t0 = std::chrono::steady_clock::now();
	PhaseTimer phase;
	std::vector<std::string> ifnames = selected_interfaces(rs);
	std::vector<std::pair<std::string, uint32_t>> targets;
	for (auto &n : ifnames) {
		uint32_t idx = if_nametoindex(n.c_str());
		if (!idx)
			throw InputError("interface \"" + n + "\" does not exist in this network namespace");
		targets.emplace_back(n, idx);
	}
	// Stacked devices: who judges for whom (loader/stack.h).
	auto links = stack_read_links();
	StackPlan plan = stack_plan(links, targets);
	CompiledTables t;
	try {
		t = classifier_compile(rs, [](const std::string &n) { return (uint32_t)if_nametoindex(n.c_str()); });
	} catch (const CompileError &e) {
		throw InputError(e.what());
	}
	fault_point("compile");
	phase("compile");

	bool fresh_load = !loaded();
	std::optional<AppliedState> old;
	if (fresh_load) {
		load_fresh(rs.ct_connections());
	} else {
		old = applied();
		if (old && old->elf_hash != elf_hash())
			throw SystemError("the running datapath comes from another fwctl build; run `fwctl down` "
					  "first, then apply (connections are forgotten)");
		// The table cannot be resized under running programs, and a
		// silent reload would drop every connection: refuse, change nothing.
		uint32_t running = ct_capacity();
		if (running != rs.ct_connections())
			throw InputError("the running connection table holds " + std::to_string(running) +
					 " connections; this ruleset asks for " + std::to_string(rs.ct_connections()) +
					 " (\"conntrack\": {\"max-connections\"}" +
					 (rs.ct_max_connections ? "" : ", unset: the default") +
					 "). The size is fixed while the firewall runs: `fwctl down` first (detaches "
					 "it and forgets every connection), then apply; or keep max-connections at " +
					 std::to_string(running));
	}

	struct fw_active act {};
	uint32_t zero = 0;
	if (bpf_map_lookup_elem(fd("fw_active"), &zero, &act) != 0)
		throw SystemError(errno_message("cannot read fw_active", errno));
	uint32_t gen = act.valid ? (act.gen ^ 1) : 1;
	fault_point("load");
	phase(fresh_load ? "load and pin" : "open pins");

	// 1. Bring the inactive generation's hash and trie entries to the new
	// tables: first remove what the new tables lack...
	std::vector<fw_iface_key> iface_keys;
	std::vector<fw_addr_key> addr_keys;
	std::vector<fw_combine_key> combine_keys;
	std::vector<uint32_t> iface_vals, addr_vals, combine_vals;
	for (auto &e : t.ifaces) {
		iface_keys.push_back(fw_iface_key{e.ifindex, (uint8_t)gen, e.chain, e.dir, 0});
		iface_vals.push_back(e.cls);
	}
	for (auto &e : t.addrs) {
		fw_addr_key k{};
		k.prefixlen = 32u + e.len;
		k.gen = (uint8_t)gen;
		k.chain = e.chain;
		k.family = e.family;
		k.dir = e.dir;
		memcpy(k.addr, e.addr.data(), 16);
		addr_keys.push_back(k);
		addr_vals.push_back(e.cls);
	}
	combine_keys.reserve(t.combines.size());
	combine_vals.reserve(t.combines.size());
	for (auto &e : t.combines) {
		combine_keys.push_back(fw_combine_key{e.a, e.b, (uint8_t)gen, e.chain, e.stage, 0});
		combine_vals.push_back(e.value);
	}
	int iface_fd = fd("fw_cls_iface"), addr_fd = fd("fw_cls_addr"), combine_fd = fd("fw_cls_combine");
	GenerationDiff<fw_iface_key> ifaces(iface_fd, gen, std::move(iface_keys), std::move(iface_vals),
					    "interface classes");
	GenerationDiff<fw_addr_key> addrs(addr_fd, gen, std::move(addr_keys), std::move(addr_vals),
					  "address classes");
	GenerationDiff<fw_combine_key> combines(combine_fd, gen, std::move(combine_keys),
						std::move(combine_vals), "classifier combinations");
	ifaces.remove_stale(iface_fd);
	addrs.remove_stale(addr_fd);
	combines.remove_stale(combine_fd);

	fault_point("empty");
	phase("diff, remove stale entries");

	// 2. ...then write what is new or changed.
	{
		ifaces.write(iface_fd, "interface classes");
		addrs.write(addr_fd, "address classes");
		fault_point("write");
		combines.write(combine_fd, "classifier combinations");
		// Array maps store each value in 8 bytes (elem_size is rounded
		// up), and that is the layout the mmap shows.
		Mapped ports(fd("fw_cls_port"), sizeof(uint64_t) * FW_PORT_ENTRIES);
		for (uint32_t c = 0; c < FW_CHAINS; c++)
			for (uint32_t d = 0; d < 2; d++) {
				uint64_t *dst = ports.as<uint64_t>() + fw_port_index(gen, c, d, 0);
				for (uint32_t i = 0; i < FW_PORT_SLOTS; i++)
					dst[i] = t.ports[c][d][i];
			}
		Mapped protos(fd("fw_cls_proto"), sizeof(uint64_t) * FW_PROTO_ENTRIES);
		for (uint32_t c = 0; c < FW_CHAINS; c++)
			for (uint32_t i = 0; i < 256; i++)
				protos.as<uint64_t>()[(gen * FW_CHAINS + c) * 256 + i] = t.protos[c][i];
	}

	phase("write tables");

	// 3. Rules with their counter slots; the applied state.
	AppliedState st;
	st.ruleset = ruleset_to_json(rs);
	st.hash = hash_hex(st.ruleset.dump());
	st.applied_ns = realtime_ns();
	st.applied_at = iso_time_utc(st.applied_ns);
	st.elf_hash = elf_hash();
	st.extra = extra.is_object() ? extra : nlohmann::json::object();
	phase("ruleset JSON and hash");
	SlotAllocator slots;
	if (old) {
		auto add = [&](const char *kind, const char *key, const std::vector<uint32_t> &s) {
			if (!old->ruleset.contains(key))
				return;
			const auto &arr = old->ruleset[key];
			for (size_t i = 0; i < arr.size() && i < s.size(); i++)
				slots.add_old(identity(kind, arr[i]), s[i]);
		};
		add("input", "input", old->slots_input);
		add("forward", "forward", old->slots_forward);
		add("nat", "nat", old->slots_nat);
		add("pf", "port-forward", old->slots_pf);
	}
	// The canonical JSON holds each rule as rule_to_json() gives it.
	if (st.ruleset.contains("input"))
		for (auto &j : st.ruleset["input"])
			st.slots_input.push_back(slots.take(identity("input", j)));
	if (st.ruleset.contains("forward"))
		for (auto &j : st.ruleset["forward"])
			st.slots_forward.push_back(slots.take(identity("forward", j)));
	if (st.ruleset.contains("nat"))
		for (auto &j : st.ruleset["nat"])
			st.slots_nat.push_back(slots.take(identity("nat", j)));
	if (st.ruleset.contains("port-forward"))
		for (auto &j : st.ruleset["port-forward"])
			st.slots_pf.push_back(slots.take(identity("pf", j)));
	phase("counter slots");
	{
		int ncpu = libbpf_num_possible_cpus();
		size_t per_key = (size_t)std::max(ncpu, 1);
		std::vector<fw_counter> zeros(per_key * std::max<size_t>(slots.fresh.size(), 1));
		int f = fd("fw_rule_cnt");
		uint32_t n = (uint32_t)slots.fresh.size();
		if (n && bpf_map_update_batch(f, slots.fresh.data(), zeros.data(), &n, nullptr) != 0)
			throw SystemError(errno_message("zeroing counters", errno));
		Mapped rules(fd("fw_rules"), sizeof(fw_rule) * FW_GENS * FW_MAX_RULES);
		for (size_t i = 0; i < t.rules.size(); i++) {
			fw_rule r = t.rules[i];
			r.counter_slot = r.chain == FW_CHAIN_INPUT ? st.slots_input[i]
								   : st.slots_forward[i - rs.input.size()];
			rules.as<fw_rule>()[gen * FW_MAX_RULES + i] = r;
		}
	}
	fw_gen_cfg cfg{};
	cfg.policy[FW_CHAIN_INPUT] = rs.policy_input == Action::accept ? FW_VERDICT_ACCEPT : FW_VERDICT_DROP;
	cfg.policy[FW_CHAIN_FORWARD] =
		rs.policy_forward == Action::accept ? FW_VERDICT_ACCEPT : FW_VERDICT_DROP;
	for (int c = 0; c < FW_CHAINS; c++) {
		cfg.catchall[c] = t.catchall[c];
		if (t.ab_constant[c]) {
			cfg.flags |= FW_CFG_F_CONST_AB << c;
			cfg.const_ab[c] = t.const_ab[c];
		}
		cfg.iface_default_class[c][0] = t.iface_default_class[c][0];
		cfg.iface_default_class[c][1] = t.iface_default_class[c][1];
	}
	cfg.log_interval_ns = rs.log.interval_ns();
	cfg.log_burst = rs.log.burst;
	write_nat(fd("fw_nat"), fd("fw_pf"), gen, rs, st);
	cfg.nat_count = (uint32_t)rs.nat.size();
	cfg.pf_count = (uint32_t)rs.port_forward.size();
	cfg.flags |= rs.fastpath ? FW_CFG_F_FASTPATH : 0;
	map_update(fd("fw_gen_cfg"), &gen, &cfg, "the generation config");
	fault_point("rules");
	phase("rules, counters, config");
	write_meta(gen, st);
	fault_point("meta");
	phase("applied state");

	// 4. Switch: one array write; every attached program reads the new
	// generation from its next packet on. Then attach to interfaces not
	// covered yet, so they never run without a complete ruleset. If that
	// fails, switch back: the previous ruleset keeps running.
	stack_write_maps(fd("fw_stack_if"), fd("fw_stack"), links, targets);
	struct fw_active next {gen, 1};
	map_update(fd("fw_active"), &zero, &next, "fw_active");
	try {
		fault_point("flip");
		for (auto &[name, idx] : plan.attach)
			attach(idx, name);
		attach_xfrm_ingress(plan);
		attach_xfrm_output();
		if (xfrm_policies_present())
			xfrm_epoch_bump(); // the fast path's guard on (lib/xfrm_fast.h)
		fault_point("attach");
	} catch (...) {
		if (fresh_load)
			remove_all_pins();
		else
			bpf_map_update_elem(fd("fw_active"), &zero, &act, BPF_ANY);
		throw;
	}

	phase("switch and attach");

	// Where the fast path may send packets, and whose packets it must
	// check first (only read when "fastpath").
	{
		// Cleared first, then set: in between an interface is at worst
		// not fast (its packets take the stack), never fast unchecked.
		Mapped m(fd("fw_fast_if"), sizeof(uint64_t) * FW_FAST_IF_MAX);
		uint64_t *flags = m.as<uint64_t>();
		for (uint32_t i = 0; i < FW_FAST_IF_MAX; i++)
			if (flags[i])
				__atomic_store_n(&flags[i], 0ull, __ATOMIC_RELAXED);
		if (rs.fastpath)
			for (auto &[name, idx] : plan.attach)
				if (idx < FW_FAST_IF_MAX)
					__atomic_store_n(&flags[idx], (uint64_t)fast_if_flags(name, idx),
							 __ATOMIC_RELEASE);
	}

	// 5. Interfaces that left the selection.
	std::set<std::string> wanted = stack_wanted_pins(plan);
	for (auto &a : attachments())
		if (!a.live || !wanted.count(a.pin)) {
			detach_pin(a.pin.substr(pin_dir_.size() + 1));
			unlink(a.pin.c_str());
		}
	last_hash_ = st.hash;
	last_apply_ns_ = (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(
				 std::chrono::steady_clock::now() - t0)
				 .count();
}

void Runtime::down()
{
	struct stat st {};
	if (stat(pin_dir_.c_str(), &st) != 0)
		return;
	remove_all_pins();
}

std::vector<Attachment> Runtime::attachments() const
{
	std::vector<Attachment> out;
	DIR *d = opendir(pin_dir_.c_str());
	if (!d)
		return out;
	std::vector<std::string> names;
	while (auto *e = readdir(d))
		if (strncmp(e->d_name, "link_", 5) == 0)
			names.push_back(e->d_name);
	closedir(d);
	std::sort(names.begin(), names.end());
	for (auto &n : names) {
		if (n.rfind("link_fentry_", 0) == 0)
			continue; // not an interface's (stack_attach.cpp)
		Attachment a;
		a.pin = pin_path(n);
		a.hook = n.rfind("link_xdp_", 0) == 0	? "xdp"
			 : n.rfind("link_tci_", 0) == 0 ? "tc-ingress"
							: "tc-egress";
		int f = bpf_obj_get(a.pin.c_str());
		if (f >= 0) {
			struct bpf_link_info info {};
			uint32_t len = sizeof(info);
			if (bpf_link_get_info_by_fd(f, &info, &len) == 0) {
				a.ifindex = a.hook == "xdp" ? info.xdp.ifindex : info.tcx.ifindex;
				a.live = a.ifindex != 0;
				int pf = bpf_prog_get_fd_by_id(info.prog_id);
				struct bpf_prog_info pi {};
				uint32_t plen = sizeof(pi);
				if (pf >= 0 && bpf_prog_get_info_by_fd(pf, &pi, &plen) == 0)
					a.program = pi.name;
				if (pf >= 0)
					close(pf);
			}
			close(f);
		}
		if (!a.live)
			a.ifindex = (uint32_t)std::stoul(n.substr(n.rfind('_') + 1));
		char name[IF_NAMESIZE] = {};
		if (a.live && if_indextoname(a.ifindex, name))
			a.ifname = name;
		if (a.hook == "xdp" && a.live) {
			LIBBPF_OPTS(bpf_xdp_query_opts, q);
			if (bpf_xdp_query((int)a.ifindex, 0, &q) == 0)
				a.mode = q.attach_mode == XDP_ATTACHED_DRV ? "native"
					 : q.attach_mode == XDP_ATTACHED_SKB ? "generic"
					 : q.attach_mode == XDP_ATTACHED_HW  ? "offload"
									     : "multi";
		} else if (a.live) {
			a.mode = "tcx";
		}
		out.push_back(a);
	}
	return out;
}

CounterValue Runtime::rule_counter(uint32_t slot) const
{
	int ncpu = libbpf_num_possible_cpus();
	std::vector<fw_counter> v((size_t)std::max(ncpu, 1));
	CounterValue c;
	if (bpf_map_lookup_elem(fd("fw_rule_cnt"), &slot, v.data()) == 0)
		for (auto &x : v) {
			c.packets += x.packets;
			c.bytes += x.bytes;
		}
	return c;
}

CounterValue Runtime::stat_counter(uint32_t stat) const
{
	int ncpu = libbpf_num_possible_cpus();
	std::vector<fw_counter> v((size_t)std::max(ncpu, 1));
	CounterValue c;
	if (bpf_map_lookup_elem(fd("fw_stats"), &stat, v.data()) == 0)
		for (auto &x : v) {
			c.packets += x.packets;
			c.bytes += x.bytes;
		}
	return c;
}

} // namespace fw
