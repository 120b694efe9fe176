#include "tc_clsact.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "errors.h"

namespace fw::tc_clsact {
namespace {

struct OwnedFd {
	int fd;
	explicit OwnedFd(int f) : fd(f) {}
	~OwnedFd()
	{
		if (fd >= 0)
			close(fd);
	}
	OwnedFd(const OwnedFd &) = delete;
};

// BPF_OBJ_GET_INFO_BY_FD answers for any BPF fd, so the object's kind
// comes from its anon inode's name ("anon_inode:bpf-prog" / "bpf-link").
bool is_prog_fd(int fd)
{
	char path[64], target[64] = {};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	return n > 0 && strstr(target, "bpf-prog") != nullptr;
}

std::optional<bpf_prog_info> prog_info(int fd)
{
	if (fd < 0 || !is_prog_fd(fd))
		return std::nullopt;
	bpf_prog_info info {};
	uint32_t len = sizeof(info);
	if (fd < 0 || bpf_prog_get_info_by_fd(fd, &info, &len) != 0)
		return std::nullopt;
	return info;
}

// The hook a pin stands for: link_tci_<ifindex> is the ingress program for
// what kernel IPsec decrypts (stack_attach.cpp), every other one egress.
enum bpf_tc_attach_point point_of(const std::string &pin)
{
	return pin.find("/link_tci_") != std::string::npos ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

// The id of the program at our handle/priority on ifindex's hook, 0 if none.
uint32_t filter_prog_id(uint32_t ifindex, enum bpf_tc_attach_point point = BPF_TC_EGRESS)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kHandle, .priority = kPriority);
	if (bpf_tc_query(&hook, &opts) != 0)
		return 0;
	return opts.prog_id;
}

// "TC ingress" or "TC egress", for messages.
std::string hook_name(const std::string &pin)
{
	return point_of(pin) == BPF_TC_INGRESS ? "TC ingress" : "TC egress";
}

std::string msg(const std::string &what, int err)
{
	return what + ": " + strerror(err);
}

} // namespace

bool tcx_missing(int err)
{
	// Kernels before 6.6 do not know BPF_TCX_EGRESS as a link attach type.
	return err == EINVAL || err == EOPNOTSUPP || err == ENOTSUP;
}

void attach(int prog_fd, uint32_t ifindex, const std::string &ifname, const std::string &pin)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = point_of(pin));
	int err = bpf_tc_hook_create(&hook); // the clsact qdisc; -EEXIST: already there
	if (err && err != -EEXIST) {
		if (err == -ENOENT || err == -EOPNOTSUPP || err == -EINVAL)
			throw SystemError(msg("cannot attach " + hook_name(pin) + " to " + ifname +
						      ": this kernel has neither tcx links (Linux >= 6.6) nor the "
						      "clsact qdisc (CONFIG_NET_SCH_INGRESS)",
					      -err));
		throw SystemError(msg("cannot create the clsact qdisc on " + ifname, -err));
	}
	auto ours = prog_info(prog_fd);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = 0, .handle = kHandle,
		    .priority = kPriority);
	err = bpf_tc_attach(&hook, &opts); // no BPF_TC_F_REPLACE: never overwrite
	if (err == -EEXIST) {
		uint32_t id = filter_prog_id(ifindex, point_of(pin));
		if (!ours || id != ours->id)
			throw SystemError("cannot attach " + hook_name(pin) + " to " + ifname +
					  ": another filter holds fwctl's reserved clsact handle 0xf3c7 "
					  "priority 1 (fwctl never replaces it; remove it with `tc filter del "
					  "dev " + ifname + (point_of(pin) == BPF_TC_INGRESS ? " ingress" : " egress") +
					  " handle 0xf3c7 prio 1 bpf`)");
		err = 0; // our own program is already there
	}
	if (err) {
		if (err == -ENOENT || err == -EOPNOTSUPP)
			throw SystemError(msg("cannot attach " + hook_name(pin) + " to " + ifname +
						      ": this kernel has neither tcx links (Linux >= 6.6) nor "
						      "cls_bpf (CONFIG_NET_CLS_BPF)",
					      -err));
		throw SystemError(msg("cannot attach " + hook_name(pin) + " (clsact) to " + ifname +
					      " at fwctl's reserved handle 0xf3c7 priority 1 (a filter of "
					      "another kind at priority 1?)",
				      -err));
	}
	if (bpf_obj_pin(prog_fd, pin.c_str()) != 0) {
		int e = errno;
		LIBBPF_OPTS(bpf_tc_opts, d, .handle = kHandle, .priority = kPriority);
		bpf_tc_detach(&hook, &d);
		throw SystemError(msg("cannot pin " + pin, e));
	}
}

bool is_clsact_pin(const std::string &pin)
{
	OwnedFd f(bpf_obj_get(pin.c_str()));
	return prog_info(f.fd).has_value();
}

std::optional<std::string> attached_program(const std::string &pin, uint32_t ifindex)
{
	OwnedFd f(bpf_obj_get(pin.c_str()));
	auto ours = prog_info(f.fd);
	if (!ours || filter_prog_id(ifindex, point_of(pin)) != ours->id)
		return std::nullopt;
	return std::string(ours->name);
}

void replace(int prog_fd, uint32_t ifindex, const std::string &pin)
{
	if (!attached_program(pin, ifindex))
		throw SystemError("cannot replace " + hook_name(pin) + " of ifindex " + std::to_string(ifindex) +
				  ": the filter at fwctl's handle 0xf3c7 priority 1 is not the pinned program");
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = point_of(pin));
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE, .handle = kHandle,
		    .priority = kPriority);
	int err = bpf_tc_attach(&hook, &opts);
	if (err)
		throw SystemError(msg("cannot replace " + hook_name(pin) + " (clsact) of ifindex " +
					      std::to_string(ifindex),
				      -err));
	std::string aside = pin.substr(0, pin.rfind('/') + 1) + "next_" + pin.substr(pin.rfind('/') + 1);
	unlink(aside.c_str());
	if (bpf_obj_pin(prog_fd, aside.c_str()) != 0 || rename(aside.c_str(), pin.c_str()) != 0) {
		int e = errno;
		unlink(aside.c_str());
		throw SystemError(msg("cannot pin " + pin, e));
	}
}

void detach(const std::string &pin, uint32_t ifindex)
{
	if (!attached_program(pin, ifindex))
		return; // gone with its device, or not ours: leave it alone
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex, .attach_point = point_of(pin));
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kHandle, .priority = kPriority);
	bpf_tc_detach(&hook, &opts);
}

} // namespace fw::tc_clsact
