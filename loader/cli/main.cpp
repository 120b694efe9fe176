// fwctl: the command line. Global options may stand before or after the
// command; exit codes: 0 done, 1 the system refused, 2 bad input.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include "commands.h"
#include "fw_version.h"

namespace {

// Compiling a large ruleset touches tens of MB of fresh heap, and loading
// the datapath a few more (libbpf's copy of the kernel's BTF, the object);
// on the VMs we run on a page fault costs ~20 us, which made first-touch
// faults most of `apply` (10,000 rules: 600 ms of faults, 50 ms of work;
// one rule: ~250 ms instead of ~180). So the heap is grown once by a large
// step, backed by transparent huge pages, and not given back, with large
// blocks taken from it rather than from fresh mappings. Set here, not with
// GLIBC_TUNABLES: those are read only at start-up, and re-executing for
// them cost every apply ~14 ms.
void tune_malloc_for_large_heaps()
{
	if (getenv("FWCTL_DEFAULT_MALLOC"))
		return;
	constexpr size_t step = 128u << 20;
	mallopt(M_MMAP_THRESHOLD, 32 << 20); // glibc's ceiling on 64-bit
	mallopt(M_TOP_PAD, step);
	mallopt(M_ARENA_MAX, 1); // threads (the verifier's second) share that heap
	// glibc.malloc.hugetlb=1 has no mallopt: grow the heap now and ask the
	// kernel for huge pages on that range, as glibc would. The heap's VMA
	// keeps the advice; later growth past it uses small pages.
	char *before = (char *)sbrk(0);
	void *volatile grow = malloc(1 << 20); // volatile: not elided with the free
	free(grow);
	char *after = (char *)sbrk(0);
	constexpr uintptr_t huge = 2u << 20;
	uintptr_t from = ((uintptr_t)before + huge - 1) & ~(huge - 1);
	if (before != (char *)-1 && (uintptr_t)after > from)
		madvise((void *)from, (uintptr_t)after - from, MADV_HUGEPAGE);
}

} // namespace

int main(int argc, char **argv)
{
	using namespace fw;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "apply") || !strcmp(argv[i], "check")) {
			tune_malloc_for_large_heaps();
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
