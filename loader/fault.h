// Test hook: FWCTL_TEST_FAULT=POINT makes apply throw a SystemError at that
// point, FWCTL_TEST_FAULT=kill:POINT makes the process SIGKILL itself there
// (docs/reliability.md lists the points). Unset: does nothing.
#pragma once

namespace fw {

void fault_point(const char *point);

} // namespace fw
