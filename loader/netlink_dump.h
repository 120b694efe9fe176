// One netlink dump: a request on a fresh socket, its replies handed over
// one message at a time (stack.cpp's links, netdev.cpp's XFRM policies,
// policy_rules.cpp's routing rules).
#pragma once

#include <cstddef>
#include <functional>

struct nlmsghdr;

namespace fw {

// Sends `req` (`len` bytes, a whole request with NLM_F_DUMP) on a new
// socket of netlink `protocol` (NETLINK_ROUTE, NETLINK_XFRM) and calls
// `each` for every reply message until NLMSG_DONE. Returns 0 at the end of
// the dump; what `each` returned, when not 0 (the dump stops there); or
// -errno: the socket could not be made or used, or the kernel answered
// NLMSG_ERROR.
int netlink_dump(int protocol, const void *req, size_t len,
		 const std::function<int(const struct nlmsghdr *)> &each);

} // namespace fw
