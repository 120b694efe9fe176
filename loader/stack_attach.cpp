// Runtime's part of stacked devices and kernel IPsec (docs/stacked.md):
// the TC ingress program for decrypted traffic, which pins a selection
// wants, and the watcher's view of a new interface in a stack.
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include "runtime.h"
#include "stack.h"
#include "netdev.h"
#include "tc_clsact.h"
#include "fentry_hooks.h"
#include "bpf_load_log.h"
#include "xfrm_out.skel.h"

namespace fw {

namespace {

std::string link_pin(const std::string &dir, const char *hook, uint32_t ifindex)
{
	return dir + "/link_" + hook + "_" + std::to_string(ifindex);
}

} // namespace

// Decrypted tunnel traffic re-enters the receive path of the device the ESP
// came in on (or of the VLAN device it was addressed to), past native XDP.
// Where generic XDP runs it judges that traffic itself; a second program
// there would judge it twice.
void Runtime::attach_xfrm_ingress(const StackPlan &plan)
{
	for (auto &[name, idx] : plan.attach)
		if (xdp_attached_native(idx))
			attach_xfrm_tc_ingress(idx, name);
	for (auto &[name, idx] : plan.xfrm_only)
		attach_xfrm_tc_ingress(idx, name);
}

void Runtime::attach_xfrm_tc_ingress(uint32_t ifindex, const std::string &ifname)
{
	std::string pin = link_pin(pin_dir_, "tci", ifindex);
	if (access(pin.c_str(), F_OK) == 0)
		return;
	LIBBPF_OPTS(bpf_link_create_opts, o);
	int prog = program_fd(is_l3_device(ifname) ? "fw_tc_ingress_xfrm_l3" : "fw_tc_ingress_xfrm");
	int link = bpf_link_create(prog, (int)ifindex, BPF_TCX_INGRESS, &o);
	if (link < 0 && tc_clsact::tcx_missing(errno))
		return tc_clsact::attach(prog, ifindex, ifname, pin); // kernel < 6.6: clsact ingress
	if (link < 0)
		throw SystemError(errno_message("cannot attach TC ingress (tcx) to " + ifname, errno));
	int err = bpf_obj_pin(link, pin.c_str()) != 0 ? errno : 0;
	close(link);
	if (err)
		throw SystemError(errno_message("cannot pin " + pin, err));
}

namespace {

struct xfrm_out_bpf *open_xfrm_hooks()
{
	struct xfrm_out_bpf *skel = xfrm_out_bpf__open();
	// fentry sees every network namespace: the hook records only this
	// one's connections (bpf/lib/xfrm_out.h).
	struct stat ns {};
	if (skel && stat("/proc/self/ns/net", &ns) == 0)
		skel->rodata->fw_netns_inum = (uint32_t)ns.st_ino;
	return skel;
}

} // namespace

struct xfrm_out_bpf *load_xfrm_hooks(const std::function<int(const char *)> &map_fd)
{
	struct xfrm_out_bpf *skel = open_xfrm_hooks();
	if (!skel || (reuse_maps(skel->obj, map_fd) && xfrm_out_bpf__load(skel) == 0))
		return skel;
	int err = errno;
	xfrm_out_bpf__destroy(skel);
	errno = err;
	return nullptr;
}

void destroy_hooks(struct xfrm_out_bpf *skel)
{
	xfrm_out_bpf__destroy(skel);
}

// Kernel IPsec hooks (bpf/xfrm_out.bpf.c): connections this host opens into
// a tunnel, and the policy epoch of the fast path. Best effort: a kernel
// that refuses tracing programs keeps the firewall, with a warning.
void Runtime::attach_xfrm_output()
{
	const char *names[] = {"link_fentry_xfrm_output", "link_fentry_xfrm_policy"};
	std::string pins[2] = {pin_dir_ + "/" + names[0], pin_dir_ + "/" + names[1]};
	if (access(pins[1].c_str(), F_OK) == 0)
		return;
	std::string why;
	struct xfrm_out_bpf *skel = hooks_ahead_.take_xfrm(); // loaded during verification
	bool ok = skel != nullptr;
	errno = hooks_ahead_.xfrm_refused();
	if (!ok && !errno) {
		LibbpfLogCapture *cap = new LibbpfLogCapture(); // its failure is reported below
		skel = open_xfrm_hooks();
		ok = skel && reuse_pinned_maps(skel->obj, pin_dir_) && xfrm_out_bpf__load(skel) == 0;
		why = verifier_rejection(cap->text(), 5);
		delete cap;
	}
	int err = ok ? 0 : (errno ? errno : EINVAL);
	if (ok)
		err = attach_pinned_fentry({{skel->progs.fw_xfrm_output, pins[0]},
					    {skel->progs.fw_xfrm_policy_insert, pins[1]}});
	ok = err == 0;
	if (skel)
		xfrm_out_bpf__destroy(skel);
	if (!ok) {
		unlink(pins[0].c_str());
		unlink(pins[1].c_str());
		if (refused_hooks_warned_.insert("ipsec").second)
			fprintf(stderr,
				"fwctl: warning: the kernel refused the IPsec hooks (fentry on xfrm_output, "
				"xfrm_policy_insert: %s): connections this host opens through kernel IPsec are "
				"not tracked, and the fast path does not see XFRM policies added after apply "
				"(docs/stacked.md)\n%s",
				strerror(err), why.empty() ? "" : (why + "\n").c_str());
	}
}

// XFRM policies exist: the fast path takes a connection's direction only
// once the stack sent it in the clear (bpf/lib/xfrm_fast.h).
void Runtime::xfrm_epoch_bump()
{
	uint32_t zero = 0, epoch = 0;
	int f = fd("fw_xfrm_epoch");
	bpf_map_lookup_elem(f, &zero, &epoch);
	epoch++;
	if (bpf_map_update_elem(f, &zero, &epoch, BPF_ANY) != 0)
		throw SystemError(errno_message("cannot write fw_xfrm_epoch", errno));
}

bool Runtime::xfrm_hooks_attached() const
{
	return access((pin_dir_ + "/link_fentry_xfrm_policy").c_str(), F_OK) == 0;
}

// A device of the plan whose bridge or bond still has our XDP from an
// earlier selection: the kernel refuses XDP below an upper that has one, so
// the upper's goes first (its frames are unjudged for that moment).
void Runtime::detach_uppers_of(const StackPlan &plan)
{
	auto links = stack_read_links();
	std::set<uint32_t> attach;
	for (auto &[_, idx] : plan.attach)
		attach.insert(idx);
	for (auto &[_, idx] : plan.attach) {
		auto it = links.find(idx);
		if (it == links.end() || !it->second.master || attach.count(it->second.master))
			continue;
		std::string name = "link_xdp_" + std::to_string(it->second.master);
		if (access(link_pin(pin_dir_, "xdp", it->second.master).c_str(), F_OK) == 0) {
			detach_pin(name);
			unlink(link_pin(pin_dir_, "xdp", it->second.master).c_str());
		}
	}
}

std::set<std::string> Runtime::stack_wanted_pins(const StackPlan &plan) const
{
	std::set<std::string> pins;
	for (auto &[_, idx] : plan.attach) {
		pins.insert(link_pin(pin_dir_, "xdp", idx));
		pins.insert(link_pin(pin_dir_, "tc", idx));
		pins.insert(link_pin(pin_dir_, "tci", idx));
	}
	for (auto &[_, idx] : plan.xfrm_only)
		pins.insert(link_pin(pin_dir_, "tci", idx));
	return pins;
}

// The watcher found `ifname` new: when its bridge, bond or VLAN parent is
// selected too, it gets no XDP of its own; the maps learn it (a VLAN's
// tagged frames are its from the parent's next packet), and a VLAN gets the
// TC ingress program for what kernel IPsec decrypts on it.
bool Runtime::attach_stacked_if_covered(const std::string &ifname, const Ruleset &ruleset)
{
	auto links = stack_read_links();
	std::vector<Target> selected;
	std::vector<std::string> names;
	if (ruleset.interfaces)
		names = *ruleset.interfaces;
	else
		names = netns_interfaces();
	for (auto &n : names)
		if (uint32_t idx = if_nametoindex(n.c_str()))
			selected.emplace_back(n, idx);
	stack_write_maps(fd("fw_stack_if"), fd("fw_stack"), links, selected);
	if (stack_covered_reason(links, selected, ifname).empty())
		return false;
	for (auto &[idx, l] : links)
		if (l.name == ifname && l.kind == "vlan")
			attach_xfrm_tc_ingress(idx, ifname);
	return true;
}

} // namespace fw
