#!/bin/bash
# apply --confirm where systemd runs: the deadline is a transient systemd
# timer (systemd-run --on-active), not a process that dies with an SSH
# session; elsewhere the detached waiter. systemd is not PID 1 here, so a
# recording systemd-run/systemctl stand in on PATH, FWCTL_SYSTEMD_RUNTIME_DIR
# for /run/systemd/system and FWCTL_SYSTEMD_PID (this shell) for PID 1's
# namespaces; the command the timer would start is then run as systemd would
# run it (in the network namespace the unit names), and must roll back.
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

mkdir -p "$E2E_TMP/bin" "$E2E_TMP/systemd-system"
for tool in systemd-run systemctl; do
    cat >"$E2E_TMP/bin/$tool" <<SH
#!/bin/sh
# records one call: its arguments, one a line, then an empty line
for a in "\$@"; do printf '%s\n' "\$a"; done >>"$E2E_TMP/$tool.calls"
echo >>"$E2E_TMP/$tool.calls"
exit \${FAKE_RC:-0}
SH
    chmod +x "$E2E_TMP/bin/$tool"
done
# fw with systemd "running": PID 1's stand-in is this shell (host mount and
# network namespaces; fwctl runs in r's).
fws() { PATH="$E2E_TMP/bin:$PATH" FWCTL_SYSTEMD_RUNTIME_DIR="$E2E_TMP/systemd-system" FWCTL_SYSTEMD_PID=$$ fw "$@"; }
arg_of() { grep -m1 -- "^$1" "$E2E_TMP/systemd-run.calls" | cut -c$((${#1} + 1))-; }

assert_exit 0 "apply the base ruleset" fw r apply "$E2E_TMP/base.json"
base=$(hash_of)

# 1. systemd runs: a timer, no waiter.
assert_exit 0 "apply --confirm 3 (lock-out) where systemd runs" fws r apply "$E2E_TMP/lockout.json" --confirm 3
lock=$(hash_of)
assert_ok "systemd-run was called" test -s "$E2E_TMP/systemd-run.calls"
unit=$(arg_of --unit=)
token=${unit#fwctl-confirm-}
assert_match '^fwctl-confirm-[0-9a-f]{32}$' "$unit" "the unit is fwctl-confirm-<token>"
assert_eq 3 "$(arg_of --on-active=)" "--on-active=3"
assert_eq "$(ns_path r)" "$(arg_of --property=NetworkNamespacePath=)" "the unit runs in the router's network namespace"
assert_ok "the unit runs fwctl confirm-timeout with the token" \
    sh -c "tr '\n' ' ' <'$E2E_TMP/systemd-run.calls' | grep -q -- '--pin-dir $(fw_pin_dir r) confirm-timeout --deadline [0-9]* --expect $lock --token $token'"
assert_eq -1 "$(fw r status --json | json_get confirm.waiter_pid)" "no waiter process"
assert_ok "admin traffic is blocked" admin_blocked
sleep 4
assert_eq "$lock" "$(hash_of)" "nothing but the timer rolls back (no waiter)"
# What systemd starts when the timer elapses: the recorded command line,
# in the namespace the unit names.
mapfile -t call < <(sed -n '/^\//,/^$/p' "$E2E_TMP/systemd-run.calls" | sed '/^$/d')
assert_exit 0 "the timer's command runs (as systemd would)" nsenter --net="$(ns_path r)" -- "${call[@]}"
assert_match 'rolled back' "$(cat "$E2E_TMP/last.out")" "it rolled back"
assert_eq "$base" "$(hash_of)" "the base ruleset is back"
assert_ok "admin traffic flows" admin_ok

# 2. Confirmed: the timer is stopped.
rm -f "$E2E_TMP/systemd-run.calls" "$E2E_TMP/systemctl.calls"
assert_exit 0 "apply --confirm 30 where systemd runs" fws r apply "$E2E_TMP/lockout.json" --confirm 30
unit=$(arg_of --unit=)
assert_exit 0 "fwctl confirm" fws r confirm
assert_ok "confirm stopped $unit.timer" sh -c "tr '\n' ' ' <'$E2E_TMP/systemctl.calls' | grep -q 'stop --quiet $unit.timer'"
mapfile -t call < <(sed -n '/^\//,/^$/p' "$E2E_TMP/systemd-run.calls" | sed '/^$/d')
assert_exit 0 "a timer that fires anyway does nothing" nsenter --net="$(ns_path r)" -- "${call[@]}"
assert_eq "$lock" "$(hash_of)" "the confirmed ruleset stays"

# 3. A superseding apply --confirm stops the earlier timer.
assert_exit 0 "back to base" fw r apply "$E2E_TMP/base.json"
rm -f "$E2E_TMP/systemd-run.calls" "$E2E_TMP/systemctl.calls"
assert_exit 0 "apply --confirm 30" fws r apply "$E2E_TMP/lockout.json" --confirm 30
first=$(arg_of --unit=)
rm -f "$E2E_TMP/systemd-run.calls"
assert_exit 0 "apply --confirm 30 again (changed comment)" fws r apply - --confirm 30 \
    < <(sed 's/"vlan1"/"vlan1", "comment": "x"/' "$E2E_TMP/lockout.json")
assert_ok "the first timer was stopped" grep -q "^$first.timer\$" "$E2E_TMP/systemctl.calls"
assert_eq "$base" "$(fw r status --json | json_get confirm.rolls_back_to)" "still rolls back to base"
assert_exit 0 "confirm" fws r confirm

# 4. systemd-run refuses: the waiter holds the deadline instead.
assert_exit 0 "back to base" fw r apply "$E2E_TMP/base.json"
FAKE_RC=1 fws r apply "$E2E_TMP/lockout.json" --confirm 2 >"$E2E_TMP/out4" 2>&1
assert_eq 0 $? "apply --confirm 2 with a failing systemd-run"
assert_match 'waiter process holds the deadline' "$(cat "$E2E_TMP/out4")" "it says so"
assert_eq true "$(fw r status --json | json_get confirm.waiter_alive)" "a waiter runs"
assert_ok "the waiter rolls back" wait_until 10 admin_ok
assert_eq "$base" "$(hash_of)" "base is back"

# 5. systemd not running (no /run/systemd/system): the waiter, no systemd-run.
rm -f "$E2E_TMP/systemd-run.calls"
assert_exit 0 "apply --confirm 2 where systemd does not run" \
    env PATH="$E2E_TMP/bin:$PATH" FWCTL_SYSTEMD_RUNTIME_DIR="$E2E_TMP/absent" FWCTL_SYSTEMD_PID=$$ \
    nsenter --net="$(ns_path r)" -- "$FWCTL" --pin-dir "$(fw_pin_dir r)" apply "$E2E_TMP/lockout.json" --confirm 2
assert_fails "systemd-run was not called" test -e "$E2E_TMP/systemd-run.calls"
assert_eq true "$(fw r status --json | json_get confirm.waiter_alive)" "a waiter runs"
assert_ok "the waiter rolls back" wait_until 10 admin_ok
assert_eq "$base" "$(hash_of)" "base is back"
e2e_finish
