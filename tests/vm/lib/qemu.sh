# Runs qemu for the lane and turns the guest's console into a verdict.
#
#   vm_qemu_run LOG TIMEOUT QEMU_ARGS...   console -> LOG (and stdout); returns qemu's status
#   vm_report LOG KERNEL SECONDS QEMU_RC   prints the per-case lines; 0 iff all passed

vm_qemu_run() {
	local log=$1 timeout=$2 accel=${VM_ACCEL:-tcg} cpu=max
	shift 2
	# TCG by default: this machine has a /dev/kvm that qemu cannot use
	# (MSR assertion). VM_ACCEL=kvm where KVM really works.
	# One vCPU under TCG: with two, a vCPU can run stale translated code
	# while the other patches kernel text (static keys flip when tcx, XDP or
	# tcpdump's timestamps come and go), and the guest dies of "Oops: int3"
	# in __netif_receive_skb_core (seen once in the 6.12 lane). KVM: two.
	local smp=1
	if [ "$accel" = kvm ]; then cpu=host smp=2; fi
	timeout -k 10 "$timeout" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -smp "$smp" -m 1024 \
		-nodefaults -no-reboot -display none -monitor none -serial stdio -nic none \
		"$@" </dev/null 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	sed -i 's/\r$//' "$log" # after the fact: a `tr` in the pipe would buffer the live log
	return "$rc"
}

vm_report() {
	local log=$1 kernel=$2 secs=$3 qrc=$4 done
	echo "---- vm $kernel summary"
	# Lines may carry a prefix (systemd's "check.sh[238]: " in the boot test).
	grep -ao 'VMCASE .*' "$log" || true
	done=$(grep -ao 'VMDONE .*' "$log" | tail -1)
	if [ -z "$done" ]; then
		if [ "$qrc" = 124 ]; then echo "vm $kernel: FAIL: timed out after ${secs}s"
		else echo "vm $kernel: FAIL: the guest stopped before reporting (qemu exit $qrc)"; fi
		return 1
	fi
	echo "$done (${secs}s in the VM)"
	grep -aq 'VMCASE [^ ]* FAIL' "$log" && return 1
	grep -aq 'VMCASE [^ ]* PASS' "$log" || { echo "vm $kernel: FAIL: no case passed"; return 1; }
	# "fail=0" may end the line (a console trims trailing blanks)
	case "$done " in *" fail=0 "*) return 0 ;; *) return 1 ;; esac
}
