#!/bin/bash
# apply --confirm: no lock-out. A ruleset that cuts the "admin" traffic
# (UDP 500 to the router) is rolled back after its deadline unless `fwctl
# confirm` runs; also when the fwctl that applied it is SIGKILLed right
# after the switch, and for a first-ever apply (back to no firewall).
#   lan (10.1.0.2) --vlan1-- r --vlan2-- wan (192.0.2.2)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

router_topology

cat >"$E2E_TMP/base.json" <<'JSON'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "vlan2", "proto": "udp", "dport": 500, "comment": "admin" } ] }
JSON
cat >"$E2E_TMP/lockout.json" <<'JSON'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "vlan1", "proto": "udp", "dport": 500 } ] }
JSON

export E2E_UDP_TIMEOUT=1
admin_ok() { udp_arrives wan r 192.0.2.1 500; }
admin_blocked() { ! udp_arrives wan r 192.0.2.1 500; }
hash_of() { fw r status --json | json_get hash; }

assert_exit 0 "apply the base ruleset" fw r apply "$E2E_TMP/base.json"
base=$(hash_of)
assert_ok "admin traffic flows" admin_ok

# 1. Not confirmed: rolled back after the deadline.
t0=$SECONDS
assert_exit 0 "apply the lock-out ruleset with --confirm 3" fw r apply "$E2E_TMP/lockout.json" --confirm 3
lock=$(hash_of)
assert_ne "$base" "$lock" "the lock-out ruleset is applied"
assert_eq true "$(fw r status --json | json_get confirm.pending)" "status shows the pending confirmation"
assert_eq "$base" "$(fw r status --json | json_get confirm.rolls_back_to)" "status shows what it rolls back to"
assert_ok "admin traffic is blocked meanwhile" admin_blocked
assert_ok "admin traffic flows again after the deadline" wait_until 10 admin_ok
assert_ge 3 $((SECONDS - t0 + 1)) "not before the deadline"
assert_eq "$base" "$(hash_of)" "the previous ruleset is back"
assert_match '"reverted"' "$(fw r status --json)" "status says it was rolled back"
assert_exit 1 "confirm after the rollback says it is too late" fw r confirm
assert_match 'too late' "$(cat "$E2E_TMP/last.out")" "with a message"

# 2. Confirmed in time: stays.
assert_exit 0 "apply --confirm 3 again" fw r apply "$E2E_TMP/lockout.json" --confirm 3
assert_exit 0 "fwctl confirm" fw r confirm
sleep 4
assert_eq "$lock" "$(hash_of)" "the confirmed ruleset stays after the deadline"
assert_ok "admin traffic still blocked (confirmed)" admin_blocked
assert_exit 0 "confirm with nothing pending is fine" fw r confirm

# 3. The fwctl that applied is SIGKILLed right after the switch: the waiter,
# started before the switch, still rolls back.
assert_exit 0 "back to base" fw r apply "$E2E_TMP/base.json"
FWCTL_TEST_FAULT=kill:flip fw r apply "$E2E_TMP/lockout.json" --confirm 2 >/dev/null 2>&1
assert_eq 137 $? "the applying fwctl died by SIGKILL after the switch"
assert_eq "$lock" "$(hash_of)" "the lock-out ruleset was switched in"
assert_ok "rolled back anyway" wait_until 10 admin_ok
assert_eq "$base" "$(hash_of)" "base ruleset back after the killed apply"

# 4. Two unconfirmed applies in a row roll back to the last confirmed one.
assert_exit 0 "apply --confirm 30 (lock-out)" fw r apply "$E2E_TMP/lockout.json" --confirm 30
assert_exit 0 "apply --confirm 2 (base, changed comment)" fw r apply - --confirm 2 \
    < <(sed 's/"admin"/"admin2"/' "$E2E_TMP/base.json")
assert_eq "$base" "$(fw r status --json | json_get confirm.rolls_back_to)" "rolls back past the unconfirmed one"
assert_ok "rolled back to the confirmed base" wait_until 10 sh -c "[ \"\$(\"$FWCTL\" --pin-dir $(fw_pin_dir r) status --json | $E2E_PY -c 'import json,sys; print(json.load(sys.stdin).get(\"hash\"))')\" = $base ]"

# 5. The waiter is SIGKILLed (by its PID from status): nothing rolls back by
# itself, status says so, and a late `fwctl confirm` rolls back instead of
# confirming.
assert_exit 0 "apply --confirm 2 (lock-out)" fw r apply "$E2E_TMP/lockout.json" --confirm 2
wpid=$(fw r status --json | json_get confirm.waiter_pid)
assert_eq true "$(fw r status --json | json_get confirm.waiter_alive)" "waiter $wpid alive"
kill -KILL "$wpid"
sleep 3
assert_eq false "$(fw r status --json | json_get confirm.waiter_alive)" "status shows the waiter is gone"
assert_exit 1 "late confirm refuses" fw r confirm
assert_match 'too late.*rolled back' "$(cat "$E2E_TMP/last.out")" "and rolls back"
assert_eq "$base" "$(hash_of)" "base ruleset back"
assert_ok "admin traffic flows" admin_ok

# 6. First-ever apply with --confirm: the rollback is "no firewall".
assert_exit 0 "down" fw r down
# (5 s: the window counts from the start of apply, and a first apply loads
# the programs, which takes a second or two on a busy machine.)
assert_exit 0 "first apply --confirm 5 (lock-out)" fw r apply "$E2E_TMP/lockout.json" --confirm 5
assert_ok "admin traffic blocked" admin_blocked
assert_ok "no firewall after the deadline" wait_until 10 admin_ok
assert_eq false "$(fw r status --json | json_get applied)" "nothing applied"
e2e_finish
