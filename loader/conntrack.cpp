#include "conntrack.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <ctime>

#include <bpf/bpf.h>

#include "ruleset.h"

namespace fw {

uint32_t ct_now()
{
	struct timespec ts {};
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint32_t)ts.tv_sec;
}

namespace {

std::vector<std::pair<fw_tuple, fw_ct_entry>> dump_one_by_one(int fd)
{
	std::vector<std::pair<fw_tuple, fw_ct_entry>> out;
	fw_tuple cur{}, next{};
	const fw_tuple *prev = nullptr;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		fw_ct_entry e{};
		if (bpf_map_lookup_elem(fd, &next, &e) == 0)
			out.emplace_back(next, e);
		cur = next;
		prev = &cur;
	}
	return out;
}

// Every entry, a few syscalls per 8192 (a table of a million connections
// has two million entries: one lookup per entry took seconds).
std::vector<std::pair<fw_tuple, fw_ct_entry>> dump(int fd)
{
	std::vector<std::pair<fw_tuple, fw_ct_entry>> out;
	constexpr uint32_t kBatch = 8192;
	std::vector<fw_tuple> keys(kBatch);
	std::vector<fw_ct_entry> vals(kBatch);
	uint64_t in_batch = 0, out_batch = 0;
	bool first = true;
	for (;;) {
		uint32_t n = kBatch;
		int rc = bpf_map_lookup_batch(fd, first ? nullptr : &in_batch, &out_batch, keys.data(), vals.data(),
					      &n, nullptr);
		int err = rc ? errno : 0;
		for (uint32_t i = 0; i < n; i++)
			out.emplace_back(keys[i], vals[i]);
		if (rc && err == ENOENT)
			break; // the last batch
		if (rc && err == ENOSPC) // a bucket holds more than a batch: walk
			return dump_one_by_one(fd);
		if (rc)
			throw SystemError(errno_message("reading the connection table", err));
		in_batch = out_batch;
		first = false;
	}
	return out;
}

std::string addr_text(const fw_tuple &t, bool src)
{
	char buf[INET6_ADDRSTRLEN];
	inet_ntop(t.family == 4 ? AF_INET : AF_INET6, src ? t.saddr : t.daddr, buf, sizeof buf);
	return buf;
}

} // namespace

std::vector<CtConnection> conntrack_list(const Runtime &rt)
{
	std::vector<CtConnection> out;
	int fd = rt.map_fd("fw_ct");
	if (fd < 0)
		return out;
	uint32_t now = ct_now();
	for (auto &[k, e] : dump(fd)) {
		if (e.dir != FW_CT_DIR_ORIG || (int32_t)(now - e.expires) > 0)
			continue;
		CtConnection c;
		c.orig = k;
		c.reply = e.other;
		c.state = e.state;
		c.flags = e.flags;
		c.ifindex = e.ifindex;
		c.expires_in = (int32_t)(e.expires - now);
		out.push_back(c);
	}
	return out;
}

size_t conntrack_flush(const Runtime &rt)
{
	int fd = rt.map_fd("fw_ct");
	if (fd < 0)
		return 0;
	size_t live = conntrack_list(rt).size();
	// Keys first: deleting while walking with get_next_key restarts the
	// walk at every deleted key.
	std::vector<fw_tuple> keys;
	for (auto &[k, _] : dump(fd))
		keys.push_back(k);
	for (size_t i = 0; i < keys.size(); i += 65536) {
		uint32_t n = (uint32_t)std::min<size_t>(65536, keys.size() - i);
		if (bpf_map_delete_batch(fd, &keys[i], &n, nullptr) == 0)
			continue;
		// An entry went away meanwhile (LRU eviction, expiry): one by one.
		for (size_t j = i; j < i + std::min<size_t>(65536, keys.size() - i); j++)
			if (bpf_map_delete_elem(fd, &keys[j]) != 0 && errno != ENOENT)
				throw SystemError(errno_message("deleting a connection", errno));
	}
	return live;
}

std::string ct_state_name(const CtConnection &c)
{
	if (c.orig.proto == 6) {
		switch (c.state) {
		case FW_CT_S_SYN_SENT:
			return "syn_sent";
		case FW_CT_S_SYN_RECV:
			return "syn_recv";
		case FW_CT_S_ESTABLISHED:
			return "established";
		case FW_CT_S_FIN_WAIT:
			return "fin_wait";
		case FW_CT_S_TIME_WAIT:
			return "time_wait";
		case FW_CT_S_CLOSE:
			return "close";
		default:
			return "none";
		}
	}
	return (c.flags & FW_CT_F_SEEN_REPLY) ? "established" : "new";
}

nlohmann::json conntrack_json(const CtConnection &c)
{
	nlohmann::json j;
	uint8_t proto = c.orig.proto;
	std::string name = proto_name(proto);
	if (name == std::to_string(proto))
		j["proto"] = proto;
	else
		j["proto"] = name;
	j["family"] = c.orig.family == 4 ? "ipv4" : "ipv6";
	j["src"] = addr_text(c.orig, true);
	j["dst"] = addr_text(c.orig, false);
	bool ports = proto_has_ports(proto);
	bool icmp = proto == 1 || proto == 58;
	if (ports) {
		j["sport"] = c.orig.sport;
		j["dport"] = c.orig.dport;
	} else if (icmp) {
		j["id"] = c.orig.sport;
	}
	j["reply_src"] = addr_text(c.reply, true);
	j["reply_dst"] = addr_text(c.reply, false);
	if (ports) {
		j["reply_sport"] = c.reply.sport;
		j["reply_dport"] = c.reply.dport;
	} else if (icmp) {
		j["reply_id"] = c.reply.sport;
	}
	j["state"] = ct_state_name(c);
	j["replied"] = (c.flags & FW_CT_F_SEEN_REPLY) != 0;
	j["local"] = (c.flags & FW_CT_F_LOCAL) != 0;
	j["expires_in"] = c.expires_in;
	return j;
}

} // namespace fw
