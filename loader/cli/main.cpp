// fwctl: the command line. Global options may stand before or after the
// command; exit codes: 0 done, 1 the system refused, 2 bad input.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <unistd.h>

#include "commands.h"
#include "fw_version.h"

namespace {

// Compiling a large ruleset touches tens of MB of fresh heap; on the VMs we
// run on a page fault costs ~20 us, which made first-touch faults most of
// `apply` (10,000 rules: 600 ms of faults, 50 ms of work). Transparent huge
// pages for malloc and a heap that is not given back fix that, but glibc
// reads these tunables only at start-up: hence one re-exec.
void reexec_with_malloc_tunables(char **argv)
{
	if (getenv("GLIBC_TUNABLES") || getenv("FWCTL_NO_REEXEC"))
		return;
	setenv("GLIBC_TUNABLES",
	       "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=1073741824:"
	       "glibc.malloc.top_pad=134217728",
	       1);
	execv("/proc/self/exe", argv);
	unsetenv("GLIBC_TUNABLES"); // exec failed: carry on as we are
}

} // namespace

int main(int argc, char **argv)
{
	using namespace fw;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "apply") || !strcmp(argv[i], "check")) {
			reexec_with_malloc_tunables(argv);
			break;
		}
	cli::Context ctx;
	if (const char *env = std::getenv("FWCTL_PIN_DIR"); env && *env)
		ctx.pin_dir = env;

	CLI::App app{"fwctl: a stateful eBPF firewall (XDP ingress, TC egress)"};
	app.require_subcommand(1);
	app.fallthrough();
	app.option_defaults()->always_capture_default();
	app.add_option("--pin-dir", ctx.pin_dir, "bpffs directory for maps and links (env FWCTL_PIN_DIR)");
	// Both baked in at build time (cmake/version.cmake).
	app.set_version_flag("--version", std::string("fwctl ") + FWCTL_VERSION + " (commit " + FWCTL_COMMIT + ")",
			     "print the version and the source commit, then exit");

	cli::register_ruleset_commands(app, ctx);
	cli::register_stats_commands(app, ctx);
	cli::register_status_command(app, ctx);
	cli::register_confirm_commands(app, ctx);
	cli::register_conntrack_commands(app, ctx);
	cli::register_log_commands(app, ctx);
	cli::register_watch_command(app, ctx);
	cli::register_run_command(app, ctx);
	cli::register_weos_commands(app, ctx);
	cli::register_trace_command(app, ctx);
	cli::register_completion_command(app);

	try {
		app.parse(argc, argv);
	} catch (const CLI::CallForHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForAllHelp &e) {
		return app.exit(e);
	} catch (const CLI::CallForVersion &e) {
		return app.exit(e);
	} catch (const CLI::ParseError &e) {
		app.exit(e);
		return 2;
	} catch (const InputError &e) {
		std::cerr << "fwctl: " << e.what() << "\n";
		return 2;
	} catch (const SystemError &e) {
		std::cerr << "fwctl: " << e.what() << "\n";
		return 1;
	} catch (const std::exception &e) {
		std::cerr << "fwctl: " << e.what() << "\n";
		return 1;
	}
	return ctx.exit_code;
}
