// `fwctl export weos`: ruleset model -> WeOS `ip firewall` commands that
// weos_import reads back to the same ruleset (docs/weos.md).
#include "weos.h"
#include "weos_lex.h"

#include <sstream>

namespace fw {
namespace {

// A word as the importer reads it back: quoted when it would not be one word,
// or when it holds a prompt-like "#>" (the importer splits sessions there
// before it looks at quotes; "#\>" reads back as "#>").
std::string weos_word(const std::string &s, bool always_quote = false)
{
	bool plain = !always_quote && !s.empty() && s[0] != '"' && s.find("#>") == std::string::npos;
	for (char c : s)
		if (weos::is_space(c) || c == '\n')
			plain = false;
	if (plain)
		return s;
	std::string out = "\"";
	for (size_t i = 0; i < s.size(); i++) {
		char c = s[i];
		if (c == '\n' || c == '\r' || c == '\t') {
			out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t";
			continue;
		}
		if (c == '"' || c == '\\' || (c == '>' && i > 0 && s[i - 1] == '#'))
			out += '\\';
		out += c;
	}
	return out + "\"";
}

std::string ports_str(const PortRange &p)
{
	return p.lo == p.hi ? std::to_string(p.lo) : std::to_string(p.lo) + "-" + std::to_string(p.hi);
}

} // namespace

std::string weos_export(const Ruleset &r)
{
	std::ostringstream o;
	o << "configure\nip firewall\n";
	if (r.interfaces) {
		o << "interfaces";
		for (const auto &i : *r.interfaces)
			o << ' ' << weos_word(i);
		o << '\n';
	}
	if (!r.fastpath)
		o << "fastpath off\n"; // on by default
	if (r.ct_max_connections)
		o << "conntrack max-connections " << *r.ct_max_connections << '\n';
	o << "input policy " << action_name(r.policy_input) << '\n';
	o << "forward policy " << action_name(r.policy_forward) << '\n';
	if (r.log_set || r.log != LogConfig{}) {
		o << "log limit " << r.log.rate << '/' << r.log.unit;
		if (r.log.burst != LogConfig{}.burst)
			o << " burst " << r.log.burst;
		o << '\n';
	}
	for (Chain c : {Chain::input, Chain::forward})
		for (const Rule &x : r.rules(c)) {
			o << (c == Chain::input ? "input " : "forward ") << action_name(x.action);
			if (x.in)
				o << " in " << weos_word(*x.in);
			if (x.out)
				o << " out " << weos_word(*x.out);
			if (x.saddr)
				o << " saddr " << x.saddr->str();
			if (x.daddr)
				o << " daddr " << x.daddr->str();
			if (x.sport)
				o << " sport " << ports_str(*x.sport);
			if (x.dport)
				o << " dport " << ports_str(*x.dport);
			if (x.proto)
				o << " proto " << proto_name(*x.proto);
			if (x.log)
				o << " log";
			if (!x.comment.empty())
				o << " comment " << weos_word(x.comment, true);
			o << '\n';
		}
	for (const NatRule &n : r.nat) {
		o << "nat out " << weos_word(n.out);
		if (n.saddr)
			o << " saddr " << n.saddr->str();
		if (n.to)
			o << " to " << n.to->str();
		for (const Prefix &e : n.exempt)
			o << " exempt " << e.str();
		o << '\n';
	}
	for (const PortForward &f : r.port_forward) {
		o << "port-forward in " << weos_word(f.in);
		if (f.daddr)
			o << " daddr " << f.daddr->str();
		o << " to-daddr " << f.to_daddr.str();
		if (f.to_dport)
			o << " to-dport " << *f.to_dport;
		if (f.dport)
			o << " dport " << ports_str(*f.dport);
		o << " proto " << proto_name(f.proto);
		if (!f.comment.empty())
			o << " comment " << weos_word(f.comment, true);
		o << '\n';
	}
	o << "leave\n";
	return o.str();
}

} // namespace fw
