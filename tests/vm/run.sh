#!/bin/bash
# The VM lane: boots one of Debian's stock kernels under qemu (TCG; KVM when
# /dev/kvm exists) from a busybox initramfs, with the host's /usr and the
# project tree shared read-only over 9p, and runs tests/vm/cases/*.sh inside.
# Kernels, initramfs and logs are cached under BUILD/vm/.
#
#   tests/vm/run.sh KERNEL [BUILD_DIR]    KERNEL: 6.1 (Debian 12) or 6.12 (backports)
#   VM_CASES='10-*' tests/vm/run.sh 6.1   only the cases whose name matches
#
# Exit 0 when every case passed, 1 otherwise, 77 (ctest skip) only when
# qemu-system-x86_64 is not installed.
set -euo pipefail
KERNEL=${1:?usage: run.sh 6.1|6.12 [build dir]}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${2:-$SRC/build}" && pwd)
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "SKIP: qemu-system-x86_64 is not installed (tools/setup.sh installs qemu-system-x86)"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "vm: needs root (apt-get download, depmod)" >&2; exit 1; }
[ -x "$BUILD/fwctl" ] || { echo "vm: no $BUILD/fwctl; build first" >&2; exit 1; }
. "$HERE/lib/kernel.sh"
. "$HERE/lib/initramfs.sh"
. "$HERE/lib/qemu.sh"

CACHE=$BUILD/vm
mkdir -p "$CACHE"
t0=$(date +%s)
# Kernels and images are shared with boot.sh: one preparer at a time.
exec 9>"$CACHE/.prepare.lock"
flock 9
vm_kernel_fetch "$KERNEL" "$CACHE"
initrd=$CACHE/initramfs-$VM_KVER.cpio.gz
if [ ! -e "$initrd" ] || [ "$HERE/guest/init" -nt "$initrd" ] || [ "$HERE/lib/initramfs.sh" -nt "$initrd" ]; then
	vm_initramfs_build "$VM_KROOT" "$VM_KVER" "$SRC" "$initrd"
fi
flock -u 9
out=$CACHE/out/$KERNEL
rm -rf "$out"; mkdir -p "$out"
log=$out/console.log
t1=$(date +%s)
echo "vm $KERNEL: kernel $VM_KVER ready in $((t1 - t0))s; booting (console: $log)"
rc=0
vm_qemu_run "$log" "${VM_TIMEOUT:-1320}" \
	-kernel "$VM_VMLINUZ" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 quiet loglevel=4 fwvm.mode=cases fwvm.src=$SRC fwvm.build=$BUILD fwvm.cases=${VM_CASES:-*}" \
	-virtfs "local,path=/usr,mount_tag=usr,security_model=none,readonly=on" \
	-virtfs "local,path=/etc,mount_tag=etc,security_model=none,readonly=on" \
	-virtfs "local,path=$VM_KROOT,mount_tag=kroot,security_model=none,readonly=on" \
	-virtfs "local,path=$SRC,mount_tag=src,security_model=none,readonly=on" \
	-virtfs "local,path=$BUILD,mount_tag=build,security_model=none,readonly=on" \
	-virtfs "local,path=$out,mount_tag=out,security_model=mapped-xattr" || rc=$?
t2=$(date +%s)
vm_report "$log" "$KERNEL" "$((t2 - t1))" "$rc"
