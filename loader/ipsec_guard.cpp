// The fast path's IPsec guard (ipsec_guard.h).
#include "ipsec_guard.h"

#include <cerrno>
#include <cstdint>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "netdev.h"

namespace fw {

bool write_ipsec_guard(int map_fd)
{
	bool present = xfrm_policies_present();
	uint32_t zero = 0, v = present ? 1 : 0;
	bpf_map_update_elem(map_fd, &zero, &v, BPF_ANY);
	return present;
}

bool sync_ipsec_guard(const std::string &pin_dir)
{
	int f = bpf_obj_get((pin_dir + "/fw_ipsec_guard").c_str());
	if (f < 0)
		return xfrm_policies_present();
	bool present = write_ipsec_guard(f);
	close(f);
	return present;
}

XfrmPolicyMonitor::XfrmPolicyMonitor()
{
	fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_XFRM);
	if (fd_ < 0)
		return;
	struct sockaddr_nl sa {};
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = 1u << (XFRMNLGRP_POLICY - 1);
	if (bind(fd_, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd_);
		fd_ = -1;
	}
}

XfrmPolicyMonitor::~XfrmPolicyMonitor()
{
	if (fd_ >= 0)
		close(fd_);
}

bool XfrmPolicyMonitor::drain()
{
	bool any = false;
	char buf[16384];
	for (;;) {
		ssize_t n = recv(fd_, buf, sizeof buf, 0);
		if (n > 0) {
			any = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			any = true; // lost some: the dump tells the truth anyway
			continue;
		}
		return any;
	}
}

} // namespace fw
