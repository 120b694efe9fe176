// The values of WeOS firewall commands: numbers, ports, protocols,
// addresses, comments, and keyword/value pairs (weos_words.h).
#include "weos_words.h"

#include <algorithm>
#include <map>

namespace fw::weos {

std::optional<uint64_t> parse_uint(const std::string &s)
{
	if (s.empty() || s.size() > 10)
		return std::nullopt;
	uint64_t v = 0;
	for (char c : s) {
		if (c < '0' || c > '9')
			return std::nullopt;
		v = v * 10 + uint64_t(c - '0');
	}
	return v;
}

uint16_t parse_port(const std::string &s, size_t pos)
{
	auto v = parse_uint(s);
	if (!v || *v < 1 || *v > 65535)
		throw CmdError{pos, quote(s) + " is not a port (1-65535)"};
	return uint16_t(*v);
}

// N, N-M or N:M (iptables style), inclusive.
PortRange parse_ports(const Token &t)
{
	auto sep = t.text.find_first_of("-:");
	PortRange r;
	if (sep == std::string::npos) {
		r.lo = r.hi = parse_port(t.text, t.pos);
		return r;
	}
	r.lo = parse_port(t.text.substr(0, sep), t.pos);
	r.hi = parse_port(t.text.substr(sep + 1), t.pos + sep + 1);
	if (r.lo > r.hi)
		throw CmdError{t.pos, quote(t.text) + " is not a port range: write it low-high, e.g. " +
					      std::to_string(r.hi) + "-" + std::to_string(r.lo)};
	return r;
}

uint8_t parse_proto(const Token &t)
{
	if (auto v = parse_uint(t.text)) {
		if (*v > 255)
			throw CmdError{t.pos, quote(t.text) + " is not an IP protocol number (0-255)"};
		return uint8_t(*v);
	}
	std::string lower;
	for (char c : t.text)
		lower += char(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	if (auto p = proto_from_name(lower))
		return *p;
	throw CmdError{t.pos, quote(t.text) + " is not a protocol: use tcp, udp, icmp, esp, ah, gre, sctp, "
					      "icmpv6 or a number 0-255"};
}

Prefix parse_prefix(const Token &t)
{
	std::string why;
	if (auto p = prefix_parse(t.text, &why))
		return *p;
	if (why.empty())
		why = quote(t.text) + " is not an address or prefix";
	throw CmdError{t.pos, why + " (A.B.C.D, A.B.C.D/L or IPv6)"};
}

// An IPv4 host address: NAT and port forwards are IPv4 only.
Prefix parse_ipv4_host(const Token &kw, const Token &t)
{
	Prefix p = parse_prefix(t);
	if (p.family != 4)
		throw CmdError{t.pos, quote(kw.text) + " must be IPv4: NAT and port forwards are IPv4 only"};
	if (p.len != 32)
		throw CmdError{t.pos, quote(kw.text) + " is one address, not a prefix: drop the /" +
					      std::to_string(p.len)};
	return p;
}

Prefix parse_ipv4_prefix(const Token &kw, const Token &t)
{
	Prefix p = parse_prefix(t);
	if (p.family != 4)
		throw CmdError{t.pos, quote(kw.text) + " must be IPv4: NAT is IPv4 only"};
	return p;
}

std::string parse_comment(const Token &t)
{
	if (t.text.size() > 64)
		throw CmdError{t.pos, "a comment is at most 64 bytes; this one has " + std::to_string(t.text.size())};
	return t.text;
}

const char *value_hint(const std::string &kw)
{
	static const std::map<std::string, const char *> hints = {
		{"in", "an interface name, e.g. vlan2"},
		{"out", "an interface name, e.g. vlan2"},
		{"saddr", "an address or prefix, e.g. 10.1.0.0/16"},
		{"daddr", "an address or prefix, e.g. 192.168.1.2"},
		{"sport", "a port or range, e.g. 500 or 1024-65535"},
		{"dport", "a port or range, e.g. 500 or 1024-65535"},
		{"proto", "a protocol, e.g. udp, esp or 50"},
		{"comment", "a string, e.g. \"IKE\""},
		{"to", "an IPv4 address"},
		{"exempt", "a prefix, e.g. 10.2.0.0/16"},
		{"to-daddr", "an IPv4 address, e.g. 192.168.1.2"},
		{"to-dport", "a port"},
		{"limit", "a rate, e.g. 100/minute"},
		{"burst", "a number, e.g. 5"},
		{"max-connections", "a number of connections, e.g. 1000000"},
	};
	auto it = hints.find(kw);
	return it == hints.end() ? "a value" : it->second;
}

std::optional<Token> Words::keyword(const std::vector<std::string> &allowed, const std::vector<std::string> &repeatable)
{
	auto k = lx_.next();
	if (!k)
		return std::nullopt;
	bool known = !k->quoted && std::find(allowed.begin(), allowed.end(), k->text) != allowed.end();
	if (!known) {
		std::string list;
		for (size_t i = 0; i < allowed.size(); i++)
			list += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + allowed[i];
		throw CmdError{k->pos, quote(k->text) + " is not understood in " + what_ + "; expected " + list};
	}
	if (seen_.count(k->text) && std::find(repeatable.begin(), repeatable.end(), k->text) == repeatable.end())
		throw CmdError{k->pos, quote(k->text) + " is given twice in " + what_};
	seen_[k->text] = k->pos;
	return k;
}

std::optional<Action> action_from(const std::string &w)
{
	if (w == "accept")
		return Action::accept;
	if (w == "drop")
		return Action::drop;
	if (w == "reject")
		return Action::reject;
	return std::nullopt;
}

} // namespace fw::weos
