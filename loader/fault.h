// Test hook: FWCTL_TEST_FAULT=POINT makes apply throw a SystemError at that
// point, FWCTL_TEST_FAULT=kill:POINT makes the process SIGKILL itself there,
// FWCTL_TEST_FAULT=stop:POINT stops it there (SIGSTOP) until SIGCONT, so that
// a test can change the machine at that instant (docs/reliability.md lists
// the points). Unset: does nothing.
#pragma once

namespace fw {

void fault_point(const char *point);

} // namespace fw
