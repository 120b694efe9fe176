#!/bin/bash
# `fwctl import weos` / `fwctl export weos` through the CLI: the seed's
# Scenario 2 session, pasted verbatim, becomes a ruleset that applies; the
# applied ruleset exports to WeOS commands that import back to the same.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init

ns_add fw
link_veth fw vlan1 fw lan1
link_veth fw vlan2 fw wan1
addr fw vlan1 192.168.1.1/24; addr fw vlan2 203.0.113.1/24

# The seed's block, verbatim (one line, several prompts).
cat >"$E2E_TMP/session.txt" <<'WEOS'
fw:/#> configure fw:/config/#> ip firewall fw:/config/ip/firewall/#> forward accept in vlan1 out vlan2 fw:/config/ip/firewall/#> forward accept in vlan2 out vlan1 dport 500 proto udp fw:/config/ip/firewall/#> forward accept in vlan2 out vlan1 dport 4500 proto udp fw:/config/ip/firewall/#> forward accept in vlan2 out vlan1 proto esp fw:/config/ip/firewall/#> nat out vlan2 fw:/config/ip/firewall/#> port-forward in vlan2 to-daddr 192.168.1.2 dport 500 proto udp fw:/config/ip/firewall/#> port-forward in vlan2 to-daddr 192.168.1.2 dport 4500 proto udp fw:/config/ip/firewall/#> port-forward in vlan2 to-daddr 192.168.1.2 proto esp fw:/config/ip/firewall/#> leave Configuration activated. Remember "copy run start" to save to flash (NVRAM). fw:/#> copy run start
WEOS
assert_exit 0 "import weos (seed session)" fw fw import weos "$E2E_TMP/session.txt"
fw fw import weos "$E2E_TMP/session.txt" >"$E2E_TMP/rules.json"
assert_eq 4 "$(json_get forward.length "$E2E_TMP/rules.json")" "four forward rules"
assert_eq 3 "$(json_get port-forward.length "$E2E_TMP/rules.json")" "three port forwards"
assert_eq vlan2 "$(json_get nat.0.out "$E2E_TMP/rules.json")" "masquerade out vlan2"
assert_exit 0 "the import applies" fw fw apply "$E2E_TMP/rules.json"
fw fw export weos >"$E2E_TMP/export.txt"
assert_match 'port-forward in vlan2' "$(cat "$E2E_TMP/export.txt")" "export prints the port forwards"
fw fw import weos "$E2E_TMP/export.txt" >"$E2E_TMP/again.json"
fw fw show >"$E2E_TMP/show.json"
assert_eq "$(cat "$E2E_TMP/show.json")" "$(cat "$E2E_TMP/again.json")" "import(export(applied)) == applied"

printf 'fw:/config/ip/firewall/#> forward accept in vlan9 out vlan2\n' >"$E2E_TMP/bad.txt"
# A translation: interfaces this machine lacks are fine (issue 14, item 8).
assert_exit 0 "an interface this machine lacks is translated" fw fw import weos "$E2E_TMP/bad.txt"
printf 'fw:/config/ip/firewall/#> forward frobnicate\n' >"$E2E_TMP/bad2.txt"
assert_match 'line 1 column' "$(fw fw import weos "$E2E_TMP/bad2.txt" 2>&1)" "syntax errors carry line and column"
e2e_finish
