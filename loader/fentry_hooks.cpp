// Tracing objects beside the firewall (fentry_hooks.h).
#include "fentry_hooks.h"

#include <cerrno>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

namespace fw {

bool reuse_pinned_maps(struct bpf_object *obj, const std::string &pin_dir)
{
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj)
	{
		if (bpf_map__is_internal(m))
			continue;
		int f = bpf_obj_get((pin_dir + "/" + bpf_map__name(m)).c_str());
		if (f < 0) {
			bpf_map__set_autocreate(m, false);
			continue;
		}
		int err = bpf_map__reuse_fd(m, f);
		close(f);
		if (err)
			return false;
	}
	return true;
}

bool reuse_maps(struct bpf_object *obj, const std::function<int(const char *)> &map_fd)
{
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj)
	{
		if (bpf_map__is_internal(m))
			continue;
		int f = map_fd(bpf_map__name(m));
		if (f < 0) {
			bpf_map__set_autocreate(m, false);
			continue;
		}
		if (bpf_map__reuse_fd(m, f) != 0)
			return false;
	}
	return true;
}

int attach_pinned_fentry(const std::vector<std::pair<struct bpf_program *, std::string>> &progs)
{
	int err = 0;
	size_t made = 0;
	for (; made < progs.size(); made++) {
		int link = bpf_raw_tracepoint_open(nullptr, bpf_program__fd(progs[made].first));
		if (link < 0 || bpf_obj_pin(link, progs[made].second.c_str()) != 0)
			err = errno ? errno : EINVAL;
		if (link >= 0)
			close(link);
		if (err)
			break;
	}
	if (err)
		for (auto &[prog, pin] : progs)
			unlink(pin.c_str());
	return err;
}

void HooksAhead::load(const std::function<int(const char *)> &map_fd)
{
	clear();
	// A kernel (or a caller) without tracing programs answers libbpf's
	// probe in ~0.1 ms; each object's load would first parse vmlinux's
	// BTF (~8 ms of CPU, while the verifier threads want both cores).
	errno = 0;
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, nullptr) == 0 && errno == EPERM) {
		xfrm_refused_ = route_refused_ = EPERM;
		return;
	}
	xfrm_ = load_xfrm_hooks(map_fd);
	if (!xfrm_)
		xfrm_refused_ = refusal(errno);
	route_ = load_route_hooks(map_fd);
	if (!route_)
		route_refused_ = refusal(errno);
}

// EPERM (no tracing programs for this kernel or this caller) and the
// like: a second try gets the same. A verifier rejection (EACCES, EINVAL)
// is tried again, to report the verifier's words.
int HooksAhead::refusal(int err)
{
	return err == EACCES || err == EINVAL ? 0 : err;
}

void HooksAhead::clear()
{
	if (xfrm_)
		destroy_hooks(xfrm_);
	if (route_)
		destroy_hooks(route_);
	xfrm_ = nullptr;
	route_ = nullptr;
	xfrm_refused_ = 0;
	route_refused_ = 0;
}

} // namespace fw
