// The checker: the top level of rules.json and its small sections (version,
// policy, conntrack, log, interfaces).
#include "ruleset_check.h"

#include <algorithm>
#include <cctype>

namespace fw::rulecheck {

void Checker::version(const ojson &v, const std::string &p)
{
	if (!v.is_number()) {
		type_error(p, v, "the number 1");
		return;
	}
	if (as_int(v) != 1)
		err(p, "version " + v.dump() + " is not supported; this fwctl reads version 1");
}

void Checker::policy(const ojson &v, const std::string &p, Ruleset &r)
{
	if (!object(v, p, policy_keys, "an object such as {\"input\": \"drop\", \"forward\": \"drop\"}"))
		return;
	for (const auto &[k, val] : v.items()) {
		Action *dst = k == "input" ? &r.policy_input : k == "forward" ? &r.policy_forward : nullptr;
		if (!dst)
			continue;
		auto pp = ptr_key(p, k);
		auto s = string(val, pp, "\"accept\" or \"drop\"");
		if (!s)
			continue;
		if (*s == "accept")
			*dst = Action::accept;
		else if (*s == "drop")
			*dst = Action::drop;
		else if (*s == "reject")
			err(pp, "\"reject\" is not a policy; use \"accept\" or \"drop\" (add a final "
				"\"reject\" rule to answer unmatched packets)");
		else
			err(pp, quote(*s) + " is not a policy; use \"accept\" or \"drop\"");
	}
}

// fwctl extension: the connection table's size.
void Checker::conntrack(const ojson &v, const std::string &p, Ruleset &r)
{
	if (!object(v, p, conntrack_keys, "an object such as {\"max-connections\": 1000000}"))
		return;
	if (!v.contains("max-connections"))
		return;
	auto pp = ptr_key(p, "max-connections");
	const auto &m = v["max-connections"];
	auto n = as_int(m);
	std::string range = std::to_string(CT_MIN_CONNECTIONS) + "-" + std::to_string(CT_MAX_CONNECTIONS);
	if (!m.is_number())
		type_error(pp, m, "a number of connections (" + range + ")");
	else if (!n || *n < CT_MIN_CONNECTIONS || *n > CT_MAX_CONNECTIONS)
		err(pp, m.dump() + " is not a connection table size; write a whole number of connections, " +
				range + " (default " + std::to_string(CT_DEFAULT_CONNECTIONS) + ")");
	else
		r.ct_max_connections = uint32_t(*n);
}

void Checker::log(const ojson &v, const std::string &p, Ruleset &r)
{
	r.log_set = true;
	if (!object(v, p, log_keys, "an object such as {\"limit\": \"10/second\", \"burst\": 5}"))
		return;
	if (v.contains("limit")) {
		auto pp = ptr_key(p, "limit");
		if (auto s = string(v["limit"], pp, "a string \"N/second\", \"N/minute\" or \"N/hour\"")) {
			auto slash = s->find('/');
			std::string num = s->substr(0, slash);
			std::string unit = slash == std::string::npos ? "" : s->substr(slash + 1);
			bool digits = !num.empty() && num.size() <= 10 &&
				      num.find_first_not_of("0123456789") == std::string::npos;
			uint64_t n = digits ? std::stoull(num) : 0;
			bool unit_ok = unit == "second" || unit == "minute" || unit == "hour";
			if (!digits || !unit_ok || n < 1 || n > UINT32_MAX) {
				err(pp, quote(*s) + " is not a log limit; write \"N/second\", \"N/minute\" or "
						    "\"N/hour\" with N at least 1, e.g. \"100/minute\"");
			} else {
				LogConfig l;
				l.rate = uint32_t(n);
				l.unit = unit;
				if (l.interval_ns() == 0)
					err(pp, quote(*s) + " is faster than the log limit can count; at most "
							    "1000000000/second");
				r.log.rate = l.rate;
				r.log.unit = l.unit;
			}
		}
	}
	if (v.contains("burst")) {
		auto pp = ptr_key(p, "burst");
		const auto &b = v["burst"];
		if (!b.is_number()) {
			type_error(pp, b, "a number of events, at least 1");
		} else {
			auto n = as_int(b);
			if (!n || *n < 1 || *n > int64_t(UINT32_MAX))
				err(pp, b.dump() + " is not a burst; write a whole number of events, at least 1 "
						   "(default 5)");
			else
				r.log.burst = uint32_t(*n);
		}
	}
}

void Checker::interfaces(const ojson &v, const std::string &p, Ruleset &r)
{
	if (!v.is_array()) {
		type_error(p, v, "an array of interface names");
		return;
	}
	if (v.empty()) {
		err(p, "an empty list attaches the firewall nowhere; list interfaces, or leave "
		       "\"interfaces\" out to attach to every interface but lo");
		return;
	}
	std::vector<std::string> names;
	for (size_t i = 0; i < v.size(); i++) {
		auto pp = ptr_index(p, i);
		auto n = interface(v[i], pp);
		if (!n)
			continue;
		if (std::find(names.begin(), names.end(), *n) != names.end()) {
			err(pp, "interface " + quote(*n) + " is listed twice");
			continue;
		}
		names.push_back(*n);
	}
	r.interfaces = std::move(names);
}

void Checker::top(const ojson &doc, Ruleset &r)
{
	if (!doc.is_object()) {
		err("", "a ruleset is a JSON object such as {\"version\": 1, \"input\": [...]}, not " +
				describe(doc));
		return;
	}
	object(doc, "", top_keys, "");
	for (const auto &[k, v] : doc.items()) {
		auto p = ptr_key("", k);
		if (k == "version")
			version(v, p);
		else if (k == "interfaces")
			interfaces(v, p, r);
		else if (k == "policy")
			policy(v, p, r);
		else if (k == "log")
			log(v, p, r);
		else if (k == "input")
			rules(v, p, Chain::input, r.input);
		else if (k == "forward")
			rules(v, p, Chain::forward, r.forward);
		else if (k == "nat")
			nats(v, p, r.nat);
		else if (k == "port-forward")
			port_forwards(v, p, r.port_forward);
		else if (k == "fastpath")
			r.fastpath = boolean(v, p).value_or(true);
		else if (k == "conntrack")
			conntrack(v, p, r);
	}
}

} // namespace fw::rulecheck
