// The WeOS lexer: prompts and words (weos_lex.h).
#include "weos_lex.h"

namespace fw::weos {

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

std::optional<Token> Lexer::next()
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

} // namespace fw::weos
