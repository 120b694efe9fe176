// The route hooks (bpf/route_hooks.bpf.c): where they attach, a route or
// neighbour change reaches the fast path's route cache at once
// (bpf/lib/route_cache.h).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "runtime.h"
#include "fentry_hooks.h"
#include "route_hooks.skel.h"

namespace fw {

struct route_hooks_bpf *load_route_hooks(const std::function<int(const char *)> &map_fd)
{
	struct route_hooks_bpf *skel = route_hooks_bpf__open();
	if (!skel || (reuse_maps(skel->obj, map_fd) && route_hooks_bpf__load(skel) == 0))
		return skel;
	int err = errno;
	route_hooks_bpf__destroy(skel);
	errno = err;
	return nullptr;
}

void destroy_hooks(struct route_hooks_bpf *skel)
{
	route_hooks_bpf__destroy(skel);
}

const std::vector<std::string> &Runtime::route_hook_pins()
{
	static const std::vector<std::string> names = {
		"link_fentry_route_fib", "link_fentry_route_netevent", "link_fentry_route_flush"};
	return names;
}

bool Runtime::route_hooks_attached() const
{
	for (auto &n : route_hook_pins())
		if (access(pin_path(n).c_str(), F_OK) != 0)
			return false;
	return true;
}

// Attaches the hooks unless they are, then moves the epoch on: what was
// cached while none was attached (during a takeover) is looked up again.
// A kernel that refuses them keeps the firewall; cached routes then follow
// a change within their 134 ms (bpf/lib/route_cache.h), with a warning.
void Runtime::attach_route_hooks()
{
	int err = 0;
	if (!route_hooks_attached()) {
		for (auto &n : route_hook_pins())
			unlink(pin_path(n).c_str());
		struct route_hooks_bpf *skel = hooks_ahead_.take_route(); // loaded during verification
		bool ok = skel != nullptr;
		errno = hooks_ahead_.route_refused();
		if (!ok && !errno) {
			libbpf_print_fn_t old = libbpf_set_print(nullptr); // its failure is reported below
			skel = route_hooks_bpf__open();
			ok = skel && reuse_pinned_maps(skel->obj, pin_dir_) && route_hooks_bpf__load(skel) == 0;
			libbpf_set_print(old);
		}
		err = ok ? 0 : (errno ? errno : EINVAL);
		if (ok) {
			auto &n = route_hook_pins();
			err = attach_pinned_fentry({{skel->progs.fw_route_fib_event, pin_path(n[0])},
						    {skel->progs.fw_route_netevent, pin_path(n[1])},
						    {skel->progs.fw_route_cache_flush, pin_path(n[2])}});
		}
		if (skel)
			route_hooks_bpf__destroy(skel);
	}
	uint32_t zero = 0, epoch = 0;
	int ef = fd("fw_route_epoch");
	bpf_map_lookup_elem(ef, &zero, &epoch);
	epoch++;
	if (bpf_map_update_elem(ef, &zero, &epoch, BPF_ANY) != 0)
		throw SystemError(errno_message("cannot write fw_route_epoch", errno));
	if (err && refused_hooks_warned_.insert("route").second)
		fprintf(stderr,
			"fwctl: warning: the kernel refused the route hooks (fentry on call_fib_notifiers, "
			"call_netevent_notifiers, rt_cache_flush: %s): a route or neighbour change reaches "
			"established connections on the fast path within 134 ms (docs/fastpath.md)\n",
			strerror(err));
}

void Runtime::detach_route_hooks()
{
	for (auto &n : route_hook_pins()) {
		detach_pin(n);
		unlink(pin_path(n).c_str());
	}
}

} // namespace fw
