// Tracing objects beside the firewall (the IPsec hooks, the route hooks):
// loaded against the firewall's pinned maps, attached by fentry, their
// links pinned. Each is best effort: a kernel refusing tracing programs
// keeps the firewall.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

struct bpf_object;
struct bpf_program;
struct xfrm_out_bpf;
struct route_hooks_bpf;

namespace fw {

// Points every map of obj that has a pin in pin_dir at it and stops libbpf
// creating the others (but for the object's own .rodata/.bss). False when
// a pinned map cannot be reused.
bool reuse_pinned_maps(struct bpf_object *obj, const std::string &pin_dir);
// The same with the descriptors map_fd gives (-1: none), for a datapath
// whose maps are not pinned yet.
bool reuse_maps(struct bpf_object *obj, const std::function<int(const char *)> &map_fd);

// Attaches each program (fentry) and pins its link at the path beside it.
// Returns 0, or the errno of the first failure, after unlinking every pin
// it made.
int attach_pinned_fentry(const std::vector<std::pair<struct bpf_program *, std::string>> &progs);

// Each hook object opened for this network namespace and loaded against
// map_fd's maps; nullptr and errno on failure (stack_attach.cpp,
// route_hooks.cpp, which hold their skeletons).
struct xfrm_out_bpf *load_xfrm_hooks(const std::function<int(const char *)> &map_fd);
struct route_hooks_bpf *load_route_hooks(const std::function<int(const char *)> &map_fd);
void destroy_hooks(struct xfrm_out_bpf *skel);
void destroy_hooks(struct route_hooks_bpf *skel);

// Both hook objects loaded ahead, while a first apply's programs are being
// verified (load.cpp runs load() on the second verifier thread, which
// finishes ~40 ms before the first): their BTF parsing and loading, ~20 ms
// in series before, costs nothing then. Attaching still happens where it
// did (switch_and_attach), which takes them; an object that failed to load
// here is null and loads there again, which reports why.
class HooksAhead {
public:
	HooksAhead() = default;
	HooksAhead(const HooksAhead &) = delete;
	~HooksAhead() { clear(); }
	// No libbpf printer is set here (another thread may hold one).
	void load(const std::function<int(const char *)> &map_fd);
	struct xfrm_out_bpf *take_xfrm() { return std::exchange(xfrm_, nullptr); }
	struct route_hooks_bpf *take_route() { return std::exchange(route_, nullptr); }
	// The errno of a load the kernel refused for good (EPERM...): trying
	// again would only take the time again. 0: loaded, or worth a retry.
	int xfrm_refused() const { return xfrm_refused_; }
	int route_refused() const { return route_refused_; }
	void clear();

private:
	static int refusal(int err);
	struct xfrm_out_bpf *xfrm_ = nullptr;
	struct route_hooks_bpf *route_ = nullptr;
	int xfrm_refused_ = 0;
	int route_refused_ = 0;
};

} // namespace fw
