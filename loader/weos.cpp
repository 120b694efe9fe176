// WeOS `ip firewall` commands <-> ruleset model. The accepted syntax and the
// choices made where WeOS and fwctl differ are in docs/weos.md.
#include "weos.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>

namespace fw {
namespace {

// Where a command stands in the WeOS CLI tree. `unframed` is a script that
// has not (yet) said `configure`: its firewall commands are taken as they are.
enum class Ctx { unframed, top, config, ip, firewall, other };

Ctx ctx_from_path(std::string path)
{
	while (path.size() > 1 && path.back() == '/')
		path.pop_back();
	if (path == "/")
		return Ctx::top;
	if (path == "/config")
		return Ctx::config;
	if (path == "/config/ip")
		return Ctx::ip;
	if (path == "/config/ip/firewall")
		return Ctx::firewall;
	return Ctx::other;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// A prompt as WeOS prints it, HOST:/PATH/#>, found as the regular expression
// \S+:(/[^\s#]*)#> would find it (leftmost, greedy host) but without <regex>.
// That is the brief's \S+:/[^#]*#> with no white space in the path, so that a
// prompt never swallows the text before it.
struct Prompt {
	size_t begin, end; // [begin, end) in the line
	std::string path;  // "/config/ip/firewall/"
};

std::vector<Prompt> find_prompts(std::string_view l)
{
	std::vector<Prompt> out;
	size_t from = 0;
	for (size_t h = l.find("#>"); h != std::string_view::npos; h = l.find("#>", h + 1)) {
		if (h < from)
			continue;
		size_t p0 = h; // the path and the colon are [^\s#]
		while (p0 > from && !is_space(l[p0 - 1]) && l[p0 - 1] != '#')
			p0--;
		size_t colon = std::string_view::npos;
		for (size_t i = h; i-- > p0;)
			if (l[i] == ':' && i + 1 < h && l[i + 1] == '/' && i > from && !is_space(l[i - 1])) {
				colon = i;
				break;
			}
		if (colon == std::string_view::npos)
			continue;
		size_t b = colon;
		while (b > from && !is_space(l[b - 1]))
			b--;
		out.push_back({b, h + 2, std::string(l.substr(colon + 1, h - colon - 1))});
		from = h + 2;
	}
	return out;
}

struct Token {
	std::string text;
	size_t pos = 0; // byte offset in the line
	bool quoted = false;
};

// A problem with one command, at a byte offset of its line.
struct CmdError {
	size_t pos;
	std::string message;
};

// Splits one command (a line, or the text after a prompt) into words and
// "quoted strings" (backslash escapes the next character). Lazy, so that the
// device output after a command is never tokenized.
class Lexer {
public:
	Lexer(std::string_view line, size_t begin, size_t end) : line_(line), pos_(begin), end_(end) {}

	std::optional<Token> next()
	{
		skip_space();
		if (pos_ >= end_)
			return std::nullopt;
		Token t;
		t.pos = pos_;
		if (line_[pos_] != '"') {
			while (pos_ < end_ && !is_space(line_[pos_]))
				t.text += line_[pos_++];
			return t;
		}
		t.quoted = true;
		pos_++;
		for (;;) {
			if (pos_ >= end_)
				throw CmdError{t.pos, "this string has no closing quote (\")"};
			char c = line_[pos_++];
			if (c == '"')
				break;
			if (c == '\\' && pos_ < end_) {
				c = line_[pos_++];
				c = c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
			}
			t.text += c;
		}
		if (pos_ < end_ && !is_space(line_[pos_]))
			throw CmdError{pos_, "put a space after the closing quote of a string"};
		return t;
	}

	bool at_end()
	{
		skip_space();
		return pos_ >= end_;
	}
	size_t pos() const { return pos_; }

private:
	void skip_space()
	{
		while (pos_ < end_ && is_space(line_[pos_]))
			pos_++;
	}
	std::string_view line_;
	size_t pos_, end_;
};

std::string quote(const std::string &s) { return "`" + s + "`"; }

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

// Keyword/value pairs in any order, each keyword at most once (except the
// ones listed in `repeatable`).
class Words {
public:
	Words(Lexer &lx, std::string what) : lx_(lx), what_(std::move(what)) {}

	// The next keyword, or nullopt at the end of the command.
	std::optional<Token> keyword(const std::vector<std::string> &allowed, const std::vector<std::string> &repeatable = {})
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

	Token value(const Token &kw)
	{
		auto v = lx_.next();
		if (!v)
			throw CmdError{kw.pos, quote(kw.text) + " needs a value: " + value_hint(kw.text)};
		return *v;
	}

	std::optional<size_t> seen(const std::string &kw) const
	{
		auto it = seen_.find(kw);
		return it == seen_.end() ? std::nullopt : std::optional<size_t>(it->second);
	}

private:
	Lexer &lx_;
	std::string what_;
	std::map<std::string, size_t> seen_;
};

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

class Importer {
public:
	CheckResult run(const std::string &text)
	{
		std::vector<std::string_view> lines;
		std::string_view all(text);
		for (size_t start = 0; start <= all.size();) {
			size_t nl = all.find('\n', start);
			if (nl == std::string_view::npos)
				nl = all.size();
			std::string_view l = all.substr(start, nl - start);
			if (!l.empty() && l.back() == '\r')
				l.remove_suffix(1);
			lines.push_back(l);
			start = nl + 1;
		}
		for (auto l : lines)
			if (!find_prompts(l).empty())
				session_ = true;

		for (size_t i = 0; i < lines.size(); i++) {
			line_ = lines[i];
			lineno_ = int(i) + 1;
			if (session_)
				session_line();
			else
				script_line();
		}
		CheckResult res;
		res.errors = std::move(errors_);
		if (res.errors.empty())
			res.ruleset = std::move(rs_);
		return res;
	}

private:
	void error(size_t pos, const std::string &message)
	{
		CheckError e;
		e.pointer = "";
		e.message = message;
		e.line = lineno_;
		e.column = 1;
		for (size_t i = 0; i < pos && i < line_.size(); i++)
			if ((static_cast<unsigned char>(line_[i]) & 0xC0) != 0x80)
				e.column++;
		errors_.push_back(std::move(e));
	}

	// A line of a script: one command, or nothing.
	void script_line()
	{
		size_t b = 0;
		while (b < line_.size() && is_space(line_[b]))
			b++;
		std::string_view rest = line_.substr(b);
		if (rest.empty() || rest[0] == '#' || rest[0] == '!')
			return;
		// What `leave` prints, when copied along with the commands.
		if (rest.starts_with("Configuration activated."))
			return;
		run_command(b, line_.size(), false);
	}

	// A line of a pasted session: device output, then a command after each
	// prompt.
	void session_line()
	{
		std::vector<std::pair<size_t, size_t>> cmds; // [begin, end) after each prompt
		std::vector<Ctx> ctxs;
		size_t first = line_.size();
		for (const Prompt &p : find_prompts(line_)) {
			if (cmds.empty())
				first = p.begin;
			else
				cmds.back().second = p.begin;
			cmds.push_back({p.end, line_.size()});
			ctxs.push_back(ctx_from_path(p.path));
		}
		// Text before the first prompt is what the previous command printed.
		// A run of such lines that cannot be output is reported once.
		for (size_t i = 0; i < first; i++) {
			if (is_space(line_[i]))
				continue;
			if (!output_ok_ && !stray_reported_) {
				if (last_cmd_.empty())
					error(i, "this text follows no prompt, and no command printed it: in a pasted "
						 "session (this text has prompts such as fw:/config/ip/firewall/#>) every "
						 "command follows a prompt; remove the text or add the prompt");
				else
					error(i, "this text follows no prompt, after " + quote(last_cmd_) +
							 ", which prints nothing when it works: it may be the device refusing "
							 "that command; remove the text, or add the prompt if it is a command");
				stray_reported_ = true;
			}
			break;
		}
		for (size_t i = 0; i < cmds.size(); i++) {
			ctx_ = ctxs[i];
			run_command(cmds[i].first, cmds[i].second, true);
		}
	}

	void run_command(size_t begin, size_t end, bool after_prompt)
	{
		Lexer lx(line_, begin, end);
		stray_reported_ = false;
		try {
			command(lx, after_prompt);
		} catch (const CmdError &e) {
			error(e.pos, e.message);
			output_ok_ = false;
		}
	}

	void expect_end(Lexer &lx, const std::string &cmd)
	{
		if (auto t = lx.next())
			throw CmdError{t->pos, quote(t->text) + " is not understood after " + quote(cmd) +
						       ", which takes nothing more"};
	}

	void command(Lexer &lx, bool after_prompt)
	{
		auto first = lx.next();
		output_ok_ = false;
		if (!first) {
			last_cmd_.clear();
			return; // a prompt with nothing typed after it
		}
		const Token &t = *first;
		const std::string &w = t.text;
		last_cmd_ = w;
		if (t.quoted)
			throw CmdError{t.pos, "a command starts with a word, not a string"};

		if (w == "configure") {
			expect_end(lx, w);
			ctx_ = Ctx::config;
		} else if (w == "ip") {
			auto n = lx.next();
			if (n && n->text != "firewall")
				throw CmdError{n->pos, quote("ip " + n->text) + " is not supported: only the " +
							       quote("ip firewall") + " context is"};
			if (n) {
				last_cmd_ = "ip firewall";
				expect_end(lx, last_cmd_);
				ctx_ = Ctx::firewall;
			} else {
				ctx_ = Ctx::ip;
			}
		} else if (w == "firewall") {
			expect_end(lx, w);
			ctx_ = Ctx::firewall;
		} else if (w == "end") {
			expect_end(lx, w);
			ctx_ = ctx_ == Ctx::firewall ? Ctx::ip : ctx_ == Ctx::ip ? Ctx::config : Ctx::top;
		} else if (w == "leave") {
			// In a session, `leave` prints "Configuration activated. ...",
			// which a web page may have joined to the command's line.
			if (!after_prompt)
				expect_end(lx, w);
			ctx_ = Ctx::top;
			output_ok_ = true;
		} else if (w == "show" || w == "copy" || w == "ping" || w == "traceroute") {
			// Read-only or not about the ruleset: skipped, with whatever the
			// device printed after them (in a session, on the same line too).
			output_ok_ = true;
		} else if (w == "abort") {
			throw CmdError{t.pos, quote("abort") + " throws the session's changes away; remove it together "
							       "with the commands it cancels"};
		} else if (w == "input" || w == "forward" || w == "policy" || w == "nat" || w == "port-forward" ||
			   w == "log" || w == "interfaces" || w == "fastpath" || w == "conntrack") {
			if (ctx_ != Ctx::firewall && ctx_ != Ctx::unframed)
				throw CmdError{t.pos, quote(w) + " is a command of the " + quote("ip firewall") +
							      " context (fw:/config/ip/firewall/#>): enter it with " +
							      quote("configure") + " and " + quote("ip firewall") + " first"};
			firewall_command(lx, t);
		} else {
			throw CmdError{t.pos, quote(w) + " is not a command fwctl imports; expected input, forward, "
							  "policy, nat, port-forward, log, interfaces, fastpath, conntrack, or configure, ip "
							  "firewall, end, leave (show, copy, ping and traceroute are skipped)"};
		}
	}

	void firewall_command(Lexer &lx, const Token &t)
	{
		const std::string &w = t.text;
		if (w == "input" || w == "forward")
			rule(lx, t, w == "input" ? Chain::input : Chain::forward);
		else if (w == "policy")
			policy(lx, t);
		else if (w == "nat")
			nat(lx, t);
		else if (w == "port-forward")
			port_forward(lx, t);
		else if (w == "log")
			log(lx, t);
		else if (w == "fastpath") {
			// On by default; "fastpath off" turns it off.
			auto v = lx.next();
			if (v && v->text != "on" && v->text != "off")
				throw CmdError{v->pos, quote(v->text) + " is not understood after " +
							       quote(w) + ": on or off"};
			expect_end(lx, w);
			rs_.fastpath = !v || v->text == "on";
		} else if (w == "conntrack")
			conntrack(lx, t);
		else
			interfaces(lx);
	}

	void set_policy(Lexer &lx, Chain chain, const Token &after)
	{
		auto v = lx.next();
		if (!v)
			throw CmdError{after.pos, "the policy needs a value: accept or drop"};
		auto a = action_from(v->text);
		if (!a || *a == Action::reject)
			throw CmdError{v->pos, quote(v->text) + " is not a policy: accept or drop"};
		(chain == Chain::input ? rs_.policy_input : rs_.policy_forward) = *a;
		expect_end(lx, std::string(chain_name_of(chain)) + " policy " + v->text);
	}

	static const char *chain_name_of(Chain c) { return c == Chain::input ? "input" : "forward"; }

	// `policy input drop`, `policy forward accept`.
	void policy(Lexer &lx, const Token &t)
	{
		auto c = lx.next();
		if (!c || (c->text != "input" && c->text != "forward"))
			throw CmdError{c ? c->pos : t.pos, "a policy names its chain, as WeOS sets the two separately: " +
								   quote("input policy drop") + " or " +
								   quote("forward policy drop")};
		set_policy(lx, c->text == "input" ? Chain::input : Chain::forward, *c);
	}

	// CHAIN ACTION [in IF] [out IF] [saddr P] [daddr P] [sport P] [dport P]
	// [proto P] [log] [comment S], the words after ACTION in any order;
	// or CHAIN policy accept|drop.
	void rule(Lexer &lx, const Token &t, Chain chain)
	{
		const std::string &cw = t.text;
		auto a = lx.next();
		if (!a)
			throw CmdError{t.pos, quote(cw) + " needs an action: " + quote(cw + " accept") + ", drop or reject, or " +
						      quote(cw + " policy drop")};
		if (a->text == "policy" && !a->quoted)
			return set_policy(lx, chain, *a);
		auto act = action_from(a->text);
		if (!act)
			throw CmdError{a->pos, quote(a->text) + " is not an action: accept, drop or reject (or " +
						       quote(cw + " policy accept|drop") + ")"};
		Rule r;
		r.action = *act;
		Words words(lx, chain == Chain::input ? "an input rule" : "a forward rule");
		std::vector<std::string> allowed = {"in", "out", "saddr", "daddr", "sport", "dport", "proto", "log", "comment"};
		while (auto k = words.keyword(allowed)) {
			const std::string &kw = k->text;
			if (kw == "log") {
				r.log = true;
				continue;
			}
			Token v = words.value(*k);
			if (kw == "in")
				r.in = v.text;
			else if (kw == "out") {
				if (chain == Chain::input)
					throw CmdError{k->pos, quote("out") + " is only valid in the forward chain: an input "
									   "packet leaves by no interface"};
				r.out = v.text;
			} else if (kw == "saddr")
				r.saddr = parse_prefix(v);
			else if (kw == "daddr") {
				r.daddr = parse_prefix(v);
			} else if (kw == "sport")
				r.sport = parse_ports(v);
			else if (kw == "dport")
				r.dport = parse_ports(v);
			else if (kw == "proto")
				r.proto = parse_proto(v);
			else
				r.comment = parse_comment(v);
		}
		if (r.saddr && r.daddr && r.saddr->family != r.daddr->family)
			throw CmdError{*words.seen("daddr"), "saddr is IPv" + std::to_string(r.saddr->family) +
								    " and daddr IPv" + std::to_string(r.daddr->family) +
								    ": one rule is one address family"};
		for (const char *p : {"sport", "dport"})
			if (auto pos = words.seen(p); pos && (!r.proto || !proto_has_ports(*r.proto)))
				throw CmdError{*pos, quote(p) + " needs " + quote("proto tcp") + ", " + quote("proto udp") +
							     " or " + quote("proto sctp") + (r.proto ? ": " + proto_name(*r.proto) + " has no ports" : "")};
		(chain == Chain::input ? rs_.input : rs_.forward).push_back(std::move(r));
	}

	// nat out IF [saddr P] [to A] [exempt P]...
	void nat(Lexer &lx, const Token &t)
	{
		NatRule n;
		Words words(lx, "a nat rule");
		while (auto k = words.keyword({"out", "saddr", "to", "exempt"}, {"exempt"})) {
			Token v = words.value(*k);
			if (k->text == "out")
				n.out = v.text;
			else if (k->text == "saddr")
				n.saddr = parse_ipv4_prefix(*k, v);
			else if (k->text == "to")
				n.to = parse_ipv4_host(*k, v);
			else
				n.exempt.push_back(parse_ipv4_prefix(*k, v));
		}
		if (!words.seen("out"))
			throw CmdError{t.pos, quote("nat") + " needs the interface to masquerade on: " + quote("nat out vlan2")};
		rs_.nat.push_back(std::move(n));
	}

	// port-forward in IF [daddr A] to-daddr A [to-dport N] [dport P] proto P [comment S]
	void port_forward(Lexer &lx, const Token &t)
	{
		PortForward f;
		Words words(lx, "a port-forward");
		while (auto k = words.keyword({"in", "daddr", "to-daddr", "to-dport", "dport", "proto", "comment"})) {
			Token v = words.value(*k);
			const std::string &kw = k->text;
			if (kw == "in")
				f.in = v.text;
			else if (kw == "daddr")
				f.daddr = parse_ipv4_host(*k, v);
			else if (kw == "to-daddr")
				f.to_daddr = parse_ipv4_host(*k, v);
			else if (kw == "to-dport")
				f.to_dport = parse_port(v.text, v.pos);
			else if (kw == "dport")
				f.dport = parse_ports(v);
			else if (kw == "proto")
				f.proto = parse_proto(v);
			else
				f.comment = parse_comment(v);
		}
		for (const char *need : {"in", "to-daddr", "proto"})
			if (!words.seen(need))
				throw CmdError{t.pos, quote("port-forward") + " needs " + quote(need) + ", as in " +
							      quote("port-forward in vlan2 to-daddr 192.168.1.2 dport 500 proto udp")};
		bool ports = proto_has_ports(f.proto);
		if (ports && !f.dport)
			throw CmdError{t.pos, "a port-forward of " + proto_name(f.proto) + " needs " + quote("dport") +
						      " (the port to forward)"};
		for (const char *p : {"dport", "to-dport"})
			if (auto pos = words.seen(p); pos && !ports)
				throw CmdError{*pos, quote(p) + " is only for tcp, udp and sctp: a port-forward of " +
							     proto_name(f.proto) + " forwards the whole protocol"};
		rs_.port_forward.push_back(std::move(f));
	}

	// log [limit N/second|minute|hour] [burst N]
	void log(Lexer &lx, const Token &t)
	{
		Words words(lx, "the log command");
		LogConfig cfg = rs_.log;
		while (auto k = words.keyword({"limit", "burst"})) {
			Token v = words.value(*k);
			if (k->text == "burst") {
				auto b = parse_uint(v.text);
				if (!b || *b < 1 || *b > UINT32_MAX)
					throw CmdError{v.pos, quote(v.text) + " is not a burst: a number of events, at least 1"};
				cfg.burst = uint32_t(*b);
				continue;
			}
			auto slash = v.text.find('/');
			auto n = parse_uint(v.text.substr(0, slash));
			std::string unit = slash == std::string::npos ? "" : v.text.substr(slash + 1);
			if (!n || *n < 1 || *n > UINT32_MAX || (unit != "second" && unit != "minute" && unit != "hour"))
				throw CmdError{v.pos, quote(v.text) + " is not a log limit: N/second, N/minute or N/hour "
								      "with N at least 1, e.g. 100/minute"};
			cfg.rate = uint32_t(*n);
			cfg.unit = unit;
		}
		if (!words.seen("limit") && !words.seen("burst"))
			throw CmdError{t.pos, quote("log") + " needs a limit, e.g. " + quote("log limit 100/minute") +
						      " (to log a rule's matches, add " + quote("log") + " to the rule)"};
		rs_.log = cfg;
		rs_.log_set = true;
	}

	// conntrack max-connections N (an fwctl addition: the table's size)
	void conntrack(Lexer &lx, const Token &t)
	{
		Words words(lx, "the conntrack command");
		while (auto k = words.keyword({"max-connections"})) {
			Token v = words.value(*k);
			auto n = parse_uint(v.text);
			if (!n || *n < CT_MIN_CONNECTIONS || *n > CT_MAX_CONNECTIONS)
				throw CmdError{v.pos, quote(v.text) + " is not a connection table size: a number of "
								      "connections, " + std::to_string(CT_MIN_CONNECTIONS) +
							  "-" + std::to_string(CT_MAX_CONNECTIONS)};
			rs_.ct_max_connections = uint32_t(*n);
		}
		if (!words.seen("max-connections"))
			throw CmdError{t.pos, quote("conntrack") + " needs max-connections, e.g. " +
						      quote("conntrack max-connections 1000000")};
	}

	// interfaces IF... (an fwctl addition: where the firewall attaches)
	void interfaces(Lexer &lx)
	{
		if (!rs_.interfaces)
			rs_.interfaces.emplace();
		while (auto v = lx.next())
			rs_.interfaces->push_back(v->text);
	}

	Ruleset rs_;
	std::vector<CheckError> errors_;
	std::string_view line_;
	int lineno_ = 0;
	bool session_ = false;
	Ctx ctx_ = Ctx::unframed;
	bool output_ok_ = false;
	bool stray_reported_ = false;
	std::string last_cmd_;
};

// A word as the importer reads it back: quoted when it would not be one word,
// or when it holds a prompt-like "#>" (the importer splits sessions there
// before it looks at quotes; "#\>" reads back as "#>").
std::string weos_word(const std::string &s, bool always_quote = false)
{
	bool plain = !always_quote && !s.empty() && s[0] != '"' && s.find("#>") == std::string::npos;
	for (char c : s)
		if (is_space(c) || c == '\n')
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

CheckResult weos_import(const std::string &text) { return Importer().run(text); }

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
