// The ruleset model's small helpers (names, addresses, prefixes) and its
// canonical JSON: what `fwctl show` and `fwctl save` print. The checker in
// ruleset_parse.cpp reads back exactly what this file writes.
#include "ruleset.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <cstring>

namespace fw {

const char *chain_name(Chain c)
{
	switch (c) {
	case Chain::input: return "input";
	case Chain::forward: return "forward";
	}
	return "?";
}

const char *action_name(Action a)
{
	switch (a) {
	case Action::accept: return "accept";
	case Action::drop: return "drop";
	case Action::reject: return "reject";
	}
	return "?";
}

// --- addresses and prefixes --------------------------------------------------

static int family_bits(int family) { return family == 6 ? 128 : 32; }

std::string addr_str(int family, const uint8_t *addr)
{
	// glibc's inet_ntop already writes RFC 5952 text for IPv6: lower case,
	// the longest run of two or more zero groups compressed (the first on a
	// tie), "::ffff:a.b.c.d" for v4-mapped addresses.
	char buf[INET6_ADDRSTRLEN];
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, sizeof(buf)))
		return "?";
	return buf;
}

std::string Prefix::str() const
{
	std::string s = addr_str(family, addr.data());
	if (len != family_bits(family))
		s += "/" + std::to_string(len);
	return s;
}

// Keeps the first len bits of addr, clears the rest.
static void clear_host_bits(std::array<uint8_t, 16> &addr, int len)
{
	for (int i = 0; i < 16; i++) {
		int keep = len - i * 8; // bits of this byte that belong to the network
		if (keep >= 8)
			continue;
		addr[i] = keep <= 0 ? 0 : uint8_t(addr[i] & (0xff << (8 - keep)));
	}
}

bool Prefix::contains(const Prefix &other) const
{
	if (family != other.family || other.len < len)
		return false;
	auto a = addr, b = other.addr;
	clear_host_bits(a, len);
	clear_host_bits(b, len);
	return a == b;
}

std::optional<Prefix> prefix_parse(const std::string &text, std::string *why)
{
	auto fail = [&](std::string msg) -> std::optional<Prefix> {
		if (why)
			*why = std::move(msg);
		return std::nullopt;
	};
	std::string quoted = "\"" + text + "\"";
	if (text.empty())
		return fail("an empty string is not an address; write \"A.B.C.D\", \"A.B.C.D/L\" or an IPv6 address");
	auto slash = text.find('/');
	std::string a = text.substr(0, slash);
	Prefix p;
	p.family = a.find(':') != std::string::npos ? 6 : 4;
	if (inet_pton(p.family == 6 ? AF_INET6 : AF_INET, a.c_str(), p.addr.data()) != 1)
		return fail(quoted + " is not an IPv4 or IPv6 address or prefix; write \"A.B.C.D\", "
				     "\"A.B.C.D/L\" or an IPv6 address such as \"2001:db8::/32\"");
	int max = family_bits(p.family);
	p.len = max;
	if (slash != std::string::npos) {
		std::string l = text.substr(slash + 1);
		bool digits = !l.empty() && l.size() <= 3 &&
			      l.find_first_not_of("0123456789") == std::string::npos;
		int len = digits ? std::stoi(l) : -1;
		if (len < 0 || len > max)
			return fail(quoted + ": \"/" + l + "\" is not a prefix length for IPv" +
				    std::to_string(p.family) + " (0-" + std::to_string(max) + ")");
		p.len = len;
	}
	Prefix net = p;
	clear_host_bits(net.addr, net.len);
	if (net.addr != p.addr)
		return fail(quoted + " has host bits set; did you mean \"" + addr_str(net.family, net.addr.data()) +
			    "/" + std::to_string(net.len) + "\"?");
	return p;
}

std::optional<Prefix> prefix_parse(const std::string &text) { return prefix_parse(text, nullptr); }

// --- protocols, interfaces, log ---------------------------------------------

namespace {
struct ProtoName {
	const char *name;
	uint8_t number;
};
// The order of the spec; the checker lists them in this order too.
constexpr ProtoName proto_names[] = {
	{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"esp", 50},
	{"ah", 51}, {"gre", 47}, {"sctp", 132}, {"icmpv6", 58},
};
} // namespace

std::string proto_name(uint8_t proto)
{
	for (const auto &p : proto_names)
		if (p.number == proto)
			return p.name;
	return std::to_string(proto);
}

std::optional<uint8_t> proto_from_name(const std::string &name)
{
	// Names only: a number is a JSON integer in the format, never a string.
	for (const auto &p : proto_names)
		if (name == p.name)
			return p.number;
	return std::nullopt;
}

bool proto_has_ports(uint8_t proto) { return proto == 6 || proto == 17 || proto == 132; }

bool interface_exists_in_netns(const std::string &name)
{
	return if_nametoindex(name.c_str()) != 0;
}

uint64_t LogConfig::interval_ns() const
{
	if (rate == 0)
		return UINT64_MAX; // never refills; the checker does not allow it
	uint64_t period = unit == "hour" ? 3600'000'000'000ull : unit == "minute" ? 60'000'000'000ull
										   : 1'000'000'000ull;
	return period / rate;
}

uint32_t Ruleset::ct_connections() const { return ct_max_connections.value_or(CT_DEFAULT_CONNECTIONS); }

std::string format_error(const std::string &file, const CheckError &e)
{
	if (e.line > 0)
		return file + ": line " + std::to_string(e.line) + " column " + std::to_string(e.column) + ": " +
		       e.message;
	if (e.pointer.empty())
		return file + ": " + e.message;
	return file + ": " + e.pointer + ": " + e.message;
}

// --- canonical JSON ----------------------------------------------------------

using ojson = nlohmann::ordered_json;

static ojson port_json(const PortRange &p)
{
	if (p.lo == p.hi)
		return p.lo;
	return std::to_string(p.lo) + "-" + std::to_string(p.hi);
}

static ojson proto_json(uint8_t proto)
{
	auto n = proto_name(proto);
	if (proto_from_name(n))
		return n;
	return proto;
}

ojson rule_to_ordered_json(const Rule &r)
{
	ojson j;
	j["action"] = action_name(r.action);
	if (r.in)
		j["in"] = *r.in;
	if (r.out)
		j["out"] = *r.out;
	if (r.saddr)
		j["saddr"] = r.saddr->str();
	if (r.daddr)
		j["daddr"] = r.daddr->str();
	if (r.proto)
		j["proto"] = proto_json(*r.proto);
	if (r.sport)
		j["sport"] = port_json(*r.sport);
	if (r.dport)
		j["dport"] = port_json(*r.dport);
	if (r.log)
		j["log"] = true;
	if (!r.comment.empty())
		j["comment"] = r.comment;
	return j;
}

ojson ruleset_to_ordered_json(const Ruleset &r)
{
	ojson j;
	j["version"] = 1;
	if (r.interfaces)
		j["interfaces"] = *r.interfaces;
	if (!r.fastpath)
		j["fastpath"] = false; // on by default
	if (r.ct_max_connections)
		j["conntrack"] = {{"max-connections", *r.ct_max_connections}};
	j["policy"] = {{"input", action_name(r.policy_input)}, {"forward", action_name(r.policy_forward)}};
	// A ruleset built in code may have a non-default log config without
	// log_set; print it rather than lose it.
	if (r.log_set || r.log != LogConfig{})
		j["log"] = {{"limit", std::to_string(r.log.rate) + "/" + r.log.unit}, {"burst", r.log.burst}};
	for (Chain c : {Chain::input, Chain::forward}) {
		if (r.rules(c).empty())
			continue;
		ojson a = ojson::array();
		for (const auto &rule : r.rules(c))
			a.push_back(rule_to_ordered_json(rule));
		j[chain_name(c)] = std::move(a);
	}
	if (!r.nat.empty()) {
		ojson a = ojson::array();
		for (const auto &n : r.nat) {
			ojson o;
			o["out"] = n.out;
			if (n.saddr)
				o["saddr"] = n.saddr->str();
			if (!n.exempt.empty()) {
				ojson e = ojson::array();
				for (const auto &p : n.exempt)
					e.push_back(p.str());
				o["exempt"] = std::move(e);
			}
			if (n.to)
				o["to"] = n.to->str();
			a.push_back(std::move(o));
		}
		j["nat"] = std::move(a);
	}
	if (!r.port_forward.empty()) {
		ojson a = ojson::array();
		for (const auto &f : r.port_forward) {
			ojson o;
			o["in"] = f.in;
			o["proto"] = proto_json(f.proto);
			if (f.dport)
				o["dport"] = port_json(*f.dport);
			if (f.daddr)
				o["daddr"] = f.daddr->str();
			o["to-daddr"] = f.to_daddr.str();
			if (f.to_dport)
				o["to-dport"] = *f.to_dport;
			if (!f.comment.empty())
				o["comment"] = f.comment;
			a.push_back(std::move(o));
		}
		j["port-forward"] = std::move(a);
	}
	return j;
}

nlohmann::json ruleset_to_json(const Ruleset &r) { return nlohmann::json(ruleset_to_ordered_json(r)); }
nlohmann::json rule_to_json(const Rule &r) { return nlohmann::json(rule_to_ordered_json(r)); }

} // namespace fw
