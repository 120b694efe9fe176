// Test hook: FWCTL_TEST_FAULT=POINT makes apply throw a SystemError at that
// point, FWCTL_TEST_FAULT=kill:POINT makes the process SIGKILL itself there
// (docs/reliability.md lists the points). Compiled in only with
// FW_TEST_HOOKS (CMake option, off for Release builds and packages);
// otherwise fault_point is an empty inline function.
#pragma once

namespace fw {

#ifdef FW_TEST_HOOKS
void fault_point(const char *point);
#else
inline void fault_point(const char *) {}
#endif

} // namespace fw
