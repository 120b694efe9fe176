// Reading and emptying the connection table (fw_ct, see fw/abi.h and
// bpf/lib/ct.h) from user space.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fw/abi.h"
#include "runtime.h"

namespace fw {

struct CtConnection {
	fw_tuple orig{};  // the master's key: what the first packet looked like
	fw_tuple reply{}; // what replies look like (differs from the inverted
			  // original when NAT translated the connection)
	uint8_t state = 0, flags = 0;
	uint32_t ifindex = 0;
	int64_t expires_in = 0; // seconds
};

// CLOCK_MONOTONIC in seconds: the datapath's clock (bpf_ktime_get_coarse_ns).
uint32_t ct_now();

// Live connections (expired entries and orphaned aliases are left out), in
// table order. Empty when nothing is applied.
std::vector<CtConnection> conntrack_list(const Runtime &rt);

// Deletes every entry; returns how many connections were live.
size_t conntrack_flush(const Runtime &rt);

// "established", "syn_sent", ...; non-TCP: "established" once a reply was
// seen, else "new" (as nftables' ct state would call its next packet).
std::string ct_state_name(const CtConnection &c);

// One object per connection, the shape of cli.md.
nlohmann::json conntrack_json(const CtConnection &c);

} // namespace fw
