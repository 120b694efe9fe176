#!/bin/bash
# Kernel memory of fwctl's maps at 10,000 rules and at 1,000,000 tracked
# connections, as `fwctl status --json` reports it (each map's fdinfo
# `memlock:`, the kernel's own accounting). Runs in its own network
# namespace with a private bpffs (tests/e2e/lib/netns.sh: unique names,
# everything removed on exit); nothing touches the host's interfaces.
#
#   sudo tools/bench/mem_report.sh [BUILD_DIR]        # default: build
#   MEM_CONNS=1000000 MEM_RULES=10000 MEM_PREFIX=1    # the defaults
#
# Steps: a 1-rule ruleset; N rules (N-1 `udp dport P drop` + `udp dport
# 9000 accept`, forward chain, policy drop), applied once and again (the
# classifier is double-buffered: after a re-apply both generations hold a
# ruleset); with MEM_PREFIX=1 also N `saddr` /24 drop rules; then the N
# port rules with "conntrack": {"max-connections": MEM_CONNS}, which the
# running datapath must refuse (exit 2) until `fwctl down`; then the table
# is filled with MEM_CONNS flows by the datapath itself (build/ct_fill:
# one BPF_PROG_TEST_RUN of fw_xdp per packet, each flow's first packet and
# its answer, so flows are replied UDP streams with 120 s to live), counted
# with `fwctl conntrack`, and the per-packet cost of a hit is measured
# against the default-size table holding 100,000 flows. Takes 1-3 minutes.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
FWCTL=$BUILD/fwctl
CT_FILL=$BUILD/ct_fill
CONNS=${MEM_CONNS:-1000000}
RULES=${MEM_RULES:-10000}
[ -x "$FWCTL" ] && [ -x "$CT_FILL" ] || { echo "build fwctl and ct_fill first (cmake --build $BUILD)" >&2; exit 2; }
export FWCTL
. "$SRC/tests/e2e/lib/netns.sh"
e2e_init memreport

# One router namespace; IPv6 off so that no ND/MLD of its own interfaces
# opens connections (the counts below are exactly the flows sent).
ns_add r
ns_sysctl r net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
R=$(ns_name r)
ip -n "$R" link add vlan1 type veth peer name lan1
ip -n "$R" link add vlan2 type veth peer name wan1
for i in vlan1 lan1 vlan2 wan1; do ip -n "$R" link set "$i" up; done
addr r vlan1 10.0.0.1/8
addr r vlan2 192.0.2.1/24
ip -n "$R" neigh replace 192.0.2.2 lladdr 02:00:00:00:02:02 dev vlan2 nud permanent
route r 198.51.100.0/24 192.0.2.2
forwarding r 1

T=$E2E_TMP
# rules FILE N [CONNS]: N-1 port drops + the accept, forward chain.
rules() {
    "$E2E_PY" - "$@" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
fwd = [{"action": "drop", "proto": "udp", "dport": 20000 + i} for i in range(n - 1)]
fwd.append({"action": "accept", "proto": "udp", "dport": 9000})
rs = {"version": 1, "interfaces": ["vlan1", "vlan2"], "policy": {"input": "accept", "forward": "drop"}, "forward": fwd}
if len(sys.argv) > 3:
    rs["conntrack"] = {"max-connections": int(sys.argv[3])}
json.dump(rs, open(path, "w"))
PY
}
# prefix_rules FILE N: N-1 drops of distinct source /24s + the accept.
prefix_rules() {
    "$E2E_PY" - "$@" <<'PY'
import json, sys
path, n = sys.argv[1], int(sys.argv[2])
fwd = [{"action": "drop", "saddr": "172.%d.%d.0/24" % (16 + i // 256, i % 256)} for i in range(n - 1)]
fwd.append({"action": "accept", "proto": "udp", "dport": 9000})
json.dump({"version": 1, "interfaces": ["vlan1", "vlan2"], "policy": {"input": "accept", "forward": "drop"}, "forward": fwd}, open(path, "w"))
PY
}
# report LABEL: one line: total, the connection table, the classifier maps.
report() {
    fw r status --json | "$E2E_PY" -c '
import json, sys
label = sys.argv[1]
s = json.load(sys.stdin)
m = {x["name"]: x for x in s["memory"]["maps"]}
mib = lambda b: "%.1f" % (b / 1048576)
cls = sum(x["bytes"] for n, x in m.items() if n.startswith("fw_cls_") or n == "fw_rules")
rest = s["memory"]["total_bytes"] - m["fw_ct"]["bytes"] - cls
print("| %s | %s | %s (%d entries) | %s | %s (%s) |" % (label, mib(s["memory"]["total_bytes"]),
      mib(m["fw_ct"]["bytes"]), m["fw_ct"]["max_entries"], mib(cls), mib(rest),
      ", ".join("%s %s" % (n, mib(x["bytes"])) for n, x in sorted(m.items(), key=lambda kv: -kv[1]["bytes"])
                if not n.startswith("fw_cls_") and n not in ("fw_rules", "fw_ct") and x["bytes"] >= 1048576)))
' "$1"
}
timed_apply() { # timed_apply FILE -> prints seconds; fails loudly
    local t0 t1
    t0=$(date +%s.%N)
    fw r apply "$1" >"$T/apply.out" 2>&1 || { cat "$T/apply.out" >&2; e2e_die "apply $1 failed"; }
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
}

echo "# fwctl map memory ($(uname -r), $(nproc) CPUs; MiB = 2^20 bytes, from fdinfo memlock)"
echo
echo "| state | total MiB | fw_ct MiB | classifier MiB (fw_cls_*, fw_rules) | other MiB (maps >= 1 MiB) |"
echo "|---|---:|---:|---:|---|"
rules "$T/one.json" 1
timed_apply "$T/one.json" >/dev/null
report "1 rule, default table"
rules "$T/rules.json" "$RULES"
s=$(timed_apply "$T/rules.json")
report "$RULES port rules (applied in ${s}s)"
timed_apply "$T/rules.json" >/dev/null
report "$RULES port rules, re-applied (both generations)"
fw r status --json >"$T/maps.json"
if [ "${MEM_PREFIX:-1}" = 1 ]; then
    fw r down >/dev/null
    prefix_rules "$T/prefix.json" "$RULES"
    s=$(timed_apply "$T/prefix.json")
    report "$RULES saddr /24 rules (applied in ${s}s)"
    timed_apply "$T/prefix.json" >/dev/null
    report "$RULES saddr /24 rules, re-applied"
    fw r down >/dev/null
    timed_apply "$T/rules.json" >/dev/null
fi

echo
echo "Every map with $RULES port rules (both generations), default table:"
echo
"$E2E_PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))
print("| map | type | max_entries | KiB |")
print("|---|---|---:|---:|")
for m in sorted(s["memory"]["maps"], key=lambda m: -m["bytes"]):
    print("| %s | %s | %d | %d |" % (m["name"], m["type"], m["max_entries"], m["bytes"] // 1024))
' "$T/maps.json"

# A different table size while the datapath runs: refused, nothing changed.
rules "$T/big.json" "$RULES" "$CONNS"
before=$(fw r status --json | json_get hash)
fw r apply "$T/big.json" >"$T/refused.out" 2>&1
rc=$?
after=$(fw r status --json | json_get hash)
echo
echo "apply with max-connections $CONNS on the running default table: exit $rc, ruleset $( [ "$before" = "$after" ] && echo unchanged || echo CHANGED)"
sed 's/^/    /' "$T/refused.out"

# The default table with 100,000 flows: the per-packet cost to compare with.
echo
echo "## default table (65536 connections), $RULES rules, 100000 flows"
nsx r "$CT_FILL" --pin-dir "$(fw_pin_dir r)" --in vlan1 --reply vlan2 --count 100000 --measure
report "$RULES rules + 100000 connections, default table" | sed 's/^/    /'

fw r down >/dev/null
echo
echo "## max-connections $CONNS, $RULES rules"
echo
echo "| state | total MiB | fw_ct MiB | classifier MiB (fw_cls_*, fw_rules) | other MiB (maps >= 1 MiB) |"
echo "|---|---:|---:|---:|---|"
s=$(timed_apply "$T/big.json")
report "$RULES rules, $CONNS-connection table, empty (applied in ${s}s)"
nsx r "$CT_FILL" --pin-dir "$(fw_pin_dir r)" --in vlan1 --reply vlan2 --count "$CONNS" --measure >"$T/fill.out"
report "$RULES rules, $CONNS connections tracked"
echo
cat "$T/fill.out"
t0=$(date +%s.%N)
lines=$(fw r conntrack | tee "$T/ct.txt" | wc -l)
t1=$(date +%s.%N)
fw r conntrack --json >"$T/ct.json"
t2=$(date +%s.%N)
n=$("$E2E_PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$T/ct.json")
echo "fwctl conntrack | wc -l: $lines lines (header + connections + total), last: \"$(tail -n 1 "$T/ct.txt")\"; took $(echo "$t1 - $t0" | bc) s"
echo "fwctl conntrack --json: $n connections; took $(echo "$t2 - $t1" | bc) s"
echo "stats: $(fw r stats --json | "$E2E_PY" -c 'import json, sys; s = json.load(sys.stdin)["state"]; print(", ".join("%s %s" % (k, v["packets"] if isinstance(v, dict) else v) for k, v in sorted(s.items())))' 2>/dev/null)"
