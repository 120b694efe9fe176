// The checker: the rule lists (input, forward), masquerade (nat) and port
// forwards.
#include "ruleset_check.h"

#include <algorithm>
#include <cctype>

namespace fw::rulecheck {

void Checker::rules(const ojson &v, const std::string &p, Chain chain, std::vector<Rule> &out)
{
	if (!v.is_array()) {
		type_error(p, v, "an array of rules");
		return;
	}
	for (size_t i = 0; i < v.size(); i++)
		if (auto r = rule(v[i], ptr_index(p, i), chain))
			out.push_back(std::move(*r));
}

std::optional<Rule> Checker::rule(const ojson &v, const std::string &p, Chain chain)
{
	std::set<std::string> misspelt;
	if (!object(v, p, rule_keys, "a rule (an object such as {\"action\": \"accept\", \"proto\": \"tcp\", \"dport\": 22})",
		    &misspelt))
		return std::nullopt;
	Rule r;
	size_t before = errors.size();
	// Keys present but bad: the checks that combine keys skip them.
	bool bad_proto = false;
	bool has_action = false;
	for (const auto &[k, val] : v.items()) {
		auto pp = ptr_key(p, k);
		if (k == "action") {
			has_action = true;
			auto s = string(val, pp, "\"accept\", \"drop\" or \"reject\"");
			if (!s)
				continue;
			if (*s == "accept")
				r.action = Action::accept;
			else if (*s == "drop")
				r.action = Action::drop;
			else if (*s == "reject")
				r.action = Action::reject;
			else
				err(pp, quote(*s) + " is not an action; use \"accept\", \"drop\" or \"reject\"");
		} else if (k == "in") {
			r.in = interface(val, pp);
		} else if (k == "out") {
			if (chain != Chain::forward)
				err(pp, "\"out\" is only valid in the forward chain");
			else
				r.out = interface(val, pp);
		} else if (k == "saddr") {
			r.saddr = prefix(val, pp, Addr::prefix);
		} else if (k == "daddr") {
			r.daddr = prefix(val, pp, Addr::prefix);
		} else if (k == "proto") {
			r.proto = proto(val, pp);
			bad_proto = !r.proto;
		} else if (k == "sport") {
			r.sport = ports(val, pp);
		} else if (k == "dport") {
			r.dport = ports(val, pp);
		} else if (k == "log") {
			r.log = boolean(val, pp).value_or(false);
		} else if (k == "comment") {
			r.comment = comment(val, pp).value_or("");
		}
	}
	if (!has_action && !misspelt.count("action"))
		err(p, "\"action\" is required: \"accept\", \"drop\" or \"reject\"");
	if (r.saddr && r.daddr && r.saddr->family != r.daddr->family)
		err(ptr_key(p, "daddr"), "IPv" + std::to_string(r.daddr->family) + " daddr " +
						 quote(r.daddr->str()) + " with IPv" +
						 std::to_string(r.saddr->family) + " saddr " +
						 quote(r.saddr->str()) +
						 ": one rule is one address family; write two rules");
	// The rule's family, when an address fixes it.
	int family = r.saddr ? r.saddr->family : r.daddr ? r.daddr->family : 0;
	const char *fam_key = r.saddr ? "saddr" : "daddr";
	if (r.proto && *r.proto == PROTO_ICMP && family == 6)
		err(ptr_key(p, "proto"), std::string("\"icmp\" is ICMP for IPv4, but this rule's ") + fam_key +
						 " is IPv6; use \"icmpv6\"");
	if (r.proto && *r.proto == PROTO_ICMPV6 && family == 4)
		err(ptr_key(p, "proto"), std::string("\"icmpv6\" is ICMP for IPv6, but this rule's ") + fam_key +
						 " is IPv4; use \"icmp\"");
	for (const char *key : {"sport", "dport"}) {
		if (!v.contains(key) || bad_proto)
			continue;
		if (!r.proto)
			err(ptr_key(p, key), std::string("\"") + key +
						     "\" needs \"proto\": \"tcp\", \"udp\" or \"sctp\"");
		else if (!proto_has_ports(*r.proto))
			err(ptr_key(p, key), std::string("\"") + key + "\" is only valid with proto tcp, udp or sctp, not " +
						     quote(proto_name(*r.proto)));
	}
	if (errors.size() != before)
		return std::nullopt;
	return r;
}

void Checker::nats(const ojson &v, const std::string &p, std::vector<NatRule> &out)
{
	if (!v.is_array()) {
		type_error(p, v, "an array of NAT rules");
		return;
	}
	for (size_t i = 0; i < v.size(); i++) {
		auto pi = ptr_index(p, i);
		const auto &o = v[i];
		std::set<std::string> misspelt;
		if (!object(o, pi, nat_keys, "a NAT rule (an object such as {\"out\": \"eth0\"})", &misspelt))
			continue;
		NatRule n;
		size_t before = errors.size();
		for (const auto &[k, val] : o.items()) {
			auto pp = ptr_key(pi, k);
			if (k == "out") {
				n.out = interface(val, pp).value_or("");
			} else if (k == "saddr") {
				n.saddr = prefix(val, pp, Addr::v4_prefix, "nat");
			} else if (k == "to") {
				n.to = prefix(val, pp, Addr::v4_address, "nat");
			} else if (k == "exempt") {
				if (!val.is_array()) {
					type_error(pp, val, "an array of prefixes such as [\"10.1.0.0/16\"]");
					continue;
				}
				for (size_t j = 0; j < val.size(); j++)
					if (auto e = prefix(val[j], ptr_index(pp, j), Addr::v4_prefix, "nat"))
						n.exempt.push_back(*e);
			}
		}
		if (!o.contains("out") && !misspelt.count("out"))
			err(pi, "\"out\" is required: the interface whose packets are masqueraded");
		if (errors.size() == before)
			out.push_back(std::move(n));
	}
}

void Checker::port_forwards(const ojson &v, const std::string &p, std::vector<PortForward> &out)
{
	if (!v.is_array()) {
		type_error(p, v, "an array of port forwards");
		return;
	}
	for (size_t i = 0; i < v.size(); i++) {
		auto pi = ptr_index(p, i);
		std::set<std::string> misspelt;
		if (!object(v[i], pi, pf_keys,
			    "a port forward (an object such as {\"in\": \"eth0\", \"proto\": \"tcp\", "
			    "\"dport\": 80, \"to-daddr\": \"192.168.1.2\"})",
			    &misspelt))
			continue;
		size_t before = errors.size();
		PortForward f = port_forward(v[i], pi, misspelt);
		if (errors.size() == before)
			out.push_back(std::move(f));
	}
}

// One port forward's keys, then what they say together.
PortForward Checker::port_forward(const ojson &o, const std::string &pi, const std::set<std::string> &misspelt)
{
	PortForward f;
	bool bad_proto = false;
	std::optional<int64_t> to_dport;
	for (const auto &[k, val] : o.items()) {
		auto pp = ptr_key(pi, k);
		if (k == "in") {
			f.in = interface(val, pp).value_or("");
		} else if (k == "proto") {
			auto pr = proto(val, pp);
			bad_proto = !pr;
			if (pr && *pr == PROTO_ICMPV6) {
				err(pp, "\"icmpv6\" cannot be forwarded: NAT and port forwards are IPv4 only");
				bad_proto = true;
			}
			f.proto = pr.value_or(0);
		} else if (k == "dport") {
			f.dport = ports(val, pp);
		} else if (k == "daddr") {
			f.daddr = prefix(val, pp, Addr::v4_address, "port-forward");
		} else if (k == "to-daddr") {
			if (auto a = prefix(val, pp, Addr::v4_address, "port-forward"))
				f.to_daddr = *a;
		} else if (k == "to-dport") {
			auto n = as_int(val);
			if (!val.is_number())
				type_error(pp, val, "a port (a number 1-65535)");
			else if (!n || *n < 1 || *n > 65535)
				err(pp, val.dump() + " is not a port (1-65535)");
			else
				to_dport = n;
		} else if (k == "comment") {
			f.comment = comment(val, pp).value_or("");
		}
	}
	port_forward_required(o, pi, f, misspelt, bad_proto);
	if (to_dport)
		port_forward_to_dport(o, pi, f, *to_dport);
	return f;
}

// The keys a port forward needs, and dport as its protocol wants it.
void Checker::port_forward_required(const ojson &o, const std::string &pi, const PortForward &f,
				    const std::set<std::string> &misspelt, bool bad_proto)
{
	auto has = [&](const char *k) { return o.contains(k) || misspelt.count(k); };
	if (!has("in"))
		err(pi, "\"in\" is required: the interface the forwarded packets arrive on");
	if (!has("proto"))
		err(pi, "\"proto\" is required: \"tcp\", \"udp\", \"sctp\", \"esp\", ... or a number");
	if (!has("to-daddr"))
		err(pi, "\"to-daddr\" is required: the inside host's IPv4 address");
	if (o.contains("proto") && !bad_proto) {
		if (proto_has_ports(f.proto) && !has("dport"))
			err(pi, "\"dport\" is required with proto " + quote(proto_name(f.proto)) +
					": the port (N) or ports (\"LO-HI\") to forward");
		if (!proto_has_ports(f.proto) && o.contains("dport"))
			err(ptr_key(pi, "dport"), "\"dport\" is only valid with proto tcp, udp or sctp, not " +
							  quote(proto_name(f.proto)) + " (" +
							  quote(proto_name(f.proto)) +
							  " forwards the whole protocol)");
	}
}

// to-dport: the start of the ports dport's range moves to.
void Checker::port_forward_to_dport(const ojson &o, const std::string &pi, PortForward &f, int64_t to_dport)
{
	auto pp = ptr_key(pi, "to-dport");
	if (!o.contains("dport"))
		err(pp, "\"to-dport\" needs \"dport\": the port it replaces");
	else if (f.dport && to_dport + (f.dport->hi - f.dport->lo) > 65535)
		err(pp, "dport " + quote(std::to_string(f.dport->lo) + "-" + std::to_string(f.dport->hi)) +
				" moved to start at " + std::to_string(to_dport) + " would end at " +
				std::to_string(to_dport + (f.dport->hi - f.dport->lo)) +
				", past 65535; use a to-dport of at most " +
				std::to_string(65535 - (f.dport->hi - f.dport->lo)));
	else if (f.proto == PROTO_SCTP && f.dport && to_dport != f.dport->lo)
		err(pp, "SCTP ports cannot be changed (its CRC32c covers them and is not "
			"updated): leave out \"to-dport\" or use " + std::to_string(f.dport->lo));
	f.to_dport = uint16_t(to_dport);
}

} // namespace fw::rulecheck
