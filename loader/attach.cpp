// Attaching the pinned programs to interfaces (XDP ingress, tcx egress),
// listing the links, and removing those whose interface left.
#include "runtime.h"
#include "netdev.h"
#include "tc_clsact.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

namespace fw {

void Runtime::detach_pin(const std::string &name)
{
	if (tc_clsact::is_clsact_pin(pin_path(name))) {
		tc_clsact::detach(pin_path(name), (uint32_t)std::stoul(name.substr(name.rfind('_') + 1)));
		return;
	}
	int f = bpf_obj_get(pin_path(name).c_str());
	if (f >= 0) {
		bpf_link_detach(f);
		close(f);
	}
}

void Runtime::attach(uint32_t ifindex, const std::string &ifname)
{
	bool l3 = is_l3_device(ifname);
	std::string xdp_pin = pin_path("link_xdp_" + std::to_string(ifindex));
	std::string tc_pin = pin_path("link_tc_" + std::to_string(ifindex));
	if (access(xdp_pin.c_str(), F_OK) != 0) {
		int prog = program_fd(l3 ? "fw_xdp_l3" : "fw_xdp");
		LIBBPF_OPTS(bpf_link_create_opts, o);
		// Native wherever the driver has it, a veth with a NAPI-less peer
		// included: reject answers leave through TC (fw_tc_ingress), not
		// XDP_TX, so nothing needs generic mode's skb per packet.
		// FWCTL_XDP_MODE=generic forces generic mode (troubleshooting a
		// driver's XDP, and the tests of what generic mode sees).
		const char *mode = getenv("FWCTL_XDP_MODE");
		o.flags = mode && std::string(mode) == "generic" ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
		int link = bpf_link_create(prog, (int)ifindex, BPF_XDP, &o);
		if (link < 0 && o.flags == XDP_FLAGS_DRV_MODE) {
			o.flags = XDP_FLAGS_SKB_MODE; // the driver has no native XDP
			link = bpf_link_create(prog, (int)ifindex, BPF_XDP, &o);
		}
		if (link < 0)
			throw SystemError(errno_message("cannot attach XDP to " + ifname +
								" (another XDP program there?)",
							errno));
		Fd l(link);
		if (bpf_obj_pin(link, xdp_pin.c_str()) != 0)
			throw SystemError(errno_message("cannot pin " + xdp_pin, errno));
	}
	if (!l3)
		attach_tc_ingress(ifindex, ifname);
	if (access(tc_pin.c_str(), F_OK) != 0) {
		int prog = program_fd(l3 ? "fw_tc_egress_l3" : "fw_tc_egress");
		LIBBPF_OPTS(bpf_link_create_opts, o);
		int link = bpf_link_create(prog, (int)ifindex, BPF_TCX_EGRESS, &o);
		if (link < 0 && tc_clsact::tcx_missing(errno))
			return tc_clsact::attach(prog, ifindex, ifname, tc_pin); // kernel < 6.6
		if (link < 0)
			throw SystemError(errno_message("cannot attach TC egress (tcx) to " + ifname, errno));
		Fd l(link);
		if (bpf_obj_pin(link, tc_pin.c_str()) != 0)
			throw SystemError(errno_message("cannot pin " + tc_pin, errno));
	}
}

// The program that sends reject answers back out (bpf/lib/reject.h). L3
// devices have no answers: a reject is a drop there. Where XDP runs native
// it also judges what kernel IPsec decrypted (bpf/lib/xfrm_in.h): native
// XDP never sees those packets; generic XDP does, and judges them itself.
void Runtime::attach_tc_ingress(uint32_t ifindex, const std::string &ifname)
{
	std::string pin = pin_path("link_tci_" + std::to_string(ifindex));
	if (access(pin.c_str(), F_OK) == 0)
		return;
	LIBBPF_OPTS(bpf_link_create_opts, o);
	int prog = program_fd(xdp_attached_native(ifindex) ? "fw_tc_ingress" : "fw_tc_reject");
	int link = bpf_link_create(prog, (int)ifindex, BPF_TCX_INGRESS, &o);
	if (link < 0 && tc_clsact::tcx_missing(errno))
		return tc_clsact::attach(prog, ifindex, ifname, pin); // kernel < 6.6: clsact ingress
	if (link < 0)
		throw SystemError(errno_message("cannot attach TC ingress (tcx) to " + ifname, errno));
	Fd l(link);
	if (bpf_obj_pin(link, pin.c_str()) != 0)
		throw SystemError(errno_message("cannot pin " + pin, errno));
}

bool Runtime::attach_if_covered(const std::string &ifname)
{
	auto st = applied();
	if (!st)
		return false;
	if (st->ruleset.interfaces) {
		const auto &names = *st->ruleset.interfaces;
		if (std::find(names.begin(), names.end(), ifname) == names.end())
			return false;
	} else if (ifname == "lo") {
		return false;
	}
	uint32_t ifindex = if_nametoindex(ifname.c_str());
	if (!ifindex)
		return false;
	if (attach_stacked_if_covered(ifname, st->ruleset))
		return true; // judged by its bridge, bond or VLAN parent (stack_attach.cpp)
	attach(ifindex, ifname);
	return true;
}

int Runtime::tidy_stale_links()
{
	int removed = 0;
	for (auto &a : attachments())
		if (!a.live) {
			unlink(a.pin.c_str());
			removed++;
		}
	return removed;
}

std::vector<std::string> Runtime::detach_unselected()
{
	std::vector<std::string> gone;
	auto st = applied();
	if (!st || !st->ruleset.interfaces)
		return gone; // the default selection follows renames by itself
	const auto &names = *st->ruleset.interfaces;
	for (auto &a : attachments())
		if (a.live && std::find(names.begin(), names.end(), a.ifname) == names.end()) {
			detach_pin(a.pin.substr(pin_dir_.size() + 1));
			unlink(a.pin.c_str());
			if (std::find(gone.begin(), gone.end(), a.ifname) == gone.end())
				gone.push_back(a.ifname);
		}
	return gone;
}

std::vector<Attachment> Runtime::attachments() const
{
	std::vector<Attachment> out;
	for (auto &n : pin_names()) {
		if (n.rfind("link_", 0) != 0 || n.rfind("link_fentry_", 0) == 0)
			continue; // link_fentry_*: not an interface's (stack_attach.cpp)
		Attachment a;
		a.pin = pin_path(n);
		a.hook = n.rfind("link_xdp_", 0) == 0	? "xdp"
			 : n.rfind("link_tci_", 0) == 0 ? "tc-ingress"
							: "tc-egress";
		// A clsact attachment pins the program, not a link (tc_clsact.h).
		bool clsact = a.hook != "xdp" && tc_clsact::is_clsact_pin(a.pin);
		int f = clsact ? -1 : bpf_obj_get(a.pin.c_str());
		if (f >= 0) {
			struct bpf_link_info info {};
			uint32_t len = sizeof(info);
			if (bpf_link_get_info_by_fd(f, &info, &len) == 0) {
				a.ifindex = a.hook == "xdp" ? info.xdp.ifindex : info.tcx.ifindex;
				a.live = a.ifindex != 0;
				int pf = bpf_prog_get_fd_by_id(info.prog_id);
				struct bpf_prog_info pi {};
				uint32_t plen = sizeof(pi);
				if (pf >= 0 && bpf_prog_get_info_by_fd(pf, &pi, &plen) == 0)
					a.program = pi.name;
				if (pf >= 0)
					close(pf);
			}
			close(f);
		}
		if (!a.live)
			a.ifindex = (uint32_t)std::stoul(n.substr(n.rfind('_') + 1));
		if (clsact)
			if (auto prog = tc_clsact::attached_program(a.pin, a.ifindex)) {
				a.live = true;
				a.program = *prog;
				a.mode = "tc-clsact";
			}
		char name[IF_NAMESIZE] = {};
		if (a.live && if_indextoname(a.ifindex, name))
			a.ifname = name;
		if (a.hook == "xdp" && a.live) {
			LIBBPF_OPTS(bpf_xdp_query_opts, q);
			if (bpf_xdp_query((int)a.ifindex, 0, &q) == 0)
				a.mode = q.attach_mode == XDP_ATTACHED_DRV ? "native"
					 : q.attach_mode == XDP_ATTACHED_SKB ? "generic"
					 : q.attach_mode == XDP_ATTACHED_HW  ? "offload"
									     : "multi";
		} else if (a.live && a.mode.empty()) {
			a.mode = "tcx";
		}
		out.push_back(a);
	}
	return out;
}

} // namespace fw
