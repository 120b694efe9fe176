// Test hook: FWCTL_TEST_FAULT=POINT makes apply throw a SystemError at that
// point, FWCTL_TEST_FAULT=kill:POINT makes the process SIGKILL itself there,
// FWCTL_TEST_FAULT=stop:POINT stops it there (SIGSTOP) until SIGCONT, so that
// a test can change the machine at that instant (docs/reliability.md lists
// the points). Compiled in only with FW_TEST_HOOKS (CMake option, off for
// Release builds and packages); otherwise fault_point is an empty inline
// function.
#pragma once

namespace fw {

#ifdef FW_TEST_HOOKS
void fault_point(const char *point);
#else
inline void fault_point(const char *) {}
#endif

} // namespace fw
