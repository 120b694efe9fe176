// Small helpers several parts of fwctl share: content hashing, wall-clock
// time, the root check, addresses as text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fw {

// 64-bit FNV-1a over bytes: a cheap content hash (not cryptographic).
uint64_t fnv1a64(const void *data, size_t len);
// fnv1a64 of the text as 16 hex digits.
std::string hash_hex(const std::string &text);

// CLOCK_REALTIME in nanoseconds, and as ISO 8601 UTC with milliseconds.
uint64_t realtime_ns();
std::string iso_time_utc(uint64_t realtime_ns);

// Throws SystemError unless the process runs as root.
void require_root();

// A comment fit for a terminal or the journal inside double quotes: control
// characters (a newline would forge a second log line, ESC would drive the
// terminal), '"' and '\\' escaped as C does (\n, \t, \x1b, \", \\).
std::string escape_text(const std::string &s);

// An IPv4 (family 4) or IPv6 (family 6) address in network byte order.
std::string addr_text(int family, const uint8_t *addr);

} // namespace fw
