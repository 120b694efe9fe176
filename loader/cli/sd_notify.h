// The systemd readiness protocol (sd_notify(3)) without libsystemd: one
// datagram to $NOTIFY_SOCKET. Does nothing when not run by systemd.
#pragma once

#include <string>

namespace fw::cli {

void notify_systemd(const std::string &state);

} // namespace fw::cli
