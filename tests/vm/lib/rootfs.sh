# The systemd root filesystem of the boot test (tests/vm/boot.sh): Debian 12
# minbase + systemd, udev, systemd-networkd, iproute2, ping, socat, built
# once with debootstrap and cached under the build tree; then, per run, a
# copy with fwctl installed (cmake --install, units and all), the guest
# kernel's modules the test needs, and the test's own units, as an ext4 image.
#
#   vm_rootfs_base CACHE                 -> $CACHE/rootfs-base (cached)
#   vm_rootfs_image CACHE KROOT KVER BUILD SRC IMG

VM_ROOTFS_PKGS="systemd,systemd-sysv,udev,iproute2,iputils-ping,socat,kmod,procps,jq"
VM_ROOTFS_MODULES="veth 8021q sch_ingress cls_bpf dummy"

vm_rootfs_base() {
	local cache=$1 dir=$1/rootfs-base
	[ -e "$dir/.done" ] && return 0
	rm -rf "$dir"
	echo "vm: debootstrap --variant=minbase bookworm (once, ~1-3 min)" >&2
	debootstrap --variant=minbase --include="$VM_ROOTFS_PKGS" bookworm "$dir" \
		http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 ||
		{ echo "vm: debootstrap failed, see $cache/debootstrap.log" >&2; return 1; }
	touch "$dir/.done"
}

# Copies fwctl's shared libraries (this machine's, e.g. libelf from
# backports) into /usr/local/lib. libbpf is linked into fwctl where the
# build found libbpf.a; a build against the shared one copies it here.
vm_rootfs_libs() {
	local root=$1 bin=$2 lib
	mkdir -p "$root/usr/local/lib"
	for lib in $(ldd "$bin" | awk '/=> \// {print $3}'); do
		case $(basename "$lib") in libc.so*|libm.so*|libgcc_s.so*|libstdc++.so*) continue ;; esac
		cp -L "$lib" "$root/usr/local/lib/"
	done
	chroot "$root" /sbin/ldconfig
}

vm_rootfs_modules() {
	local root=$1 kroot=$2 kver=$3 m path dst
	mkdir -p "$root/lib/modules/$kver"
	cp "$kroot/lib/modules/$kver"/modules.{builtin,builtin.modinfo,order} "$root/lib/modules/$kver/" 2>/dev/null
	for m in $VM_ROOTFS_MODULES; do
		modprobe -d "$kroot" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}' |
			while read -r path; do
				dst=$root/lib/modules/$kver/${path#"$kroot/lib/modules/$kver/"}
				mkdir -p "$(dirname "$dst")"
				cp "$path" "$dst"
			done
	done
	depmod -b "$root" "$kver"
}

vm_rootfs_image() {
	local cache=$1 kroot=$2 kver=$3 build=$4 src=$5 img=$6 stage
	vm_rootfs_base "$cache" || return 1
	stage=$cache/rootfs-stage
	rm -rf "$stage"
	cp -a "$cache/rootfs-base" "$stage"
	DESTDIR=$stage cmake --install "$build" --prefix /usr >/dev/null
	vm_rootfs_libs "$stage" "$stage/usr/sbin/fwctl"
	vm_rootfs_modules "$stage" "$kroot" "$kver"
	cp -a "$src/tests/vm/boot/rootfs/." "$stage/"
	chroot "$stage" systemctl enable fwctl.service systemd-networkd.service \
		fwvm-peer.service fwvm-check.service >/dev/null 2>&1
	echo fwvm >"$stage/etc/hostname"
	chroot "$stage" passwd -d root >/dev/null
	rm -f "$img"
	mkfs.ext4 -q -L fwvm -d "$stage" "$img" 1G
	rm -rf "$stage"
}
