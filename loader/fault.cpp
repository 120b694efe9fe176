#include "fault.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <string>

#include "errors.h"

#ifdef FW_TEST_HOOKS

namespace fw {

void fault_point(const char *point)
{
	static const char *spec = getenv("FWCTL_TEST_FAULT");
	if (!spec || !*spec)
		return;
	std::string s = spec;
	bool kill = s.rfind("kill:", 0) == 0, stop = s.rfind("stop:", 0) == 0;
	if (kill || stop)
		s = s.substr(5);
	if (s != point)
		return;
	if (kill)
		raise(SIGKILL);
	if (stop) { // the test changes the world, then sends SIGCONT
		raise(SIGSTOP);
		return;
	}
	if (s == "write") // as the kernel says it when a map is full
		throw SystemError(errno_message("writing classifier combinations (FWCTL_TEST_FAULT=write)", E2BIG));
	throw SystemError(std::string("injected fault at \"") + point + "\" (FWCTL_TEST_FAULT)");
}

} // namespace fw

#endif // FW_TEST_HOOKS
