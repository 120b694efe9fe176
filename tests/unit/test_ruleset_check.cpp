// The checker (loader/ruleset_parse.cpp) and the canonical JSON
// (loader/ruleset_json.cpp) against spec/rules-format.md.
#include <doctest/doctest.h>

#include "ruleset.h"

#include <string>
#include <vector>

using namespace fw;

namespace {

// The interfaces these tests pretend exist.
bool known_iface(const std::string &n) { return n == "vlan1" || n == "vlan2" || n == "eth0" || n == "lo"; }

CheckResult check(const std::string &text) { return ruleset_check(text, known_iface); }

std::string dump_errors(const CheckResult &r)
{
	std::string s;
	for (const auto &e : r.errors)
		s += format_error("rules.json", e) + "\n";
	return s;
}

const char *scenario2 = R"({
  "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "log": { "limit": "100/minute" },
  "forward": [
    { "action": "accept", "in": "vlan1", "out": "vlan2" },
    { "action": "accept", "in": "vlan2", "out": "vlan1", "proto": "udp", "dport": 500 },
    { "action": "accept", "in": "vlan2", "out": "vlan1", "proto": "udp", "dport": 4500 },
    { "action": "accept", "in": "vlan2", "out": "vlan1", "proto": "esp" },
    { "action": "drop", "log": true, "comment": "catch-all log" }
  ],
  "nat": [ { "out": "vlan2" } ],
  "port-forward": [
    { "in": "vlan2", "proto": "udp", "dport": 500,  "to-daddr": "192.168.1.2" },
    { "in": "vlan2", "proto": "udp", "dport": 4500, "to-daddr": "192.168.1.2" },
    { "in": "vlan2", "proto": "esp", "to-daddr": "192.168.1.2" }
  ]
})";

Prefix pfx(const std::string &s)
{
	auto p = prefix_parse(s);
	REQUIRE_MESSAGE(p, s);
	return *p;
}

} // namespace

TEST_CASE("the spec's Scenario 2 example parses into the right model")
{
	auto r = check(scenario2);
	INFO(dump_errors(r));
	REQUIRE(r.errors.empty());
	REQUIRE(r.ruleset);
	const Ruleset &rs = *r.ruleset;
	CHECK(rs.policy_input == Action::drop);
	CHECK(rs.policy_forward == Action::drop);
	CHECK(rs.log_set);
	CHECK(rs.log.rate == 100);
	CHECK(rs.log.unit == "minute");
	CHECK(rs.log.burst == 5);
	CHECK(rs.log.interval_ns() == 600'000'000ull);
	CHECK(!rs.interfaces);
	CHECK(rs.input.empty());
	REQUIRE(rs.forward.size() == 5);
	CHECK(rs.forward[0].action == Action::accept);
	CHECK(rs.forward[0].in == "vlan1");
	CHECK(rs.forward[0].out == "vlan2");
	CHECK(!rs.forward[0].proto);
	CHECK(rs.forward[1].proto == 17);
	CHECK(rs.forward[1].dport == PortRange{500, 500});
	CHECK(!rs.forward[1].sport);
	CHECK(rs.forward[2].dport == PortRange{4500, 4500});
	CHECK(rs.forward[3].proto == 50);
	CHECK(rs.forward[4].action == Action::drop);
	CHECK(rs.forward[4].log);
	CHECK(rs.forward[4].comment == "catch-all log");
	CHECK(rs.forward[4].matches_everything());
	REQUIRE(rs.nat.size() == 1);
	CHECK(rs.nat[0].out == "vlan2");
	CHECK(!rs.nat[0].saddr);
	CHECK(!rs.nat[0].to);
	REQUIRE(rs.port_forward.size() == 3);
	CHECK(rs.port_forward[0].in == "vlan2");
	CHECK(rs.port_forward[0].proto == 17);
	CHECK(rs.port_forward[0].dport == PortRange{500, 500});
	CHECK(rs.port_forward[0].to_daddr.str() == "192.168.1.2");
	CHECK(rs.port_forward[0].to_daddr.len == 32);
	CHECK(!rs.port_forward[0].to_dport);
	CHECK(rs.port_forward[2].proto == 50);
	CHECK(!rs.port_forward[2].dport);
}

TEST_CASE("an empty object is a valid ruleset with the defaults")
{
	auto r = check("{}");
	REQUIRE(r.ruleset);
	CHECK(r.ruleset->policy_input == Action::accept);
	CHECK(r.ruleset->policy_forward == Action::accept);
	CHECK(!r.ruleset->log_set);
	// The documented default log limit: 10/second, burst 5.
	CHECK(r.ruleset->log.rate == 10);
	CHECK(r.ruleset->log.unit == "second");
	CHECK(r.ruleset->log.burst == 5);
	CHECK(r.ruleset->log.interval_ns() == 100'000'000ull);
}

TEST_CASE("the Scenario 2 example names absent interfaces: warnings, not errors")
{
	auto r = ruleset_check(scenario2, [](const std::string &n) { return n == "vlan1"; });
	// Rules match interfaces by name (rules-format.md, "Interfaces that
	// appear later"): the file is accepted, every mention of vlan2 noted.
	REQUIRE(r.ruleset);
	CHECK(r.errors.empty());
	REQUIRE(r.absent.size() == 8);
	for (const auto &a : r.absent)
		CHECK(a.name == "vlan2");
	CHECK(r.absent[0].pointer == "/forward/0/out");
	CHECK(r.absent[1].pointer == "/forward/1/in");
	CHECK(r.absent[3].pointer == "/forward/3/in");
	CHECK(r.absent[4].pointer == "/nat/0/out");
	CHECK(r.absent[7].pointer == "/port-forward/2/in");
}

TEST_CASE("edit_distance finds the typo")
{
	CHECK(edit_distance("eht0", "eth0") == 1);
	CHECK(edit_distance("vlan2", "vlan12") == 1);
	CHECK(edit_distance("ppp0", "eth0") == 3);
}

struct ErrorCase {
	const char *what;
	const char *json;
	const char *pointer;
	const char *message; // a substring of the message
};

// One error each: where it is and what it says.
const ErrorCase error_cases[] = {
	// top level
	{"not an object", R"([])", "", "a ruleset is a JSON object"},
	{"unknown top key", R"({"polciy": {}})", "/polciy", "unknown key \"polciy\"; did you mean \"policy\"?"},
	{"unknown top key, nothing close", R"({"zzzzzz": 1})", "/zzzzzz", "valid keys here: version, interfaces, policy"},
	{"version 2", R"({"version": 2})", "/version", "version 2 is not supported; this fwctl reads version 1"},
	{"version as string", R"({"version": "1"})", "/version", "expected the number 1, got \"1\""},
	{"version 1.5", R"({"version": 1.5})", "/version", "version 1.5 is not supported"},
	// policy
	{"policy not object", R"({"policy": "drop"})", "/policy", "expected an object"},
	{"policy reject", R"({"policy": {"input": "reject"}})", "/policy/input", "\"reject\" is not a policy; use \"accept\" or \"drop\""},
	{"policy bad", R"({"policy": {"forward": "deny"}})", "/policy/forward", "\"deny\" is not a policy; use \"accept\" or \"drop\""},
	{"policy unknown chain", R"({"policy": {"output": "drop"}})", "/policy/output", "unknown key \"output\""},
	{"policy wrong type", R"({"policy": {"input": false}})", "/policy/input", "expected \"accept\" or \"drop\", got false"},
	// log
	{"log limit no unit", R"({"log": {"limit": "100"}})", "/log/limit", "\"100\" is not a log limit; write \"N/second\", \"N/minute\" or \"N/hour\""},
	{"log limit bad unit", R"({"log": {"limit": "5/day"}})", "/log/limit", "is not a log limit"},
	{"log limit zero", R"({"log": {"limit": "0/second"}})", "/log/limit", "N at least 1"},
	{"log limit negative", R"({"log": {"limit": "-1/second"}})", "/log/limit", "is not a log limit"},
	{"log limit too fast", R"({"log": {"limit": "2000000000/second"}})", "/log/limit", "at most 1000000000/second"},
	{"log limit number", R"({"log": {"limit": 10}})", "/log/limit", "expected a string \"N/second\""},
	{"log burst zero", R"({"log": {"burst": 0}})", "/log/burst", "0 is not a burst"},
	{"log burst string", R"({"log": {"burst": "5"}})", "/log/burst", "expected a number of events"},
	{"log unknown key", R"({"log": {"rate": "1/second"}})", "/log/rate", "did you mean \"limit\"?"},
	// interfaces
	{"interfaces not array", R"({"interfaces": "eth0"})", "/interfaces", "expected an array of interface names, got \"eth0\""},
	{"interfaces empty", R"({"interfaces": []})", "/interfaces", "an empty list attaches the firewall nowhere"},
	{"interfaces duplicate", R"({"interfaces": ["eth0", "vlan1", "eth0"]})", "/interfaces/2", "interface \"eth0\" is listed twice"},
	{"interfaces too long", R"({"interfaces": ["abcdefghijklmnop"]})", "/interfaces/0", "\"abcdefghijklmnop\" is not a valid interface name (1-15 characters"},
	{"interfaces slash", R"({"interfaces": ["eth0/1"]})", "/interfaces/0", "is not a valid interface name"},
	{"interfaces space", R"({"interfaces": ["eth 0"]})", "/interfaces/0", "is not a valid interface name"},
	{"interfaces empty name", R"({"interfaces": [""]})", "/interfaces/0", "\"\" is not a valid interface name"},
	{"interfaces number", R"({"interfaces": [3]})", "/interfaces/0", "expected an interface name (a string), got 3"},
	// rules: shape and keys
	{"chain not array", R"({"input": {}})", "/input", "expected an array of rules, got an object"},
	{"rule not object", R"({"input": ["accept"]})", "/input/0", "expected a rule"},
	{"action missing", R"({"input": [{"proto": "tcp"}]})", "/input/0", "\"action\" is required: \"accept\", \"drop\" or \"reject\""},
	{"action bad", R"({"input": [{"action": "allow"}]})", "/input/0/action", "\"allow\" is not an action; use \"accept\", \"drop\" or \"reject\""},
	{"action type", R"({"input": [{"action": 1}]})", "/input/0/action", "expected \"accept\", \"drop\" or \"reject\", got 1"},
	{"dports typo", R"({"forward": [{"action": "accept", "proto": "tcp", "dports": 22}]})", "/forward/0/dports", "unknown key \"dports\"; did you mean \"dport\"?"},
	{"protocol alias", R"({"forward": [{"action": "accept", "protocol": "tcp"}]})", "/forward/0/protocol", "did you mean \"proto\"?"},
	{"src alias", R"({"forward": [{"action": "accept", "src": "10.0.0.0/8"}]})", "/forward/0/src", "did you mean \"saddr\"?"},
	{"Action case", R"({"forward": [{"action": "drop", "Log": true}]})", "/forward/0/Log", "did you mean \"log\"?"},
	{"key with slash is escaped", R"({"forward": [{"action": "drop", "a/b": 1}]})", "/forward/0/a~1b", "unknown key \"a/b\""},
	{"out in input", R"({"input": [{"action": "accept", "out": "eth0"}]})", "/input/0/out", "\"out\" is only valid in the forward chain"},
	{"in bad name", R"({"forward": [{"action": "accept", "in": "a:b"}]})", "/forward/0/in", "\"a:b\" is not a valid interface name"},
	// addresses
	{"saddr garbage", R"({"input": [{"action": "accept", "saddr": "10.1.0.300"}]})", "/input/0/saddr", "\"10.1.0.300\" is not an IPv4 or IPv6 address or prefix"},
	{"saddr host bits", R"({"input": [{"action": "accept", "saddr": "10.1.0.1/16"}]})", "/input/0/saddr", "\"10.1.0.1/16\" has host bits set; did you mean \"10.1.0.0/16\"?"},
	{"daddr v6 host bits", R"({"input": [{"action": "accept", "daddr": "2001:db8::1/32"}]})", "/input/0/daddr", "did you mean \"2001:db8::/32\"?"},
	{"prefix length too long", R"({"input": [{"action": "accept", "saddr": "10.0.0.0/33"}]})", "/input/0/saddr", "\"/33\" is not a prefix length for IPv4 (0-32)"},
	{"v6 prefix length too long", R"({"input": [{"action": "accept", "saddr": "::/129"}]})", "/input/0/saddr", "is not a prefix length for IPv6 (0-128)"},
	{"prefix length not a number", R"({"input": [{"action": "accept", "saddr": "10.0.0.0/x"}]})", "/input/0/saddr", "\"/x\" is not a prefix length"},
	{"address empty", R"({"input": [{"action": "accept", "daddr": ""}]})", "/input/0/daddr", "an empty string is not an address"},
	{"address type", R"({"input": [{"action": "accept", "daddr": 167772161}]})", "/input/0/daddr", "expected an address or prefix"},
	{"mixed families", R"({"forward": [{"action": "accept", "saddr": "10.0.0.0/8", "daddr": "2001:db8::/32"}]})", "/forward/0/daddr", "one rule is one address family"},
	// protocols
	{"proto unknown name", R"({"input": [{"action": "accept", "proto": "tpc"}]})", "/input/0/proto", "\"tpc\" is not a protocol name (did you mean \"tcp\"?); use one of tcp, udp, icmp, esp, ah, gre, sctp, icmpv6, or a protocol number 0-255"},
	{"proto unknown name, nothing close", R"({"input": [{"action": "accept", "proto": "quic"}]})", "/input/0/proto", "\"quic\" is not a protocol name; use one of tcp, udp"},
	{"proto number as string", R"({"input": [{"action": "accept", "proto": "6"}]})", "/input/0/proto", "\"6\" is a string; write the protocol number without quotes (6)"},
	{"proto number too big", R"({"input": [{"action": "accept", "proto": 256}]})", "/input/0/proto", "256 is not a protocol number (0-255)"},
	{"proto number negative", R"({"input": [{"action": "accept", "proto": -1}]})", "/input/0/proto", "-1 is not a protocol number (0-255)"},
	{"proto type", R"({"input": [{"action": "accept", "proto": true}]})", "/input/0/proto", "expected a protocol name or number"},
	{"icmp with IPv6", R"({"input": [{"action": "accept", "proto": "icmp", "saddr": "2001:db8::/32"}]})", "/input/0/proto", "\"icmp\" is ICMP for IPv4, but this rule's saddr is IPv6; use \"icmpv6\""},
	{"proto 1 with IPv6", R"({"input": [{"action": "accept", "proto": 1, "daddr": "::1"}]})", "/input/0/proto", "use \"icmpv6\""},
	{"icmpv6 with IPv4", R"({"input": [{"action": "accept", "proto": "icmpv6", "daddr": "10.0.0.1"}]})", "/input/0/proto", "\"icmpv6\" is ICMP for IPv6, but this rule's daddr is IPv4; use \"icmp\""},
	// ports
	{"port too big", R"({"forward": [{"action": "accept"}, {"action": "accept"}, {"action": "accept", "proto": "udp", "dport": 70000}]})", "/forward/2/dport", "70000 is not a port (1-65535)"},
	{"port zero", R"({"input": [{"action": "accept", "proto": "tcp", "sport": 0}]})", "/input/0/sport", "0 is not a port (1-65535)"},
	{"port fraction", R"({"input": [{"action": "accept", "proto": "tcp", "dport": 22.5}]})", "/input/0/dport", "22.5 is not a port (1-65535)"},
	{"port as string", R"({"input": [{"action": "accept", "proto": "tcp", "dport": "22"}]})", "/input/0/dport", "\"22\" is a string; write a port as a number (22)"},
	{"range reversed", R"({"input": [{"action": "accept", "proto": "tcp", "dport": "2000-1000"}]})", "/input/0/dport", "\"2000-1000\" is not a port range: 2000 is greater than 1000 (write \"1000-2000\")"},
	{"range out of bounds", R"({"input": [{"action": "accept", "proto": "tcp", "dport": "1000-70000"}]})", "/input/0/dport", "\"1000-70000\" is not a port range: 70000 is not a port (1-65535)"},
	{"range starting at 0", R"({"input": [{"action": "accept", "proto": "tcp", "dport": "0-10"}]})", "/input/0/dport", "0 is not a port (1-65535)"},
	{"range garbage", R"({"input": [{"action": "accept", "proto": "tcp", "dport": "ssh"}]})", "/input/0/dport", "\"ssh\" is not a port range; write a port as a number (443) or a range as \"LO-HI\""},
	{"range with spaces", R"({"input": [{"action": "accept", "proto": "tcp", "dport": "1 - 2"}]})", "/input/0/dport", "is not a port range"},
	{"port type", R"({"input": [{"action": "accept", "proto": "tcp", "dport": [22]}]})", "/input/0/dport", "expected a port (a number 1-65535) or a port range"},
	{"dport without proto", R"({"input": [{"action": "accept", "dport": 22}]})", "/input/0/dport", "\"dport\" needs \"proto\": \"tcp\", \"udp\" or \"sctp\""},
	{"sport with icmp", R"({"input": [{"action": "accept", "proto": "icmp", "sport": 22}]})", "/input/0/sport", "\"sport\" is only valid with proto tcp, udp or sctp, not \"icmp\""},
	{"dport with proto 47", R"({"input": [{"action": "accept", "proto": 47, "dport": 1}]})", "/input/0/dport", "not \"gre\""},
	// log, comment
	{"log not bool", R"({"input": [{"action": "drop", "log": "yes"}]})", "/input/0/log", "expected true or false, got \"yes\""},
	{"comment too long", R"({"input": [{"action": "drop", "comment": "0123456789012345678901234567890123456789012345678901234567890123456789"}]})", "/input/0/comment", "the comment is 70 bytes long; at most 64 are allowed"},
	{"comment type", R"({"input": [{"action": "drop", "comment": 5}]})", "/input/0/comment", "expected a string, got 5"},
	// nat
	{"nat not array", R"({"nat": {"out": "eth0"}})", "/nat", "expected an array of NAT rules"},
	{"nat out missing", R"({"nat": [{"saddr": "10.0.0.0/8"}]})", "/nat/0", "\"out\" is required"},
	{"nat unknown key", R"({"nat": [{"out": "eth0", "in": "vlan1"}]})", "/nat/0/in", "unknown key \"in\""},
	{"nat saddr v6", R"({"nat": [{"out": "eth0", "saddr": "fd00::/8"}]})", "/nat/0/saddr", "IPv6 address \"fd00::/8\" in nat: NAT and port forwards are IPv4 only"},
	{"nat saddr host bits", R"({"nat": [{"out": "eth0", "saddr": "192.168.1.1/24"}]})", "/nat/0/saddr", "did you mean \"192.168.1.0/24\"?"},
	{"nat exempt not array", R"({"nat": [{"out": "eth0", "exempt": "10.1.0.0/16"}]})", "/nat/0/exempt", "expected an array of prefixes"},
	{"nat exempt bad entry", R"({"nat": [{"out": "eth0", "exempt": ["10.1.0.0/16", "10.2.0.0/33"]}]})", "/nat/0/exempt/1", "is not a prefix length for IPv4"},
	{"nat exempt v6", R"({"nat": [{"out": "eth0", "exempt": ["2001:db8::/32"]}]})", "/nat/0/exempt/0", "NAT and port forwards are IPv4 only"},
	{"nat to prefix", R"({"nat": [{"out": "eth0", "to": "203.0.113.0/24"}]})", "/nat/0/to", "\"203.0.113.0/24\" is a prefix, not one address; write a single IPv4 address"},
	{"nat to v6", R"({"nat": [{"out": "eth0", "to": "2001:db8::1"}]})", "/nat/0/to", "IPv6 address \"2001:db8::1\" in nat: NAT and port forwards are IPv4 only"},
	{"nat to not an address", R"({"nat": [{"out": "eth0", "to": "eth0"}]})", "/nat/0/to", "\"eth0\" is not an IPv4 or IPv6 address"},
	// port forwards
	{"pf in missing", R"({"port-forward": [{"proto": "esp", "to-daddr": "192.168.1.2"}]})", "/port-forward/0", "\"in\" is required"},
	{"pf proto missing", R"({"port-forward": [{"in": "eth0", "to-daddr": "192.168.1.2"}]})", "/port-forward/0", "\"proto\" is required"},
	{"pf to-daddr missing", R"({"port-forward": [{"in": "eth0", "proto": "esp"}]})", "/port-forward/0", "\"to-daddr\" is required: the inside host's IPv4 address"},
	{"pf dport missing for udp", R"({"port-forward": [{"in": "eth0", "proto": "udp", "to-daddr": "192.168.1.2"}]})", "/port-forward/0", "\"dport\" is required with proto \"udp\""},
	{"pf dport with esp", R"({"port-forward": [{"in": "eth0", "proto": "esp", "dport": 500, "to-daddr": "192.168.1.2"}]})", "/port-forward/0/dport", "\"dport\" is only valid with proto tcp, udp or sctp, not \"esp\""},
	{"pf icmpv6", R"({"port-forward": [{"in": "eth0", "proto": "icmpv6", "to-daddr": "192.168.1.2"}]})", "/port-forward/0/proto", "NAT and port forwards are IPv4 only"},
	{"pf to-daddr v6", R"({"port-forward": [{"in": "eth0", "proto": "esp", "to-daddr": "fd00::2"}]})", "/port-forward/0/to-daddr", "IPv6 address \"fd00::2\" in port-forward: NAT and port forwards are IPv4 only"},
	{"pf to-daddr prefix", R"({"port-forward": [{"in": "eth0", "proto": "esp", "to-daddr": "192.168.1.0/24"}]})", "/port-forward/0/to-daddr", "is a prefix, not one address"},
	{"pf daddr v6", R"({"port-forward": [{"in": "eth0", "proto": "esp", "daddr": "2001:db8::1", "to-daddr": "192.168.1.2"}]})", "/port-forward/0/daddr", "NAT and port forwards are IPv4 only"},
	{"pf to-dport without dport", R"({"port-forward": [{"in": "eth0", "proto": "esp", "to-daddr": "192.168.1.2", "to-dport": 80}]})", "/port-forward/0/to-dport", "\"to-dport\" needs \"dport\""},
	{"pf to-dport range overflow", R"({"port-forward": [{"in": "eth0", "proto": "tcp", "dport": "8000-8100", "to-daddr": "192.168.1.2", "to-dport": 65500}]})", "/port-forward/0/to-dport", "would end at 65600, past 65535; use a to-dport of at most 65435"},
	{"pf to-dport zero", R"({"port-forward": [{"in": "eth0", "proto": "tcp", "dport": 80, "to-daddr": "192.168.1.2", "to-dport": 0}]})", "/port-forward/0/to-dport", "0 is not a port (1-65535)"},
	{"pf sctp port change", R"({"port-forward": [{"in": "eth0", "proto": "sctp", "dport": 5000, "to-daddr": "192.168.1.2", "to-dport": 6000}]})", "/port-forward/0/to-dport", "SCTP ports cannot be changed (its CRC32c covers them and is not updated): leave out \"to-dport\" or use 5000"},
	{"pf to-dport string", R"({"port-forward": [{"in": "eth0", "proto": "tcp", "dport": 80, "to-daddr": "192.168.1.2", "to-dport": "8080"}]})", "/port-forward/0/to-dport", "expected a port (a number 1-65535), got \"8080\""},
	{"misspelt required key is not also missing", R"({"input": [{"acton": "drop"}]})", "/input/0/acton", "did you mean \"action\"?"},
	{"nat misspelt out", R"({"nat": [{"uot": "eth0"}]})", "/nat/0/uot", "did you mean \"out\"?"},
	{"pf typo", R"({"port-forward": [{"in": "eth0", "proto": "esp", "to_daddr": "192.168.1.2"}]})", "/port-forward/0/to_daddr", "did you mean \"to-daddr\"?"},
	{"pf comment too long", R"({"port-forward": [{"in": "eth0", "proto": "esp", "to-daddr": "192.168.1.2", "comment": "01234567890123456789012345678901234567890123456789012345678901234"}]})", "/port-forward/0/comment", "the comment is 65 bytes long"},
	{"pf not object", R"({"port-forward": [7]})", "/port-forward/0", "expected a port forward"},
	// conntrack (fwctl extension)
	{"conntrack not object", R"({"conntrack": 1000000})", "/conntrack", "expected an object such as {\"max-connections\": 1000000}, got 1000000"},
	{"conntrack unknown key", R"({"conntrack": {"max_connections": 5000}})", "/conntrack/max_connections", "unknown key \"max_connections\"; did you mean \"max-connections\"?"},
	{"conntrack too small", R"({"conntrack": {"max-connections": 1023}})", "/conntrack/max-connections", "1023 is not a connection table size; write a whole number of connections, 1024-16777216 (default 65536)"},
	{"conntrack too large", R"({"conntrack": {"max-connections": 16777217}})", "/conntrack/max-connections", "1024-16777216"},
	{"conntrack negative", R"({"conntrack": {"max-connections": -5}})", "/conntrack/max-connections", "-5 is not a connection table size"},
	{"conntrack fraction", R"({"conntrack": {"max-connections": 2048.5}})", "/conntrack/max-connections", "2048.5 is not a connection table size"},
	{"conntrack string", R"({"conntrack": {"max-connections": "1M"}})", "/conntrack/max-connections", "expected a number of connections (1024-16777216), got \"1M\""},
	{"conntrack typo top", R"({"contrack": {"max-connections": 5000}})", "/contrack", "did you mean \"conntrack\"?"},
	// duplicate keys
	{"duplicate key", R"({"input": [{"action": "accept", "proto": "tcp", "dport": 22, "dport": 80}]})", "/input/0/dport", "key \"dport\" appears twice in this object"},
	{"duplicate key, later element", R"({"forward": [{"action": "drop"}, [1, {"x": 1}], {"action": "accept", "action": "drop"}]})", "/forward/2/action", "appears twice"},
	{"duplicate top key", R"({"version": 1, "version": 1})", "/version", "appears twice"},
};

TEST_CASE("each error class gives its pointer and message")
{
	for (const auto &c : error_cases) {
		std::string what = c.what, json = c.json;
		CAPTURE(what);
		CAPTURE(json);
		auto r = check(c.json);
		INFO(dump_errors(r));
		CHECK(!r.ruleset);
		// The "duplicate key, later element" case also has a bad element.
		if (std::string(c.what) == "duplicate key, later element") {
			REQUIRE(r.errors.size() == 2);
			CHECK(r.errors[1].pointer == "/forward/1");
		} else {
			REQUIRE(r.errors.size() == 1);
		}
		CHECK(r.errors[0].pointer == c.pointer);
		CHECK(r.errors[0].message.find(c.message) != std::string::npos);
		CHECK(r.errors[0].line == 0);
	}
}

TEST_CASE("good values of every key are accepted")
{
	auto r = check(R"({
	  "version": 1,
	  "interfaces": ["eth0", "vlan1"],
	  "policy": {"input": "drop"},
	  "log": {"limit": "3/hour", "burst": 20},
	  "input": [
	    {"action": "reject", "in": "eth0", "saddr": "10.0.0.0/8", "daddr": "10.1.2.3/32",
	     "proto": "tcp", "sport": "1024-65535", "dport": 22, "log": false, "comment": "ssh"},
	    {"action": "accept", "proto": "icmpv6", "saddr": "fe80::/10"},
	    {"action": "accept", "proto": "icmp", "daddr": "192.0.2.0/24"},
	    {"action": "accept", "proto": 0},
	    {"action": "accept", "proto": 255},
	    {"action": "accept", "proto": "sctp", "dport": "5-5"},
	    {"action": "accept", "saddr": "0.0.0.0/0"},
	    {"action": "accept", "daddr": "::/0"},
	    {"action": "accept", "proto": "icmp"},
	    {"action": "accept", "comment": ""}
	  ],
	  "nat": [{"out": "eth0", "saddr": "192.168.1.0/24", "exempt": ["10.1.0.0/16", "10.2.0.0/16"],
	           "to": "203.0.113.1/32"}],
	  "port-forward": [{"in": "eth0", "proto": "tcp", "dport": "8000-8010", "daddr": "203.0.113.1",
	                    "to-daddr": "192.168.1.2", "to-dport": 65525, "comment": "web"}]
	})");
	INFO(dump_errors(r));
	REQUIRE(r.ruleset);
	const auto &rs = *r.ruleset;
	CHECK(rs.interfaces == std::vector<std::string>{"eth0", "vlan1"});
	CHECK(rs.policy_input == Action::drop);
	CHECK(rs.policy_forward == Action::accept);
	CHECK(rs.log == LogConfig{3, "hour", 20});
	CHECK(rs.log.interval_ns() == 1200'000'000'000ull);
	REQUIRE(rs.input.size() == 10);
	const Rule &ssh = rs.input[0];
	CHECK(ssh.action == Action::reject);
	CHECK(ssh.saddr == pfx("10.0.0.0/8"));
	CHECK(ssh.saddr->len == 8);
	CHECK(ssh.daddr->str() == "10.1.2.3");
	CHECK(ssh.proto == 6);
	CHECK(ssh.sport == PortRange{1024, 65535});
	CHECK(ssh.dport == PortRange{22, 22});
	CHECK(!ssh.log);
	CHECK(ssh.comment == "ssh");
	CHECK(rs.input[1].proto == 58);
	CHECK(rs.input[1].saddr->family == 6);
	CHECK(rs.input[3].proto == 0);
	CHECK(rs.input[4].proto == 255);
	CHECK(rs.input[5].dport == PortRange{5, 5});
	CHECK(rs.input[6].saddr->len == 0);
	CHECK(rs.input[7].daddr->family == 6);
	CHECK(rs.input[7].daddr->len == 0);
	REQUIRE(rs.nat.size() == 1);
	CHECK(rs.nat[0].exempt.size() == 2);
	CHECK(rs.nat[0].to->str() == "203.0.113.1");
	REQUIRE(rs.port_forward.size() == 1);
	CHECK(rs.port_forward[0].dport == PortRange{8000, 8010});
	CHECK(rs.port_forward[0].to_dport == 65525);
	CHECK(rs.port_forward[0].daddr->str() == "203.0.113.1");
}

TEST_CASE("all errors are reported at once, in file order")
{
	auto r = check(R"({
	  "version": 2,
	  "policy": {"input": "reject", "forward": "drop"},
	  "input": [
	    {"action": "accept", "out": "eth0", "proto": "tcp", "dport": 70000},
	    {"action": "allow", "dports": 22}
	  ],
	  "forward": [
	    {"in": "vlan9", "saddr": "10.0.0.1/8", "comment": "x"}
	  ],
	  "nat": [{"to": "2001:db8::1"}]
	})");
	INFO(dump_errors(r));
	CHECK(!r.ruleset);
	std::vector<std::pair<std::string, std::string>> want = {
		{"/version", "version 2 is not supported"},
		{"/policy/input", "\"reject\" is not a policy"},
		{"/input/0/out", "\"out\" is only valid in the forward chain"},
		{"/input/0/dport", "70000 is not a port (1-65535)"},
		{"/input/1/dports", "did you mean \"dport\"?"},
		{"/input/1/action", "\"allow\" is not an action"},
		{"/forward/0/saddr", "did you mean \"10.0.0.0/8\"?"},
		{"/forward/0", "\"action\" is required"},
		{"/nat/0/to", "NAT and port forwards are IPv4 only"},
		{"/nat/0", "\"out\" is required"},
	};
	REQUIRE(r.errors.size() == want.size());
	for (size_t i = 0; i < want.size(); i++) {
		CAPTURE(i);
		CHECK(r.errors[i].pointer == want[i].first);
		CHECK(r.errors[i].message.find(want[i].second) != std::string::npos);
	}
}

TEST_CASE("a bad protocol does not also complain about its ports")
{
	auto r = check(R"({"input": [{"action": "accept", "proto": "tcpp", "dport": 22}]})");
	REQUIRE(r.errors.size() == 1);
	CHECK(r.errors[0].pointer == "/input/0/proto");
	CHECK(r.errors[0].message.find("did you mean \"tcp\"?") != std::string::npos);
}

TEST_CASE("syntax errors give line and column")
{
	SUBCASE("missing comma")
	{
		auto r = check("{\n  \"version\": 1\n  \"input\": []\n}");
		REQUIRE(r.errors.size() == 1);
		CHECK(!r.ruleset);
		CHECK(r.errors[0].pointer == "");
		// Where nlohmann stopped reading: the end of "input".
		CHECK(r.errors[0].line == 3);
		CHECK(r.errors[0].column == 9);
		CHECK(r.errors[0].message.find("is a comma missing before it?") != std::string::npos);
		CHECK(r.errors[0].message.find("not valid JSON") == 0);
		CHECK(r.errors[0].message.find("json.exception") == std::string::npos);
		CHECK(format_error("rules.json", r.errors[0]).find("rules.json: line 3 column 9: not valid JSON: ") == 0);
	}
	SUBCASE("trailing comma")
	{
		auto r = check("{\"input\": [\n {\"action\": \"drop\"},\n]}");
		REQUIRE(r.errors.size() == 1);
		CHECK(r.errors[0].line == 3);
		CHECK(r.errors[0].column == 1);
		CHECK(r.errors[0].message.find("a comma after the last element?") != std::string::npos);
	}
	SUBCASE("empty file")
	{
		auto r = check("");
		REQUIRE(r.errors.size() == 1);
		CHECK(r.errors[0].line == 1);
		CHECK(r.errors[0].column == 1);
		CHECK(r.errors[0].message.find("unexpected end of input") != std::string::npos);
	}
	SUBCASE("first character")
	{
		auto r = check("x");
		REQUIRE(r.errors.size() == 1);
		CHECK(r.errors[0].line == 1);
		CHECK(r.errors[0].column == 1);
	}
}

TEST_CASE("format_error")
{
	CHECK(format_error("rules.json", {"/forward/2/dport", "70000 is not a port (1-65535)", 0, 0}) ==
	      "rules.json: /forward/2/dport: 70000 is not a port (1-65535)");
	CHECK(format_error("rules.json", {"", "a ruleset is a JSON object", 0, 0}) ==
	      "rules.json: a ruleset is a JSON object");
	CHECK(format_error("r.json", {"", "syntax error", 4, 7}) == "r.json: line 4 column 7: syntax error");
}

TEST_CASE("canonical JSON round-trips through the checker")
{
	auto first = check(scenario2);
	REQUIRE(first.ruleset);
	auto j = ruleset_to_json(*first.ruleset);
	auto again = ruleset_check_json(j, known_iface);
	INFO(dump_errors(again));
	REQUIRE(again.ruleset);
	CHECK(*again.ruleset == *first.ruleset);

	// The canonical form of the example, key by key.
	CHECK(j["version"] == 1);
	CHECK(j["policy"] == nlohmann::json{{"input", "drop"}, {"forward", "drop"}});
	CHECK(j["log"] == nlohmann::json{{"limit", "100/minute"}, {"burst", 5}});
	CHECK(j["forward"][1] == nlohmann::json{{"action", "accept"}, {"in", "vlan2"}, {"out", "vlan1"}, {"proto", "udp"}, {"dport", 500}});
	CHECK(j["forward"][4] == nlohmann::json{{"action", "drop"}, {"log", true}, {"comment", "catch-all log"}});
	CHECK(j["nat"] == nlohmann::json::parse(R"([{"out": "vlan2"}])"));
	CHECK(j["port-forward"][2] == nlohmann::json{{"in", "vlan2"}, {"proto", "esp"}, {"to-daddr", "192.168.1.2"}});
	CHECK(!j.contains("input"));
	CHECK(!j.contains("interfaces"));
}

TEST_CASE("round trip of a ruleset using every field")
{
	Ruleset r;
	r.interfaces = std::vector<std::string>{"vlan1", "eth0"};
	r.policy_input = Action::drop;
	r.log_set = true;
	r.log = LogConfig{7, "hour", 3};
	Rule a;
	a.action = Action::reject;
	a.in = "eth0";
	a.saddr = pfx("2001:db8::/32");
	a.daddr = pfx("2001:db8:1::5");
	a.proto = 6;
	a.sport = PortRange{1000, 2000};
	a.dport = PortRange{443, 443};
	a.log = true;
	a.comment = "https";
	r.input.push_back(a);
	Rule b;
	b.action = Action::drop;
	b.proto = 99; // no name: printed as a number
	b.out = "vlan1";
	r.forward.push_back(b);
	NatRule n;
	n.out = "eth0";
	n.saddr = pfx("192.168.0.0/16");
	n.exempt = {pfx("10.1.0.0/16"), pfx("10.2.0.0/16")};
	n.to = pfx("203.0.113.9");
	r.nat.push_back(n);
	PortForward f;
	f.in = "vlan1";
	f.proto = 17;
	f.dport = PortRange{5000, 5010};
	f.daddr = pfx("203.0.113.9");
	f.to_daddr = pfx("192.168.1.2");
	f.to_dport = 6000;
	f.comment = "game";
	r.port_forward.push_back(f);

	auto j = ruleset_to_json(r);
	CHECK(j["input"][0]["saddr"] == "2001:db8::/32");
	CHECK(j["input"][0]["daddr"] == "2001:db8:1::5");
	CHECK(j["input"][0]["sport"] == "1000-2000");
	CHECK(j["input"][0]["dport"] == 443);
	CHECK(j["input"][0]["proto"] == "tcp");
	CHECK(j["forward"][0]["proto"] == 99);
	CHECK(j["log"]["limit"] == "7/hour");
	CHECK(j["nat"][0]["exempt"] == nlohmann::json{"10.1.0.0/16", "10.2.0.0/16"});
	CHECK(j["nat"][0]["to"] == "203.0.113.9");
	CHECK(j["port-forward"][0]["dport"] == "5000-5010");
	CHECK(j["port-forward"][0]["to-dport"] == 6000);

	auto back = ruleset_check_json(j, known_iface);
	INFO(dump_errors(back));
	REQUIRE(back.ruleset);
	CHECK(*back.ruleset == r);

	// Also through text, as `fwctl save` then `fwctl apply` would.
	auto text = ruleset_to_ordered_json(r).dump(2);
	auto back2 = check(text);
	REQUIRE(back2.ruleset);
	CHECK(*back2.ruleset == r);
}

TEST_CASE("ordered JSON keeps the spec's key order")
{
	auto r = check(scenario2);
	REQUIRE(r.ruleset);
	auto j = ruleset_to_ordered_json(*r.ruleset);
	std::vector<std::string> keys;
	for (const auto &[k, _] : j.items())
		keys.push_back(k);
	CHECK(keys == std::vector<std::string>{"version", "policy", "log", "forward", "nat", "port-forward"});
	CHECK(j["forward"][1].dump() == R"({"action":"accept","in":"vlan2","out":"vlan1","proto":"udp","dport":500})");
	CHECK(j["port-forward"][0].dump() == R"({"in":"vlan2","proto":"udp","dport":500,"to-daddr":"192.168.1.2"})");
	Rule rule;
	rule.action = Action::drop;
	rule.log = true;
	CHECK(rule_to_json(rule) == nlohmann::json{{"action", "drop"}, {"log", true}});
}

TEST_CASE("conntrack max-connections: bounds, default, canonical JSON")
{
	// Unset: the compiled table (FW_CT_MAX_ENTRIES / 2), and nothing printed.
	auto none = check("{}");
	REQUIRE(none.ruleset);
	CHECK(!none.ruleset->ct_max_connections);
	CHECK(none.ruleset->ct_connections() == 65536);
	CHECK(!ruleset_to_json(*none.ruleset).contains("conntrack"));
	// An empty object is the default as well.
	auto empty = check(R"({"conntrack": {}})");
	REQUIRE(empty.ruleset);
	CHECK(!empty.ruleset->ct_max_connections);

	for (uint32_t n : {1024u, 131072u, 1000000u, 16777216u}) {
		CAPTURE(n);
		auto r = check(R"({"conntrack": {"max-connections": )" + std::to_string(n) + "}}");
		INFO(dump_errors(r));
		REQUIRE(r.ruleset);
		CHECK(r.ruleset->ct_max_connections == n);
		CHECK(r.ruleset->ct_connections() == n);
		// Canonical JSON keeps it (an explicit default too), and reads back.
		auto j = ruleset_to_json(*r.ruleset);
		CHECK(j["conntrack"] == nlohmann::json{{"max-connections", n}});
		auto back = ruleset_check_json(j, known_iface);
		REQUIRE(back.ruleset);
		CHECK(*back.ruleset == *r.ruleset);
		auto text = check(ruleset_to_ordered_json(*r.ruleset).dump(2));
		REQUIRE(text.ruleset);
		CHECK(*text.ruleset == *r.ruleset);
	}

	// Ordered JSON: a top-level setting, after fastpath, before the policy.
	auto r = check(R"({"policy": {"input": "drop"}, "conntrack": {"max-connections": 5000}, "fastpath": false})");
	REQUIRE(r.ruleset);
	auto ordered = ruleset_to_ordered_json(*r.ruleset);
	std::vector<std::string> keys;
	for (const auto &[k, _] : ordered.items())
		keys.push_back(k);
	CHECK(keys == std::vector<std::string>{"version", "fastpath", "conntrack", "policy"});

	// A different size is a different ruleset (and hash).
	Ruleset a, b;
	b.ct_max_connections = 65536;
	CHECK(a != b);
	CHECK(a.ct_connections() == b.ct_connections());
}

TEST_CASE("IPv6 addresses print in RFC 5952 form")
{
	struct {
		const char *in, *out;
	} cases[] = {
		{"2001:DB8:0:0::1", "2001:db8::1"},
		{"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
		{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, // one zero group is not compressed
		{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},    // the first of two equal runs
		{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          // the longest run
		{"::", "::"},
		{"::1", "::1"},
		{"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
		{"FE80::/10", "fe80::/10"},
		{"2001:db8::/128", "2001:db8::"},
		{"10.0.0.1/32", "10.0.0.1"},
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"0.0.0.0/0", "0.0.0.0/0"},
	};
	for (const auto &c : cases) {
		CAPTURE(c.in);
		auto p = prefix_parse(c.in);
		REQUIRE(p);
		CHECK(p->str() == c.out);
	}
	// Through the checker and back out.
	auto r = check(R"({"input": [{"action": "accept", "saddr": "2001:DB8:0:0::1"}]})");
	REQUIRE(r.ruleset);
	CHECK(ruleset_to_json(*r.ruleset)["input"][0]["saddr"] == "2001:db8::1");
}

TEST_CASE("prefix_parse")
{
	auto p = prefix_parse("192.168.1.0/24");
	REQUIRE(p);
	CHECK(p->family == 4);
	CHECK(p->len == 24);
	CHECK(p->addr[0] == 192);
	CHECK(p->addr[2] == 1);
	CHECK(p->addr[3] == 0);
	CHECK(p->addr[4] == 0); // bytes past the family's size stay zero

	auto q = prefix_parse("2001:db8::/32");
	REQUIRE(q);
	CHECK(q->family == 6);
	CHECK(q->len == 32);

	for (const char *bad : {"", "10.0.0", "10.0.0.256", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/0x8", "010.0.0.1",
				"1.2.3.4 ", "fe80::1%eth0", "2001:db8::/129", "10.0.0.1/24", "::1/64", "10.0.0.0/8/8",
				"gggg::"}) {
		CAPTURE(bad);
		CHECK(!prefix_parse(bad));
		std::string why;
		CHECK(!prefix_parse(bad, &why));
		CHECK(!why.empty());
	}
	std::string why;
	CHECK(!prefix_parse("10.1.0.1/16", &why));
	CHECK(why == "\"10.1.0.1/16\" has host bits set; did you mean \"10.1.0.0/16\"?");
	CHECK(!prefix_parse("10.1.0.1/15", &why));
	CHECK(why.find("\"10.0.0.0/15\"") != std::string::npos);
}

TEST_CASE("Prefix::contains")
{
	CHECK(pfx("10.0.0.0/8").contains(pfx("10.1.0.0/16")));
	CHECK(pfx("10.0.0.0/8").contains(pfx("10.0.0.0/8")));
	CHECK(pfx("10.0.0.0/8").contains(pfx("10.255.255.255")));
	CHECK(!pfx("10.0.0.0/8").contains(pfx("11.0.0.0/16")));
	CHECK(!pfx("10.1.0.0/16").contains(pfx("10.0.0.0/8")));
	CHECK(pfx("0.0.0.0/0").contains(pfx("192.0.2.1")));
	CHECK(!pfx("0.0.0.0/0").contains(pfx("::1")));
	CHECK(pfx("::/0").contains(pfx("2001:db8::1")));
	CHECK(pfx("2001:db8::/32").contains(pfx("2001:db8:ffff::/48")));
	CHECK(!pfx("2001:db8::/32").contains(pfx("2001:db9::/48")));
	CHECK(pfx("10.0.0.0/9").contains(pfx("10.127.0.0/16")));
	CHECK(!pfx("10.0.0.0/9").contains(pfx("10.128.0.0/16")));
}

TEST_CASE("names and numbers")
{
	CHECK(std::string(chain_name(Chain::input)) == "input");
	CHECK(std::string(chain_name(Chain::forward)) == "forward");
	CHECK(std::string(action_name(Action::accept)) == "accept");
	CHECK(std::string(action_name(Action::drop)) == "drop");
	CHECK(std::string(action_name(Action::reject)) == "reject");

	struct {
		const char *name;
		uint8_t number;
		bool ports;
	} protos[] = {{"tcp", 6, true},  {"udp", 17, true},  {"icmp", 1, false},  {"esp", 50, false},
		      {"ah", 51, false}, {"gre", 47, false}, {"sctp", 132, true}, {"icmpv6", 58, false}};
	for (const auto &p : protos) {
		CAPTURE(p.name);
		CHECK(proto_from_name(p.name) == p.number);
		CHECK(proto_name(p.number) == p.name);
		CHECK(proto_has_ports(p.number) == p.ports);
	}
	CHECK(proto_name(99) == "99");
	CHECK(!proto_from_name("6"));
	CHECK(!proto_from_name("TCP"));
	CHECK(!proto_from_name(""));

	uint8_t v4[4] = {192, 0, 2, 1};
	CHECK(addr_str(4, v4) == "192.0.2.1");

	CHECK(LogConfig{1, "second", 5}.interval_ns() == 1'000'000'000ull);
	CHECK(LogConfig{4, "second", 5}.interval_ns() == 250'000'000ull);
	CHECK(LogConfig{60, "minute", 5}.interval_ns() == 1'000'000'000ull);
	CHECK(LogConfig{1, "hour", 5}.interval_ns() == 3600'000'000'000ull);

	CHECK(interface_exists_in_netns("lo"));
	CHECK(!interface_exists_in_netns("fw-no-such0"));
}

// Found by the fuzzer (tests/fuzz): nlohmann throws out_of_range, not
// parse_error, for a number no double holds; it used to escape the checker
// (fwctl: exit 1 with a raw exception text instead of exit 2).
TEST_CASE("a number too large for a double is a JSON error with its place")
{
	auto r = check("{\n  \"version\": 1,\n  \"input\": [{\"action\": \"accept\", \"dport\": 1e999}]\n}");
	REQUIRE(r.errors.size() == 1);
	CHECK(!r.ruleset);
	CHECK(r.errors[0].line == 3);
	CHECK(r.errors[0].column == 43);
	CHECK(r.errors[0].message == "not valid JSON: the number 1e999 is too large");
	CHECK(check("99999999949E9991999999999999999999999999").errors.size() == 1);
}
