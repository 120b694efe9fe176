// The two kinds of failure the CLI turns into exit codes (cli.md).
#pragma once

#include <stdexcept>
#include <string>

namespace fw {

// Exit 1: the system refused (not root, no BPF, not a bpffs, kernel error).
struct SystemError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// Exit 1 too: the pins were made by an fwctl of another ABI (fw/abi.h), or
// a pinned map's layout is not the one this build reads. Nothing is read or
// written through them; the message names the way out (docs/ops.md).
struct AbiMismatch : SystemError {
	using SystemError::SystemError;
};

// Exit 2: bad input (file, option, unknown interface). Nothing changed.
struct InputError : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// "what failed: strerror(errno)", with a hint when errno says why.
std::string errno_message(const std::string &what, int err);

} // namespace fw
