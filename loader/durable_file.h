// Writing a file so that a power cut leaves either the old or the new
// content, and a hostile path cannot redirect the write: `fwctl save`.
#pragma once

#include <string>

namespace fw {

// Creates the missing directories (0755), writes `content` to a new
// temporary name beside `path` (O_EXCL|O_NOFOLLOW, mode 0600: the ruleset
// is the host's security policy), fsyncs it, renames it over `path` and
// fsyncs the directory. A symlink at `path` is replaced, not followed.
// Throws SystemError.
void write_file_durably(const std::string &path, const std::string &content);

} // namespace fw
