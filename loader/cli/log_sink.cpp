// Formats of a log event: text, JSON, and the journal entry with fields.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <dlfcn.h>
#include <sys/uio.h>
#include <syslog.h>
#include <vector>

#include <nlohmann/json.hpp>
#include <systemd/sd-journal.h>

#include "log_sink.h"
#include "util.h"

namespace fw::cli {

namespace {

// libsystemd is opened when the first event goes to the journal, not
// linked: it brings six more libraries (libgcrypt, liblz4, ...) that every
// start of fwctl paid the dynamic linker for, twice per apply, and only
// `fwctl log --journal` uses it. NULL without libsystemd (the caller says
// so once).
decltype(&sd_journal_sendv) journal_sendv()
{
	static auto fn = []() -> decltype(&sd_journal_sendv) {
		void *lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
		return lib ? (decltype(&sd_journal_sendv))dlsym(lib, "sd_journal_sendv") : nullptr;
	}();
	return fn;
}

} // namespace

std::string log_text_line(const LogRecord &r)
{
	std::string line = r.time + " " + r.chain + " " + std::to_string(r.position);
	if (!r.comment.empty())
		line += " \"" + escape_text(r.comment) + "\"";
	line += " " + r.verdict + " in=" + r.in;
	if (!r.out.empty())
		line += " out=" + r.out;
	line += " src=" + r.src + " dst=" + r.dst + " proto=" + r.proto;
	if (r.has_ports)
		line += " sport=" + std::to_string(r.sport) + " dport=" + std::to_string(r.dport);
	return line + " len=" + std::to_string(r.len);
}

std::string log_json_line(const LogRecord &r)
{
	nlohmann::json j = {{"time", r.time}, {"chain", r.chain}, {"position", r.position},
			    {"comment", r.comment}, {"in", r.in}};
	if (!r.out.empty())
		j["out"] = r.out;
	j["src"] = r.src;
	j["dst"] = r.dst;
	if (r.proto_is_number)
		j["proto"] = std::stoi(r.proto);
	else
		j["proto"] = r.proto;
	if (r.has_ports) {
		j["sport"] = r.sport;
		j["dport"] = r.dport;
	}
	j["verdict"] = r.verdict;
	j["len"] = r.len;
	return j.dump();
}

std::string log_journal_message(const LogRecord &r)
{
	std::string proto = r.proto;
	std::transform(proto.begin(), proto.end(), proto.begin(), [](unsigned char c) { return std::toupper(c); });
	std::string m = "fwctl " + r.chain + " " + std::to_string(r.position);
	if (!r.comment.empty())
		m += " \"" + r.comment + "\"";
	m += " " + r.verdict + ": IN=" + r.in + " OUT=" + r.out + " SRC=" + r.src + " DST=" + r.dst +
	     " LEN=" + std::to_string(r.len) + " PROTO=" + proto;
	if (r.has_ports)
		m += " SPT=" + std::to_string(r.sport) + " DPT=" + std::to_string(r.dport);
	return m;
}

int log_journal_send(const LogRecord &r, const std::string &pin_dir)
{
	// Drops and rejects at "warning" (nftables' log default level), accepts
	// that a rule logs at "info".
	int priority = r.verdict == "accept" ? LOG_INFO : LOG_WARNING;
	std::vector<std::string> f = {
		"MESSAGE=" + log_journal_message(r),
		"PRIORITY=" + std::to_string(priority),
		"SYSLOG_IDENTIFIER=fwctl",
		"FWCTL_CHAIN=" + r.chain,
		"FWCTL_RULE=" + std::to_string(r.position),
		"FWCTL_ACTION=" + r.verdict,
		"FWCTL_IN=" + r.in,
		"FWCTL_SRC=" + r.src,
		"FWCTL_DST=" + r.dst,
		"FWCTL_PROTO=" + r.proto,
		"FWCTL_LEN=" + std::to_string(r.len),
		"FWCTL_TIME=" + r.time, // when the datapath saw it; the journal stamps reception
		"FWCTL_PIN_DIR=" + pin_dir,
	};
	if (!r.out.empty())
		f.push_back("FWCTL_OUT=" + r.out);
	if (!r.comment.empty())
		f.push_back("FWCTL_COMMENT=" + r.comment);
	if (r.has_ports) {
		f.push_back("FWCTL_SPORT=" + std::to_string(r.sport));
		f.push_back("FWCTL_DPORT=" + std::to_string(r.dport));
	}
	std::vector<struct iovec> iov;
	for (auto &s : f) // a value with a newline (a comment may hold one) is framed by sd_journal_sendv
		iov.push_back({(void *)s.data(), s.size()});
	auto send = journal_sendv();
	return send ? send(iov.data(), (int)iov.size()) : -ENOSYS;
}

} // namespace fw::cli
