// The checker: rules.json text -> Ruleset, or every error in the file.
//
// Each error names its place as a JSON pointer and says what is wrong and
// what would be right (spec/rules-format.md, "Errors"). The checker never
// stops at the first error, and avoids follow-on errors: a key whose value
// is already reported as bad is not reported again by the checks that
// combine keys (family mixes, ports without a protocol, ...).
//
// Defaults where the file says nothing:
//   - policy: "accept" for both chains (the spec);
//   - log: a limit of 10/second with a burst of 5 (LogConfig's defaults).
//     The spec leaves the rate to the project but forbids "unlimited": 10
//     events a second keeps a flood of drops from filling the log while a
//     human reading `fwctl log` still sees every event of a normal test.
//     The burst of 5 is nftables' default;
//   - conntrack: max-connections CT_DEFAULT_CONNECTIONS, the table the
//     datapath is compiled with (fw/abi.h FW_CT_MAX_ENTRIES / 2).
#include "ruleset.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace fw {
namespace {

using ojson = nlohmann::ordered_json;

// --- JSON pointers and value descriptions -----------------------------------

std::string ptr_key(const std::string &base, const std::string &key)
{
	std::string s = base + "/";
	for (char c : key) {
		if (c == '~')
			s += "~0";
		else if (c == '/')
			s += "~1";
		else
			s += c;
	}
	return s;
}

std::string ptr_index(const std::string &base, size_t i) { return base + "/" + std::to_string(i); }

std::string quote(const std::string &s) { return ojson(s).dump(); }

// A value as the user wrote it, short enough for a message.
std::string describe(const ojson &v)
{
	switch (v.type()) {
	case ojson::value_t::object: return "an object";
	case ojson::value_t::array: return "an array";
	case ojson::value_t::null: return "null";
	default: break;
	}
	std::string s = v.dump();
	if (s.size() > 40)
		s = s.substr(0, 37) + "...";
	return s;
}

// --- "did you mean" -------------------------------------------------------

} // namespace

// Optimal string alignment distance: insertions, deletions, substitutions
// and swaps of two neighbours ("tpc" is one step from "tcp").
size_t edit_distance(const std::string &a, const std::string &b)
{
	std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
	for (size_t i = 0; i <= a.size(); i++)
		d[i][0] = i;
	for (size_t j = 0; j <= b.size(); j++)
		d[0][j] = j;
	for (size_t i = 1; i <= a.size(); i++) {
		for (size_t j = 1; j <= b.size(); j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
		}
	}
	return d[a.size()][b.size()];
}

namespace {

std::string lower(std::string s)
{
	for (auto &c : s)
		c = char(std::tolower(static_cast<unsigned char>(c)));
	return s;
}

// Words from other firewalls that mean one of ours.
const std::pair<const char *, const char *> aliases[] = {
	{"src", "saddr"}, {"source", "saddr"}, {"ip saddr", "saddr"},
	{"dst", "daddr"}, {"destination", "daddr"}, {"ip daddr", "daddr"},
	{"iif", "in"}, {"iifname", "in"}, {"input-interface", "in"},
	{"oif", "out"}, {"oifname", "out"}, {"output-interface", "out"},
	{"protocol", "proto"}, {"port", "dport"}, {"verdict", "action"},
	{"target", "action"}, {"jump", "action"}, {"masquerade", "nat"},
	{"dnat", "port-forward"}, {"snat", "nat"}, {"rate", "limit"},
	{"to-addr", "to-daddr"}, {"to-port", "to-dport"}, {"exclude", "exempt"},
};

// The candidate the user most likely meant, or "".
std::string closest(const std::string &word, const std::vector<std::string> &candidates)
{
	std::string w = lower(word);
	for (const auto &[from, to] : aliases)
		if (w == from && std::find(candidates.begin(), candidates.end(), to) != candidates.end())
			return to;
	std::string best;
	size_t best_d = SIZE_MAX;
	for (const auto &c : candidates) {
		size_t d = edit_distance(w, c);
		if (d < best_d) {
			best_d = d;
			best = c;
		}
	}
	if (!best.empty() && best_d <= (w.size() <= 3 ? 1u : 2u))
		return best;
	// "protocol" for "proto", "ports" for "port"...
	for (const auto &c : candidates)
		if (c.size() >= 3 && w.size() >= 3 && (w.starts_with(c) || c.starts_with(w)))
			return c;
	return "";
}

std::string join(const std::vector<std::string> &v, const char *sep = ", ")
{
	std::string s;
	for (size_t i = 0; i < v.size(); i++)
		s += (i ? sep : "") + v[i];
	return s;
}

const std::vector<std::string> top_keys = {"version", "interfaces", "policy", "log", "input", "forward", "nat", "port-forward", "fastpath", "conntrack"};
const std::vector<std::string> conntrack_keys = {"max-connections"};
const std::vector<std::string> rule_keys = {"action", "in", "out", "saddr", "daddr", "proto", "sport", "dport", "log", "comment"};
const std::vector<std::string> nat_keys = {"out", "saddr", "exempt", "to"};
const std::vector<std::string> pf_keys = {"in", "proto", "dport", "daddr", "to-daddr", "to-dport", "comment"};
const std::vector<std::string> policy_keys = {"input", "forward"};
const std::vector<std::string> log_keys = {"limit", "burst"};
const std::vector<std::string> proto_list = {"tcp", "udp", "icmp", "esp", "ah", "gre", "sctp", "icmpv6"};

constexpr uint8_t PROTO_ICMP = 1, PROTO_ICMPV6 = 58, PROTO_SCTP = 132;
constexpr size_t COMMENT_MAX = 64;

// An integer value, or nothing for other types and fractions. Values beyond
// int64 are clamped (they are out of every range the format has anyway).
std::optional<int64_t> as_int(const ojson &v)
{
	if (v.is_number_unsigned()) {
		auto u = v.get<uint64_t>();
		return u > uint64_t(INT64_MAX) ? INT64_MAX : int64_t(u);
	}
	if (v.is_number_integer())
		return v.get<int64_t>();
	return std::nullopt;
}

// "123" -> 123 for 1-6 decimal digits, else nothing.
std::optional<int64_t> parse_digits(const std::string &s)
{
	if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos)
		return std::nullopt;
	return std::stoll(s);
}

class Checker {
public:
	explicit Checker(const InterfaceExists &exists) : exists_(exists) {}

	std::vector<CheckError> errors;
	std::vector<AbsentInterface> absent;

	void err(const std::string &pointer, std::string message)
	{
		errors.push_back(CheckError{pointer, std::move(message), 0, 0});
	}

	void type_error(const std::string &p, const ojson &v, const std::string &expected)
	{
		err(p, "expected " + expected + ", got " + describe(v));
	}

	// Reports the object's keys that are not in `known`, with a suggestion.
	// Returns false when v is not an object at all. The keys suggested go to
	// *suggested: a required key the user misspelt is not also "missing".
	bool object(const ojson &v, const std::string &p, const std::vector<std::string> &known,
		    const std::string &what, std::set<std::string> *suggested = nullptr)
	{
		if (!v.is_object()) {
			type_error(p, v, what);
			return false;
		}
		for (const auto &[k, _] : v.items()) {
			if (std::find(known.begin(), known.end(), k) != known.end())
				continue;
			std::string m = "unknown key " + quote(k);
			if (auto c = closest(k, known); !c.empty()) {
				m += "; did you mean " + quote(c) + "?";
				if (suggested)
					suggested->insert(c);
			} else
				m += "; valid keys here: " + join(known);
			err(ptr_key(p, k), m);
		}
		return true;
	}

	std::optional<std::string> string(const ojson &v, const std::string &p, const std::string &what)
	{
		if (!v.is_string()) {
			type_error(p, v, what);
			return std::nullopt;
		}
		return v.get<std::string>();
	}

	std::optional<bool> boolean(const ojson &v, const std::string &p)
	{
		if (!v.is_boolean()) {
			type_error(p, v, "true or false");
			return std::nullopt;
		}
		return v.get<bool>();
	}

	// Linux's dev_valid_name(): 1-15 bytes, not "." or "..", no '/', ':'
	// or white space. A name that does not exist (yet) is only noted: rules
	// match by name, and at boot the network configuration has not created
	// the VLANs, bridges and PPP links yet.
	std::optional<std::string> interface(const ojson &v, const std::string &p)
	{
		auto name = string(v, p, "an interface name (a string)");
		if (!name)
			return std::nullopt;
		const std::string &n = *name;
		bool bad_char = std::any_of(n.begin(), n.end(), [](char c) {
			return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || c == '\0';
		});
		if (n.empty() || n.size() >= 16 || n == "." || n == ".." || bad_char) {
			err(p, quote(n) + " is not a valid interface name (1-15 characters, not \".\" or \"..\", "
					  "no \"/\", \":\" or white space)");
			return std::nullopt;
		}
		// Asked once per name: each question is a socket and an ioctl,
		// and 65,536 rules name the same few interfaces.
		auto [known, fresh] = exists_cache_.try_emplace(n, false);
		if (fresh)
			known->second = exists_(n);
		if (!known->second)
			absent.push_back(AbsentInterface{p, n});
		return n;
	}

	enum class Addr {
		prefix,      // any prefix, either family
		v4_prefix,   // NAT: IPv4 prefixes only
		v4_address,  // NAT / port forward: one IPv4 address (/32 allowed)
	};

	std::optional<Prefix> prefix(const ojson &v, const std::string &p, Addr kind, const char *where = "")
	{
		auto text = string(v, p, kind == Addr::v4_address ? "an IPv4 address (a string such as \"192.168.1.2\")"
								  : "an address or prefix (a string such as \"10.0.0.0/8\")");
		if (!text)
			return std::nullopt;
		std::string why;
		auto pre = prefix_parse(*text, &why);
		if (!pre) {
			err(p, why);
			return std::nullopt;
		}
		if (kind != Addr::prefix && pre->family == 6) {
			err(p, "IPv6 address " + quote(*text) + " in " + where +
				       ": NAT and port forwards are IPv4 only");
			return std::nullopt;
		}
		if (kind == Addr::v4_address && pre->len != 32) {
			err(p, quote(*text) + " is a prefix, not one address; write a single IPv4 address such as \"" +
				       addr_str(4, pre->addr.data()) + "\"");
			return std::nullopt;
		}
		return pre;
	}

	std::optional<uint8_t> proto(const ojson &v, const std::string &p)
	{
		std::string valid = "use one of " + join(proto_list) + ", or a protocol number 0-255";
		if (v.is_string()) {
			auto s = v.get<std::string>();
			if (auto n = proto_from_name(s))
				return n;
			if (parse_digits(s)) {
				err(p, quote(s) + " is a string; write the protocol number without quotes (" + s +
					       ") or use a name");
				return std::nullopt;
			}
			std::string m = quote(s) + " is not a protocol name";
			if (auto c = closest(s, proto_list); !c.empty())
				m += " (did you mean " + quote(c) + "?)";
			err(p, m + "; " + valid);
			return std::nullopt;
		}
		if (v.is_number()) {
			auto n = as_int(v);
			if (!n || *n < 0 || *n > 255) {
				err(p, v.dump() + " is not a protocol number (0-255)");
				return std::nullopt;
			}
			return uint8_t(*n);
		}
		type_error(p, v, "a protocol name or number (" + valid.substr(4) + ")");
		return std::nullopt;
	}

	// N or "LO-HI", each 1-65535, LO <= HI.
	std::optional<PortRange> ports(const ojson &v, const std::string &p)
	{
		auto not_a_port = [](const std::string &s) { return s + " is not a port (1-65535)"; };
		if (v.is_number()) {
			auto n = as_int(v);
			if (!n || *n < 1 || *n > 65535) {
				err(p, not_a_port(v.dump()));
				return std::nullopt;
			}
			return PortRange{uint16_t(*n), uint16_t(*n)};
		}
		if (v.is_string()) {
			auto s = v.get<std::string>();
			if (auto n = parse_digits(s)) {
				err(p, quote(s) + " is a string; write a port as a number (" + s +
					       ") or a range as \"LO-HI\"");
				return std::nullopt;
			}
			auto dash = s.find('-');
			std::optional<int64_t> lo, hi;
			if (dash != std::string::npos) {
				lo = parse_digits(s.substr(0, dash));
				hi = parse_digits(s.substr(dash + 1));
			}
			if (!lo || !hi) {
				err(p, quote(s) + " is not a port range; write a port as a number (443) or a range "
						  "as \"LO-HI\" (\"8000-8080\")");
				return std::nullopt;
			}
			for (auto n : {*lo, *hi}) {
				if (n < 1 || n > 65535) {
					err(p, quote(s) + " is not a port range: " + not_a_port(std::to_string(n)));
					return std::nullopt;
				}
			}
			if (*lo > *hi) {
				err(p, quote(s) + " is not a port range: " + std::to_string(*lo) +
					       " is greater than " + std::to_string(*hi) + " (write \"" +
					       std::to_string(*hi) + "-" + std::to_string(*lo) + "\")");
				return std::nullopt;
			}
			return PortRange{uint16_t(*lo), uint16_t(*hi)};
		}
		type_error(p, v, "a port (a number 1-65535) or a port range (a string \"LO-HI\")");
		return std::nullopt;
	}

	std::optional<std::string> comment(const ojson &v, const std::string &p)
	{
		auto s = string(v, p, "a string");
		if (!s)
			return std::nullopt;
		if (s->size() > COMMENT_MAX) {
			err(p, "the comment is " + std::to_string(s->size()) + " bytes long; at most " +
				       std::to_string(COMMENT_MAX) + " are allowed");
			return std::nullopt;
		}
		return s;
	}

	void version(const ojson &v, const std::string &p)
	{
		if (!v.is_number()) {
			type_error(p, v, "the number 1");
			return;
		}
		if (as_int(v) != 1)
			err(p, "version " + v.dump() + " is not supported; this fwctl reads version 1");
	}

	void policy(const ojson &v, const std::string &p, Ruleset &r)
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
	void conntrack(const ojson &v, const std::string &p, Ruleset &r)
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

	void log(const ojson &v, const std::string &p, Ruleset &r)
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

	void interfaces(const ojson &v, const std::string &p, Ruleset &r)
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

	void rules(const ojson &v, const std::string &p, Chain chain, std::vector<Rule> &out)
	{
		if (!v.is_array()) {
			type_error(p, v, "an array of rules");
			return;
		}
		for (size_t i = 0; i < v.size(); i++)
			if (auto r = rule(v[i], ptr_index(p, i), chain))
				out.push_back(std::move(*r));
	}

	std::optional<Rule> rule(const ojson &v, const std::string &p, Chain chain)
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

	void nats(const ojson &v, const std::string &p, std::vector<NatRule> &out)
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

	void port_forwards(const ojson &v, const std::string &p, std::vector<PortForward> &out)
	{
		if (!v.is_array()) {
			type_error(p, v, "an array of port forwards");
			return;
		}
		for (size_t i = 0; i < v.size(); i++) {
			auto pi = ptr_index(p, i);
			const auto &o = v[i];
			std::set<std::string> misspelt;
			if (!object(o, pi, pf_keys,
				    "a port forward (an object such as {\"in\": \"eth0\", \"proto\": \"tcp\", "
				    "\"dport\": 80, \"to-daddr\": \"192.168.1.2\"})",
				    &misspelt))
				continue;
			PortForward f;
			size_t before = errors.size();
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
			if (to_dport) {
				auto pp = ptr_key(pi, "to-dport");
				if (!o.contains("dport"))
					err(pp, "\"to-dport\" needs \"dport\": the port it replaces");
				else if (f.dport && *to_dport + (f.dport->hi - f.dport->lo) > 65535)
					err(pp, "dport " + quote(std::to_string(f.dport->lo) + "-" + std::to_string(f.dport->hi)) +
							" moved to start at " + std::to_string(*to_dport) + " would end at " +
							std::to_string(*to_dport + (f.dport->hi - f.dport->lo)) +
							", past 65535; use a to-dport of at most " +
							std::to_string(65535 - (f.dport->hi - f.dport->lo)));
				else if (f.proto == PROTO_SCTP && f.dport && *to_dport != f.dport->lo)
					err(pp, "SCTP ports cannot be changed (its CRC32c covers them and is not "
						"updated): leave out \"to-dport\" or use " + std::to_string(f.dport->lo));
				f.to_dport = uint16_t(*to_dport);
			}
			if (errors.size() == before)
				out.push_back(std::move(f));
		}
	}

	void top(const ojson &doc, Ruleset &r)
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

private:
	const InterfaceExists &exists_;
	std::map<std::string, bool> exists_cache_;
};

CheckResult finish(Checker &c, Ruleset r)
{
	CheckResult res;
	res.errors = std::move(c.errors);
	res.absent = std::move(c.absent);
	if (res.errors.empty())
		res.ruleset = std::move(r);
	return res;
}

CheckResult check_ordered(const ojson &doc, const InterfaceExists &exists, std::vector<CheckError> early)
{
	Checker c(exists);
	c.errors = std::move(early);
	Ruleset r;
	c.top(doc, r);
	return finish(c, std::move(r));
}

// Duplicate keys: JSON parsers keep one of the two values silently, so
// {"dport": 22, "dport": 80} would be a rule nobody wrote. A SAX pass of its
// own sees every key; a stack of open containers gives each one its pointer.
// (Not nlohmann's parse callback: its DOM builder rescans the parent array
// at every object's end, quadratic in the number of rules.)
struct DuplicateKeys : nlohmann::json_sax<ojson> {
	struct Frame {
		bool array;
		size_t index = 0;
		std::string key;
		std::set<std::string> keys;
	};
	std::vector<Frame> stack;
	std::vector<CheckError> errors;

	std::string pointer() const
	{
		std::string p;
		for (size_t i = 0; i + 1 < stack.size(); i++)
			p = stack[i].array ? ptr_index(p, stack[i].index) : ptr_key(p, stack[i].key);
		return p;
	}

	bool value_done()
	{
		if (!stack.empty() && stack.back().array)
			stack.back().index++;
		return true;
	}
	bool open(bool array)
	{
		stack.push_back(Frame{array, 0, {}, {}});
		return true;
	}
	bool close()
	{
		if (!stack.empty())
			stack.pop_back();
		return value_done();
	}

	bool null() override { return value_done(); }
	bool boolean(bool) override { return value_done(); }
	bool number_integer(number_integer_t) override { return value_done(); }
	bool number_unsigned(number_unsigned_t) override { return value_done(); }
	bool number_float(number_float_t, const string_t &) override { return value_done(); }
	bool string(string_t &) override { return value_done(); }
	bool binary(binary_t &) override { return value_done(); }
	bool start_object(std::size_t) override { return open(false); }
	bool end_object() override { return close(); }
	bool start_array(std::size_t) override { return open(true); }
	bool end_array() override { return close(); }
	bool key(string_t &k) override
	{
		auto &f = stack.back();
		if (!f.keys.insert(k).second) {
			f.key = k;
			errors.push_back({ptr_key(pointer(), k),
					  "key " + quote(k) + " appears twice in this object; keep one", 0, 0});
		}
		f.key = k;
		return true;
	}
	bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &) override
	{
		return false; // ojson::parse, which runs first, reports it
	}
};

} // namespace

CheckResult ruleset_check_json(const nlohmann::json &doc, const InterfaceExists &exists)
{
	return check_ordered(ojson(doc), exists, {});
}

CheckResult ruleset_check(const std::string &text, const InterfaceExists &exists)
{
	DuplicateKeys dup;
	ojson doc;
	try {
		doc = ojson::parse(text);
	} catch (const ojson::parse_error &e) {
		// e.byte counts the bytes read, the last one being the culprit.
		size_t idx = e.byte ? std::min<size_t>(e.byte - 1, text.size()) : 0;
		CheckError ce;
		ce.line = 1 + int(std::count(text.begin(), text.begin() + idx, '\n'));
		size_t nl = idx == 0 ? std::string::npos : text.rfind('\n', idx - 1);
		size_t line_start = nl == std::string::npos ? 0 : nl + 1;
		ce.column = int(idx - line_start) + 1;
		// what() is "[json.exception.parse_error.101] parse error at line L,
		// column C: syntax error while parsing ..."; keep the part after the
		// position, which the line and column already say.
		std::string m = e.what();
		auto colon = m.find(": ", m.find("parse error"));
		ce.message = colon == std::string::npos ? m : m.substr(colon + 2);
		// Two mistakes JSON makes easy; nlohmann's words do not name them.
		if (ce.message.find("unexpected string literal; expected '}'") != std::string::npos)
			ce.message += " (is a comma missing before it?)";
		else if (ce.message.find("unexpected '}'") != std::string::npos ||
			 ce.message.find("unexpected ']'") != std::string::npos)
			ce.message += " (a comma after the last element?)";
		ce.message = "not valid JSON: " + ce.message;
		CheckResult res;
		res.errors.push_back(std::move(ce));
		return res;
	} catch (const ojson::out_of_range &e) {
		// A number no double holds (406: "number overflow parsing 'N'"),
		// found by the fuzzer: bad input, not a crash. nlohmann gives no
		// position; find the number's text.
		std::string m = e.what(), num;
		auto q = m.find('\'');
		if (q != std::string::npos)
			num = m.substr(q + 1, m.rfind('\'') - q - 1);
		size_t idx = num.empty() ? std::string::npos : text.find(num);
		CheckError ce;
		if (idx == std::string::npos)
			idx = 0;
		ce.line = 1 + int(std::count(text.begin(), text.begin() + idx, '\n'));
		size_t nl = idx == 0 ? std::string::npos : text.rfind('\n', idx - 1);
		ce.column = int(idx - (nl == std::string::npos ? 0 : nl + 1)) + 1;
		ce.message = "not valid JSON: the number " + (num.empty() ? std::string("here") : num) +
			     " is too large";
		CheckResult res;
		res.errors.push_back(std::move(ce));
		return res;
	}
	ojson::sax_parse(text, &dup);
	return check_ordered(doc, exists, std::move(dup.errors));
}

} // namespace fw
