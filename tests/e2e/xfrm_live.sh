#!/bin/bash
# The fast path is on by default and follows kernel IPsec policies live
# (issue 15): apply with no "fastpath" key, run `fwctl watch`, see LAN ->
# WAN packets leave from XDP; then `ip xfrm policy add` for a LAN -> remote
# selector (as strongSwan does when a CHILD_SA comes up, after apply): the
# watcher's guard takes the fast path off, so the packets meet the stack's
# XFRM lookup (no SA here: the kernel drops them) and a capture on the WAN
# shows no cleartext packet of that selector. Flushing the policy gives the
# fast path back.
#   lan (10.1.0.2) --vlan1-- r --vlan2-- wan (192.0.2.2; 198.51.100.0/24 behind it)
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/netns.sh"
: "${FWCTL:?path of the fwctl binary}"
e2e_init xfrm

router_topology
nsx wan ip addr add 198.51.100.7/32 dev lo
nsx r ip route add 198.51.100.0/24 via 192.0.2.2
# Native XDP targets (GRO on the peers, as a NIC takes frames) and complete
# checksums from the LAN host (as from a wire): the fast path's conditions.
for s in lan wan; do nsx "$s" ethtool -K eth0 gro on >/dev/null; done
nsx lan ethtool -K eth0 tx off >/dev/null
PD=$(fw_pin_dir r)
WLOG="$E2E_TMP/watch.log"
dump_watch_log() { [ -f "$WLOG" ] && sed 's/^/# watch: /' "$WLOG" >&2; true; }
e2e_on_cleanup dump_watch_log

cat >"$E2E_TMP/rules.json" <<'JSON'
{ "version": 1,
  "policy": { "input": "accept", "forward": "drop" },
  "forward": [ { "action": "accept", "in": "vlan1", "out": "vlan2" },
               { "action": "accept", "in": "vlan2", "out": "vlan1" } ] }
JSON
assert_exit 0 "apply (no \"fastpath\" key)" fw r apply "$E2E_TMP/rules.json"
ns_bg r "$WLOG" "$FWCTL" --pin-dir "$PD" watch
WPID=$E2E_LAST_PID
wait_until 10 grep -q "watching link events" "$WLOG" || fail "watcher did not start: $(cat "$WLOG")"
assert_match "no kernel IPsec policies" "$(cat "$WLOG")" "watcher: the fast path may run"

fastpath() { fw r stats --json | json_get other.fastpath.packets; }
# blast N: N UDP datagrams 10.1.0.2 -> 198.51.100.7:7000 (no reply needed)
blast() {
    nsx lan "$E2E_PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    s.sendto(b"cleartext-%d" % i, ("198.51.100.7", 7000))
' "$1"
}
wait_ping lan 192.0.2.2 5 >/dev/null 2>&1 || true   # neighbours resolved
blast 5; sleep 0.3
f0=$(fastpath)
blast 200; sleep 0.3
assert_ge 150 "$(( $(fastpath) - f0 ))" "default configuration: LAN -> WAN packets leave from XDP"

# --- a policy installed after apply ----------------------------------------
nsx r ip xfrm policy add src 10.1.0.0/24 dst 198.51.100.0/24 dir out \
    tmpl src 192.0.2.1 dst 192.0.2.2 proto esp mode tunnel
wait_until 5 grep -q "IPsec policies present" "$WLOG" || fail "watcher did not see the policy"
ns_bg wan "$E2E_TMP/cap.txt" tcpdump -n -l -i eth0 "udp and src 10.1.0.2 and dst net 198.51.100.0/24"
CPID=$E2E_LAST_PID
sleep 1   # tcpdump listening
f1=$(fastpath)
blast 200; sleep 0.5
e2e_stop_pid "$CPID"
assert_eq 0 "$(( $(fastpath) - f1 ))" "with the policy: nothing takes the fast path"
assert_eq 0 "$(grep -c "198.51.100.7.7000" "$E2E_TMP/cap.txt")" "WAN capture: no cleartext packet of the selector"

# --- policy gone: the fast path again ----------------------------------------
nsx r ip xfrm policy flush
wait_until 5 sh -c "grep -c 'no kernel IPsec policies' '$WLOG' | grep -qx 2" || fail "watcher did not see the flush"
f2=$(fastpath)
blast 200; sleep 0.3
assert_ge 150 "$(( $(fastpath) - f2 ))" "policy flushed: the fast path again"
e2e_stop_pid "$WPID"
e2e_finish
