#include "bpf_load_log.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <sys/utsname.h>
#include <vector>

#include <bpf/libbpf.h>

namespace fw {
namespace {

std::string g_log;
std::mutex g_log_mutex; // programs load on several threads (load.cpp)
libbpf_print_fn_t g_previous = nullptr;

int capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	// One call carries a whole verifier log (MiBs): size it first.
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(nullptr, 0, fmt, ap);
	if (n > 0) {
		std::string buf((size_t)n + 1, '\0');
		vsnprintf(buf.data(), buf.size(), fmt, again);
		buf.resize((size_t)n);
		std::lock_guard<std::mutex> lock(g_log_mutex);
		g_log += buf;
	}
	va_end(again);
	return n;
}

} // namespace

LibbpfLogCapture::LibbpfLogCapture()
{
	g_log.clear();
	g_previous = libbpf_set_print(capture);
}

LibbpfLogCapture::~LibbpfLogCapture() { libbpf_set_print(g_previous); }

const std::string &LibbpfLogCapture::text() const { return g_log; }

std::string verifier_rejection(const std::string &log, int lines)
{
	// libbpf frames it: "libbpf: prog 'NAME': -- BEGIN PROG LOAD LOG --" ... "-- END PROG LOAD LOG --"
	const std::string begin = "-- BEGIN PROG LOAD LOG --", end = "-- END PROG LOAD LOG --";
	size_t b = log.find(begin);
	if (b == std::string::npos)
		return "";
	std::string prog = "?";
	size_t q = log.rfind("prog '", b);
	if (q != std::string::npos) {
		size_t e = log.find('\'', q + 6);
		if (e != std::string::npos)
			prog = log.substr(q + 6, e - q - 6);
	}
	size_t body = log.find('\n', b);
	size_t stop = log.find(end, b);
	std::vector<std::string> all;
	std::istringstream in(log.substr(body + 1, (stop == std::string::npos ? log.size() : stop) - body - 1));
	for (std::string l; std::getline(in, l);)
		if (!l.empty())
			all.push_back(l);
	struct utsname u {};
	uname(&u);
	std::string out = "the kernel's BPF verifier rejected program '" + prog + "' (Linux " + u.release +
			  "); its last lines:";
	for (size_t i = all.size() > (size_t)lines ? all.size() - lines : 0; i < all.size(); i++)
		out += "\n  " + all[i];
	return out;
}

} // namespace fw
