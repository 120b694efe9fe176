// The kernel side of fwctl: the pin directory, the loaded programs and
// maps, attachment to interfaces, and the atomic switch between rulesets.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "big_maps.h"
#include "errors.h"
#include "fentry_hooks.h"
#include "fw/abi.h"
#include "bpf_map.h"
#include "netdev.h"
#include "plan.h"
#include "ruleset.h"
#include "state_store.h"
#include "util.h"

struct fw_bpf; // the skeleton (fw.skel.h)

namespace fw {

struct Attachment {
	std::string ifname; // "" when the interface is gone
	uint32_t ifindex = 0;
	std::string hook;   // "xdp", "tc-egress" or "tc-ingress" (lib/xfrm_in.h)
	std::string mode;   // xdp: "native" or "generic"; tc: "tcx" or "tc-clsact" (kernel < 6.6)
	std::string pin;
	std::string program; // e.g. "fw_xdp" or, on L3 devices (TUN), "fw_xdp_l3"
	bool live = false;  // the link is still attached
};

// One pinned map's kernel memory, as the kernel accounts it (the
// `memlock:` line of its /proc/self/fdinfo entry).
struct MapMemory {
	std::string name; // its pin name
	std::string type; // "lru_hash", "array", ... (libbpf's names)
	uint32_t max_entries = 0;
	uint64_t bytes = 0;
};

// The targets of an apply: each selected interface with its index.
using ApplyTargets = std::vector<std::pair<std::string, uint32_t>>;

struct StackPlan; // stack.h

class Runtime {
public:
	explicit Runtime(std::string pin_dir);
	~Runtime();
	Runtime(const Runtime &) = delete;
	Runtime &operator=(const Runtime &) = delete;

	const std::string &pin_dir() const { return pin_dir_; }

	// Creates the pin dir when missing, checks it is on a bpffs and not a
	// bpffs's root, takes the lock (held until destruction): exclusive for
	// writers, shared for readers (stats, status, show, conntrack list), so
	// that readers never queue behind one another in front of a confirm
	// rollback.
	enum class Lock { exclusive, shared };
	void prepare(bool create, Lock lock = Lock::exclusive);
	void refuse_bpffs_root() const;

	// True when a datapath is pinned here.
	bool loaded() const;

	// The FW_ABI_VERSION of the datapath pinned here: from fw_abi, or, for
	// builds before it, from the applied state; -1 when nothing is applied,
	// 0 when pins exist but their ABI cannot be read. Opens pins directly
	// (never through fd()), checking value sizes before any lookup.
	int pinned_abi() const;
	// Throws AbiMismatch unless pinned_abi() is ours (or -1). fd() calls it
	// before it opens the first pin, and checks every map it opens against
	// this build's layout: no command reads or writes another ABI's maps.
	void check_abi() const;
	// The next apply replaces the pinned datapath whatever its ABI: new
	// maps (an empty connection table), programs swapped on every link by
	// link update, pins replaced (`apply --replace-incompatible`).
	void replace_incompatible_next_apply() { replace_incompatible_ = true; }
	// What the last apply did to a datapath of another build: "" (none or
	// the same build), "upgraded" (maps kept) or "replaced" (new maps).
	const std::string &datapath_change() const { return datapath_change_; }

	// Compiles and installs the ruleset; loads and attaches as needed.
	// Throws InputError/SystemError; on any throw the previously applied
	// ruleset is still the one packets see. `extra` goes into the applied
	// state as it is (e.g. a pending `--confirm`), switched atomically
	// with the ruleset.
	void apply(const Ruleset &rs, const nlohmann::json &extra = nlohmann::json::object());
	// The two halves of apply. plan_against_running reads the running
	// state (refusing another build or table size) and plans against it;
	// it changes nothing. commit loads the datapath if needed, writes the
	// inactive generation, switches to it and attaches.
	PlanResult plan_against_running(const Ruleset &rs,
					const nlohmann::json &extra = nlohmann::json::object()) const;
	void commit(const GenerationImage &img);

	// Detaches everything and removes the pins. Idempotent.
	void down();

	std::optional<AppliedState> applied() const;
	std::vector<Attachment> attachments() const;
	CounterValue rule_counter(uint32_t slot) const;
	CounterValue stat_counter(uint32_t stat) const;
	int map_fd(const std::string &name) const; // opened from its pin, -1 if absent
	// Loads and pins those of `programs` not pinned yet, against the pinned
	// maps of this build's datapath (the watcher: all of them, before the
	// first interface that needs one appears).
	void load_missing_programs(const std::set<std::string> &programs);
	// The route hooks are attached (loader/route_hooks.cpp).
	bool route_hooks_attached() const;
	// Every pinned map, by name; empty when nothing is loaded.
	std::vector<MapMemory> map_memory() const;
	// Connections the loaded table holds (fw_ct's max_entries / 2), 0 when
	// nothing is loaded.
	uint32_t ct_capacity() const;

	// Attaches to one interface if the applied selection covers it and it
	// is not attached yet (used by apply and by the watcher).
	bool attach_if_covered(const std::string &ifname);
	// Removes pins of links whose interface is gone.
	int tidy_stale_links();
	// Detaches live links of interfaces an explicit "interfaces" list no
	// longer names (renamed away); returns the interfaces detached.
	std::vector<std::string> detach_unselected();

	// The next apply() gives every rule, NAT rule and port forward a fresh
	// zeroed counter slot, switched in with the ruleset (`stats --reset`).
	void fresh_counters_next_apply() { fresh_counters_ = true; }

	uint64_t apply_duration_ns() const { return last_apply_ns_; }
	// The hash of the ruleset the last successful apply() installed.
	const std::string &applied_hash() const { return last_hash_; }

private:
	std::string pin_dir_;
	int lock_fd_ = -1;
	mutable std::map<std::string, int> fds_;
	uint64_t last_apply_ns_ = 0;
	bool fresh_counters_ = false;
	std::string last_hash_;
	mutable bool abi_checked_ = false;
	bool replace_incompatible_ = false;
	std::string datapath_change_;
	// Hooks this kernel refused, said once per Runtime (the test harness
	// and the watcher apply many times; the kernel will not change its mind).
	std::set<std::string> refused_hooks_warned_;
	// A first apply's hook objects, loaded while its programs are
	// verified; taken by the attach of the same apply, cleared when the
	// apply ends (they hold that datapath's maps).
	HooksAhead hooks_ahead_;
	// A first apply's largest maps, started before it compiles (apply.cpp).
	BigMapsAhead big_maps_ahead_;
	// A datapath of this build loaded over another's pins (load.cpp), not
	// pinned yet: fds_ holds its maps and programs until swap_datapath().
	struct fw_bpf *next_ = nullptr;
	std::set<std::string> next_new_maps_; // maps of next_ not reused from pins

	std::string pin_path(const std::string &name) const { return pin_dir_ + "/" + name; }
	// Names in the pin dir (no dot files), sorted; empty when it is absent.
	std::vector<std::string> pin_names() const;
	int fd(const std::string &name) const;
	// Closes every cached descriptor (and the counter view over one).
	void close_fds() const;
	// fw_rule_cpu_cnt, mapped once per descriptor.
	RuleCounterView &rule_counters() const;
	mutable std::unique_ptr<RuleCounterView> counter_view_;
	// Creates the maps and loads `programs` (of all_programs()) only: the
	// rest load when an interface first needs them (program_fd). The
	// first generation's (first_gen) combine table is made for
	// first_combines entries and put in its slot while programs verify.
	void load_fresh(uint32_t ct_connections, const std::set<std::string> &programs, uint32_t first_gen,
			size_t first_combines);
	// The descriptor of a pinned program, loading it first (against the
	// pinned maps) if this datapath has not needed it yet.
	int program_fd(const std::string &prog);
	void pin_programs(const std::vector<struct fw_bpf *> &objs);
	// Upgrades (load.cpp): loads this build's object over the pinned one,
	// reusing pinned maps (keep_maps: each must have this build's layout)
	// or creating all anew; its maps and programs go to fds_.
	void load_replacement(bool keep_maps, uint32_t ct_connections);
	// Swaps every pinned link to next_'s program of the same name (link
	// update; clsact: the filter replaced in place), then puts next_'s
	// objects at the pins (pinned aside, renamed over) and drops pins the
	// new object lacks. No interface is without a program at any instant.
	void swap_datapath();
	void drop_replacement();
	void check_map_layout(const std::string &name, int fd) const;
	void remove_all_pins();
	void attach(uint32_t ifindex, const std::string &ifname);
	// Stacked devices and kernel IPsec (loader/stack_attach.cpp).
	void attach_xfrm_ingress(const StackPlan &plan);
	void attach_xfrm_tc_ingress(uint32_t ifindex, const std::string &ifname);
	void attach_xfrm_output();
	void detach_uppers_of(const StackPlan &plan);
	bool xfrm_hooks_attached() const;
	void xfrm_epoch_bump();
	// The route hooks: the fast path's route cache (loader/route_hooks.cpp).
	static const std::vector<std::string> &route_hook_pins();
	void attach_route_hooks();
	void detach_route_hooks();
	std::set<std::string> stack_wanted_pins(const StackPlan &plan) const;
	bool attach_stacked_if_covered(const std::string &ifname, const Ruleset &ruleset);
	// fw_tc_ingress: reject answers out, decrypted IPsec judged (attach.cpp).
	void attach_tc_ingress(uint32_t ifindex, const std::string &ifname);
	void attach_unless_vanished(uint32_t ifindex, const std::string &ifname);
	void detach_pin(const std::string &pin);
	// The steps of apply (apply.cpp).
	std::optional<AppliedState> check_running(const Ruleset &rs) const;
	void write_classifier(uint32_t gen, const CompiledTables &t);
	void write_port_and_proto_classes(uint32_t gen, const CompiledTables &t);
	void write_rules(uint32_t gen, const GenerationImage &img);
	void switch_and_attach(uint32_t gen, const fw_active &previous, bool fresh_load,
			       const StackPlan &plan);
	void write_fast_if(const ApplyTargets &targets);
	void detach_others(const StackPlan &plan);
};

} // namespace fw
