#include "util.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <unistd.h>

#include "errors.h"

namespace fw {

uint64_t fnv1a64(const void *data, size_t len)
{
	const auto *b = static_cast<const uint8_t *>(data);
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

std::string hash_hex(const std::string &text)
{
	char buf[17];
	snprintf(buf, sizeof buf, "%016llx", (unsigned long long)fnv1a64(text.data(), text.size()));
	return buf;
}

uint64_t realtime_ns()
{
	return (uint64_t)std::chrono::duration_cast<std::chrono::nanoseconds>(
		       std::chrono::system_clock::now().time_since_epoch())
		.count();
}

std::string iso_time_utc(uint64_t ns)
{
	time_t secs = (time_t)(ns / 1000000000ull);
	struct tm tm {};
	gmtime_r(&secs, &tm);
	char buf[64];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	char out[80];
	snprintf(out, sizeof out, "%s.%03uZ", buf, (unsigned)((ns / 1000000ull) % 1000));
	return out;
}

void require_root()
{
	if (geteuid() != 0)
		throw SystemError("this command changes the kernel and needs root (run it with sudo)");
}

std::string addr_text(int family, const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN] = {};
	inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, buf, sizeof buf);
	return buf;
}

std::string errno_message(const std::string &what, int err)
{
	std::string m = what + ": " + strerror(err);
	if (err == EPERM || err == EACCES)
		m += " (fwctl needs root, or CAP_BPF and CAP_NET_ADMIN)";
	else if (err == ENOMEM || err == E2BIG)
		m += " (a map is full, or the memory limit for BPF was reached)";
	return m;
}

std::string escape_text(const std::string &s)
{
	std::string out;
	out.reserve(s.size());
	for (unsigned char c : s) {
		switch (c) {
		case '\n': out += "\\n"; break;
		case '\r': out += "\\r"; break;
		case '\t': out += "\\t"; break;
		case '"': out += "\\\""; break;
		case '\\': out += "\\\\"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				char buf[8];
				snprintf(buf, sizeof buf, "\\x%02x", c);
				out += buf;
			} else {
				out += (char)c;
			}
		}
	}
	return out;
}

} // namespace fw
