// Tracing objects beside the firewall (the IPsec hooks, the route hooks):
// loaded against the firewall's pinned maps, attached by fentry, their
// links pinned. Each is best effort: a kernel refusing tracing programs
// keeps the firewall.
#pragma once

#include <string>
#include <vector>

struct bpf_object;
struct bpf_program;

namespace fw {

// Points every map of obj that has a pin in pin_dir at it and stops libbpf
// creating the others (but for the object's own .rodata/.bss). False when
// a pinned map cannot be reused.
bool reuse_pinned_maps(struct bpf_object *obj, const std::string &pin_dir);

// Attaches each program (fentry) and pins its link at the path beside it.
// Returns 0, or the errno of the first failure, after unlinking every pin
// it made.
int attach_pinned_fentry(const std::vector<std::pair<struct bpf_program *, std::string>> &progs);

} // namespace fw
