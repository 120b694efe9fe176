#!/bin/bash
# Runs inside the guest (as a child of the busybox init): every
# tests/vm/cases/*.sh matching $VM_CASES (a shell glob on the case name,
# default all), each in its own bash with a timeout, and reports one line per
# case on the console, which the host parses:
#   VMCASE <name> PASS|FAIL|SKIP <seconds>
#   VMDONE kernel=<uname -r> pass=N fail=N skip=N
# A case's full output is also on the console (and in $VM_OUT/<name>.log).
set -u
pass=0 fail=0 skip=0
: "${VM_CASES:=*}"
echo "VMSTART kernel=$(uname -r)"
for c in "$VM_SRC"/tests/vm/cases/*.sh; do
	name=$(basename "${c%.sh}")
	# shellcheck disable=SC2053  # VM_CASES is a glob on purpose
	[[ $name == $VM_CASES ]] || continue
	echo "=== case $name"
	start=$(date +%s)
	timeout -k 10 "${VM_CASE_TIMEOUT:-400}" /usr/bin/bash "$c" 2>&1 | tee "$VM_OUT/$name.log"
	rc=${PIPESTATUS[0]}
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) verdict=PASS; pass=$((pass + 1)) ;;
	77) verdict=SKIP; skip=$((skip + 1)) ;;
	*) verdict=FAIL; fail=$((fail + 1)) ;;
	esac
	echo "VMCASE $name $verdict ${secs}s (exit $rc)"
done
echo "VMDONE kernel=$(uname -r) pass=$pass fail=$fail skip=$skip"
