// Stacked devices: see stack.h and docs/stacked.md.
#include "stack.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <set>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errors.h"
#include "netlink_dump.h"
#include "fw/abi.h"
#include "runtime.h"

namespace fw {

namespace {

void parse_linkinfo(const struct rtattr *info, StackLink &l)
{
	int len = (int)RTA_PAYLOAD(info);
	for (auto *a = (const struct rtattr *)RTA_DATA(info); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_INFO_KIND)
			l.kind = std::string((const char *)RTA_DATA(a), strnlen((const char *)RTA_DATA(a), RTA_PAYLOAD(a)));
		if (a->rta_type != IFLA_INFO_DATA)
			continue;
		int dlen = (int)RTA_PAYLOAD(a);
		for (auto *d = (const struct rtattr *)RTA_DATA(a); RTA_OK(d, dlen); d = RTA_NEXT(d, dlen)) {
			if (d->rta_type == IFLA_VLAN_ID && RTA_PAYLOAD(d) >= 2)
				memcpy(&l.vid, RTA_DATA(d), 2);
			if (d->rta_type == IFLA_VLAN_PROTOCOL && RTA_PAYLOAD(d) >= 2) {
				uint16_t proto;
				memcpy(&proto, RTA_DATA(d), 2);
				l.dot1q = proto == htons(0x8100);
			}
		}
	}
}

StackLink parse_link(const struct nlmsghdr *h)
{
	auto *ifi = (const struct ifinfomsg *)NLMSG_DATA(h);
	StackLink l;
	l.ifindex = (uint32_t)ifi->ifi_index;
	int len = (int)IFLA_PAYLOAD(h);
	for (auto *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_IFNAME:
			l.name = std::string((const char *)RTA_DATA(a), strnlen((const char *)RTA_DATA(a), RTA_PAYLOAD(a)));
			break;
		case IFLA_MASTER:
			memcpy(&l.master, RTA_DATA(a), 4);
			break;
		case IFLA_LINK:
			memcpy(&l.link, RTA_DATA(a), 4);
			break;
		case IFLA_LINKINFO:
			parse_linkinfo(a, l);
			break;
		}
	}
	return l;
}

// Who judges the frames of link `l` instead of it, given the selected
// ifindexes; 0 when it judges its own.
uint32_t judged_by(const std::map<uint32_t, StackLink> &links, const std::set<uint32_t> &sel,
		   const StackLink &l)
{
	if (l.master && sel.count(l.master)) {
		auto m = links.find(l.master);
		if (m != links.end() && (m->second.kind == "bridge" || m->second.kind == "bond"))
			return l.master;
	}
	if (l.kind == "vlan" && l.dot1q && l.link && sel.count(l.link))
		return l.link;
	return 0;
}

std::string reason(const std::map<uint32_t, StackLink> &links, const StackLink &l, uint32_t by)
{
	auto it = links.find(by);
	std::string byname = it != links.end() ? it->second.name : std::to_string(by);
	if (l.kind == "vlan")
		return "VLAN " + std::to_string(l.vid) + " on " + byname + ": judged by " + byname +
		       "'s program as " + l.name;
	return (it != links.end() && it->second.kind == "bond" ? "slave of bond " : "port of bridge ") +
	       byname + ": its routed traffic is judged at " + byname;
}

std::set<uint32_t> index_set(const std::vector<Target> &selected)
{
	std::set<uint32_t> s;
	for (auto &[_, idx] : selected)
		s.insert(idx);
	return s;
}

} // namespace

std::map<uint32_t, StackLink> stack_read_links()
{
	std::map<uint32_t, StackLink> out;
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req{};
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = RTM_GETLINK;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = 1;
	req.i.ifi_family = AF_UNSPEC;
	int r = netlink_dump(NETLINK_ROUTE, &req, sizeof(req), [&](const struct nlmsghdr *h) {
		if (h->nlmsg_type == RTM_NEWLINK) {
			StackLink l = parse_link(h);
			out[l.ifindex] = l;
		}
		return 0;
	});
	if (r < 0)
		throw SystemError(errno_message("cannot list links", -r));
	return out;
}

StackPlan stack_plan(const std::map<uint32_t, StackLink> &links, const std::vector<Target> &selected)
{
	StackPlan plan;
	std::set<uint32_t> sel = index_set(selected);
	for (auto &t : selected) {
		auto it = links.find(t.second);
		uint32_t by = it == links.end() ? 0 : judged_by(links, sel, it->second);
		if (!by) {
			plan.attach.push_back(t);
			continue;
		}
		plan.covered.emplace_back(t.first, reason(links, it->second, by));
		if (it->second.kind == "vlan")
			plan.xfrm_only.push_back(t);
	}
	return plan;
}

std::string stack_covered_reason(const std::map<uint32_t, StackLink> &links,
				 const std::vector<Target> &selected, const std::string &name)
{
	std::set<uint32_t> sel = index_set(selected);
	for (auto &[idx, l] : links)
		if (l.name == name) {
			uint32_t by = judged_by(links, sel, l);
			return by ? reason(links, l, by) : "";
		}
	return "";
}

void stack_write_maps(int stack_if_fd, int stack_fd, const std::map<uint32_t, StackLink> &links,
		      const std::vector<Target> &selected)
{
	std::set<uint32_t> sel = index_set(selected);
	std::map<uint32_t, uint32_t> flags;
	std::map<uint64_t, std::pair<fw_stack_key, uint32_t>> entries;
	auto keyid = [](const fw_stack_key &k) {
		return (uint64_t)k.ifindex << 32 | (uint64_t)k.vid << 8 | k.kind;
	};
	for (auto &[idx, l] : links) {
		if (!sel.count(idx) && !(l.master && sel.count(l.master)))
			continue;
		uint32_t by = judged_by(links, sel, l);
		if (!by || idx >= FW_STACK_IF_MAX || by >= FW_STACK_IF_MAX)
			continue;
		if (l.kind == "vlan") {
			flags[by] |= FW_STACK_IF_VLANS;
			fw_stack_key k{by, l.vid, FW_STACK_KIND_VLAN, 0};
			entries[keyid(k)] = {k, idx};
		} else if (links.at(by).kind == "bond") {
			flags[idx] |= FW_STACK_IF_SLAVE | FW_STACK_IF_LOWER;
			fw_stack_key k{idx, 0, FW_STACK_KIND_BOND, 0};
			entries[keyid(k)] = {k, by};
		} else {
			flags[idx] |= FW_STACK_IF_LOWER;
		}
	}
	for (auto &[_, e] : entries)
		if (bpf_map_update_elem(stack_fd, &e.first, &e.second, BPF_ANY) != 0)
			throw SystemError(errno_message("cannot write the stacked-device map", errno));
	fw_stack_key k{}, next{};
	std::vector<fw_stack_key> stale;
	for (void *prev = nullptr; bpf_map_get_next_key(stack_fd, prev, &next) == 0; prev = &k) {
		k = next;
		if (!entries.count(keyid(k)))
			stale.push_back(k);
	}
	for (auto &sk : stale)
		bpf_map_delete_elem(stack_fd, &sk);

	size_t len = sizeof(uint64_t) * FW_STACK_IF_MAX; // array values are 8-byte slots
	void *p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, stack_if_fd, 0);
	if (p == MAP_FAILED)
		throw SystemError(errno_message("cannot map fw_stack_if", errno));
	auto *slot = static_cast<uint64_t *>(p);
	for (auto &[idx, f] : flags)
		__atomic_store_n(&slot[idx], (uint64_t)f, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < FW_STACK_IF_MAX; i++)
		if (slot[i] && !flags.count(i))
			__atomic_store_n(&slot[i], 0ull, __ATOMIC_RELAXED);
	munmap(p, len);
}

std::vector<std::pair<std::string, std::string>> stack_covered_now(const std::vector<std::string> &selected)
{
	auto links = stack_read_links();
	std::vector<Target> targets;
	for (auto &[idx, l] : links)
		if (std::find(selected.begin(), selected.end(), l.name) != selected.end())
			targets.emplace_back(l.name, idx);
	return stack_plan(links, targets).covered;
}

} // namespace fw
