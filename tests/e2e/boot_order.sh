#!/bin/bash
# A router's boot (issue 14): `fwctl run` applies a ruleset naming
# interfaces that do not exist yet (warnings, not errors), keeps running,
# and covers them when the network configuration creates them: the first
# traffic is filtered and masqueraded, no inside address leaves on the WAN.
# Then the WAN address changes (DHCP/PPP): masquerade follows it without a
# re-apply, and while there is none, masqueradable packets are dropped and
# counted. A watcher re-apply keeps a pending --confirm. A missing start-up
# file gives the fail-safe ruleset, not nothing.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

ns_add gw h1 h2
GW=$(ns_name gw)
PD=$(fw_pin_dir gw)
RLOG="$E2E_TMP/run.log"
dump_run_log() { [ -f "$RLOG" ] && sed 's/^/# run: /' "$RLOG" >&2; true; }
e2e_on_cleanup dump_run_log

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "lan", "proto": "udp", "dport": 7000, "comment": "svc" } ],
  "forward": [ { "action": "accept", "in": "lan", "out": "wan" } ],
  "nat": [ { "out": "wan" } ] }
JSON

# --- 1. names, not indexes: check warns, never fails ------------------------
out=$(fw gw check "$E2E_TMP/rules.json" 2>&1); rc=$?
assert_eq 0 "$rc" "check accepts a ruleset naming absent interfaces"
assert_match '/forward/0/out: warning: interface "wan" does not exist' "$out" "warning with its JSON pointer"
assert_match '/nat/0/out: warning' "$out" "NAT out warned too"

# --- 2. boot: fwctl run before any interface exists -------------------------
ns_bg gw "$RLOG" "$FWCTL" --pin-dir "$PD" run "$E2E_TMP/rules.json"
RUN_PID=$E2E_LAST_PID
wait_until 10 grep -q "watching link events" "$RLOG" || fail "fwctl run did not start: $(cat "$RLOG")"
assert_match "applied $E2E_TMP/rules.json" "$(cat "$RLOG")" "run applied the file before READY"
absent=$(fw gw status --json | json_get absent)
assert_match '"lan"' "$absent" "status lists lan as absent"
assert_match '"wan"' "$absent" "status lists wan as absent"

# The network configuration runs now.
link_veth gw lan h1 eth0
link_veth gw wan h2 eth0
addr gw lan 10.14.1.1/24; addr h1 eth0 10.14.1.2/24
addr gw wan 198.51.100.1/24; addr h2 eth0 198.51.100.2/24
route h1 default 10.14.1.1
forwarding gw 1
reapplied() { [ "$(grep -c "re-applied ruleset" "$RLOG")" -ge "$1" ]; }
wait_until 10 reapplied 1 || fail "no re-apply after lan/wan appeared"
# Both veths appear in one batch or two: wait until neither is absent.
no_absent() { [ "$(fw gw status --json | json_get absent.length)" = 0 ]; }
wait_until 10 no_absent || fail "still absent: $(fw gw status --json | json_get absent)"

assert_udp_ok h1 h2 198.51.100.2 7100
assert_eq 198.51.100.1 "${E2E_UDP_SEEN_SRC%:*}" "first traffic masqueraded to the WAN address (no inside address on the WAN)"
assert_udp_fails h2 h1 10.14.1.2 7101
assert_udp_ok h1 gw 10.14.1.1 7000
assert_ping_fails h2 198.51.100.1

# --- 3. masquerade follows the address ---------------------------------------
# The watcher logs each address it compiles in; wait for the last one.
masq_is() { grep "masquerade on wan: " "$RLOG" | tail -n 1 | grep -q "$1"; }
ip -n "$GW" addr del 198.51.100.1/24 dev wan
wait_until 5 masq_is "no IPv4 address" || fail "the watcher did not notice the address loss"
# The kernel flushed the routes through wan with its last address; a PPP
# link has its peer route without a local address for a moment: the same.
ip -n "$GW" route add 198.51.100.2/32 dev wan
assert_udp_fails h1 h2 198.51.100.2 7103
assert_ge 1 "$(fw gw stats --json | json_get other.nat_no_address.packets)" \
    "masqueradable packets without an address are dropped and counted"

ip -n "$GW" addr add 198.51.100.7/24 dev wan
wait_until 5 masq_is "now 198.51.100.7" || fail "the watcher did not follow the new address"
assert_udp_ok h1 h2 198.51.100.2 7102
assert_eq 198.51.100.7 "${E2E_UDP_SEEN_SRC%:*}" "a new connection uses the new WAN address"

# --- 6. a watcher re-apply keeps a pending confirmation ----------------------
assert_exit 0 "apply --confirm" fw gw apply "$E2E_TMP/rules.json" --confirm 120
ip -n "$GW" addr del 198.51.100.7/24 dev wan
ip -n "$GW" addr add 198.51.100.9/24 dev wan
wait_until 5 masq_is "now 198.51.100.9" || fail "no re-apply after the WAN address changed again"
assert_eq true "$(fw gw status --json | json_get confirm.pending)" "the confirmation is still pending after the watcher re-applied"
assert_exit 0 "confirm" fw gw confirm

e2e_stop_pid "$RUN_PID"

# --- 2b. a missing start-up file: the fail-safe ruleset, not nothing ----------
cat >"$E2E_TMP/failsafe.json" <<'JSON'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "lan", "proto": "udp", "dport": 7000, "comment": "management" } ] }
JSON
assert_exit 0 "down" fw gw down
FS_LOG="$E2E_TMP/run-failsafe.log"
FWCTL_FAILSAFE="$E2E_TMP/failsafe.json" ns_bg gw "$FS_LOG" env FWCTL_FAILSAFE="$E2E_TMP/failsafe.json" \
    "$FWCTL" --pin-dir "$PD" run "$E2E_TMP/missing.json"
FS_PID=$E2E_LAST_PID
wait_until 10 grep -q "watching link events" "$FS_LOG" || fail "fwctl run (fail-safe) did not start: $(cat "$FS_LOG")"
assert_match "FAIL-SAFE ruleset applied" "$(cat "$FS_LOG")" "a missing file applies the fail-safe ruleset"
assert_eq drop "$(fw gw show | json_get policy.forward)" "fail-safe: forward drop"
assert_udp_ok h1 gw 10.14.1.1 7000    # the management access failsafe.json grants
assert_udp_fails h1 h2 198.51.100.2 7104
e2e_stop_pid "$FS_PID"
sed 's/^/# run (fail-safe): /' "$FS_LOG" >&2

e2e_finish
