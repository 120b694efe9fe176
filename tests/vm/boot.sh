#!/bin/bash
# The real-boot test: a Debian 12 systemd root filesystem (debootstrap
# minbase, cached) with fwctl installed by `cmake --install` and its units
# enabled, the saved ruleset in /etc/fwctl/rules.json, and systemd-networkd
# creating vlan1 after fwctl.service ran. Boots it twice on the same disk:
# boot 1 checks vlan1's traffic is filtered from its first packet and breaks
# the saved file; boot 2 checks the machine came up fail-closed. The checks
# are tests/vm/boot/rootfs/usr/local/lib/fwvm/check.sh (results on the console).
#
#   tests/vm/boot.sh KERNEL [BUILD_DIR]     KERNEL: 6.1 or 6.12
set -euo pipefail
KERNEL=${1:?usage: boot.sh 6.1|6.12 [build dir]}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${2:-$SRC/build}" && pwd)
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "SKIP: qemu-system-x86_64 is not installed (tools/setup.sh installs qemu-system-x86)"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "vm: needs root (debootstrap, apt-get download)" >&2; exit 1; }
. "$HERE/lib/kernel.sh"
. "$HERE/lib/initramfs.sh"
. "$HERE/lib/rootfs.sh"
. "$HERE/lib/qemu.sh"

CACHE=$BUILD/vm
mkdir -p "$CACHE"
t0=$(date +%s)
# Kernels, initramfs and the debootstrap base are shared with run.sh: one preparer at a time.
exec 9>"$CACHE/.prepare.lock"
flock 9
vm_kernel_fetch "$KERNEL" "$CACHE"
initrd=$CACHE/initramfs-$VM_KVER.cpio.gz
if [ ! -e "$initrd" ] || [ "$HERE/guest/init" -nt "$initrd" ] || [ "$HERE/lib/initramfs.sh" -nt "$initrd" ]; then
	vm_initramfs_build "$VM_KROOT" "$VM_KVER" "$SRC" "$initrd"
fi
out=$CACHE/out/boot-$KERNEL
rm -rf "$out"; mkdir -p "$out"
img=$out/rootfs.img
vm_rootfs_image "$CACHE" "$VM_KROOT" "$VM_KVER" "$BUILD" "$SRC" "$img"
flock -u 9
t1=$(date +%s)
echo "vm boot $KERNEL: image ready in $((t1 - t0))s; booting twice (console: $out/console-*.log)"
args=(-kernel "$VM_VMLINUZ" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 quiet loglevel=4 fwvm.mode=boot systemd.show_status=error"
	-drive "file=$img,if=virtio,format=raw")
rc=0
vm_qemu_run "$out/console-1.log" "${VM_TIMEOUT:-400}" "${args[@]}" || rc=$?
if grep -aq '^VMREBOOT' "$out/console-1.log"; then
	vm_qemu_run "$out/console-2.log" "${VM_TIMEOUT:-400}" "${args[@]}" || rc=$?
fi
cat "$out"/console-*.log >"$out/console.log"
t2=$(date +%s)
vm_report "$out/console.log" "boot-$KERNEL" "$((t2 - t1))" "$rc"
