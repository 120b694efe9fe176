#!/bin/bash
# The datapath loads on this kernel: every program passes its verifier (a
# rejection shows the verifier's last lines; the whole log goes to
# $VM_OUT/verifier.log). The cheapest case: run it first to see a load
# failure before the traffic cases.
. "$VM_SRC/tests/vm/guest/lib.sh"
e2e_init
# The verifier's effort per program on this kernel (the headroom under its
# million-instruction limit; tools/verifier_stats.cpp).
[ -x "$VM_BUILD/verifier_stats" ] && "$VM_BUILD/verifier_stats" "$VM_BUILD/bpf/fw.bpf.o"
# The kernel IPsec hooks (fentry) load on their own: informational here.
[ -x "$VM_BUILD/verifier_stats" ] && "$VM_BUILD/verifier_stats" "$VM_BUILD/bpf/xfrm_out.bpf.o"
ns_add r
echo '{ "version": 1, "policy": { "input": "accept", "forward": "accept" } }' >"$E2E_TMP/rules.json"
out=$(fw r apply "$E2E_TMP/rules.json" 2>&1); rc=$?
echo "$out" | tail -20
assert_eq 0 "$rc" "fwctl apply loads the datapath on $(vm_kernel)"
# Stock kernels take tracing programs: the IPsec and route hooks (fentry)
# must load too (a helper a tracing program may not call made them fail
# quietly once: fwctl only warns).
assert_eq "" "$(echo "$out" | grep -o 'refused the [a-zA-Z]* hooks')" "the IPsec and route hooks attached"
# A first apply verifies only the programs its interfaces need; the
# watcher verifies the rest (TUN/PPP and IPsec ingress ones) as it starts.
apply_progs=$(ls "$(fw_pin_dir r)" | grep -c '^prog_')
out=$(fw r watch --once 2>&1); rc=$?
echo "$out" | tail -5
assert_eq 0 "$rc" "fwctl watch --once"
assert_eq "" "$(echo "$out" | grep -o 'programs not loaded yet')" "the watcher loaded the other programs"
assert_eq 8 "$(ls "$(fw_pin_dir r)" | grep -c '^prog_')" "every program verified on $(vm_kernel) (apply: $apply_progs)"
e2e_finish
