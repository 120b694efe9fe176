// Each fwctl command registers itself on the CLI11 app. Context carries the
// global options; a handler returns the process exit code (cli.md).
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "ruleset.h"
#include "runtime.h"

namespace fw::cli {

struct Context {
	std::string pin_dir = "/sys/fs/bpf/fwctl";
	int exit_code = 0;
};

// The whole text of a file ("-" is stdin); InputError when unreadable.
std::string read_input(const std::string &path);

// Reads and checks a ruleset file ("-" is stdin); prints every error and
// throws InputError when there is any.
Ruleset load_ruleset_file(const std::string &path);

void register_ruleset_commands(CLI::App &app, Context &ctx); // apply check show save down
void register_stats_commands(CLI::App &app, Context &ctx);   // stats
void register_status_command(CLI::App &app, Context &ctx);   // status
void register_confirm_commands(CLI::App &app, Context &ctx); // confirm confirm-timeout
void register_conntrack_commands(CLI::App &app, Context &ctx); // conntrack [flush]
void register_log_commands(CLI::App &app, Context &ctx);     // log
void register_watch_command(CLI::App &app, Context &ctx);    // watch
void register_run_command(CLI::App &app, Context &ctx);      // run

// The watcher (cmd_watch.cpp): subscribes to link and address events, calls
// after_subscribe (may be empty), catches up, then follows events until
// SIGTERM/SIGINT (or returns after the catch-up when `once`). Returns the
// exit code.
int watch_interfaces(const std::string &pin_dir, bool once, const std::function<void()> &after_subscribe);
void register_weos_commands(CLI::App &app, Context &ctx);    // import weos, export weos
void register_trace_command(CLI::App &app, Context &ctx);    // trace
// Last: it walks the commands registered before it.
void register_completion_command(CLI::App &app);             // completion bash (hidden)

} // namespace fw::cli
