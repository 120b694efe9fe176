#include "kernel_features.h"

#include <string>
#include <sys/utsname.h>

#include <bpf/libbpf.h>

#include "errors.h"

namespace fw {
namespace {

struct HelperNeed {
	bpf_prog_type prog;
	bpf_func_id helper;
	const char *what;
};

// The newest of what fw.bpf.c calls; everything else is older than these.
constexpr HelperNeed kHelpers[] = {
	{BPF_PROG_TYPE_XDP, BPF_FUNC_loop, "the bpf_loop helper (Linux 5.17)"},
	{BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_load_bytes, "the bpf_xdp_load_bytes helper (Linux 5.18)"},
	{BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_get_buff_len, "the bpf_xdp_get_buff_len helper (Linux 5.18)"},
	{BPF_PROG_TYPE_XDP, BPF_FUNC_fib_lookup, "the bpf_fib_lookup helper in XDP (Linux 4.18)"},
	{BPF_PROG_TYPE_SCHED_CLS, BPF_FUNC_ringbuf_reserve, "BPF ring buffers (Linux 5.8)"},
};

[[noreturn]] void refuse(const std::string &what)
{
	struct utsname u {};
	uname(&u);
	throw SystemError("this kernel (Linux " + std::string(u.release) + ") lacks " + what +
			  ", which fwctl's datapath needs; supported and tested: Linux 6.1, 6.12, 6.18");
}

} // namespace

void require_kernel_features()
{
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 0)
		refuse("BPF ring buffers (Linux 5.8)");
	for (const auto &n : kHelpers)
		// 1: there; 0: missing; < 0: the probe itself failed (no
		// privileges...): leave that to the real load, which says why.
		if (libbpf_probe_bpf_helper(n.prog, n.helper, nullptr) == 0)
			refuse(n.what);
}

} // namespace fw
