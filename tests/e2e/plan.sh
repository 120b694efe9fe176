#!/bin/bash
# Plan, then commit (issue 16): `check` and `apply` refuse a table limit the
# same way (exit 2, JSON pointer, running ruleset untouched); `diff` and
# `apply --dry-run` print what would change and touch nothing.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init plan

ns_add fw
link_veth fw lan fw lan2
link_veth fw wan fw wan2
addr fw wan 192.0.2.1/24

cat >"$E2E_TMP/base.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "proto": "tcp", "dport": 22, "comment": "ssh" },
    { "action": "accept", "proto": "icmp" } ],
  "forward": [ { "action": "accept", "in": "lan", "out": "wan" } ],
  "nat": [ { "out": "wan" } ] }
JSON
cat >"$E2E_TMP/next.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "drop", "forward": "drop" },
  "input": [
    { "action": "accept", "proto": "tcp", "dport": 2222, "comment": "ssh" },
    { "action": "accept", "proto": "icmp" },
    { "action": "accept", "proto": "udp", "dport": 53 } ],
  "nat": [ { "out": "wan" } ] }
JSON
"$E2E_PY" -c 'import json; print(json.dumps({"version": 1, "nat": [{"out": "wan"}] * 33}))' >"$E2E_TMP/nat33.json"

# Nothing applied yet: diff says everything is new, and creates nothing.
assert_exit 0 "diff with nothing applied" fw fw diff "$E2E_TMP/base.json"
assert_match "nothing is applied" "$(cat "$E2E_TMP/last.out")" "diff says nothing is applied"
assert_exit 1 "diff loaded nothing (show has nothing)" fw fw show

assert_exit 0 "apply base" fw fw apply "$E2E_TMP/base.json"
fw fw show >"$E2E_TMP/show1.json"

assert_exit 0 "diff next" fw fw diff "$E2E_TMP/next.json"
out=$(cat "$E2E_TMP/last.out")
assert_match '~ input 1: .*2222.*\(counters reset\)' "$out" "diff: the changed rule, counters reset"
assert_match '\+ input 3: .*"dport":53' "$out" "diff: the added rule"
assert_match '- forward 1: ' "$out" "diff: the removed rule"
assert_match '2 entries unchanged \(counters kept\)' "$out" "diff: icmp and nat kept their counters"

assert_exit 0 "apply --dry-run next" fw fw apply "$E2E_TMP/next.json" --dry-run
assert_eq "$out" "$(cat "$E2E_TMP/last.out")" "apply --dry-run prints what diff prints"
fw fw show >"$E2E_TMP/show2.json"
assert_ok "dry run changed nothing" cmp -s "$E2E_TMP/show1.json" "$E2E_TMP/show2.json"

assert_exit 0 "diff of the applied file" fw fw diff "$E2E_TMP/base.json"
assert_match '^no changes' "$(cat "$E2E_TMP/last.out")" "diff of the same ruleset: no changes"

# A limit the checker did not know before plan: check and apply agree.
assert_exit 2 "check refuses 33 NAT rules" fw fw check "$E2E_TMP/nat33.json"
assert_match '/nat/32: at most 32 nat rules' "$(cat "$E2E_TMP/last.out")" "check names the JSON pointer"
assert_exit 2 "apply refuses 33 NAT rules" fw fw apply "$E2E_TMP/nat33.json"
assert_match '/nat/32: at most 32 nat rules' "$(cat "$E2E_TMP/last.out")" "apply names the JSON pointer"
fw fw show >"$E2E_TMP/show3.json"
assert_ok "the running ruleset is untouched" cmp -s "$E2E_TMP/show1.json" "$E2E_TMP/show3.json"

e2e_finish
