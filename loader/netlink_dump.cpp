// One netlink dump request and its replies (netlink_dump.h).
#include "netlink_dump.h"

#include <cerrno>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <vector>

#include "bpf_map.h"

namespace fw {

int netlink_dump(int protocol, const void *req, size_t len,
		 const std::function<int(const struct nlmsghdr *)> &each)
{
	Fd s(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
	if (s.fd < 0)
		return -errno;
	if (send(s.fd, req, len, 0) < 0)
		return -errno;
	std::vector<char> buf(64 * 1024);
	for (;;) {
		ssize_t n = recv(s.fd, buf.data(), buf.size(), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		int left = (int)n;
		for (auto *h = (struct nlmsghdr *)buf.data(); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				return err ? err : -EPROTO;
			}
			if (int r = each(h))
				return r;
		}
	}
}

} // namespace fw
