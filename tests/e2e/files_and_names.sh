#!/bin/bash
# Issue 14 items 7 and 8: `save` is durable and does not follow a planted
# symlink, mode 0600; an interface deleted in the middle of an apply is
# skipped with a warning; the bpffs root as --pin-dir is refused (exit 2);
# comments with control characters are escaped in text output; `import
# weos` never asks this machine about interfaces.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

ns_add gw h1
GW=$(ns_name gw)
PD=$(fw_pin_dir gw)
link_veth gw eth0 h1 eth0
addr gw eth0 10.15.1.1/24; addr h1 eth0 10.15.1.2/24

printf '%s' '{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "proto": "udp", "dport": 7000, "comment": "line\nforged\u001b[31m" } ] }' \
    >"$E2E_TMP/rules.json"

# --- an interface vanishes in the middle of an apply --------------------------
ip -n "$GW" link add tmp0 type veth peer name tmp1
ALOG="$E2E_TMP/apply.log"
FWCTL_TEST_FAULT=stop:flip ns_bg gw "$ALOG" env FWCTL_TEST_FAULT=stop:flip \
    "$FWCTL" --pin-dir "$PD" apply "$E2E_TMP/rules.json"
APID=$E2E_LAST_PID
stopped() { [ "$(awk '{print $3}' "/proc/$APID/stat" 2>/dev/null)" = T ]; }
wait_until 20 stopped || fail "apply did not stop at the flip"
ip -n "$GW" link del tmp0
kill -CONT "$APID"
rc=0; wait "$APID" || rc=$?
e2e_untrack_pid "$APID"
assert_eq 0 "$rc" "apply succeeds although tmp0 vanished mid-way"
assert_match "tmp0 .*vanished during apply: skipped" "$(cat "$ALOG")" "warns about the vanished interface"
assert_udp_ok h1 gw 10.15.1.1 7000
assert_ping_fails h1 10.15.1.1

# --- comments with control characters ---------------------------------------
txt=$(fw gw stats)
assert_match 'line\\nforged\\x1b\[31m' "$txt" "stats text escapes the comment"
if printf '%s' "$txt" | grep -q $'\x1b'; then fail "raw ESC in stats output"; else pass "no raw ESC in stats output"; fi

# --- save: durable, 0600, no symlink following --------------------------------
mkdir -p "$E2E_TMP/etc"
echo victim >"$E2E_TMP/victim"
ln -s "$E2E_TMP/victim" "$E2E_TMP/etc/rules.json.tmp"
ln -s "$E2E_TMP/victim" "$E2E_TMP/etc/rules.json"
assert_exit 0 "save" fw gw save "$E2E_TMP/etc/rules.json"
assert_eq victim "$(cat "$E2E_TMP/victim")" "save wrote through no symlink"
assert_eq "regular file 600" "$(stat -c '%F %a' "$E2E_TMP/etc/rules.json")" "saved file is a regular file, mode 0600"
assert_exit 0 "the saved file checks" fw gw check "$E2E_TMP/etc/rules.json"
assert_exit 0 "save into a missing directory" fw gw save "$E2E_TMP/new/dir/rules.json"
assert_eq 600 "$(stat -c %a "$E2E_TMP/new/dir/rules.json")" "mode 0600 there too"

# --- the bpffs root as pin dir ----------------------------------------------
assert_exit 2 "--pin-dir of the bpffs root is refused" \
    nsenter --net="$(ns_path gw)" "$FWCTL" --pin-dir "$E2E_BPF" status
assert_exit 2 "... also for apply" \
    nsenter --net="$(ns_path gw)" "$FWCTL" --pin-dir "$E2E_BPF" apply "$E2E_TMP/rules.json"

# --- import weos is a translation ----------------------------------------------
printf '%s\n' 'ip firewall' 'forward policy drop' \
    'forward accept in vlan77 out vlan78' 'leave' >"$E2E_TMP/weos.txt"
out=$(nsenter --net="$(ns_path gw)" "$FWCTL" import weos "$E2E_TMP/weos.txt" 2>&1); rc=$?
assert_eq 0 "$rc" "import weos of interfaces this machine does not have"
assert_match '"vlan77"' "$out" "translated"

e2e_finish
