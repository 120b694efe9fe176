// The ruleset model: what rules.json says, checked and typed. Produced by
// the checker (ruleset_parse.cpp) and the WeOS importer (weos_import.cpp); consumed
// by the compiler (classifier.cpp), the runtime and the exporters.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fw {

enum class Chain { input, forward };
enum class Action { accept, drop, reject };

const char *chain_name(Chain c);
const char *action_name(Action a);

// An address with a prefix length. family is 4 or 6; IPv4 uses addr[0..3].
// The address is stored with host bits cleared.
struct Prefix {
	int family = 4;
	std::array<uint8_t, 16> addr{};
	int len = 32;
	bool operator==(const Prefix &) const = default;
	std::string str() const; // "A.B.C.D/L", bare "A.B.C.D" when L is 32 (128 for v6)
	bool contains(const Prefix &other) const;
};

struct PortRange {
	uint16_t lo = 0, hi = 0;
	bool operator==(const PortRange &) const = default;
};

struct Rule {
	Action action = Action::accept;
	std::optional<std::string> in, out;
	std::optional<Prefix> saddr, daddr;
	std::optional<uint8_t> proto;
	std::optional<PortRange> sport, dport;
	bool log = false;
	std::string comment;
	bool operator==(const Rule &) const = default;
	// A rule with no match field at all (a catch-all such as "drop log").
	bool matches_everything() const
	{
		return !in && !out && !saddr && !daddr && !proto && !sport && !dport;
	}
};

struct NatRule {
	std::string out;
	std::optional<Prefix> saddr;
	std::vector<Prefix> exempt;
	std::optional<Prefix> to; // a /32 IPv4 address
	bool operator==(const NatRule &) const = default;
};

struct PortForward {
	std::string in;
	uint8_t proto = 0;
	std::optional<PortRange> dport;
	std::optional<Prefix> daddr; // /32
	Prefix to_daddr;             // /32
	std::optional<uint16_t> to_dport;
	std::string comment;
	bool operator==(const PortForward &) const = default;
};

struct LogConfig {
	uint32_t rate = 10;                // events ...
	std::string unit = "second";        // ... per "second" | "minute" | "hour"
	uint32_t burst = 5;                 // bucket depth, as nftables
	bool operator==(const LogConfig &) const = default;
	uint64_t interval_ns() const;       // time between two tokens
};

// Bounds of "conntrack": {"max-connections": N}. The default is the table
// the datapath is compiled with (FW_CT_MAX_ENTRIES / 2: two map entries per
// connection). Each connection costs about 300 bytes of kernel memory.
// 65,536 connections (23 MiB) suits a small router, as Linux's own
// nf_conntrack_max on a machine of about 1 GiB does.
constexpr uint32_t CT_DEFAULT_CONNECTIONS = 65536;
constexpr uint32_t CT_MIN_CONNECTIONS = 1024;
constexpr uint32_t CT_MAX_CONNECTIONS = 16777216; // 2^24: ~5 GB of table

struct Ruleset {
	std::optional<std::vector<std::string>> interfaces; // none: every interface but lo
	Action policy_input = Action::accept;
	Action policy_forward = Action::accept;
	bool log_set = false; // the file had a "log" object (kept for round trips)
	LogConfig log;
	std::vector<Rule> input, forward;
	std::vector<NatRule> nat;
	std::vector<PortForward> port_forward;
	// fwctl extension: forward accepted packets with bpf_redirect from XDP
	// (see README, "Fast path"). Off by default.
	bool fastpath = true; // "fastpath": false turns it off
	// fwctl extension: "conntrack": {"max-connections": N}, the connection
	// table's size (docs/conntrack.md). Unset: CT_DEFAULT_CONNECTIONS when
	// the datapath loads, and whatever size runs on a re-apply. The size is
	// fixed when the datapath loads: apply refuses another explicit size
	// while a datapath runs (`fwctl down` first).
	std::optional<uint32_t> ct_max_connections;
	uint32_t ct_connections() const;
	bool operator==(const Ruleset &) const = default;

	const std::vector<Rule> &rules(Chain c) const { return c == Chain::input ? input : forward; }
	Action policy(Chain c) const { return c == Chain::input ? policy_input : policy_forward; }
};

// One problem found in a file: where (a JSON pointer, "" for the file as a
// whole) and a sentence saying what is wrong and what would be right.
struct CheckError {
	std::string pointer;
	std::string message;
	int line = 0, column = 0; // for JSON syntax errors only
};

// Tells whether an interface exists where fwctl runs. Rules match
// interfaces by name (rules-format.md, "Interfaces that appear later"): a
// name that does not exist is a warning, not an error. Tests pass their own.
using InterfaceExists = std::function<bool(const std::string &)>;
bool interface_exists_in_netns(const std::string &name);

// A named interface that does not exist now: where it is named, and its name.
struct AbsentInterface {
	std::string pointer;
	std::string name;
};

struct CheckResult {
	std::optional<Ruleset> ruleset; // set when errors is empty
	std::vector<CheckError> errors;
	std::vector<AbsentInterface> absent; // warnings: each place naming an absent interface
};

// Optimal string alignment distance (insertions, deletions, substitutions,
// swaps of neighbours): the "did you mean" measure.
size_t edit_distance(const std::string &a, const std::string &b);

// Parses and checks a whole file's text. Reports every error it finds.
CheckResult ruleset_check(const std::string &text, const InterfaceExists &exists);
CheckResult ruleset_check_json(const nlohmann::json &doc, const InterfaceExists &exists);

// "FILE: /pointer: message" or "FILE: line L column C: message".
std::string format_error(const std::string &file, const CheckError &e);

// Canonical JSON of a ruleset: what `fwctl show` and `fwctl save` print.
// ruleset_check_json(ruleset_to_json(r)) gives r back.
nlohmann::json ruleset_to_json(const Ruleset &r);
nlohmann::json rule_to_json(const Rule &r);

// Protocol names of the format ("tcp", "udp", ...), or the number.
std::string proto_name(uint8_t proto);
std::optional<uint8_t> proto_from_name(const std::string &name);
bool proto_has_ports(uint8_t proto); // tcp, udp, sctp

// Address text: canonical forms (RFC 5952 for IPv6), no prefix length.
std::string addr_str(int family, const uint8_t *addr);
std::optional<Prefix> prefix_parse(const std::string &text); // "A.B.C.D[/L]" or IPv6
// As above; on failure *why (when not null) gets a sentence naming the text,
// e.g. "10.1.0.1/16" has host bits set; did you mean "10.1.0.0/16"?
// Host bits set are an error, never silently cleared.
std::optional<Prefix> prefix_parse(const std::string &text, std::string *why);

// ruleset_to_json with the keys in the order of the spec (version, interfaces,
// policy, log, input, forward, nat, port-forward; action, in, out, ... in a
// rule), for printing. nlohmann::json sorts keys; this one keeps them.
nlohmann::ordered_json ruleset_to_ordered_json(const Ruleset &r);
nlohmann::ordered_json rule_to_ordered_json(const Rule &r);

} // namespace fw
