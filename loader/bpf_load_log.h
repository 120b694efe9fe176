// What libbpf says while fwctl loads its programs, kept instead of printed,
// so a verifier rejection can be reported as one: the program's name and the
// verifier's last lines, not a bare errno (EACCES would read as "needs root").
#pragma once

#include <string>

namespace fw {

class LibbpfLogCapture {
public:
	LibbpfLogCapture();  // routes libbpf's messages into text()
	~LibbpfLogCapture(); // restores the previous printer
	LibbpfLogCapture(const LibbpfLogCapture &) = delete;
	const std::string &text() const;
};

// When log holds a verifier log: "the kernel's BPF verifier rejected
// program 'P' (Linux R); its last lines:\n..." with the last `lines` lines.
// Empty when the failure was not the verifier's.
std::string verifier_rejection(const std::string &log, int lines = 15);

} // namespace fw
