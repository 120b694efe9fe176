// The checker's parts (ruleset_parse.cpp is its entry): the Checker, which
// walks a rules.json document and collects every error, and the text helpers
// its messages use. Internal to the loader.
#pragma once

#include "ruleset.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fw::rulecheck {

using ojson = nlohmann::ordered_json;

// --- JSON pointers, value descriptions, "did you mean" (ruleset_check_text.cpp)
std::string ptr_key(const std::string &base, const std::string &key);
std::string ptr_index(const std::string &base, size_t i);
std::string quote(const std::string &s);
// A value as the user wrote it, short enough for a message.
std::string describe(const ojson &v);
// The candidate the user most likely meant, or "".
std::string closest(const std::string &word, const std::vector<std::string> &candidates);
std::string join(const std::vector<std::string> &v, const char *sep = ", ");

extern const std::vector<std::string> top_keys, conntrack_keys, rule_keys, nat_keys, pf_keys,
	policy_keys, log_keys, proto_list;

constexpr uint8_t PROTO_ICMP = 1, PROTO_ICMPV6 = 58, PROTO_SCTP = 132;
constexpr size_t COMMENT_MAX = 64;

// An integer value, or nothing for other types and fractions. Values beyond
// int64 are clamped (they are out of every range the format has anyway).
std::optional<int64_t> as_int(const ojson &v);
// "123" -> 123 for 1-6 decimal digits, else nothing.
std::optional<int64_t> parse_digits(const std::string &s);

// Values (ruleset_check_values.cpp), sections of the file
// (ruleset_check_sections.cpp), rule lists (ruleset_check_rules.cpp).
class Checker {
public:
	explicit Checker(const InterfaceExists &exists) : exists_(exists) {}

	std::vector<CheckError> errors;
	std::vector<AbsentInterface> absent;

	void err(const std::string &pointer, std::string message);

	void type_error(const std::string &p, const ojson &v, const std::string &expected);

	// Reports the object's keys that are not in `known`, with a suggestion.
	// Returns false when v is not an object at all. The keys suggested go to
	// *suggested: a required key the user misspelt is not also "missing".
	bool object(const ojson &v, const std::string &p, const std::vector<std::string> &known,
		    const std::string &what, std::set<std::string> *suggested = nullptr);

	std::optional<std::string> string(const ojson &v, const std::string &p, const std::string &what);

	std::optional<bool> boolean(const ojson &v, const std::string &p);

	// Linux's dev_valid_name(): 1-15 bytes, not "." or "..", no '/', ':'
	// or white space. A name that does not exist (yet) is only noted: rules
	// match by name, and at boot the network configuration has not created
	// the VLANs, bridges and PPP links yet.
	std::optional<std::string> interface(const ojson &v, const std::string &p);

	enum class Addr {
		prefix,      // any prefix, either family
		v4_prefix,   // NAT: IPv4 prefixes only
		v4_address,  // NAT / port forward: one IPv4 address (/32 allowed)
	};

	std::optional<Prefix> prefix(const ojson &v, const std::string &p, Addr kind, const char *where = "");

	std::optional<uint8_t> proto(const ojson &v, const std::string &p);

	// N or "LO-HI", each 1-65535, LO <= HI.
	std::optional<PortRange> ports(const ojson &v, const std::string &p);

	std::optional<std::string> comment(const ojson &v, const std::string &p);

	void version(const ojson &v, const std::string &p);

	void policy(const ojson &v, const std::string &p, Ruleset &r);

	// fwctl extension: the connection table's size.
	void conntrack(const ojson &v, const std::string &p, Ruleset &r);

	void log(const ojson &v, const std::string &p, Ruleset &r);

	void interfaces(const ojson &v, const std::string &p, Ruleset &r);

	void rules(const ojson &v, const std::string &p, Chain chain, std::vector<Rule> &out);

	std::optional<Rule> rule(const ojson &v, const std::string &p, Chain chain);

	void nats(const ojson &v, const std::string &p, std::vector<NatRule> &out);

	void port_forwards(const ojson &v, const std::string &p, std::vector<PortForward> &out);
	PortForward port_forward(const ojson &o, const std::string &pi, const std::set<std::string> &misspelt);
	void port_forward_required(const ojson &o, const std::string &pi, const PortForward &f,
				   const std::set<std::string> &misspelt, bool bad_proto);
	void port_forward_to_dport(const ojson &o, const std::string &pi, PortForward &f, int64_t to_dport);

	void top(const ojson &doc, Ruleset &r);
private:
	const InterfaceExists &exists_;
	std::map<std::string, bool> exists_cache_;
};

} // namespace fw::rulecheck
