#include "conntrack.h"

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "bpf_map.h"

#include "ruleset.h"

namespace fw {

uint32_t ct_now()
{
	struct timespec ts {};
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_sec;
}

namespace {

// Every entry, a few syscalls per 8192 (a table of a million connections
// has two million entries: one lookup per entry took seconds).
std::vector<std::pair<fw_tuple, fw_ct_entry>> dump(int fd)
{
	return map_entries<fw_tuple, fw_ct_entry>(fd, "the connection table", 8192);
}

std::string addr_text(const fw_tuple &t, bool src)
{
	return fw::addr_text(t.family == 4 ? 4 : 6, src ? t.saddr : t.daddr);
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
	// An entry may go away meanwhile (LRU eviction, expiry): not an error.
	map_delete_all(fd, keys, "a connection");
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
