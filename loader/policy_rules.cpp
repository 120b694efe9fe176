// Reads the namespace's policy-routing rules (policy_rules.h) over rtnetlink.
#include "policy_rules.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "netlink_dump.h"

namespace fw {

namespace {

// A rule as `ip rule` lists it after boot: no selector, one of the default
// priorities and tables, the plain "lookup" action.
bool is_default_rule(int family, const struct nlmsghdr *h)
{
	const auto *r = (const struct fib_rule_hdr *)NLMSG_DATA(h);
	if (r->src_len || r->dst_len || r->tos || r->action != FR_ACT_TO_TBL || r->flags)
		return false;
	uint32_t prio = 0, table = r->table;
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*r));
	for (auto *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(sizeof(*r))); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case FRA_PRIORITY: memcpy(&prio, RTA_DATA(a), 4); break;
		case FRA_TABLE: memcpy(&table, RTA_DATA(a), 4); break;
		case FRA_PROTOCOL: break;
		case FRA_SUPPRESS_PREFIXLEN: // dumped for every rule; -1: not set
		case FRA_SUPPRESS_IFGROUP: {
			uint32_t v;
			memcpy(&v, RTA_DATA(a), 4);
			if (v != 0xffffffffu)
				return false;
			break;
		}
		default: return false; // a selector (iif, oif, fwmark, uid, ports...) or a goto
		}
	}
	if (prio == 0)
		return table == RT_TABLE_LOCAL;
	if (prio == 32766)
		return table == RT_TABLE_MAIN;
	return family == AF_INET && prio == 32767 && table == RT_TABLE_DEFAULT;
}

// 1: a rule other than the defaults, 0: none, -1: could not tell.
int non_default_rules(int family)
{
	struct {
		struct nlmsghdr h;
		struct fib_rule_hdr r;
	} req{};
	req.h.nlmsg_len = sizeof(req);
	req.h.nlmsg_type = RTM_GETRULE;
	req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.h.nlmsg_seq = 1;
	req.r.family = (uint8_t)family;
	int r = netlink_dump(NETLINK_ROUTE, &req, sizeof(req), [&](const struct nlmsghdr *h) {
		return h->nlmsg_type == RTM_NEWRULE && !is_default_rule(family, h) ? 1 : 0;
	});
	if (r == -EAFNOSUPPORT)
		return 0; // IPv6 compiled out: no IPv6 rules
	return r < 0 ? -1 : r;
}

} // namespace

bool policy_routing_rules_present()
{
	return non_default_rules(AF_INET) != 0 || non_default_rules(AF_INET6) != 0;
}

} // namespace fw
