#!/bin/bash
# Runs inside the guest (as a child of the busybox init): every
# tests/vm/cases/*.sh matching $VM_CASES (a shell glob on the case name,
# default all), each in its own bash with a timeout, and reports one line per
# case on the console, which the host parses:
#   VMCASE <name> PASS|FAIL|SKIP|KNOWN <seconds>
#   VMDONE kernel=<uname -r> pass=N fail=N skip=N known=N
# A case's full output is also on the console (and in $VM_OUT/<name>.log).
#
# KNOWN: the case failed and tests/vm/known-failures lists it for this
# kernel, with the open issue that says why. It does not fail the lane, and
# its failures stay on the console; a listed case that passes says so.
set -u
pass=0 fail=0 skip=0 known=0
kmajor=$(uname -r | cut -d. -f1-2)
known_failure() { # CASE: the reason when listed for this kernel, else fails
	awk -v c="$1" -v k="$kmajor" '$1 !~ /^#/ && ($1 == k || $1 == "*") && $2 == c { $1 = $2 = ""; sub(/^ +/, ""); print; found = 1 } END { exit !found }' \
		"$VM_SRC/tests/vm/known-failures"
}
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
	0) verdict=PASS; pass=$((pass + 1))
	   why=$(known_failure "$name") && echo "NOTE: $name passes on $kmajor; remove it from tests/vm/known-failures ($why)" ;;
	77) verdict=SKIP; skip=$((skip + 1)) ;;
	*) if why=$(known_failure "$name"); then
		verdict=KNOWN; known=$((known + 1)); echo "KNOWN FAILURE on $kmajor: $why"
	   else verdict=FAIL; fail=$((fail + 1)); fi ;;
	esac
	echo "VMCASE $name $verdict ${secs}s (exit $rc)"
done
echo "VMDONE kernel=$(uname -r) pass=$pass fail=$fail skip=$skip known=$known"
