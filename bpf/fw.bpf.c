// placeholder, replaced by the datapath
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int fw_xdp(struct xdp_md *ctx) { return XDP_PASS; }
char LICENSE[] SEC("license") = "Dual MIT/GPL";
