// The checker's words: JSON pointers, how a value is quoted in a message,
// "did you mean" suggestions, and the keys each object of rules.json takes.
#include "ruleset_check.h"

#include <algorithm>
#include <cctype>

namespace fw::rulecheck {

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

} // namespace fw::rulecheck

namespace fw {

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

} // namespace fw

namespace fw::rulecheck {
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

} // namespace

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

std::string join(const std::vector<std::string> &v, const char *sep)
{
	std::string s;
	for (size_t i = 0; i < v.size(); i++)
		s += (i ? sep : "") + v[i];
	return s;
}

extern const std::vector<std::string> top_keys = {"version", "interfaces", "policy", "log", "input", "forward", "nat", "port-forward", "fastpath", "conntrack"};
const std::vector<std::string> conntrack_keys = {"max-connections"};
const std::vector<std::string> rule_keys = {"action", "in", "out", "saddr", "daddr", "proto", "sport", "dport", "log", "comment"};
const std::vector<std::string> nat_keys = {"out", "saddr", "exempt", "to"};
const std::vector<std::string> pf_keys = {"in", "proto", "dport", "daddr", "to-daddr", "to-dport", "comment"};
const std::vector<std::string> policy_keys = {"input", "forward"};
const std::vector<std::string> log_keys = {"limit", "burst"};
const std::vector<std::string> proto_list = {"tcp", "udp", "icmp", "esp", "ah", "gre", "sctp", "icmpv6"};


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

std::optional<int64_t> parse_digits(const std::string &s)
{
	if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos)
		return std::nullopt;
	return std::stoll(s);
}

} // namespace fw::rulecheck
