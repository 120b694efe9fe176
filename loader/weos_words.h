// The values of WeOS firewall commands (weos_import.cpp): numbers, ports,
// protocols, addresses, comments, and keyword/value pairs. Each throws a
// CmdError that says what would be right. Internal to the loader.
#pragma once

#include "ruleset.h"
#include "weos_lex.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fw::weos {

std::optional<uint64_t> parse_uint(const std::string &s);
uint16_t parse_port(const std::string &s, size_t pos);
// N, N-M or N:M (iptables style), inclusive.
PortRange parse_ports(const Token &t);
uint8_t parse_proto(const Token &t);
Prefix parse_prefix(const Token &t);
// An IPv4 host address: NAT and port forwards are IPv4 only.
Prefix parse_ipv4_host(const Token &kw, const Token &t);
Prefix parse_ipv4_prefix(const Token &kw, const Token &t);
std::string parse_comment(const Token &t);
// What a keyword's value looks like, for a message.
const char *value_hint(const std::string &kw);
std::optional<Action> action_from(const std::string &w);

// Keyword/value pairs in any order, each keyword at most once (except the
// ones listed in `repeatable`).
class Words {
public:
	Words(Lexer &lx, std::string what) : lx_(lx), what_(std::move(what)) {}

	// The next keyword, or nullopt at the end of the command.
	std::optional<Token> keyword(const std::vector<std::string> &allowed,
				     const std::vector<std::string> &repeatable = {});

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

} // namespace fw::weos
