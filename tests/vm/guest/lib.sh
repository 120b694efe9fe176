# shellcheck shell=bash
# Sourced by tests/vm/cases/*.sh inside the guest. It is tests/e2e/lib/netns.sh
# (namespaces, veths, fw, asserts, probes, cleanup) plus what only a VM has:
#
#   vm_modprobe MOD...        load modules of the guest kernel (autoload works too)
#   vm_kernel_at_least X.Y    true when uname -r is >= X.Y
#   vm_kernel                 the guest's uname -r
#   $FWCTL                    the host-built fwctl; $VM_SRC, $VM_BUILD the trees (read-only)
#   $VM_OUT                   a writable host directory (build/vm/out/<kernel>/)
#
# The guest's userspace is the host's /usr (9p, read-only): bash, iproute2,
# python3, tcpdump, ping, strongSwan (charon, kernel-netlink), nsenter. Write
# only under /tmp (tmpfs), $E2E_TMP or $VM_OUT.
. "$VM_SRC/tests/e2e/lib/netns.sh"
: "${FWCTL:=$VM_BUILD/fwctl}"
export FWCTL

vm_kernel() { uname -r; }
vm_modprobe() { local m; for m in "$@"; do modprobe -d /kroot "$m" || return 1; done; }
vm_kernel_at_least() {
	local want=$1 have
	have=$(uname -r | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
	[ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]
}

# Under TCG a python start takes ~3 s: the probes of netns.sh (udp.py) get
# longer receive timeouts and wait longer for their receiver to bind.
export E2E_UDP_TIMEOUT=${E2E_UDP_TIMEOUT:-10} E2E_READY_TRIES=${E2E_READY_TRIES:-400}
# A rejected load keeps the verifier's whole log on the host (build/vm/out/<kernel>/).
export FWCTL_VERIFIER_LOG=${FWCTL_VERIFIER_LOG:-$VM_OUT/verifier.log}
