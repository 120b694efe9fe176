// The checker: rules.json text -> Ruleset, or every error in the file.
//
// Each error names its place as a JSON pointer and says what is wrong and
// what would be right (spec/rules-format.md, "Errors"). The checker never
// stops at the first error, and avoids follow-on errors: a key whose value
// is already reported as bad is not reported again by the checks that
// combine keys (family mixes, ports without a protocol, ...).
//
// Defaults where the file says nothing:
//   - policy: "accept" for both chains (the spec);
//   - log: a limit of 10/second with a burst of 5 (LogConfig's defaults).
//     The spec leaves the rate to the project but forbids "unlimited": 10
//     events a second keeps a flood of drops from filling the log while a
//     human reading `fwctl log` still sees every event of a normal test.
//     The burst of 5 is nftables' default;
//   - conntrack: max-connections CT_DEFAULT_CONNECTIONS, the table the
//     datapath is compiled with (fw/abi.h FW_CT_MAX_ENTRIES / 2).
#include "ruleset_check.h"

#include <algorithm>
#include <set>

namespace fw {
namespace {

using rulecheck::Checker;
using rulecheck::ojson;
using rulecheck::ptr_index;
using rulecheck::ptr_key;
using rulecheck::quote;

CheckResult finish(Checker &c, Ruleset r)
{
	CheckResult res;
	res.errors = std::move(c.errors);
	res.absent = std::move(c.absent);
	if (res.errors.empty())
		res.ruleset = std::move(r);
	return res;
}

CheckResult check_ordered(const ojson &doc, const InterfaceExists &exists, std::vector<CheckError> early)
{
	Checker c(exists);
	c.errors = std::move(early);
	Ruleset r;
	c.top(doc, r);
	return finish(c, std::move(r));
}

// Duplicate keys: JSON parsers keep one of the two values silently, so
// {"dport": 22, "dport": 80} would be a rule nobody wrote. A SAX pass of its
// own sees every key; a stack of open containers gives each one its pointer.
// (Not nlohmann's parse callback: its DOM builder rescans the parent array
// at every object's end, quadratic in the number of rules.)
struct DuplicateKeys : nlohmann::json_sax<ojson> {
	struct Frame {
		bool array;
		size_t index = 0;
		std::string key;
		std::set<std::string> keys;
	};
	std::vector<Frame> stack;
	std::vector<CheckError> errors;

	std::string pointer() const
	{
		std::string p;
		for (size_t i = 0; i + 1 < stack.size(); i++)
			p = stack[i].array ? ptr_index(p, stack[i].index) : ptr_key(p, stack[i].key);
		return p;
	}

	bool value_done()
	{
		if (!stack.empty() && stack.back().array)
			stack.back().index++;
		return true;
	}
	bool open(bool array)
	{
		stack.push_back(Frame{array, 0, {}, {}});
		return true;
	}
	bool close()
	{
		if (!stack.empty())
			stack.pop_back();
		return value_done();
	}

	bool null() override { return value_done(); }
	bool boolean(bool) override { return value_done(); }
	bool number_integer(number_integer_t) override { return value_done(); }
	bool number_unsigned(number_unsigned_t) override { return value_done(); }
	bool number_float(number_float_t, const string_t &) override { return value_done(); }
	bool string(string_t &) override { return value_done(); }
	bool binary(binary_t &) override { return value_done(); }
	bool start_object(std::size_t) override { return open(false); }
	bool end_object() override { return close(); }
	bool start_array(std::size_t) override { return open(true); }
	bool end_array() override { return close(); }
	bool key(string_t &k) override
	{
		auto &f = stack.back();
		if (!f.keys.insert(k).second) {
			f.key = k;
			errors.push_back({ptr_key(pointer(), k),
					  "key " + quote(k) + " appears twice in this object; keep one", 0, 0});
		}
		f.key = k;
		return true;
	}
	bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &) override
	{
		return false; // ojson::parse, which runs first, reports it
	}
};

} // namespace

CheckResult ruleset_check_json(const nlohmann::json &doc, const InterfaceExists &exists)
{
	return check_ordered(ojson(doc), exists, {});
}

CheckResult ruleset_check(const std::string &text, const InterfaceExists &exists)
{
	DuplicateKeys dup;
	ojson doc;
	try {
		doc = ojson::parse(text);
	} catch (const ojson::parse_error &e) {
		// e.byte counts the bytes read, the last one being the culprit.
		size_t idx = e.byte ? std::min<size_t>(e.byte - 1, text.size()) : 0;
		CheckError ce;
		ce.line = 1 + int(std::count(text.begin(), text.begin() + idx, '\n'));
		size_t nl = idx == 0 ? std::string::npos : text.rfind('\n', idx - 1);
		size_t line_start = nl == std::string::npos ? 0 : nl + 1;
		ce.column = int(idx - line_start) + 1;
		// what() is "[json.exception.parse_error.101] parse error at line L,
		// column C: syntax error while parsing ..."; keep the part after the
		// position, which the line and column already say.
		std::string m = e.what();
		auto colon = m.find(": ", m.find("parse error"));
		ce.message = colon == std::string::npos ? m : m.substr(colon + 2);
		// Two mistakes JSON makes easy; nlohmann's words do not name them.
		if (ce.message.find("unexpected string literal; expected '}'") != std::string::npos)
			ce.message += " (is a comma missing before it?)";
		else if (ce.message.find("unexpected '}'") != std::string::npos ||
			 ce.message.find("unexpected ']'") != std::string::npos)
			ce.message += " (a comma after the last element?)";
		ce.message = "not valid JSON: " + ce.message;
		CheckResult res;
		res.errors.push_back(std::move(ce));
		return res;
	} catch (const ojson::out_of_range &e) {
		// A number no double holds (406: "number overflow parsing 'N'"),
		// found by the fuzzer: bad input, not a crash. nlohmann gives no
		// position; find the number's text.
		std::string m = e.what(), num;
		auto q = m.find('\'');
		if (q != std::string::npos)
			num = m.substr(q + 1, m.rfind('\'') - q - 1);
		size_t idx = num.empty() ? std::string::npos : text.find(num);
		CheckError ce;
		if (idx == std::string::npos)
			idx = 0;
		ce.line = 1 + int(std::count(text.begin(), text.begin() + idx, '\n'));
		size_t nl = idx == 0 ? std::string::npos : text.rfind('\n', idx - 1);
		ce.column = int(idx - (nl == std::string::npos ? 0 : nl + 1)) + 1;
		ce.message = "not valid JSON: the number " + (num.empty() ? std::string("here") : num) +
			     " is too large";
		CheckResult res;
		res.errors.push_back(std::move(ce));
		return res;
	}
	ojson::sax_parse(text, &dup);
	return check_ordered(doc, exists, std::move(dup.errors));
}

} // namespace fw
