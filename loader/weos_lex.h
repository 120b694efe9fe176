// Reading WeOS CLI text (weos_import.cpp): where a command stands in the CLI
// tree, the prompts of a pasted session, and the words of one command.
// Internal to the loader.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fw::weos {

// Where a command stands in the WeOS CLI tree. `unframed` is a script that
// has not (yet) said `configure`: its firewall commands are taken as they are.
enum class Ctx { unframed, top, config, ip, firewall, other };

Ctx ctx_from_path(std::string path);

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// A prompt as WeOS prints it, HOST:/PATH/#>, found as the regular expression
// \S+:(/[^\s#]*)#> would find it (leftmost, greedy host) but without <regex>.
// That is the brief's \S+:/[^#]*#> with no white space in the path, so that a
// prompt never swallows the text before it.
struct Prompt {
	size_t begin, end; // [begin, end) in the line
	std::string path;  // "/config/ip/firewall/"
};

std::vector<Prompt> find_prompts(std::string_view l);

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

	std::optional<Token> next();
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

inline std::string quote(const std::string &s) { return "`" + s + "`"; }

} // namespace fw::weos
