#!/bin/bash
# Interfaces that appear after apply are filtered at once (rules-format.md,
# "Interfaces that appear later"): `fwctl watch` attaches to new veths and a
# TUN device within a second, tidies up after vanished ones, catches up when
# restarted, stays passive after `fwctl down`, and follows renames for an
# explicit "interfaces" list.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

ns_add gw h1 h2 h3
link_veth gw eth0 h1 eth0
addr gw eth0 10.9.1.1/24; addr h1 eth0 10.9.1.2/24
GW=$(ns_name gw)
PD=$(fw_pin_dir gw)
WLOG="$E2E_TMP/watch.log"
dump_watch_log() { [ -f "$WLOG" ] && sed 's/^/# watch: /' "$WLOG" >&2; true; }
e2e_on_cleanup dump_watch_log

# Input policy drop; UDP 7000 accepted on every interface.
cat >"$E2E_TMP/rules.json" <<'EOF'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "proto": "udp", "dport": 7000, "comment": "svc" } ] }
EOF
assert_exit 0 "apply on gw" fw gw apply "$E2E_TMP/rules.json"
# The first apply verifies only what its (Ethernet) interfaces need.
assert_ok "the apply left the L3 programs to later" test ! -e "$(fw_pin_dir gw)/prog_fw_xdp_l3"
assert_ok "the apply loaded fw_xdp" test -e "$(fw_pin_dir gw)/prog_fw_xdp"
# No watcher yet: a TUN device met by the next apply gets the L3 programs,
# verified then, against the running maps.
nsx gw ip tuntap add mode tun name tunpre
assert_exit 0 "apply meets a TUN device" fw gw apply "$E2E_TMP/rules.json"
assert_eq fw_xdp_l3 "$(fw gw status --json | "$E2E_PY" -c 'import json, sys
print(next((a["program"] for a in json.load(sys.stdin)["attachments"] if a["interface"] == "tunpre" and a["hook"] == "xdp"), "none"))')" "tunpre runs fw_xdp_l3, loaded on demand"
nsx gw ip link del tunpre
assert_ok "and not the IPsec ingress ones" test ! -e "$(fw_pin_dir gw)/prog_fw_tc_ingress_xfrm"
assert_ping_fails h1 10.9.1.1
assert_udp_ok h1 gw 10.9.1.1 7000

ifindex() { ip -n "$GW" -o link show "$1" | cut -d: -f1; }
pinned() { [ -e "$PD/link_xdp_$1" ] && [ -e "$PD/link_tc_$1" ]; }
unpinned() { ! [ -e "$PD/link_xdp_$1" ] && ! [ -e "$PD/link_tc_$1" ]; }
attached_json() { # IFNAME HOOK FIELD
    fw gw status --json | "$E2E_PY" -c '
import json, sys
s = json.load(sys.stdin)
for a in s["attachments"]:
    if a["interface"] == sys.argv[1] and a["hook"] == sys.argv[2] and a["attached"]:
        print(a[sys.argv[3]]); sys.exit(0)
sys.exit(1)' "$@"
}
uncovered_why() {
    fw gw status --json | json_get uncovered | json_find "interface=$1" why
}
start_watch() {
    # Empty it here: ns_bg's redirection truncates it only once the
    # background shell runs, and the wait below could see the previous
    # run's "watching link events" first.
    : >"$WLOG.tmp"
    ns_bg gw "$WLOG.tmp" "$FWCTL" --pin-dir "$PD" watch
    WPID=$E2E_LAST_PID
    # the log goes to a per-run file, appended to WLOG when stopped
    wait_until 5 grep -q "watching link events" "$WLOG.tmp" || fail "watcher did not start: $(cat "$WLOG.tmp")"
}
stop_watch() {
    kill -TERM "$WPID"
    local rc=0
    wait "$WPID" 2>/dev/null || rc=$?
    e2e_untrack_pid "$WPID"
    cat "$WLOG.tmp" >>"$WLOG"
    assert_eq 0 "$rc" "watcher exits 0 on SIGTERM"
    assert_match "stopping" "$(tail -n 1 "$WLOG.tmp")" "watcher says it stops"
}
# ms between $1 (EPOCHREALTIME) and the watcher's "attached NAME" line
watch_gap_ms() {
    local ts
    ts=$(grep " attached $2 " "$WLOG.tmp" | tail -n 1 | cut -d' ' -f1)
    [ -n "$ts" ] || { echo "none"; return; }
    "$E2E_PY" -c 'import sys, datetime
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
print(round((t.timestamp() - float(sys.argv[2])) * 1000, 1))' "$ts" "$1"
}

# --- 1. a new veth is attached within 1 s -----------------------------------
start_watch
assert_eq 0 "$(fw gw status --json | json_get uncovered.length)" "nothing uncovered at start"
# ...and the watcher verifies the rest as it starts, before any TUN device.
wait_until 5 test -e "$(fw_pin_dir gw)/prog_fw_xdp_l3"
assert_eq 8 "$(ls "$(fw_pin_dir gw)" | grep -c '^prog_')" "the watcher verified every other program"
t0=$EPOCHREALTIME
ip -n "$GW" link add eth1 type veth peer name eth0 netns "$(ns_name h2)"
idx1=$(ifindex eth1)
while ! pinned "$idx1"; do
    [ "$("$E2E_PY" -c "print(int(($EPOCHREALTIME - $t0) * 1000))")" -gt 3000 ] && break
    sleep 0.01
done
t1=$EPOCHREALTIME
gap=$("$E2E_PY" -c "print(round(($t1 - $t0) * 1000, 1))")
e2e_log "attach gap for eth1: ${gap} ms until both pins exist (polled); watcher's own line: $(watch_gap_ms "$t0" eth1) ms after link creation"
echo "ATTACH_GAP_MS eth1 $gap"
assert_ok "eth1 pinned (xdp + tc) by the watcher" pinned "$idx1"
assert_ok "eth1 attached within 1 s (${gap} ms)" "$E2E_PY" -c "import sys; sys.exit(0 if $gap < 1000 else 1)"
assert_eq fw_xdp "$(attached_json eth1 xdp program)" "status: eth1 xdp runs fw_xdp"
assert_eq tcx "$(attached_json eth1 tc-egress mode)" "status: eth1 tc-egress tcx"
assert_match "attached eth1 \(ifindex $idx1\)" "$(cat "$WLOG.tmp")" "watcher logs the attach"

addr gw eth1 10.9.2.1/24; addr h2 eth0 10.9.2.2/24
before=$(fw gw stats --json | json_get chains.input.policy_packets)
assert_ping_fails h2 10.9.2.1
assert_udp_fails h2 gw 10.9.2.1 7001
assert_udp_ok h2 gw 10.9.2.1 7000
after=$(fw gw stats --json | json_get chains.input.policy_packets)
assert_ge $((before + 3)) "$after" "input policy drops counted traffic from the new interface"

# --- 2. a TUN device gets the L3 programs ------------------------------------
t0=$EPOCHREALTIME
nsx gw ip tuntap add mode tun name tun0
idxt=$(ifindex tun0)
wait_until 2 pinned "$idxt"
gap=$("$E2E_PY" -c "print(round(($EPOCHREALTIME - $t0) * 1000, 1))")
echo "ATTACH_GAP_MS tun0 $gap"
assert_ok "tun0 pinned" pinned "$idxt"
assert_eq fw_xdp_l3 "$(attached_json tun0 xdp program)" "status: tun0 xdp runs fw_xdp_l3"
assert_eq fw_tc_egress_l3 "$(attached_json tun0 tc-egress program)" "status: tun0 tc-egress runs fw_tc_egress_l3"
assert_match "fw_xdp_l3" "$(fw gw status)" "text status names the L3 program"

# --- 3. a deleted interface leaves no stale pins -----------------------------
ip -n "$GW" link del eth1
wait_until 2 unpinned "$idx1"
assert_ok "eth1's pins removed after it vanished: $(ls "$PD" | grep '^link_' | tr '\n' ' ')" unpinned "$idx1"
assert_eq 0 "$(fw gw status --json | "$E2E_PY" -c 'import json, sys
print(sum(1 for a in json.load(sys.stdin)["attachments"] if not a["attached"]))')" "status lists no detached links"

# --- 4. restarted watcher catches up -----------------------------------------
ip -n "$GW" link add eth3 type veth peer name eth3 netns "$(ns_name h3)"
idx3=$(ifindex eth3)
wait_until 2 pinned "$idx3"
assert_ok "eth3 attached while the watcher runs" pinned "$idx3"
stop_watch
ip -n "$GW" link del eth3  # leaves stale pins behind: nobody watches
ip -n "$GW" link add eth2 type veth peer name eth0 netns "$(ns_name h3)"
addr gw eth2 10.9.3.1/24; addr h3 eth0 10.9.3.2/24
idx2=$(ifindex eth2)
assert_ok "eth3's pins are stale while no watcher runs" pinned "$idx3"
assert_match "selected but not attached.*watch" "$(uncovered_why eth2)" "status says why eth2 is not covered"
assert_match "eth2 +NOT covered" "$(fw gw status)" "text status flags eth2"
assert_ping_ok h3 10.9.3.1   # the hole the watcher closes
start_watch
assert_ok "restarted watcher attached eth2 on start" pinned "$idx2"
assert_ok "restarted watcher removed eth3's stale pins" unpinned "$idx3"
assert_ping_fails h3 10.9.3.1

# --- 5. apply while watching; `down` while watching --------------------------
assert_exit 0 "apply while the watcher runs does not block" timeout 5 nsenter --net="$(ns_path gw)" "$FWCTL" --pin-dir "$PD" apply "$E2E_TMP/rules.json"
assert_exit 0 "down while watching" fw gw down
ip -n "$GW" link add eth4 type veth peer name eth4 netns "$(ns_name h3)"
ip -n "$GW" link set eth4 up
sleep 0.5
assert_eq "" "$(ls "$PD")" "after down the watcher re-creates no pins"
assert_ok "watcher still running after down" kill -0 "$WPID"
assert_match "nothing is applied" "$(cat "$WLOG.tmp")" "watcher notices nothing is applied"
assert_exit 0 "re-apply" fw gw apply "$E2E_TMP/rules.json"
idx4=$(ifindex eth4)
assert_ok "apply attached eth4 itself" pinned "$idx4"
ip -n "$GW" link add eth5 type veth peer name eth5 netns "$(ns_name h3)"
idx5=$(ifindex eth5)
wait_until 2 pinned "$idx5"
assert_ok "after re-apply the watcher covers eth5" pinned "$idx5"

# --- 6. explicit "interfaces": renames are re-evaluated ----------------------
cat >"$E2E_TMP/explicit.json" <<'EOF'
{ "version": 1, "interfaces": ["eth0", "tun0"], "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "proto": "udp", "dport": 7000 } ] }
EOF
assert_exit 0 "apply with an explicit interfaces list" fw gw apply "$E2E_TMP/explicit.json"
assert_ok "eth5 detached by apply (not listed)" unpinned "$idx5"
ip -n "$GW" link set tun0 name tunx
wait_until 2 unpinned "$idxt"
assert_ok "tun0 renamed to tunx: detached" unpinned "$idxt"
assert_match "not in the ruleset's" "$(uncovered_why tunx)" "status: tunx not selected"
ip -n "$GW" link add eth6 type veth peer name eth6 netns "$(ns_name h3)"
sleep 0.5
assert_ok "eth6 (not listed) left alone" unpinned "$(ifindex eth6)"
ip -n "$GW" link set tunx name tun0
wait_until 2 pinned "$idxt"
assert_ok "renamed back to tun0: attached again" pinned "$idxt"

# --- 7. a device that rules name, created again, is matched by them ---------
ip -n "$GW" link add eth7 type veth peer name eth7 netns "$(ns_name h3)"
addr gw eth7 10.9.7.1/24; addr h3 eth7 10.9.7.2/24
cat >"$E2E_TMP/named.json" <<'EOF2'
{ "version": 1, "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "in": "eth7", "proto": "udp", "dport": 7100, "comment": "eth7 svc" } ] }
EOF2
assert_exit 0 "apply a rule naming eth7" fw gw apply "$E2E_TMP/named.json"
assert_udp_ok h3 gw 10.9.7.1 7100
old7=$(ifindex eth7)
ip -n "$GW" link del eth7
ip -n "$GW" link add eth7 type veth peer name eth7 netns "$(ns_name h3)"
idx7=$(ifindex eth7)
assert_ne "$old7" "$idx7" "eth7 came back with a new ifindex"
wait_until 2 grep -q "re-applied ruleset .* eth7" "$WLOG.tmp"
assert_match "re-applied ruleset .*rules naming eth7" "$(cat "$WLOG.tmp")" "watcher re-applies for a device that rules name"
assert_ok "new eth7 pinned" pinned "$idx7"
addr gw eth7 10.9.7.1/24; addr h3 eth7 10.9.7.2/24
assert_udp_ok h3 gw 10.9.7.1 7100
assert_udp_fails h3 gw 10.9.7.1 7101
assert_eq 2 "$(fw gw stats --json | json_get chains.input.rules.0.packets)" "the rule naming eth7 counted on the old and the new device"

stop_watch
e2e_finish
