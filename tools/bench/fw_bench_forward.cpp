// fw_bench_forward: packets per second that a router namespace forwards
// with no firewall, with nftables rulesets of growing size, and with fwctl
// (through a hook: --fwctl PATH).
//
//   src ns                    fw ns                        dst ns
//   [gen] -> s0 ==veth== f0 --(routing + firewall)--> f1 ==veth== d0 -> [count]
//
// The generator is an XDP program run with BPF_PROG_TEST_RUN in live-frame
// mode: it writes a UDP frame and bpf_redirect()s it out of s0. The sink is
// an XDP program on d0 that counts and drops. What the benchmark reports is
// the rate at which frames reach the sink over a fixed window after a
// warm-up (for the drop variants: the rate at which the firewall drops).
//
// Everything happens in namespaces named after this process; they, and a
// private bpffs for fwctl's pins, are removed on exit, on SIGINT/SIGTERM/
// SIGHUP, and on errors (by exact name).

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <nlohmann/json.hpp>

#include "bench_count.skel.h"
#include "bench_fwd.skel.h"
#include "bench_gen.skel.h"
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/netdev.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <arpa/inet.h>

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::atomic<bool> g_stop{false};
bool g_verbose = false;
// How the generator sends (Generator::worker): "xdp-live-frames", or
// "af-packet" where the kernel refuses live frames.
std::atomic<bool> g_gen_af_packet{false};

void on_signal(int) { g_stop = true; }

struct Interrupted : std::runtime_error {
	Interrupted() : std::runtime_error("interrupted") {}
};

void check_stop()
{
	if (g_stop)
		throw Interrupted();
}

// --- shell helpers ----------------------------------------------------------

std::string sh_quote(const std::string &s)
{
	std::string r = "'";
	for (char c : s) {
		if (c == '\'')
			r += "'\\''";
		else
			r += c;
	}
	return r + "'";
}

struct CmdResult {
	int rc;
	std::string out; // stdout and stderr together
};

CmdResult sh(const std::string &cmd)
{
	if (g_verbose)
		std::cerr << "+ " << cmd << "\n";
	CmdResult r{-1, {}};
	FILE *p = popen((cmd + " 2>&1").c_str(), "r");
	if (!p)
		return r;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, p)) > 0)
		r.out.append(buf, n);
	int st = pclose(p);
	r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return r;
}

std::string sh_ok(const std::string &cmd)
{
	auto r = sh(cmd);
	if (r.rc != 0)
		throw std::runtime_error("exit " + std::to_string(r.rc) + ": " +
					 (r.out.empty() ? "(no output)" : r.out) + "\n  command: " + cmd);
	return r.out;
}

std::string first_line(const std::string &s, size_t max = 300)
{
	auto t = s.substr(0, s.find('\n'));
	return t.size() > max ? t.substr(0, max) + "..." : t;
}

void write_file(const std::string &path, const std::string &text)
{
	std::ofstream f(path);
	f << text;
	if (!f)
		throw std::runtime_error("cannot write " + path);
}

double secs_since(Clock::time_point t0)
{
	return std::chrono::duration<double>(Clock::now() - t0).count();
}

void sleep_checked(double seconds)
{
	auto end = Clock::now() + std::chrono::duration<double>(seconds);
	while (Clock::now() < end) {
		check_stop();
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	}
}

// --- network namespaces -----------------------------------------------------

// Enters a network namespace for the calling thread; restores on scope exit.
class NetnsEnter {
public:
	explicit NetnsEnter(const std::string &path)
	{
		orig_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
		if (orig_ < 0 || fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			if (orig_ >= 0)
				close(orig_);
			throw std::runtime_error("cannot enter " + path + ": " + strerror(e));
		}
		close(fd);
	}
	~NetnsEnter()
	{
		if (setns(orig_, CLONE_NEWNET) != 0)
			std::abort(); // running on in the wrong namespace would be worse
		close(orig_);
	}
	NetnsEnter(const NetnsEnter &) = delete;
	NetnsEnter &operator=(const NetnsEnter &) = delete;

private:
	int orig_ = -1;
};

struct Mac {
	uint8_t b[6];
	std::string str() const
	{
		char s[18];
		snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
		return s;
	}
};

// Fixed addresses: the namespaces are private, so they never clash.
constexpr Mac MAC_S0{{0x02, 0xfb, 0, 0, 0, 0x01}};
constexpr Mac MAC_F0{{0x02, 0xfb, 0, 0, 0, 0x02}};
constexpr Mac MAC_F1{{0x02, 0xfb, 0, 0, 0, 0x03}};
constexpr Mac MAC_D0{{0x02, 0xfb, 0, 0, 0, 0x04}};
constexpr const char *IP_S0 = "192.0.2.2", *IP_F0 = "192.0.2.1";
constexpr const char *IP_F1 = "198.51.100.1", *IP_D0 = "198.51.100.2";
constexpr uint16_t DPORT = 9000;        // the port the traffic goes to
constexpr uint16_t OTHER_PORT0 = 20000; // first port of the rules that miss

// src, fw and dst namespaces wired as in the header comment.
class Topology {
public:
	std::string src, fw, dst; // namespace names
	explicit Topology(const std::string &prefix)
	    : src(prefix + "-src"), fw(prefix + "-fw"), dst(prefix + "-dst")
	{
		try {
			build();
		} catch (...) {
			teardown();
			throw;
		}
	}
	~Topology() { teardown(); }
	Topology(const Topology &) = delete;
	Topology &operator=(const Topology &) = delete;

	static std::string path(const std::string &ns) { return "/run/netns/" + ns; }
	std::string in(const std::string &ns, const std::string &cmd) const
	{
		return "nsenter --net=" + sh_quote(path(ns)) + " " + cmd;
	}

private:
	std::vector<std::string> made_;

	void build()
	{
		int q = std::max(1, (int)std::thread::hardware_concurrency());
		std::string qs = " numtxqueues " + std::to_string(q) + " numrxqueues " + std::to_string(q);
		for (auto *ns : {&src, &fw, &dst}) {
			sh_ok("ip netns add " + sh_quote(*ns));
			made_.push_back(*ns);
			sh_ok("ip -n " + sh_quote(*ns) + " link set lo up");
			// No IPv6: no DAD/MLD frames in the sink's count.
			sh_ok(in(*ns, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
				      "net.ipv6.conf.default.disable_ipv6=1"));
		}
		// Queue counts must be set at creation, before any XDP attaches.
		sh_ok("ip -n " + sh_quote(src) + " link add s0 address " + MAC_S0.str() + qs +
		      " type veth peer name f0 address " + MAC_F0.str() + qs + " netns " + sh_quote(fw));
		sh_ok("ip -n " + sh_quote(fw) + " link add f1 address " + MAC_F1.str() + qs +
		      " type veth peer name d0 address " + MAC_D0.str() + qs + " netns " + sh_quote(dst));
		sh_ok("ip -n " + sh_quote(src) + " addr add " + IP_S0 + "/24 dev s0");
		sh_ok("ip -n " + sh_quote(fw) + " addr add " + IP_F0 + "/24 dev f0");
		sh_ok("ip -n " + sh_quote(fw) + " addr add " + IP_F1 + "/24 dev f1");
		sh_ok("ip -n " + sh_quote(dst) + " addr add " + IP_D0 + "/24 dev d0");
		sh_ok("ip -n " + sh_quote(src) + " link set s0 up");
		sh_ok("ip -n " + sh_quote(fw) + " link set f0 up");
		sh_ok("ip -n " + sh_quote(fw) + " link set f1 up");
		sh_ok("ip -n " + sh_quote(dst) + " link set d0 up");
		sh_ok("ip -n " + sh_quote(src) + " route add 198.51.100.0/24 via " + IP_F0);
		sh_ok("ip -n " + sh_quote(dst) + " route add 192.0.2.0/24 via " + IP_F1);
		sh_ok(in(fw, "sysctl -qw net.ipv4.ip_forward=1"));
		// The sink never answers ARP (its XDP drops everything).
		sh_ok("ip -n " + sh_quote(fw) + " neigh replace " + IP_D0 + " lladdr " + MAC_D0.str() +
		      " dev f1 nud permanent");
		// veth takes ndo_xdp_xmit frames (our redirect) only when the
		// receiving end runs XDP or has NAPI, which GRO turns on.
		sh_ok(in(fw, "ethtool -K f0 gro on"));
	}

	void teardown()
	{
		for (auto it = made_.rbegin(); it != made_.rend(); ++it)
			sh("ip netns del " + sh_quote(*it));
		made_.clear();
	}
};

// A private bpffs instance for fwctl's pins, so nothing lands in
// /sys/fs/bpf and nothing of another instance is visible.
class Bpffs {
public:
	std::string dir;
	explicit Bpffs(std::string d) : dir(std::move(d))
	{
		std::filesystem::create_directories(dir);
		if (mount("bpffs", dir.c_str(), "bpf", 0, "mode=0700") != 0)
			throw std::runtime_error("mount bpffs on " + dir + ": " + strerror(errno));
	}
	~Bpffs()
	{
		umount2(dir.c_str(), MNT_DETACH);
		rmdir(dir.c_str());
	}
	Bpffs(const Bpffs &) = delete;
	Bpffs &operator=(const Bpffs &) = delete;
};

// --- threaded NAPI -------------------------------------------------------------

// A veth's receive work (the firewall's XDP, the forwarding) runs in its
// NAPI poll, which by default is a softirq on the CPU that transmitted to
// it: the generator's. Threaded NAPI moves it into a kthread per rx queue,
// which we pin to another CPU, so the generator and the router each own a
// core, as a NIC's interrupt affinity would arrange.

// One netlink attribute in a dump reply: type -> payload.
using NlAttrs = std::map<uint16_t, std::string>;

// A generic-netlink dump (one request, attributes of every reply message),
// asked in the calling thread's network namespace.
class Genl {
public:
	Genl()
	{
		fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
		if (fd_ < 0)
			throw std::runtime_error(std::string("netlink socket: ") + strerror(errno));
	}
	~Genl() { close(fd_); }
	Genl(const Genl &) = delete;
	Genl &operator=(const Genl &) = delete;

	uint16_t family(const std::string &name)
	{
		std::string a = attr(CTRL_ATTR_FAMILY_NAME, name + '\0');
		for (auto &m : request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, a))
			if (m.count(CTRL_ATTR_FAMILY_ID) && m[CTRL_ATTR_FAMILY_ID].size() >= 2)
				return *(const uint16_t *)m[CTRL_ATTR_FAMILY_ID].data();
		throw std::runtime_error("no generic netlink family " + name);
	}
	std::vector<NlAttrs> dump(uint16_t fam, uint8_t cmd, const std::string &attrs)
	{
		return request(fam, cmd, NLM_F_DUMP, attrs);
	}
	static std::string attr(uint16_t type, const std::string &payload)
	{
		nlattr a{(uint16_t)(NLA_HDRLEN + payload.size()), type};
		std::string s((const char *)&a, sizeof a);
		s += payload;
		s.resize(NLA_ALIGN(s.size()), '\0');
		return s;
	}
	static std::string attr_u32(uint16_t type, uint32_t v)
	{
		return attr(type, std::string((const char *)&v, 4));
	}
	static uint32_t u32(const NlAttrs &m, uint16_t type)
	{
		auto it = m.find(type);
		return it != m.end() && it->second.size() >= 4 ? *(const uint32_t *)it->second.data() : 0;
	}

private:
	int fd_ = -1;
	uint32_t seq_ = 1;

	std::vector<NlAttrs> request(uint16_t fam, uint8_t cmd, uint16_t flags, const std::string &attrs)
	{
		std::string msg(NLMSG_HDRLEN + GENL_HDRLEN, '\0');
		auto *nh = (nlmsghdr *)msg.data();
		nh->nlmsg_type = fam;
		nh->nlmsg_flags = NLM_F_REQUEST | flags;
		nh->nlmsg_seq = ++seq_;
		auto *gh = (genlmsghdr *)(msg.data() + NLMSG_HDRLEN);
		gh->cmd = cmd;
		gh->version = 1;
		msg += attrs;
		((nlmsghdr *)msg.data())->nlmsg_len = msg.size();
		if (send(fd_, msg.data(), msg.size(), 0) < 0)
			throw std::runtime_error(std::string("netlink send: ") + strerror(errno));
		std::vector<NlAttrs> out;
		std::vector<char> buf(1 << 16);
		for (;;) {
			ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
			if (n < 0)
				throw std::runtime_error(std::string("netlink recv: ") + strerror(errno));
			for (auto *h = (nlmsghdr *)buf.data(); NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
				if (h->nlmsg_type == NLMSG_DONE)
					return out;
				if (h->nlmsg_type == NLMSG_ERROR) {
					int err = ((nlmsgerr *)NLMSG_DATA(h))->error;
					if (err)
						throw std::runtime_error(std::string("netlink: ") + strerror(-err));
					return out; // an ack
				}
				NlAttrs m;
				char *p = (char *)NLMSG_DATA(h) + GENL_HDRLEN;
				int left = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
				while (left >= NLA_HDRLEN) {
					auto *a = (nlattr *)p;
					if (a->nla_len < NLA_HDRLEN || a->nla_len > left)
						break;
					m[a->nla_type & NLA_TYPE_MASK] =
					    std::string(p + NLA_HDRLEN, a->nla_len - NLA_HDRLEN);
					p += NLA_ALIGN(a->nla_len);
					left -= NLA_ALIGN(a->nla_len);
				}
				out.push_back(std::move(m));
				if (!(flags & NLM_F_DUMP))
					return out;
			}
		}
	}
};

struct NapiThread {
	uint32_t rxq, napi_id;
	int pid; // 0: the NAPI is not threaded
};

// The NAPI kthreads of a device's rx queues (netdev family: queue-get for
// rx queue -> NAPI id, napi-get for NAPI id -> thread pid).
std::vector<NapiThread> napi_threads(const std::string &ns_path, const std::string &dev)
{
	NetnsEnter in(ns_path);
	uint32_t ifindex = if_nametoindex(dev.c_str());
	if (!ifindex)
		throw std::runtime_error("no " + dev + " in " + ns_path);
	Genl nl;
	uint16_t fam = nl.family(NETDEV_FAMILY_NAME);
	std::map<uint32_t, int> pid_of;
	for (auto &m : nl.dump(fam, NETDEV_CMD_NAPI_GET, Genl::attr_u32(NETDEV_A_NAPI_IFINDEX, ifindex)))
		if (Genl::u32(m, NETDEV_A_NAPI_IFINDEX) == ifindex)
			pid_of[Genl::u32(m, NETDEV_A_NAPI_ID)] = (int)Genl::u32(m, NETDEV_A_NAPI_PID);
	std::vector<NapiThread> out;
	for (auto &m : nl.dump(fam, NETDEV_CMD_QUEUE_GET, Genl::attr_u32(NETDEV_A_QUEUE_IFINDEX, ifindex)))
		if (Genl::u32(m, NETDEV_A_QUEUE_IFINDEX) == ifindex &&
		    Genl::u32(m, NETDEV_A_QUEUE_TYPE) == NETDEV_QUEUE_TYPE_RX && m.count(NETDEV_A_QUEUE_NAPI_ID)) {
			uint32_t id = Genl::u32(m, NETDEV_A_QUEUE_NAPI_ID);
			out.push_back({Genl::u32(m, NETDEV_A_QUEUE_ID), id, pid_of.count(id) ? pid_of[id] : 0});
		}
	if (out.empty()) {
		// veth does not tell which queue a NAPI serves; it adds one
		// per rx queue, in queue order, and ids ascend as they are added.
		uint32_t q = 0;
		for (auto &[id, pid] : pid_of)
			out.push_back({q++, id, pid});
	}
	std::sort(out.begin(), out.end(), [](auto &a, auto &b) { return a.rxq < b.rxq; });
	return out;
}

// Threaded NAPI on the firewall's ingress veth f0, its kthreads pinned:
// rx queue i's to CPU (cpu + i) % ncpu (the generator's thread i sends to
// rx queue i from CPU i). Run as SCHED_FIFO 1 like the generator, for the
// same reason (a shared machine).
class FwNapi {
public:
	FwNapi(const Topology &t, int cpu, bool rt) : ns_path_(Topology::path(t.fw)), cpu_(cpu), rt_(rt)
	{
		// /sys shows the namespace of whoever mounted it: mount a
		// sysfs of fw's namespace in a private mount namespace.
		sh_ok(t.in(t.fw, "unshare --mount sh -c " +
				     sh_quote("mount -t sysfs sysfs /sys && echo " + std::string("1") + " > /sys/class/net/f0/threaded")));
		pin();
	}
	// Again before every measurement: a NAPI that was deleted and added
	// back (XDP detached with GRO off) gets a new, unpinned thread.
	void pin()
	{
		int ncpu = std::max(1u, std::thread::hardware_concurrency());
		pins_ = napi_threads(ns_path_, "f0");
		bool any = false;
		for (auto &t : pins_) {
			if (!t.pid)
				continue;
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET((cpu_ + (int)t.rxq) % ncpu, &set);
			if (sched_setaffinity(t.pid, sizeof set, &set) != 0)
				throw std::runtime_error("pinning NAPI thread " + std::to_string(t.pid) + ": " +
							 strerror(errno));
			sched_param sp{};
			sp.sched_priority = rt_ ? 1 : 0;
			sched_setscheduler(t.pid, rt_ ? SCHED_FIFO : SCHED_OTHER, &sp);
			any = true;
		}
		if (!any)
			throw std::runtime_error("f0 has no threaded NAPI (is GRO on?)");
	}
	json describe() const
	{
		json j = json::array();
		int ncpu = std::max(1u, std::thread::hardware_concurrency());
		for (auto &t : pins_)
			j.push_back({{"rxq", t.rxq}, {"napi_id", t.napi_id}, {"pid", t.pid},
				     {"cpu", (cpu_ + (int)t.rxq) % ncpu}});
		return j;
	}

private:
	std::string ns_path_;
	int cpu_;
	bool rt_;
	std::vector<NapiThread> pins_;
};

// --- BPF: generator and sink -------------------------------------------------

uint16_t ip_checksum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (p[i] << 8) | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

std::vector<uint8_t> build_frame(size_t len)
{
	std::vector<uint8_t> f(len, 0);
	auto put16 = [&](size_t o, uint16_t v) {
		f[o] = v >> 8;
		f[o + 1] = v & 0xff;
	};
	auto put_ip = [&](size_t o, const char *a) {
		unsigned x[4];
		sscanf(a, "%u.%u.%u.%u", &x[0], &x[1], &x[2], &x[3]);
		for (int i = 0; i < 4; i++)
			f[o + i] = (uint8_t)x[i];
	};
	memcpy(&f[0], MAC_F0.b, 6);
	memcpy(&f[6], MAC_S0.b, 6);
	put16(12, 0x0800);
	f[14] = 0x45;
	put16(16, (uint16_t)(len - 14));
	f[22] = 64; // ttl
	f[23] = 17; // udp
	put_ip(26, IP_S0);
	put_ip(30, IP_D0);
	put16(24, ip_checksum(&f[14], 20));
	put16(34, 10000);
	put16(36, DPORT);
	put16(38, (uint16_t)(len - 34));
	// A real UDP checksum (not the "none" IPv4 allows): a firewall that
	// verifies checksums pays for it here as it would on a wire.
	uint32_t s = 0;
	for (size_t i = 26; i < 34; i += 2) // pseudo-header: addresses
		s += (f[i] << 8) | f[i + 1];
	s += 17 + (uint32_t)(len - 34);
	for (size_t i = 34; i < len; i += 2)
		s += (f[i] << 8) | (i + 1 < len ? f[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	uint16_t c = (uint16_t)~s;
	put16(40, c ? c : 0xffff);
	return f;
}

uint64_t sum_percpu(int map_fd)
{
	int ncpu = libbpf_num_possible_cpus();
	std::vector<uint64_t> v(std::max(ncpu, 1));
	uint32_t key = 0;
	if (bpf_map_lookup_elem(map_fd, &key, v.data()) != 0)
		throw std::runtime_error(std::string("reading a counter map: ") + strerror(errno));
	uint64_t s = 0;
	for (auto x : v)
		s += x;
	return s;
}

class Sink {
public:
	explicit Sink(const Topology &t)
	{
		skel_ = bench_count::open_and_load();
		if (!skel_)
			throw std::runtime_error(std::string("loading the sink program: ") + strerror(errno));
		NetnsEnter in(Topology::path(t.dst));
		int ifindex = if_nametoindex("d0");
		link_ = ifindex ? bpf_program__attach_xdp(skel_->progs.fw_bench_count, ifindex) : nullptr;
		if (!link_) {
			int e = errno;
			bench_count::destroy(skel_);
			throw std::runtime_error(std::string("attaching the sink to d0: ") + strerror(e));
		}
		// An XDP program on s0 lets f0 (its peer, the firewall's ingress)
		// run XDP natively, as on a real NIC: a veth whose peer has no XDP
		// cannot transmit XDP frames, so fwctl would attach in generic mode.
		struct bpf_insn pass[] = {
			{BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, XDP_PASS},
			{BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
		};
		pass_prog_ = bpf_prog_load(BPF_PROG_TYPE_XDP, "s0_pass", "GPL", pass, 2, nullptr);
		NetnsEnter in_src(Topology::path(t.src));
		s0_ = (int)if_nametoindex("s0");
		if (pass_prog_ >= 0 && s0_ > 0)
			bpf_xdp_attach(s0_, pass_prog_, XDP_FLAGS_DRV_MODE, nullptr);
	}
	~Sink()
	{
		if (pass_prog_ >= 0) {
			close(pass_prog_); // the namespace (and s0) go with the topology
		}
		bpf_link__destroy(link_);
		bench_count::destroy(skel_);
	}
	Sink(const Sink &) = delete;
	Sink &operator=(const Sink &) = delete;
	uint64_t packets() const { return sum_percpu(bpf_map__fd(skel_->maps.sink_rx)); }
	// The IPv4 source of the latest frame at the sink ("" if none since reset).
	std::string last_source() const
	{
		uint32_t a = __atomic_load_n(&skel_->bss->last_saddr, __ATOMIC_RELAXED);
		if (!a)
			return "";
		auto *b = (const uint8_t *)&a;
		return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
		       std::to_string(b[3]);
	}
	void reset_source() { __atomic_store_n(&skel_->bss->last_saddr, 0, __ATOMIC_RELAXED); }

private:
	bench_count *skel_ = nullptr;
	bpf_link *link_ = nullptr;
	int pass_prog_ = -1, s0_ = 0;
};

class Generator {
public:
	Generator(const Topology &t, uint32_t flows, uint32_t sources, size_t frame_len, int threads, bool rt)
	    : src_path_(Topology::path(t.src)), frame_(build_frame(frame_len)), threads_(threads),
	      rt_(rt), flows_(flows), sources_(sources)
	{
		if (threads_ > 64)
			throw std::runtime_error("at most 64 generator threads");
		skel_ = bench_gen::open();
		if (!skel_)
			throw std::runtime_error(std::string("opening the generator: ") + strerror(errno));
		{
			NetnsEnter in(src_path_);
			skel_->rodata->out_ifindex = if_nametoindex("s0");
		}
		if (!skel_->rodata->out_ifindex) {
			bench_gen::destroy(skel_);
			throw std::runtime_error("no s0 in the src namespace");
		}
		skel_->rodata->flows = std::max<uint32_t>(flows, 1);
		skel_->rodata->sources = std::max<uint32_t>(sources, 1);
		skel_->rodata->sport_base = 10000;
		memcpy((void *)skel_->rodata->hdr, frame_.data(), sizeof(skel_->rodata->hdr));
		if (bench_gen::load(skel_) != 0) {
			int e = errno;
			bench_gen::destroy(skel_);
			throw std::runtime_error(std::string("loading the generator: ") + strerror(e));
		}
	}
	~Generator()
	{
		stop();
		bench_gen::destroy(skel_);
	}
	Generator(const Generator &) = delete;
	Generator &operator=(const Generator &) = delete;

	uint64_t sent() const
	{
		uint64_t n = sum_percpu(bpf_map__fd(skel_->maps.gen_sent));
		for (int i = 0; i < threads_; i++)
			n += packet_sent_[i].load(std::memory_order_relaxed);
		return n;
	}

	void start()
	{
		running_ = true;
		error_.clear();
		spans_.assign(threads_, {});
		for (int i = 0; i < threads_; i++)
			workers_.emplace_back([this, i] { worker(i); });
	}
	void stop()
	{
		running_ = false;
		for (auto &w : workers_)
			w.join();
		workers_.clear();
	}
	std::string error() const { return error_; }
	// Seconds from the first test run's start to the last one's end, over
	// the threads, of the latest start()...stop().
	double active_seconds() const
	{
		std::optional<Clock::time_point> a, b;
		for (auto &[s, e] : spans_) {
			if (s == Clock::time_point{})
				continue;
			a = a ? std::min(*a, s) : s;
			b = b ? std::max(*b, e) : e;
		}
		return a ? std::chrono::duration<double>(*b - *a).count() : 0;
	}

private:
	bench_gen *skel_ = nullptr;
	std::string src_path_;
	std::vector<uint8_t> frame_;
	int threads_;
	bool rt_;
	uint32_t flows_, sources_;
	std::atomic<bool> running_{false};
	std::vector<std::thread> workers_;
	std::vector<std::pair<Clock::time_point, Clock::time_point>> spans_; // per thread
	std::string error_;
	std::unique_ptr<std::atomic<uint64_t>[]> packet_sent_{new std::atomic<uint64_t>[64]()};
	std::unique_ptr<uint64_t[]> packet_seq_{new uint64_t[64]()}; // next frame, per thread

	// RFC 1624 on one 16-bit word m -> m2 of a sum (host order), as
	// bench_gen.bpf.c's csum_fix.
	static uint16_t csum_fix(uint16_t check, uint16_t m, uint16_t m2, bool udp)
	{
		uint32_t c = (uint16_t)~check;
		c += (uint16_t)~m;
		c += m2;
		c = (c & 0xffff) + (c >> 16);
		c = (c & 0xffff) + (c >> 16);
		if (udp && !(uint16_t)~c)
			return 0xffff;
		return (uint16_t)~c;
	}
	// Frame n of the sequence bench_gen.bpf.c makes from the template.
	void frame_at(uint64_t n, uint8_t *f) const
	{
		auto get16 = [&](size_t o) { return (uint16_t)(f[o] << 8 | f[o + 1]); };
		auto put16 = [&](size_t o, uint16_t v) {
			f[o] = v >> 8;
			f[o + 1] = v & 0xff;
		};
		memcpy(f, frame_.data(), frame_.size());
		uint32_t flows = std::max<uint32_t>(flows_, 1), sources = std::max<uint32_t>(sources_, 1);
		if (flows > 1) {
			uint16_t port = (uint16_t)(10000 + n % flows);
			put16(40, csum_fix(get16(40), 10000, port, true));
			put16(34, port);
		}
		if (sources > 1) {
			uint16_t old = get16(28), now = (uint16_t)(old + (n / flows) % sources);
			put16(24, csum_fix(get16(24), old, now, false));
			put16(40, csum_fix(get16(40), old, now, true));
			put16(28, now);
		}
	}

	// The generator where BPF_PROG_TEST_RUN refuses live frames (some
	// kernels do: EPERM): the same frames from an AF_PACKET socket on s0,
	// 64 per sendmmsg, past the qdisc. Each frame is an skb that veth
	// copies into a page for f0's XDP: it costs the generating core far
	// more than a live frame, so every rate is lower and every ratio
	// against `none` or a bare XDP program closer to 1 (compare runs of
	// one generator only).
	void packet_worker(int idx)
	{
		int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		int one = 1;
		struct sockaddr_ll a {};
		a.sll_family = AF_PACKET;
		a.sll_protocol = htons(ETH_P_IP);
		a.sll_ifindex = (int)if_nametoindex("s0");
		if (s < 0 || setsockopt(s, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0 ||
		    bind(s, (struct sockaddr *)&a, sizeof a) != 0) {
			error_ = std::string("AF_PACKET generator on s0: ") + strerror(errno);
			if (s >= 0)
				close(s);
			return;
		}
		constexpr int batch = 64;
		std::vector<uint8_t> frames(batch * frame_.size());
		struct iovec iov[batch];
		struct mmsghdr msgs[batch];
		memset(msgs, 0, sizeof msgs);
		for (int i = 0; i < batch; i++) {
			iov[i] = {frames.data() + i * frame_.size(), frame_.size()};
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		uint64_t &seq = packet_seq_[idx];
		spans_[idx].first = Clock::now();
		while (running_ && !g_stop) {
			for (int i = 0; i < batch; i++)
				frame_at(seq + (uint64_t)i, frames.data() + i * frame_.size());
			int sent = sendmmsg(s, msgs, batch, 0);
			spans_[idx].second = Clock::now();
			if (sent < 0) {
				if (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)
					continue;
				error_ = std::string("AF_PACKET generator: sendmmsg: ") + strerror(errno);
				break;
			}
			seq += (uint64_t)sent;
			packet_sent_[idx].fetch_add((uint64_t)sent, std::memory_order_relaxed);
		}
		close(s);
	}

	void worker(int idx)
	{
		int ncpu = std::max(1u, std::thread::hardware_concurrency());
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(idx % ncpu, &set);
		sched_setaffinity(0, sizeof set, &set);
		// The machine may be shared (builds beside us), and sessions
		// sit in separate autogroups, so nice cannot help: run as
		// SCHED_FIFO (the kernel's RT throttling still leaves 5% of
		// the CPU to others). The firewall's softirq work mostly runs
		// in this thread, when it re-enables bottom halves.
		if (rt_) {
			sched_param sp{};
			sp.sched_priority = 1;
			if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) != 0 && idx == 0)
				std::cerr << " (SCHED_FIFO refused: " << strerror(errno) << ")";
		}
		// BPF_PROG_TEST_RUN resolves the redirect's ifindex in the
		// caller's namespace: this thread lives in src from now on.
		int fd = open(src_path_.c_str(), O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
			error_ = "generator thread cannot enter " + src_path_;
			if (fd >= 0)
				close(fd);
			return;
		}
		close(fd);
		if (g_gen_af_packet) {
			packet_worker(idx);
			return;
		}
		int prog = bpf_program__fd(skel_->progs.fw_bench_gen);
		// Each call is sized to ~200 ms, whatever the rate. A live-frame
		// call also costs a fixed wait (its page pool's teardown waits
		// out an RCU grace period: 15-30 ms on one 6.18 build, where
		// 10-ms calls fell into a loop of 64-frame calls at ~2 kpps).
		// Calls of equal length leave every row the same share of
		// that wait, so ratios within a run hold; the stop flag, seen
		// between calls, still comes within a fraction of the window.
		constexpr double call_s = 0.2;
		int repeat = 256;
		while (running_ && !g_stop) {
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame_.data(),
				    .data_size_in = (uint32_t)frame_.size(), .repeat = repeat,
				    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
			auto t0 = Clock::now();
			if (spans_[idx].first == Clock::time_point{})
				spans_[idx].first = t0;
			int err = bpf_prog_test_run_opts(prog, &opts);
			spans_[idx].second = Clock::now();
			if (err != 0 && errno == EPERM && sum_percpu(bpf_map__fd(skel_->maps.gen_sent)) == 0) {
				// Refused before any frame went: this kernel has no
				// live frames for us. Every thread from now on sends
				// through AF_PACKET.
				if (!g_gen_af_packet.exchange(true))
					std::cerr << " (live frames refused: AF_PACKET generator)";
				spans_[idx] = {};
				packet_worker(idx);
				return;
			}
			if (err != 0 && errno != EINTR) {
				error_ = std::string("BPF_PROG_TEST_RUN (live frames): ") + strerror(errno);
				return;
			}
			double dt = std::max(secs_since(t0), 1e-6);
			// At most 8x a step: a call of a few frames is mostly the
			// fixed wait, and would overshoot.
			double want = std::min(repeat / dt * call_s, 8.0 * repeat);
			repeat = (int)std::clamp(want, 64.0, 67108864.0) / 64 * 64;
		}
	}
};

// A reference program on f0 instead of a firewall: `xdp-fwd`, a minimal XDP
// router (bench_fwd.bpf.c), and `xdp-drop`, the sink's program (count,
// XDP_DROP), so a firewall's drop rate has a bare XDP_DROP beside it on the
// same device. Skel is the program's skeleton; prog picks its program.
template <class Skel> class XdpReference {
public:
	XdpReference(const Topology &t, const char *what, bpf_program *(*prog)(Skel *))
	    : fw_path_(Topology::path(t.fw)), what_(what), prog_(prog)
	{
		skel_ = Skel::open_and_load();
		if (!skel_)
			throw std::runtime_error("loading " + what_ + ": " + strerror(errno));
	}
	~XdpReference()
	{
		detach();
		Skel::destroy(skel_);
	}
	XdpReference(const XdpReference &) = delete;
	XdpReference &operator=(const XdpReference &) = delete;
	void attach()
	{
		NetnsEnter in(fw_path_);
		int ifindex = (int)if_nametoindex("f0");
		if (!ifindex || bpf_xdp_attach(ifindex, bpf_program__fd(prog_(skel_)), XDP_FLAGS_DRV_MODE, nullptr) != 0)
			throw std::runtime_error("attaching " + what_ + " to f0: " + strerror(errno));
		ifindex_ = ifindex;
	}
	void detach()
	{
		if (!ifindex_)
			return;
		NetnsEnter in(fw_path_);
		bpf_xdp_detach(ifindex_, XDP_FLAGS_DRV_MODE, nullptr);
		ifindex_ = 0;
	}
	Skel *skel() const { return skel_; }

private:
	Skel *skel_ = nullptr;
	std::string fw_path_, what_;
	bpf_program *(*prog_)(Skel *);
	int ifindex_ = 0;
};

// --- measurement --------------------------------------------------------------

// A counter that a variant reads at the window's edges (nft counter,
// fwctl stats). Returns the packet count so far.
using CounterFn = std::function<uint64_t()>;

struct Sample {
	double rx_pps = 0;      // frames at the sink
	double tx_pps = 0;      // frames the generator redirected
	std::optional<double> counter_pps; // the variant's own drop counter
	std::string sink_source;           // IPv4 source of the last frame at the sink
};

struct Bench {
	Sink &sink;
	Generator &gen;
	FwNapi *napi; // null: the fw namespace's receive work is softirq
	double warmup, window;

	Sample measure(const CounterFn &counter)
	{
		if (napi)
			napi->pin();
		sink.reset_source();
		gen.start();
		struct Edge {
			Clock::time_point t;
			uint64_t rx, tx, cnt;
		};
		auto edge = [&] {
			Edge e{};
			e.t = Clock::now();
			if (counter)
				e.cnt = counter();
			e.rx = sink.packets();
			e.tx = gen.sent();
			return e;
		};
		Sample s;
		try {
			sleep_checked(warmup);
			if (counter) {
				// A counter read is a command that takes a while, and
				// longer when the generator's SCHED_FIFO threads fill
				// every CPU: read it with the generator stopped, and
				// divide by the time the generator ran between reads.
				gen.stop();
				Edge a = edge();
				gen.start();
				sleep_checked(window);
				gen.stop();
				Edge b = edge();
				double dt = std::max(gen.active_seconds(), 1e-3);
				s.rx_pps = (b.rx - a.rx) / dt;
				s.tx_pps = (b.tx - a.tx) / dt;
				s.counter_pps = (b.cnt - a.cnt) / dt;
			} else {
				Edge a = edge();
				sleep_checked(window);
				Edge b = edge();
				double dt = std::chrono::duration<double>(b.t - a.t).count();
				s.rx_pps = (b.rx - a.rx) / dt;
				s.tx_pps = (b.tx - a.tx) / dt;
			}
		} catch (...) {
			gen.stop();
			throw;
		}
		gen.stop();
		if (!gen.error().empty())
			throw std::runtime_error(gen.error());
		s.sink_source = sink.last_source();
		return s;
	}
};

// --- variants -------------------------------------------------------------------

struct Variant {
	std::string name;
	bool per_n;    // measured for each N (else once, N shown as "-")
	bool drops;    // traffic is dropped by the firewall: report its drop rate
	std::string what; // one line for the report
	// Installs the firewall in fw; returns a counter of dropped packets
	// for drop variants (empty: use the generator's rate).
	std::function<CounterFn(int n)> setup;
	std::function<void()> teardown;
	bool nat = false; // masquerades out of f1: the sink must see f1's address as source
};

std::string nft_linear(int n, bool drop)
{
	std::ostringstream s;
	s << "table inet fwbench {\n";
	if (drop)
		s << "  counter hits { }\n";
	s << "  chain forward {\n    type filter hook forward priority filter; policy "
	  << (drop ? "accept" : "drop") << ";\n";
	for (int i = 0; i < n - 1; i++)
		s << "    udp dport " << OTHER_PORT0 + i << " drop\n";
	if (drop)
		s << "    udp dport " << DPORT << " counter name hits drop\n";
	else
		s << "    udp dport " << DPORT << " accept\n";
	s << "  }\n}\n";
	return s.str();
}

std::string nft_set(int n)
{
	std::ostringstream s;
	s << "table inet fwbench {\n  set ports {\n    type inet_service\n    elements = { ";
	for (int i = 0; i < n - 1; i++)
		s << OTHER_PORT0 + i << ", ";
	s << DPORT << " }\n  }\n";
	s << "  chain forward {\n    type filter hook forward priority filter; policy drop;\n"
	  << "    udp dport @ports accept\n  }\n}\n";
	return s.str();
}

// Conntrack (and masquerade), with N-1 rules that miss before the accept:
// the first packet of a connection walks them, the rest are established.
// With `set`, the N-1 misses are one set lookup instead of a walk.
std::string nft_ct(int n, bool set, bool masq)
{
	std::ostringstream s;
	s << "table inet fwbench {\n";
	if (set && n > 1) {
		s << "  set others {\n    type inet_service\n    elements = { ";
		for (int i = 0; i < n - 1; i++)
			s << (i ? ", " : "") << OTHER_PORT0 + i;
		s << " }\n  }\n";
	}
	s << "  chain forward {\n"
	     "    type filter hook forward priority filter; policy drop;\n"
	     "    ct state established,related accept\n"
	     "    ct state invalid drop\n";
	if (set && n > 1)
		s << "    udp dport @others drop\n";
	else
		for (int i = 0; i < n - 1; i++)
			s << "    udp dport " << OTHER_PORT0 + i << " drop\n";
	s << "    udp dport " << DPORT << " accept\n"
	     "  }\n"
	     "}\n";
	if (masq)
		s << "table ip fwbench_nat {\n"
		     "  chain postrouting {\n"
		     "    type nat hook postrouting priority srcnat; policy accept;\n"
		     "    oifname \"f1\" masquerade\n"
		     "  }\n"
		     "}\n";
	return s.str();
}

struct FwctlOpts {
	bool drop = false; // policy accept, the last rule drops (else policy drop, it accepts)
	int fast = -1;     // -1: no "fastpath" key (the default: on); 0/1: "fastpath": false/true
	bool nat = false;  // masquerade out of f1
};

// The same rules as nft_linear, in fwctl's rules.json format.
json fwctl_rules(int n, FwctlOpts o)
{
	bool drop = o.drop;
	json rules = json::array();
	for (int i = 0; i < n - 1; i++)
		rules.push_back({{"action", "drop"}, {"proto", "udp"}, {"dport", OTHER_PORT0 + i}});
	rules.push_back({{"action", drop ? "drop" : "accept"}, {"proto", "udp"}, {"dport", DPORT}});
	json doc = {{"version", 1},
		{"interfaces", {"f0", "f1"}},
		{"policy", {{"input", "accept"}, {"forward", drop ? "accept" : "drop"}}},
		{"forward", rules}};
	if (o.fast >= 0)
		doc["fastpath"] = o.fast == 1;
	if (o.nat)
		doc["nat"] = json::array({{{"out", "f1"}}});
	return doc;
}

double median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	size_t n = v.size();
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string fmt_pps(double v)
{
	char b[32];
	snprintf(b, sizeof b, "%.0f", v);
	std::string s = b, r;
	int k = 0;
	for (auto it = s.rbegin(); it != s.rend(); ++it) {
		if (k && k % 3 == 0 && *it != '-')
			r += ',';
		r += *it;
		k++;
	}
	return {r.rbegin(), r.rend()};
}

std::string now_iso()
{
	char b[64];
	time_t t = time(nullptr);
	strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	return b;
}

} // namespace

int main(int argc, char **argv)
{
	CLI::App app{"fw_bench_forward: forwarding rate (packets/s) through a router namespace, "
		     "with no firewall, nftables, and fwctl (--fwctl)."};
	bool quick = false;
	int runs = 3;
	std::vector<int> ns_list = {1, 100, 1000, 10000};
	double warmup = 1.0, window = 2.0, budget = 0;
	uint32_t flows = 1, sources = 1;
	int threads = 1;
	bool no_rt = false;
	int fw_cpu = -1; // threaded NAPI measured slower here: see README.md
	size_t frame_len = 60;
	std::string json_path = "fw_bench_forward.json";
	std::string fwctl;
	std::vector<std::string> only;
	double cmd_timeout = 300;
	if (const char *e = getenv("FW_BENCH_FWCTL"))
		fwctl = e;
	app.add_flag("--quick", quick, "CI mode: 1 run, N in {1,1000}, 0.5 s warm-up, 1 s window, 80 s budget");
	app.add_option("--runs", runs, "runs of every variant (default 3)")->check(CLI::Range(1, 100));
	app.add_option("--n", ns_list, "rule counts (default 1 100 1000 10000)")->delimiter(',');
	app.add_option("--warmup", warmup, "seconds of traffic before the window (default 1)");
	app.add_option("--window", window, "seconds measured (default 2)");
	app.add_option("--budget", budget,
		       "stop starting measurements after this many seconds (default 900; quick 80)");
	app.add_option("--flows", flows, "distinct UDP source ports (default 1)")->check(CLI::Range(1, 65535));
	app.add_option("--sources", sources,
		       "distinct source addresses 192.0.2.2... (default 1); with --flows 64000 --sources 250 "
		       "every packet is a new connection for 16 million packets; with --flows 1 --sources "
		       "60000 every packet a new source address (past 250 they leave 192.0.2.0/24: for the "
		       "drop rows)")
	    ->check(CLI::Range(1, 65000));
	app.add_option("--threads", threads, "generator threads, one per CPU (default 1)")->check(CLI::Range(1, 64));
	app.add_flag("--no-rt", no_rt, "run the generator (and f0's NAPI threads) as SCHED_OTHER, not SCHED_FIFO 1");
	app.add_option("--fw-cpu", fw_cpu,
		       "threaded NAPI on f0, rx queue 0's thread pinned to this CPU (default -1: off, the "
		       "firewall runs in softirq on the generating CPU)")
	    ->check(CLI::Range(-1, 1023));
	app.add_option("--frame-size", frame_len, "frame bytes without FCS (default 60)")->check(CLI::Range(60, 1500));
	app.add_option("--json", json_path, "where to write the JSON report (default ./fw_bench_forward.json)");
	app.add_option("--fwctl", fwctl,
		       "fwctl binary: adds the fwctl variants (also env FW_BENCH_FWCTL). Run as "
		       "`nsenter --net=/run/netns/FW PATH --pin-dir DIR apply FILE` with DIR on a private bpffs");
	app.add_option("--only", only, "variants to run (comma list; 'none' is always run)")->delimiter(',');
	app.add_option("--cmd-timeout", cmd_timeout, "seconds allowed for one firewall set-up command (default 300)");
	app.add_flag("-v,--verbose", g_verbose, "print the commands run");
	auto *o_runs = app.get_option("--runs");
	auto *o_n = app.get_option("--n");
	auto *o_warm = app.get_option("--warmup");
	auto *o_win = app.get_option("--window");
	CLI11_PARSE(app, argc, argv);
	if (quick) {
		if (!o_runs->count())
			runs = 1;
		if (!o_n->count())
			ns_list = {1, 1000};
		if (!o_warm->count())
			warmup = 0.5;
		if (!o_win->count())
			window = 1.0;
		if (budget <= 0)
			budget = 80;
	}
	if (budget <= 0)
		budget = 900;
	for (int n : ns_list)
		if (n < 1 || n > 40000)
			return std::cerr << "--n: " << n << " is out of range (1-40000)\n", 2;
	if (geteuid() != 0)
		return std::cerr << "fw_bench_forward needs root (namespaces, XDP, nftables)\n", 1;
	if (!fwctl.empty()) {
		fwctl = std::filesystem::absolute(fwctl).string();
		if (access(fwctl.c_str(), X_OK) != 0)
			return std::cerr << "--fwctl: " << fwctl << " is not an executable file\n", 2;
	}

	struct sigaction sa {};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGHUP, &sa, nullptr);
	libbpf_set_print([](enum libbpf_print_level lvl, const char *f, va_list ap) {
		return lvl == LIBBPF_WARN || g_verbose ? vfprintf(stderr, f, ap) : 0;
	});

	std::string cmdline;
	for (int i = 0; i < argc; i++)
		cmdline += (i ? " " : "") + std::string(argv[i]);
	auto t_start = Clock::now();
	std::string prefix = "fwb" + std::to_string(getpid());
	std::string workdir = "/tmp/" + prefix;
	std::filesystem::create_directories(workdir);
	std::string tmo = "timeout -k 5 " + std::to_string((int)cmd_timeout) + " ";

	json report = {{"tool", "fw_bench_forward"},
		       {"date", now_iso()},
		       {"command", cmdline},
		       {"config",
			{{"runs", runs},
			 {"n", ns_list},
			 {"warmup_s", warmup},
			 {"window_s", window},
			 {"budget_s", budget},
			 {"flows", flows},
			 {"sources", sources},
			 {"threads", threads},
			 {"generator_sched", no_rt ? "SCHED_OTHER" : "SCHED_FIFO"},
			 {"fw_cpu", fw_cpu},
			 {"frame_bytes", frame_len},
			 {"fwctl", fwctl.empty() ? json(nullptr) : json(fwctl)}}}};
	{
		utsname u{};
		uname(&u);
		report["kernel"] = u.release;
		report["cpus"] = std::thread::hardware_concurrency();
		std::ifstream la("/proc/loadavg");
		std::string l;
		std::getline(la, l);
		report["loadavg_start"] = l;
	}

	int rc = 0;
	// results[variant][n] -> per-run samples (pps, ratio)
	struct Point {
		int run;
		double pps, rx_pps, tx_pps, baseline, setup_s;
		std::string metric, sink_source;
	};
	std::map<std::string, std::map<int, std::vector<Point>>> results;
	std::map<std::string, std::map<int, std::string>> failures;
	std::vector<std::string> order;
	std::vector<double> baselines;
	std::vector<std::string> skipped;
	try {
		std::cerr << "namespaces " << prefix << "-{src,fw,dst}; work dir " << workdir << "\n";
		Topology topo(prefix);
		std::optional<Bpffs> bpffs;
		std::string pin_dir;
		if (!fwctl.empty()) {
			bpffs.emplace(workdir + "/bpffs");
			pin_dir = bpffs->dir + "/fwctl";
		}
		Sink sink(topo);
		Generator gen(topo, flows, sources, frame_len, threads, !no_rt);
		std::optional<FwNapi> napi;
		if (fw_cpu >= 0) {
			napi.emplace(topo, fw_cpu, !no_rt);
			report["config"]["fw_napi_threads"] = napi->describe();
		}
		Bench bench{sink, gen, napi ? &*napi : nullptr, warmup, window};
		XdpReference<bench_fwd> xdp_fwd(topo, "the XDP forwarder",
						 [](bench_fwd *k) { return k->progs.fw_bench_fwd; });
		XdpReference<bench_count> xdp_drop(topo, "the XDP drop reference",
						   [](bench_count *k) { return k->progs.fw_bench_count; });

		auto nft_load = [&](const std::string &text) {
			std::string f = workdir + "/ruleset.nft";
			write_file(f, text);
			sh_ok(tmo + topo.in(topo.fw, "nft -f " + sh_quote(f)));
		};
		auto nft_flush = [&] { sh(topo.in(topo.fw, "nft flush ruleset")); };
		auto nft_counter = [&]() -> uint64_t {
			auto out = sh_ok(topo.in(topo.fw, "nft -j list counter inet fwbench hits"));
			auto doc = json::parse(out); // keep it alive through the loop
			for (auto &o : doc.at("nftables"))
				if (o.contains("counter"))
					return o["counter"].at("packets").get<uint64_t>();
			throw std::runtime_error("no counter in: " + first_line(out));
		};
		auto fwctl_cmd = [&](const std::string &args) {
			return tmo + topo.in(topo.fw, sh_quote(fwctl) + " --pin-dir " + sh_quote(pin_dir) + " " + args);
		};
		auto fwctl_apply = [&](int n, FwctlOpts o) -> CounterFn {
			std::string f = workdir + "/rules.json";
			write_file(f, fwctl_rules(n, o).dump(1) + "\n");
			sh_ok(fwctl_cmd("apply " + sh_quote(f)));
			if (!o.drop)
				return {};
			// The last rule's counter, if `fwctl stats --json` has it.
			CounterFn c = [&, n]() -> uint64_t {
				auto out = sh_ok(fwctl_cmd("stats --json"));
				auto doc = json::parse(out);
				for (auto &r : doc.at("chains").at("forward").at("rules"))
					if (r.at("position").get<int>() == n)
						return r.at("packets").get<uint64_t>();
				throw std::runtime_error("no rule " + std::to_string(n) + " in fwctl stats");
			};
			try {
				c();
				return c;
			} catch (const std::exception &e) {
				std::cerr << "  fwctl stats unusable (" << first_line(e.what())
					  << "): using the generator's rate\n";
				return {};
			}
		};
		auto fwctl_down = [&] { sh(fwctl_cmd("down")); };

		std::vector<Variant> variants = {
			{"none", false, false, "no firewall: plain forwarding", [](int) { return CounterFn{}; },
			 [] {}},
			{"xdp-fwd", false, false,
			 "reference: a minimal XDP router on f0 (fib lookup, TTL, bpf_redirect), no filtering",
			 [&](int) { return xdp_fwd.attach(), CounterFn{}; }, [&] { xdp_fwd.detach(); }},
			{"xdp-drop", false, true,
			 "reference: a bare XDP program on f0 that counts and drops (XDP_DROP), native",
			 [&](int) {
				 xdp_drop.attach();
				 return CounterFn([&] { return sum_percpu(bpf_map__fd(xdp_drop.skel()->maps.sink_rx)); });
			 },
			 [&] { xdp_drop.detach(); }},
			{"nft-linear", true, false,
			 "nftables inet forward chain, policy drop: N-1 `udp dport P drop` on other ports, then "
			 "`udp dport 9000 accept`",
			 [&](int n) { return nft_load(nft_linear(n, false)), CounterFn{}; }, nft_flush},
			{"nft-set", true, false,
			 "nftables, policy drop: `udp dport @ports accept`, a set of N ports (9000 among them)",
			 [&](int n) { return nft_load(nft_set(n)), CounterFn{}; }, nft_flush},
			{"nft-ct-masq", true, false,
			 "nftables with conntrack (ct state established,related accept; invalid drop; N-1 "
			 "`udp dport P drop`; udp dport 9000 accept) and masquerade on f1",
			 [&](int n) { return nft_load(nft_ct(n, false, true)), CounterFn{}; }, nft_flush, true},
			{"nft-ct", true, false,
			 "nftables with conntrack, no NAT: as nft-ct-masq without the masquerade",
			 [&](int n) { return nft_load(nft_ct(n, false, false)), CounterFn{}; }, nft_flush},
			{"nft-ct-set", true, false,
			 "nftables with conntrack, no NAT, the N-1 missing ports one set (`udp dport @others "
			 "drop`), then udp dport 9000 accept",
			 [&](int n) { return nft_load(nft_ct(n, true, false)), CounterFn{}; }, nft_flush},
			{"nft-linear-drop", true, true,
			 "nftables, policy accept: N drop rules, the traffic hits the last; rate = that rule's "
			 "nft counter",
			 [&](int n) {
				 nft_load(nft_linear(n, true));
				 return CounterFn(nft_counter);
			 },
			 nft_flush},
		};
		if (!fwctl.empty()) {
			variants.push_back({"fwctl", true, false,
					    "fwctl (hook): the nft-linear rules as rules.json, forward policy drop; "
					    "the default configuration (no \"fastpath\" key: the fast path is on)",
					    [&](int n) { return fwctl_apply(n, {}); }, fwctl_down});
			variants.push_back({"fwctl-stack", true, false,
					    "fwctl (hook): as fwctl, with \"fastpath\": false (XDP_PASS into the stack)",
					    [&](int n) { return fwctl_apply(n, {.fast = 0}); }, fwctl_down});
			variants.push_back({"fwctl-nat", true, false,
					    "fwctl (hook): as nft-ct-masq (N-1 drop rules, udp dport 9000 accept, "
					    "masquerade out of f1), default configuration (fast path on)",
					    [&](int n) { return fwctl_apply(n, {.nat = true}); },
					    fwctl_down, true});
			variants.push_back({"fwctl-drop", true, true,
					    "fwctl (hook): the nft-linear-drop rules; rate = the last rule's counter "
					    "from `fwctl stats --json`, else the generator's rate",
					    [&](int n) { return fwctl_apply(n, {.drop = true}); }, fwctl_down});
		}
		// conntrack last: its hooks go when its table goes, but keep the
		// stateless variants clear of any doubt.
		std::stable_partition(variants.begin(), variants.end(),
				      [](const Variant &v) { return v.name.rfind("nft-ct", 0) != 0; });
		if (!only.empty())
			std::erase_if(variants, [&](const Variant &v) {
				return v.name != "none" && std::find(only.begin(), only.end(), v.name) == only.end();
			});
		json vdesc = json::object();
		for (auto &v : variants) {
			order.push_back(v.name);
			vdesc[v.name] = v.what;
		}
		report["variants"] = vdesc;

		for (int run = 1; run <= runs; run++) {
			double baseline = 0;
			for (auto &v : variants) {
				std::vector<int> ns = v.per_n ? ns_list : std::vector<int>{0};
				for (int n : ns) {
					check_stop();
					std::string label = v.name + (v.per_n ? " N=" + std::to_string(n) : "");
					if (secs_since(t_start) > budget) {
						skipped.push_back("run " + std::to_string(run) + " " + label);
						continue;
					}
					std::cerr << "run " << run << "/" << runs << "  " << label << " ..." << std::flush;
					auto t0 = Clock::now();
					Sample s;
					double setup_s = 0;
					try {
						CounterFn counter = v.setup(std::max(n, 1));
						setup_s = secs_since(t0);
						s = bench.measure(counter);
						v.teardown();
						std::string want = v.nat ? IP_F1 : IP_S0;
						if (!v.nat && sources > 1 && s.sink_source.rfind("192.0.", 0) == 0)
							want = s.sink_source; // one of the sources
						if (!v.drops && s.rx_pps >= 1 && s.sink_source != want)
							throw std::runtime_error("frames reached the sink from " +
										 s.sink_source + ", not " + want);
						std::string metric = "rx";
						double pps = s.rx_pps;
						if (v.drops) {
							metric = s.counter_pps ? "fw-counter" : "gen-sent";
							pps = s.counter_pps ? *s.counter_pps : s.tx_pps;
						}
						if (v.name == "none")
							baseline = pps, baselines.push_back(pps);
						results[v.name][n].push_back(
						    {run, pps, s.rx_pps, s.tx_pps, baseline, setup_s, metric, s.sink_source});
						std::cerr << " " << fmt_pps(pps) << " pps (" << metric << "; sent "
							  << fmt_pps(s.tx_pps) << "/s, at sink " << fmt_pps(s.rx_pps)
							  << "/s; set-up " << std::fixed << std::setprecision(1) << setup_s
							  << " s)\n";
						std::cerr.unsetf(std::ios::floatfield);
						if (!v.drops && s.rx_pps < 1)
							std::cerr << "  warning: nothing reached the sink\n";
					} catch (const Interrupted &) {
						v.teardown();
						throw;
					} catch (const std::exception &e) {
						v.teardown();
						if (v.name == "none")
							throw; // no baseline, no benchmark
						std::cerr << " FAILED: " << first_line(e.what()) << "\n";
						failures[v.name][n] = first_line(e.what(), 2000);
						rc = 3;
					}
				}
			}
		}
	} catch (const Interrupted &) {
		std::cerr << "\ninterrupted: cleaning up\n";
		rc = 130;
	} catch (const std::exception &e) {
		std::cerr << "\nerror: " << e.what() << "\n";
		rc = 1;
	}
	std::error_code ec;
	std::filesystem::remove_all(workdir, ec);

	// --- report ---
	json jres = json::array();
	std::printf("\nfw_bench_forward  %s  kernel %s  %u CPUs  runs=%d warmup=%.1fs window=%.1fs flows=%u "
		    "sources=%u frame=%zuB\n",
		    report["date"].get<std::string>().c_str(), report["kernel"].get<std::string>().c_str(),
		    std::thread::hardware_concurrency(), runs, warmup, window, flows, sources, frame_len);
	std::printf("%-16s %6s %-10s %4s %12s %12s %12s %22s\n", "variant", "N", "metric", "runs", "min pps",
		    "median pps", "max pps", "vs none: med (min-max)");
	for (auto &name : order) {
		for (auto &[n, pts] : results[name]) {
			std::vector<double> pps, ratio;
			json jruns = json::array();
			for (auto &p : pts) {
				pps.push_back(p.pps);
				double r = p.baseline > 0 ? p.pps / p.baseline : 0;
				ratio.push_back(r);
				jruns.push_back({{"run", p.run},
						 {"pps", std::round(p.pps)},
						 {"rx_pps", std::round(p.rx_pps)},
						 {"sent_pps", std::round(p.tx_pps)},
						 {"baseline_pps", std::round(p.baseline)},
						 {"ratio", r},
						 {"setup_s", p.setup_s},
						 {"sink_source", p.sink_source}});
			}
			double mn = *std::min_element(pps.begin(), pps.end());
			double mx = *std::max_element(pps.begin(), pps.end());
			double md = median(pps);
			double rmd = median(ratio), rmn = *std::min_element(ratio.begin(), ratio.end()),
			       rmx = *std::max_element(ratio.begin(), ratio.end());
			char rb[64];
			snprintf(rb, sizeof rb, "%.3f (%.3f-%.3f)", rmd, rmn, rmx);
			std::printf("%-16s %6s %-10s %4zu %12s %12s %12s %22s\n", name.c_str(),
				    n ? std::to_string(n).c_str() : "-", pts[0].metric.c_str(), pts.size(),
				    fmt_pps(mn).c_str(), fmt_pps(md).c_str(), fmt_pps(mx).c_str(), rb);
			jres.push_back({{"variant", name},
					{"n", n ? json(n) : json(nullptr)},
					{"metric", pts[0].metric},
					{"min_pps", std::round(mn)},
					{"median_pps", std::round(md)},
					{"max_pps", std::round(mx)},
					{"ratio_median", rmd},
					{"ratio_min", rmn},
					{"ratio_max", rmx},
					{"runs", jruns}});
		}
		for (auto &[n, msg] : failures[name])
			std::printf("%-16s %6s FAILED: %s\n", name.c_str(), n ? std::to_string(n).c_str() : "-",
				    first_line(msg, 100).c_str());
	}
	if (g_gen_af_packet)
		std::printf("generator: AF_PACKET (this kernel refuses BPF_F_TEST_XDP_LIVE_FRAMES): rates and "
			    "ratios are not comparable with live-frame runs\n");
	std::printf("metric: rx = frames/s reaching dst; fw-counter = drops/s by the firewall's own counter; "
		    "gen-sent = frames/s the generator sent (drop variants without a counter)\n");
	if (!skipped.empty())
		std::printf("budget of %.0f s exhausted: %zu measurements skipped\n", budget, skipped.size());
	json jfail = json::array();
	for (auto &[name, m] : failures)
		for (auto &[n, msg] : m)
			jfail.push_back({{"variant", name}, {"n", n ? json(n) : json(nullptr)}, {"error", msg}});
	report["results"] = jres;
	report["generator"] = g_gen_af_packet ? "af-packet" : "xdp-live-frames";
	report["failures"] = jfail;
	report["skipped"] = skipped;
	report["elapsed_s"] = secs_since(t_start);
	{
		std::ifstream la("/proc/loadavg");
		std::string l;
		std::getline(la, l);
		report["loadavg_end"] = l;
	}
	report["exit_code"] = rc;
	std::printf("elapsed %.0f s; JSON in %s\n", secs_since(t_start), json_path.c_str());
	std::ofstream(json_path) << report.dump(2) << "\n";
	return rc;
}
