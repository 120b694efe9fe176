// FWCTL_TRACE=1: how long each phase of a command took, on stderr.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace fw {

struct PhaseTimer {
	bool on = getenv("FWCTL_TRACE") != nullptr;
	std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
	// Prints the time since the previous phase (or construction).
	void operator()(const char *phase)
	{
		auto now = std::chrono::steady_clock::now();
		if (on)
			fprintf(stderr, "fwctl: %-28s %8.2f ms\n", phase,
				std::chrono::duration<double, std::milli>(now - last).count());
		last = now;
	}
};

} // namespace fw
