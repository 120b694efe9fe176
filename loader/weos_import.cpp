// `fwctl import weos`: WeOS `ip firewall` commands, as a script or a pasted
// session with prompts, -> ruleset model. The accepted syntax and the
// choices made where WeOS and fwctl differ are in docs/weos.md.
#include "weos.h"
#include "weos_lex.h"
#include "weos_words.h"

#include <string_view>

namespace fw {
namespace {

using namespace weos;

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

} // namespace

CheckResult weos_import(const std::string &text) { return Importer().run(text); }

} // namespace fw
