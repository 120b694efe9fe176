// The checker: one value of rules.json (a string, an interface name, a
// prefix, a protocol, ports, a comment) and the object check with its
// "did you mean".
#include "ruleset_check.h"

#include <algorithm>
#include <cctype>

namespace fw::rulecheck {

void Checker::err(const std::string &pointer, std::string message)
{
	errors.push_back(CheckError{pointer, std::move(message), 0, 0});
}

void Checker::type_error(const std::string &p, const ojson &v, const std::string &expected)
{
	err(p, "expected " + expected + ", got " + describe(v));
}

// Reports the object's keys that are not in `known`, with a suggestion.
// Returns false when v is not an object at all. The keys suggested go to
// *suggested: a required key the user misspelt is not also "missing".
bool Checker::object(const ojson &v, const std::string &p, const std::vector<std::string> &known,
	    const std::string &what, std::set<std::string> *suggested)
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

std::optional<std::string> Checker::string(const ojson &v, const std::string &p, const std::string &what)
{
	if (!v.is_string()) {
		type_error(p, v, what);
		return std::nullopt;
	}
	return v.get<std::string>();
}

std::optional<bool> Checker::boolean(const ojson &v, const std::string &p)
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
std::optional<std::string> Checker::interface(const ojson &v, const std::string &p)
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

std::optional<Prefix> Checker::prefix(const ojson &v, const std::string &p, Addr kind, const char *where)
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

std::optional<uint8_t> Checker::proto(const ojson &v, const std::string &p)
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
std::optional<PortRange> Checker::ports(const ojson &v, const std::string &p)
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

std::optional<std::string> Checker::comment(const ojson &v, const std::string &p)
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

} // namespace fw::rulecheck
