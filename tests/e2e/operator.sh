#!/bin/bash
# What an operator uses (docs/ops.md), on real traffic through a router
# namespace: `stats --prometheus` read by prometheus_client's own parser,
# a comment-only edit keeping counters, `stats --reset`, `trace` naming the
# rule that dropped a packet, several `log` readers at once, and `log
# --journal` found by `journalctl FWCTL_RULE=N` (a private journald in a
# private mount namespace; skipped with a message where it cannot run).
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init
router_topology

rules() { # rules COMMENT_OF_RULE_1
	cat <<EOF2
{ "version": 1, "policy": { "input": "accept", "forward": "drop" },
  "log": { "limit": "100/second", "burst": 50 },
  "forward": [
    { "action": "accept", "in": "vlan1", "out": "vlan2", "proto": "udp", "dport": 7000, "comment": "$1" },
    { "action": "drop", "in": "vlan1", "proto": "udp", "dport": 9, "log": true, "comment": "discard" }
  ],
  "nat": [ { "out": "vlan2" } ] }
EOF2
}
rules "lan out" >"$E2E_TMP/a.json"
rules "lan out, renamed" >"$E2E_TMP/b.json"
assert_exit 0 "apply" fw r apply "$E2E_TMP/a.json"
assert_udp_ok lan wan 192.0.2.2 7000
assert_udp_fails lan wan 192.0.2.2 9

# --- Prometheus text format, parsed by prometheus_client ---------------------
fw r stats --prometheus >"$E2E_TMP/metrics.prom"
prom() { # prom NAME LABEL=VALUE... -> the sample's value
	# Debian's python3 (python3-prometheus-client), not whatever python3 PATH finds first
	/usr/bin/python3 - "$E2E_TMP/metrics.prom" "$@" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
path, name, want = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
for fam in text_string_to_metric_families(open(path).read()):
    for s in fam.samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in want.items()):
            print(int(s.value)); sys.exit(0)
print("missing")
PY
}
assert_ge 1 "$(prom fwctl_rule_packets_total chain=forward position=1 action=accept comment='lan out')" "prometheus: rule 1 packets"
assert_ge 28 "$(prom fwctl_rule_bytes_total chain=forward position=1 comment='lan out')" "prometheus: rule 1 bytes"
assert_ge 1 "$(prom fwctl_rule_packets_total chain=forward position=2 action=drop comment=discard)" "prometheus: rule 2 packets"
assert_eq 0 "$(prom fwctl_policy_packets_total chain=forward policy=drop)" "prometheus: forward policy"
assert_ge 1 "$(prom fwctl_nat_packets_total position=1)" "prometheus: masquerade hits"
assert_ge 1 "$(prom fwctl_state_packets_total state=established)" "prometheus: established (the reply)"
assert_ge 1 "$(prom fwctl_log_events_total)" "prometheus: log events"
assert_eq 0 "$(prom fwctl_log_suppressed_total)" "prometheus: log suppressed"
assert_ge 1 "$(prom fwctl_conntrack_connections)" "prometheus: conntrack fill"
assert_eq 65536 "$(prom fwctl_conntrack_capacity)" "prometheus: conntrack capacity"
assert_ge 1000000 "$(prom fwctl_map_memory_bytes map=fw_ct)" "prometheus: fw_ct memory"

# --- a comment-only edit keeps counters; --reset zeroes them -----------------
before=$(fw r stats --json | json_get chains.forward.rules.0.packets)
assert_exit 0 "apply with only rule 1's comment changed" fw r apply "$E2E_TMP/b.json"
assert_eq "$before" "$(fw r stats --json | json_get chains.forward.rules.0.packets)" "comment edit kept rule 1's counter"
assert_eq "lan out, renamed" "$(fw r stats --json | json_get chains.forward.rules.0.comment)" "new comment shown"
assert_exit 0 "stats --reset" fw r stats --reset
fw r stats --json >"$E2E_TMP/reset.json"
assert_eq 0 "$(json_get chains.forward.rules.0.packets "$E2E_TMP/reset.json")" "reset: rule 1"
assert_eq 0 "$(json_get chains.forward.rules.1.packets "$E2E_TMP/reset.json")" "reset: rule 2"
assert_eq 0 "$(json_get nat.0.packets "$E2E_TMP/reset.json")" "reset: nat"
assert_eq 0 "$(json_get log.events "$E2E_TMP/reset.json")" "reset: log events"
assert_eq 0 "$(json_get state.established.packets "$E2E_TMP/reset.json")" "reset: state"
assert_ge 1 "$(fw r conntrack --json | json_get length)" "reset kept the connections"
assert_udp_ok lan wan 192.0.2.2 7000 40001
assert_eq 1 "$(fw r stats --json | json_get chains.forward.rules.0.packets)" "counting again after the reset"

# --- trace: the rule that dropped it ----------------------------------------
ns_bg r "$E2E_TMP/trace.out" "$FWCTL" --pin-dir "$(fw_pin_dir r)" trace --in vlan1 --proto udp --dport 9 --count 1 --json
tpid=$E2E_LAST_PID
# Send until the tracer (armed a moment after it starts) has seen one.
for _ in $(seq 40); do
	[ -s "$E2E_TMP/trace.out" ] && grep -q '"chain"' "$E2E_TMP/trace.out" && break
	udp_arrives lan wan 192.0.2.2 9 >/dev/null 2>&1 || true
done
wait_until 10 bash -c "! kill -0 $tpid 2>/dev/null"
line=$(grep '"chain"' "$E2E_TMP/trace.out" | head -1)
assert_eq forward "$(echo "$line" | json_get chain -)" "trace: chain"
assert_eq new "$(echo "$line" | json_get state -)" "trace: state"
assert_eq rule "$(echo "$line" | json_get decided_by -)" "trace: decided by a rule"
assert_eq 2 "$(echo "$line" | json_get position -)" "trace: rule position"
assert_eq discard "$(echo "$line" | json_get comment -)" "trace: rule comment"
assert_eq drop "$(echo "$line" | json_get verdict -)" "trace: verdict"
assert_eq XDP_DROP "$(echo "$line" | json_get xdp -)" "trace: XDP action"
assert_eq 9 "$(echo "$line" | json_get dst - | sed 's/.*://')" "trace: filter --dport 9"
assert_exit 2 "trace: an unknown interface is bad input" fw r trace --in nosuch0 --count 1
# Text form for the accepted, masqueraded connection's next packet.
ns_bg r "$E2E_TMP/trace2.out" "$FWCTL" --pin-dir "$(fw_pin_dir r)" trace --in vlan1 --dport 7000 --count 1
tpid=$E2E_LAST_PID
for _ in $(seq 40); do
	grep -q 'fast path' "$E2E_TMP/trace2.out" 2>/dev/null && break
	udp_check lan wan 192.0.2.2 7000 40002 >/dev/null 2>&1 || true
done
wait_until 10 bash -c "! kill -0 $tpid 2>/dev/null"
assert_match 'rule 1 "lan out, renamed": accept' "$(cat "$E2E_TMP/trace2.out")" "trace text: rule and comment"
assert_match 'nat masquerade to 192\.0\.2\.1:' "$(cat "$E2E_TMP/trace2.out")" "trace text: masquerade"
# The fast path is on by default; a masqueraded connection's first packet
# takes the stack (TC egress translates it), and the trace says so.
assert_match 'fast path not taken: first packet of a connection when NAT rules exist' \
	"$(cat "$E2E_TMP/trace2.out")" "trace text: fast path why"

# --- several log readers at once ---------------------------------------------
ns_bg r "$E2E_TMP/log1.out" "$FWCTL" --pin-dir "$(fw_pin_dir r)" log --follow
lpid=$E2E_LAST_PID
assert_exit 0 "a second log reader runs beside a follower" fw r log
e2e_stop_pid "$lpid"

# --- the journal ---------------------------------------------------------------
assert_udp_fails lan wan 192.0.2.2 9
journald=/lib/systemd/systemd-journald
if [ ! -x "$journald" ] || ! command -v journalctl >/dev/null || ! command -v unshare >/dev/null; then
	echo "SKIP (journal part): systemd-journald/journalctl/unshare missing"
else
	mkdir -p "$E2E_TMP/journal"
	cat >"$E2E_TMP/journal.sh" <<EOF2
set -e
mount -t tmpfs tmpfs /run/systemd 2>/dev/null || { mkdir -p /run/systemd; mount -t tmpfs tmpfs /run/systemd; }
# journald keeps its files in /run/log/journal (volatile until a flush)
# and /var/log/journal: both private to this mount namespace.
mkdir -p /run/systemd/journal /run/log /var/log/journal
mount -t tmpfs tmpfs /run/log
mount --bind "$E2E_TMP/journal" /var/log/journal
$journald & jpid=\$!
trap 'kill \$jpid 2>/dev/null; wait \$jpid 2>/dev/null' EXIT
for _ in \$(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.05; done
nsenter --net=$(ns_path r) "$FWCTL" --pin-dir "$(fw_pin_dir r)" log --journal
journalctl --sync 2>/dev/null || sleep 1
journalctl --no-pager -o json FWCTL_RULE=2 FWCTL_CHAIN=forward
EOF2
	if unshare -m --propagation private bash "$E2E_TMP/journal.sh" >"$E2E_TMP/journal.out" 2>"$E2E_TMP/journal.err"; then
		entry=$(head -1 "$E2E_TMP/journal.out")
		assert_eq drop "$(echo "$entry" | json_get FWCTL_ACTION -)" "journal: FWCTL_ACTION"
		assert_eq discard "$(echo "$entry" | json_get FWCTL_COMMENT -)" "journal: FWCTL_COMMENT"
		assert_eq vlan1 "$(echo "$entry" | json_get FWCTL_IN -)" "journal: FWCTL_IN"
		assert_eq vlan2 "$(echo "$entry" | json_get FWCTL_OUT -)" "journal: FWCTL_OUT"
		assert_eq 9 "$(echo "$entry" | json_get FWCTL_DPORT -)" "journal: FWCTL_DPORT"
		assert_eq 10.1.0.2 "$(echo "$entry" | json_get FWCTL_SRC -)" "journal: FWCTL_SRC"
		assert_eq 4 "$(echo "$entry" | json_get PRIORITY -)" "journal: priority warning for a drop"
		assert_match '^fwctl forward 2 "discard" drop: IN=vlan1 OUT=vlan2 SRC=10\.1\.0\.2 DST=192\.0\.2\.2 LEN=[0-9]+ PROTO=UDP SPT=[0-9]+ DPT=9$' \
			"$(echo "$entry" | json_get MESSAGE -)" "journal: MESSAGE"
	else
		echo "SKIP (journal part): a private journald could not run: $(tail -2 "$E2E_TMP/journal.err")"
	fi
fi
e2e_finish
