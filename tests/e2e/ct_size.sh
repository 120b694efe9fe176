#!/bin/bash
# The connection table's size ("conntrack": {"max-connections": N}) and the
# memory `fwctl status` reports: the size is the kernel map's; applying
# another size to a running firewall is refused with exit 2 and changes
# nothing (connections included); `down` then apply resizes it.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init ct_size

ns_add fw h1
link_veth fw eth0 h1 eth0
addr fw eth0 192.0.2.1/24
addr h1 eth0 192.0.2.2/24

rules() { # rules FILE [CONNTRACK_JSON]
    local ct=""
    [ -n "${2:-}" ] && ct="\"conntrack\": $2,"
    cat >"$1" <<JSON
{ "version": 1, $ct
  "policy": { "input": "drop", "forward": "drop" },
  "input": [ { "action": "accept", "proto": "udp", "dport": 5001 } ] }
JSON
}
ct_map() { # ct_map FIELD: a field of fw_ct's entry in status --json memory.maps
    fw fw status --json | "$E2E_PY" -c '
import json, sys
s = json.load(sys.stdin)
print([m for m in s["memory"]["maps"] if m["name"] == "fw_ct"][0][sys.argv[1]])' "$1"
}

rules "$E2E_TMP/default.json"
rules "$E2E_TMP/small.json" '{ "max-connections": 4096 }'
assert_exit 0 "apply with the default table" fw fw apply "$E2E_TMP/default.json"
st=$(fw fw status --json)
assert_eq 3 "$(echo "$st" | json_get attachments.length)" "status still lists the attachments (XDP, TC ingress, TC egress)"
assert_eq 65536 "$(echo "$st" | json_get conntrack.max_connections)" "default: 65536 connections"
assert_eq 131072 "$(ct_map max_entries)" "fw_ct has 131072 entries (two per connection)"
assert_eq lru_hash "$(ct_map type)" "fw_ct is an LRU hash"
default_bytes=$(ct_map bytes)
total=$(echo "$st" | json_get memory.total_bytes)
assert_ok "memory.total_bytes ($total) is the sum of the maps' bytes" "$E2E_PY" -c "
import json, sys; s = json.loads(sys.argv[1]); m = s['memory']
sys.exit(0 if m['total_bytes'] == sum(x['bytes'] for x in m['maps']) > 0 else 1)" "$st"
assert_match 'memory [0-9.]+ MiB in [0-9]+ maps; connection table [0-9.]+ MiB for 65536 connections' \
    "$(fw fw status)" "text status has the memory line"

# A connection, then an apply asking for another size.
assert_udp_ok h1 fw 192.0.2.1 5001
hash=$(fw fw status --json | json_get hash)
assert_exit 2 "another size while running: exit 2" fw fw apply "$E2E_TMP/small.json"
assert_match 'holds 65536 connections; this ruleset asks for 4096.*`fwctl down`' \
    "$(cat "$E2E_TMP/last.out")" "the message names both sizes and fwctl down"
assert_eq "$hash" "$(fw fw status --json | json_get hash)" "the running ruleset is unchanged"
assert_eq 1 "$(fw fw conntrack --json | json_get length)" "the connection is still tracked"
assert_eq 131072 "$(ct_map max_entries)" "the table is unchanged"

# down, then apply: the new size.
assert_exit 0 "down" fw fw down
assert_exit 0 "apply with max-connections 4096" fw fw apply "$E2E_TMP/small.json"
assert_eq 4096 "$(fw fw status --json | json_get conntrack.max_connections)" "status: 4096 connections"
assert_eq 8192 "$(ct_map max_entries)" "fw_ct has 8192 entries"
small_bytes=$(ct_map bytes)
assert_ok "the small table takes less memory ($small_bytes < $default_bytes / 8)" \
    test "$small_bytes" -lt $((default_bytes / 8))
assert_exit 0 "re-apply of the same size" fw fw apply "$E2E_TMP/small.json"
assert_exit 0 "a file without the key keeps the running table" fw fw apply "$E2E_TMP/default.json"
assert_eq 4096 "$(fw fw status --json | json_get conntrack.max_connections)" "still 4096 connections"
assert_exit 0 "and the file with the key again" fw fw apply "$E2E_TMP/small.json"
assert_match '"max-connections": 4096' "$(fw fw show)" "show keeps the size"
assert_exit 0 "save" fw fw save "$E2E_TMP/saved.json"
assert_exit 0 "the saved file applies on the running table" fw fw apply "$E2E_TMP/saved.json"

# The checker's bounds.
rules "$E2E_TMP/bad.json" '{ "max-connections": 100 }'
assert_exit 2 "too small a table is a check error" fw fw check "$E2E_TMP/bad.json"
assert_match '/conntrack/max-connections: 100 is not a connection table size' \
    "$(cat "$E2E_TMP/last.out")" "the error has its JSON pointer"
e2e_finish
