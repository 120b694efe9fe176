// What the datapath needs from the kernel, probed before loading it, so an
// older kernel is refused with the missing feature's name rather than a
// verifier log about an unknown helper.
#pragma once

namespace fw {

// Throws SystemError naming the first missing feature (and the Linux
// version that brought it). Tested kernels: 6.1, 6.12, 6.18.
void require_kernel_features();

} // namespace fw
