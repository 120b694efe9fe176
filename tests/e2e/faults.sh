#!/bin/bash
# Failed applies change nothing; a killed apply leaves consistent pins; fwctl
# fails closed without privileges.
#   wan (192.0.2.2) --vlan2-- r --vlan1-- lan
# base.json accepts UDP 500 to the router and drops 501; new.json the
# reverse. After every injected failure (FWCTL_TEST_FAULT, see
# docs/reliability.md) UDP 500 must still arrive and `show` print base.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

router_topology

cat >"$E2E_TMP/base.json" <<'JSON'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "vlan2", "proto": "udp", "dport": 500 } ] }
JSON
cat >"$E2E_TMP/new.json" <<'JSON'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "vlan2", "proto": "udp", "dport": 501 } ] }
JSON
export E2E_UDP_TIMEOUT=1
hash_of() { fw r status --json | json_get hash; }
base_runs() {
    assert_eq "$base" "$(hash_of)" "$1: the base ruleset is still applied"
    assert_ok "$1: UDP 500 still arrives" udp_arrives wan r 192.0.2.1 500
    assert_exit 0 "$1: status works" fw r status
}

assert_exit 0 "apply base" fw r apply "$E2E_TMP/base.json"
base=$(hash_of)
assert_exit 0 "check new (what the faulty applies try)" fw r check "$E2E_TMP/new.json"

# Errors at each point of apply: exit 1, nothing changed.
for point in compile load empty write rules meta flip attach; do
    FWCTL_TEST_FAULT=$point fw r apply "$E2E_TMP/new.json" >"$E2E_TMP/out" 2>&1
    assert_eq 1 $? "fault at $point: exit 1"
    base_runs "fault at $point"
done
assert_match 'map is full' "$(FWCTL_TEST_FAULT=write fw r apply "$E2E_TMP/new.json" 2>&1)" "a full map is explained"

# SIGKILL at each point: before the switch the base keeps running; at or
# after it the new ruleset does; either way the pins stay usable.
for point in compile load empty write rules meta; do
    FWCTL_TEST_FAULT=kill:$point fw r apply "$E2E_TMP/new.json" >/dev/null 2>&1
    assert_eq 137 $? "killed at $point"
    base_runs "killed at $point"
done
for point in flip attach; do
    FWCTL_TEST_FAULT=kill:$point fw r apply "$E2E_TMP/new.json" >/dev/null 2>&1
    assert_eq 137 $? "killed at $point (after the switch)"
    assert_eq "$(fw r check "$E2E_TMP/new.json" >/dev/null; fw r status --json | json_get hash)" "$(hash_of)" "killed at $point: status works"
    assert_ok "killed at $point: the new ruleset runs (UDP 501)" udp_arrives wan r 192.0.2.1 501
    assert_exit 0 "killed at $point: the next apply works" fw r apply "$E2E_TMP/base.json"
    base_runs "re-applied base after the kill at $point"
done

# Bad input: exit 2, nothing changed. (A missing interface is not bad
# input: rules match by name, rules-format.md "Interfaces that appear later";
# tests/e2e/boot_order.sh covers it.)
echo '{"version": 1, "interfaces": ["bad/name"]}' >"$E2E_TMP/noif.json"
assert_exit 2 "an invalid interface name is refused" fw r apply "$E2E_TMP/noif.json"
echo '{"version": 1, "input": [{"action": "accept", "proto": "tcpp"}]}' >"$E2E_TMP/badproto.json"
assert_exit 2 "an unknown protocol name is refused" fw r apply "$E2E_TMP/badproto.json"
base_runs "after bad input"

# The very first apply failing while its programs are verified (a thread
# puts the connection and combine tables in their slots then): exit 1,
# nothing applied, no firewall, nothing pinned.
assert_exit 0 "down" fw r down
FWCTL_TEST_FAULT=slots fw r apply "$E2E_TMP/base.json" >"$E2E_TMP/out" 2>&1
assert_eq 1 $? "first apply, fault at slots: exit 1"
assert_match 'injected fault at "slots"' "$(cat "$E2E_TMP/out")" "first apply, fault at slots: says where"
assert_eq false "$(fw r status --json | json_get applied)" "first apply, fault at slots: nothing applied"
assert_eq "" "$(ls "$(fw_pin_dir r)" 2>/dev/null)" "first apply, fault at slots: nothing pinned"
assert_ok "first apply, fault at slots: no firewall (UDP 501 arrives)" udp_arrives wan r 192.0.2.1 501

# Killed during the very first apply (tables going into their slots,
# programs being pinned): no firewall, and the next apply starts over
# cleanly.
for point in slots pin load meta; do
    FWCTL_TEST_FAULT=kill:$point fw r apply "$E2E_TMP/base.json" >/dev/null 2>&1
    assert_eq 137 $? "first apply killed at $point"
    assert_eq false "$(fw r status --json | json_get applied)" "first apply killed at $point: nothing applied"
    assert_ok "first apply killed at $point: no firewall (UDP 501 arrives)" udp_arrives wan r 192.0.2.1 501
done
assert_exit 0 "apply after the killed first applies" fw r apply "$E2E_TMP/base.json"
base_runs "after the killed first applies"

# Fail closed: pins are root's only; without root fwctl says why, exit 1.
pd=$(fw_pin_dir r)
assert_eq 700 "$(stat -c %a "$pd")" "pin dir mode 0700"
assert_eq "" "$(find "$pd" -mindepth 1 -perm /077 2>/dev/null)" "no pinned file is readable or writable by group/others"
nobody() { nsx r setpriv --reuid=65534 --regid=65534 --clear-groups "$FWCTL" --pin-dir "$pd" "$@"; }
for cmd in "status" "stats" "show" "down" "confirm" "apply -"; do
    nobody $cmd <"$E2E_TMP/new.json" >"$E2E_TMP/np.out" 2>&1
    rc=$?
    assert_eq 1 $rc "unprivileged '$cmd': exit 1"
    assert_match 'root|CAP_BPF|Permission denied' "$(cat "$E2E_TMP/np.out")" "unprivileged '$cmd' says why: $(head -c 160 "$E2E_TMP/np.out")"
done
base_runs "after the unprivileged attempts"
e2e_finish
